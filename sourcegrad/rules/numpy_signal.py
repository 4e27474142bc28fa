"""Derivative rules of NumPy's sequence functions: polynomials, convolution, interpolation,
differences (real inputs). Polynomials are coefficient arrays, highest power first."""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, linear, tangent

# fmt: off

# --- linear in the coefficients ---
linear(np.polyder,      lambda g, x, m=1: np.pad(g * np.polyder(np.ones(np.size(x)), m), (0, m)))
linear(np.polyint,      lambda g, x, m=1: np.take(g * np.polyint(np.ones(np.size(x)), m), np.arange(np.size(x))))


@adjoint(np.polyval)
def _(y, p, x):
    d[p] = np.ravel(d[y]) @ np.vander(np.ravel(x), np.size(p))
    d[x] = d[y] * np.polyval(np.polyder(p), x)


@tangent(np.polyval)
def _(y, p, x):
    d[y] = np.polyval(np.atleast_1d(d[p]), x) + d[x] * np.polyval(np.polyder(p), x)


@adjoint(np.polyadd)                    # the shorter operand is aligned at the end
def _(y, a1, a2):
    d[a1] = np.take(d[y], np.arange(np.size(y) - np.size(a1), np.size(y)))
    d[a2] = np.take(d[y], np.arange(np.size(y) - np.size(a2), np.size(y)))


@tangent(np.polyadd)
def _(y, a1, a2):
    d[y] = np.polyadd(np.polyadd(d[a1], d[a2]), np.zeros(np.shape(y)))


@adjoint(np.polysub)
def _(y, a1, a2):
    d[a1] = np.take(d[y], np.arange(np.size(y) - np.size(a1), np.size(y)))
    d[a2] = -np.take(d[y], np.arange(np.size(y) - np.size(a2), np.size(y)))


@tangent(np.polysub)
def _(y, a1, a2):
    d[y] = np.polyadd(np.polysub(d[a1], d[a2]), np.zeros(np.shape(y)))


@adjoint(np.polymul)                    # a full convolution of the coefficients
def _(y, a1, a2):
    d[a1] = np.correlate(d[y], a2, "valid")
    d[a2] = np.correlate(d[y], a1, "valid")


@tangent(np.polymul)                    # convolve, not polymul: polymul drops a tangent's leading zeros
def _(y, a1, a2):
    d[y] = np.polyadd(np.polyadd(np.convolve(np.atleast_1d(d[a1]), a2), np.convolve(a1, np.atleast_1d(d[a2]))),
                      np.zeros(np.shape(y)))


@adjoint(np.vander)
def _(y, x, N=None, increasing=False):
    d[x] = np.sum(d[y] * sg.vander_derivative(x, N, increasing), axis=1)


@tangent(np.vander)
def _(y, x, N=None, increasing=False):
    d[y] = np.expand_dims(d[x], 1) * sg.vander_derivative(x, N, increasing)


# --- convolution ---
@adjoint(np.convolve)                   # modes full, same, valid
def _(y, a, v, mode="full"):
    d[a] = sg.convolve_adjoint(d[y], a, v, mode, 0)
    d[v] = sg.convolve_adjoint(d[y], a, v, mode, 1)


@tangent(np.convolve)
def _(y, a, v, mode="full"):
    d[y] = np.convolve(d[a], v, mode) + np.convolve(a, d[v], mode)


@adjoint(np.correlate)
def _(y, a, v, mode="valid"):
    d[a] = sg.correlate_adjoint(d[y], a, v, mode, 0)
    d[v] = sg.correlate_adjoint(d[y], a, v, mode, 1)


@tangent(np.correlate)
def _(y, a, v, mode="valid"):
    d[y] = np.correlate(d[a], v, mode) + np.correlate(a, d[v], mode)


