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
    """Run the passes until nothing changes. Not reentrant, not thread-safe: the passes keep their
    memo and change count at module level (``api._generate`` runs one generation at a time)."""
    global _CHANGES
    for _ in range(20):
        _CHANGES = 0
        for run in (
            lambda: propagate_copies(fn.body, temporaries),
            lambda: coalesce(fn, temporaries, barrier),
            lambda: inline(fn, temporaries, pure, barrier),
            lambda: dead_code(fn.body, set(), pure)[0],
            lambda: simplify(fn.body),
        ):
            _fresh()
            fn.body = run()
        if not _CHANGES:
            break
    _fresh()
    return fn


# Rewrites made in this round of passes: the passes run again until a round makes none.
_CHANGES = 0


def _changed() -> None:
    global _CHANGES
    _CHANGES += 1


def _changed_to(node: ast.AST) -> ast.AST:
    _changed()
    return node


# --- helpers ------------------------------------------------------------------------------------


def reads(node: ast.AST) -> set[str]:
    return _names(node)[0]


def writes(node: ast.AST) -> set[str]:
    return _names(node)[1]


# Names read and written by a statement, remembered for the length of one pass (``_fresh``
# starts a pass; a statement a pass rewrites is ``_forget``-ed): the passes ask about the same
# statements many times, and loops' bodies hold most of a generated function.
_MEMO: dict[int, tuple[ast.AST, set[str], set[str]]] = {}


def _fresh() -> None:
    _MEMO.clear()


def _forget(node: ast.AST) -> None:
    _MEMO.pop(id(node), None)


def _names(node: ast.AST) -> tuple[set[str], set[str]]:
    """(read, written) names of ``node``; ``dx += e`` reads dx too; ``del x`` writes x."""
    hit = _MEMO.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1], hit[2]
    read, written = set(), set()
    for n in _name_nodes(node):
        if type(n) is ast.Name:
            (read if type(n.ctx) is ast.Load else written).add(n.id)
        elif type(n.target) is ast.Name:
            read.add(n.target.id)
    _MEMO[id(node)] = (node, read, written)
    return read, written


def _counts(fn: ast.FunctionDef) -> tuple[Counter, Counter]:
    """How many times each name is read and written in ``fn``."""
    r, w = Counter(), Counter()
    for n in _name_nodes(fn):
        if type(n) is ast.Name:
            (r if type(n.ctx) is ast.Load else w)[n.id] += 1
    return r, w


def _name_nodes(root: ast.AST):
    """The Name and AugAssign nodes under ``root``: ``ast.walk`` cut to what the passes ask, and
    several times faster on the large functions that higher orders generate."""
    stack = [root]
    while stack:
        n = stack.pop()
        kind = type(n)
        if kind is ast.Name:
            yield n
            continue
        if kind is ast.AugAssign:
            yield n
        for field in getattr(n, "_fields", ()):
            value = getattr(n, field, None)
            if type(value) is list:
                stack.extend(value)
            elif isinstance(value, ast.AST):
                stack.append(value)


def _is_pure(expr: ast.expr, pure) -> bool:
    return all(pure(n) for n in ast.walk(expr) if isinstance(n, ast.Call)) and not any(
        isinstance(n, (ast.Yield, ast.Await, ast.NamedExpr)) for n in ast.walk(expr)
    )


class _Rename(ast.NodeTransformer):
    """Replace names by names or expressions; ``share``: each expression replaces one name only,
    so it is moved rather than copied."""

    def __init__(self, mapping: dict[str, ast.expr | str], ctx=ast.Load, share=False):
        self.mapping, self.ctx, self.share = mapping, ctx, share

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, self.ctx) and node.id in self.mapping:
            new = self.mapping[node.id]
            if isinstance(new, str):
                return ast.copy_location(ast.Name(new, node.ctx), node)
            return new if self.share else ast.copy_location(_clone(new), node)
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
    mapping: dict[str, str] = {}  # temporary -> the name it is a copy of
    copies: dict[str, set[str]] = {}  # name -> the temporaries that copy it
    out = []
    for stmt in stmts:
        assigned = writes(stmt)
        used = mapping.keys() & reads(stmt)
        if used and not (isinstance(stmt, COMPOUND) and assigned & (mapping.keys() | copies.keys())):
            stmt = _Rename({a: mapping[a] for a in used}).visit(stmt)
            _forget(stmt)
            _changed()
        if isinstance(stmt, COMPOUND):
            stmt.body = propagate_copies(stmt.body, temporaries)
            stmt.orelse = propagate_copies(stmt.orelse, temporaries)
        for name in assigned:
            if name in mapping:
                copies[mapping.pop(name)].discard(name)
            for a in copies.pop(name, ()):
                del mapping[a]
        match stmt:
            case ast.Assign(targets=[ast.Name(id=a)], value=ast.Name(id=b)) if a != b and a in temporaries:
                mapping[a] = b
                copies.setdefault(b, set()).add(a)
        out.append(stmt)
    return out


