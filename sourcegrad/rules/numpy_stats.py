"""Derivative rules of NumPy's statistics: NaN-ignoring reductions, quantiles, order statistics,
covariance and the trapezoidal rule (rules/numpy.py has sum, mean, var, max, median...).

NaN-ignoring functions give NaN entries no cotangent. Quantiles are differentiable in `x` and in
`q` for the interpolating methods (linear, lower, higher, nearest, midpoint); others raise.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, tangent

# fmt: off


# --- NaN-ignoring reductions ---
# NaN entries are replaced inside the formulas (not only masked outside them), so that their
# derivatives, taken again for second derivatives, multiply zeros by numbers, never by NaN.
@adjoint(np.nanprod)                    # needs x without zeros, like prod
def _(y, x, axis=None, dtype=None, keepdims=False):
    d[x] = np.where(np.isnan(x), 0.0, sg.unreduce(d[y] * y, x, axis, keepdims) / np.where(np.isnan(x), 1.0, x))


@tangent(np.nanprod)
def _(y, x, axis=None, dtype=None, keepdims=False):
    d[y] = np.sum(np.where(np.isnan(x), 0.0, d[x] * sg.unreduce(y, x, axis, keepdims) / np.where(np.isnan(x), 1.0, x)),
                  axis=axis, keepdims=keepdims)


@adjoint(np.nanvar)                     # N = the count of non-NaN values per result
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[x] = (sg.unreduce(d[y], x, axis, keepdims) * 2.0
            * np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))
            / (np.sum(~np.isnan(x), axis=axis, keepdims=True) - ddof))


@tangent(np.nanvar)
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[y] = np.sum(np.where(np.isnan(x), 0.0, d[x] * 2.0 * np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))
                           / (np.sum(~np.isnan(x), axis=axis, keepdims=True) - ddof)), axis=axis, keepdims=keepdims)


@adjoint(np.nanstd)
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[x] = (sg.unreduce(d[y] / y, x, axis, keepdims)
            * np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))
            / (np.sum(~np.isnan(x), axis=axis, keepdims=True) - ddof))


@tangent(np.nanstd)
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[y] = np.sum(np.where(np.isnan(x), 0.0, d[x] * np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))
                           / (np.sum(~np.isnan(x), axis=axis, keepdims=True) - ddof)), axis=axis, keepdims=keepdims) / y


@adjoint(np.nancumsum)                  # NaNs count as zero
def _(y, x, axis=None, dtype=None):
    d[x] = np.where(np.isnan(x), 0.0, sg.uncumsum(d[y], x, axis))


@tangent(np.nancumsum)
def _(y, x, axis=None, dtype=None):
    d[y] = np.cumsum(np.where(np.isnan(x), 0.0, d[x]), axis=axis)


@adjoint(np.nancumprod)                 # NaNs count as one; needs x without zeros
def _(y, x, axis=None, dtype=None):
    d[x] = np.where(np.isnan(x), 0.0, sg.uncumsum(d[y] * y, x, axis) / np.where(np.isnan(x), 1.0, x))


@tangent(np.nancumprod)
def _(y, x, axis=None, dtype=None):
    d[y] = y * np.cumsum(np.where(np.isnan(x), 0.0, d[x] / np.where(np.isnan(x), 1.0, x)), axis=axis)


# --- quantiles: the cotangent goes to the one or two order statistics interpolated ---
@adjoint(np.quantile)                   # methods linear, lower, higher, nearest, midpoint; q in [0, 1]
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[x] = sg.quantile_adjoint(d[y], x, q, axis, keepdims, method)
    d[q] = sg.quantile_q_adjoint(d[y], x, q, axis, keepdims, method)


@tangent(np.quantile)
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[y] = sg.quantile_tangent(d[x], d[q], x, q, axis, keepdims, method)


@adjoint(np.percentile)                 # q in [0, 100]
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[x] = sg.quantile_adjoint(d[y], x, q, axis, keepdims, method, 100.0)
    d[q] = sg.quantile_q_adjoint(d[y], x, q, axis, keepdims, method, 100.0)


@tangent(np.percentile)
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[y] = sg.quantile_tangent(d[x], d[q], x, q, axis, keepdims, method, 100.0)


@adjoint(np.nanquantile)                # NaNs are left out
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[x] = sg.quantile_adjoint(d[y], x, q, axis, keepdims, method, 1.0, True)
    d[q] = sg.quantile_q_adjoint(d[y], x, q, axis, keepdims, method, 1.0, True)


@tangent(np.nanquantile)
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[y] = sg.quantile_tangent(d[x], d[q], x, q, axis, keepdims, method, 1.0, True)


@adjoint(np.nanpercentile)
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[x] = sg.quantile_adjoint(d[y], x, q, axis, keepdims, method, 100.0, True)
    d[q] = sg.quantile_q_adjoint(d[y], x, q, axis, keepdims, method, 100.0, True)


@tangent(np.nanpercentile)
def _(y, x, q, axis=None, method="linear", keepdims=False):
    d[y] = sg.quantile_tangent(d[x], d[q], x, q, axis, keepdims, method, 100.0, True)


@adjoint(np.nanmedian)
def _(y, x, axis=None, keepdims=False):
    d[x] = sg.quantile_adjoint(d[y], x, 0.5, axis, keepdims, "linear", 1.0, True)


@tangent(np.nanmedian)
def _(y, x, axis=None, keepdims=False):
    d[y] = sg.quantile_tangent(d[x], 0.0, x, 0.5, axis, keepdims, "linear", 1.0, True)


@adjoint(np.partition)                  # values: a permutation of x, sent back through it
def _(y, x, kth, axis=-1, kind="introselect"):
    d[x] = sg.untake_along_axis(d[y], x, sg.permutation_of(x, y, axis), axis)


@tangent(np.partition)
def _(y, x, kth, axis=-1, kind="introselect"):
    d[y] = np.take_along_axis(d[x], sg.permutation_of(x, y, axis), axis)


# --- covariance, correlation, integration ---
@adjoint(np.cov)                        # y adds variables; fweights (integers) and aweights weigh observations
def _(c, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, dtype=None):
    d[m] = sg.cov_adjoint(d[c], m, y, rowvar, bias, ddof, 0, fweights, aweights)
    d[y] = sg.cov_adjoint(d[c], m, y, rowvar, bias, ddof, 1, fweights, aweights)
    d[aweights] = sg.cov_adjoint(d[c], m, y, rowvar, bias, ddof, 2, fweights, aweights)
    d[fweights] = sg.cov_adjoint(d[c], m, y, rowvar, bias, ddof, 3, fweights, aweights)


@tangent(np.cov)
def _(c, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, dtype=None):
    d[c] = sg.cov_tangent(d[m], d[y], m, y, rowvar, bias, ddof, fweights, aweights, d[aweights], d[fweights])


@adjoint(np.corrcoef)
def _(r, x, y=None, rowvar=True):
    d[x] = sg.corrcoef_adjoint(d[r], x, y, rowvar, 0)
    d[y] = sg.corrcoef_adjoint(d[r], x, y, rowvar, 1)


@tangent(np.corrcoef)
def _(r, x, y=None, rowvar=True):
    d[r] = sg.corrcoef_tangent(d[x], d[y], x, y, rowvar)


@adjoint(np.trapezoid)                  # y, the sample points x (1-D or y's shape) and the spacing dx
def _(t, y, x=None, dx=1.0, axis=-1):
    d[y] = sg.unreduce(d[t], y, axis) * sg.trapezoid_weights(y, x, dx, axis)
    d[x] = sg.trapezoid_x_adjoint(d[t], y, x, axis)
    d[dx] = sg.trapezoid_dx_adjoint(d[t], y, x, axis)


@tangent(np.trapezoid)
def _(t, y, x=None, dx=1.0, axis=-1):
    d[t] = sg.trapezoid_tangent(d[y], d[x], d[dx], y, x, dx, axis)

# fmt: on
