"""Dicts iterated in differentiated code: the keys a loop runs over.

``for k, v in d.items()`` becomes a loop over ``keys = sg.keys(d)``, a list made before the loop,
whose body reads ``k = keys[i]`` and ``v = d[k]``: the adjoint of that subscript scatters into
``d``'s cotangent, a dict (``broadcast.unindex``). Keys carry no derivative.

A loop over a value that the code alone does not show to be a dict or a sequence (a parameter,
an attribute) runs over ``sg.iterated(xs)``: a dict's keys, anything else itself, as Python's
``for`` does. Its derivative passes the cotangent (or tangent) through for a sequence and is zero
for a dict (``uniterated``, ``iterated_tangent``; each has rules, so derivatives differentiate
again).

``x.copy()`` of a runtime value is ``sg.copy(x)``: a dict's or a list's own shallow copy, an
array's ``np.copy``; its derivative is the identity.

A leaf of the package: NumPy, the standard library and ``zeros`` only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sourcegrad.runtime.zeros import zeros_like


def keys(d) -> list:
    """The keys of the dict ``d``, in its order, as a new list (no derivative)."""
    return list(_mapping(d))


def has_key(d, key) -> bool:
    """``key in d`` for the dict ``d``: the test of ``d.get(key, default)`` (no derivative)."""
    return key in _mapping(d)


def _mapping(d) -> Mapping:
    if not isinstance(d, Mapping):
        name = type(d).__name__
        raise TypeError(
            f"sourcegrad: expected a dict here (`.items()`, `.keys()`, `.values()` and `.get()` of a "
            f"value are read as a dict's), got a {name}; for an object with such a method, call it "
            f"through its class by name: `{name}.get(obj, key)`, `{name}.items(obj)`"
        )
    return d


def iterated(xs):
    """What ``for x in xs`` runs over: the list of a dict's keys, or ``xs`` itself."""
    return list(xs) if isinstance(xs, Mapping) else xs


def uniterated(g, xs):
    """The cotangent of ``xs`` given the cotangent ``g`` of ``iterated(xs)``: ``g`` itself, or
    zeros of the dict ``xs`` (its keys carry no derivative)."""
    return zeros_like(xs) if isinstance(xs, Mapping) else g


def iterated_tangent(t, xs):
    """The tangent of ``iterated(xs)`` given the tangent ``t`` of ``xs``: ``t`` itself, or a zero
    per key of the dict ``xs``."""
    return [0.0] * len(xs) if isinstance(xs, Mapping) else t


def copy(x):
    """``x.copy()``: a new dict or list with the same items, or a copy of an array."""
    return x.copy() if isinstance(x, (dict, list)) else np.copy(x)


def dict_copy(x):
    """``dict(x)`` of a dict: a new dict with the same items (its derivative passes through, as
    ``copy``'s does). A dict made from key-value pairs would need the pairs' cotangents: refused."""
    if not isinstance(x, Mapping):
        raise TypeError(f"sourcegrad: dict(x) copies a dict here, but x is a {type(x).__name__}; build a dict "
                        "from pairs with a comprehension ({k: v for k, v in pairs}) or a loop")
    return dict(x)