# --- interpolation and differences ---
@adjoint(np.interp)                     # xp increasing (any order with a period, which ignores left and right)
def _(y, x, xp, fp, left=None, right=None, period=None):
    d[x] = sg.interp_adjoint(d[y], x, xp, fp, left, right, period, "x")
    d[xp] = sg.interp_adjoint(d[y], x, xp, fp, left, right, period, "xp")
    d[fp] = sg.interp_adjoint(d[y], x, xp, fp, left, right, period, "fp")
    d[left] = sg.interp_adjoint(d[y], x, xp, fp, left, right, period, "left")
    d[right] = sg.interp_adjoint(d[y], x, xp, fp, left, right, period, "right")
    d[period] = sg.interp_adjoint(d[y], x, xp, fp, left, right, period, "period")


@tangent(np.interp)
def _(y, x, xp, fp, left=None, right=None, period=None):
    d[y] = sg.interp_tangent(d[x], d[xp], d[fp], d[left], d[right], x, xp, fp, left, right, period, d[period])


@adjoint(np.gradient)                   # spacing: none, one number, or one per axis (numbers or coordinates; three at most)
def _(y, f, h1=None, h2=None, h3=None, more=None, axis=None, edge_order=1):
    d[f] = sg.gradient_adjoint(d[y], f, (h1, h2, h3, more), axis, edge_order)
    d[h1] = sg.gradient_adjoint(d[y], f, (h1, h2, h3, more), axis, edge_order, 0)
    d[h2] = sg.gradient_adjoint(d[y], f, (h1, h2, h3, more), axis, edge_order, 1)
    d[h3] = sg.gradient_adjoint(d[y], f, (h1, h2, h3, more), axis, edge_order, 2)
    d[more] = sg.gradient_adjoint(d[y], f, (h1, h2, h3, more), axis, edge_order, 3)


@tangent(np.gradient)
def _(y, f, h1=None, h2=None, h3=None, more=None, axis=None, edge_order=1):
    d[y] = sg.gradient_tangent(d[f], (d[h1], d[h2], d[h3]), f, (h1, h2, h3, more), axis, edge_order)


@adjoint(np.ediff1d)                    # x flattened; to_end and to_begin joined on
def _(y, x, to_end=None, to_begin=None):
    d[x] = sg.unediff1d(d[y], x, to_end, to_begin, 0)
    d[to_end] = sg.unediff1d(d[y], x, to_end, to_begin, 1)
    d[to_begin] = sg.unediff1d(d[y], x, to_end, to_begin, 2)


@tangent(np.ediff1d)
def _(y, x, to_end=None, to_begin=None):
    d[y] = sg.ediff1d_tangent(d[x], d[to_end], d[to_begin], x, to_end, to_begin)


# --- elementwise functions with two results or special values ---
@adjoint(np.frexp)                      # y = (mantissa, exponent); x = mantissa * 2**exponent
def _(y, x):
    d[x] = d[y][0] * np.ldexp(1.0, -y[1])


@tangent(np.frexp)
def _(y, x):
    d[y] = (d[x] * np.ldexp(1.0, -y[1]), 0.0 * y[1])


@adjoint(np.modf)                       # y = (fractional part, integral part)
def _(y, x):
    d[x] = d[y][0]


@tangent(np.modf)
def _(y, x):
    d[y] = (d[x], 0.0 * y[1])


@adjoint(np.divmod)                     # y = (floor(x1 / x2), x1 - floor(x1 / x2) * x2)
def _(y, x1, x2):
    d[x1] = sg.unbroadcast(d[y][1], x1)
    d[x2] = sg.unbroadcast(-d[y][1] * y[0], x2)


@tangent(np.divmod)
def _(y, x1, x2):
    d[y] = (0.0 * y[0], d[x1] - d[x2] * y[0])


@adjoint(np.nan_to_num)                 # replaced NaNs and infinities get no cotangent
def _(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[x] = d[y] * np.isfinite(x)


@tangent(np.nan_to_num)
def _(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[y] = d[x] * np.isfinite(x)


@adjoint(np.unwrap)                     # adds multiples of the period: the derivative is 1
def _(y, x, discont=None, axis=-1, period=6.283185307179586):
    d[x] = d[y]


@tangent(np.unwrap)
def _(y, x, discont=None, axis=-1, period=6.283185307179586):
    d[y] = d[x]


linear(np.real_if_close, lambda g, x, tol=100: g)  # real inputs: the identity

# fmt: on
