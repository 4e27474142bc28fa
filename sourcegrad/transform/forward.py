"""Forward mode: beside each primal statement, the statement of its tangent.

Input: a ``NormalForm``, the differentiated parameters and ``jvp_call`` (which returns the
forward-mode function of a called user function). Output: a FunctionDef
``def f_dot(params..., x_dot...)`` that computes the primal and the tangent of the output together.
Control flow is kept as it is: a tangent is computed where its primal is. Tangent rules come from
the rule tables (``d[y] = d[x] * (1.0 - y * y)``); the terms of inputs that carry no tangent are
pruned symbolically, never multiplied by a zero.
"""

from __future__ import annotations

import ast
import copy
import inspect
from collections.abc import Callable
from typing import Any

from sourcegrad import runtime
from sourcegrad.analyse.facts import activity
from sourcegrad.custom import Custom
from sourcegrad.frontend.resolve import MISSING
from sourcegrad.normal import NormalForm
from sourcegrad.normal.grammar import is_test
from sourcegrad.normal.surgery import Inserted
from sourcegrad.rules import table
from sourcegrad.transform import primitives, templates

ZERO = "__zero__"  # a tangent known to be zero, pruned away below


class ForwardTransform:
    def __init__(self, nf: NormalForm, wrt: list[str], jvp_call: Callable[[Any, tuple[int, ...]], Any]):
        self.nf, self.scope, self.namer = nf, nf.scope, nf.scope.namer
        self.wrt, self.jvp_call = wrt, jvp_call
        final = nf.fn.body[-1]
        assert isinstance(final, ast.Return), "the normal form ends in one return"
        self.returned = final.value
        name = self.returned.id if isinstance(self.returned, ast.Name) else None
        self.activity = activity(nf.fn, wrt, name, self._flows, primitives.tape_edges(nf.fn, self.scope))
        self.sg = self.scope.spell(runtime, "sg")
        self.active_tapes = {t for _, t, _, _ in primitives.tape_ops(nf.fn, self.scope) if self.active(t)}

    def active(self, name: str) -> bool:
        return self.activity.active(name)

    def tangent(self, name: str) -> str:
        return self.namer.tangent(name)

    def _flows(self, stmt: ast.Assign) -> set[str] | None:
        fn = primitives.callee(stmt.value, self.scope)
        if fn is MISSING:
            return None
        if table.is_nondifferentiable(fn):
            return set()
        return primitives.differentiated_operands(stmt.value, self.scope, table.lookup_tangent(fn))

    def function(self, name: str, with_value: bool) -> ast.FunctionDef:
        """``def name(params..., x_dot...)`` returning the output's tangent (and value first)."""
        # a parameter outside wrt can still become active (restored from a tape): its tangent starts at 0
        start = [self._set(p, ZERO, self.nf.fn.body[0]) for p in self.nf.params if p not in self.wrt and self.active(p)]
        body = start + self.block(self.nf.fn.body[:-1])
        out = self.returned
        if isinstance(out, ast.Name) and self.active(out.id):
            out_dot: ast.expr = _load(self.tangent(out.id))
        else:
            out_dot = self._zeros_like(copy.deepcopy(out))
        value = ast.Tuple([copy.deepcopy(out), out_dot], ast.Load()) if with_value else out_dot
        body.append(ast.Return(value))
        args = copy.deepcopy(self.nf.fn.args)
        args.args += [ast.arg(self.tangent(p)) for p in self.wrt]
        if args.defaults:  # tangents have no defaults: the primal defaults must come last
            args.defaults = []
        fn = ast.FunctionDef(name, args, body, [], None, None, **_tp())
        return ast.fix_missing_locations(fn)

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            match stmt:
                case ast.If(test=test, body=body, orelse=orelse):
                    out.append(ast.copy_location(ast.If(test, self.block(body) or [ast.Pass()], self.block(orelse)), stmt))
                case ast.For(target=target, iter=iterable, body=body):
                    out.append(ast.copy_location(ast.For(target, iterable, self.block(body) or [ast.Pass()], []), stmt))
                case ast.While(test=test, body=body):
                    out.append(ast.copy_location(ast.While(test, self.block(body) or [ast.Pass()], []), stmt))
                case Inserted():  # backward-pass code: forward mode has no backward pass
                    pass
                case _:
                    out.extend(self.simple(stmt))
        return out

    def simple(self, stmt: ast.stmt) -> list[ast.stmt]:
        match stmt:
            # The tape of a generated gradient: its tangent is a tape of tangents, pushed and popped
            # beside it, one tangent per value (zeros where the value is inactive). Kept apart, the
            # two stay in step across a split pair whose halves disagree on which tapes are active:
            # a forward half whose tape is inactive returns ``zeros_like(tape)``, a zero per value.
            case ast.Expr(value=ast.Call(args=[ast.Name(id=tape), value]) as call) if (
                self._is(call, runtime.push) and tape in self.active_tapes
            ):
                name = value.id if isinstance(value, ast.Name) else None
                dot = _load(self.tangent(name)) if name and self.active(name) else self._zeros_like(copy.deepcopy(value))
                return [stmt, _at(ast.Expr(self._on_tangents(call, tape, dot)), stmt)]
            case ast.Assign(targets=[ast.Name(id=name)], value=ast.Call(args=[ast.Name(id=tape)]) as call) if (
                self._is(call, runtime.pop) and tape in self.active_tapes
            ):
                popped = self._on_tangents(call, tape)
                if not self.active(name):
                    return [stmt, _at(ast.Expr(popped), stmt)]
                return [stmt, _at(ast.Assign([ast.Name(self.tangent(name), ast.Store())], popped), stmt)]
            case ast.Expr(value=ast.Call(args=[ast.Name(id=tape), *rest]) as call) if (
                (self._is(call, runtime.pop) or self._is(call, runtime.truncate)) and tape in self.active_tapes
            ):
                return [stmt, _at(ast.Expr(self._on_tangents(call, tape, *rest)), stmt)]
            case ast.Assign(targets=[ast.Name(id=target)], value=value) if self.active(target) and not is_test(value):
                return self._assign(stmt, target, value)
            case ast.Assign(targets=[ast.Tuple(elts=elts)], value=ast.Name(id=source)) if self.active(source):
                names = ast.Tuple([ast.Name(self.tangent(e.id), ast.Store()) for e in elts], ast.Store())
                return [stmt, _at(ast.Assign([names], _load(self.tangent(source))), stmt)]
        return [stmt]

    def _assign(self, stmt: ast.stmt, target: str, value: ast.expr) -> list[ast.stmt]:
        match value:
            case ast.Name(id=source):
                return [stmt, self._set(target, self._dot(source, value), stmt)]
            case ast.Constant():
                return [stmt, self._set(target, ZERO, stmt, value)]
            case ast.Attribute() if primitives.callee(value, self.scope) is MISSING:
                return [stmt, self._set(target, ZERO, stmt, value)]
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                parts = [self._dot_or_zeros(e) for e in elts]
                return [stmt, self._set(target, type(value)(parts, ast.Load()), stmt)]
            case ast.Dict(keys=keys, values=elts):
                parts = [self._dot_or_zeros(e) for e in elts]
                return [stmt, self._set(target, ast.Dict(keys, parts), stmt)]
        fn = primitives.callee(value, self.scope)
        if fn is not MISSING and table.is_nondifferentiable(fn):
            return [stmt, self._set(target, ZERO, stmt)]
        template = table.lookup_tangent(fn) if fn is not MISSING else None
        if template is None and isinstance(fn, Custom):
            return self._custom_call(stmt, target, value, fn) if fn.jvp else self._user_call(stmt, target, value, fn.primal)
        if template is None and inspect.isfunction(fn):
            return self._user_call(stmt, target, value, fn)
        if template is None:
            raise primitives.no_rule(fn, value, stmt, self.scope)
        args, keywords = primitives.operands(value)
        site = templates.Site(stmt, target, args, keywords, self.scope.filename)
        binding = templates.bind(template, site)
        expr = _Tangents(template, binding, self).visit(copy.deepcopy(template.body[0].value))
        summed = isinstance(expr, ast.BinOp) and type(expr.op) in (ast.Add, ast.Sub)
        tangent = _prune(expr, set(self.namer.tangent_names().values()))
        if summed and tangent != ZERO and not (isinstance(tangent, ast.BinOp) and type(tangent.op) in (ast.Add, ast.Sub)):
            # `x_dot + y_dot` lost a zero term: what is left has its operand's shape, which
            # broadcasting may have widened (`r = y - m` with only the scalar m varying)
            spread = ast.Attribute(copy.deepcopy(self.sg), "unbroadcast", ast.Load())
            tangent = ast.Call(spread, [tangent, _load(target)], [])
        return [stmt, self._set(target, tangent, stmt)]

    def _user_call(self, stmt, target: str, call: ast.Call, fn: Any) -> list[ast.stmt]:
        args = primitives.bind_call(fn, call, stmt, self.scope)
        active = tuple(i for i, a in enumerate(args) if isinstance(a, ast.Name) and self.active(a.id))
        jvp = self.jvp_call(fn, active)
        name = self.scope.spell(jvp, fn.__name__ + "_jvp")
        targets = ast.Tuple([ast.Name(target, ast.Store()), ast.Name(self.tangent(target), ast.Store())], ast.Store())
        tangents = [_load(self.tangent(args[i].id)) for i in active]
        positional, keywords = primitives.call_arguments(fn, args)
        return [_at(ast.Assign([targets], ast.Call(name, positional + tangents, keywords)), stmt)]

    def _custom_call(self, stmt, target: str, call: ast.Call, fn: Custom) -> list[ast.stmt]:
        """``y, y_dot = f_jvp((x, w), (x_dot, zeros))``: the user's rule, by its own name."""
        args = primitives.bind_call(fn.primal, call, stmt, self.scope)
        tangents = [self._dot_or_zeros(a) for a in args]
        name = self.scope.spell(fn.jvp, fn.jvp.__name__)
        targets = ast.Tuple([ast.Name(target, ast.Store()), ast.Name(self.tangent(target), ast.Store())], ast.Store())
        packed = [ast.Tuple(list(args), ast.Load()), ast.Tuple(tangents, ast.Load())]
        return [_at(ast.Assign([targets], ast.Call(name, packed, [])), stmt)]

    def _on_tangents(self, call: ast.Call, tape: str, *rest: ast.expr) -> ast.Call:
        """``call`` (``sg.push``/``pop``/``truncate`` of ``tape``) on the tape's tape of tangents."""
        return ast.Call(copy.deepcopy(call.func), [_load(self.tangent(tape)), *map(copy.deepcopy, rest)], [])

    def _is(self, call: ast.Call, fn: Any) -> bool:
        return self.scope.resolve(call.func) is fn

    def _dot(self, name: str, node: ast.expr) -> ast.expr | str:
        return _load(self.tangent(name)) if self.active(name) else ZERO

    def _dot_or_zeros(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Name) and self.active(node.id):
            return _load(self.tangent(node.id))
        return self._zeros_like(copy.deepcopy(node))

    def _zeros_like(self, node: ast.expr) -> ast.expr:
        return ast.Call(ast.Attribute(copy.deepcopy(self.sg), "zeros_like", ast.Load()), [node], [])

    def _set(self, target: str, value, stmt: ast.stmt, like: ast.expr | None = None) -> ast.stmt:
        if value == ZERO or (isinstance(value, ast.Name) and value.id == ZERO):
            value = self._zeros_like(_load(target))
        return _at(ast.Assign([ast.Name(self.tangent(target), ast.Store())], value), stmt)


