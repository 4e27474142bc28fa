"""Undoing NumPy's implicit shape changes in the adjoint sweep.

    unbroadcast(g, x)        sum a cotangent down to the shape of a broadcast operand
    unbroadcast_to(g, shape) the same, given only the operand's shape (saved instead of the operand)
    rebroadcast(h, g)        `h` brought to `g`'s shape (summed down, broadcast up): their transpose
    unreduce(g, x, axis, keepdims)   spread a reduction's cotangent back over its input
    unindex(g, x, idx)       the cotangent of `x[idx]` with respect to `x`
    matmul_adjoint_a/b       cotangents of `a @ b` for every NumPy matmul case

These run inside users' training loops: the common cases (equal shapes, Python floats, 2-D
matmul) return after a type check or two.
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.zeros import zeros_like

_ndarray = np.ndarray
_PY_SCALARS = (float, int, bool, complex)
_REAL_SCALARS = frozenset([np.float64, np.float32, np.float16])
# Python and NumPy number types: values of shape () (also sourcegrad/plain.py's plain classes).
SCALAR_TYPES = frozenset([*_PY_SCALARS, *(np.dtype(c).type for c in np.typecodes["All"] if c not in "OMmSUV")])
_SEQUENCES = (tuple, list)


def unbroadcast(g, x):
    """Sum the cotangent `g` down to the shape of `x`, undoing NumPy broadcasting.

    Leading axes that broadcasting added are summed away, then axes where `x` has size 1 are
    summed with keepdims. `g` comes back unchanged when the shapes already agree, and keeps its
    dtype (float32 stays float32). When `x` is a Python number and `g` an array, the result is
    the NumPy scalar `np.sum(g)` (not converted to a Python float, so its dtype survives). When `g`
    has fewer dimensions than `x` (a scalar cotangent of an array), it is broadcast up to `x`'s
    shape as a read-only view.
    """
    tx, tg = type(x), type(g)
    if tx is _ndarray and tg is _ndarray and x.shape == g.shape:
        return g
    if tx in SCALAR_TYPES and tg in SCALAR_TYPES:  # np.sum(x) / n: both of shape ()
        return g
    if tx in _PY_SCALARS:
        return g.sum() if tg is _ndarray else np.sum(g)
    if tx in _SEQUENCES and tg in _SEQUENCES:
        if len(g) == len(x):  # a sequence written into a list slice (`xs[1:3] = [a, b]`)
            return g
        # the result was a sequence longer than `x`: `+` joined, `*` repeated
        raise TypeError(
            "sourcegrad: `a + b` or `a * n` made a tuple or list here (a concatenation or a "
            "repetition), but was differentiated as arithmetic on numbers (the operand was not "
            "surely a sequence when the code was transformed); write `list(a) + list(b)` "
            "or `tuple(a) * n` so that sourcegrad sees the sequence"
        )
    shape = x.shape if tx is _ndarray else np.shape(x)
    gshape = g.shape if tg is _ndarray else np.shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        return np.broadcast_to(g, shape)
    if tg is not _ndarray:
        g = np.asarray(g)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def unbroadcast_to(g, shape):
    """`unbroadcast` for an operand of which only the shape was kept (`np.shape(x)`).

    The tape saves a shape rather than a whole array when an adjoint needs nothing else of it.
    """
    if type(g) is _ndarray and g.shape == shape:
        return g
    if not shape:
        return g if type(g) in _PY_SCALARS else np.sum(g)
    return unbroadcast(g, np.broadcast_to(0.0, shape))


def rebroadcast(h, g):
    """`h` brought to the shape of `g`: summed down where `h` has axes `g` lacks or where `g` has
    size 1, then broadcast up (a read-only view) where `g` is larger.

    The transpose of `unbroadcast(g, x)` and `unbroadcast_to(g, shape)` with respect to `g`, and
    of itself: a cotangent `g` may be the scalar `0.0` standing for an array's zero, for which
    `unbroadcast` broadcast it up; the transpose then sums. A tuple or list `g` (a sequence
    written into a slice, passed through unchanged) gives `h` back.
    """
    tg, th = type(g), type(h)
    if th is _ndarray and tg is _ndarray and h.shape == g.shape:
        return h
    if tg in SCALAR_TYPES and th in SCALAR_TYPES:
        return h
    if tg in _SEQUENCES:
        return h
    shape = g.shape if tg is _ndarray else np.shape(g)
    hshape = h.shape if th is _ndarray else np.shape(h)
    if hshape == shape:
        return h
    lead = len(hshape) - len(shape)
    axes = tuple(range(max(lead, 0))) + tuple(
        lead + i for i, n in enumerate(shape) if lead + i >= 0 and n == 1 and hshape[lead + i] != 1
    )
    if axes:
        h = np.asarray(h).sum(axis=axes, keepdims=True)
        if lead > 0:
            h = h.reshape(h.shape[lead:])
        if h.shape == shape:
            return h if shape else h[()]
    return np.broadcast_to(h, shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the cotangent `g` of a reduction of `x` (sum, mean, max...) back to `x`'s shape.

    `axis` is the reduction's axis argument: None, an int or a tuple of ints, negative allowed.
    Without keepdims the reduced axes are first put back as size-1 axes. The result is a
    read-only view (`np.broadcast_to`); generated code never writes into it, and a caller that
    wants to must copy it first. A scalar `x` gives `g` back unchanged.
    """
    shape = x.shape if type(x) is _ndarray else np.shape(x)
    if not shape:
        return g
    if (type(g) is float or type(g) in _REAL_SCALARS) and type(x) is _ndarray and x.dtype.kind in "fc":
        g = x.dtype.type(g)  # the seed 1.0 (np.float64 for a NumPy output) keeps float32 float32, complex complex
    if axis is not None and not keepdims:
        # expand_dims normalises negative axes against its output, which has x's rank.
        g = np.expand_dims(g, axis)
    elif type(g) in SCALAR_TYPES:  # a whole reduction's cotangent: np.broadcast_to's view, made for less
        g = np.array(g)
        spread = _ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        spread.flags.writeable = False
        return spread
    return np.broadcast_to(g, shape)


