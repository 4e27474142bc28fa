"""Adjoints of NumPy's sequence functions: convolution, interpolation, differences, powers.

    convolve_adjoint(g, a, v, mode, i), correlate_adjoint(g, a, v, mode, i)
    interp_adjoint(g, x, xp, fp, left, right, period, wrt), interp_tangent(...), bin_sum(v, bins, n)
    unediff1d(g, x, to_end, to_begin, i), ediff1d_tangent(dx, dend, dbegin, x, to_end, to_begin)
    vander_derivative(x, N, increasing)

A leaf of the package, like the rest of `runtime`.
"""

from __future__ import annotations

import functools

import numpy as np


def _is_zero(x) -> bool:
    return x is None or (type(x) in (float, int) and x == 0)


@functools.lru_cache(maxsize=256)
def _offset(fn, n: int, m: int, mode: str) -> int:
    """Where `fn(a, v, mode)` starts inside `fn(a, v, 'full')` for lengths n and m (NumPy centres
    'same' differently for convolve and correlate): found once on random probes."""
    rng = np.random.default_rng(0)
    a, v = rng.normal(size=n), rng.normal(size=m)
    full, part = fn(a, v, "full"), fn(a, v, mode)
    starts = [o for o in range(full.size - part.size + 1) if np.allclose(full[o : o + part.size], part)]
    assert len(starts) == 1, "a probe matches exactly one window"
    return starts[0]


def _full_cotangent(g, fn, a, v, mode):
    n, m = np.size(a), np.size(v)
    out = np.zeros(n + m - 1, np.result_type(g, float))
    start = _offset(fn, n, m, mode)
    out[start : start + np.size(g)] = g
    return out


def convolve_adjoint(g, a, v, mode="full", i=0):
    """The cotangent of `a` (i = 0) or `v` (i = 1) in `np.convolve(a, v, mode)`."""
    full = _full_cotangent(g, np.convolve, a, v, mode)
    return np.correlate(full, v if i == 0 else a, "valid")


def correlate_adjoint(g, a, v, mode="valid", i=0):
    """The cotangent of `a` (i = 0) or `v` (i = 1) in `np.correlate(a, v, mode)` (real inputs,
    where correlate(a, v) is convolve(a, v reversed))."""
    full = _full_cotangent(g, np.correlate, a, v, mode)
    if i == 0:
        return np.correlate(full, np.flip(v), "valid")
    return np.flip(np.correlate(full, a, "valid"))


# --- interpolation -----------------------------------------------------------------------------


def check_interp(period):
    """Raise for np.interp's period 0, which NumPy refuses too."""
    if period is not None and period == 0:
        raise ValueError("period must be a non-zero value")


def bin_sum(v, bins, n):
    """`out[k] = sum of v[i] over the i with bins[i] == k`, for k in range(n) (`v` and `bins` of
    one shape): `np.bincount` with weights, linear in `v`, with rules of its own
    (`rules/runtime_second_order.py`) so that generated code calling it differentiates again."""
    return np.bincount(np.ravel(bins), weights=np.ravel(v), minlength=n)


# The interpolation helpers below are written in sourcegrad's differentiable subset: second
# derivatives differentiate them again.


def _interp_plan(x, xp, fp):
    x, xp, fp = np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp, dtype=float)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, np.size(xp) - 2)
    width = xp[j + 1] - xp[j]
    t = (x - xp[j]) / width
    slope = (fp[j + 1] - fp[j]) / width
    inside = (x >= xp[0]) & (x <= xp[-1])
    return x, xp, j, t, slope, inside


def _linear_adjoint(g, x, xp, fp, left=None, right=None, wrt="x"):
    """The cotangent of `wrt` ('x', 'xp', 'fp', 'left' or 'right') in
    `np.interp(x, xp, fp, left, right)`: piecewise linear, constant outside [xp[0], xp[-1]]."""
    x_, xp_, j, t, slope, inside = _interp_plan(x, xp, fp)
    g = np.broadcast_to(g, np.shape(x_))
    below, above = x_ < xp_[0], x_ > xp_[-1]
    if wrt == "x":
        return np.reshape(g * slope * inside, np.shape(x))
    if wrt == "left":
        return np.sum(g * below)
    if wrt == "right":
        return np.sum(g * above)
    n = np.size(xp_)
    if wrt == "xp":
        out = bin_sum(g * slope * (t - 1) * inside, j, n) + bin_sum(-g * slope * t * inside, j + 1, n)
        return np.reshape(out, np.shape(xp))
    out = bin_sum(g * (1 - t) * inside, j, n) + bin_sum(g * t * inside, j + 1, n)
    ends = np.arange(n)
    if left is None:  # below xp[0], the value is fp[0]
        out = out + np.sum(g * below) * (ends == 0)
    if right is None:  # above xp[-1], fp[-1]
        out = out + np.sum(g * above) * (ends == n - 1)
    return np.reshape(out, np.shape(fp))


def _linear_tangent(dx, dxp, dfp, dleft, dright, x, xp, fp, left=None, right=None):
    """The tangent of `np.interp(x, xp, fp, left, right)` (any tangent may be zero)."""
    x_, xp_, j, t, slope, inside = _interp_plan(x, xp, fp)
    out = np.zeros(np.shape(x_))
    if not _is_zero(dx):
        out = out + dx * slope * inside
    if not _is_zero(dxp):
        dxp = np.asarray(dxp, dtype=float)
        out = out + (dxp[j] * slope * (t - 1) - dxp[j + 1] * slope * t) * inside
    below, above = x_ < xp_[0], x_ > xp_[-1]
    if not _is_zero(dfp):
        dfp = np.asarray(dfp, dtype=float)
        out = out + (dfp[j] * (1 - t) + dfp[j + 1] * t) * inside
        if left is None:
            out = out + dfp[0] * below
        if right is None:
            out = out + dfp[-1] * above
    if left is not None and not _is_zero(dleft):
        out = out + dleft * below
    if right is not None and not _is_zero(dright):
        out = out + dright * above
    if np.ndim(x) == 0:
        return out[()]
    return out