# --- coalescing: t = E ... x = t  ->  x = E -------------------------------------------------------


def coalesce(fn: ast.FunctionDef, temporaries: set[str], barrier) -> list[ast.stmt]:
    """One forward scan per block, remembering where each name was last touched, so that the
    pass stays linear in the size of the function (generated code of order 5 has ~10^4 lines)."""
    r, w = _counts(fn)
    once = {t for t in temporaries if r[t] == 1 and w[t] == 1}
    for block in _blocks(fn.body):
        out: list[ast.stmt] = []
        defined: dict[str, int] = {}  # temporary read once -> where it is assigned in ``out``
        touched: dict[str, int] = {}  # name -> the last position in ``out`` that reads or writes it
        last_barrier = -1
        for stmt in block:
            match stmt:
                case ast.Assign(targets=[ast.Name(id=x)], value=ast.Name(id=t)) if t in defined and x != t:
                    j = defined.pop(t)
                    writes_x = x in writes(out[j])
                    if last_barrier < j and touched.get(x, -1) <= j and (not writes_x or isinstance(out[j], ast.Assign)):
                        out[j] = _Rename({t: x}, ast.Store).visit(out[j])
                        _forget(out[j])
                        _changed()
                        touched[x] = j
                        continue
            n = len(out)
            out.append(stmt)
            if barrier(stmt):
                last_barrier = n
            stmt_writes = writes(stmt)
            for name in reads(stmt) | stmt_writes:
                touched[name] = n
            if not isinstance(stmt, COMPOUND):
                for t in stmt_writes & once:
                    defined[t] = n
        block[:] = out
    return fn.body


# --- inlining of temporaries read once ------------------------------------------------------------


def inline(fn: ast.FunctionDef, temporaries: set[str], pure, barrier) -> list[ast.stmt]:
    """Move ``t = E`` into the one statement that reads ``t``, if nothing between them writes what
    ``E`` reads. One forward scan per block; chains (``a = f(x); b = g(a); c = h(b)``) fold in it."""
    r, w = _counts(fn)
    once = {t for t in temporaries if r[t] == 1 and w[t] == 1}
    for block in _blocks(fn.body):
        out: list[ast.stmt | None] = []
        pending: dict[str, tuple[int, set[str]]] = {}  # t -> (its definition in ``out``, what E reads)
        for stmt in block:
            if pending and (barrier(stmt) or isinstance(stmt, COMPOUND)):
                pending.clear()
            stmt_reads = reads(stmt)
            hits = stmt_reads & pending.keys()
            if hits:
                ready = {}
                for t in hits:
                    i, _ = pending.pop(t)
                    ready[t], out[i] = out[i].value, None
                stmt = _Rename(ready, share=True).visit(stmt)
                _forget(stmt)
                _changed()
            stmt_writes = writes(stmt)
            if pending and stmt_writes:
                pending = {t: (i, deps) for t, (i, deps) in pending.items() if not (stmt_writes & (deps | {t}))}
            found = _simple_assign(stmt)
            if found and found[0] in once and _is_pure(found[1], pure):
                pending[found[0]] = (len(out), reads(found[1]))
            out.append(stmt)
        block[:] = [s for s in out if s is not None]
    return fn.body


# --- dead code ----------------------------------------------------------------------------------


