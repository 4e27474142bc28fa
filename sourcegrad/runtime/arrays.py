"""Adjoints of NumPy array functions that do not fit on one line of a rule table.

    unarray(g, x)                     the cotangent of `np.array(x)` for a (nested) list or tuple `x`
    ties(x, m, axis)                  where `x` attains its reduced extremum `m`, shared among ties
    average_adjoint(g, x, weights, y, axis, keepdims)  d[weights] of `np.average`
    einsum_vjp(g, subscripts, operands, i, optimize)  the cotangent of operand i of `np.einsum`
    einsum_jvp(subscripts, operands, tangents, optimize)  the tangent of `np.einsum`
    einsum_replaced(h, subscripts, operands, i, optimize)  the contraction with operand i replaced
    unconcatenate(g, xs, axis), unstack(g, axis), undiff(g, x, n, axis), unselect(g, condlist, choice, i),
    untile(g, x, reps), unrepeat(g, x, repeats, axis), untake(g, x, indices, axis),
    untake_along_axis(g, x, indices, axis), undiagonal(g, x, offset, axis1, axis2)

Each is the transpose of a linear map (or a derivative) that NumPy has no single call for.
"""

from __future__ import annotations

import string

import numpy as np

from sourcegrad.runtime.broadcast import unbroadcast


def unarray(g, x):
    """The cotangent of `np.array(x)` (or `np.asarray(x)`) with respect to `x`.

    A list or tuple `x` gets a list or tuple of the same length whose items are the slices
    `g[i]` (recursively, for nested lists); an array `x` gets `g` in `x`'s shape (and dtype, for
    floats); a Python number gets the 0-d slice as a NumPy scalar.
    """
    if isinstance(x, (list, tuple)):
        parts = [unarray(g[i], xi) for i, xi in enumerate(x)]
        return parts if isinstance(x, list) else tuple(parts)
    if isinstance(x, np.ndarray):
        g = np.reshape(g, x.shape)
        return g.astype(x.dtype, copy=False) if x.dtype.kind == "f" else g
    return g[()] if isinstance(g, np.ndarray) and g.ndim == 0 else g


def cast_derivative(g, to, through):
    """`g` in `to`'s shape and dtype, the derivative of a cast (`np.astype`): zeros when `through`
    (the cast's result) has an integer or bool dtype, since rounding has no derivative."""
    to_dtype = np.result_type(to)
    if np.result_type(through).kind not in "fc":
        return np.zeros(np.shape(to))
    g = np.reshape(g, np.shape(to))
    return g.astype(to_dtype) if to_dtype.kind in "fc" else g


def ties(x, m, axis=None):
    """`(x == m)` divided by how many entries attain `m` along `axis` (`m` has keepdims shape).

    The derivative of `max`/`min` along `axis`: the cotangent is shared equally among ties.
    """
    mask = x == m
    return mask / np.sum(mask, axis=axis, keepdims=True)


def normalize_axes(axis, ndim) -> tuple:
    """A reduction's `axis` (None, an int or a tuple, negative allowed) as a tuple of axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def _full_weights(x, w, axes):
    """`w` in `x`'s shape: NumPy also takes 1-D weights along an int `axis`."""
    w = np.asarray(w)
    if w.shape != np.shape(x) and w.ndim == 1 and len(axes) == 1:
        w = np.reshape(w, [-1 if i in axes else 1 for i in range(np.ndim(x))])
    return np.broadcast_to(w, np.shape(x))


def average_weights(x, weights, axis=None):
    """d y / d x of `y = np.average(x, axis, weights)`: the normalised weights in x's shape."""
    axes = normalize_axes(axis, np.ndim(x))
    if weights is None:
        return 1.0 / max(1, int(np.prod([np.shape(x)[a] for a in axes])))
    w = _full_weights(x, weights, axes)
    return w / np.sum(w, axis=axes, keepdims=True)


def average_adjoint(g, x, weights, y, axis=None, keepdims=False):
    """The cotangent of `weights` in `y = np.average(x, axis, weights)` (x's shape or 1-D)."""
    x = np.asarray(x)
    axes = normalize_axes(axis, x.ndim)
    gk, yk = np.asarray(g), np.asarray(y)
    if not keepdims and axes:
        gk, yk = np.expand_dims(gk, axes), np.expand_dims(yk, axes)
    total = np.sum(_full_weights(x, weights, axes), axis=axes, keepdims=True)
    full = gk * (x - yk) / total
    if np.shape(weights) != x.shape:  # 1-D weights along `axis`: sum over the other axes
        return np.reshape(np.sum(full, axis=tuple(i for i in range(x.ndim) if i not in axes)),
                          np.shape(weights))
    return full


