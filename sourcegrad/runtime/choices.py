"""Python's `max`, `min` and `sorted` (normal/anf.py): which item Python picks, or the order it
sorts them in, as positions. The call becomes `items[sg.max_index(items)]` or
`sg.permuted(items, sg.sort_order(items))`, so the derivative flows through the chosen items: by
the rules of subscripts, and by `permuted`'s own (its cotangent goes back to the places the items
came from). `max_index`, `min_index` and `sort_order` have no derivative. The items may be
anything Python sorts: numbers, arrays' rows, tuples `(key, value)` of `d.items()`, a dict's keys
(which have no derivative: their cotangent is a zero)."""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.zeros import zeros_like

_NO_KEY = object()


def _position(items, key, name: str, better) -> int:
    items = list(items)
    if not items:
        raise ValueError(f"{name}() iterable argument is empty")
    keyed = items if key is None else [key(v) for v in items]
    best = 0
    for i in range(1, len(keyed)):
        if better(keyed[i], keyed[best]):  # strict: ties keep the first, as Python's max and min do
            best = i
    return best


def max_index(items, key=None) -> int:
    """The position of the item `max(items, key=key)` returns: the first largest."""
    return _position(items, key, "max", lambda a, b: a > b)


def min_index(items, key=None) -> int:
    """The position of the item `min(items, key=key)` returns: the first smallest."""
    return _position(items, key, "min", lambda a, b: a < b)


def sort_order(items, key=None, reverse=False) -> list[int]:
    """The positions of `sorted(items, key=key, reverse=reverse)`'s items in `items` (stable, as
    Python's sort is, also with `reverse=True`)."""
    items = list(items)
    keyed = items if key is None else [key(v) for v in items]
    return sorted(range(len(items)), key=keyed.__getitem__, reverse=reverse)


def permuted(items, order) -> list:
    """`[list(items)[i] for i in order]`: what `sorted` returns, the same objects in a new order."""
    items = list(items)
    return [items[i] for i in order]


def unpermuted(g, items, order):
    """The cotangent of `items` in `permuted(items, order)`: `g[k]` goes back to place `order[k]`,
    in a cotangent of the structure of `items` (a dict's keys: a zero)."""
    if isinstance(items, dict) or _is_zero(g):
        return zeros_like(items)
    if isinstance(items, np.ndarray):  # its rows (or numbers): a zero row stays a zero
        back = np.zeros(items.shape, np.result_type(items.dtype, *(np.asarray(r).dtype for r in g)))
        for k, i in enumerate(order):
            back[i] = g[k]
        return back
    back = [None] * len(order)
    for k, i in enumerate(order):
        back[i] = g[k]
    return type(items)(back) if type(items) in (list, tuple) else back


def permuted_tangent(dxs, items, order):
    """The tangent of `permuted(items, order)`: the items' tangents in the same order."""
    if isinstance(items, dict) or _is_zero(dxs):
        return [zeros_like(v) for v in permuted(items, order)]
    return permuted(dxs, order)


def _is_zero(g) -> bool:
    return type(g) is float and g == 0.0
