"""Derivatives of NumPy's statistics that no single NumPy call spells: running sums backwards,
quantiles, covariances.

    uncumsum(g, x, axis, include_initial)        the cotangent of `np.cumulative_sum(x, axis)`
    quantile_adjoint / quantile_tangent / quantile_slope    `np.quantile` and its relatives
    cov_adjoint / cov_tangent, corrcoef_adjoint / corrcoef_tangent

A leaf of the package, like the rest of `runtime`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sourcegrad.runtime.arrays import normalize_axes
from sourcegrad.runtime.broadcast import unbroadcast


def _is_zero(x) -> bool:
    return x is None or (type(x) in (float, int) and x == 0)


def uncumsum(g, x, axis=None, include_initial=False):
    """The cotangent of `np.cumulative_sum(x, axis=axis, include_initial=...)` (and of
    `np.cumsum`): the running sum taken backwards, in x's shape."""
    g = np.asarray(g)
    if axis is None:
        g = np.reshape(g, -1)
        axis = 0
    if include_initial:
        g = np.take(g, np.arange(1, g.shape[axis]), axis)
    return np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), np.shape(x))


def running_sum(h, axis=None, include_initial=False):
    """`np.cumulative_sum(h, axis=axis, include_initial=...)` with NumPy's older `cumsum` (h
    flattened for axis None): the transpose of `uncumsum`."""
    h = np.reshape(h, -1) if axis is None else np.asarray(h)
    axis = 0 if axis is None else axis
    out = np.cumsum(h, axis)
    if include_initial:
        widths = [(1, 0) if i == axis % out.ndim else (0, 0) for i in range(out.ndim)]
        out = np.pad(out, widths)
    return out


# --- order statistics ----------------------------------------------------------------------------


def permutation_of(x, y, axis=-1):
    """Indices `p` with `y == np.take_along_axis(x, p, axis)` for a `y` that is a permutation of
    `x` along `axis` (None: flattened), as `np.partition` returns: tied values are matched one to
    one, in order, so every entry of `x` is used once."""
    if axis is None:
        x, y, axis = np.ravel(x), np.ravel(y), 0
    order_x = np.argsort(x, axis=axis, kind="stable")
    order_y = np.argsort(y, axis=axis, kind="stable")
    p = np.empty_like(order_x)
    np.put_along_axis(p, order_y, order_x, axis)
    return p


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


class _Plan(NamedTuple):
    x: np.ndarray  # the input, as floats
    axes: tuple  # the reduced axes
    kept: list  # the other axes, in order
    flat: np.ndarray  # x with the kept axes first and the reduced ones flattened last
    order: np.ndarray  # argsort of flat along its last axis (NaNs last)
    count: np.ndarray  # values per slice (non-NaN ones for the nan* functions)
    shape: tuple  # the result's shape
    lo: np.ndarray  # per quantile and slice: the lower rank,
    hi: np.ndarray  # the upper rank,
    frac: np.ndarray  # and the weight of the upper one


def _quantile_plan(x, q, axis, method, scale, nan, keepdims=False) -> _Plan:
    """How `np.quantile`-like reductions pick values: the sorted order along the reduced axes
    (moved last and flattened), and for each quantile and slice the two ranks and the weight of
    the upper one."""
    if method not in _METHODS:
        raise ValueError(
            f"the derivative of a quantile is defined here for method in {_METHODS}, got "
            f"{method!r}: pass one of those, or register a rule for your method"
        )
    x = np.asarray(x, dtype=float)
    axes = normalize_axes(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes))
    flat = np.reshape(moved, moved.shape[: len(kept)] + (-1,))
    order = np.argsort(flat, axis=-1)  # NaNs sort last
    count = np.sum(~np.isnan(flat), axis=-1) if nan else np.full(flat.shape[:-1], flat.shape[-1])
    qq = np.asarray(q, dtype=float) / scale
    h = np.reshape(qq, qq.shape + (1,) * (flat.ndim - 1)) * (count - 1)
    lo = np.floor(h)
    if method == "higher":
        lo = np.ceil(h)
    elif method == "nearest":
        lo = np.around(h)
    last = np.maximum(count - 1, 0)
    hi = np.minimum(lo + 1, last) if method in ("linear", "midpoint") else lo
    if method == "linear":
        frac = h - lo
    elif method == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    else:
        frac = np.zeros(h.shape)
    lo, hi = np.minimum(lo, last).astype(int), hi.astype(int)
    if keepdims:
        shape = [1 if i in axes else n for i, n in enumerate(x.shape)]
    else:
        shape = [n for i, n in enumerate(x.shape) if i not in axes]
    return _Plan(x, axes, kept, flat, order, count, qq.shape + tuple(shape), lo, hi, frac)


