"""Optimisation passes over a generated function (placeholder: identity until the passes land)."""

from __future__ import annotations

import ast


def optimise(fn: ast.FunctionDef, pure) -> ast.FunctionDef:
    return fn