# With a period, NumPy reduces x and xp modulo |period|, sorts xp (and fp with it), and pads both
# ends by one point from the other end, a period away; `left` and `right` are ignored. Reducing
# modulo p is `v - p * floor(v / p)`: slope 1 in v and -floor(v / p) in p (between jumps).


def _periodic(x, xp, fp, period):
    """(x modulo |period|, the padded sorted xp, their fp, the sort order, its inverse,
    floor(x / |period|), floor(xp / |period|), sign of period)."""
    check_interp(period)
    p = np.abs(period)
    x, xp, fp = np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp, dtype=float)
    kx, kxp = np.floor(x / p), np.floor(xp / p)
    xpn = xp - p * kxp
    order = np.argsort(xpn)
    xs, fs = np.take(xpn, order), np.take(fp, order)
    xpad = np.concatenate((xs[-1:] - p, xs, xs[:1] + p))
    fpad = np.concatenate((fs[-1:], fs, fs[:1]))
    return x - p * kx, xpad, fpad, order, np.argsort(order), kx, kxp, np.sign(period)


def _unpad(h, back):
    """The cotangent of the unsorted points (or values) from that of the padded sorted ones `h`."""
    n = np.size(h) - 2
    ends = np.arange(n)
    inner = np.take(h, np.arange(1, n + 1)) + h[0] * (ends == n - 1) + h[-1] * (ends == 0)
    return np.take(inner, back)


def interp_adjoint(g, x, xp, fp, left=None, right=None, period=None, wrt="x"):
    """The cotangent of `wrt` ('x', 'xp', 'fp', 'left', 'right' or 'period') in
    `np.interp(x, xp, fp, left, right, period)`."""
    if period is None:
        if wrt == "period":
            return 0.0
        return _linear_adjoint(g, x, xp, fp, left, right, wrt)
    if wrt in ("left", "right"):  # ignored with a period
        return 0.0
    xn, xpad, fpad, _, back, kx, kxp, sign = _periodic(x, xp, fp, period)
    if wrt == "x":
        return np.reshape(_linear_adjoint(g, xn, xpad, fpad, None, None, "x"), np.shape(x))
    if wrt == "fp":
        return _unpad(_linear_adjoint(g, xn, xpad, fpad, None, None, "fp"), back)
    h = _linear_adjoint(g, xn, xpad, fpad, None, None, "xp")
    if wrt == "xp":
        return _unpad(h, back)
    gx = _linear_adjoint(g, xn, xpad, fpad, None, None, "x")
    return (np.sum(gx * -kx) + np.sum(_unpad(h, back) * -kxp) - h[0] + h[-1]) * sign


def interp_tangent(dx, dxp, dfp, dleft, dright, x, xp, fp, left=None, right=None, period=None,
                   dperiod=0.0):
    """The tangent of `np.interp(x, xp, fp, left, right, period)` (any tangent may be zero)."""
    if period is None:
        return _linear_tangent(dx, dxp, dfp, dleft, dright, x, xp, fp, left, right)
    xn, xpad, fpad, order, _, kx, kxp, sign = _periodic(x, xp, fp, period)
    dp = 0.0 if _is_zero(dperiod) else dperiod * sign
    dxn = np.zeros(np.shape(xn)) + dx - dp * kx
    dxs = np.take(np.zeros(np.shape(kxp)) + dxp - dp * kxp, order)
    dxpad = np.concatenate((dxs[-1:] - dp, dxs, dxs[:1] + dp))
    dfs = np.take(np.zeros(np.shape(kxp)) + dfp, order)
    dfpad = np.concatenate((dfs[-1:], dfs, dfs[:1]))
    return _linear_tangent(dxn, dxpad, dfpad, 0.0, 0.0, xn, xpad, fpad)


# --- differences and powers --------------------------------------------------------------------


def _ends(to_end, to_begin):
    return (0 if to_begin is None else np.size(to_begin)), (0 if to_end is None else np.size(to_end))


def unediff1d(g, x, to_end=None, to_begin=None, i=0):
    """The cotangent of `x` (i = 0), `to_end` (1) or `to_begin` (2) in `np.ediff1d`."""
    nb, ne = _ends(to_end, to_begin)
    g = np.ravel(g)
    if i == 1:
        return np.reshape(g[g.size - ne :], np.shape(to_end))
    if i == 2:
        return np.reshape(g[:nb], np.shape(to_begin))
    inner = g[nb : g.size - ne]
    return np.reshape(np.diff(np.pad(inner, (1, 1))) * -1.0, np.shape(x))


def ediff1d_tangent(dx, dend, dbegin, x, to_end=None, to_begin=None):
    """The tangent of `np.ediff1d(x, to_end, to_begin)` (any tangent may be zero)."""
    if _is_zero(dx):
        dx = np.zeros(np.shape(x))
    dend = None if to_end is None else np.zeros(np.shape(to_end)) + dend
    dbegin = None if to_begin is None else np.zeros(np.shape(to_begin)) + dbegin
    return np.ediff1d(dx, dend, dbegin)


def vander_derivative(x, N=None, increasing=False):
    """d y[i, j] / d x[i] of `y = np.vander(x, N, increasing)`: `e x**(e - 1)` per power e."""
    x = np.asarray(x, float)
    n = x.size if N is None else N
    e = np.arange(n) if increasing else np.arange(n)[::-1]
    return e * np.power(x[:, None], np.maximum(e - 1, 0))