def _ranked(values, order, lo, hi):
    """`(1 - frac) * sorted[lo] + frac * sorted[hi]` with quantile axes in front."""
    ranked = np.take_along_axis(values, order, axis=-1)
    ranked = np.broadcast_to(ranked, lo.shape + ranked.shape[-1:])
    return tuple(np.take_along_axis(ranked, k[..., None], axis=-1)[..., 0] for k in (lo, hi))


def quantile_adjoint(g, x, q, axis=None, keepdims=False, method="linear", scale=1.0, nan=False):
    """The cotangent of `x` in `y = np.quantile(x, q, axis, method=..., keepdims=...)` (scale 100:
    percentile; nan: nanquantile): the cotangent goes to the one or two values interpolated."""
    p = _quantile_plan(x, q, axis, method, scale, nan)
    gm = np.reshape(g, p.lo.shape)
    ranks = np.arange(p.flat.shape[-1])
    w = (ranks == p.lo[..., None]) * ((1 - p.frac) * gm)[..., None]
    w = w + (ranks == p.hi[..., None]) * (p.frac * gm)[..., None]
    w = np.sum(np.reshape(w, (-1,) + p.flat.shape), axis=0)  # sum over the quantiles
    out = np.zeros(p.flat.shape)
    np.put_along_axis(out, p.order, w, axis=-1)
    axes = p.kept + list(p.axes)
    return np.transpose(np.reshape(out, [p.x.shape[i] for i in axes]), np.argsort(axes))


def quantile_slope(x, q, axis=None, keepdims=False, method="linear", scale=1.0, nan=False):
    """d y / d q of a quantile, y's shape: the gap between the two values interpolated, per unit
    of q (zero for the methods that pick one value)."""
    p = _quantile_plan(x, q, axis, method, scale, nan, keepdims)
    if method != "linear":
        return np.zeros(p.shape)
    low, high = _ranked(p.flat, p.order, p.lo, p.hi)
    return np.reshape((high - low) * (p.count - 1) / scale, p.shape)


def quantile_q_adjoint(g, x, q, axis=None, keepdims=False, method="linear", scale=1.0, nan=False):
    """The cotangent of `q` in a quantile: the slope times the cotangent, summed per quantile."""
    slope = quantile_slope(x, q, axis, keepdims, method, scale, nan)
    return np.reshape(np.sum(np.reshape(g * slope, np.shape(q) + (-1,)), axis=-1), np.shape(q))


def quantile_tangent(dx, dq, x, q, axis=None, keepdims=False, method="linear", scale=1.0,
                     nan=False):
    """The tangent of `y = np.quantile(x, q, ...)` along `dx` and `dq` (either may be zero)."""
    p = _quantile_plan(x, q, axis, method, scale, nan, keepdims)
    out = np.zeros(p.shape)
    if not _is_zero(dx):
        moved = np.transpose(np.broadcast_to(dx, p.x.shape), p.kept + list(p.axes))
        low, high = _ranked(np.reshape(moved, p.flat.shape), p.order, p.lo, p.hi)
        out = out + np.reshape((1 - p.frac) * low + p.frac * high, p.shape)
    if not _is_zero(dq):
        dqk = np.reshape(dq, np.shape(q) + (1,) * (len(p.shape) - np.ndim(q)))
        out = out + dqk * quantile_slope(x, q, axis, keepdims, method, scale, nan)
    return out


