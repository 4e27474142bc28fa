"""Desugaring into the core language: small passes, grouped by family.

Input: a user FunctionDef that passed the fence. Output: the same function where augmented and
chained assignments are plain assignments, early ``return``/``break``/``continue`` are flags with
the rest of their block guarded, and every ``for`` loop runs over ``range`` (a dict's loop over a
list of its keys made before the loop). Expressions are left nested; ``anf`` flattens them, and
asks ``dict_method`` for the meaning of ``d.get(k, default)`` and ``d.copy()``.
"""

from __future__ import annotations

import ast
import copy
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sourcegrad import runtime
from sourcegrad.frontend.resolve import MISSING
from sourcegrad.naming import Namer
from sourcegrad.normal.grammar import assigned_names
from sourcegrad.rules import table


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, old)
    return ast.copy_location(new, old)


def _assign(name: str, value: ast.expr, where: ast.AST) -> ast.Assign:
    return _at(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value), where)


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


# --- assignment forms ---------------------------------------------------------------------------


class AssignmentForms(ast.NodeTransformer):
    """``x += e`` -> ``x = x + e`` (``x[i] += e`` -> ``x[i] = x[i] + e``); ``a = b = e`` -> ``a = e; b = a``;
    a starred target ``first, *mid, last = xs`` -> ``first = xs[0]; mid = list(xs[1:-1]); last = xs[-1]``
    (after ``assert len(xs) >= 2``: Python's "not enough values to unpack"), also as a loop's target."""

    def __init__(self, namer: Namer | None = None, spell: Callable[[object], ast.expr] | None = None) -> None:
        self.namer, self.spell = namer, spell

    def visit_AugAssign(self, node: ast.AugAssign):
        target = node.target
        if isinstance(target, ast.Subscript):  # x[i] += v -> x[i] = x[i] + v, NumPy's meaning too
            value = ast.BinOp(ast.Subscript(copy.deepcopy(target.value), copy.deepcopy(target.slice), ast.Load()), node.op, node.value)
            return _at(ast.Assign(targets=[target], value=value), node)
        assert isinstance(target, ast.Name), "the fence only lets names and subscripts of names through"
        value = ast.BinOp(_load(target.id), node.op, node.value)
        assign = _at(ast.Assign(targets=[ast.Name(target.id, ast.Store())], value=value), node)
        assign.augmented = True  # an array's `x += e` writes into x's object (aliasing.check_writes)
        return assign

    def visit_Assign(self, node: ast.Assign):
        if len(node.targets) == 1:
            return self._starred(node.targets[0], node.value, node) if _has_star(node.targets[0]) else node
        first, *rest = node.targets
        out = [_at(ast.Assign(targets=[first], value=node.value), node)]
        source = first if isinstance(first, ast.Name) else None
        for target in rest:
            value = _load(source.id) if source else node.value
            out.append(_at(ast.Assign(targets=[target], value=value), node))
        return [s for stmt in out for s in (self._starred(stmt.targets[0], stmt.value, stmt) if _has_star(stmt.targets[0]) else [stmt])]

    def visit_For(self, node: ast.For):
        self.generic_visit(node)
        if _has_star(node.target):  # for a, *rest in rows: -> for item in rows: a, *rest = item
            item = self.namer.fresh("item")
            node.body = self._starred(node.target, _load(item), node) + node.body
            node.target = _at(ast.Name(item, ast.Store()), node.target)
        return node

    def _starred(self, target: ast.expr, value: ast.expr, where: ast.AST) -> list[ast.stmt]:
        """``target = value`` where ``target`` holds a ``*name`` at some depth, as plain assignments."""
        elts = target.elts
        stars = [i for i, e in enumerate(elts) if isinstance(e, ast.Starred)]
        if not stars:  # a star deeper down: unpack into names, then each of those
            out, later = [], []
            for i, e in enumerate(elts):
                if _has_star(e):
                    inner = self.namer.fresh("items")
                    later += self._starred(e, _load(inner), where)
                    elts[i] = _at(ast.Name(inner, ast.Store()), e)
            return [_at(ast.Assign(targets=[target], value=value), where)] + later
        k, after = stars[0], len(elts) - stars[0] - 1
        bound = assigned_names([ast.Expr(target)])
        out = []
        if not (isinstance(value, ast.Name) and value.id not in bound):
            name = self.namer.fresh("items")
            out.append(_assign(name, value, where))
            value = _load(name)
        size = ast.Call(self.spell(len), [_load(value.id)], [])
        check = ast.Compare(size, [ast.GtE()], [ast.Constant(k + after)])
        message = f"not enough values to unpack (expected at least {k + after})"
        out.append(_at(ast.Assert(check, ast.Constant(message)), where))
        pieces = [(e, ast.Constant(i)) for i, e in enumerate(elts[:k])]
        upper = ast.Constant(-after) if after else None
        rest = ast.Call(self.spell(list), [ast.Subscript(_load(value.id), ast.Slice(ast.Constant(k), upper), ast.Load())], [])
        pieces.append((elts[k].value, None))
        pieces += [(e, ast.Constant(j - after)) for j, e in enumerate(elts[k + 1 :])]
        for e, index in pieces:
            item = rest if index is None else ast.Subscript(_load(value.id), index, ast.Load())
            stmt = _at(ast.Assign(targets=[e], value=item), where)
            out += self._starred(e, item, stmt) if _has_star(e) else [stmt]
        return out


