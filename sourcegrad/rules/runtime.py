"""Rules for the runtime helpers, so generated code can be differentiated again.

Forward-over-reverse (Hessian-vector products) runs the forward transform over a generated
gradient: its helpers need rules like any primitive. ``sg.push``/``sg.pop`` are handled by the
transforms themselves (a tape's tangent is a tape of tangents beside it). An operand that only gives a
shape has ``d[x] = 0.0``: its derivative is zero, and the transform writes nothing for it.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, nondifferentiable, tangent

nondifferentiable(sg.Tape, sg.zeros_like, sg.push, sg.pop, sg.permutation_of, sg.rollaxis_destination)
nondifferentiable(sg.keys, sg.has_key)  # a dict's keys, `key in d` (runtime/dicts.py)
nondifferentiable(sg.max_index, sg.min_index, sg.sort_order)  # which item max/min/sorted pick (runtime/choices.py)
# --- sorted's permutation (runtime/choices.py): linear in the items, each the other's transpose --
@adjoint(sg.permuted)
def _(y, items, order):
    d[items] = sg.unpermuted(d[y], items, order)


@tangent(sg.permuted)
def _(y, items, order):
    d[y] = sg.permuted_tangent(d[items], items, order)


@adjoint(sg.unpermuted)
def _(y, g, items, order):
    d[g] = sg.permuted_tangent(d[y], items, order)
    d[items] = 0.0


@tangent(sg.unpermuted)
def _(y, g, items, order):
    d[y] = sg.unpermuted(d[g], items, order)


@adjoint(sg.permuted_tangent)
def _(y, dxs, items, order):
    d[dxs] = sg.unpermuted(d[y], items, order)
    d[items] = 0.0


@tangent(sg.permuted_tangent)
def _(y, dxs, items, order):
    d[y] = sg.permuted_tangent(d[dxs], items, order)


nondifferentiable(sg.own_method)  # whether `m.sum()` is the object's own method (runtime/attributes.py)


# --- copies with a field replaced (runtime/trees.py): `p._replace(x=v)`, `dataclasses.replace(obj, x=v)`;
# the object's cotangent is the result's with zero at the field, the value's the result's field.
# The helpers are linear: unreplace_field is its own transpose, field_cotangent and with_field
# each the other's. ---------------------------------------------------------------------------
@adjoint(sg.replace_field)
def _(y, obj, name, value):
    d[obj] = sg.unreplace_field(d[y], obj, name)
    d[value] = sg.field_cotangent(d[y], y, name)


@tangent(sg.replace_field)
def _(y, obj, name, value):
    d[y] = sg.replace_field_tangent(d[obj], d[value], obj, name, value)


@adjoint(sg.replace_field_tangent)
def _(y, dobj, dvalue, obj, name, value):
    d[dobj] = sg.unreplace_field(d[y], obj, name)
    d[dvalue] = sg.field_cotangent(d[y], y, name)
    d[obj] = 0.0
    d[value] = 0.0


@tangent(sg.replace_field_tangent)
def _(y, dobj, dvalue, obj, name, value):
    d[y] = sg.replace_field_tangent(d[dobj], d[dvalue], obj, name, value)


@adjoint(sg.unreplace_field)
def _(y, g, obj, name):
    d[g] = sg.unreplace_field(d[y], obj, name)
    d[obj] = 0.0


@tangent(sg.unreplace_field)
def _(y, g, obj, name):
    d[y] = sg.unreplace_field(d[g], obj, name)


@adjoint(sg.field_cotangent)
def _(y, g, obj, name):
    d[g] = sg.with_field(d[y], obj, name)
    d[obj] = 0.0


@tangent(sg.field_cotangent)
def _(y, g, obj, name):
    d[y] = sg.field_cotangent(d[g], obj, name)


@adjoint(sg.with_field)
def _(y, h, obj, name):
    d[h] = sg.field_cotangent(d[y], obj, name)
    d[obj] = 0.0


@tangent(sg.with_field)
def _(y, h, obj, name):
    d[y] = sg.with_field(d[h], obj, name)


# --- attributes of values not surely arrays (runtime/attributes.py): linear in g and dx, each
# the other's transpose; x gives the structure (a property's getter taken as fixed) ------------
@adjoint(sg.unarray_attribute)
def _(y, g, x, name):
    d[g] = sg.array_attribute_tangent(d[y], x, name)
    d[x] = 0.0


@adjoint(sg.array_attribute_tangent)
def _(y, dx, x, name):
    d[dx] = sg.unarray_attribute(d[y], x, name)
    d[x] = 0.0


@tangent(sg.unarray_attribute)
def _(y, g, x, name):
    d[y] = sg.unarray_attribute(d[g], x, name)


@tangent(sg.array_attribute_tangent)
def _(y, dx, x, name):
    d[y] = sg.array_attribute_tangent(d[dx], x, name)


# --- repetition of sequences (runtime/sequences.py): linear in the cotangent ---------------------
@adjoint(sg.unrepeat_sequence)          # a repetition: chunks summed, whose transpose repeats
def _(y, g, xs, n):
    d[g] = sg.repeat_sequence(d[y], n)
    d[xs] = 0.0
    d[n] = sg.unrepeat_sequence_count(g, d[y], n)


@adjoint(sg.unrepeat_sequence_count)    # zero for a repetition; a product's otherwise
def _(y, g, xs, n):
    d[g] = sg.count_transpose(d[y], g, xs, n)
    d[xs] = sg.count_transpose_xs(d[y], g, xs, n)
    d[n] = 0.0


@tangent(sg.unrepeat_sequence)
def _(y, g, xs, n):
    d[y] = sg.unrepeat_sequence_tangent(d[g], d[n], g, xs, n)


@tangent(sg.unrepeat_sequence_count)
def _(y, g, xs, n):
    d[y] = sg.unrepeat_sequence_count_tangent(d[g], d[xs], g, xs, n)


# --- linear in the cotangent; the other operand gives the shape -------------------------------------
@adjoint(sg.unbroadcast)
def _(y, g, x):
    d[g] = sg.rebroadcast(d[y], g)
    d[x] = 0.0


@tangent(sg.unbroadcast)
def _(y, g, x):
    d[y] = sg.unbroadcast(d[g], x)


@adjoint(sg.unbroadcast_to)
def _(y, g, shape):
    d[g] = sg.rebroadcast(d[y], g)
    d[shape] = 0.0


@tangent(sg.unbroadcast_to)
def _(y, g, shape):
    d[y] = sg.unbroadcast_to(d[g], shape)


@adjoint(sg.rebroadcast)               # its own transpose: h's shape back from g's
def _(y, h, g):
    d[h] = sg.rebroadcast(d[y], h)
    d[g] = 0.0


@tangent(sg.rebroadcast)
def _(y, h, g):
    d[y] = sg.rebroadcast(d[h], g)


@adjoint(sg.unreduce)
def _(y, g, x, axis=None, keepdims=False):
    d[g] = np.reshape(np.sum(d[y], axis=axis, keepdims=keepdims), np.shape(g))
    d[x] = 0.0


@tangent(sg.unreduce)
def _(y, g, x, axis=None, keepdims=False):
    d[y] = sg.unreduce(d[g], x, axis, keepdims)


@adjoint(sg.unindex)
def _(y, g, x, idx):
    d[g] = d[y][idx]
    d[x] = 0.0


@tangent(sg.unindex)
def _(y, g, x, idx):
    d[y] = sg.unindex(d[g], x, idx)


@adjoint(sg.seed_like)
def _(y, seed, value):
    d[seed] = sg.unseed(d[y], seed)
    d[value] = 0.0


@tangent(sg.seed_like)
def _(y, seed, value):
    d[y] = sg.seed_like(d[seed], value)


@adjoint(sg.unseed)
def _(y, g, seed):
    d[g] = sg.seed_like(d[y], g)
    d[seed] = 0.0


@tangent(sg.unseed)
def _(y, g, seed):
    d[y] = sg.unseed(d[g], seed)


@adjoint(sg.whole)  # the identity on values: 0.0 already stood for zeros of x's structure
def _(y, g, x):
    d[g] = d[y]
    d[x] = 0.0


@tangent(sg.whole)
def _(y, g, x):
    d[y] = sg.whole(d[g], y)


@adjoint(sg.add)
def _(z, a, b):
    d[a] = d[z]
    d[b] = d[z]


@tangent(sg.add)
def _(z, a, b):
    d[z] = sg.add(d[a], d[b])


# --- bilinear: the cotangent and the other operand ----------------------------------------------------
@adjoint(sg.matmul_adjoint_a)  # y = g @ b.T in every matmul case; a gives only the shape
def _(y, g, a, b):
    d[g] = d[y] @ b
    d[a] = 0.0
    d[b] = sg.matmul_adjoint_b(g, d[y], b)


@tangent(sg.matmul_adjoint_a)
def _(y, g, a, b):
    d[y] = sg.matmul_adjoint_a(d[g], a, b) + sg.matmul_adjoint_a(g, a, d[b])


@adjoint(sg.matmul_adjoint_b)  # y = a.T @ g; b gives only the shape
def _(y, g, a, b):
    d[g] = a @ d[y]
    d[a] = sg.matmul_adjoint_a(g, a, d[y])
    d[b] = 0.0


@tangent(sg.matmul_adjoint_b)
def _(y, g, a, b):
    d[y] = sg.matmul_adjoint_b(d[g], a, b) + sg.matmul_adjoint_b(g, d[a], b)


@adjoint(sg.dot_adjoint_a)      # y is the transpose of a -> np.dot(a, b) applied to g; a gives only the shape
def _(y, g, a, b):
    d[g] = np.dot(d[y], b)
    d[a] = 0.0
    d[b] = sg.dot_adjoint_b(g, d[y], b)


@tangent(sg.dot_adjoint_a)
def _(y, g, a, b):
    d[y] = sg.dot_adjoint_a(d[g], a, b) + sg.dot_adjoint_a(g, a, d[b])


@adjoint(sg.dot_adjoint_b)      # y is the transpose of b -> np.dot(a, b) applied to g; b gives only the shape
def _(y, g, a, b):
    d[g] = np.dot(a, d[y])
    d[a] = sg.dot_adjoint_a(g, a, d[y])
    d[b] = 0.0


@tangent(sg.dot_adjoint_b)
def _(y, g, a, b):
    d[y] = sg.dot_adjoint_b(d[g], a, b) + sg.dot_adjoint_b(g, d[a], b)


# --- transposes of NumPy functions (runtime/arrays.py, stats.py, shapes.py): linear in the cotangent ---
@adjoint(sg.uncumsum)
def _(y, g, x, axis=None, include_initial=False):
    d[g] = sg.running_sum(d[y], axis, include_initial)
    d[x] = 0.0


@tangent(sg.uncumsum)
def _(y, g, x, axis=None, include_initial=False):
    d[y] = sg.uncumsum(d[g], x, axis, include_initial)


@adjoint(sg.running_sum)
def _(y, h, axis=None, include_initial=False):
    d[h] = sg.uncumsum(d[y], h, axis, include_initial)


@tangent(sg.running_sum)
def _(y, h, axis=None, include_initial=False):
    d[y] = sg.running_sum(d[h], axis, include_initial)


@adjoint(sg.cast_derivative)
def _(y, g, to, through):
    d[g] = sg.cast_derivative(d[y], g, through)
    d[to] = 0.0
    d[through] = 0.0


@tangent(sg.cast_derivative)
def _(y, g, to, through):
    d[y] = sg.cast_derivative(d[g], to, through)


@adjoint(sg.undelete)
def _(y, g, x, obj, axis=None):
    d[g] = np.delete(d[y], obj, axis)
    d[x] = 0.0


@tangent(sg.undelete)
def _(y, g, x, obj, axis=None):
    d[y] = sg.undelete(d[g], x, obj, axis)


@adjoint(sg.unresize)
def _(y, g, x):
    d[g] = np.resize(d[y], np.shape(g))
    d[x] = 0.0


@tangent(sg.unresize)
def _(y, g, x):
    d[y] = sg.unresize(d[g], x)


@adjoint(sg.unchoose)
def _(y, g, a, choices, mode="raise"):
    d[g] = np.choose(a, d[y], mode=mode)
    d[choices] = 0.0


@tangent(sg.unchoose)
def _(y, g, a, choices, mode="raise"):
    d[y] = sg.unchoose(d[g], a, choices, mode)


@adjoint(sg.unappend)                   # x and values give shapes only
def _(y, g, x, values, axis=None, i=0):
    d[g] = sg.reappend(d[y], x, values, axis, i)
    d[x] = 0.0
    d[values] = 0.0


@tangent(sg.unappend)
def _(y, g, x, values, axis=None, i=0):
    d[y] = sg.unappend(d[g], x, values, axis, i)


@adjoint(sg.reappend)
def _(y, h, x, values, axis=None, i=0):
    d[h] = sg.unappend(d[y], x, values, axis, i)
    d[x] = 0.0
    d[values] = 0.0


@tangent(sg.reappend)
def _(y, h, x, values, axis=None, i=0):
    d[y] = sg.reappend(d[h], x, values, axis, i)


@adjoint(sg.append_tangent)
def _(y, dx, dvalues, x, values, axis=None):
    d[dx] = sg.unappend(d[y], x, values, axis, 0)
    d[dvalues] = sg.unappend(d[y], x, values, axis, 1)
    d[x] = 0.0
    d[values] = 0.0


@tangent(sg.append_tangent)
def _(y, dx, dvalues, x, values, axis=None):
    d[y] = sg.append_tangent(d[dx], d[dvalues], x, values, axis)


@adjoint(sg.uninsert)                   # x, obj and values give shapes and places only
def _(y, g, x, obj, values, axis=None, i=0):
    d[g] = sg.reinsert(d[y], x, obj, values, axis, i)
    d[x] = 0.0
    d[values] = 0.0


@tangent(sg.uninsert)
def _(y, g, x, obj, values, axis=None, i=0):
    d[y] = sg.uninsert(d[g], x, obj, values, axis, i)


@adjoint(sg.reinsert)
def _(y, h, x, obj, values, axis=None, i=0):
    d[h] = sg.uninsert(d[y], x, obj, values, axis, i)
    d[x] = 0.0
    d[values] = 0.0


@tangent(sg.reinsert)
def _(y, h, x, obj, values, axis=None, i=0):
    d[y] = sg.reinsert(d[h], x, obj, values, axis, i)


@adjoint(sg.insert_tangent)
def _(y, dx, dvalues, x, obj, values, axis=None):
    d[dx] = sg.uninsert(d[y], x, obj, values, axis, 0)
    d[dvalues] = sg.uninsert(d[y], x, obj, values, axis, 1)
    d[x] = 0.0
    d[values] = 0.0


@tangent(sg.insert_tangent)
def _(y, dx, dvalues, x, obj, values, axis=None):
    d[y] = sg.insert_tangent(d[dx], d[dvalues], x, obj, values, axis)


# --- dicts (runtime/dicts.py): x.copy() is the identity; what `for` iterates passes a sequence through ---
@adjoint(sg.copy)
def _(y, x):
    d[x] = d[y]


@tangent(sg.copy)
def _(y, x):
    d[y] = d[x]


@adjoint(sg.dict_copy)  # dict(d): a copy, as d.copy()
def _(y, x):
    d[x] = d[y]


@tangent(sg.dict_copy)
def _(y, x):
    d[y] = d[x]


@adjoint(sg.iterated)
def _(y, xs):
    d[xs] = sg.uniterated(d[y], xs)


@tangent(sg.iterated)
def _(y, xs):
    d[y] = sg.iterated_tangent(d[xs], xs)


@adjoint(sg.uniterated)                 # the transpose of iterated_tangent; xs gives the kind only
def _(y, g, xs):
    d[g] = sg.iterated_tangent(d[y], xs)
    d[xs] = 0.0


@tangent(sg.uniterated)
def _(y, g, xs):
    d[y] = sg.uniterated(d[g], xs)


@adjoint(sg.iterated_tangent)           # the transpose of uniterated
def _(y, t, xs):
    d[t] = sg.uniterated(d[y], xs)
    d[xs] = 0.0


@tangent(sg.iterated_tangent)
def _(y, t, xs):
    d[y] = sg.iterated_tangent(d[t], xs)


# --- array methods (runtime/attributes.py): x.astype(dtype), x.item(i) ---------------------------
@adjoint(sg.astype)                     # to an integer or bool dtype: no derivative
def _(y, x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[x] = sg.cast_derivative(d[y], x, y)


@tangent(sg.astype)
def _(y, x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[y] = sg.cast_derivative(d[x], y, y)


@adjoint(sg.item)
def _(y, x, index=None):
    d[x] = sg.unitem(d[y], x, index)


@tangent(sg.item)
def _(y, x, index=None):
    d[y] = sg.item_tangent(d[x], x, index)


@adjoint(sg.unitem)                     # linear in g; x gives the shape and the position
def _(y, g, x, index=None):
    d[g] = sg.item_tangent(d[y], x, index)
    d[x] = 0.0


@tangent(sg.unitem)
def _(y, g, x, index=None):
    d[y] = sg.unitem(d[g], x, index)


@adjoint(sg.item_tangent)               # linear in dx
def _(y, dx, x, index=None):
    d[dx] = sg.unitem(d[y], x, index)
    d[x] = 0.0


@tangent(sg.item_tangent)
def _(y, dx, x, index=None):
    d[y] = sg.item_tangent(d[dx], x, index)


# np.r_[...] and np.c_[...] (normal/desugar.py makes them sg.index_trick(np.r_, items)): linear in
# the items' arrays, each element a copy of one of theirs; unindex_trick and index_trick_tangent
# are each other's transposes
@adjoint(sg.index_trick)
def _(y, maker, items):
    d[items] = sg.unindex_trick(d[y], maker, items)


@tangent(sg.index_trick)
def _(y, maker, items):
    d[y] = sg.index_trick_tangent(d[items], maker, items)


@adjoint(sg.unindex_trick)              # y: a tuple, 0.0 for a slice or string; items give shapes only
def _(y, g, maker, items):
    d[g] = sg.index_trick_tangent(d[y], maker, items)
    d[items] = 0.0


@tangent(sg.unindex_trick)
def _(y, g, maker, items):
    d[y] = sg.unindex_trick(d[g], maker, items)


@adjoint(sg.index_trick_tangent)
def _(y, ditems, maker, items):
    d[ditems] = sg.unindex_trick(d[y], maker, items)
    d[items] = 0.0


@tangent(sg.index_trick_tangent)
def _(y, ditems, maker, items):
    d[y] = sg.index_trick_tangent(d[ditems], maker, items)
