"""Normal form: desugar, then one primitive per statement (see ``grammar``).

Input: a ``FunctionSource`` that passed the fence and its ``Resolver``. Output: ``NormalForm``, the
function in the core language plus the ``Scope`` that resolves its names.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

from sourcegrad.frontend.resolve import Resolver
from sourcegrad.naming import Namer
from sourcegrad.normal import desugar
from sourcegrad.normal.anf import Normaliser, Scope
from sourcegrad.normal.grammar import assigned_names


@dataclass
class NormalForm:
    fn: ast.FunctionDef
    scope: Scope

    @property
    def params(self) -> list[str]:
        return [a.arg for a in self.fn.args.args]


def normalise(source, resolver: Resolver, namer: Namer | None = None) -> NormalForm:
    """The user function ``source`` (a FunctionSource) in the core language."""
    fn = copy.deepcopy(source.node)
    params = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
    local_names = frozenset(assigned_names(fn.body)) | frozenset(params)
    namer = namer or Namer()
    for name in local_names | _all_names(fn):
        namer.reserve(name)
    scope = Scope(resolver, namer, source.filename, local_names)
    fn = desugar.inline_local_functions(fn, namer, lambda message, node: scope.error(message, node))
    fn = desugar.AssignmentForms().visit(fn)
    fn = desugar.lower_exits(fn, namer)
    fn = desugar.loops_over_range(fn, namer, lambda it: _is_range(it, scope))
    fn.body = Normaliser(scope).block(fn.body)
    scope.local_names = frozenset(assigned_names(fn.body)) | frozenset(params)
    ast.fix_missing_locations(fn)
    return NormalForm(fn, scope)


def _is_range(node: ast.expr, scope: Scope) -> bool:
    """A range, or a slice of one (``range(n)[::-1]``, ``range(n)[:k]``: ranges again)."""
    match node:
        case ast.Call(func=func, keywords=[]):
            return scope.resolve(func) is range
        case ast.Subscript(value=inner, slice=ast.Slice()):
            return _is_range(inner, scope)
    return False


def _all_names(fn: ast.FunctionDef) -> set[str]:
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