def average_tangent(dw, x, weights, y, axis=None, keepdims=False):
    """The part of `np.average`'s tangent that comes from a tangent `dw` of the weights."""
    if weights is None or (type(dw) in (int, float) and dw == 0):
        return 0.0
    x = np.asarray(x)
    axes = normalize_axes(axis, x.ndim)
    yk = np.expand_dims(np.asarray(y), axes) if not keepdims and axes else np.asarray(y)
    total = np.sum(_full_weights(x, weights, axes), axis=axes, keepdims=True)
    out = np.sum(_full_weights(x, dw, axes) * (x - yk) / total, axis=axes, keepdims=True)
    return out if keepdims else np.reshape(out, np.shape(y))


def median_weights(x, axis=None):
    """d median / d x along `axis`: 1 at the middle entry, or 1/2 at each of the middle two."""
    x = np.asarray(x)
    axes = normalize_axes(axis, x.ndim)
    moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    flat = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))
    n = flat.shape[-1]
    w_sorted = np.zeros(n)
    w_sorted[(n - 1) // 2] += 0.5
    w_sorted[n // 2] += 0.5
    w = np.empty(flat.shape)
    np.put_along_axis(w, np.argsort(flat, axis=-1), np.broadcast_to(w_sorted, flat.shape), -1)
    return np.moveaxis(w.reshape(moved.shape), tuple(range(x.ndim - len(axes), x.ndim)), axes)


def tensordot_vjp(g, a, b, axes, i):
    """The cotangent of operand `i` (0 or 1) of `np.tensordot(a, b, axes)`."""
    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    axes_a, axes_b = [x % na for x in axes_a], [x % nb for x in axes_b]
    free_a = [k for k in range(na) if k not in axes_a]
    free_b = [k for k in range(nb) if k not in axes_b]
    g = np.asarray(g)
    if i == 0:
        out = np.tensordot(g, b, axes=(list(range(len(free_a), g.ndim)), free_b))
        order = free_a + [axes_a[axes_b.index(k)] for k in sorted(axes_b)]
        return np.transpose(out, np.argsort(order))
    out = np.tensordot(g, a, axes=(list(range(len(free_a))), free_a))
    order = free_b + [axes_b[axes_a.index(k)] for k in sorted(axes_a)]
    return np.transpose(out, np.argsort(order))


def kron_vjp(g, a, b, i):
    """The cotangent of operand `i` (0 or 1) of `np.kron(a, b)`, operands of equal rank."""
    sa, sb = np.shape(a), np.shape(b)
    assert len(sa) == len(sb), "kron's adjoint covers operands of equal rank"
    g = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])
    n = len(sa)
    letters = string.ascii_letters
    ga, gb = letters[:n], letters[n : 2 * n]
    gs = "".join(x + y for x, y in zip(ga, gb))
    if i == 0:
        return np.einsum(f"{gs},{gb}->{ga}", g, b)
    return np.einsum(f"{gs},{ga}->{gb}", g, a)


def unjoin(g, xs, axis, promote):
    """The cotangents of the parts of `np.hstack`/`vstack`/`dstack(xs)` (joined along `axis`
    after `promote`, one of `np.atleast_1d/2d/3d`)."""
    sizes = np.cumsum([np.shape(promote(x))[axis] for x in xs[:-1]])
    return tuple(np.reshape(p, np.shape(x)) for p, x in zip(np.split(g, sizes, axis), xs))


def unpad(g, x, pad_width, mode="constant"):
    """The cotangent of `np.pad(x, pad_width, mode)` for the linear modes (constant, edge,
    reflect, symmetric, wrap): each padded entry's cotangent goes back to the entry it copies."""
    shape = np.shape(x)
    if mode == "constant":
        widths = np.broadcast_to(pad_width, (len(shape), 2))
        return g[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, shape))]
    source = np.pad(np.arange(int(np.prod(shape))).reshape(shape), pad_width, mode=mode)
    out = np.zeros(int(np.prod(shape)), np.result_type(g, float))
    np.add.at(out, source.ravel(), np.ravel(g))
    return out.reshape(shape)


def unsort(g, x, axis=-1):
    """The cotangent of `np.sort(x, axis)`: `g` sent back through the sorting permutation."""
    if axis is None:
        return untake_along_axis(g, np.ravel(x), np.argsort(x, axis=None), 0).reshape(np.shape(x))
    return untake_along_axis(g, x, np.argsort(x, axis=axis), axis)


def unselect(g, condlist, choice, i=None):
    """The cotangent of `choicelist[i]` (i = -1: `default`) in `np.select(condlist, choicelist,
    default)`; with `i=None`, `choice` is the whole choicelist and a tuple comes back."""
    picked = np.select(condlist, list(range(len(condlist))), -1)
    if i is None:
        return tuple(unbroadcast(np.where(picked == k, g, 0.0), c) for k, c in enumerate(choice))
    return unbroadcast(np.where(picked == i, g, 0.0), choice)