def _has_star(target: ast.expr) -> bool:
    return isinstance(target, (ast.Tuple, ast.List)) and any(isinstance(n, ast.Starred) for n in ast.walk(target))


# --- exits: return, break, continue -----------------------------------------------------------


@dataclass
class _Loop:
    skip: str  # set by any exit from the current iteration
    broke: str | None = None  # set by break or return: leave the loop


@dataclass
class _Exits:
    namer: Namer
    returned: str | None = None
    result: str | None = None
    loops: list[_Loop] = field(default_factory=list)


def _contains(stmts, kinds, into_loops: bool) -> bool:
    for stmt in stmts:
        if isinstance(stmt, kinds):
            return True
        if isinstance(stmt, (ast.FunctionDef, ast.Lambda)):
            continue
        if isinstance(stmt, (ast.For, ast.While)) and not into_loops:
            if ast.Return in kinds and _contains(stmt.body, (ast.Return,), True):
                return True
            if _contains(stmt.orelse, kinds, into_loops):  # a loop's `else` runs in the enclosing loop
                return True
            continue
        for block in ("body", "orelse"):
            if _contains(getattr(stmt, block, []), kinds, into_loops):
                return True
    return False


def _needs_exit_lowering(fn: ast.FunctionDef) -> bool:
    body = fn.body
    early_return = _contains(body[:-1], (ast.Return,), True) or (
        body and not isinstance(body[-1], ast.Return) and _contains(body[-1:], (ast.Return,), True)
    )
    loop_exit = any(
        _contains(n.body, (ast.Break, ast.Continue), False)
        for n in ast.walk(fn)
        if isinstance(n, (ast.For, ast.While))
    )
    return bool(early_return or loop_exit)


def lower_exits(fn: ast.FunctionDef, namer: Namer) -> ast.FunctionDef:
    """Early exits become flags; the statements an exit skips are guarded by ``if not flag``.

    A loop's ``else`` runs when the loop ends without ``break``: after a loop with no ``break`` it
    is simply the next statement (a ``return`` in the loop skips it as it skips what follows), and
    after one with a ``break`` it is guarded by ``if not broke``."""
    fn.body = _loop_else_block(fn.body)
    if not _needs_exit_lowering(fn):
        return fn
    state = _Exits(namer)
    if _contains(fn.body[:-1], (ast.Return,), True) or not isinstance(fn.body[-1], ast.Return):
        state.returned, state.result = namer.fresh("returned"), namer.fresh("result")
    body = _exit_block(fn.body, state)
    if state.returned:
        where = fn.body[0]
        head = [
            _assign(state.returned, ast.Constant(False), where),
            _assign(state.result, ast.Constant(None), where),
        ]
        body = head + body + [_at(ast.Return(_load(state.result)), fn.body[-1])]
    fn.body = body
    return fn