class _Tangents(ast.NodeTransformer):
    """A tangent template made concrete: ``d[p]`` -> ``p``'s tangent or ZERO, params -> atoms."""

    def __init__(self, template, binding, transform: ForwardTransform):
        self.template, self.binding, self.t = template, binding, transform

    def visit_Subscript(self, node: ast.Subscript):
        if isinstance(node.value, ast.Name) and node.value.id == "d" and isinstance(node.slice, ast.Name):
            actual = self.binding[node.slice.id]
            if isinstance(actual, ast.Name) and self.t.active(actual.id):
                return _load(self.t.tangent(actual.id))
            return _load(ZERO)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call):
        callee = templates.resolve_in(node.func, self.template.namespace)
        return templates.without_defaults(self.generic_visit(node), callee)

    def visit_Name(self, node: ast.Name):
        if node.id in self.binding:
            return primitives.index_value(copy.deepcopy(self.binding[node.id]), self.t.scope)
        if node.id in self.template.namespace:
            return self.t.scope.spell(self.template.namespace[node.id], node.id)
        return node


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == ZERO


class _Prune(ast.NodeTransformer):
    """Symbolic zeros through the linear operations of tangent templates."""

    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        left, right = _is_zero(node.left), _is_zero(node.right)
        match node.op:
            case ast.Add():
                return node.right if left else node.left if right else node
            case ast.Sub():
                if right:
                    return node.left
                return ast.UnaryOp(ast.USub(), node.right) if left else node
            case ast.Mult() | ast.MatMult():
                return _load(ZERO) if left or right else node
            case ast.Div() | ast.FloorDiv():
                return _load(ZERO) if left else node
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp):
        self.generic_visit(node)
        return _load(ZERO) if _is_zero(node.operand) else node

    def visit_Subscript(self, node: ast.Subscript):
        self.generic_visit(node)
        return _load(ZERO) if _is_zero(node.value) else node

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        values = node.args + [k.value for k in node.keywords]
        zeros = [v for v in values if _is_zero(v)]
        if zeros and not any(self.reads_tangent(v) for v in values):
            return _load(ZERO)  # a linear map (np.sum, np.reshape, ...) of a zero tangent
        if zeros:
            _ZeroConstants().visit(node)  # np.where(c, x_dot, 0.0)
        return node

    def __init__(self, tangents: set[str]):
        self.tangents = tangents

    def reads_tangent(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.tangents for n in ast.walk(node))


class _ZeroConstants(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name):
        return ast.Constant(0.0) if node.id == ZERO else node


def _prune(expr: ast.expr, tangents: set[str]) -> ast.expr | str:
    pruned = _Prune(tangents).visit(expr)
    if _is_zero(pruned):
        return ZERO
    # a zero the rules above cannot remove (an element of a tuple) is spelled 0.0
    return ast.fix_missing_locations(_ZeroConstants().visit(pruned))


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _at(node: ast.stmt, where: ast.AST) -> ast.stmt:
    return ast.fix_missing_locations(ast.copy_location(node, where))


def _tp() -> dict:
    return {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