_BASIC_INDEX = (int, np.integer, slice, type(None), type(Ellipsis))


def _is_basic(idx) -> bool:
    """True when `x[idx]` is a view (NumPy basic indexing), so no position repeats."""
    if isinstance(idx, tuple):
        return all(isinstance(i, _BASIC_INDEX) and not isinstance(i, (bool, np.bool_)) for i in idx)
    return isinstance(idx, _BASIC_INDEX) and not isinstance(idx, (bool, np.bool_))


def unindex(g, x, idx):
    """The cotangent of `y = x[idx]` with respect to `x`, given the cotangent `g` of `y`.

    For an array `x`: zeros of `x`'s shape with `g` added at `idx`. Basic indices (ints, slices,
    None, Ellipsis) are assigned; fancy and boolean indices use `np.add.at`, so a position picked
    twice receives both contributions. The dtype is the result type of `g` and `x`'s float dtype.
    For a tuple, list or dict `x`: the same container with `zeros_like` of every element except the
    one(s) at `idx` (an int, a slice or a key), which get `g`.
    """
    if isinstance(x, np.ndarray):
        xdtype = x.dtype if x.dtype.kind in "fc" else np.float64
        out = np.zeros(x.shape, np.result_type(g, xdtype))
        if _is_basic(idx):
            out[idx] = g
        else:
            np.add.at(out, idx, g)
        return out
    if isinstance(x, (tuple, list)):
        out = [zeros_like(e) for e in x]
        if not isinstance(idx, slice):
            out[idx] = g
        elif not (type(g) is float and g == 0.0):  # the zero 0.0 of a slice: zeros already
            out[idx] = list(g)
        t = type(x)
        return t._make(out) if hasattr(t, "_make") else t(out)
    if isinstance(x, dict):
        out = type(x)((k, zeros_like(v)) for k, v in x.items())
        out[idx] = g
        return out
    raise TypeError(f"unindex: cannot index a value of type {type(x).__name__}")