def dead_code(stmts: list[ast.stmt], live_out: set[str], pure, rewrite: bool = True) -> tuple[list[ast.stmt], set[str]]:
    """Drop effect-free assignments to names not live afterwards; returns (statements, live-in).

    With ``rewrite=False`` only the live-in set is computed and no statement is changed (the
    fixed point of a loop's live set is found that way, without copying its body)."""
    live = set(live_out)
    out: list[ast.stmt] = []
    for stmt in reversed(stmts):
        match stmt:
            case ast.If(test=test, body=body, orelse=orelse):
                body, live_body = dead_code(body, live, pure, rewrite)
                orelse, live_else = dead_code(orelse, live, pure, rewrite)
                if not body and not orelse and _is_pure(test, pure):
                    if rewrite:
                        _changed()
                    continue
                if rewrite:
                    stmt.body, stmt.orelse = body or [ast.Pass()], orelse
                live = live_body | live_else | reads(test)
            case ast.For() | ast.While():
                header = reads(stmt.iter if isinstance(stmt, ast.For) else stmt.test)
                head = set(live)
                while True:
                    _, live_in = dead_code(stmt.body, head, pure, rewrite=False)
                    new = head | live_in | header
                    if new == head:
                        break
                    head = new
                if rewrite:
                    stmt.body, _ = dead_code(stmt.body, head, pure)
                    stmt.body = stmt.body or [ast.Pass()]
                live = head | header
            case ast.Assign(targets=targets, value=value) if not (writes(stmt) & live) and _is_pure(value, pure) and all(
                isinstance(n, (ast.Name, ast.Tuple)) for n in targets
            ):
                if rewrite:
                    _changed()
                continue
            case _:
                live = (live - writes(stmt)) | reads(stmt)
        out.append(stmt)
    return list(reversed(out)), live


# --- constant folding and algebraic identities ----------------------------------------------------


def _number(node: ast.AST, value=None) -> bool:
    ok = isinstance(node, ast.Constant) and type(node.value) in (int, float)
    return ok and (value is None or node.value == value)


class _Simplify(ast.NodeTransformer):
    """``2 - 1`` -> ``1``; ``x ** 1``, ``x * 1``, ``1 * x``, ``x + 0``, ``0 + x``, ``--x`` -> ``x``;
    ``a if None is None else b`` -> ``a``."""

    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _number(left) and _number(right) and isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Pow)):
            value = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                     ast.Mult: lambda a, b: a * b, ast.Pow: lambda a, b: a**b}[type(op)](left.value, right.value)
            if abs(value) < 1e15:
                return _changed_to(ast.copy_location(ast.Constant(value), node))
        if isinstance(op, (ast.Pow, ast.Mult, ast.Div)) and _number(right, 1):
            return _changed_to(left)
        if isinstance(op, ast.Mult) and _number(left, 1):
            return _changed_to(right)
        if isinstance(op, (ast.Add, ast.Sub)) and _number(right, 0) and not isinstance(right.value, bool):
            return _changed_to(left)
        return node

    def visit_Call(self, node: ast.Call):
        # `sg.power_slope(x, c)`, the derivative of x ** c, with a constant c other than 0: `c * x ** (c - 1)`
        # as a person writes it (the helper's care for 0 ** negative matters only for a 0 exponent)
        self.generic_visit(node)
        match node:
            case ast.Call(func=ast.Attribute(value=ast.Name(), attr="power_slope"), args=[x, c], keywords=[]) if (
                _number(c) and c.value != 0
            ):
                power = ast.BinOp(x, ast.Pow(), ast.Constant(c.value - 1))
                return _changed_to(ast.copy_location(self.visit(ast.BinOp(ast.Constant(c.value), ast.Mult(), power)), node))
        return node

    def visit_IfExp(self, node: ast.IfExp):
        # `None if axes is None else ...` of a template whose argument was left out: the branch taken
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            left, right = test.left, test.comparators[0]
            if all(isinstance(e, ast.Constant) and e.value is None for e in (left, right)):
                return _changed_to(node.body if isinstance(test.ops[0], ast.Is) else node.orelse)
        if isinstance(test, ast.Constant) and type(test.value) in (bool, int, type(None)):
            return _changed_to(node.body if test.value else node.orelse)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
            return _changed_to(node.operand.operand)
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
                _changed()
                continue
        out.append(stmt)
    return out