def _loop_else_block(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """The ``else`` of every loop without a ``break`` of its own moved after the loop."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, ast.FunctionDef):
            out.append(stmt)
            continue
        for block in ("body", "orelse"):
            if isinstance(getattr(stmt, block, None), list):
                setattr(stmt, block, _loop_else_block(getattr(stmt, block)))
        out.append(stmt)
        if isinstance(stmt, (ast.For, ast.While)) and stmt.orelse and not _contains(stmt.body, (ast.Break,), False):
            out.extend(stmt.orelse)
            stmt.orelse = []
    return out


def _exit_block(stmts: list[ast.stmt], state: _Exits) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for i, stmt in enumerate(stmts):
        exits = _may_exit(stmt, state)
        out.extend(_exit_stmt(stmt, state))
        rest = stmts[i + 1 :]
        if rest and exits:
            flag = state.loops[-1].skip if state.loops else state.returned
            guard = ast.If(test=ast.UnaryOp(ast.Not(), _load(flag)), body=_exit_block(rest, state), orelse=[])
            out.append(_at(guard, rest[0]))
            break
    return out


def _may_exit(stmt: ast.stmt, state: _Exits) -> bool:
    if state.loops:
        return _contains([stmt], (ast.Break, ast.Continue, ast.Return), False)
    return state.returned is not None and _contains([stmt], (ast.Return,), True)


def _exit_stmt(stmt: ast.stmt, state: _Exits) -> list[ast.stmt]:
    match stmt:
        case ast.Return(value=value) if state.returned:
            out = [_assign(state.result, value or ast.Constant(None), stmt)]
            out.append(_assign(state.returned, ast.Constant(True), stmt))
            for loop in state.loops:
                out += [_assign(loop.skip, ast.Constant(True), stmt)]
                out += [_assign(loop.broke, ast.Constant(True), stmt)]
            return out
        case ast.Break():
            loop = state.loops[-1]
            return [_assign(loop.skip, ast.Constant(True), stmt), _assign(loop.broke, ast.Constant(True), stmt)]
        case ast.Continue():
            return [_assign(state.loops[-1].skip, ast.Constant(True), stmt)]
        case ast.If():
            stmt.body = _exit_block(stmt.body, state)
            stmt.orelse = _exit_block(stmt.orelse, state)
            return [stmt]
        case ast.For() | ast.While():
            return _exit_loop(stmt, state)
    return [stmt]


def _exit_loop(loop: ast.For | ast.While, state: _Exits) -> list[ast.stmt]:
    exits = _contains(loop.body, (ast.Break, ast.Continue), False)
    returns = state.returned is not None and _contains(loop.body, (ast.Return,), True)
    if not (exits or returns):
        loop.body = _exit_block(loop.body, state)
        return [loop]
    frame = _Loop(skip=state.namer.fresh("skip"))
    leaves = returns or _contains(loop.body, (ast.Break,), False)
    if leaves:
        frame.broke = state.namer.fresh("broke")
    state.loops.append(frame)
    body = _exit_block(loop.body, state)
    state.loops.pop()
    loop.body = [_assign(frame.skip, ast.Constant(False), loop.body[0])] + body
    before, after = [], []
    if leaves:
        before.append(_assign(frame.broke, ast.Constant(False), loop))
        brk = ast.If(test=_load(frame.broke), body=[_at(ast.Break(), loop)], orelse=[])
        loop.body.append(_at(brk, loop.body[-1]))
    if loop.orelse:  # left by _loop_else_block only where the body breaks: `leaves` holds
        orelse, loop.orelse = loop.orelse, []
        guard = ast.If(test=ast.UnaryOp(ast.Not(), _load(frame.broke)), body=_exit_block(orelse, state), orelse=[])
        after.append(_at(guard, orelse[0]))
    return before + [loop] + after


# --- assignment expressions: `(n := e)` -------------------------------------------------------


def lower_walrus(fn: ast.FunctionDef, namer: Namer, error) -> ast.FunctionDef:
    """``(n := e)`` becomes ``n = e`` before its statement, in the order Python evaluates it.

    Reads of ``n`` elsewhere in the statement are taken where Python takes them (``n * (n := 2)``
    reads the old ``n``: ``n_now = n`` first); a walrus in the right operand of ``and``/``or`` or in
    a branch of ``a if c else b`` runs only when Python runs it (an ``if`` statement); one in a
    ``while`` condition is evaluated before the loop and again at the end of each pass. Runs after
    ``lower_exits``, so that ``continue`` cannot skip that re-evaluation."""
    if any(isinstance(n, ast.NamedExpr) for n in ast.walk(fn)):
        fn.body = _Walrus(namer, error).block(fn.body)
    return fn


def _has_walrus(node: ast.AST | None) -> bool:
    return node is not None and any(isinstance(n, ast.NamedExpr) for n in ast.walk(node))


@dataclass
class _Walrus:
    namer: Namer
    error: Callable

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        return [s for stmt in stmts for s in self.stmt(stmt)]

    def stmt(self, stmt: ast.stmt) -> list[ast.stmt]:
        pre: list[ast.stmt] = []
        match stmt:
            case ast.If() | ast.While():
                stmt.test = self.lift(stmt.test, pre, stmt)
                stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
                if isinstance(stmt, ast.While) and pre:  # the condition again, after each pass
                    stmt.body = stmt.body + copy.deepcopy(pre)
            case ast.For():
                stmt.iter = self.lift(stmt.iter, pre, stmt)
                stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
            case ast.Assign():
                stmt.value = self.lift(stmt.value, pre, stmt)
                stmt.targets = [self.lift(t, pre, stmt) for t in stmt.targets]
            case ast.Return() | ast.Expr() | ast.Assert():
                for name in ("value", "test", "msg"):
                    if isinstance(getattr(stmt, name, None), ast.expr):
                        setattr(stmt, name, self.lift(getattr(stmt, name), pre, stmt))
            case _ if _has_walrus(stmt):
                raise self.error("an assignment expression (`:=`) here is not supported", stmt,
                                 "assign on a line of its own first")
        return pre + [stmt]

    def lift(self, node: ast.expr, pre: list[ast.stmt], where: ast.stmt) -> ast.expr:
        if not _has_walrus(node):
            return node
        targets = {n.target.id for n in ast.walk(where) if isinstance(n, ast.NamedExpr)}
        return _at(self.expr(node, targets, pre, where), node)

    def expr(self, node: ast.expr, targets: set[str], pre: list[ast.stmt], where: ast.stmt) -> ast.expr:
        match node:
            case ast.NamedExpr(target=ast.Name(id=name), value=value):
                pre.append(_assign(name, self.expr(value, targets, pre, where), node))
                return _load(name)
            case ast.Name(id=name, ctx=ast.Load()) if name in targets:  # read now, before a later `:=`
                now = self.namer.fresh(f"{name}_now")
                pre.append(_assign(now, node, node))
                return _load(now)
            case ast.Lambda() | ast.ListComp() | ast.SetComp() | ast.DictComp() | ast.GeneratorExp():
                if _has_walrus(node):
                    raise self.error("an assignment expression (`:=`) inside a lambda", node,
                                     "use a `def`, and assign on a line of its own")
                return node
            case ast.BoolOp(op=op, values=[first, *rest]) if any(map(_has_walrus, rest)):
                result = self.namer.fresh("either")
                pre.append(_assign(result, self.expr(first, targets, pre, where), node))
                tail = rest[0] if len(rest) == 1 else _at(ast.BoolOp(op, rest), node)
                inner: list[ast.stmt] = []
                inner.append(_assign(result, self.expr(tail, targets, inner, where), node))
                test = _load(result) if isinstance(op, ast.And) else ast.UnaryOp(ast.Not(), _load(result))
                pre.append(_at(ast.If(test, inner, []), node))
                return _load(result)
            case ast.IfExp(test=test, body=body, orelse=orelse) if _has_walrus(body) or _has_walrus(orelse):
                result = self.namer.fresh("chosen")
                test = self.expr(test, targets, pre, where)
                then: list[ast.stmt] = []
                then.append(_assign(result, self.expr(body, targets, then, where), node))
                other: list[ast.stmt] = []
                other.append(_assign(result, self.expr(orelse, targets, other, where), node))
                pre.append(_at(ast.If(test, then, other), node))
                return _load(result)
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, name, self.expr(value, targets, pre, where))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.keyword):  # f(k=(n := e))
                        item.value = self.expr(item.value, targets, pre, where)
                setattr(node, name, [self.expr(v, targets, pre, where) if isinstance(v, ast.expr) else v for v in value])
        return node


# --- loops --------------------------------------------------------------------------------------

_SEQUENCES = (list, tuple, sorted, range, zip, enumerate, reversed, operator.concat, runtime.keys)


def dict_view(node: ast.expr, resolve: Callable[[ast.expr], object]) -> tuple[ast.expr, str] | None:
    """``(d, "items")`` for ``d.items()`` (likewise ``keys``, ``values``) of a runtime value or of a
    global dict; None for anything else."""
    match node:
        case ast.Call(func=ast.Attribute(value=d, attr="items" | "keys" | "values" as view) as func,
                      args=[], keywords=[]):
            target = resolve(func)
            if target is MISSING or isinstance(getattr(target, "__self__", None), Mapping):
                return d, view
    return None


@dataclass
class _Kinds:
    """What an iterable is, as far as the function's own code shows: ``"dict"``, ``"sequence"``
    (list, tuple, array, range, string), or None where only the run time tells (a parameter, an
    attribute, what a user function returned). ``bindings`` maps each local name to the values
    assigned to it, None for a binding of another form (a loop target, an unpacking)."""

    resolve: Callable[[ast.expr], object]
    bindings: dict[str, list[ast.expr | None]]

    def of(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> str | None:
        match node:
            case ast.Dict() | ast.DictComp():
                return "dict"
            case ast.List() | ast.Tuple() | ast.ListComp() | ast.GeneratorExp() | ast.Constant():
                return "sequence"
            case ast.BinOp(op=op):  # arrays, or lists joined with +; `a | b` may join dicts
                return None if isinstance(op, ast.BitOr) else "sequence"
            case ast.Call(func=func):
                fn = self.resolve(func)
                if fn is dict:
                    return "dict"
                ruled = fn is not MISSING and table.lookup_adjoint(fn) is not None  # arrays
                return "sequence" if ruled or any(fn is f for f in _SEQUENCES) else None
            case ast.Name() if (obj := self.resolve(node)) is not MISSING:  # a global
                return "dict" if isinstance(obj, Mapping) else "sequence"
            case ast.Name(id=name) if name in self.bindings and name not in seen:
                kinds = {v and self.of(v, seen | {name}) for v in self.bindings[name]}
                return kinds.pop() if len(kinds) == 1 else None
        return None


def writes(item: ast.expr, body: list[ast.stmt]) -> dict[str, str]:
    """Names a loop ``body`` writes into by subscript: ``"dict"`` where the key is the loop's own
    ``item`` (``for k in d: d[k] = ...``), else ``"sequence"``. A loop over such a name reads it
    where it is, as Python's iterator does, rather than from a copy made before the loop."""
    own = {n.id for n in ast.walk(item) if isinstance(n, ast.Name)}
    out: dict[str, str] = {}
    for node in ast.walk(ast.Module(body, [])):
        match node:
            case ast.Assign(targets=[ast.Subscript(value=ast.Name(id=name), slice=key)]):
                keyed = isinstance(key, ast.Name) and key.id in own
                out[name] = "dict" if keyed or out.get(name) == "dict" else "sequence"
    return out


def _bindings(fn: ast.FunctionDef) -> dict[str, list[ast.expr | None]]:
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs  # parameters: of unknown kind
    out: dict[str, list[ast.expr | None]] = {a.arg: [None] for a in args}
    for node in ast.walk(fn):
        match node:
            case ast.Assign(targets=[ast.Name(id=name)], value=value):
                out.setdefault(name, []).append(value)
            case ast.Assign() | ast.For():  # unpacking, loop targets: of unknown kind
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for name in assigned_names([ast.Expr(t) for t in targets]):
                    out.setdefault(name, []).append(None)
    return out


@dataclass
class _Seq:
    """An iterable the loop indexes: its lengths (the loop runs to the least) and the item at i."""

    lengths: list[ast.expr]
    item: Callable[[ast.expr], ast.expr]


@dataclass
class _Loops:
    namer: Namer
    resolve: Callable[[ast.expr], object]  # a name or call's target, at transformation time
    spell: Callable[[object], ast.expr]  # an expression for an object in generated code
    error: Callable  # error(message, node, hint) -> exception
    kinds: _Kinds
    out: list[ast.stmt] = field(default_factory=list)  # statements before the loop
    written: dict[str, str] = field(default_factory=dict)  # by the current loop's body: `writes`

    def call(self, fn, *args: ast.expr) -> ast.Call:
        return ast.Call(self.spell(fn), list(args), [])

    def is_call_of(self, node: ast.expr, *fns) -> bool:
        return isinstance(node, ast.Call) and any(self.resolve(node.func) is f for f in fns)

    def name_for(self, node: ast.expr, base: str, loop: ast.For, rebound: set[str]) -> ast.Name:
        """``node`` as a name that keeps its value through the loop (Python evaluates it once)."""
        if isinstance(node, ast.Name) and node.id not in rebound:
            return _load(node.id)
        name = self.namer.fresh(base)
        self.out.append(_assign(name, node, loop))
        return _load(name)

    def length(self, seq: _Seq, loop: ast.For, rebound: set[str]) -> ast.expr:
        if len(seq.lengths) == 1:
            return seq.lengths[0]
        return self.call(min, *seq.lengths)

    def view(self, node: ast.expr, loop: ast.For, rebound: set[str]) -> _Seq:
        """How to index what ``node`` iterates over: zip, enumerate, reversed, list and tuple are
        looked through; a dict (``d``, ``d.items()``, ...) runs over its keys; anything else is a
        sequence (list, tuple, array, range) indexed directly, or, where the code does not show
        which it is, ``sg.iterated(xs)`` (a dict's keys, or the sequence itself) indexed."""
        if self.is_call_of(node, list, tuple) and len(node.args) == 1 and not node.keywords:
            return self.view(node.args[0], loop, rebound)  # evaluated once before the loop anyway
        if self.is_call_of(node, zip) and not node.keywords and node.args:
            parts = [self.view(a, loop, rebound) for a in node.args]
            item = lambda i: ast.Tuple([p.item(copy.deepcopy(i)) for p in parts], ast.Load())
            return _Seq([n for p in parts for n in p.lengths], item)
        if self.is_call_of(node, enumerate) and 1 <= len(node.args) + len(node.keywords) <= 2:
            seq = self.view(node.args[0], loop, rebound)
            start = node.args[1] if len(node.args) == 2 else next((k.value for k in node.keywords), None)
            if start is not None and not isinstance(start, ast.Constant):
                start = self.name_for(start, "start", loop, rebound)
            count = lambda i: i if start is None else ast.BinOp(i, ast.Add(), copy.deepcopy(start))
            return _Seq(seq.lengths, lambda i: ast.Tuple([count(i), seq.item(copy.deepcopy(i))], ast.Load()))
        if self.is_call_of(node, reversed) and len(node.args) == 1 and not node.keywords:
            seq = self.view(node.args[0], loop, rebound)
            last = self.name_for(ast.BinOp(self.length(seq, loop, rebound), ast.Sub(), ast.Constant(1)), "last", loop, set())
            return _Seq(seq.lengths, lambda i: seq.item(ast.BinOp(_load(last.id), ast.Sub(), i)))
        if (view := dict_view(node, self.resolve)) is not None:
            return self.dict_items(*view, loop, rebound)
        kind = self.kinds.of(node)
        if kind is None and isinstance(node, ast.Name):  # the body writes into it: see `writes`
            kind = self.written.get(node.id)
        if kind == "dict":  # for k in d: its keys
            return self.dict_items(node, "keys", loop, rebound)
        if self.is_call_of(node, iter, map, filter, zip, enumerate, reversed, set, frozenset):
            raise self.error(
                f"a loop over `{ast.unparse(node)}`, which sourcegrad cannot index", node,
                "iterate over a list, tuple, array, range or dict, or over zip/enumerate/reversed of them",
            )
        if kind is None:  # a parameter, an attribute: a dict's keys or the sequence, at run time
            node = _at(self.runtime_call("iterated", node), node)
        name = self.name_for(node, "items", loop, rebound)
        return _Seq([self.call(len, name)], lambda i: ast.Subscript(_load(name.id), i, ast.Load()))

    def dict_items(self, d: ast.expr, view: str, loop: ast.For, rebound: set[str]) -> _Seq:
        """``d.keys()``, ``d.values()`` or ``d.items()``: ``keys = sg.keys(d)`` before the loop, and
        the item at i is ``keys[i]``, ``d[keys[i]]`` or both, so that reading a value is a subscript
        of ``d`` (its adjoint scatters into ``d``'s cotangent)."""
        if view != "keys":
            d = self.name_for(d, "d", loop, rebound)
        base = d.id if isinstance(d, ast.Name) else "d"
        keys = self.namer.fresh(f"{base}_keys")
        self.out.append(_assign(keys, self.runtime_call("keys", copy.deepcopy(d)), loop))
        key = lambda i: ast.Subscript(_load(keys), i, ast.Load())
        value = lambda i: ast.Subscript(_load(d.id), key(i), ast.Load())
        item = {
            "keys": key,
            "values": value,
            "items": lambda i: ast.Tuple([key(i), value(copy.deepcopy(i))], ast.Load()),
        }[view]
        return _Seq([self.call(len, _load(keys))], item)

    def runtime_call(self, name: str, *args: ast.expr) -> ast.Call:
        return ast.Call(ast.Attribute(self.spell(runtime, "sg"), name, ast.Load()), list(args), [])


def loops_over_range(fn: ast.FunctionDef, namer: Namer, resolve, spell, error) -> ast.FunctionDef:
    """``for x in xs: body`` -> ``for i_x in range(len(xs)): x = xs[i_x]; body``.

    ``zip``, ``enumerate`` and ``reversed`` (and ``list``/``tuple`` of them) are looked through:
    ``for i, (a, b) in enumerate(zip(xs, ys))`` indexes ``xs`` and ``ys`` with the loop counter.
    ``resolve(node)`` gives the object a name denotes; ``spell(obj)`` an expression for it.
    Indexing keeps one mechanism for every iterable: the adjoint of ``xs[i]`` scatters into ``dxs``.
    """
    loops = _Loops(namer, resolve, spell, error, _Kinds(resolve, _bindings(fn)))

    def is_range(node: ast.expr) -> bool:
        match node:
            case ast.Call(func=func, keywords=[]):
                return resolve(func) is range
            case ast.Subscript(value=inner, slice=ast.Slice()):
                return is_range(inner)
        return False

    class Rewrite(ast.NodeTransformer):
        def visit_For(self, node: ast.For):
            self.generic_visit(node)
            backwards = loops.is_call_of(node.iter, reversed) and len(node.iter.args) == 1
            if backwards and is_range(node.iter.args[0]):  # reversed(range(...)) is a range itself
                step = ast.Slice(None, None, ast.UnaryOp(ast.USub(), ast.Constant(1)))
                node.iter = _at(ast.Subscript(node.iter.args[0], step, ast.Load()), node.iter)
            if is_range(node.iter):
                return node
            loops.out = []
            rebound = assigned_names(node.body)
            target, iterable, index = node.target, node.iter, None
            match target, iterable:  # for i, x in enumerate(xs): the counter is the loop's own
                case ast.Tuple(elts=[ast.Name(id=name), rest]), ast.Call(args=[_], keywords=[]) if (
                    loops.is_call_of(iterable, enumerate) and name not in rebound
                ):
                    index, target, iterable = name, rest, iterable.args[0]
            if backwards:
                iterable = iterable.args[0]
            loops.written = writes(target, node.body)
            seq = loops.view(iterable, node, rebound)
            base = target.id if isinstance(target, ast.Name) else "item"
            index = index or namer.fresh("i_" + base)
            steps = ast.Call(spell(range), [loops.length(seq, node, rebound)], [])
            if backwards:
                steps = ast.Subscript(steps, ast.Slice(None, None, ast.Constant(-1)), ast.Load())
            node.iter = _at(steps, node)
            item = _unpacked(target, seq.item(_load(index)))
            node.body = [_at(stmt, node) for stmt in item] + node.body
            node.target = _at(ast.Name(index, ast.Store()), node)
            return loops.out + [node]

    return Rewrite().visit(fn)


def _unpacked(target: ast.expr, value: ast.expr) -> list[ast.stmt]:
    """``k, v = keys[i], d[keys[i]]`` as ``k = keys[i]; v = d[k]``: one assignment per name where
    no target is read on the right (so no name looks like a container of the others to
    ``aliasing``), a part already bound to a name read from that name."""
    names = assigned_names([ast.Expr(target)])
    if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Tuple)
            and len(target.elts) == len(value.elts) and not names & _reads(value)):
        return [ast.Assign(targets=[target], value=value)]
    out: list[ast.stmt] = []
    bound: dict[str, str] = {}  # ast.dump of a part -> the name that holds it
    for part, item in zip(target.elts, value.elts):
        item = _Reuse(bound).visit(item)
        out += _unpacked(part, item)
        bound = {k: v for k, v in bound.items() if v not in assigned_names([ast.Expr(part)])}
        if isinstance(part, ast.Name) and part.id not in bound.values():
            bound[ast.dump(item)] = part.id
    return out


