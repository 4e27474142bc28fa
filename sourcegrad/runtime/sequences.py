"""`xs * n` where `xs` surely holds a tuple or a list (normal/anf.py): a repetition when `n` is an
integer, NumPy's product when `n` is an array (`[1.0, 2.0] * x`). Numbers times numbers never get
here, so the rules of `operator.mul` stay as fast as they were."""

from __future__ import annotations

import operator

import numpy as np

from sourcegrad.runtime.broadcast import unbroadcast
from sourcegrad.runtime.zeros import _is_zero, add, zeros_like

_ndarray = np.ndarray


def _repeats(xs, n) -> bool:
    """Whether `xs * n` repeats the sequence (`n` an integer) rather than multiplying numbers."""
    if isinstance(xs, (tuple, list)) and not isinstance(n, (_ndarray, float, complex, np.inexact)):
        try:
            operator.index(n)
        except TypeError:
            return False
        return True
    return False


def repeat_sequence(xs, n):
    """`xs * n`, the sequence `xs` first: Python's own product (a repetition for an integer `n`)."""
    return xs * n


def _chunks_summed(g, xs, n):
    k, n = len(xs), max(operator.index(n), 0)
    if _is_zero(g) or n == 0 or k == 0:
        return 0.0 if _is_zero(g) else zeros_like(xs)
    total = list(g[:k])
    for i in range(1, n):
        total = [add(a, b) for a, b in zip(total, g[i * k:(i + 1) * k])]
    return type(xs)._make(total) if hasattr(type(xs), "_make") else type(xs)(total)


def unrepeat_sequence(g, xs, n):
    """The cotangent of `xs` in `xs * n`: for a repetition the chunks of `g`, one per copy, summed;
    for NumPy's product of a list and an array, as for any product of numbers."""
    if _repeats(xs, n):
        return _chunks_summed(g, xs, n)
    return unbroadcast(g * n, xs)


def unrepeat_sequence_count(g, xs, n):
    """The cotangent of `n` in `xs * n`: zero for a repetition count, else as for a product."""
    if _repeats(xs, n):
        return 0.0
    return unbroadcast(g * np.asarray(xs), n)


def repeat_sequence_tangent(dxs, dn, xs, n):
    """The tangent of `xs * n`: the tangent of `xs` repeated, or a product's tangent."""
    if _repeats(xs, n):
        return 0.0 if _is_zero(dxs) else dxs * n
    return np.multiply(dxs, n) + np.multiply(xs, dn)


def unrepeat_sequence_tangent(dg, dn, g, xs, n):
    """The tangent of `unrepeat(g, xs, n)` (forward over reverse): linear in `g` for a repetition."""
    if _repeats(xs, n):
        return _chunks_summed(dg, xs, n)
    return unbroadcast(dg * n + g * dn, xs)


def unrepeat_sequence_count_tangent(dg, dxs, g, xs, n):
    """The tangent of `unrepeat_count(g, xs, n)`."""
    if _repeats(xs, n):
        return 0.0
    return unbroadcast(dg * np.asarray(xs) + g * np.asarray(dxs), n)


def count_transpose(h, g, xs, n):
    """The transpose of `unrepeat_sequence_count(g, xs, n)` in `g` (third derivatives)."""
    if _repeats(xs, n) or _is_zero(h):
        return 0.0
    return np.broadcast_to(np.multiply(xs, h), np.shape(g))


def count_transpose_xs(h, g, xs, n):
    """The transpose of `unrepeat_sequence_count(g, xs, n)` in `xs`."""
    if _repeats(xs, n) or _is_zero(h):
        return 0.0
    return unbroadcast(g * h, xs)
