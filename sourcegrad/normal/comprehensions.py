"""Comprehensions as loops: the core language has none.

Input: a user FunctionDef that passed the fence. Output: the same function where every list,
dict and generator comprehension is a ``for`` loop placed before the statement that used it, and
the statement reads the loop's result. ``sum(e for x in xs)`` (and ``sum`` of any iterable)
becomes an accumulator, ``total = total + e``, as Python's ``sum`` adds; any other comprehension
builds a list, ``items = operator.concat(items, [e])``: a new list each time, never an append in
place, so the list an adjoint reads is never changed under it. A dict comprehension fills a new
dict by item assignment, ``parts[k] = e``, which ``anf`` makes the rebinding
``parts = sg.setitem(parts, k, e)`` (a copy, or a write in place where nothing else can see the
dict: see ``runtime/inplace.py``), so it is just as safe. ``d.items()``, ``d.keys()`` and
``d.values()`` used as values (not iterated by a loop, which ``desugar`` indexes directly) become
the list comprehension ``[(k, d[k]) for k in d.keys()]`` and the like. A comprehension's own
variables get fresh names where the function uses the same names elsewhere: they do not leak, as
in Python.
"""

from __future__ import annotations

import ast
import builtins
import copy
import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sourcegrad.naming import Namer
from sourcegrad.normal.desugar import dict_view

COMPREHENSIONS = (ast.ListComp, ast.GeneratorExp, ast.DictComp)
_LOOPED_THROUGH = (zip, enumerate, reversed, list, tuple)  # what desugar's loops index through

_HINT = "assign the comprehension to a name on a line of its own first"


@dataclass
class _Lowering:
    namer: Namer
    resolve: Callable[[ast.expr], object]
    spell: Callable[[object], ast.expr]
    error: Callable  # error(message, node, hint) -> exception
    counts: Counter  # how often each name occurs in the whole function

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            before: list[ast.stmt] = []
            match stmt:
                case ast.FunctionDef():
                    stmt.body = self.block(stmt.body)
                case ast.If():
                    stmt.test = _Hoist(self, before, _base(stmt)).visit(stmt.test)
                    stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
                case ast.For():
                    keep = self._looked_through(stmt.iter)
                    stmt.iter = _Hoist(self, before, _base(stmt), keep).visit(stmt.iter)
                    stmt.body = self.block(stmt.body)
                case ast.While():
                    if _has_comprehension(stmt.test):
                        raise self.error(
                            "a comprehension in a `while` condition (evaluated on every turn)",
                            stmt.test,
                            _HINT + ", and again at the end of the loop body",
                        )
                    stmt.body = self.block(stmt.body)
                case _:
                    stmt = _Hoist(self, before, _base(stmt)).visit(stmt)
            out.extend(self.block(before) + [stmt])
        return out

    def lower(
        self, comp: ast.ListComp | ast.GeneratorExp | ast.DictComp, base: str,
        start: ast.expr | None, summed: bool,
    ) -> tuple[list[ast.stmt], str]:
        """The loop that computes ``comp`` into a fresh variable, and that variable's name."""
        kind = "_sum" if summed else "_dict" if isinstance(comp, ast.DictComp) else "_list"
        acc = self.namer.fresh(base + kind)
        renames = self._renames(comp)
        if isinstance(comp, ast.DictComp):  # parts[k] = e: anf makes it parts = sg.setitem(...)
            key = _Rename(renames).visit(comp.key)
            item = ast.Subscript(_load(acc), key, ast.Store())
            step: ast.stmt = ast.Assign([item], _Rename(renames).visit(comp.value))
        elif summed:
            step = _assign(acc, ast.BinOp(_load(acc), ast.Add(), _Rename(renames).visit(comp.elt)))
        else:
            elt = ast.List([_Rename(renames).visit(comp.elt)], ast.Load())
            step = _assign(acc, ast.Call(self.spell(operator.concat), [_load(acc), elt], []))
        inner: list[ast.stmt] = [_at(step, comp)]
        for k, gen in reversed(list(enumerate(comp.generators))):
            for cond in reversed(gen.ifs):
                inner = [_at(ast.If(_Rename(renames).visit(cond), inner, []), cond)]
            # the first iterable is evaluated outside the comprehension, in the function's scope
            iterable = gen.iter if k == 0 else _Rename(renames).visit(gen.iter)
            target = _Rename(renames).visit(gen.target)
            inner = [_at(ast.For(target, iterable, inner, []), gen.iter)]
        empty = ast.Dict([], []) if kind == "_dict" else ast.List([], ast.Load())
        first = start if start is not None else ast.Constant(0) if summed else empty
        return [_at(_assign(acc, first), comp)] + inner, acc

    def lower_sum(
        self, iterable: ast.expr, start: ast.expr | None, base: str, where
    ) -> tuple[list[ast.stmt], str]:
        """``sum(xs)`` of an iterable that is not a comprehension: the same accumulator loop."""
        item = self.namer.fresh("item")
        comp = ast.GeneratorExp(
            _load(item), [ast.comprehension(ast.Name(item, ast.Store()), iterable, [], 0)]
        )
        return self.lower(_at(comp, where), base, start, summed=True)

    def as_list(self, d: ast.expr, view: str, where: ast.AST) -> ast.ListComp:
        """``d.items()`` (``keys``, ``values``) as a value: ``[(k, d[k]) for k in d.keys()]``."""
        k = self.namer.fresh("key")
        value = ast.Subscript(copy.deepcopy(d), _load(k), ast.Load())
        pair = ast.Tuple([_load(k), value], ast.Load())
        elt = {"keys": _load(k), "values": value, "items": pair}[view]
        keys = ast.Call(ast.Attribute(d, "keys", ast.Load()), [], [])
        loop = ast.comprehension(ast.Name(k, ast.Store()), keys, [], 0)
        return _at(ast.ListComp(elt, [loop]), where)

    def _looked_through(self, node: ast.expr) -> set[int]:
        """The nodes of a loop's iterable that the loop itself takes apart (``d.items()`` in
        ``enumerate(d.items())``): they stay where they are."""
        ids = {id(node)}
        looked_through = isinstance(node, ast.Call) and any(
            self.resolve(node.func) is f for f in _LOOPED_THROUGH
        )
        if looked_through:
            for arg in node.args:
                ids |= self._looked_through(arg)
        return ids

    def _renames(self, comp: ast.ListComp | ast.GeneratorExp | ast.DictComp) -> dict[str, str]:
        """Fresh names for the comprehension's variables that the function also uses elsewhere."""
        inside = Counter(n.id for n in ast.walk(comp) if isinstance(n, ast.Name))
        bound = [
            n.id for g in comp.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
        ]
        return {
            name: self.namer.fresh(name)
            for name in dict.fromkeys(bound)
            if self.counts[name] > inside[name]
        }

    def is_sum(self, node: ast.expr) -> bool:
        return self.resolve(node) is builtins.sum


