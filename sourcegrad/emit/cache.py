"""Generated functions, cached by (code object, request) and the objects their names resolved to.

A second ``grad(f)`` of an unchanged function is a dictionary lookup plus an identity check of each
name the transform resolved; a changed function (new code object) or a rebound global is
transformed again.
"""

from __future__ import annotations

from typing import Any

from sourcegrad.frontend.resolve import Resolver


class Cache:
    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[Any, dict[str, Any], Any]] = {}

    def get(self, fn, request) -> Any:
        code = getattr(fn, "__code__", None)  # None: not a Python function (the frontend says so)
        entry = self._entries.get((code, request)) if code is not None else None
        if entry is None:
            return None
        made, used, globals_, defaults = entry
        if globals_ is not fn.__globals__ or not _same(defaults, _defaults(fn)):
            return None
        probe = Resolver(fn)
        for name, value in used.items():
            if probe.lookup(name) is not value:
                return None
        return made

    def put(self, fn, request, made, resolver: Resolver) -> None:
        self._entries[(fn.__code__, request)] = (made, dict(resolver.used), fn.__globals__, _defaults(fn))


def _defaults(fn) -> tuple:
    return tuple(fn.__defaults__ or ()) + tuple((fn.__kwdefaults__ or {}).values())


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))