class _Reuse(ast.NodeTransformer):
    def __init__(self, bound: dict[str, str]):
        self.bound = bound

    def generic_visit(self, node: ast.AST) -> ast.AST:
        name = self.bound.get(ast.dump(node)) if isinstance(node, ast.expr) else None
        return ast.Name(name, ast.Load()) if name else super().generic_visit(node)


def _reads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


# --- dict methods: d.get(key, default), d.copy() ------------------------------------------------


def dict_method(call: ast.Call, resolve: Callable[[ast.expr], object], spell) -> ast.expr | None:
    """What ``anf`` makes of a call of a runtime value's method, where it is a dict's, or None.

    ``d.get(k, default)`` is ``d[k] if sg.has_key(d, k) else default``: the derivative reaches
    ``d[k]`` when the key is there and ``default`` when it is not; ``default`` is evaluated only
    when it is needed (pure code cannot tell). ``sg.has_key`` says plainly when ``d`` is not a
    dict. ``x.copy()`` is ``sg.copy(x)``, which copies dicts and lists as well as arrays;
    ``dict(d)`` is ``sg.dict_copy(d)``.
    """
    sg = lambda name: ast.Attribute(spell(runtime, "sg"), name, ast.Load())
    match call:
        case ast.Call(func=ast.Attribute(value=d, attr="get") as func, args=[key, *rest], keywords=[]) if (
            len(rest) <= 1 and resolve(func) is MISSING
            and not any(isinstance(a, ast.Starred) for a in call.args)
        ):
            test = ast.Call(sg("has_key"), [copy.deepcopy(d), copy.deepcopy(key)], [])
            default = rest[0] if rest else ast.Constant(None)
            return _at(ast.IfExp(test, ast.Subscript(d, key, ast.Load()), default), call)
        case ast.Call(func=ast.Attribute(value=x, attr="copy") as func, args=[], keywords=[]) if (
            resolve(func) is MISSING
        ):
            return _at(ast.Call(sg("copy"), [x], []), call)
        case ast.Call(func=func, args=[x], keywords=[]) if resolve(func) is dict and not isinstance(x, ast.Starred):
            return _at(ast.Call(sg("dict_copy"), [x], []), call)  # dict(d): a copy of d
    return None