def matmul_adjoint_a(g, a, b):
    """The cotangent of `z = a @ b` with respect to `a`, given the cotangent `g` of `z`.

    Covers every case of `np.matmul`: vectors (1-D operands are promoted and the promotion
    undone), matrices, and stacks of matrices whose batch dimensions broadcast (summed back to
    `a`'s batch shape).
    """
    if type(a) is _ndarray and type(b) is _ndarray and a.ndim == 2 and b.ndim == 2:
        return g @ b.T
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1 and a.ndim == 2:
        return np.outer(g, b)
    if a.ndim == 1 and b.ndim == 2:
        return b @ g
    ga = _promote_g(g, a.ndim, b.ndim) @ np.swapaxes(b if b.ndim > 1 else b[:, None], -1, -2)
    ga = unbroadcast(ga, a if a.ndim > 1 else a[None, :])
    return ga if a.ndim > 1 else ga[0]


def matmul_adjoint_b(g, a, b):
    """The cotangent of `z = a @ b` with respect to `b`, given the cotangent `g` of `z`.

    Same cases as `matmul_adjoint_a`.
    """
    if type(a) is _ndarray and type(b) is _ndarray and a.ndim == 2 and b.ndim == 2:
        return a.T @ g
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if b.ndim == 1 and a.ndim == 2:
        return g @ a
    if a.ndim == 1 and b.ndim == 2:
        return np.outer(a, g)
    gb = np.swapaxes(a if a.ndim > 1 else a[None, :], -1, -2) @ _promote_g(g, a.ndim, b.ndim)
    gb = unbroadcast(gb, b if b.ndim > 1 else b[:, None])
    return gb if b.ndim > 1 else gb[..., 0]


def _promote_g(g, a_ndim, b_ndim):
    """`g` with the unit axes that matmul's promotion of 1-D operands removed put back."""
    g = np.asarray(g)
    if b_ndim == 1:
        g = g[..., None]
    if a_ndim == 1:
        g = g[..., None, :]
    return g


def dot_adjoint_a(g, a, b):
    """The cotangent of `z = np.dot(a, b)` with respect to `a`: a product with a number where
    either operand is one, `matmul_adjoint_a` for 1-D and 2-D operands, and N-D `dot` (a sum over
    the last axis of `a` and the second-to-last of `b`) otherwise."""
    if type(a) is _ndarray and type(b) is _ndarray and a.ndim == 2 and b.ndim == 2:
        return g @ b.T
    nda, ndb = np.ndim(a), np.ndim(b)
    if nda == 0 or ndb == 0:
        return unbroadcast(g * b, a)
    if nda <= 2 and ndb <= 2:
        return matmul_adjoint_a(g, a, b)
    if ndb == 1:
        return np.multiply.outer(g, b)
    kept = [i for i in range(ndb) if i != ndb - 2]
    return np.tensordot(g, b, axes=(list(range(nda - 1, np.ndim(g))), kept))


def dot_adjoint_b(g, a, b):
    """The cotangent of `z = np.dot(a, b)` with respect to `b` (the cases of `dot_adjoint_a`)."""
    if type(a) is _ndarray and type(b) is _ndarray and a.ndim == 2 and b.ndim == 2:
        return a.T @ g
    nda, ndb = np.ndim(a), np.ndim(b)
    if nda == 0 or ndb == 0:
        return unbroadcast(g * a, b)
    if nda <= 2 and ndb <= 2:
        return matmul_adjoint_b(g, a, b)
    lead = list(range(nda - 1))
    gb = np.tensordot(a, g, axes=(lead, lead))
    return gb if ndb == 1 else np.moveaxis(gb, 0, -2)
