"""In-place updates as values: what ``x[idx] = v`` becomes in the normal form, and its transposes.

    setitem(x, idx, v)      a copy of x with copy[idx] = v (arrays, lists, dicts)
    update(x, idx, v)       the same, written into `x` itself when nothing else can see it
    clear_written(g, idx)   the cotangent of `x`: a copy of `g` with the written positions zeroed
    clear(g, idx)           the same, zeroing `g` itself when nothing else can see it
    written(g, idx)         the cotangent of the written value (before unbroadcasting): `g[idx]`,
                            zero where a repeated fancy index was overwritten by a later one
    unwritten(h, g, idx)    the transpose of `written`: zeros shaped like `g` with `h` written at idx

NumPy assigns `x[idx] = v` with repeated fancy indices so that one write per position survives
(the last one, in practice); `written` finds the survivors by making the same assignment of
position numbers, so the derivative follows whatever NumPy actually did.

Ownership. `setitem` returns a new value and leaves `x` alone: that is what lets the transforms
treat the update like any rebinding `x = f(x)` (the tape saves the old `x` where an adjoint reads
it). Copying costs O(size of x) per write, which makes a loop that fills an array element by
element O(n^2). Generated code that rebinds the operand to the result, `x = sg.update(x, i, v)`,
lets the helper write into `x` itself when, on CPython, the only references to `x` are that
variable and the call's own arguments: no other variable, tape, container or view (a view holds
its base) can then observe the write. An array that does not own its memory, or a subclass, is
copied. Where reference counts cannot be trusted (another interpreter, or a calibration at import
that does not give the expected counts), `update` always copies.
"""

from __future__ import annotations

import copy
import sys

import numpy as np

from sourcegrad.runtime.zeros import zeros_like

_ndarray = np.ndarray
_PY_NUMBERS = (float, int, bool, complex)


# --- ownership ------------------------------------------------------------------------------------


def _calibrate() -> int | None:
    """The smallest reference count a helper sees, as `sys.getrefcount(param)` in its own body,
    for an array that only the calling function's variable holds; None: never write in place.

    CPython counts one reference more while a call site is not yet specialised (the caller's
    stack keeps the argument); the minimum over many calls is the specialised count, and any
    other holder adds one to it. A helper compares with the minimum, so an unspecialised call
    only makes it copy where it could have written in place, never the other way round.
    """
    if sys.implementation.name != "cpython":
        return None

    def helper(x):
        return sys.getrefcount(x)

    def alone():
        a = np.zeros(1)
        return helper(a)

    def shared():
        a = np.zeros(1)
        b = a  # noqa: F841 - the second reference the helper must see
        return helper(a)

    one = min(alone() for _ in range(64))
    two = min(shared() for _ in range(64))
    return one if two == one + 1 else None


_SOLE = _calibrate()


def _writable(x) -> bool:
    return type(x) is not _ndarray or (x.flags.owndata and x.flags.writeable)


# --- the update -----------------------------------------------------------------------------------


def setitem(x, idx, v):
    """A copy of `x` with `copy[idx] = v`, as Python's assignment would leave `x`.

    Arrays, lists and dicts. A list slice must keep the list's length (the derivative of a list
    that changes length is not defined here).
    """
    return _write(x, idx, v, False)


def update(x, idx, v):
    """`setitem`, writing into `x` itself when nothing but the caller's variable refers to it.

    Generated code calls it only as `x = sg.update(x, idx, v)`, which rebinds that variable to
    the result (`transform/inplace.py`), so the write cannot be observed.
    """
    owned = _SOLE is not None and sys.getrefcount(x) <= _SOLE  # first: nothing else on the stack
    return _write(x, idx, v, owned and _writable(x))


def _write(x, idx, v, in_place: bool):
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "biu" and np.result_type(v).kind in "fc":
            _refuse_truncation(x, v)
        if not (in_place and type(x) is _ndarray):
            x = x.copy()
        x[idx] = v
        return x
    if isinstance(x, list):
        if isinstance(idx, slice) and len(range(*idx.indices(len(x)))) != len(v):
            raise ValueError(
                f"sourcegrad: `xs[{idx.start}:{idx.stop}] = values` would change the list's length "
                f"({len(range(*idx.indices(len(x))))} items replaced by {len(v)}); build a new list instead"
            )
    elif not isinstance(x, dict):
        raise TypeError(f"'{type(x).__name__}' object does not support item assignment")
    if not in_place:
        x = copy.copy(x)
    x[idx] = v
    return x


