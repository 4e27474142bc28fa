"""Transposes of NumPy's shape and join functions that have no single NumPy call.

    unappend(g, x, values, axis, i), append_tangent(dx, dvalues, x, values, axis), reappend
    uninsert(g, x, obj, values, axis, i), insert_tangent(dx, dvalues, x, obj, values, axis), reinsert
    undelete(g, x, obj, axis), unresize(g, x), unchoose(g, a, choices, mode)
    unmeshgrid(g, x, i, indexing), meshgrid_tangent(tangents, y, indexing)
    broadcast_tangents(y, *tangents), rollaxis_destination(ndim, axis, start), as_columns(x)
    unblock(g, arrays), block_of(h, arrays)

Tangent helpers take a tangent of `0.0` for an operand that has none (a symbolic zero), so the
forward rule of a function of several arrays can be one call. A leaf of the package.
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.broadcast import unbroadcast


def _full(t, x):
    """A tangent in x's shape: `0.0` (no tangent) becomes zeros."""
    if type(t) in (int, float) and t == 0:
        return np.zeros(np.shape(x))
    return t


def as_columns(x):
    """`x` as `np.column_stack` reads it: a 1-D array as one column."""
    return np.reshape(x, (np.shape(x)[0], -1))


def rollaxis_destination(ndim, axis, start=0):
    """Where `np.rollaxis(x, axis, start)` puts `axis` (so `np.moveaxis` can undo it)."""
    axis, start = axis % ndim, start + ndim if start < 0 else start
    return start - 1 if axis < start else start


def unappend(g, x, values, axis=None, i=0):
    """The cotangent of `x` (i = 0) or `values` (i = 1) in `np.append(x, values, axis)`."""
    if axis is None:
        parts = np.split(np.ravel(g), [np.size(x)])
    else:
        parts = np.split(g, [np.shape(x)[axis]], axis)
    return np.reshape(parts[i], np.shape(values if i else x))


def append_tangent(dx, dvalues, x, values, axis=None):
    """The tangent of `np.append(x, values, axis)`."""
    return np.append(_full(dx, x), _full(dvalues, values), axis)


def reappend(h, x, values, axis=None, i=0):
    """The transpose of `unappend(., x, values, axis, i)`: `h` in its part of the result, zeros in
    the other."""
    return append_tangent(h, 0.0, x, values, axis) if i == 0 else append_tangent(0.0, h, x, values, axis)


def _block_shape(x, obj, values, axis):
    """How `np.insert` shapes `values` before writing them (NumPy's own steps)."""
    v = np.array(values, ndmin=1 if axis is None else np.ndim(x))
    return np.moveaxis(v, 0, axis or 0).shape if np.ndim(obj) == 0 else v.shape


def _inserted(x, obj, values, axis):
    """A mask along the (flattened, for axis None) axis of `np.insert`'s result: True where an
    inserted value lies (a scalar `obj` inserts as many as `values` has along the axis)."""
    n = np.size(x) if axis is None else np.shape(x)[axis]
    new = np.ones(_block_shape(x, obj, values, axis)[axis or 0], bool) if np.ndim(obj) == 0 else True
    return np.insert(np.zeros(n, bool), obj, new)


def uninsert(g, x, obj, values, axis=None, i=0):
    """The cotangent of `x` (i = 0) or `values` (i = 1) in `np.insert(x, obj, values, axis)`."""
    mask = _inserted(x, obj, values, axis)
    g = np.ravel(g) if axis is None else g
    ax = axis or 0
    if i == 0:
        return np.reshape(np.compress(~mask, g, ax), np.shape(x))
    block = np.compress(mask, g, ax)
    shaped = unbroadcast(block, np.empty(_block_shape(x, obj, values, axis)))
    if np.ndim(obj) == 0:
        shaped = np.moveaxis(shaped, ax, 0)
    return np.reshape(shaped, np.shape(values))


def insert_tangent(dx, dvalues, x, obj, values, axis=None):
    """The tangent of `np.insert(x, obj, values, axis)`."""
    return np.insert(_full(dx, x), obj, _full(dvalues, values), axis)


