"""Normal form: desugar, then one primitive per statement (see ``grammar``).

Input: a ``FunctionSource`` that passed the fence and its ``Resolver``. Output: ``NormalForm``, the
function in the core language plus the ``Scope`` that resolves its names.
"""

from __future__ import annotations

import ast
import copy
from collections import Counter
from dataclasses import dataclass

from sourcegrad.frontend.resolve import Resolver
from sourcegrad.naming import Namer
from sourcegrad.normal import aliasing, comprehensions, desugar, objects, surgery
from sourcegrad.normal.anf import Normaliser, Scope
from sourcegrad.normal.grammar import assigned_names


@dataclass
class NormalForm:
    fn: ast.FunctionDef
    scope: Scope

    @property
    def params(self) -> list[str]:
        """Every parameter, in the order of the signature (``inspect.signature``'s)."""
        args = self.fn.args
        return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


def normalise(source, resolver: Resolver, namer: Namer | None = None, assume_plain: bool = False) -> NormalForm:
    """The user function ``source`` (a FunctionSource) in the core language.

    ``assume_plain``: a parameter that the body never rebinds is taken to hold no user object where
    its ``.T``, ``.shape``... are read (``NumPy``'s meaning); ``scope.assumed_plain`` lists those read
    so, for the guard of ``sourcegrad.plain``."""
    fn = _variadics_as_keywords(copy.deepcopy(source.node))
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    local_names = frozenset(assigned_names(fn.body)) | frozenset(params)
    namer = namer or Namer()
    for name in local_names | _all_names(fn):
        namer.reserve(name)
    scope = Scope(resolver, namer, source.filename, local_names)
    fn = surgery.extract(fn, scope.resolve, scope.error)
    fn = comprehensions.lower_comprehensions(fn, namer, scope.resolve, scope.spell, scope.error)
    fn = desugar.inline_function_arguments(fn, namer, scope.resolve, _callee_definer(fn, source.node, scope, namer))
    fn = desugar.inline_local_functions(fn, namer, scope.error)
    fn = desugar.AssignmentForms(namer, scope.spell).visit(fn)
    fn = desugar.IndexTricks(scope.resolve, scope.spell).visit(fn)
    fn = desugar.lower_exits(fn, namer)
    fn = desugar.lower_walrus(fn, namer, scope.error)
    scope.local_names = frozenset(assigned_names(fn.body)) | frozenset(params)
    fn = desugar.loops_over_range(fn, namer, scope.resolve, scope.spell, scope.error)
    objects.check_module_values(fn, scope)
    fn = objects.lower_statements(fn, scope)
    scope.made_by_calls = objects.names_made_by_calls(fn, scope.resolve)
    scope.arrays = objects.array_names(fn, scope.resolve)
    scope.sequences = objects.sequence_names(fn, scope.resolve)
    scope.function_tables = objects.function_tables(fn, scope.resolve)
    objects.check_array_attributes(fn, scope)
    # Generated code (emit.pseudo_filename: "<sourcegrad NAME ...>") accumulates in place only
    # into buffers it owns (transform/accumulate.py): its `dx += e` need no alias check.
    generated = source.filename.startswith("<sourcegrad ")
    user_names = frozenset(_all_names(source.node)) | frozenset(a.arg for a in ast.walk(source.node) if isinstance(a, ast.arg))
    aliasing.check_writes(fn, scope.resolve, scope.error, augmented=not generated, user_names=user_names)
    if assume_plain:
        scope.plain_params = frozenset(params) - frozenset(assigned_names(fn.body))
    stores = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    fn.body = Normaliser(scope).block(fn.body)
    _check_partials(fn, stores, scope)
    scope.local_names = frozenset(assigned_names(fn.body)) | frozenset(params)
    ast.fix_missing_locations(fn)
    return NormalForm(fn, scope)


def _variadics_as_keywords(fn: ast.FunctionDef) -> ast.FunctionDef:
    """``def g(x, *args, k=1.0, **kwargs)`` as ``def g(x, *, args, k=1.0, kwargs)``: the tuple and
    the dict are parameters like any other (a pytree each), passed by keyword from generated code
    (``transform.primitives.call_arguments``), in ``inspect.signature``'s order."""
    a = fn.args
    if a.vararg is None and a.kwarg is None:
        return fn
    head, tail = ([a.vararg], [None]) if a.vararg else ([], [])
    end, end_default = ([a.kwarg], [None]) if a.kwarg else ([], [])
    a.kwonlyargs = head + a.kwonlyargs + end
    a.kw_defaults = tail + a.kw_defaults + end_default
    a.vararg = a.kwarg = None
    return fn


def _check_partials(fn: ast.FunctionDef, stores: list[ast.Name], scope: Scope) -> None:
    """A local ``functools.partial`` is inlined at its calls: it must be bound once, and only called."""
    bound = Counter(n.id for n in stores)
    for node in stores:
        if bound[node.id] > 1 and node.id in scope.partials:
            raise scope.error(f"the partial '{node.id}' is bound more than once", node,
                              "give each functools.partial a name of its own")
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id in scope.partials:
            raise scope.error(f"the partial '{node.id}' is used other than by calling it", node,
                              "call it directly; pass the function and its arguments separately")


def _all_names(fn: ast.FunctionDef) -> set[str]:
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}


def _callee_definer(fn: ast.FunctionDef, own: ast.FunctionDef, scope: Scope, namer: Namer):
    """``callee_def`` of ``desugar.inline_function_arguments``: the definition of a user function
    that is passed a lambda, ready to inline into ``fn``, where that means what calling it means:
    a plain Python function without a closure, ``*args`` or recursion, whose global names denote
    here what they denote in its module and are no names of ``fn``. Its statements take the
    call's position (they come from another place, perhaps another file)."""
    import builtins
    import types

    from sourcegrad.errors import SourceUnavailable
    from sourcegrad.frontend import fence
    from sourcegrad.frontend.resolve import MISSING
    from sourcegrad.frontend.source import function_source

    caller_names = _all_names(fn) | {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}

    def callee_def(target, call: ast.Call) -> ast.FunctionDef | None:
        if not isinstance(target, types.FunctionType) or target.__closure__:
            return None
        try:
            src = function_source(target)
        except SourceUnavailable:
            return None
        node = src.node
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or any(
                isinstance(n, (ast.With, ast.FunctionDef, ast.Lambda, ast.Global, ast.Nonlocal, ast.Yield))
                for n in ast.walk(node) if n is not node):
            return None
        local = {a.arg for a in args.args} | set(assigned_names(node.body)) | {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for name in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - local:
            meant = target.__globals__.get(name, getattr(builtins, name, MISSING))
            if name in caller_names or name == node.name or scope.resolve(ast.Name(name, ast.Load())) is not meant:
                return None
        fence.check_supported(src)
        node = comprehensions.lower_comprehensions(copy.deepcopy(node), namer, scope.resolve, scope.spell, scope.error)
        for sub in ast.walk(node):
            if "lineno" in sub._attributes:
                ast.copy_location(sub, call)
        return node

    return callee_def

