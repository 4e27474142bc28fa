"""Derivative rules of NumPy 2's array-API names (`np.linalg.vecdot`, `np.matrix_transpose`, ...).

Registered only when NumPy has them (rules/__init__.py imports this file for NumPy >= 2; the
names of NumPy 2.2, `np.matvec` and `np.vecmat`, are guarded here). They are distinct callables
from the older spellings (`np.linalg.matmul is not np.matmul`), so each gets its own entry, most
sharing a runtime helper with the older function.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, linear, tangent

# fmt: off

# --- linear: forward applies the function to the tangent, reverse applies the transpose ---
linear(np.matrix_transpose,        lambda g, x: np.matrix_transpose(g))
linear(np.linalg.matrix_transpose, lambda g, x: np.matrix_transpose(g))
linear(np.linalg.diagonal,         lambda g, x, offset=0: sg.undiagonal(g, x, offset, -2, -1))
linear(np.linalg.trace,            lambda g, x, offset=0, dtype=None: sg.undiagonal(
    np.broadcast_to(np.expand_dims(g, -1), np.shape(np.diagonal(x, offset, -2, -1))), x, offset, -2, -1))


# --- products ---
@adjoint(np.linalg.matmul)
def _(z, a, b):
    d[a] = sg.matmul_adjoint_a(d[z], a, b)
    d[b] = sg.matmul_adjoint_b(d[z], a, b)


@tangent(np.linalg.matmul)
def _(z, a, b):
    d[z] = d[a] @ b + a @ d[b]


@adjoint(np.linalg.outer)               # 1-D operands
def _(z, a, b):
    d[a] = d[z] @ b
    d[b] = a @ d[z]


@tangent(np.linalg.outer)
def _(z, a, b):
    d[z] = np.linalg.outer(d[a], b) + np.linalg.outer(a, d[b])


@adjoint(np.linalg.tensordot)
def _(z, a, b, axes=2):
    d[a] = sg.tensordot_vjp(d[z], a, b, axes, 0)
    d[b] = sg.tensordot_vjp(d[z], a, b, axes, 1)


@tangent(np.linalg.tensordot)
def _(z, a, b, axes=2):
    d[z] = np.linalg.tensordot(d[a], b, axes=axes) + np.linalg.tensordot(a, d[b], axes=axes)


@adjoint(np.linalg.cross)               # 3-vectors along `axis`: <g, a x b> = <a, b x g>
def _(z, a, b, axis=-1):
    d[a] = sg.unbroadcast(np.linalg.cross(b, d[z], axis=axis), a)
    d[b] = sg.unbroadcast(np.linalg.cross(d[z], a, axis=axis), b)


@tangent(np.linalg.cross)
def _(z, a, b, axis=-1):
    d[z] = np.linalg.cross(d[a], b, axis=axis) + np.linalg.cross(a, d[b], axis=axis)


@adjoint(np.vecdot, np.linalg.vecdot)   # real operands: sum(a * b) along `axis`, broadcasting
def _(z, a, b, axis=-1):
    d[a] = sg.unbroadcast(np.expand_dims(d[z], axis) * b, a)
    d[b] = sg.unbroadcast(np.expand_dims(d[z], axis) * a, b)


@tangent(np.vecdot, np.linalg.vecdot)
def _(z, a, b, axis=-1):
    d[z] = np.vecdot(d[a], b, axis=axis) + np.vecdot(a, d[b], axis=axis)


# --- norms and singular values (batched over leading axes) ---
@adjoint(np.linalg.matrix_norm)         # ord 'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the last two axes
def _(y, x, keepdims=False, ord="fro"):
    d[x] = sg.unreduce(np.real(d[y]), x, (-2, -1), keepdims) * sg.norm_grad(x, y, ord, (-2, -1), keepdims)


@tangent(np.linalg.matrix_norm)
def _(y, x, keepdims=False, ord="fro"):
    d[y] = np.sum(np.real(d[x] * sg.norm_grad(x, y, ord, (-2, -1), keepdims)), axis=(-2, -1), keepdims=keepdims)


@adjoint(np.linalg.vector_norm)         # any p > 0, inf, -inf; over `axis` (None: every axis)
def _(y, x, axis=None, keepdims=False, ord=2):
    d[x] = sg.unreduce(np.real(d[y]), x, axis, keepdims) * sg.vector_norm_grad(x, y, ord, axis, keepdims)


@tangent(np.linalg.vector_norm)
def _(y, x, axis=None, keepdims=False, ord=2):
    d[y] = np.sum(np.real(d[x] * sg.vector_norm_grad(x, y, ord, axis, keepdims)), axis=axis, keepdims=keepdims)


@adjoint(np.linalg.svdvals)             # distinct singular values
def _(y, x):
    d[x] = sg.svdvals_adjoint(d[y], x)


@tangent(np.linalg.svdvals)
def _(y, x):
    d[y] = sg.svdvals_tangent(d[x], x)


# --- NumPy 2.1 and 2.2 names ---
if hasattr(np, "matvec"):
    linear(np.unstack,         lambda g, x, axis=0: np.stack(g, axis))
    linear(np.cumulative_sum,  lambda g, x, axis=None, dtype=None, include_initial=False: sg.uncumsum(
        g, x, axis, include_initial))

    @adjoint(np.cumulative_prod)        # needs x without zeros, like prod
    def _(y, x, axis=None, dtype=None, include_initial=False):
        d[x] = sg.uncumsum(d[y] * y, x, axis, include_initial) / x

    @tangent(np.cumulative_prod)
    def _(y, x, axis=None, dtype=None, include_initial=False):
        d[y] = y * np.cumulative_sum(d[x] / x, axis=axis, include_initial=include_initial)

    @adjoint(np.astype)                 # to an integer or bool dtype: no derivative
    def _(y, x, dtype, copy=True):
        d[x] = sg.cast_derivative(d[y], x, y)

    @tangent(np.astype)
    def _(y, x, dtype, copy=True):
        d[y] = sg.cast_derivative(d[x], y, y)

    @adjoint(np.matvec)                 # z[..., i] = sum_j a[..., i, j] b[..., j]
    def _(z, a, b):
        d[a] = sg.unbroadcast(np.expand_dims(d[z], -1) * np.expand_dims(b, -2), a)
        d[b] = sg.unbroadcast(np.vecmat(d[z], a), b)

    @tangent(np.matvec)
    def _(z, a, b):
        d[z] = np.matvec(d[a], b) + np.matvec(a, d[b])

    @adjoint(np.vecmat)                 # z[..., j] = sum_i a[..., i] b[..., i, j]
    def _(z, a, b):
        d[a] = sg.unbroadcast(np.matvec(b, d[z]), a)
        d[b] = sg.unbroadcast(np.expand_dims(a, -1) * np.expand_dims(d[z], -2), b)

    @tangent(np.vecmat)
    def _(z, a, b):
        d[z] = np.vecmat(d[a], b) + np.vecmat(a, d[b])

# fmt: on