def unconcatenate(g, xs, axis=0):
    """The cotangents of the parts of `np.concatenate(xs, axis)`: `g` split back, a tuple."""
    sizes = np.cumsum([np.shape(x)[axis] for x in xs[:-1]])
    return tuple(np.split(g, sizes, axis))


def unstack(g, axis=0):
    """The cotangents of the parts of `np.stack(xs, axis)`: the slices of `g` along `axis`, a
    tuple (NumPy 2.1's `np.unstack`)."""
    return tuple(np.moveaxis(g, axis, 0))


def undiff(g, x, n=1, axis=-1):
    """The cotangent of `np.diff(x, n, axis)`: the transpose of differencing, n times."""
    axis = axis % np.ndim(x)
    widths = [(n, n) if i == axis else (0, 0) for i in range(np.ndim(x))]
    return (-1) ** n * np.diff(np.pad(g, widths), n, axis)


# --- einsum -------------------------------------------------------------------------------------


def _explicit(subscripts: str, shapes) -> tuple[list[str], str]:
    """Input subscripts with `...` spelled out as letters, and the explicit output subscripts."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    parts = inputs.split(",")
    used = set(subscripts) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_ndim = max((len(s) - (len(p) - 3) for p, s in zip(parts, shapes) if "..." in p), default=0)
    ell = "".join(spare[:ell_ndim])
    out_parts = []
    for p, s in zip(parts, shapes):
        if "..." in p:
            n = len(s) - (len(p) - 3)
            p = p.replace("...", ell[ell_ndim - n :])
        out_parts.append(p)
    if arrow:
        output = output.replace("...", ell)
    else:
        counts = {c: "".join(out_parts).count(c) for c in set("".join(out_parts))}
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_parts, output


def check_einsum_optimize(optimize):
    """Raise when `optimize` holds an operand: a rule takes up to six, a seventh arrives here."""
    if not isinstance(optimize, (bool, str, list, tuple)) or isinstance(optimize, tuple) and optimize:
        raise ValueError("sourcegrad differentiates np.einsum with up to six operands; "
                         "split the contraction into two einsum calls")


def _einsum_operands(operands, optimize) -> list:
    """The operands given (a rule takes up to six); a seventh would arrive as ``optimize``."""
    check_einsum_optimize(optimize)
    return [o for o in operands if o is not None]


def einsum_vjp(g, subscripts, operands, i, optimize=False):
    """The cotangent of `operands[i]` in `np.einsum(subscripts, *operands)`, given `g`.

    The transpose swaps the operand's subscripts with the output's. Letters repeated within the
    operand (a diagonal) are written back onto that diagonal; letters only the operand has (summed
    away) are broadcast back; size-1 axes that broadcast are summed.
    """
    operands = _einsum_operands(operands, optimize)
    shapes = [np.shape(o) for o in operands]
    ins, out = _explicit(subscripts, shapes)
    target, shape = ins[i], shapes[i]
    others = [o for j, o in enumerate(operands) if j != i]
    other_subs = [s for j, s in enumerate(ins) if j != i]
    seen = set(out).union(*other_subs)
    unique = "".join(dict.fromkeys(c for c in target if c in seen))
    part = np.einsum(",".join([out, *other_subs]) + "->" + unique, g, *others)
    sizes = dict(zip(unique, np.shape(part)))
    sizes.update((c, n) for c, n in zip(target, shape) if c not in sizes)
    full = "".join(dict.fromkeys(target))
    missing = [c for c in full if c not in unique]
    part = np.broadcast_to(np.expand_dims(part, tuple(range(len(unique), len(full)))),
                           [sizes[c] for c in unique] + [sizes[c] for c in missing])
    order = unique + "".join(missing)
    if len(full) == len(target):  # no repeated letters: a transpose, then undo broadcasting
        res = np.einsum(order + "->" + target, part)
        # letters another operand broadcasts from size 1 are summed; the reverse are broadcast
        return np.broadcast_to(unbroadcast(np.ascontiguousarray(res), np.empty(shape)), shape)
    res = np.zeros(shape, np.result_type(part, float))
    np.einsum(target + "->" + order, res)[...] = part  # a writeable view onto the diagonal
    return res


def einsum_jvp(subscripts, operands, tangents, optimize=False):
    """The tangent of `np.einsum(subscripts, *operands)`: one term per operand with a tangent.
    Written in sourcegrad's differentiable subset (no `*`): the gradient of a forward-mode
    derivative differentiates it."""
    check_einsum_optimize(optimize)
    out = 0.0
    for i in range(len(operands)):
        t = tangents[i]
        if operands[i] is not None and not (isinstance(t, (int, float)) and t == 0):
            out = out + einsum_replaced(t, subscripts, operands, i, optimize)
    return out


def replaced_at(items, j, value):
    """`items` as a list, with `value` at position `j`."""
    return [value if k == j else o for k, o in enumerate(items)]


def einsum_replaced(h, subscripts, operands, i, optimize=False):
    """The contraction `np.einsum(subscripts, *operands)` with operand `i` replaced by `h` (None
    operands left out)."""
    ops = [o for o in replaced_at(operands, i, h) if o is not None]
    n = len(ops)  # one call per count, without `*` (not in the subset), for higher derivatives
    if n == 1:
        return np.einsum(subscripts, ops[0], optimize=optimize)
    if n == 2:
        return np.einsum(subscripts, ops[0], ops[1], optimize=optimize)
    if n == 3:
        return np.einsum(subscripts, ops[0], ops[1], ops[2], optimize=optimize)
    if n == 4:
        return np.einsum(subscripts, ops[0], ops[1], ops[2], ops[3], optimize=optimize)
    if n == 5:
        return np.einsum(subscripts, ops[0], ops[1], ops[2], ops[3], ops[4], optimize=optimize)
    return np.einsum(subscripts, ops[0], ops[1], ops[2], ops[3], ops[4], ops[5], optimize=optimize)


# --- shapes ------------------------------------------------------------------------------------


def untile(g, x, reps):
    """The cotangent of `np.tile(x, reps)`: the tiles summed."""
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    n = max(len(shape), len(reps))
    shape_n = (1,) * (n - len(shape)) + tuple(shape)
    reps_n = (1,) * (n - len(reps)) + reps
    split = [d for r, s in zip(reps_n, shape_n) for d in (r, s)]
    g = np.reshape(g, split)
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * n, 2))), shape)


def unrepeat(g, x, repeats, axis=None):
    """The cotangent of `np.repeat(x, repeats, axis)`: each run of repeats summed."""
    shape = np.shape(x)
    if axis is None:
        flat_n = int(np.prod(shape))
        starts = np.concatenate([[0], np.cumsum(np.broadcast_to(repeats, (flat_n,)))[:-1]])
        return np.reshape(np.add.reduceat(g, starts) if flat_n else g, shape)
    axis = axis % len(shape)
    n = shape[axis]
    starts = np.concatenate([[0], np.cumsum(np.broadcast_to(repeats, (n,)))[:-1]])
    return np.add.reduceat(g, starts, axis=axis)


def untake(g, x, indices, axis=None):
    """The cotangent of `np.take(x, indices, axis)`: `g` added back at `indices` (repeats add)."""
    xa = np.asarray(x)
    out = np.zeros(xa.shape, np.result_type(g, float))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % xa.ndim
    gm = np.moveaxis(np.asarray(g), tuple(range(axis, axis + np.ndim(indices))),
                     tuple(range(np.ndim(indices))))
    om = np.moveaxis(out, axis, 0)
    np.add.at(om, indices, gm)
    return out


def untake_along_axis(g, x, indices, axis):
    """The cotangent of `np.take_along_axis(x, indices, axis)`."""
    xa = np.asarray(x)
    out = np.zeros(xa.shape, np.result_type(g, float))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % xa.ndim
    shape = np.broadcast_shapes(np.shape(indices), np.shape(g))
    grids = list(np.indices(shape, sparse=True))
    grids[axis] = np.broadcast_to(indices, shape)
    grids = [np.broadcast_to(gr, shape) if i != axis else gr for i, gr in enumerate(grids)]
    # size-1 axes of x that broadcast against indices map to position 0
    grids = [gr if i == axis or xa.shape[i] != 1 else np.zeros_like(gr) for i, gr in enumerate(grids)]
    np.add.at(out, tuple(grids), np.broadcast_to(g, shape))
    return out


def undiagonal(g, x, offset=0, axis1=0, axis2=1):
    """The cotangent of `np.diagonal(x, offset, axis1, axis2)`: `g` written onto that diagonal."""
    xa = np.asarray(x)
    out = np.zeros(xa.shape, np.result_type(g, float))
    a1, a2 = axis1 % xa.ndim, axis2 % xa.ndim
    n = np.shape(g)[-1]
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    view = np.moveaxis(out, (a1, a2), (-2, -1))
    view[..., rows, cols] = g
    return out


def undiag(g, x, k=0):
    """The cotangent of `np.diag(x, k)`: a diagonal for a 1-D `x`, a matrix for a 2-D one."""
    if np.ndim(x) == 1:
        return np.diagonal(g, k)
    return undiagonal(g, x, k, 0, 1)