def reinsert(h, x, obj, values, axis=None, i=0):
    """The transpose of `uninsert(., x, obj, values, axis, i)`."""
    if i == 0:
        return insert_tangent(h, 0.0, x, obj, values, axis)
    return insert_tangent(0.0, h, x, obj, values, axis)


def undelete(g, x, obj, axis=None):
    """The cotangent of `np.delete(x, obj, axis)`: `g` back at the kept places, zeros elsewhere."""
    if axis is None:
        out = np.zeros(np.size(x), np.result_type(g, float))
        out[np.delete(np.arange(np.size(x)), obj)] = np.ravel(g)
        return np.reshape(out, np.shape(x))
    out = np.zeros(np.shape(x), np.result_type(g, float))
    index = [slice(None)] * np.ndim(x)
    index[axis] = np.delete(np.arange(np.shape(x)[axis]), obj)
    out[tuple(index)] = g
    return out


def unresize(g, x):
    """The cotangent of `np.resize(x, shape)`, which repeats x's flattened values cyclically."""
    n = np.size(x)
    flat = np.ravel(g)
    reps = -(-flat.size // n)
    padded = np.concatenate([flat, np.zeros(reps * n - flat.size, flat.dtype)])
    return np.reshape(np.sum(np.reshape(padded, (reps, n)), axis=0), np.shape(x))


def unchoose(g, a, choices, mode="raise"):
    """The cotangents of `choices` in `np.choose(a, choices, mode)`: each choice gets `g` where
    it was chosen (summed down to its shape); a tuple, or an array for an array of choices."""
    picked = np.choose(a, np.arange(len(choices)), mode=mode)
    parts = tuple(unbroadcast(np.where(picked == k, g, 0.0), c) for k, c in enumerate(choices))
    return np.stack(parts) if isinstance(choices, np.ndarray) else parts


def _grid_axis(i, n, indexing):
    return {0: 1, 1: 0}.get(i, i) if indexing == "xy" and n > 1 else i


def unmeshgrid(g, x, i, n, indexing="xy"):
    """The cotangent of input `i` (of `n`) of `np.meshgrid`: its grid summed over the other axes."""
    ax = _grid_axis(i, n, indexing)
    others = tuple(k for k in range(np.ndim(g)) if k != ax)
    return np.reshape(np.sum(g, axis=others), np.shape(x))


def _along_grid_axis(t, grid, i, n, indexing):
    shape = [1] * np.ndim(grid)
    shape[_grid_axis(i, n, indexing)] = -1
    return np.broadcast_to(np.reshape(t, shape), np.shape(grid))


def meshgrid_tangent(tangents, y, indexing="xy"):
    """The tangent of `y = np.meshgrid(*xs, indexing=...)` from the inputs' tangents (up to three).
    Tuple displays, not `tuple(...)` of a generator: the gradient of a forward-mode derivative
    differentiates this source."""
    n = len(y)
    first = _along_grid_axis(tangents[0], y[0], 0, n, indexing)
    if n == 1:
        return (first,)
    second = _along_grid_axis(tangents[1], y[1], 1, n, indexing)
    if n == 2:
        return (first, second)
    return (first, second, _along_grid_axis(tangents[2], y[2], 2, n, indexing))


def broadcast_tangents(y, *tangents):
    """The tangent of `y = np.broadcast_arrays(*xs)`: each tangent broadcast like its array."""
    return tuple(np.broadcast_to(t, np.shape(v)) for t, v in zip(tangents, y))


# --- np.block: nested lists of blocks; the innermost lists join along the last axis, the next
# ones along the one before, and so on; every block first gets leading axes of length one up to
# the result's rank (at least the lists' depth).


def _first_block(arrays):
    while isinstance(arrays, list):
        arrays = arrays[0]
    return arrays


def _depth(arrays) -> int:
    return 1 + _depth(arrays[0]) if isinstance(arrays, list) else 0


def _rank(arrays) -> int:
    """The rank of `np.block(arrays)`."""
    if not isinstance(arrays, list):
        return np.ndim(arrays)
    return max([_depth(arrays)] + [_rank(a) for a in arrays])


def _promoted(block, ndim) -> tuple:
    return (1,) * (ndim - np.ndim(block)) + np.shape(block)


def _cut(g, arrays, axis, ndim):
    if not isinstance(arrays, list):
        return np.reshape(g, np.shape(arrays))
    sizes = [_promoted(_first_block(a), ndim)[axis] for a in arrays]
    parts = np.split(g, np.cumsum(sizes)[:-1], axis)
    return [_cut(p, a, axis + 1, ndim) for p, a in zip(parts, arrays)]


def unblock(g, arrays):
    """The cotangent of `np.block(arrays)`: `g` cut into the blocks, nested as `arrays` are, each
    in its block's shape."""
    ndim = _rank(arrays)
    return _cut(np.asarray(g), arrays, ndim - _depth(arrays), ndim)


def _laid(h, arrays, ndim):
    if not isinstance(arrays, list):
        return np.reshape(_full(h, arrays), _promoted(arrays, ndim))
    zero = type(h) in (int, float) and h == 0
    return [_laid(h if zero else h[i], a, ndim) for i, a in enumerate(arrays)]


def block_of(h, arrays):
    """The transpose of `unblock`: the parts `h` (nested as `arrays`, as lists or tuples; `0.0`
    for a part without one) joined as `np.block(arrays)` joins the blocks. Also the tangent of
    `np.block`."""
    return np.block(_laid(h, arrays, _rank(arrays)))


# --- np.r_[...] and np.c_[...]: `sg.index_trick(np.r_, (a, b, 1:4 as a slice))` -------------------


def index_trick(maker, items):
    """`maker[items]` for NumPy's index tricks `np.r_` and `np.c_`: the arrays and numbers of
    `items` joined (slices and strings among them make ranges and give directives)."""
    return maker[items]


def _item_ids(maker, items):
    """For each element of `maker[items]`: the flat position, counting through the array items
    in order, of the element it copies, or -1 for one a slice made. (The trick is run once on
    imaginary ids: a slice's numbers are real, so they stay apart.)"""
    marked, start = [], 1
    for item in items:
        if isinstance(item, (slice, str)):
            marked.append(item)
            continue
        n = int(np.size(item))
        marked.append(1j * np.arange(start, start + n, dtype=np.float64).reshape(np.shape(item)))
        start += n
    return np.imag(maker[tuple(marked)]).astype(np.int64) - 1


def _array_items(items):
    """(index in items, first flat position, item) of each item that is not a slice or string."""
    out, start = [], 0
    for i, item in enumerate(items):
        if not isinstance(item, (slice, str)):
            out.append((i, start, item))
            start += int(np.size(item))
    return out


def unindex_trick(g, maker, items):
    """The cotangents of `items` in `index_trick(maker, items)`: a tuple, `0.0` for a slice or
    a string."""
    ids, flat_g = np.ravel(_item_ids(maker, items)), np.ravel(g)
    out = [0.0] * len(items)
    for i, start, item in _array_items(items):
        n = int(np.size(item))
        mine = (ids >= start) & (ids < start + n)
        part = np.bincount(ids[mine] - start, weights=flat_g[mine], minlength=n)
        out[i] = float(part[0]) if np.ndim(item) == 0 else part.reshape(np.shape(item))
    return tuple(out)


def index_trick_tangent(ditems, maker, items):
    """The tangent of `index_trick(maker, items)` for tangents `ditems` of the items (the
    transpose of `unindex_trick`): each element its source's tangent, zero where a slice made it."""
    ids = _item_ids(maker, items)
    values = np.zeros(int(np.size(ids)) + 1)
    ditems = ditems if isinstance(ditems, (tuple, list)) else (ditems,) * len(items)
    for i, start, item in _array_items(items):
        values[1 + start : 1 + start + int(np.size(item))] = np.ravel(np.broadcast_to(ditems[i], np.shape(item)))
    return values[np.ravel(ids) + 1].reshape(np.shape(ids))
