"""Derivative rules of the `math` module (Python floats in, Python floats out)."""

import math

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, elementwise, nondifferentiable, tangent

# fmt: off

nondifferentiable(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
                  math.isclose, math.factorial, math.gcd)

# --- elementwise: the lambda is dy/dx in the argument x and the result y ---
elementwise(math.exp,   lambda x, y: y)
elementwise(math.expm1, lambda x, y: y + 1.0)
elementwise(math.log,   lambda x, y: 1.0 / x)
elementwise(math.log1p, lambda x, y: 1.0 / (1.0 + x))
elementwise(math.log2,  lambda x, y: 1.0 / (x * math.log(2.0)))
elementwise(math.log10, lambda x, y: 1.0 / (x * math.log(10.0)))
elementwise(math.sqrt,  lambda x, y: 0.5 / y)
elementwise(math.sin,   lambda x, y: math.cos(x))
elementwise(math.cos,   lambda x, y: -math.sin(x))
elementwise(math.tan,   lambda x, y: 1.0 + y * y)
elementwise(math.asin,  lambda x, y: 1.0 / math.sqrt(1.0 - x * x))
elementwise(math.acos,  lambda x, y: -1.0 / math.sqrt(1.0 - x * x))
elementwise(math.atan,  lambda x, y: 1.0 / (1.0 + x * x))
elementwise(math.sinh,  lambda x, y: math.cosh(x))
elementwise(math.cosh,  lambda x, y: math.sinh(x))
elementwise(math.tanh,  lambda x, y: 1.0 - y * y)
elementwise(math.asinh, lambda x, y: 1.0 / math.sqrt(x * x + 1.0))
elementwise(math.acosh, lambda x, y: 1.0 / math.sqrt(x * x - 1.0))
elementwise(math.atanh, lambda x, y: 1.0 / (1.0 - x * x))
elementwise(math.fabs,  lambda x, y: np.sign(x))
elementwise(math.erf,   lambda x, y: 2.0 / math.sqrt(math.pi) * math.exp(-x * x))
elementwise(math.erfc,  lambda x, y: -2.0 / math.sqrt(math.pi) * math.exp(-x * x))


# --- binary ---
@adjoint(math.pow)                      # d[y] needs x > 0; the transform skips it for constant y
def _(z, x, y):
    d[x] = d[z] * sg.power_slope(x, y)
    d[y] = d[z] * sg.power_log(z, x)


@tangent(math.pow)
def _(z, x, y):
    d[z] = d[x] * sg.power_slope(x, y) + sg.scaled(d[y], sg.power_log(z, x))


@adjoint(math.atan2)                    # z = atan2(y, x)
def _(z, y, x):
    d[y] = d[z] * x / (x * x + y * y)
    d[x] = -d[z] * y / (x * x + y * y)


@tangent(math.atan2)
def _(z, y, x):
    d[z] = (d[y] * x - d[x] * y) / (x * x + y * y)


@adjoint(math.hypot)                    # two arguments only
def _(z, x, y):
    d[x] = d[z] * x / z
    d[y] = d[z] * y / z


@tangent(math.hypot)
def _(z, x, y):
    d[z] = (d[x] * x + d[y] * y) / z

# fmt: on


@adjoint(math.copysign)                 # z = |x| sign(y); y gives only a sign
def _(z, x, y):
    d[x] = d[z] * math.copysign(1.0, x) * math.copysign(1.0, y)
    d[y] = 0.0


@tangent(math.copysign)
def _(z, x, y):
    d[z] = d[x] * math.copysign(1.0, x) * math.copysign(1.0, y)
