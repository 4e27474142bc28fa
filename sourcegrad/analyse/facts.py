"""Activity and shape facts about a function in normal form.

Input: a ``NormalForm`` and the differentiated parameters. Output: frozen facts, never annotations
on the tree. The analyses are structured (they follow the nesting of if/for/while rather than a
flat control-flow graph), which the normal form makes exact enough: activity is flow-insensitive
(a variable is active anywhere if it is active somewhere, which over-approximates safely).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from sourcegrad.normal.grammar import is_test


def walk_simple(stmts: list[ast.stmt]):
    """Every non-compound statement, in order, entering if/for/while bodies."""
    for stmt in stmts:
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            yield from walk_simple(stmt.body)
            yield from walk_simple(stmt.orelse)
        else:
            yield stmt


def read_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@dataclass(frozen=True)
class Activity:
    """``varied``: depends on a differentiated input; ``useful``: influences the output."""

    varied: frozenset[str]
    useful: frozenset[str]

    def active(self, name: str) -> bool:
        return name in self.varied and name in self.useful


def activity(fn: ast.FunctionDef, wrt: list[str], returned: str | None,
             through: Callable[[ast.Assign], set[str] | None],
             extra_edges: list[tuple[set[str], list[str]]] = (),
             useful_if_varied: frozenset[str] = frozenset()) -> Activity:
    """Flow-insensitive activity. ``through(stmt)`` names the operands of ``stmt`` that derivatives
    pass through (its rule differentiates them), or None for all of them. ``extra_edges`` are flows
    the statements do not show, e.g. through a tape: (names read, names written).
    ``useful_if_varied`` names variables whose adjoint is returned whenever they are varied, even
    when nothing read from them reaches the output (a tape handed in: see ``ReverseTransform``)."""
    edges: list[tuple[set[str], list[str]]] = []  # (names read, names written)
    flags: set[str] = set()  # names some comparison defines
    for stmt in walk_simple(fn.body):
        if isinstance(stmt, ast.Assign) and is_test(stmt.value):
            flags |= {n.id for n in ast.walk(stmt.targets[0]) if isinstance(n, ast.Name)}
        elif isinstance(stmt, ast.Assign):
            operands = through(stmt)
            operands = _value_names(stmt.value) if operands is None else operands
            if operands:
                written = [n.id for n in ast.walk(stmt.targets[0]) if isinstance(n, ast.Name)]
                edges.append((operands, written))
    # A flag that only comparisons define stays discrete even when a tape carries it along.
    flags -= {name for _, written in edges for name in written}
    edges += [(reads, writes) for reads, writes in extra_edges if not flags.intersection(writes)]
    varied = set(wrt)
    useful = {returned} if returned else set()
    changed = True
    while changed:
        changed = False
        for reads, writes in edges:
            if reads & varied and not varied.issuperset(writes):
                varied.update(writes)
                changed = True
            if useful.intersection(writes) and not useful.issuperset(reads):
                useful.update(reads)
                changed = True
        roots = varied.intersection(useful_if_varied) - useful
        if roots:
            useful |= roots
            changed = True
    return Activity(frozenset(varied), frozenset(useful))


def _value_names(value: ast.expr) -> set[str]:
    # The callee of a call is not data: np in np.tanh(x) is not an operand.
    if isinstance(value, ast.Call):
        names = set()
        for arg in value.args + [k.value for k in value.keywords]:
            names |= read_names(arg)
        return names
    return read_names(value)


# --- shapes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SameShape:
    """Pairs (statement, operand name) where the operand has the shape of the statement's target:
    there, ``sg.unbroadcast`` is the identity and is left out of the adjoint."""

    pairs: frozenset[tuple[int, str]]

    def holds(self, stmt: ast.stmt, name: str) -> bool:
        return (id(stmt), name) in self.pairs


def same_shapes(fn: ast.FunctionDef, shape_preserving: Callable[[ast.Call], bool],
                number: Callable[[ast.expr], bool] = lambda expr: False) -> SameShape:
    """Shape classes along each straight-line block; every block starts knowing nothing, except
    that what ``number`` accepts (a name or entry that surely holds a number: ``scalars``) has the
    shape ``()`` everywhere."""
    pairs: set[tuple[int, str]] = set()
    counter = iter(range(1, 1 << 30))  # 0: the class of numbers

    def block(stmts: list[ast.stmt]) -> None:
        cls: dict[str, int] = {}
        of = lambda operand: 0 if number(operand) else cls.setdefault(operand.id, next(counter))
        for stmt in stmts:
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                block(stmt.body)
                block(stmt.orelse)
                for name in _assigned(stmt):
                    cls.pop(name, None)
                continue
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)):
                for name in _assigned(stmt):
                    cls.pop(name, None)
                continue
            target, value = stmt.targets[0].id, stmt.value
            operands = _elementwise_operands(value, shape_preserving, number)
            if operands and len({of(o) for o in operands}) == 1:
                for o in operands:
                    if isinstance(o, ast.Name):
                        pairs.add((id(stmt), o.id))
                cls[target] = of(operands[0])
            else:
                cls[target] = next(counter)

    block(fn.body)
    return SameShape(frozenset(pairs))


def tuples_of_numbers(fn: ast.FunctionDef, numbers_call: Callable[[ast.Call], bool]) -> frozenset[str]:
    """Names bound only by calls ``numbers_call`` accepts (``np.shape(x)``), never by a parameter:
    their constant entries (``t[0]``) are numbers."""
    params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    values: dict[str, list] = {}
    simple = {id(node.targets[0]): node.value for node in ast.walk(fn)
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            values.setdefault(node.id, []).append(simple.get(id(node)))
    return frozenset(name for name, vs in values.items() if name not in params
                     and all(isinstance(v, ast.Call) and numbers_call(v) for v in vs))


def holds_number(expr: ast.expr, numbers: frozenset[str], tuples: frozenset[str]) -> bool:
    """``expr`` is a name in ``numbers`` or a constant entry of a name in ``tuples``."""
    match expr:
        case ast.Name(id=name):
            return name in numbers
        case ast.Subscript(value=ast.Name(id=name), slice=ast.Constant(value=int())):
            return name in tuples
    return False


def scalars(fn: ast.FunctionDef, params: list[str], scalar_call: Callable[[ast.Call], bool],
            numbers_call: Callable[[ast.Call], bool] = lambda call: False) -> frozenset[str]:
    """Names that surely hold a number (never an array or a container) wherever they are bound:
    each binding is a numeric constant, a call ``scalar_call`` accepts (a full reduction), another
    such name, arithmetic of such, or an entry ``t[0]`` of a name bound only by calls that
    ``numbers_call`` accepts (``np.shape(x)``: a tuple of numbers). Parameters and names bound any
    other way may be anything. A greatest fixed point, so a loop's accumulator (``s = 0.0``, then
    ``s = s + np.sum(x)``) counts."""
    bindings: dict[str, list[ast.expr | None]] = {p: [None] for p in params}
    simple = {id(node.targets[0]): node.value for node in ast.walk(fn)
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bindings.setdefault(node.id, []).append(simple.get(id(node)))
    known = {name for name, values in bindings.items() if None not in values}
    tuples = tuples_of_numbers(fn, numbers_call)

    def scalar(value: ast.expr) -> bool:
        match value:
            case ast.Name(id=name):
                return name in known
            case ast.Subscript(value=ast.Name(id=name), slice=ast.Constant(value=int())) if name in tuples:
                return True
            case ast.Constant():
                return _is_number(value)
            case ast.BinOp(left=left, op=op, right=right) if not isinstance(op, ast.MatMult):
                return scalar(left) and scalar(right)
            case ast.UnaryOp(operand=operand):
                return scalar(operand)
            case ast.Call():
                return scalar_call(value)
        return False

    changed = True
    while changed:
        before = len(known)
        known = {name for name in known if name in tuples or all(scalar(v) for v in bindings[name])}
        changed = len(known) != before
    return frozenset(known)


def _elementwise_operands(value: ast.expr, shape_preserving, number=lambda expr: False) -> list[ast.expr]:
    """Operands of an elementwise operation whose shapes decide the result's (names, and entries
    that ``number`` knows hold numbers); [] if not one."""
    match value:
        case ast.Name():
            return [value]
        case ast.BinOp(op=ast.Mult(), left=left, right=right) if any(
            isinstance(o, ast.Constant) and type(o.value) is int for o in (left, right)
        ):
            return []  # `xs * 2` repeats a list where `xs` holds one: its cotangent is unbroadcast
        case ast.BinOp(left=left, op=op, right=right) if not isinstance(op, ast.MatMult):
            operands = [o for o in (left, right) if not _is_number(o)]
            return operands if all(isinstance(o, ast.Name) or number(o) for o in operands) else []
        case ast.UnaryOp(operand=ast.Name() as operand):
            return [operand]
        case ast.Call(args=[ast.Name() as operand], keywords=[]) if shape_preserving(value):
            return [operand]
    return []


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _assigned(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