# --- covariance ----------------------------------------------------------------------------------


# NumPy 2.3 and later transpose a 2-D `m` of one row when rowvar is False; earlier ones did not.
_COV_TRANSPOSES_ONE_ROW = np.cov(np.ones((1, 2)), rowvar=False, bias=True).shape == (2, 2)


def _transposed(v, rowvar, first):
    """Whether `np.cov` reads operand `v` (`m` when `first`, else `y`) transposed."""
    if rowvar or np.ndim(v) == 1:
        return False
    return (first and _COV_TRANSPOSES_ONE_ROW) or np.shape(np.atleast_2d(v))[0] != 1


def _rows(v, rowvar, first):
    """One operand of `np.cov` as it reads it: at least 2-D, one row per variable."""
    r = np.atleast_2d(np.asarray(v, dtype=float))
    return r.T if _transposed(v, rowvar, first) else r


def _centered(m, y, rowvar, bias, ddof):
    """cov's observations, one row per variable, centred; and the divisor."""
    xs = np.concatenate([_rows(v, rowvar, i == 0) for i, v in enumerate((m, y)) if v is not None])
    k = xs.shape[1] - (ddof if ddof is not None else (0 if bias else 1))
    return xs - np.mean(xs, axis=1, keepdims=True), k


def _back_to(gx, m, y, rowvar, i):
    """The rows of `gx` that came from `m` (i = 0) or `y` (i = 1), in that operand's shape."""
    rows_m = _rows(m, rowvar, True).shape[0]
    part = gx[:rows_m] if i == 0 else gx[rows_m:]
    v = m if i == 0 else y
    return np.reshape(part.T if _transposed(v, rowvar, i == 0) else part, np.shape(v))


def cov_adjoint(g, m, y, rowvar, bias, ddof, i):
    """The cotangent of `m` (i = 0) or `y` (i = 1) in `c = np.cov(m, y, rowvar, bias, ddof)`."""
    xc, k = _centered(m, y, rowvar, bias, ddof)
    gm = np.reshape(g, (xc.shape[0], xc.shape[0]))
    return _back_to((gm + gm.T) @ xc / k, m, y, rowvar, i)


def cov_tangent(dm, dy, m, y=None, rowvar=True, bias=False, ddof=None):
    """The tangent of `c = np.cov(m, y, rowvar, bias, ddof)`."""
    xc, k = _centered(m, y, rowvar, bias, ddof)
    dm = np.zeros(np.shape(m)) if _is_zero(dm) else dm
    dy = None if y is None else np.zeros(np.shape(y)) if _is_zero(dy) else dy
    dx, _ = _centered(dm, dy, rowvar, True, 0)
    dc = (dx @ xc.T + xc @ dx.T) / k
    return dc[0, 0] if dc.shape == (1, 1) else dc


def _correlations(x, y, rowvar):
    c = np.atleast_2d(np.cov(x, y, rowvar))
    s = np.sqrt(np.diagonal(c))
    return c, s, c / np.outer(s, s)


def corrcoef_adjoint(g, x, y, rowvar, i):
    """The cotangent of `x` (i = 0) or `y` (i = 1) in `r = np.corrcoef(x, y, rowvar)`."""
    c, s, r = _correlations(x, y, rowvar)
    gm = np.reshape(g, c.shape)
    gc = gm / np.outer(s, s) - np.diag(np.sum(gm * r + (gm * r).T, axis=1) / (2 * np.diagonal(c)))
    return cov_adjoint(gc, x, y, rowvar, False, None, i)


