"""Derivative rules of NumPy functions, and how array methods and attributes map onto them.

Templates name the first array argument `x` (NumPy calls it `a`) and keep NumPy's names for the
parameters users pass by keyword (`axis`, `keepdims`, `axes`, `ddof`).
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import (
    ARRAY_ONLY_ATTRIBUTES,
    ATTRIBUTES,
    METHODS,
    REDUCTIONS,
    adjoint,
    d,
    elementwise,
    linear,
    nondifferentiable,
    tangent,
)


def dtype(x):
    """The dtype of an array or scalar (what `x.dtype` means in normalised code)."""
    return x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.result_type(x)


# fmt: off

# --- non-differentiable: shapes, indices, comparisons, rounding, constructors ---
nondifferentiable(
    np.shape, np.ndim, np.size, dtype, np.result_type,
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.searchsorted,
    np.count_nonzero, np.unravel_index, np.ravel_multi_index,
    np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix, np.floor_divide,
    np.isnan, np.isfinite, np.isinf, np.isclose, np.allclose, np.array_equal, np.any, np.all,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.zeros_like, np.ones_like, np.empty_like, np.zeros, np.ones, np.empty, np.eye, np.identity,
    np.random.rand, np.random.randn, np.random.normal, np.random.uniform, np.random.randint,
    np.random.seed, np.random.default_rng,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
    np.isneginf, np.isposinf, np.signbit, np.heaviside, np.iscomplex, np.isreal, np.isscalar,
    np.nextafter, np.spacing, np.gcd, np.lcm, np.argpartition, np.digitize, np.bincount, np.isin,
    np.histogram, np.tri, np.tril_indices, np.triu_indices, np.diag_indices, np.indices,
    np.broadcast_shapes, np.random.choice, np.random.permutation,
    np.linalg.matrix_rank, np.iscomplexobj, np.isrealobj, np.array_equiv,
)

# --- elementwise: the lambda is dy/dx in the argument x and the result y ---
elementwise(np.exp,        lambda x, y: y)
elementwise(np.exp2,       lambda x, y: y * np.log(2.0))
elementwise(np.expm1,      lambda x, y: y + 1.0)
elementwise(np.log,        lambda x, y: 1.0 / x)
elementwise(np.log2,       lambda x, y: 1.0 / (x * np.log(2.0)))
elementwise(np.log10,      lambda x, y: 1.0 / (x * np.log(10.0)))
elementwise(np.log1p,      lambda x, y: 1.0 / (1.0 + x))
elementwise(np.sqrt,       lambda x, y: 0.5 / y)
elementwise(np.cbrt,       lambda x, y: 1.0 / (3.0 * y * y))
elementwise(np.square,     lambda x, y: 2.0 * x)
elementwise(np.reciprocal, lambda x, y: -y * y)
elementwise(np.sin,        lambda x, y: np.cos(x))
elementwise(np.cos,        lambda x, y: -np.sin(x))
elementwise(np.tan,        lambda x, y: 1.0 + y * y)
elementwise(np.arcsin,     lambda x, y: 1.0 / np.sqrt(1.0 - x * x))
elementwise(np.arccos,     lambda x, y: -1.0 / np.sqrt(1.0 - x * x))
elementwise(np.arctan,     lambda x, y: 1.0 / (1.0 + x * x))
elementwise(np.sinh,       lambda x, y: np.cosh(x))
elementwise(np.cosh,       lambda x, y: np.sinh(x))
elementwise(np.tanh,       lambda x, y: 1.0 - y * y)
elementwise(np.arcsinh,    lambda x, y: 1.0 / np.sqrt(x * x + 1.0))
elementwise(np.arccosh,    lambda x, y: 1.0 / np.sqrt(x * x - 1.0))
elementwise(np.arctanh,    lambda x, y: 1.0 / (1.0 - x * x))
elementwise(np.fabs,       lambda x, y: np.sign(x))
elementwise(np.sinc,       lambda x, y: np.where(x == 0, 0.0, (np.cos(np.pi * x) - y) / np.where(x == 0, 1.0, x)))
elementwise(np.deg2rad,    lambda x, y: np.pi / 180.0)
elementwise(np.radians,    lambda x, y: np.pi / 180.0)
elementwise(np.rad2deg,    lambda x, y: 180.0 / np.pi)
elementwise(np.degrees,    lambda x, y: 180.0 / np.pi)

# --- linear: forward applies the function to the tangent, reverse applies the transpose ---
linear(np.negative,    lambda g, x: -g)
linear(np.positive,    lambda g, x: g)
linear(np.copy,        lambda g, x: g)
linear(np.conjugate,   lambda g, x: np.conjugate(g))  # real inputs: the identity
linear(np.real,        lambda g, x: np.real(g))
linear(np.imag,        lambda g, x: -1j * np.real(g))  # Im(z) = Re(-1j z); for real x the real part, 0, is kept
linear(np.array,       lambda g, x, dtype=None: sg.unarray(g, x))   # x: an array or a (nested) list of values
linear(np.asarray,     lambda g, x, dtype=None: sg.unarray(g, x))
linear(np.asanyarray,  lambda g, x, dtype=None: sg.unarray(g, x))
linear(np.ascontiguousarray, lambda g, x, dtype=None: sg.unarray(g, x))
linear(np.ldexp,       lambda g, x, i: sg.unbroadcast(np.ldexp(g, i), x))
linear(np.reshape,     lambda g, x, shape: np.reshape(g, np.shape(x)))
linear(np.ravel,       lambda g, x: np.reshape(g, np.shape(x)))
linear(np.squeeze,     lambda g, x, axis=None: np.reshape(g, np.shape(x)))
linear(np.expand_dims, lambda g, x, axis: np.reshape(g, np.shape(x)))
linear(np.transpose,   lambda g, x, axes=None: np.transpose(g, None if axes is None
                                                                  else np.argsort(np.mod(axes, np.ndim(x)))))
linear(np.swapaxes,    lambda g, x, axis1, axis2: np.swapaxes(g, axis1, axis2))
linear(np.moveaxis,    lambda g, x, source, destination: np.moveaxis(g, destination, source))
linear(np.broadcast_to, lambda g, x, shape: sg.unbroadcast(g, x))
linear(np.sum,         lambda g, x, axis=None, dtype=None, keepdims=False: sg.unreduce(g, x, axis, keepdims))
linear(np.mean,        lambda g, x, axis=None, dtype=None, keepdims=False: sg.unreduce(g, x, axis, keepdims)
                                                                           * (np.size(g) / np.size(x)))
linear(np.nansum,      lambda g, x, axis=None, dtype=None, keepdims=False: np.where(np.isnan(x), 0.0,
                                                                                   sg.unreduce(g, x, axis, keepdims)))
linear(np.cumsum,      lambda g, x, axis=None, dtype=None: np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis),
                                                                     np.shape(x)))
linear(np.trace,       lambda g, x, offset=0, axis1=0, axis2=1: sg.undiagonal(
    np.broadcast_to(np.expand_dims(g, -1), np.shape(np.diagonal(x, offset, axis1, axis2))), x, offset, axis1, axis2))
linear(np.diff,        lambda g, x, n=1, axis=-1: sg.undiff(g, x, n, axis))
linear(np.stack,       lambda g, xs, axis=0: sg.unstack(g, axis))
linear(np.concatenate, lambda g, xs, axis=0: sg.unconcatenate(g, xs, axis))


# --- constructors whose values depend on their arguments (runtime/creation.py) ---
@adjoint(np.full)                       # fill_value broadcasts to shape
def _(y, shape, fill_value, dtype=None, order="C"):
    d[fill_value] = sg.unbroadcast(d[y], fill_value)


@tangent(np.full)
def _(y, shape, fill_value, dtype=None, order="C"):
    d[y] = d[fill_value] * np.ones(np.shape(y))


@adjoint(np.full_like)                  # x gives only the shape
def _(y, x, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[x] = 0.0
    d[fill_value] = sg.unbroadcast(d[y], fill_value)


@tangent(np.full_like)
def _(y, x, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[y] = d[fill_value] * np.ones(np.shape(y))


@adjoint(np.arange)                     # start + k step; the length (from stop) is not differentiable
def _(y, start, stop=None, step=None, dtype=None):
    d[start] = sg.arange_adjoint(d[y], start, stop, step, 0)
    d[stop] = 0.0
    d[step] = sg.arange_adjoint(d[y], start, stop, step, 2)


@tangent(np.arange)
def _(y, start, stop=None, step=None, dtype=None):
    d[y] = sg.arange_tangent(d[start], d[step], y, start, stop, step)


@adjoint(np.linspace)                   # y = start + t (stop - start), t = k / (num - 1) (k / num without the endpoint)
def _(y, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    d[start] = sg.linspace_adjoint(d[y], start, stop, num, endpoint, axis, 0, retstep)
    d[stop] = sg.linspace_adjoint(d[y], start, stop, num, endpoint, axis, 1, retstep)


@tangent(np.linspace)
def _(y, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    d[y] = sg.linspace_tangent(d[start], d[stop], start, stop, num, endpoint, axis, retstep)


@adjoint(np.logspace)                   # y = base ** linspace(start, stop); base a scalar
def _(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[start] = sg.linspace_adjoint(d[y] * y * np.log(sg.scalar_base(base)), start, stop, num, endpoint, axis, 0)
    d[stop] = sg.linspace_adjoint(d[y] * y * np.log(sg.scalar_base(base)), start, stop, num, endpoint, axis, 1)
    d[base] = np.sum(d[y] * y * np.linspace(start, stop, num, endpoint, axis=axis)) / sg.scalar_base(base)


@tangent(np.logspace)
def _(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[y] = (y * np.log(sg.scalar_base(base)) * sg.linspace_tangent(d[start], d[stop], start, stop, num, endpoint, axis)
            + d[base] * y * np.linspace(start, stop, num, endpoint, axis=axis) / sg.scalar_base(base))


@adjoint(np.geomspace)                  # y = start (stop / start) ** t: dy = y ((1 - t) dstart / start + t dstop / stop)
def _(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[start] = sg.linspace_adjoint(d[y] * y / sg.at_axis(start, start, stop, axis), start, stop, num, endpoint, axis, 0)
    d[stop] = sg.linspace_adjoint(d[y] * y / sg.at_axis(stop, start, stop, axis), start, stop, num, endpoint, axis, 1)


@tangent(np.geomspace)
def _(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[y] = y * sg.linspace_tangent(d[start] / start, d[stop] / stop, start, stop, num, endpoint, axis)


# --- binary elementwise; operands broadcast, so cotangents are unbroadcast ---
# (add, subtract, multiply, true_divide, power, matmul share the operators' templates: rules/operators.py)
@adjoint(np.maximum)                    # ties go to x: a valid subgradient
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * (x >= y), x)
    d[y] = sg.unbroadcast(d[z] * (x < y), y)


@tangent(np.maximum)
def _(z, x, y):
    d[z] = np.where(x >= y, d[x], d[y])


@adjoint(np.fmax)                       # NaNs are ignored: the other operand gets the cotangent
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * ((x >= y) | np.isnan(y)), x)
    d[y] = sg.unbroadcast(d[z] * ~((x >= y) | np.isnan(y)), y)


@tangent(np.fmax)
def _(z, x, y):
    d[z] = np.where((x >= y) | np.isnan(y), d[x], d[y])


@adjoint(np.fmin)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * ((x <= y) | np.isnan(y)), x)
    d[y] = sg.unbroadcast(d[z] * ~((x <= y) | np.isnan(y)), y)


@tangent(np.fmin)
def _(z, x, y):
    d[z] = np.where((x <= y) | np.isnan(y), d[x], d[y])


@adjoint(np.minimum)                    # ties go to x
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * (x <= y), x)
    d[y] = sg.unbroadcast(d[z] * (x > y), y)


@tangent(np.minimum)
def _(z, x, y):
    d[z] = np.where(x <= y, d[x], d[y])


@adjoint(np.arctan2)                    # z = arctan2(y, x)
def _(z, y, x):
    d[y] = sg.unbroadcast(d[z] * x / (x * x + y * y), y)
    d[x] = sg.unbroadcast(-d[z] * y / (x * x + y * y), x)


@tangent(np.arctan2)
def _(z, y, x):
    d[z] = (d[y] * x - d[x] * y) / (x * x + y * y)


@adjoint(np.hypot)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * x / z, x)
    d[y] = sg.unbroadcast(d[z] * y / z, y)


@tangent(np.hypot)
def _(z, x, y):
    d[z] = (d[x] * x + d[y] * y) / z


@adjoint(np.logaddexp)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * np.exp(x - z), x)
    d[y] = sg.unbroadcast(d[z] * np.exp(y - z), y)


@tangent(np.logaddexp)
def _(z, x, y):
    d[z] = d[x] * np.exp(x - z) + d[y] * np.exp(y - z)


@adjoint(np.logaddexp2)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * np.exp2(x - z), x)
    d[y] = sg.unbroadcast(d[z] * np.exp2(y - z), y)


@tangent(np.logaddexp2)
def _(z, x, y):
    d[z] = d[x] * np.exp2(x - z) + d[y] * np.exp2(y - z)


@adjoint(np.copysign)                   # z = |x| sign(y); y gives only a sign
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * np.copysign(1.0, x) * np.copysign(1.0, y), x)
    d[y] = 0.0


@tangent(np.copysign)
def _(z, x, y):
    d[z] = d[x] * np.copysign(1.0, x) * np.copysign(1.0, y)


@adjoint(np.fmod)                       # z = x - trunc(x / y) * y
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z], x)
    d[y] = sg.unbroadcast(-d[z] * np.trunc(x / y), y)


@tangent(np.fmod)
def _(z, x, y):
    d[z] = d[x] - d[y] * np.trunc(x / y)


@adjoint(np.where)                      # the condition carries no derivative
def _(z, condition, x, y):
    d[x] = sg.unbroadcast(np.where(condition, d[z], 0.0), x)
    d[y] = sg.unbroadcast(np.where(condition, 0.0, d[z]), y)


@tangent(np.where)
def _(z, condition, x, y):
    d[z] = np.where(condition, d[x], d[y])


@adjoint(np.clip)                       # the cotangent passes where x was not clipped
def _(y, x, a_min, a_max):
    d[x] = d[y] * (y == x)
    d[a_min] = sg.unbroadcast(d[y] * (x < a_min), a_min)
    d[a_max] = sg.unbroadcast(d[y] * (x > a_max), a_max)


@tangent(np.clip)
def _(y, x, a_min, a_max):
    d[y] = d[x] * (y == x) + d[a_min] * (x < a_min) + d[a_max] * (x > a_max)


# --- products ---


@adjoint(np.dot)                        # numbers, vectors, matrices (matmul) and N-D operands
def _(z, a, b):
    d[a] = sg.dot_adjoint_a(d[z], a, b)
    d[b] = sg.dot_adjoint_b(d[z], a, b)


@tangent(np.dot)
def _(z, a, b):
    d[z] = np.dot(d[a], b) + np.dot(a, d[b])


@adjoint(np.outer)
def _(z, a, b):
    d[a] = np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] = np.reshape(np.ravel(a) @ d[z], np.shape(b))


@tangent(np.outer)
def _(z, a, b):
    d[z] = np.outer(d[a], b) + np.outer(a, d[b])


# --- reductions ---
@adjoint(np.prod)                       # needs x without zeros, like autograd's rule
def _(y, x, axis=None, dtype=None, keepdims=False):
    d[x] = sg.unreduce(d[y] * y, x, axis, keepdims) / x


@tangent(np.prod)
def _(y, x, axis=None, dtype=None, keepdims=False):
    d[y] = np.sum(d[x] * sg.unreduce(y, x, axis, keepdims) / x, axis=axis, keepdims=keepdims)


@adjoint(np.max)                        # y is the max (or min) of x; tied extrema share d[y]
@adjoint(np.amax)
@adjoint(np.min)
@adjoint(np.amin)
def _(y, x, axis=None, keepdims=False):
    d[x] = (sg.unreduce(d[y], x, axis, keepdims) * (x == sg.unreduce(y, x, axis, keepdims))
            / np.sum(x == sg.unreduce(y, x, axis, keepdims), axis=axis, keepdims=True))


@tangent(np.max)
@tangent(np.amax)
@tangent(np.min)
@tangent(np.amin)
def _(y, x, axis=None, keepdims=False):
    d[y] = (np.sum(d[x] * (x == sg.unreduce(y, x, axis, keepdims)), axis=axis, keepdims=keepdims)
            / np.sum(x == sg.unreduce(y, x, axis, keepdims), axis=axis, keepdims=keepdims))


@adjoint(np.var)                        # N = size(x) / size(y) values per result; conj, Re: complex x
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[x] = (sg.unreduce(np.real(d[y]), x, axis, keepdims) * 2.0 * np.conj(x - np.mean(x, axis=axis, keepdims=True))
            / (np.size(x) / np.size(y) - ddof))


@tangent(np.var)
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[y] = (np.sum(np.real(d[x] * 2.0 * np.conj(x - np.mean(x, axis=axis, keepdims=True))), axis=axis,
                   keepdims=keepdims)
            / (np.size(x) / np.size(y) - ddof))


@adjoint(np.std)
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[x] = (sg.unreduce(np.real(d[y]) / y, x, axis, keepdims) * np.conj(x - np.mean(x, axis=axis, keepdims=True))
            / (np.size(x) / np.size(y) - ddof))


@tangent(np.std)
def _(y, x, axis=None, dtype=None, ddof=0, keepdims=False):
    d[y] = (np.sum(np.real(d[x] * np.conj(x - np.mean(x, axis=axis, keepdims=True))), axis=axis,
                   keepdims=keepdims)
            / ((np.size(x) / np.size(y) - ddof) * y))


@adjoint(np.ptp)                        # max - min; ties share the cotangent
def _(y, x, axis=None, keepdims=False):
    d[x] = sg.unreduce(d[y], x, axis, keepdims) * (sg.ties(x, np.max(x, axis=axis, keepdims=True), axis)
                                                   - sg.ties(x, np.min(x, axis=axis, keepdims=True), axis))


@tangent(np.ptp)
def _(y, x, axis=None, keepdims=False):
    d[y] = np.sum(d[x] * (sg.ties(x, np.max(x, axis=axis, keepdims=True), axis)
                          - sg.ties(x, np.min(x, axis=axis, keepdims=True), axis)), axis=axis, keepdims=keepdims)


@adjoint(np.cumprod)                    # needs x without zeros, like prod
def _(y, x, axis=None, dtype=None):
    d[x] = np.reshape(np.flip(np.cumsum(np.flip(d[y] * y, axis), axis), axis), np.shape(x)) / x


@tangent(np.cumprod)
def _(y, x, axis=None, dtype=None):
    d[y] = y * np.cumsum(d[x] / x, axis=axis)


@adjoint(np.nanmean)                    # NaNs are left out of the mean and get no cotangent
def _(y, x, axis=None, dtype=None, keepdims=False):
    d[x] = np.where(np.isnan(x), 0.0, sg.unreduce(d[y], x, axis, keepdims)
                    / np.sum(~np.isnan(x), axis=axis, keepdims=True))


@tangent(np.nanmean)
def _(y, x, axis=None, dtype=None, keepdims=False):
    d[y] = np.nanmean(np.where(np.isnan(x), np.nan, d[x]), axis=axis, keepdims=keepdims)


@adjoint(np.nanmax)                     # y is the max (or min) of the non-NaN values
@adjoint(np.nanmin)
def _(y, x, axis=None, keepdims=False):
    d[x] = sg.unreduce(d[y], x, axis, keepdims) * sg.ties(x, sg.unreduce(y, x, axis, keepdims), axis)


@tangent(np.nanmax)
@tangent(np.nanmin)
def _(y, x, axis=None, keepdims=False):
    d[y] = np.sum(d[x] * sg.ties(x, sg.unreduce(y, x, axis, keepdims), axis), axis=axis, keepdims=keepdims)


@adjoint(np.average)                    # weights: None, x's shape, or 1-D along an int axis
def _(y, x, axis=None, weights=None, keepdims=False):
    d[x] = sg.unreduce(d[y], x, axis, keepdims) * sg.average_weights(x, weights, axis)
    d[weights] = sg.average_adjoint(d[y], x, weights, y, axis, keepdims)


@tangent(np.average)
def _(y, x, axis=None, weights=None, keepdims=False):
    d[y] = (np.sum(d[x] * sg.average_weights(x, weights, axis), axis=axis, keepdims=keepdims)
            + sg.average_tangent(d[weights], x, weights, y, axis, keepdims))


@adjoint(np.sort)                       # a permutation: the cotangent goes back through it
def _(y, x, axis=-1):
    d[x] = sg.unsort(d[y], x, axis)


@tangent(np.sort)
def _(y, x, axis=-1):
    d[y] = np.take_along_axis(d[x], np.argsort(x, axis=axis), axis)


@adjoint(np.median)                     # the middle value, or the mean of the middle two
def _(y, x, axis=None, keepdims=False):
    d[x] = sg.unreduce(d[y], x, axis, keepdims) * sg.median_weights(x, axis)


@tangent(np.median)
def _(y, x, axis=None, keepdims=False):
    d[y] = np.sum(d[x] * sg.median_weights(x, axis), axis=axis, keepdims=keepdims)


# fmt: on

# --- array methods and attributes, as the normaliser rewrites them: x.sum(...) -> np.sum(x, ...) ---
METHODS.update(
    {
        "sum": (np.sum, False),
        "mean": (np.mean, False),
        "prod": (np.prod, False),
        "max": (np.max, False),
        "min": (np.min, False),
        "var": (np.var, False),
        "std": (np.std, False),
        "reshape": (np.reshape, True),
        "transpose": (np.transpose, True),
        "ravel": (np.ravel, False),
        "flatten": (np.ravel, False),
        "squeeze": (np.squeeze, False),
        "swapaxes": (np.swapaxes, False),
        "dot": (np.dot, False),
        "clip": (np.clip, False),
        "copy": (np.copy, False),
        "cumsum": (np.cumsum, False),
        "cumprod": (np.cumprod, False),
        "trace": (np.trace, False),
        "diagonal": (np.diagonal, False),
        "repeat": (np.repeat, False),
        "take": (np.take, False),
        "conj": (np.conjugate, False),
        "conjugate": (np.conjugate, False),
        "argmax": (np.argmax, False),
        "argmin": (np.argmin, False),
        "argsort": (np.argsort, False),
        "any": (np.any, False),
        "all": (np.all, False),
        "round": (np.round, False),
        "nonzero": (np.nonzero, False),
        "astype": (sg.astype, False),
        "item": (sg.item, True),
    }
)
ATTRIBUTES.update(
    {"T": np.transpose, "shape": np.shape, "ndim": np.ndim, "size": np.size, "dtype": dtype,
     "flat": np.ravel}  # `x.flat[i]` reads `np.ravel(x)[i]`; a write through `.flat` is refused
)
ARRAY_ONLY_ATTRIBUTES.update({"real": np.real, "imag": np.imag})
REDUCTIONS.update(
    {np.sum, np.mean, np.prod, np.max, np.amax, np.min, np.amin, np.var, np.std, np.nansum, np.nanmean,
     np.median, np.average, np.linalg.norm}
)


# |x|: conj(x)/|x| (sign(x) for real x, 0 at 0), and the real part in forward mode: complex
# arguments follow autograd's convention (docs/dtypes.md). Plain primitives, so it differentiates again.
@adjoint(np.absolute)
def _(y, x):
    d[x] = np.real(d[y]) * np.conj(x) / np.where(y == 0, 1.0, y)


@tangent(np.absolute)
def _(y, x):
    d[y] = np.real(np.conj(x) * d[x]) / np.where(y == 0, 1.0, y)


# arg(z) = atan2(Im z, Re z): d arg = Im(conj(z) dz) / |z|^2, so the cotangent is -1j conj(z) / |z|^2
# (autograd's `conj(1j z) / |z|^2`); 0 at 0, and 0 for real z (its imaginary part is dropped).
@adjoint(np.angle)                      # atan2(Im z, Re z): -1j conj(z) / abs(z)**2; 0 for real z
def _(y, z, deg=False):
    d[z] = (np.real(d[y]) * (180.0 / np.pi if deg else 1.0) * -1j * np.conj(z)
            / np.where(z == 0, 1.0, np.abs(z) ** 2))


@tangent(np.angle)
def _(y, z, deg=False):
    d[y] = np.imag(np.conj(z) * d[z]) * (180.0 / np.pi if deg else 1.0) / np.where(z == 0, 1.0, np.abs(z) ** 2)
