"""Derivative rules of NumPy's shape, join and product functions (rules/numpy.py has the rest).

Most of these are linear in their array argument: `linear(fn, transpose)` gives both modes, the
forward rule applying `fn` to the tangent. Joins take a list or tuple of arrays (`xs`), whose
cotangent is a tuple with one entry per part.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, linear, tangent

# fmt: off

# --- shapes ---
linear(np.atleast_1d,  lambda g, x: np.reshape(g, np.shape(x)))
linear(np.atleast_2d,  lambda g, x: np.reshape(g, np.shape(x)))
linear(np.atleast_3d,  lambda g, x: np.reshape(g, np.shape(x)))
linear(np.flip,        lambda g, x, axis=None: np.flip(g, axis))
linear(np.fliplr,      lambda g, x: np.fliplr(g))
linear(np.flipud,      lambda g, x: np.flipud(g))
linear(np.roll,        lambda g, x, shift, axis=None: np.roll(g, np.negative(shift), axis))
linear(np.rot90,       lambda g, x, k=1, axes=(0, 1): np.rot90(g, -k, axes))
linear(np.tile,        lambda g, x, reps: sg.untile(g, x, reps))
linear(np.repeat,      lambda g, x, repeats, axis=None: sg.unrepeat(g, x, repeats, axis))
linear(np.triu,        lambda g, x, k=0: np.triu(g, k))
linear(np.tril,        lambda g, x, k=0: np.tril(g, k))
linear(np.diag,        lambda g, x, k=0: sg.undiag(g, x, k))
linear(np.diagonal,    lambda g, x, offset=0, axis1=0, axis2=1: sg.undiagonal(g, x, offset, axis1, axis2))
linear(np.take,        lambda g, x, indices, axis=None: sg.untake(g, x, indices, axis))
linear(np.take_along_axis, lambda g, x, indices, axis: sg.untake_along_axis(g, x, indices, axis))

# --- joins and splits ---
linear(np.hstack,      lambda g, xs: sg.unjoin(g, xs, 0 if np.ndim(xs[0]) <= 1 else 1, np.atleast_1d))
linear(np.vstack,      lambda g, xs: sg.unjoin(g, xs, 0, np.atleast_2d))
linear(np.dstack,      lambda g, xs: sg.unjoin(g, xs, 2, np.atleast_3d))
linear(np.split,       lambda g, x, indices_or_sections, axis=0: np.concatenate(g, axis))
linear(np.array_split, lambda g, x, indices_or_sections, axis=0: np.concatenate(g, axis))


@adjoint(np.pad)                        # linear modes: constant (the constant is not a variable), edge, reflect, symmetric, wrap
def _(y, x, pad_width, mode="constant", constant_values=0):
    d[x] = sg.unpad(d[y], x, pad_width, mode)


@tangent(np.pad)
def _(y, x, pad_width, mode="constant", constant_values=0):
    d[y] = np.pad(d[x], pad_width, mode)


@adjoint(np.select)                     # the first true condition picks; the default elsewhere
def _(y, condlist, choicelist, default=0):
    d[choicelist] = sg.unselect(d[y], condlist, choicelist)
    d[default] = sg.unselect(d[y], condlist, default, -1)


@tangent(np.select)
def _(y, condlist, choicelist, default=0):
    d[y] = np.select(condlist, d[choicelist], d[default])


# --- products ---
@adjoint(np.vdot)                       # the flattened operands' inner product
def _(z, a, b):
    d[a] = np.reshape(d[z] * np.ravel(b), np.shape(a))
    d[b] = np.reshape(d[z] * np.ravel(a), np.shape(b))


@tangent(np.vdot)
def _(z, a, b):
    d[z] = np.vdot(d[a], b) + np.vdot(a, d[b])


@adjoint(np.inner)                      # contracts the last axes
def _(z, a, b):
    d[a] = sg.tensordot_vjp(d[z], a, b, (-1, -1), 0)
    d[b] = sg.tensordot_vjp(d[z], a, b, (-1, -1), 1)


@tangent(np.inner)
def _(z, a, b):
    d[z] = np.inner(d[a], b) + np.inner(a, d[b])


@adjoint(np.tensordot)
def _(z, a, b, axes=2):
    d[a] = sg.tensordot_vjp(d[z], a, b, axes, 0)
    d[b] = sg.tensordot_vjp(d[z], a, b, axes, 1)


@tangent(np.tensordot)
def _(z, a, b, axes=2):
    d[z] = np.tensordot(d[a], b, axes) + np.tensordot(a, d[b], axes)


@adjoint(np.einsum)                     # up to three operands; the transpose swaps subscripts
def _(z, subscripts, a, b=None, c=None, optimize=False):
    d[a] = sg.einsum_vjp(d[z], subscripts, (a, b, c), 0)
    d[b] = sg.einsum_vjp(d[z], subscripts, (a, b, c), 1)
    d[c] = sg.einsum_vjp(d[z], subscripts, (a, b, c), 2)


@tangent(np.einsum)
def _(z, subscripts, a, b=None, c=None, optimize=False):
    d[z] = sg.einsum_jvp(subscripts, (a, b, c), d[a], d[b], d[c])


@adjoint(np.cross)                      # 3-vectors along the last axis: <g, a x b> = <a, b x g>
def _(z, a, b):
    d[a] = sg.unbroadcast(np.cross(b, d[z]), a)
    d[b] = sg.unbroadcast(np.cross(d[z], a), b)


@tangent(np.cross)
def _(z, a, b):
    d[z] = np.cross(d[a], b) + np.cross(a, d[b])


@adjoint(np.kron)                       # operands of equal rank
def _(z, a, b):
    d[a] = sg.kron_vjp(d[z], a, b, 0)
    d[b] = sg.kron_vjp(d[z], a, b, 1)


@tangent(np.kron)
def _(z, a, b):
    d[z] = np.kron(d[a], b) + np.kron(a, d[b])

# fmt: on