class _Hoist(ast.NodeTransformer):
    """Replaces the outermost comprehensions of one statement's expressions by the names of their
    results; the loops computing them go into ``before``."""

    def __init__(
        self, lowering: _Lowering, before: list[ast.stmt], base: str, keep: frozenset = frozenset()
    ):
        self.lowering, self.before, self.base, self.keep = lowering, before, base, keep

    def visit_Call(self, node: ast.Call):
        resolve = self.lowering.resolve
        if id(node) not in self.keep and (view := dict_view(node, resolve)) is not None:
            return self.visit(self.lowering.as_list(*view, node))
        fn, args = resolve(node.func), node.args
        if (fn is len or fn is list) and len(args) == 1 and (view := dict_view(args[0], resolve)):
            if fn is len:  # len(d.keys()) is len(d)
                node.args = [view[0]]
            else:  # list(d.values()) is the comprehension's new list itself
                return self.visit(self.lowering.as_list(*view, node))
        start, args = None, list(node.args)
        if self.lowering.is_sum(node.func) and 1 <= len(args) + len(node.keywords) <= 2 and args:
            if len(args) == 2:
                start = args[1]
            elif node.keywords and node.keywords[0].arg == "start":
                start = node.keywords[0].value
            elif node.keywords:
                return self.generic_visit(node)
            start = self.visit(start) if start is not None else None
            if isinstance(args[0], (ast.ListComp, ast.GeneratorExp)):
                stmts, name = self.lowering.lower(args[0], self.base, start, summed=True)
            else:
                iterable = args[0] if dict_view(args[0], resolve) else self.visit(args[0])
                stmts, name = self.lowering.lower_sum(iterable, start, self.base, node)
            self.before.extend(stmts)
            return ast.copy_location(_load(name), node)
        return self.generic_visit(node)

    def visit_ListComp(self, node):
        stmts, name = self.lowering.lower(node, self.base, None, summed=False)
        self.before.extend(stmts)
        return ast.copy_location(_load(name), node)

    visit_GeneratorExp = visit_DictComp = visit_ListComp

    def visit_Compare(self, node: ast.Compare):
        """A test is plain Python with no derivative: ``k in d.keys()`` stays as it is."""
        keep = self.keep
        self.keep = keep | {id(n) for n in ast.walk(node) if dict_view(n, self.lowering.resolve)}
        self.generic_visit(node)
        self.keep = keep
        return node

    def visit_Lambda(self, node: ast.Lambda):
        if _has_comprehension(node.body):
            raise self.lowering.error(
                "a comprehension inside a lambda", node, "define the function with `def`"
            )
        return node

    def visit_IfExp(self, node: ast.IfExp):
        self._only_first(
            node, [node.body, node.orelse], "a conditional expression (`a if c else b`)"
        )
        node.test = self.visit(node.test)
        return node

    def visit_BoolOp(self, node: ast.BoolOp):
        self._only_first(
            node, node.values[1:], f"the right operand of `{type(node.op).__name__.lower()}`"
        )
        node.values[0] = self.visit(node.values[0])
        return node

    def _only_first(self, node: ast.AST, conditional: list[ast.expr], what: str) -> None:
        for part in conditional:
            if _has_comprehension(part):
                raise self.lowering.error(
                    f"a comprehension in {what}, which Python evaluates only sometimes", part, _HINT
                )


