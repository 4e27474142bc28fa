"""Derivatives of NumPy's statistics that no single NumPy call spells: running sums backwards,
quantiles, covariances.

    uncumsum(g, x, axis, include_initial)        the cotangent of `np.cumulative_sum(x, axis)`
    quantile_adjoint / quantile_tangent / quantile_slope    `np.quantile` and its relatives
    cov_adjoint / cov_tangent, corrcoef_adjoint / corrcoef_tangent
    trapezoid_weights / trapezoid_x_adjoint / trapezoid_tangent / ...    `np.trapezoid`

Generated gradients call these, and second derivatives differentiate that code again, so the
helpers of quantiles, covariances and the trapezoid rule are written in sourcegrad's
differentiable subset (no `with`, no `raise`, no in-place writes); what they compute from ranks
alone (`quantile_ranks`) is declared non-differentiable in `rules/runtime_second_order.py`.
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


class Ranks(NamedTuple):
    """How a `np.quantile`-like reduction picks values: integer facts, piecewise constant in `x`
    and `q`, so they carry no derivative (`rules/runtime_second_order.py` says so)."""

    perm: tuple  # x's axes, the kept ones first
    back: tuple  # the inverse permutation
    moved: tuple  # x's shape permuted by `perm`
    flat: tuple  # that shape with the reduced axes flattened into the last one
    order: np.ndarray  # argsort of each slice (NaNs last)
    inverse: np.ndarray  # the rank of each entry of a slice: argsort of `order`
    count: np.ndarray  # values per slice (non-NaN ones for the nan* functions)
    qshape: tuple  # q's shape, then ones: q broadcast against the slices
    shape: tuple  # the result's shape
    floor: np.ndarray  # per quantile and slice: floor of the fractional rank,
    lo: np.ndarray  # the lower rank,
    hi: np.ndarray  # and the upper one


def quantile_ranks(x, q, axis=None, method="linear", scale=1.0, nan=False, keepdims=False) -> Ranks:
    """The sorted order along the reduced axes (moved last and flattened), and for each quantile
    and slice the two ranks interpolated. Raises for a method without a derivative here."""
    if method not in _METHODS:
        raise ValueError(
            f"the derivative of a quantile is defined here for method in {_METHODS}, got "
            f"{method!r}: pass one of those, or register a rule for your method"
        )
    x = np.asarray(x, dtype=float)
    axes = normalize_axes(axis, x.ndim)
    perm = tuple(i for i in range(x.ndim) if i not in axes) + axes
    moved = tuple(x.shape[i] for i in perm)
    flat = moved[: x.ndim - len(axes)] + (-1,)
    values = np.reshape(np.transpose(x, perm), flat)
    flat = values.shape
    order = np.argsort(values, axis=-1)  # NaNs sort last
    count = np.sum(~np.isnan(values), axis=-1) if nan else np.full(flat[:-1], flat[-1])
    qq = np.asarray(q, dtype=float) / scale
    qshape = qq.shape + (1,) * (len(flat) - 1)
    h = np.reshape(qq, qshape) * (count - 1)
    floor = np.floor(h)
    lo = floor
    if method == "higher":
        lo = np.ceil(h)
    elif method == "nearest":
        lo = np.around(h)
    last = np.maximum(count - 1, 0)
    hi = np.minimum(lo + 1, last) if method in ("linear", "midpoint") else lo
    lo, hi = np.minimum(lo, last).astype(int), hi.astype(int)
    if keepdims:
        shape = [1 if i in axes else n for i, n in enumerate(x.shape)]
    else:
        shape = [n for i, n in enumerate(x.shape) if i not in axes]
    return Ranks(perm, tuple(np.argsort(perm)), moved, flat, order, np.argsort(order, axis=-1),
                 count, qshape, qq.shape + tuple(shape), floor, lo, hi)


# The quantile helpers below are written in sourcegrad's differentiable subset (no in-place
# writes, no `with` or `raise`): generated gradients call them, and second derivatives
# differentiate them again.


def _upper_weight(q, r, method, scale):
    """The weight of the upper of the two values interpolated, per quantile and slice: the
    fractional rank for 'linear' (a function of q), one half for 'midpoint', else zero."""
    if method == "linear":
        return np.reshape(np.asarray(q, dtype=float) / scale, r.qshape) * (r.count - 1) - r.floor
    if method == "midpoint":
        return np.where(r.hi > r.lo, 0.5, 0.0)
    return np.zeros(np.shape(r.lo))


def _flattened(v, r):
    """`v` (x's shape) with the kept axes first and the reduced ones flattened last."""
    return np.reshape(np.transpose(v, r.perm), r.flat)


def _ranked(values, r, k):
    """The `k`-th smallest of each slice of `values` (flattened), per quantile and slice."""
    ranked = np.take_along_axis(values, r.order, axis=-1)
    ranked = np.broadcast_to(ranked, np.shape(k) + np.shape(ranked)[-1:])
    return np.take_along_axis(ranked, np.expand_dims(k, -1), axis=-1)[..., 0]


def quantile_adjoint(g, x, q, axis=None, keepdims=False, method="linear", scale=1.0, nan=False):
    """The cotangent of `x` in `y = np.quantile(x, q, axis, method=..., keepdims=...)` (scale 100:
    percentile; nan: nanquantile): the cotangent goes to the one or two values interpolated."""
    r = quantile_ranks(x, q, axis, method, scale, nan)
    frac = _upper_weight(q, r, method, scale)
    gm = np.reshape(g, np.shape(r.lo))
    ranks = np.arange(r.flat[-1])
    w = (ranks == np.expand_dims(r.lo, -1)) * np.expand_dims((1 - frac) * gm, -1)
    w = w + (ranks == np.expand_dims(r.hi, -1)) * np.expand_dims(frac * gm, -1)
    w = np.sum(np.reshape(w, (-1,) + r.flat), axis=0)  # sum over the quantiles
    out = np.take_along_axis(w, r.inverse, axis=-1)  # from sorted places back to x's
    return np.transpose(np.reshape(out, r.moved), r.back)


def quantile_slope(x, q, axis=None, keepdims=False, method="linear", scale=1.0, nan=False):
    """d y / d q of a quantile, y's shape: the gap between the two values interpolated, per unit
    of q (zero for the methods that pick one value)."""
    r = quantile_ranks(x, q, axis, method, scale, nan, keepdims)
    if method != "linear":
        return np.zeros(r.shape)
    values = _flattened(np.asarray(x, dtype=float), r)
    gap = _ranked(values, r, r.hi) - _ranked(values, r, r.lo)
    return np.reshape(gap * (r.count - 1) / scale, r.shape)


def quantile_q_adjoint(g, x, q, axis=None, keepdims=False, method="linear", scale=1.0, nan=False):
    """The cotangent of `q` in a quantile: the slope times the cotangent, summed per quantile."""
    slope = quantile_slope(x, q, axis, keepdims, method, scale, nan)
    return np.reshape(np.sum(np.reshape(g * slope, np.shape(q) + (-1,)), axis=-1), np.shape(q))


def quantile_tangent(dx, dq, x, q, axis=None, keepdims=False, method="linear", scale=1.0,
                     nan=False):
    """The tangent of `y = np.quantile(x, q, ...)` along `dx` and `dq` (either may be zero)."""
    r = quantile_ranks(x, q, axis, method, scale, nan, keepdims)
    out = np.zeros(r.shape)
    if not _is_zero(dx):
        frac = _upper_weight(q, r, method, scale)
        values = _flattened(np.broadcast_to(dx, np.shape(x)), r)
        picked = (1 - frac) * _ranked(values, r, r.lo) + frac * _ranked(values, r, r.hi)
        out = out + np.reshape(picked, r.shape)
    if not _is_zero(dq):
        dqk = np.reshape(dq, np.shape(q) + (1,) * (len(r.shape) - np.ndim(q)))
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


def _variables(v, rowvar, first):
    """How many variables (rows of `_rows`) operand `v` of `np.cov` holds."""
    return np.shape(np.atleast_2d(v))[1 if _transposed(v, rowvar, first) else 0]


def check_frequency_weights():
    """Raise: np.cov's fweights are integer counts (NumPy refuses others), with no derivative."""
    raise ValueError(
        "np.cov's fweights are integer counts: they have no derivative; pass real-valued weights "
        "as aweights, or compute fweights from values that are not differentiated"
    )


def _divisor_offset(bias, ddof):
    return ddof if ddof is not None else (0 if bias else 1)


# The covariance helpers below are written in sourcegrad's differentiable subset: second
# derivatives differentiate them again.


def _rows(v, rowvar, first):
    """One operand of `np.cov` as it reads it: at least 2-D, one row per variable."""
    r = np.atleast_2d(np.asarray(v, dtype=float))
    if _transposed(v, rowvar, first):
        return np.transpose(r)
    return r


def _stacked(m, y, rowvar):
    """cov's observations, one row per variable: m's rows, then y's."""
    xs = _rows(m, rowvar, True)
    if y is not None:
        xs = np.concatenate((xs, _rows(y, rowvar, False)))
    return xs


def _weights(xs, fweights, aweights):
    """The weight of each observation (column of `xs`): fweights times aweights, ones without."""
    w = np.ones(np.shape(xs)[1])
    if fweights is not None:
        w = w * np.asarray(fweights, dtype=float)
    if aweights is not None:
        w = w * aweights
    return w


def _divisor(xs, w, bias, ddof, fweights, aweights):
    """cov's divisor, as NumPy reads the weights: the count (or weight sum) less ddof, or
    sum(w) - ddof * sum(w * aweights) / sum(w) with analytic weights."""
    offset = _divisor_offset(bias, ddof)
    if fweights is None and aweights is None:
        return np.shape(xs)[1] - offset
    total = np.sum(w)
    if offset == 0:
        return total
    if aweights is None:
        return total - offset
    return total - offset * np.sum(w * aweights) / total


def _centered(m, y, rowvar, bias, ddof, fweights=None, aweights=None):
    """cov's observations, one row per variable, centred on their weighted means; the weights
    per observation; and the divisor."""
    xs = _stacked(m, y, rowvar)
    w = _weights(xs, fweights, aweights)
    k = _divisor(xs, w, bias, ddof, fweights, aweights)
    return xs - np.sum(xs * w, axis=1, keepdims=True) / np.sum(w), w, k


def _back_to(gx, m, y, rowvar, i):
    """The rows of `gx` that came from `m` (i = 0) or `y` (i = 1), in that operand's shape."""
    rows_m = _variables(m, rowvar, True)
    if i == 0:
        part = gx[:rows_m]
        if _transposed(m, rowvar, True):
            part = np.transpose(part)
        return np.reshape(part, np.shape(m))
    part = gx[rows_m:]
    if _transposed(y, rowvar, False):
        part = np.transpose(part)
    return np.reshape(part, np.shape(y))


def _divisor_slope(w, f, bias, ddof, aweights):
    """d divisor / d aweights per observation, for the weights w = f * aweights."""
    offset = _divisor_offset(bias, ddof)
    if offset == 0:
        return f
    total = np.sum(w)
    return f - offset * (2 * w / total - np.sum(w * aweights) * f / (total * total))


def cov_adjoint(g, m, y, rowvar, bias, ddof, i, fweights=None, aweights=None):
    """The cotangent of `m` (i = 0), `y` (i = 1) or `aweights` (i = 2) in
    `c = np.cov(m, y, rowvar, bias, ddof, fweights, aweights)` (i = 3, fweights, raises), which is
    `xc diag(w) xc^T / k` for the weighted-centred observations xc (since xc w = 0, moving the
    means changes nothing to first order)."""
    if i == 3:  # fweights
        check_frequency_weights()
    xc, w, k = _centered(m, y, rowvar, bias, ddof, fweights, aweights)
    n = np.shape(xc)[0]
    gm = np.reshape(g, (n, n))
    if i < 2:
        return _back_to((gm + np.transpose(gm)) @ (xc * w) / k, m, y, rowvar, i)
    c = xc @ np.transpose(xc * w) / k
    per = np.sum(xc * (gm @ xc), axis=0)  # xc_j^T g xc_j for each observation j
    f = _weights(xc, fweights, None)  # d w / d aweights
    return (per * f - np.sum(gm * c) * _divisor_slope(w, f, bias, ddof, aweights)) / k


def cov_tangent(dm, dy, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
                aweights=None, daweights=0.0, dfweights=0.0):
    """The tangent of `c = np.cov(m, y, rowvar, bias, ddof, fweights, aweights)`."""
    if not _is_zero(dfweights):
        check_frequency_weights()
    xc, w, k = _centered(m, y, rowvar, bias, ddof, fweights, aweights)
    if _is_zero(dm):
        dm = np.zeros(np.shape(m))
    if y is None:
        dy = None
    elif _is_zero(dy):
        dy = np.zeros(np.shape(y))
    dx = _stacked(dm, dy, rowvar)
    dc = (dx @ np.transpose(xc * w) + (xc * w) @ np.transpose(dx)) / k
    if aweights is not None and not _is_zero(daweights):
        f = _weights(xc, fweights, None)  # d w / d aweights
        slope = _divisor_slope(w, f, bias, ddof, aweights)
        c = xc @ np.transpose(xc * w) / k
        dc = dc + (xc * (f * daweights)) @ np.transpose(xc) / k - c * np.sum(slope * daweights) / k
    if np.shape(dc) == (1, 1):
        return dc[0, 0]
    return dc


def _correlations(x, y, rowvar):
    c = np.atleast_2d(np.cov(x, y, rowvar))
    s = np.sqrt(np.diagonal(c))
    return c, s, c / np.outer(s, s)


def corrcoef_adjoint(g, x, y, rowvar, i):
    """The cotangent of `x` (i = 0) or `y` (i = 1) in `r = np.corrcoef(x, y, rowvar)`."""
    c, s, r = _correlations(x, y, rowvar)
    gm = np.reshape(g, np.shape(c))
    gr = gm * r
    gc = gm / np.outer(s, s) - np.diag(np.sum(gr + np.transpose(gr), axis=1) / (2 * np.diagonal(c)))
    return cov_adjoint(gc, x, y, rowvar, False, None, i)


def corrcoef_tangent(dx, dy, x, y=None, rowvar=True):
    """The tangent of `r = np.corrcoef(x, y, rowvar)`."""
    c, s, r = _correlations(x, y, rowvar)
    dc = np.atleast_2d(cov_tangent(dx, dy, x, y, rowvar))
    half = np.diagonal(dc) / (2 * np.diagonal(c))
    dr = dc / np.outer(s, s) - r * (np.expand_dims(half, 1) + np.expand_dims(half, 0))
    if np.shape(c) == (1, 1):  # one variable: np.corrcoef returns a number
        return dr[0, 0]
    return dr


# --- the trapezoid rule --------------------------------------------------------------------------


def _along_shape(ndim, axis):
    """The shape that lays a 1-D array along `axis` of an array of `ndim` axes."""
    return tuple(-1 if i == axis % ndim else 1 for i in range(ndim))


def _pad_widths(ndim, axis):
    """`np.pad` widths adding one entry at each end of `axis`."""
    return tuple((1, 1) if i == axis % ndim else (0, 0) for i in range(ndim))


def _other_axes(ndim, axis):
    return tuple(i for i in range(ndim) if i != axis % ndim)


# The trapezoid helpers below are written in sourcegrad's differentiable subset: second
# derivatives differentiate them again.


def _along(v, y, axis):
    """A 1-D `v` shaped to broadcast along `axis` of `y` (anything else unchanged)."""
    if np.ndim(v) == 1 and np.ndim(y) > 1:
        return np.reshape(v, _along_shape(np.ndim(y), axis))
    return v


def _halves(v, n, axis):
    """Along `axis`: (v[i-1] + v[i]) / 2 for i in 0..n-1, with v[-1] = v[n-1] = 0 (v has n - 1)."""
    padded = np.pad(v, _pad_widths(np.ndim(v), axis))
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
    return -np.diff(np.pad(mids, _pad_widths(np.ndim(y), ax)), axis=ax)


def trapezoid_x_adjoint(g, y, x, axis=-1):
    """The cotangent of the sample points `x` (1-D, or y's shape) in `np.trapezoid(y, x, axis)`."""
    full = np.expand_dims(g, axis) * trapezoid_x_grad(y, axis)
    if np.ndim(x) == 1 and np.ndim(y) > 1:
        return np.sum(full, axis=_other_axes(np.ndim(y), axis))
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
