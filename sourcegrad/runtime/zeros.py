"""Zeros and sums that understand scalars, arrays and containers (tuples, lists, dicts).

A cotangent has the structure of its primal value: a float for a float, an array for an array, a
tuple of cotangents for a tuple. The Python float 0.0 doubles as the "zero" of any structure: it
is what `zeros_like` returns for a float, and `add` lets it stand in for a whole container.
"""

from __future__ import annotations

import operator

import numpy as np

from sourcegrad.runtime.tape import Tape

_ndarray = np.ndarray
_PY_NUMBERS = (float, int, bool)
# Scalar types whose cotangent is a scalar seed as it is (seed_like's fast path).
_NUMBERS = frozenset([float, int, complex, np.float64, np.float32, np.float16, np.complex128, np.complex64])
_ZERO_DTYPES = {}  # dtype -> float dtype of its zeros


def _float_dtype(dtype: np.dtype) -> np.dtype:
    """`dtype` if it is inexact (float or complex), else float64."""
    out = _ZERO_DTYPES.get(dtype)
    if out is None:
        out = _ZERO_DTYPES[dtype] = dtype if dtype.kind in "fc" else np.dtype(np.float64)
    return out


def zeros_like(x):
    """A zero cotangent with the structure of `x`.

    Python numbers give 0.0 (complex gives 0j); arrays give float zeros of the same shape (an
    integer or boolean array gets float64 zeros, float32 stays float32); a NumPy scalar gives a
    zero of its own float type (float64 for integer scalars); tuples, lists and dicts give the same
    structure with each element replaced. A leaf that is not numeric at all (a string, None) has no
    cotangent and gives None, which `add` treats as zero.
    """
    t = type(x)
    if t is float or t is int or t is bool:
        return 0.0
    if t is np.ndarray:
        return np.zeros(x.shape, _float_dtype(x.dtype))
    if isinstance(x, np.generic):
        return _float_dtype(x.dtype).type(0)
    if isinstance(x, tuple):
        zeros = [zeros_like(e) for e in x]
        return t._make(zeros) if hasattr(t, "_make") else t(zeros)
    if isinstance(x, list):
        return t([zeros_like(e) for e in x])
    if isinstance(x, dict):
        return t((k, zeros_like(v)) for k, v in x.items())
    if isinstance(x, complex):
        return 0j
    if isinstance(x, np.ndarray):  # a subclass
        return np.zeros_like(x, dtype=_float_dtype(x.dtype))
    from sourcegrad.runtime import trees  # objects are rare: keep the common path import-free

    return trees.map_node(zeros_like, x) if trees.is_node(x) else None


def _is_zero(x) -> bool:
    """True for the scalar zeros that stand in for any structure: None and Python 0 / 0.0."""
    return x is None or (type(x) in _PY_NUMBERS and x == 0)


def add(a, b):
    """The sum of two cotangents of the same structure.

    Tuples, lists and dicts add element by element (recursively) and keep the type of `a`. A
    Python zero (0.0, 0) or None on one side stands for a zero of the other side's structure, so
    `add(0.0, (dx, dy))` is `(dx, dy)`. Objects (see `trees`) add attribute by attribute. An empty
    adjoint tape is the zero of a tape whose values were all popped (`zeros_like` of it, read after
    the backward pass that consumed it), so it adds to an adjoint tape of any depth.
    Everything else is `a + b`.
    """
    ta, tb = type(a), type(b)
    if (ta is _ndarray or ta is float) and (tb is _ndarray or tb is float):
        return a + b
    if isinstance(a, (tuple, list)):
        if isinstance(b, (tuple, list)):
            if len(a) != len(b):
                if ta is Tape and tb is Tape and not (a and b):  # an emptied tape's zero: any depth
                    return a or b
                raise ValueError(f"cannot add cotangents of lengths {len(a)} and {len(b)}")
            sums = [add(x, y) for x, y in zip(a, b)]
            return ta._make(sums) if hasattr(ta, "_make") else ta(sums)
        if _is_zero(b):
            return a
    elif isinstance(a, dict):
        if isinstance(b, dict):
            out = ta(a)
            for k, v in b.items():
                out[k] = add(out[k], v) if k in out else v
            return out
        if _is_zero(b):
            return a
    elif isinstance(b, (tuple, list, dict)) and _is_zero(a):
        return b
    if a is None:
        return b
    if b is None:
        return a
    from sourcegrad.runtime import trees

    if trees.is_node(a):
        return a if _is_zero(b) else trees.add_nodes(a, b, add)
    if trees.is_node(b) and _is_zero(a):
        return b
    return a + b


def whole(g, x):
    """The cotangent `g` of `x` with `x`'s structure where `g` is the scalar zero standing for any
    structure, wholly (`0.0`) or in entries (what `clear_written` leaves in a list or dict), so
    that it can be taken apart (`g[0]`). Other values come back as they are."""
    if _is_zero(g):
        return zeros_like(x)
    if isinstance(g, (tuple, list)) and isinstance(x, (tuple, list)) and len(g) == len(x):
        parts = [whole(a, b) for a, b in zip(g, x)]
        return type(g)._make(parts) if hasattr(type(g), "_make") else type(g)(parts)
    if isinstance(g, dict) and isinstance(x, dict):
        return type(g)((k, whole(v, x[k]) if k in x else v) for k, v in g.items())
    return g


def concat_tangent(dx, dy, x, y):
    """The tangent of the sequence `x + y` (`operator.concat`): a zero tangent, the float 0.0 that
    forward mode gives a constant operand such as `()`, stands for zeros of its operand's
    structure, since nothing can be concatenated to a float."""
    if type(dx) is float:
        dx = zeros_like(x)
    if type(dy) is float:
        dy = zeros_like(y)
    return operator.concat(dx, dy)