class _Rename(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str]):
        self.renames = renames

    def visit_Name(self, node: ast.Name):
        new = self.renames.get(node.id)
        return ast.copy_location(ast.Name(new, node.ctx), node) if new else node

    def visit_Lambda(self, node: ast.Lambda):
        params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        node.body = self._without(params).visit(node.body)
        return node

    def visit_ListComp(self, node: ast.ListComp | ast.GeneratorExp):
        """A nested comprehension that binds a renamed name again shadows it."""
        inner = self._without(
            {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        )
        for k, gen in enumerate(node.generators):
            gen.iter = (inner if k else self).visit(gen.iter)
            gen.ifs = [inner.visit(c) for c in gen.ifs]
            gen.target = inner.visit(gen.target)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                setattr(node, part, inner.visit(getattr(node, part)))
        return node

    visit_GeneratorExp = visit_DictComp = visit_ListComp

    def _without(self, names: set[str]) -> _Rename:
        return _Rename({k: v for k, v in self.renames.items() if k not in names})


def lower_comprehensions(
    fn: ast.FunctionDef, namer: Namer, resolve, spell, error
) -> ast.FunctionDef:
    """Every list comprehension, generator expression and ``sum(...)`` in ``fn`` as a loop.

    ``resolve(node)`` gives the object a name denotes (to recognise the builtin ``sum``),
    ``spell(obj)`` an expression for an object in generated code, ``error(message, node, hint)``
    the exception for a comprehension where it cannot be moved before its statement.
    """
    if not any(
        isinstance(n, COMPREHENSIONS)
        or (isinstance(n, ast.Call) and resolve(n.func) is builtins.sum)
        or dict_view(n, resolve) is not None
        for n in ast.walk(fn)
    ):
        return fn
    counts = Counter(n.id for n in ast.walk(fn) if isinstance(n, ast.Name))
    fn.body = _Lowering(namer, resolve, spell, error, counts).block(fn.body)
    return fn


def _has_comprehension(node: ast.AST) -> bool:
    return any(isinstance(n, COMPREHENSIONS) for n in ast.walk(node))


def _base(stmt: ast.stmt) -> str:
    """The prefix of a result's name: the assigned variable (``hs_list``), ``out`` for a return."""
    match stmt:
        case ast.Assign(targets=[ast.Name(id=name)]) | ast.AugAssign(target=ast.Name(id=name)):
            return name
        case ast.AnnAssign(target=ast.Name(id=name)):
            return name
    return "out" if isinstance(stmt, ast.Return) else "comp"


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, old)
    return ast.copy_location(new, old)
