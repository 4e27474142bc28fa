"""Python's `max`, `min` and `sorted` of numbers (normal/anf.py): which item Python picks, or the
order it sorts them in, as positions. The call becomes `items[sg.max_index(items)]` or
`list(np.asarray(items)[sg.sort_order(items)])`, so the derivative flows through the chosen items
by the rules of subscripts; these functions themselves have no derivative."""

from __future__ import annotations

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