def unconcat(g, x, part):
    """The cotangent of one operand of the sequence `x + y` (`operator.concat`) from `g`: of `x`
    (`part` 0) or of `y` (`part` 1). The float 0.0, the symbolic zero that a sequence's cotangent
    starts as when nothing after it reads the sequence (a list that forward mode builds and
    differentiated again), stays the zero of either operand. Written in the differentiable
    subset: its own derivatives are made from this source."""
    if type(g) is float:
        return g
    if part == 0:
        return g[:len(x)]
    return g[len(x):]


def unsequence(g, x):
    """The cotangent of `x` in `list(x)` or `tuple(x)` from `g`, one cotangent per item: in `x`'s
    kind (a tuple, a list, a namedtuple), or the rows stacked again for an array `x`."""
    if type(g) is float and g == 0.0:
        return g
    if type(x) is _ndarray:
        return np.stack([gi + np.zeros(np.shape(row)) for gi, row in zip(g, x)]) if len(x) else zeros_like(x)
    if isinstance(x, tuple) and hasattr(type(x), "_make"):
        return type(x)._make(g)
    if isinstance(x, (tuple, list)):
        return type(x)(g)
    return zeros_like(x)  # the keys of a dict, a range: nothing to differentiate


def sequence_tangent(dx, x, y):
    """The tangent of `y = list(x)` or `tuple(x)` from the tangent `dx` of `x` (a list where `y`
    is no sequence: the symbolic zero). The transpose of `unsequence` in its cotangent; each has
    the other as its rules (rules/runtime_second_order.py)."""
    if (type(dx) is float and dx == 0.0) or not isinstance(x, (tuple, list, _ndarray)):
        return zeros_like(y)
    return type(y)(dx) if isinstance(y, (tuple, list)) else list(dx)


def seed_like(seed, value):
    """The output cotangent for an output `value`: a scalar seed is spread over it.

    A cotangent has the structure and shape of its primal, and the adjoint rules rely on it (the
    adjoint of `x[i]` reads `dy[i]`), so a scalar seed becomes an array of the output's shape and
    is repeated per leaf of a tuple, list, dict or object output. With the default seed 1.0 the
    gradient is that of the sum of all outputs. A seed that already has structure is returned.
    """
    kind = type(value)
    if kind is float:  # the common case, a scalar loss: the seed as it is, at once
        return seed
    if kind in _NUMBERS:  # a NumPy scalar: a Python seed takes its type (NEP 50 would let
        # np.float32 constants in the backward pass make a float64 program's gradient float32)
        return kind(seed) if type(seed) is float and kind is not int else seed
    if kind is _ndarray:
        if value.ndim and _is_scalar(seed):
            return np.full(value.shape, seed, np.result_type(seed, _float_dtype(value.dtype)))
        if type(seed) is float and value.dtype.kind in "fc":
            return value.dtype.type(seed)
        return seed
    if isinstance(value, (tuple, list)) and not isinstance(seed, (tuple, list)):
        if type(seed) is _ndarray and seed.ndim and any(np.shape(v) != seed.shape for v in value):
            seeds = _rows_of(seed, value)  # the seed of np.array(value): one row per item
        else:
            seeds = [seed] * len(value)
        return type(value)([seed_like(s, v) for s, v in zip(seeds, value)]) if type(value) in (tuple, list) else \
            type(value)(*[seed_like(s, v) for s, v in zip(seeds, value)])
    if isinstance(value, dict) and not isinstance(seed, dict):
        return {k: seed_like(seed, v) for k, v in value.items()}
    from sourcegrad.runtime import trees

    if trees.is_node(value) and not trees.is_node(seed):
        return trees.map_node(lambda v: seed_like(seed, v) if _has_cotangent(v) else None, value)
    return seed


def _rows_of(seed, value) -> list:
    """An array seed for a tuple or list output: the seed of `np.array(value)`, split into one
    seed per item (Tangent's tests seed a tuple output with `np.ones_like(y)`). A seed of any
    other shape has no meaning there: spread to every item, it would be summed into each."""
    if len(seed) == len(value) and all(np.shape(v) == seed.shape[1:] for v in value):
        return list(seed)
    raise ValueError(f"a seed of shape {seed.shape} for an output {type(value).__name__} of {len(value)} items "
                     f"of shapes {[np.shape(v) for v in value]}: give a seed of the output's structure (a "
                     f"{type(value).__name__} of one seed per item), a number, or an array of shape "
                     f"{(len(value),) + (np.shape(value[0]) if len(value) else ())} when the items have one shape")


def unseed(g, seed):
    """The adjoint of `seed_like` in its seed: the sum of `g` over what a scalar seed was spread to
    (an array seed split into the rows of a tuple or list output: those rows stacked again)."""
    if type(seed) is _ndarray and seed.ndim and isinstance(g, (tuple, list)) and len(g) == len(seed):
        return np.stack([unseed(gi, si) + np.zeros(np.shape(si)) for gi, si in zip(g, seed)])
    if not _is_scalar(seed) or _is_scalar(g):
        return g
    if isinstance(g, np.ndarray):
        return np.sum(g)
    from sourcegrad.runtime import trees

    leaves = g.values() if isinstance(g, dict) else g if isinstance(g, (tuple, list)) else (
        [getattr(g, name) for name in trees.fields(g)] if trees.is_node(g) else [])
    return sum((unseed(leaf, seed) for leaf in leaves if leaf is not None), 0.0)


def _is_scalar(x) -> bool:
    return type(x) in _PY_NUMBERS or isinstance(x, (complex, np.generic)) or (type(x) is _ndarray and x.ndim == 0)


def _has_cotangent(x) -> bool:
    return zeros_like(x) is not None
