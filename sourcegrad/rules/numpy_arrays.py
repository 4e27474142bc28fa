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
linear(np.diagflat,    lambda g, x, k=0: np.reshape(np.diagonal(g, k), np.shape(x)))
linear(np.rollaxis,    lambda g, x, axis, start=0: np.moveaxis(g, sg.rollaxis_destination(np.ndim(x), axis, start), axis))
linear(np.resize,      lambda g, x, new_shape: sg.unresize(g, x))
linear(np.delete,      lambda g, x, obj, axis=None: sg.undelete(g, x, obj, axis))
linear(np.asfortranarray, lambda g, x, dtype=None: sg.unarray(g, x))
linear(np.asarray_chkfinite, lambda g, x, dtype=None, order=None: sg.unarray(g, x))

# --- joins and splits ---
linear(np.hstack,      lambda g, xs: sg.unjoin(g, xs, 0 if np.ndim(xs[0]) <= 1 else 1, np.atleast_1d))
linear(np.vstack,      lambda g, xs: sg.unjoin(g, xs, 0, np.atleast_2d))
linear(np.dstack,      lambda g, xs: sg.unjoin(g, xs, 2, np.atleast_3d))
linear(np.split,       lambda g, x, indices_or_sections, axis=0: np.concatenate(g, axis))
linear(np.array_split, lambda g, x, indices_or_sections, axis=0: np.concatenate(g, axis))
linear(np.hsplit,      lambda g, x, indices_or_sections: np.concatenate(g, 1 if np.ndim(x) > 1 else 0))
linear(np.vsplit,      lambda g, x, indices_or_sections: np.concatenate(g, 0))
linear(np.dsplit,      lambda g, x, indices_or_sections: np.concatenate(g, 2))
linear(np.column_stack, lambda g, xs: sg.unjoin(g, xs, 1, sg.as_columns))


@adjoint(np.block)                      # nested lists of blocks; the cotangent is cut back into them
def _(y, arrays):
    d[arrays] = sg.unblock(d[y], arrays)


@tangent(np.block)
def _(y, arrays):
    d[y] = sg.block_of(d[arrays], arrays)


@adjoint(np.append)                     # axis None: both flattened
def _(y, x, values, axis=None):
    d[x] = sg.unappend(d[y], x, values, axis, 0)
    d[values] = sg.unappend(d[y], x, values, axis, 1)


@tangent(np.append)
def _(y, x, values, axis=None):
    d[y] = sg.append_tangent(d[x], d[values], x, values, axis)


@adjoint(np.insert)                     # values broadcast into the inserted places
def _(y, x, obj, values, axis=None):
    d[x] = sg.uninsert(d[y], x, obj, values, axis, 0)
    d[values] = sg.uninsert(d[y], x, obj, values, axis, 1)


@tangent(np.insert)
def _(y, x, obj, values, axis=None):
    d[y] = sg.insert_tangent(d[x], d[values], x, obj, values, axis)


@adjoint(np.broadcast_arrays)           # up to three arrays
def _(y, a, b=None, c=None):
    d[a] = sg.unbroadcast(d[y][0], a)
    d[b] = sg.unbroadcast(d[y][1], b)
    d[c] = sg.unbroadcast(d[y][2], c)


@tangent(np.broadcast_arrays)
def _(y, a, b=None, c=None):
    d[y] = sg.broadcast_tangents(y, d[a], d[b], d[c])


@adjoint(np.meshgrid)                   # up to three 1-D (or flattened) inputs
def _(y, x1, x2=None, x3=None, copy=True, sparse=False, indexing="xy"):
    d[x1] = sg.unmeshgrid(d[y][0], x1, 0, len(y), indexing)
    d[x2] = sg.unmeshgrid(d[y][1], x2, 1, len(y), indexing)
    d[x3] = sg.unmeshgrid(d[y][2], x3, 2, len(y), indexing)


@tangent(np.meshgrid)
def _(y, x1, x2=None, x3=None, copy=True, sparse=False, indexing="xy"):
    d[y] = sg.meshgrid_tangent((d[x1], d[x2], d[x3]), y, indexing)


# --- picking: the condition or index array carries no derivative ---
@adjoint(np.compress)
def _(y, condition, x, axis=None):
    d[x] = sg.untake(d[y], x, np.flatnonzero(condition), axis)


@tangent(np.compress)
def _(y, condition, x, axis=None):
    d[y] = np.compress(condition, d[x], axis)


@adjoint(np.extract)
def _(y, condition, x):
    d[x] = np.reshape(sg.untake(d[y], np.ravel(x), np.flatnonzero(condition)), np.shape(x))


@tangent(np.extract)
def _(y, condition, x):
    d[y] = np.extract(condition, d[x])


@adjoint(np.choose)                     # the index array a picks among the choices
def _(y, a, choices, mode="raise"):
    d[choices] = sg.unchoose(d[y], a, choices, mode)


@tangent(np.choose)
def _(y, a, choices, mode="raise"):
    d[y] = np.choose(a, d[choices], mode=mode)


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


@adjoint(np.piecewise)                  # funclist: numbers, or functions of x[cond] (whose second derivatives raise)
def _(y, x, condlist, funclist):
    d[x] = sg.piecewise_adjoint(d[y], x, condlist, funclist)
    d[funclist] = sg.piecewise_values_adjoint(d[y], x, condlist, funclist)


@tangent(np.piecewise)
def _(y, x, condlist, funclist):
    d[y] = sg.piecewise_tangent(d[x], x, condlist, funclist) + sg.piecewise_values_tangent(d[funclist], x, condlist, funclist)


# --- products ---
@adjoint(np.vdot)                       # sum(conj(a) * b), flattened; conj is a no-op for real a, b
def _(z, a, b):
    d[a] = np.reshape(np.conj(d[z] * np.ravel(b)), np.shape(a))
    d[b] = np.reshape(d[z] * np.conj(np.ravel(a)), np.shape(b))


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


@adjoint(np.einsum)                     # up to six operands; the transpose swaps subscripts
def _(z, subscripts, a, b=None, c=None, e=None, f=None, h=None, optimize=False):
    d[a] = sg.einsum_vjp(d[z], subscripts, (a, b, c, e, f, h), 0, optimize)
    d[b] = sg.einsum_vjp(d[z], subscripts, (a, b, c, e, f, h), 1, optimize)
    d[c] = sg.einsum_vjp(d[z], subscripts, (a, b, c, e, f, h), 2, optimize)
    d[e] = sg.einsum_vjp(d[z], subscripts, (a, b, c, e, f, h), 3, optimize)
    d[f] = sg.einsum_vjp(d[z], subscripts, (a, b, c, e, f, h), 4, optimize)
    d[h] = sg.einsum_vjp(d[z], subscripts, (a, b, c, e, f, h), 5, optimize)


@tangent(np.einsum)
def _(z, subscripts, a, b=None, c=None, e=None, f=None, h=None, optimize=False):
    d[z] = sg.einsum_jvp(subscripts, (a, b, c, e, f, h), (d[a], d[b], d[c], d[e], d[f], d[h]), optimize)


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
