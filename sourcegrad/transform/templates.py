"""Rule templates made concrete: parameters replaced by the statement's atoms, ``d[x]`` by adjoint names.

Input: a ``rules.table.Template`` and one normal-form statement. Output: adjoint IR statements,
``dx += expr`` (an ``ast.AugAssign``, meaning "accumulate"; ``accumulate.lower`` decides between
``dx = expr`` and ``dx = dx + expr``). The rule's own text lands in the generated code, with its
module names (``np``, ``sg``) spelled as the generated code binds them.
"""

from __future__ import annotations

import ast
import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sourcegrad.errors import TransformError, location_of
from sourcegrad.rules.table import Template


@dataclass(frozen=True)
class Site:
    """The statement a template is instantiated for."""

    stmt: ast.stmt
    target: str
    args: list[ast.expr]
    keywords: dict[str, ast.expr]
    filename: str


def bind(template: Template, site: Site) -> dict[str, ast.expr]:
    """Template parameter -> the statement's atom (or the default, as a constant)."""
    result, *params = template.params
    if len(site.args) > len(params):
        raise _error(f"too many arguments for the rule of {_name(template.primal)}", site, "pass only the arguments the rule covers, or register a rule that takes them")
    binding: dict[str, ast.expr] = {result: ast.Name(site.target, ast.Load())}
    binding.update(zip(params, site.args))
    for key, value in site.keywords.items():
        if key not in params or key in binding:
            raise _error(f"the rule of {_name(template.primal)} has no parameter '{key}'", site,
                         "pass it positionally, or register a rule that accepts it")
        binding[key] = value
    for param in params:
        if param not in binding:
            if param not in template.defaults:
                raise _error(f"missing argument '{param}' for the rule of {_name(template.primal)}", site, f"pass '{param}' as the function requires")
            binding[param] = ast.parse(repr(template.defaults[param]), mode="eval").body
    return binding


def instantiate(template: Template, site: Site, *, adjoint: Callable[[str], str],
                active: Callable[[str], bool], spell: Callable[[Any, str], ast.expr],
                same_shape: Callable[[str], bool], index_spelling: Callable[[ast.expr], ast.expr]
                ) -> list[ast.stmt]:
    """The adjoint statements of ``site`` from ``template``, one per active argument."""
    binding = bind(template, site)
    result = template.params[0]
    # Operands a rule gives no line are discrete (indices, conditions, shapes): zero derivative.
    # That a rule covers every floating-point operand is checked by tests/rules/test_rule_table.py.
    out: list[ast.stmt] = []
    for stmt in template.body:
        param = stmt.targets[0].slice.id
        actual = binding[param]
        if not (isinstance(actual, ast.Name) and active(actual.id)) or _declared_zero(stmt):
            continue
        substitute = _Substitute(template, binding, result, adjoint, spell, same_shape, index_spelling)
        value = substitute.visit(copy.deepcopy(stmt.value))
        acc = ast.AugAssign(ast.Name(adjoint(actual.id), ast.Store()), ast.Add(), value)
        out.append(ast.fix_missing_locations(ast.copy_location(acc, site.stmt)))
    return out


class _Substitute(ast.NodeTransformer):
    def __init__(self, template, binding, result, adjoint, spell, same_shape, index_spelling):
        self.template, self.binding, self.result = template, binding, result
        self.adjoint, self.spell, self.same_shape = adjoint, spell, same_shape
        self.index_spelling = index_spelling
        self.local: frozenset[str] = frozenset()  # comprehension and lambda variables in scope

    def _in_scope(self, node: ast.AST, names: set[str]) -> ast.AST:
        saved, self.local = self.local, self.local | names
        try:
            return self.generic_visit(node)
        finally:
            self.local = saved

    def _comprehension(self, node):
        # The first iterable is evaluated outside the comprehension's scope, the rest inside.
        first = self.visit(node.generators[0].iter)
        node.generators[0].iter = ast.Constant(None)
        bound = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        node = self._in_scope(node, bound)
        node.generators[0].iter = first
        return node

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Lambda(self, node: ast.Lambda):
        args = node.args
        names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        return self._in_scope(node, names)

    def visit_Subscript(self, node: ast.Subscript):
        if isinstance(node.value, ast.Name) and node.value.id == "d" and isinstance(node.slice, ast.Name):
            actual = self.binding[node.slice.id]
            assert isinstance(actual, ast.Name), "d[...] of a constant is never read"
            return ast.Name(self.adjoint(actual.id), ast.Load())
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call):
        # sg.unbroadcast(g, x) is the identity where x already has the result's shape.
        match node:
            case ast.Call(func=ast.Attribute(attr="unbroadcast"), args=[grad, ast.Name(id=p)]) if (
                p in self.binding
                and isinstance(self.binding[p], ast.Name)
                and self.same_shape(self.binding[p].id)
            ):
                return self.visit(grad)
        callee = resolve_in(node.func, self.template.namespace)
        node = self.generic_visit(node)
        return without_defaults(node, callee)

    def visit_Name(self, node: ast.Name):
        if node.id in self.local:
            return node
        if node.id in self.binding:
            return self.index_spelling(copy.deepcopy(self.binding[node.id]))
        value = self.template.namespace.get(node.id)
        if value is None and node.id not in self.template.namespace:
            import builtins

            if hasattr(builtins, node.id):
                return node
            raise TransformError(f"rule template for {_name(self.template.primal)} uses unknown name '{node.id}'")
        return self.spell(value, node.id)


def _declared_zero(stmt: ast.Assign) -> bool:
    """``d[x] = 0.0``: the operand gives only a shape; nothing to accumulate."""
    return isinstance(stmt.value, ast.Constant) and stmt.value.value == 0


def resolve_in(func: ast.expr, namespace) -> Any:
    match func:
        case ast.Name(id=name):
            return namespace.get(name)
        case ast.Attribute(value=base, attr=attr):
            owner = resolve_in(base, namespace)
            return getattr(owner, attr, None) if owner is not None else None
    return None


def without_defaults(call: ast.Call, callee: Any) -> ast.Call:
    """Drop trailing arguments that repeat the callee's defaults: ``sg.unreduce(g, x)``."""
    try:
        params = list(inspect.signature(callee).parameters.values())
    except (TypeError, ValueError):
        return call
    same = lambda arg, p: (
        isinstance(arg, ast.Constant) and p.default is not inspect.Parameter.empty
        and type(arg.value) is type(p.default) and arg.value == p.default
    )
    while call.args and len(call.args) <= len(params) and not call.keywords and same(call.args[-1], params[len(call.args) - 1]):
        call.args.pop()
    by_name = {p.name: p for p in params}
    call.keywords = [k for k in call.keywords if not (k.arg in by_name and same(k.value, by_name[k.arg]))]
    return call


def _name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or ("numpy" if type(fn).__name__ == "ufunc" else "")
    return f"{module}.{getattr(fn, '__qualname__', getattr(fn, '__name__', repr(fn)))}".lstrip(".")


def _error(message: str, site: Site, hint: str | None = None) -> TransformError:
    return TransformError(message, location_of(site.stmt, site.filename), hint=hint)
