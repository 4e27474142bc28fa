"""Optimisation passes over a generated function, run to a fixed point.

Input: a generated FunctionDef (primal sweep, the sweep mark, adjoint sweep). Output: the same
function computing the same values with fewer statements and temporaries:

- ``propagate_copies``: after ``t = x``, read ``x`` where ``t`` was read (``t`` a temporary);
- ``coalesce``: ``t = E ... x = t`` becomes ``x = E`` by renaming ``t``'s definition;
- ``inline``: a temporary read once is re-inlined into its reader (``np.tanh(x @ W + b)``);
- ``dead_code``: assignments nobody reads are dropped, if they have no effects.

Only temporaries are renamed or inlined away: the user's own variables keep their names. Nothing
moves across the sweep mark, into a loop, or past a statement that rebinds what it reads.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable

COMPOUND = (ast.If, ast.For, ast.While)


def optimise(fn: ast.FunctionDef, pure: Callable[[ast.Call], bool], temporaries: set[str],
             barrier: Callable[[ast.stmt], bool]) -> ast.FunctionDef:
    """Run the passes until nothing changes."""
    for _ in range(20):
        before = ast.dump(fn)
        fn.body = propagate_copies(fn.body, temporaries)
        fn.body = coalesce(fn, temporaries, barrier)
        fn.body = inline(fn, temporaries, pure, barrier)
        fn.body, _ = dead_code(fn.body, set(), pure)
        fn.body = simplify(fn.body)
        if ast.dump(fn) == before:
            break
    return fn


# --- helpers ------------------------------------------------------------------------------------


def reads(node: ast.AST) -> set[str]:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    # ``dx += e`` reads dx too
    return names | {n.target.id for n in ast.walk(node) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}


def writes(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}


def _counts(fn: ast.FunctionDef) -> tuple[Counter, Counter]:
    r, w = Counter(), Counter()
    for n in ast.walk(fn):
        if isinstance(n, ast.Name):
            (r if isinstance(n.ctx, ast.Load) else w)[n.id] += 1
    return r, w


def _is_pure(expr: ast.expr, pure) -> bool:
    return all(pure(n) for n in ast.walk(expr) if isinstance(n, ast.Call)) and not any(
        isinstance(n, (ast.Yield, ast.Await, ast.NamedExpr)) for n in ast.walk(expr)
    )


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, ast.expr | str], ctx=ast.Load):
        self.mapping, self.ctx = mapping, ctx

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, self.ctx) and node.id in self.mapping:
            new = self.mapping[node.id]
            if isinstance(new, str):
                return ast.copy_location(ast.Name(new, node.ctx), node)
            return ast.copy_location(_clone(new), node)
        return node


def _clone(node: ast.AST) -> ast.AST:
    import copy

    return copy.deepcopy(node)


def _simple_assign(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    match stmt:
        case ast.Assign(targets=[ast.Name(id=name)], value=value):
            return name, value
    return None


def _blocks(stmts: list[ast.stmt]):
    """Every statement list: ``stmts`` and the bodies nested in it."""
    yield stmts
    for stmt in stmts:
        if isinstance(stmt, COMPOUND):
            yield from _blocks(stmt.body)
            yield from _blocks(stmt.orelse)


# --- copy propagation ---------------------------------------------------------------------------


def propagate_copies(stmts: list[ast.stmt], temporaries: set[str]) -> list[ast.stmt]:
    mapping: dict[str, str] = {}
    out = []
    for stmt in stmts:
        assigned = writes(stmt)
        if mapping and not (isinstance(stmt, COMPOUND) and assigned & (set(mapping) | set(mapping.values()))):
            stmt = _Rename(mapping).visit(stmt)
        if isinstance(stmt, COMPOUND):
            stmt.body = propagate_copies(stmt.body, temporaries)
            stmt.orelse = propagate_copies(stmt.orelse, temporaries)
        mapping = {a: b for a, b in mapping.items() if a not in assigned and b not in assigned}
        match stmt:
            case ast.Assign(targets=[ast.Name(id=a)], value=ast.Name(id=b)) if a != b and a in temporaries:
                mapping[a] = b
        out.append(stmt)
    return out


# --- coalescing: t = E ... x = t  ->  x = E -------------------------------------------------------


def coalesce(fn: ast.FunctionDef, temporaries: set[str], barrier) -> list[ast.stmt]:
    r, w = _counts(fn)
    for block in _blocks(fn.body):
        i = 0
        while i < len(block):
            match block[i]:
                case ast.Assign(targets=[ast.Name(id=x)], value=ast.Name(id=t)) if (
                    t in temporaries and r[t] == 1 and w[t] == 1 and x != t
                ):
                    j = _definition(block, i, t, x, barrier)
                    if j is not None:
                        block[j] = _Rename({t: x}, ast.Store).visit(block[j])
                        del block[i]
                        r, w = _counts(fn)
                        continue
            i += 1
    return fn.body


def _definition(block: list[ast.stmt], use: int, t: str, x: str, barrier) -> int | None:
    """Where ``t`` is defined before ``use`` if ``x`` is untouched in between, else None."""
    for j in range(use - 1, -1, -1):
        stmt = block[j]
        if barrier(stmt) or isinstance(stmt, COMPOUND) and t in writes(stmt):
            return None
        if t in writes(stmt) and not isinstance(stmt, COMPOUND):
            return j if x not in writes(stmt) or isinstance(stmt, ast.Assign) else None
        if x in reads(stmt) | writes(stmt):
            return None
    return None


# --- inlining of temporaries read once ------------------------------------------------------------


def inline(fn: ast.FunctionDef, temporaries: set[str], pure, barrier) -> list[ast.stmt]:
    r, w = _counts(fn)
    for block in _blocks(fn.body):
        i = 0
        while i < len(block):
            found = _simple_assign(block[i])
            if found and found[0] in temporaries and r[found[0]] == 1 and w[found[0]] == 1 and _is_pure(found[1], pure):
                j = _single_reader(block, i, found[0], reads(found[1]), barrier)
                if j is not None:
                    block[j] = _Rename({found[0]: found[1]}).visit(block[j])
                    del block[i]
                    r, w = _counts(fn)
                    continue
            i += 1
    return fn.body


def _single_reader(block: list[ast.stmt], i: int, t: str, deps: set[str], barrier) -> int | None:
    for j in range(i + 1, len(block)):
        stmt = block[j]
        if barrier(stmt) or isinstance(stmt, COMPOUND):
            return None
        if t in reads(stmt):
            return j
        if writes(stmt) & (deps | {t}):
            return None
    return None


# --- dead code ----------------------------------------------------------------------------------


def dead_code(stmts: list[ast.stmt], live_out: set[str], pure) -> tuple[list[ast.stmt], set[str]]:
    """Drop effect-free assignments to names not live afterwards; returns (statements, live-in)."""
    live = set(live_out)
    out: list[ast.stmt] = []
    for stmt in reversed(stmts):
        match stmt:
            case ast.If(test=test, body=body, orelse=orelse):
                body, live_body = dead_code(body, live, pure)
                orelse, live_else = dead_code(orelse, live, pure)
                if not body and not orelse and _is_pure(test, pure):
                    continue
                stmt.body, stmt.orelse = body or [ast.Pass()], orelse
                live = live_body | live_else | reads(test)
            case ast.For() | ast.While():
                header = stmt.iter if isinstance(stmt, ast.For) else stmt.test
                head = set(live)
                while True:
                    _, live_in = dead_code(_clone_list(stmt.body), head, pure)
                    new = head | live_in | reads(header)
                    if new == head:
                        break
                    head = new
                stmt.body, _ = dead_code(stmt.body, head, pure)
                stmt.body = stmt.body or [ast.Pass()]
                live = head | reads(header)
            case ast.Assign(targets=targets, value=value) if not (writes(stmt) & live) and _is_pure(value, pure) and all(
                isinstance(n, (ast.Name, ast.Tuple)) for n in targets
            ):
                continue
            case _:
                live = (live - writes(stmt)) | reads(stmt)
        out.append(stmt)
    return list(reversed(out)), live


def _clone_list(stmts: list[ast.stmt]) -> list[ast.stmt]:
    return [_clone(s) for s in stmts]


# --- constant folding and algebraic identities ----------------------------------------------------


def _number(node: ast.AST, value=None) -> bool:
    ok = isinstance(node, ast.Constant) and type(node.value) in (int, float)
    return ok and (value is None or node.value == value)


class _Simplify(ast.NodeTransformer):
    """``2 - 1`` -> ``1``; ``x ** 1``, ``x * 1``, ``1 * x``, ``x + 0``, ``0 + x``, ``--x`` -> ``x``."""

    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _number(left) and _number(right) and isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Pow)):
            value = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                     ast.Mult: lambda a, b: a * b, ast.Pow: lambda a, b: a**b}[type(op)](left.value, right.value)
            if abs(value) < 1e15:
                return ast.copy_location(ast.Constant(value), node)
        if isinstance(op, (ast.Pow, ast.Mult, ast.Div)) and _number(right, 1):
            return left
        if isinstance(op, ast.Mult) and _number(left, 1):
            return right
        if isinstance(op, (ast.Add, ast.Sub)) and _number(right, 0) and not isinstance(right.value, bool):
            return left
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
            return node.operand.operand
        return node


def simplify(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Fold constants and identities; drop self-assignments (``dh = dh``)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, COMPOUND):
            stmt.body = simplify(stmt.body) or [ast.Pass()]
            stmt.orelse = simplify(stmt.orelse)
        else:
            stmt = _Simplify().visit(stmt)
        match stmt:
            case ast.Assign(targets=[ast.Name(id=a)], value=ast.Name(id=b)) if a == b:
                continue
        out.append(stmt)
    return out