# --- calls of functions defined inside the function ------------------------------------------------


def inline_local_functions(fn: ast.FunctionDef, namer: Namer, error) -> ast.FunctionDef:
    """A ``def`` inside the differentiated function is inlined where it is called.

    Its parameters and locals get fresh names (``g_h`` for ``h`` in ``g``); it reads the outer
    variables it closes over directly, as Python would at call time. ``error(message, node)`` makes
    the exception for a local function used other than by a direct call.
    """
    defs = {s.name: s for s in ast.walk(fn) if isinstance(s, ast.FunctionDef) and s is not fn}
    if not defs:
        return fn
    fn.body = _inline_block(fn.body, defs, namer, error, depth=0)
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id in defs and isinstance(node.ctx, ast.Load):
            if getattr(defs[node.id], "made_from_lambda", False):
                raise error("a lambda passed to a function that keeps it (returns or stores it) or passes it on, instead of calling it",
                            node, "call it inside that function, or define a module-level function and pass "
                            "the values the lambda reads as its arguments")
            raise error(f"the local function '{node.id}' is used as a value", node,
                        f"call it directly ({node.id}(...)), or define it at module level to pass it around")
    return fn


def _inline_block(stmts, defs, namer, error, depth: int) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, ast.FunctionDef) and stmt.name in defs:
            continue
        for block in ("body", "orelse"):
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                setattr(stmt, block, _inline_block(getattr(stmt, block), defs, namer, error, depth))
        calls = [n for n in _own_expressions(stmt) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id in defs]
        for call in reversed(calls):  # innermost calls come last in a pre-order walk
            if depth > 20:
                raise error(f"'{call.func.id}' calls itself: recursive local functions are not supported", call,
                            "write the recursion as a loop, or define the function at module level (recursion works there)")
            result = namer.fresh(f"{call.func.id}_out")
            body = _inlined(defs[call.func.id], call, result, namer, error, defs)
            out.extend(_inline_block(body, defs, namer, error, depth + 1))
            _replace(stmt, call, ast.copy_location(ast.Name(result, ast.Load()), call))
        out.append(stmt)
    return out


