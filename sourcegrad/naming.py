"""The only place names are invented for generated code.

Names are deterministic (the same input gives the same names, run after run) and plain: the adjoint
of ``h`` is ``dh``, a temporary for the product on the line ``h = x @ W + b`` is ``h_matmul``, a
collision appends ``_2``, ``_3``. Nothing here knows about ASTs beyond strings.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

_NOT_IDENT = re.compile(r"\W")


class Namer:
    """Hands out fresh names that collide with nothing already taken."""

    def __init__(self, taken: Iterable[str] = ()):
        self._taken: set[str] = set(taken)
        self._adjoints: dict = {}  # name -> adjoint name; ("tangent", name) -> tangent name

    def reserve(self, name: str) -> None:
        self._taken.add(name)

    def is_taken(self, name: str) -> bool:
        return name in self._taken

    def taken(self) -> set[str]:
        return set(self._taken)

    def fresh(self, base: str) -> str:
        """``base`` itself if free, else ``base_2``, ``base_3``, ..."""
        base = _NOT_IDENT.sub("_", base).strip("_") or "tmp"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "v_" + base
        name, k = base, 2
        while name in self._taken:
            name, k = f"{base}_{k}", k + 1
        self._taken.add(name)
        return name

    def adjoint(self, name: str) -> str:
        """The adjoint of ``name``: ``dh`` for ``h``; the same answer every time it is asked."""
        if name not in self._adjoints:
            candidate = "d" + name
            if candidate in self._taken:
                candidate = "d_" + name
            self._adjoints[name] = self.fresh(candidate)
        return self._adjoints[name]

    def tangent(self, name: str) -> str:
        """The forward-mode tangent of ``name``: ``h_dot`` for ``h``; stable like ``adjoint``."""
        key = ("tangent", name)
        if key not in self._adjoints:
            self._adjoints[key] = self.fresh(name + "_dot")
        return self._adjoints[key]

    def adjoint_names(self) -> dict[str, str]:
        return {k: v for k, v in self._adjoints.items() if isinstance(k, str)}

    def tangent_names(self) -> dict[str, str]:
        return {k[1]: v for k, v in self._adjoints.items() if isinstance(k, tuple)}
