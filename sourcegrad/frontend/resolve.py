"""Names of a user function resolved to live objects, at transformation time.

A call's target is looked up by identity in the rule tables, never by spelling, so ``np.tanh``,
``numpy.tanh`` and ``from numpy import tanh`` are the same primitive. Lookups are recorded: the
emitted function binds exactly the objects it was built from, and the cache compares them.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Resolver:
    """Looks names up in a function's closure cells, then its globals, then the builtins."""

    def __init__(self, fn):
        code = fn.__code__
        cells = fn.__closure__ or ()
        self.closure: dict[str, Any] = {}
        for name, cell in zip(code.co_freevars, cells):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is assigned later in the outer scope
                pass
        self.globals: dict[str, Any] = fn.__globals__
        self.used: dict[str, Any] = {}

    def lookup(self, name: str) -> Any:
        """The object ``name`` denotes for the function, or MISSING."""
        for scope in (self.closure, self.globals, vars(builtins)):
            if name in scope:
                value = scope[name]
                stands_for = getattr(value, "sourcegrad_stands_for", None)
                if callable(stands_for) and stands_for() is not None:
                    # a stand-in for a derivative that was still being made when this (generated)
                    # function was: a recursive call; read as the finished function
                    value = stands_for()
                self.used[name] = value
                return value
        return MISSING

    def resolve(self, node: ast.expr, local_names: frozenset[str] = frozenset()) -> Any:
        """The object a ``Name`` or dotted ``Attribute`` chain denotes, or MISSING.

        Names assigned inside the function (``local_names``) are runtime values: MISSING.
        """
        match node:
            case ast.Name(id=name):
                return MISSING if name in local_names else self.lookup(name)
            case ast.Attribute(value=base, attr=attr):
                owner = self.resolve(base, local_names)
                if owner is MISSING:
                    return MISSING
                return getattr(owner, attr, MISSING)
        return MISSING

    def spelling_of(self, obj: Any) -> str | None:
        """A name under which the user's function already sees ``obj`` (``np`` for numpy)."""
        for scope in (self.closure, self.globals):
            for name, value in scope.items():
                if value is obj and name.isidentifier() and not name.startswith("__"):
                    return name
        return None