def _own_expressions(stmt: ast.stmt):
    """Nodes of ``stmt`` outside nested statement bodies and lambdas, in evaluation-ish order."""
    todo = [v for f, v in ast.iter_fields(stmt) if f not in ("body", "orelse")]
    while todo:
        item = todo.pop(0)
        for node in item if isinstance(item, list) else [item]:
            if isinstance(node, ast.AST) and not isinstance(node, (ast.Lambda, ast.stmt)):
                yield node
                todo.append(list(ast.iter_child_nodes(node)))


def _replace(root: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for node in ast.walk(root):
        for field_name, value in ast.iter_fields(node):
            if value is old:
                setattr(node, field_name, new)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new


def _inlined(local: ast.FunctionDef, call: ast.Call, result: str, namer: Namer, error,
             functions: Mapping = MappingProxyType({})) -> list[ast.stmt]:
    import copy

    g = copy.deepcopy(local)
    params = [a.arg for a in g.args.args]
    if g.args.vararg or g.args.kwarg or g.args.kwonlyargs or len(call.args) > len(params):
        raise error(f"this call of '{g.name}' does not match its parameters", call,
                    f"pass one value per parameter of {g.name}({', '.join(params)}), without *args or **kwargs")
    given = dict(zip(params, call.args)) | {k.arg: k.value for k in call.keywords}
    defaults = dict(zip(params[len(params) - len(g.args.defaults):], g.args.defaults))
    if not g.body or not isinstance(g.body[-1], ast.Return):
        g.body.append(ast.copy_location(ast.Return(ast.Constant(None)), g.body[-1] if g.body else call))
    g = lower_exits(g, namer)
    stored = {n.id for n in ast.walk(g) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    own = set(params) | stored
    renames = {name: namer.fresh(f"{g.name}_{name}") for name in sorted(own)}
    # a local function passed as an argument (a lambda made one by inline_function_arguments): the
    # parameter is that function's name, so that calls of it inline in turn
    passed = {p: given[p].id for p in params if isinstance(given.get(p), ast.Name) and given[p].id in functions
              and p not in stored}
    renames |= passed

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name):
            return ast.copy_location(ast.Name(renames.get(node.id, node.id), node.ctx), node)

    out = []
    for p in params:
        if p not in given and p not in defaults:
            raise error(f"call of '{g.name}' misses the argument '{p}'", call, f"pass '{p}' (or give it a default)")
        if p not in passed:
            out.append(_assign(renames[p], given.get(p, defaults.get(p)), call))
    body = [Rename().visit(s) for s in g.body]
    final = body.pop()
    return out + body + [_assign(result, final.value, final)]


# --- NumPy's index tricks ------------------------------------------------------------------------


class IndexTricks(ast.NodeTransformer):
    """`np.r_[a, b, 1:4]` and `np.c_[...]` become `sg.index_trick(np.r_, (a, b, slice(1, 4)))`.
    Their "index" is the data: read as a subscript of a constant, its derivative would be lost."""

    def __init__(self, resolve: Callable[[ast.expr], object], spell) -> None:
        self.resolve, self.spell = resolve, spell

    def visit_Subscript(self, node: ast.Subscript):
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or not _is_index_trick(self.resolve(node.value)):
            return node
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        items = [_slice_call(e) if isinstance(e, ast.Slice) else e for e in elts]
        func = ast.Attribute(self.spell(runtime, "sg"), "index_trick", ast.Load())
        call = ast.Call(func, [node.value, ast.Tuple(items, ast.Load())], [])
        return ast.fix_missing_locations(ast.copy_location(call, node))


def _is_index_trick(value: object) -> bool:
    import numpy

    return isinstance(value, type(numpy.r_).__mro__[1])  # numpy's AxisConcatenator: np.r_, np.c_


def _slice_call(node: ast.Slice) -> ast.Call:
    parts = [p if p is not None else ast.Constant(None) for p in (node.lower, node.upper, node.step)]
    return ast.copy_location(ast.Call(ast.Name("slice", ast.Load()), parts, []), node)


# --- functions passed to user functions: `apply(lambda v: v * a, x)`, `apply(h, x)` --------------


def inline_function_arguments(fn: ast.FunctionDef, namer: Namer, resolve: Callable[[ast.expr], object],
                              callee_def: Callable[[object, ast.Call], ast.FunctionDef | None]) -> ast.FunctionDef:
    """A lambda (or a ``def`` of this function) passed to a user function is called where that
    function runs, reading the variables it closes over as they are then: the lambda becomes a
    local ``def`` and the user function a local copy of its own, both inlined at the call by
    ``inline_local_functions``, which gives the parameter the local function's name. So the
    derivative flows back to what the lambda closes over (a differentiated ``a``, a loop variable)
    as it does through any local function. ``callee_def(target, call)`` gives the target's
    definition when it can be inlined here (its global names mean the same here), else None: the
    call is left as it was (and its lambda refused where it is read)."""
    local_defs = {s.name for s in ast.walk(fn) if isinstance(s, ast.FunctionDef) and s is not fn}
    added: list[ast.FunctionDef] = []
    copies: dict[int, str] = {}

    def function_argument(arg: ast.expr) -> bool:
        return isinstance(arg, ast.Lambda) or (isinstance(arg, ast.Name) and arg.id in local_defs)

    for node in list(ast.walk(fn)):
        if not isinstance(node, ast.Call) or not any(
                function_argument(a) for a in [*node.args, *(k.value for k in node.keywords)]):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in local_defs:
            pass  # a local function: inlined already, its parameter renamed
        else:
            target = resolve(node.func)
            if target is MISSING or not callable(target):
                continue
            if id(target) not in copies:
                local = callee_def(target, node)
                if local is None:
                    continue
                local.name = namer.fresh(f"{getattr(target, '__name__', 'f')}_inlined")
                copies[id(target)] = local.name
                added.append(local)
                local_defs.add(local.name)
            node.func = ast.copy_location(ast.Name(copies[id(target)], ast.Load()), node.func)
        for holder, key, value in [*((node.args, i, a) for i, a in enumerate(node.args)),
                                   *((k, "value", k.value) for k in node.keywords)]:
            if isinstance(value, ast.Lambda):
                name = namer.fresh("lambda")
                made = ast.FunctionDef(name, value.args, [ast.copy_location(ast.Return(value.body), value)], [], None)
                made.made_from_lambda = True  # for inline_local_functions' message
                added.append(ast.copy_location(made, value))
                local_defs.add(name)
                new = ast.copy_location(ast.Name(name, ast.Load()), value)
                if isinstance(holder, list):
                    holder[key] = new
                else:
                    holder.value = new
    if added:
        fn.body = [ast.fix_missing_locations(d) for d in added] + fn.body
    return fn