def _refuse_truncation(x, v):
    """NumPy truncates a float written into an integer or bool array, so the derivative through
    the written value is zero, which the rules of `setitem` do not know at the write (they would
    pass the gradient through): refuse instead of giving a wrong derivative."""
    raise TypeError(
        f"sourcegrad: a {np.result_type(v)} value is written into an array of dtype {x.dtype}, "
        "which NumPy truncates (so the written value has no derivative there); make the array "
        "a float one (np.zeros(3), np.array([0.0, 0.0]), x.astype(float)), or write an integer "
        "explicitly (int(w), np.floor(w).astype(int)) if truncating is meant")


# --- its transposes -------------------------------------------------------------------------------


def clear_written(g, idx):
    """The cotangent of `x` in `y = setitem(x, idx, v)`: the cotangent `g` of `y`, zero at `idx`.

    A Python zero stands for a zero of any structure and comes back as it is; `g` itself is not
    changed. An entry of a list or dict becomes that zero too, 0.0: the entry `x` held before the
    write may have had another shape than the one written (`d["w"] = np.concatenate(...)`), and
    `g` only knows the new one.
    """
    return _clear(g, idx, False)


def clear(g, idx):
    """`clear_written`, zeroing `g` itself where nothing but the caller's variable refers to it
    (called only as `g = sg.clear(g, idx)`, like `update`)."""
    owned = _SOLE is not None and sys.getrefcount(g) <= _SOLE  # first: nothing else on the stack
    return _clear(g, idx, owned and type(g) is _ndarray and _writable(g))


def _clear(g, idx, in_place: bool):
    if type(g) in _PY_NUMBERS or g is None:
        return g
    if isinstance(g, np.ndarray):
        out = g if in_place else g.copy()
        out[idx] = 0
        return out
    if isinstance(g, (list, tuple)):
        items = list(g)
        if isinstance(idx, slice):
            items[idx] = [0.0 for _ in items[idx]]
        else:
            items[idx] = 0.0
        return type(g)(items) if type(g) in (list, tuple) else type(g)(*items)
    if isinstance(g, dict):
        out = type(g)(g)
        if idx in out:
            out[idx] = 0.0
        return out
    raise TypeError(f"clear_written: cannot index a cotangent of type {type(g).__name__}")


def written(g, idx):
    """The cotangent of the value written by `y = setitem(x, idx, v)`, in the shape of `y[idx]`.

    `g[idx]`, except that a position a fancy index names twice passes its cotangent to the write
    that survived only; the caller unbroadcasts to the value's own shape.
    """
    if type(g) in _PY_NUMBERS or g is None:
        return g
    if isinstance(g, np.ndarray):
        picked = g[idx]
        if _may_repeat(idx):
            return picked * _survivors(g.shape, idx)
        # a copy, not a view: a view would hold `g`, which `clear` then could not zero in place
        return picked.copy() if isinstance(picked, np.ndarray) else picked
    if isinstance(g, dict):
        return g.get(idx, 0.0)
    return g[idx]


def unwritten(h, g, idx):
    """The transpose of `written(g, idx)` in `g`: zeros with `g`'s structure, `h` written at `idx`
    (where a repeated fancy index keeps one write, as `written` keeps one cotangent). One helper
    with rules of its own, rather than `setitem(zeros_like(g), idx, h)` in a template: the zeros'
    tangent there would be the symbolic zero 0.0, into which nothing can be written."""
    return setitem(zeros_like(g), idx, h)


def _may_repeat(idx) -> bool:
    """True for an integer-array (fancy) index, the only kind that can name a position twice."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    for part in parts:
        if isinstance(part, (list, np.ndarray)) and np.asarray(part).dtype.kind in "iu":
            return True
    return False


def _survivors(shape, idx) -> np.ndarray:
    """1.0 where a selected position's write is the one NumPy kept, else 0.0 (selection shape)."""
    selected = np.zeros(shape, np.intp)[idx].shape
    numbers = np.arange(int(np.prod(selected)), dtype=np.intp).reshape(selected)
    slots = np.full(shape, -1, np.intp)
    slots[idx] = numbers
    return (slots[idx] == numbers).astype(np.float64)
