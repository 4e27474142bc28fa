"""Derivative rules of NumPy functions, and how array methods and attributes map onto them.

Templates name the first array argument `x` (NumPy calls it `a`) and keep NumPy's names for the
parameters users pass by keyword (`axis`, `keepdims`, `axes`, `ddof`).
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import (
    ATTRIBUTES,
    METHODS,
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
    np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.zeros, np.ones, np.empty, np.full,
    np.arange, np.linspace, np.eye, np.identity,
    np.random.rand, np.random.randn, np.random.normal, np.random.uniform, np.random.randint,
    np.random.seed, np.random.default_rng,
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
elementwise(np.absolute,   lambda x, y: np.sign(x))

# --- linear: forward applies the function to the tangent, reverse applies the transpose ---
linear(np.negative,    lambda g, x: -g)
linear(np.positive,    lambda g, x: g)
linear(np.copy,        lambda g, x: g)
linear(np.reshape,     lambda g, x, shape: np.reshape(g, np.shape(x)))
linear(np.ravel,       lambda g, x: np.reshape(g, np.shape(x)))
linear(np.squeeze,     lambda g, x, axis=None: np.reshape(g, np.shape(x)))
linear(np.expand_dims, lambda g, x, axis: np.reshape(g, np.shape(x)))
linear(np.transpose,   lambda g, x, axes=None: np.transpose(g, None if axes is None
                                                                  else np.argsort(np.mod(axes, np.ndim(x)))))
linear(np.swapaxes,    lambda g, x, axis1, axis2: np.swapaxes(g, axis1, axis2))
linear(np.moveaxis,    lambda g, x, source, destination: np.moveaxis(g, destination, source))
linear(np.broadcast_to, lambda g, x, shape: sg.unbroadcast(g, x))
linear(np.sum,         lambda g, x, axis=None, keepdims=False: sg.unreduce(g, x, axis, keepdims))
linear(np.mean,        lambda g, x, axis=None, keepdims=False: sg.unreduce(g, x, axis, keepdims)
                                                               * (np.size(g) / np.size(x)))
linear(np.stack,       lambda g, xs, axis=0: tuple(np.moveaxis(g, axis, 0)))
linear(np.concatenate, lambda g, xs, axis=0: tuple(np.split(
    g, np.cumsum([np.shape(xi)[axis] for xi in xs[:-1]]), axis)))


# --- binary elementwise; operands broadcast, so cotangents are unbroadcast ---
# (add, subtract, multiply, true_divide, power, matmul share the operators' templates: rules/operators.py)
@adjoint(np.maximum)                    # ties go to x: a valid subgradient
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * (x >= y), x)
    d[y] = sg.unbroadcast(d[z] * (x < y), y)


@tangent(np.maximum)
def _(z, x, y):
    d[z] = np.where(x >= y, d[x], d[y])


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


@adjoint(np.dot)                        # 1-D and 2-D operands (where dot is matmul)
def _(z, a, b):
    d[a] = sg.matmul_adjoint_a(d[z], a, b)
    d[b] = sg.matmul_adjoint_b(d[z], a, b)


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
def _(y, x, axis=None, keepdims=False):
    d[x] = sg.unreduce(d[y] * y, x, axis, keepdims) / x


@tangent(np.prod)
def _(y, x, axis=None, keepdims=False):
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


@adjoint(np.var)                        # N = size(x) / size(y) values per result
def _(y, x, axis=None, ddof=0, keepdims=False):
    d[x] = (sg.unreduce(d[y], x, axis, keepdims) * 2.0 * (x - np.mean(x, axis=axis, keepdims=True))
            / (np.size(x) / np.size(y) - ddof))


@tangent(np.var)
def _(y, x, axis=None, ddof=0, keepdims=False):
    d[y] = (np.sum(d[x] * 2.0 * (x - np.mean(x, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)
            / (np.size(x) / np.size(y) - ddof))


@adjoint(np.std)
def _(y, x, axis=None, ddof=0, keepdims=False):
    d[x] = (sg.unreduce(d[y] / y, x, axis, keepdims) * (x - np.mean(x, axis=axis, keepdims=True))
            / (np.size(x) / np.size(y) - ddof))


@tangent(np.std)
def _(y, x, axis=None, ddof=0, keepdims=False):
    d[y] = (np.sum(d[x] * (x - np.mean(x, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)
            / ((np.size(x) / np.size(y) - ddof) * y))


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
        "argmax": (np.argmax, False),
        "argmin": (np.argmin, False),
        "argsort": (np.argsort, False),
        "any": (np.any, False),
        "all": (np.all, False),
        "round": (np.round, False),
        "nonzero": (np.nonzero, False),
    }
)
ATTRIBUTES.update(
    {"T": np.transpose, "shape": np.shape, "ndim": np.ndim, "size": np.size, "dtype": dtype}
)
