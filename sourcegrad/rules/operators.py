"""Derivative rules of Python's operators (the `operator` module) and of a few builtins.

The normaliser turns `x * y` into a call of `operator.mul`, so these rules serve the operator
syntax. Binary templates are `(z, x, y)`, unary ones `(y, x)`, subscripts `(y, x, idx)`.
"""

import operator

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, linear, nondifferentiable, tangent

# fmt: off

# --- comparisons, logic, integer and bit operations ---
nondifferentiable(operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
                  operator.not_, operator.truth, operator.is_, operator.is_not, operator.contains,
                  operator.floordiv, operator.and_, operator.or_, operator.xor, operator.invert,
                  operator.lshift, operator.rshift, operator.index)
nondifferentiable(len, range, int, bool, round, isinstance, print, type, enumerate)

# --- unary ---
linear(float,             lambda g, x: g)


@adjoint(operator.neg)
def _(y, x):
    d[x] = -d[y]


@tangent(operator.neg)
def _(y, x):
    d[y] = -d[x]


@adjoint(operator.pos)
def _(y, x):
    d[x] = d[y]


@tangent(operator.pos)
def _(y, x):
    d[y] = d[x]


# --- binary arithmetic ---
# Operators and their NumPy ufuncs share one template each (a @ b and np.matmul, x + y and np.add).
@adjoint(operator.add, np.add)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z], x)
    d[y] = sg.unbroadcast(d[z], y)


@tangent(operator.add, np.add)
def _(z, x, y):
    d[z] = d[x] + d[y]


@adjoint(operator.sub, np.subtract)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z], x)
    d[y] = sg.unbroadcast(-d[z], y)


@tangent(operator.sub, np.subtract)
def _(z, x, y):
    d[z] = d[x] - d[y]


@adjoint(operator.mul, np.multiply)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * y, x)
    d[y] = sg.unbroadcast(d[z] * x, y)


@tangent(operator.mul, np.multiply)
def _(z, x, y):
    d[z] = d[x] * y + x * d[y]


@adjoint(operator.truediv, np.true_divide)
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] / y, x)
    d[y] = sg.unbroadcast(-d[z] * z / y, y)


@tangent(operator.truediv, np.true_divide)
def _(z, x, y):
    d[z] = (d[x] - z * d[y]) / y


@adjoint(operator.pow, np.power, np.float_power)                  # d[y] needs x > 0; the transform skips it for constant y
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z] * sg.power_slope(x, y), x)   # y x^(y-1), 0 for y = 0 (x = 0 too)
    d[y] = sg.unbroadcast(d[z] * sg.power_log(z, x), y)     # z log x, 0 at x = 0


@tangent(operator.pow, np.power, np.float_power)
def _(z, x, y):
    d[z] = d[x] * sg.power_slope(x, y) + sg.scaled(d[y], sg.power_log(z, x))


@adjoint(operator.mod, np.remainder)                  # z = x - floor(x / y) * y
def _(z, x, y):
    d[x] = sg.unbroadcast(d[z], x)
    d[y] = sg.unbroadcast(-d[z] * np.floor(x / y), y)


@tangent(operator.mod, np.remainder)
def _(z, x, y):
    d[z] = d[x] - d[y] * np.floor(x / y)


@adjoint(operator.matmul, np.matmul)
def _(z, x, y):
    d[x] = sg.matmul_adjoint_a(d[z], x, y)
    d[y] = sg.matmul_adjoint_b(d[z], x, y)


@tangent(operator.matmul, np.matmul)
def _(z, x, y):
    d[z] = d[x] @ y + x @ d[y]


# --- subscripts ---
@adjoint(operator.getitem)
def _(y, x, idx):
    d[x] = sg.unindex(d[y], x, idx)


@tangent(operator.getitem)
def _(y, x, idx):
    d[y] = d[x][idx]


# --- attributes of objects: `obj.W` of a runtime object is getattr(obj, "W") (runtime/trees.py) ---
@adjoint(getattr)
def _(y, x, name):
    d[x] = sg.unattribute(d[y], x, name)


@tangent(getattr)
def _(y, x, name):
    d[y] = sg.attribute_tangent(d[x], x, name)


# `x.T`, `x.shape`... of a value not surely an array: NumPy's, or an object's own (runtime/attributes.py)
@adjoint(sg.array_attribute)
def _(y, x, name):
    d[x] = sg.unarray_attribute(d[y], x, name)


@tangent(sg.array_attribute)
def _(y, x, name):
    d[y] = sg.array_attribute_tangent(d[x], x, name)


# --- sequences: comprehensions build their lists with concat (normal/comprehensions.py) ---
@adjoint(operator.concat)
def _(z, x, y):
    d[x] = sg.unconcat(d[z], x, 0)
    d[y] = sg.unconcat(d[z], x, 1)


@tangent(operator.concat)                # a constant operand's zero tangent: zeros of its structure
def _(z, x, y):
    d[z] = sg.concat_tangent(d[x], d[y], x, y)


# `[w] * 3`, `2 * (a, b)`: the normaliser calls sg.repeat_sequence(sequence, count) (normal/anf.py)
@adjoint(sg.repeat_sequence)
def _(z, xs, n):
    d[xs] = sg.unrepeat_sequence(d[z], xs, n)
    d[n] = sg.unrepeat_sequence_count(d[z], xs, n)


@tangent(sg.repeat_sequence)
def _(z, xs, n):
    d[z] = sg.repeat_sequence_tangent(d[xs], d[n], xs, n)

# fmt: on


# --- copies of sequences: `list(xs)`, `tuple(xs)` (of a tuple, a list or an array's rows) ---
@adjoint(list, tuple)
def _(y, x):
    d[x] = sg.unsequence(d[y], x)


@tangent(list, tuple)
def _(y, x):
    d[y] = sg.sequence_tangent(d[x], x, y)


# abs(x) as np.abs (rules/numpy.py): complex arguments too.
for _abs in (operator.abs, abs):
    @adjoint(_abs)
    def _(y, x):
        d[x] = np.real(d[y]) * np.conj(x) / np.where(y == 0, 1.0, y)

    @tangent(_abs)
    def _(y, x):
        d[y] = np.real(np.conj(x) * d[x]) / np.where(y == 0, 1.0, y)

