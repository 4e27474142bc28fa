"""Derivative rules of `scipy.special` basics, registered when SciPy is importable (SciPy is not
a dependency of sourcegrad: rules/__init__.py imports this file only if `scipy.special` imports).
"""

import numpy as np
from scipy import special

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, elementwise, nondifferentiable, tangent

# fmt: off
nondifferentiable(special.factorial, special.comb)

# --- elementwise: the lambda is dy/dx in the argument x and the result y ---
elementwise(special.erf,      lambda x, y: 2.0 / np.sqrt(np.pi) * np.exp(-x * x))
elementwise(special.erfc,     lambda x, y: -2.0 / np.sqrt(np.pi) * np.exp(-x * x))
elementwise(special.erfinv,   lambda x, y: np.sqrt(np.pi) / 2.0 * np.exp(y * y))
elementwise(special.gamma,    lambda x, y: y * special.digamma(x))
elementwise(special.gammaln,  lambda x, y: special.digamma(x))
elementwise(special.digamma,  lambda x, y: special.polygamma(1, x))
elementwise(special.expit,    lambda x, y: y * (1.0 - y))
elementwise(special.logit,    lambda x, y: 1.0 / (x * (1.0 - x)))
elementwise(special.ndtr,     lambda x, y: np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi))
elementwise(special.log_ndtr, lambda x, y: np.exp(-0.5 * x * x - y) / np.sqrt(2.0 * np.pi))


@adjoint(special.polygamma)             # the order n is an integer: no derivative
def _(y, n, x):
    d[x] = sg.unbroadcast(d[y] * special.polygamma(n + 1, x), x)


@tangent(special.polygamma)
def _(y, n, x):
    d[y] = d[x] * special.polygamma(n + 1, x)


@adjoint(special.xlogy)                 # z = x log(y), 0 where x == 0
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * np.log(y), x)
    d[y] = sg.unbroadcast(d[z] * x / y, y)


@tangent(special.xlogy)
def _(z, x, y):
    d[z] = d[x] * np.log(y) + d[y] * x / y


# --- reductions over an axis ---
@adjoint(special.logsumexp)             # weights b: None or broadcasting against a; return_sign=False
def _(y, a, axis=None, b=None, keepdims=False):
    d[a] = sg.unreduce(d[y], a, axis, keepdims) * np.exp(a - sg.unreduce(y, a, axis, keepdims)) * (
        1.0 if b is None else b)
    d[b] = sg.unbroadcast(sg.unreduce(d[y], a, axis, keepdims) * np.exp(a - sg.unreduce(y, a, axis, keepdims)), b)


@tangent(special.logsumexp)
def _(y, a, axis=None, b=None, keepdims=False):
    d[y] = (np.sum(d[a] * np.exp(a - sg.unreduce(y, a, axis, keepdims)) * (1.0 if b is None else b), axis=axis,
                   keepdims=keepdims)
            + np.sum(d[b] * np.exp(a - sg.unreduce(y, a, axis, keepdims)), axis=axis, keepdims=keepdims))


@adjoint(special.softmax)
def _(y, x, axis=None):
    d[x] = y * (d[y] - np.sum(d[y] * y, axis=axis, keepdims=True))


@tangent(special.softmax)
def _(y, x, axis=None):
    d[y] = y * (d[x] - np.sum(d[x] * y, axis=axis, keepdims=True))


@adjoint(special.log_softmax)
def _(y, x, axis=None):
    d[x] = d[y] - np.exp(y) * np.sum(d[y], axis=axis, keepdims=True)


@tangent(special.log_softmax)
def _(y, x, axis=None):
    d[y] = d[x] - np.sum(np.exp(y) * d[x], axis=axis, keepdims=True)

# fmt: on