def corrcoef_tangent(dx, dy, x, y=None, rowvar=True):
    """The tangent of `r = np.corrcoef(x, y, rowvar)`."""
    c, s, r = _correlations(x, y, rowvar)
    dc = np.atleast_2d(cov_tangent(dx, dy, x, y, rowvar))
    half = np.diagonal(dc) / (2 * np.diagonal(c))
    dr = dc / np.outer(s, s) - r * (half[:, None] + half[None, :])
    return dr[0, 0] if np.ndim(np.corrcoef(x, y, rowvar)) == 0 else dr


# --- the trapezoidal rule --------------------------------------------------------------------------


def _along(v, y, axis):
    """A 1-D `v` shaped to broadcast along `axis` of `y` (anything else unchanged)."""
    if np.ndim(v) == 1 and np.ndim(y) > 1:
        shape = [1] * np.ndim(y)
        shape[axis] = -1
        return np.reshape(v, shape)
    return v


def _halves(v, n, axis):
    """Along `axis`: (v[i-1] + v[i]) / 2 for i in 0..n-1, with v[-1] = v[n-1] = 0 (v has n - 1)."""
    widths = [(1, 1) if i == axis else (0, 0) for i in range(np.ndim(v))]
    padded = np.pad(v, widths)
    return (np.take(padded, np.arange(n), axis) + np.take(padded, np.arange(1, n + 1), axis)) / 2


def trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """d t / d y of `t = np.trapezoid(y, x, dx, axis)`, y's shape: half the neighbouring gaps."""
    ax = axis % np.ndim(y)
    n = np.shape(y)[ax]
    if x is None:
        gaps = _along(dx * np.ones(n - 1), y, ax)
    else:
        gaps = np.diff(_along(np.asarray(x, dtype=float), y, ax), axis=ax)
    return np.broadcast_to(_halves(gaps, n, ax), np.shape(y))


def trapezoid_x_grad(y, axis=-1):
    """d t / d x of `t = np.trapezoid(y, x, axis=axis)`, y's shape: (y[i-1] - y[i+1]) / 2 inside,
    -(y[0] + y[1]) / 2 and (y[-2] + y[-1]) / 2 at the ends."""
    ax = axis % np.ndim(y)
    n = np.shape(y)[ax]
    mids = (np.take(y, np.arange(n - 1), ax) + np.take(y, np.arange(1, n), ax)) / 2
    widths = [(1, 1) if i == ax else (0, 0) for i in range(np.ndim(y))]
    return -np.diff(np.pad(mids, widths), axis=ax)


def trapezoid_x_adjoint(g, y, x, axis=-1):
    """The cotangent of the sample points `x` (1-D, or y's shape) in `np.trapezoid(y, x, axis)`."""
    full = np.expand_dims(g, axis) * trapezoid_x_grad(y, axis)
    if np.ndim(x) == 1 and np.ndim(y) > 1:
        other = tuple(i for i in range(np.ndim(y)) if i != axis % np.ndim(y))
        return np.sum(full, axis=other)
    return unbroadcast(full, x)


def trapezoid_tangent(dy, dx_points, ddx, y, x=None, dx=1.0, axis=-1):
    """The tangent of `t = np.trapezoid(y, x, dx, axis)` along `dy`, the points' `dx_points`, and
    the spacing's `ddx` (used only without points)."""
    out = 0.0 if _is_zero(dy) else np.trapezoid(dy, x, dx, axis)
    if x is not None and not _is_zero(dx_points):
        out = out + np.sum(_along(dx_points, y, axis) * trapezoid_x_grad(y, axis), axis=axis)
    if x is None and not _is_zero(ddx):
        out = out + ddx * np.trapezoid(y, axis=axis)
    return out


def trapezoid_dx_adjoint(g, y, x=None, axis=-1):
    """The cotangent of the spacing `dx` in `np.trapezoid(y, x, dx, axis)` (unused when x is given)."""
    return 0.0 if x is not None else np.sum(g * np.trapezoid(y, axis=axis))
