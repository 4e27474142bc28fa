"""Lowering of adjoint IR: where an adjoint is zero, where it must exist, how it accumulates.

Input: adjoint IR from ``reverse``: ``dx += e`` (accumulate), ``del dx`` (the adjoint's variable
instance is finished: it is zero from here on), ``OR_ZERO(dx, x)`` (dx, or zeros shaped like x),
``WHOLE(dx, x)`` (dx to be taken apart: an adjoint that may hold the scalar ``0.0`` gets x's
structure, ``sg.whole(dx, x)``; unlike OR_ZERO it is a read, dropped with dx zero).
Output: plain Python. A forward dataflow over the sweep tracks, for each adjoint, whether it is
certainly zero (Z), certainly holds a value (N) or may be either (M):

- a contribution that reads a Z adjoint is zero and disappears (templates are linear in d[...]);
- the first contribution to a Z adjoint assigns (``dx = e``), later ones add (``dx = dx + e``);
- only an adjoint that is M somewhere (after a join of branches or loop iterations) is given a
  real zero where it becomes zero (``dx = 0.0``; ``sg.zeros_like(x)`` for a returned gradient);
- an adjoint given the zero ``0.0`` may carry that scalar on (``dx = dz`` with dz M), or hold it in
  entries (``sg.clear_written`` of a list or dict): where such a value is returned as a
  parameter's gradient, or taken apart (WHOLE), it gets the primal's structure;
- an adjoint that owns its buffer (a zero or a sum made here, never handed to anything else since)
  accumulates in place, ``dx += e``, as a person writes ``dW += h.T @ dz``; one that may alias
  another value (``dx = dz``, a helper's result) never does, so no write goes through an alias.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from sourcegrad.normal.surgery import Inserted

Z, N, M = "zero", "value", "maybe"


def _join(a: dict, b: dict) -> dict:
    out = {}
    for key in a.keys() | b.keys():
        if isinstance(key, tuple):  # ('own', name): owned only if owned on both paths;
            either = a.get(key, False), b.get(key, False)  # ('scalar', name): if on either
            out[key] = all(either) if key[0] == "own" else any(either)
            continue
        x, y = a.get(key, Z), b.get(key, Z)
        out[key] = x if x == y else M
    return out


def _escapes(value: ast.expr, adjoints: set[str]) -> set[str]:
    """Adjoints read other than as an operand of arithmetic (which makes a new array)."""
    out: set[str] = set()

    def visit(node: ast.AST, operand: bool) -> None:
        if isinstance(node, ast.Name):
            if node.id in adjoints and not operand:
                out.add(node.id)
            return
        arithmetic = isinstance(node, (ast.BinOp, ast.UnaryOp))
        for child in ast.iter_child_nodes(node):
            visit(child, arithmetic and isinstance(child, ast.expr))

    visit(value, False)
    return out


def _clears_entries(value: ast.expr) -> bool:
    """Whether ``value`` clears written entries of a cotangent (``sg.clear_written``), which leaves
    the scalar zero 0.0 in a list's or dict's entry: the entry's old structure is not known there."""
    return any(isinstance(n, ast.Attribute) and n.attr == "clear_written" for n in ast.walk(value))


@dataclass
class Lowering:
    adjoints: set[str]
    containers: set[str]
    sg: ast.expr
    or_zero: str
    whole: str
    params: set[str]
    zero_like: dict[str, str] = field(default_factory=dict)
    materialise: set[str] = field(default_factory=set)
    emit: bool = False

    def run(self, stmts: list[ast.stmt], state: dict) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            out += self.stmt(stmt, state)
        return out

    def stmt(self, stmt: ast.stmt, state: dict) -> list[ast.stmt]:
        match stmt:
            case ast.AugAssign(target=ast.Name(id=name), value=value):
                return self.accumulate(stmt, name, value, state)
            case ast.Delete(targets=[ast.Name(id=name)]):
                state[name] = Z
                state[("scalar", name)] = False
                state[("none", name)] = False
                state[("own", name)] = name in self.materialise
                return [self.zero(name, stmt)] if name in self.materialise else []
            case ast.If(test=test, body=body, orelse=orelse):
                left, right = dict(state), dict(state)
                body, orelse = self.run(body, left), self.run(orelse, right)
                state.update(_join(left, right))
                if not body and not orelse:
                    return []
                return [ast.copy_location(ast.If(test, body or [ast.Pass()], orelse), stmt)]
            case ast.For(target=target, iter=iterable, body=body):
                entry = dict(state)
                while True:  # to a fixed point: the state at the loop head
                    after = dict(entry)
                    emit, self.emit = self.emit, False
                    self.run(body, after)  # a dry run changes no statement: no copy needed
                    self.emit = emit
                    joined = _join(entry, after)
                    if joined == entry:
                        break
                    entry = joined
                inner = dict(entry)
                body = self.run(body, inner)
                state.update(entry)
                return [ast.copy_location(ast.For(target, iterable, body, []), stmt)] if body else []
            case ast.Assign(targets=targets, value=value) if self.reads(value):
                reads = self.reads(value)
                if all(state.get(r, Z) == Z for r in reads):
                    for name in self.written(targets):
                        state[name] = Z
                    return []
                self.need(reads, state)
                self.disown(_escapes(value, self.adjoints), state)
                scalar = any(self.maybe_scalar(r, state) for r in reads) or _clears_entries(value)
                none = self.maybe_none(value, state)
                for name in self.written(targets):
                    state[name] = N
                    state[("own", name)] = False
                    state[("scalar", name)] = scalar
                    state[("none", name)] = none
                return [ast.copy_location(ast.Assign(targets, self.fill(value, state)), stmt)]
            case ast.Expr(value=value):  # sg.push(dtape, dx): the pushed adjoint must exist
                self.need(self.reads(value), state)
                self.disown(_escapes(value, self.adjoints), state)  # the tape holds it now
                return [ast.copy_location(ast.Expr(self.fill(value, state)), stmt)]
            case ast.Return(value=value):
                self.disown(_escapes(value, self.adjoints), state)
                return [ast.copy_location(ast.Return(self.fill(value, state, spread=True)), stmt)]
            case Inserted(primal=primal, alias=alias, body_code=body):
                # The user's code reads (and may rebind) the adjoint: it must hold a value, and
                # afterwards may be anything the code made of it.
                out = []
                if state.get(alias, Z) == Z:
                    zeros = ast.Call(ast.Attribute(copy.deepcopy(self.sg), "zeros_like", ast.Load()), [ast.Name(primal, ast.Load())], [])
                    out.append(ast.fix_missing_locations(ast.copy_location(ast.Assign([ast.Name(alias, ast.Store())], zeros), stmt)))
                self.need({alias}, state)
                state[alias], state[("own", alias)], state[("scalar", alias)] = N, False, False
                return out + (body if self.emit else [])
        return [stmt]

    def accumulate(self, stmt, name: str, value: ast.expr, state: dict) -> list[ast.stmt]:
        reads = self.reads(value)
        if any(state.get(r, Z) == Z for r in reads):
            return []  # linear in a zero adjoint: the contribution is zero
        self.need(reads, state)
        self.disown(_escapes(value, self.adjoints), state)
        value = self.fill(value, state)
        current, owned = state.get(name, Z), state.get(("own", name), False)
        # An entry of a taken-apart cotangent (`dout[15]`) may be None, the zero of a residual
        # that was None (a variable unbound on the path taken): `+` with it is a TypeError.
        none_in = self.maybe_none(value, state)
        none_old, state[("none", name)] = state.get(("none", name), False), False
        scalar_in = any(self.maybe_scalar(r, state) for r in reads) or _clears_entries(value)
        state[("scalar", name)] = scalar_in and (current == Z or self.maybe_scalar(name, state))
        state[name] = N
        if current == Z and owned and name in self.materialise and name not in self.containers:
            if self.surely_array(value) or (name in self.zero_like and not isinstance(value, (ast.Subscript, ast.Name))):
                aug = ast.AugAssign(ast.Name(name, ast.Store()), ast.Add(), value)  # into our own zeros
                return [ast.fix_missing_locations(ast.copy_location(aug, stmt))]
            # The zero may be the scalar 0.0, which stands for a zero of any structure (also as
            # `sg.zeros_like` of a primal 0.0 that stood for one in a generated gradient), and the
            # value a tuple, list or dict (an entry of a taken-apart cotangent, a callee's
            # residuals): `0.0 += (a, b)` is a TypeError, sg.add gives the tuple itself.
            add = ast.Call(ast.Attribute(copy.deepcopy(self.sg), "add", ast.Load()), [ast.Name(name, ast.Load()), value], [])
            state[("own", name)] = False
            return [ast.fix_missing_locations(ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], add), stmt))]
        if current == Z:
            new = value
            state[("own", name)] = False  # dx = e: dx is e's buffer, maybe someone else's too
            state[("none", name)] = none_in
        else:
            if current == M:
                self.materialise.add(name)
            old = ast.Name(name, ast.Load())
            if name in self.containers or none_in or none_old or (
                    current == M and owned and not self.surely_array(value)
                    and (name not in self.zero_like or isinstance(value, (ast.Subscript, ast.Name)))):
                # (a zero made here may be the scalar 0.0 standing for a tuple or list: see above)
                new = ast.Call(ast.Attribute(copy.deepcopy(self.sg), "add", ast.Load()), [old, value], [])
                state[("own", name)] = False  # sg.add(0.0, e) is e itself
                state[("none", name)] = none_in and (none_old or current == M)
            elif owned:
                aug = ast.AugAssign(ast.Name(name, ast.Store()), ast.Add(), value)
                return [ast.fix_missing_locations(ast.copy_location(aug, stmt))]
            else:
                new = ast.BinOp(old, ast.Add(), value)
                state[("own", name)] = True  # dx + e is a new array that only dx holds
        assign = ast.Assign([ast.Name(name, ast.Store())], new)
        return [ast.fix_missing_locations(ast.copy_location(assign, stmt))]

    def surely_array(self, value: ast.expr) -> bool:
        """Whether ``value`` surely holds a number or an array, never a container: arithmetic, or
        a library call other than sourcegrad's own (whose ``unindex`` and the like make tuples),
        or ``sg.unbroadcast``/``sg.unbroadcast_to``."""
        if isinstance(value, (ast.BinOp, ast.UnaryOp)):
            return True
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
            return False
        if ast.dump(value.func.value) != ast.dump(self.sg):
            return isinstance(value.func.value, ast.Name)
        return value.func.attr in ("unbroadcast", "unbroadcast_to")

    def maybe_none(self, value: ast.expr, state: dict) -> bool:
        """Whether ``value`` may be None, the zero of a residual that was None: an entry of a
        cotangent taken apart, or an adjoint that may still hold one."""
        if isinstance(value, ast.Subscript):
            return True
        return isinstance(value, ast.Name) and state.get(("none", value.id), False)

    def maybe_scalar(self, name: str, state: dict) -> bool:
        """Whether ``name`` may hold the scalar zero ``0.0`` where an array is meant."""
        if state.get(name, Z) == M and name not in self.zero_like:
            return True
        return state.get(("scalar", name), False)

    def disown(self, names: set[str], state: dict) -> None:
        for name in names:
            state[("own", name)] = False

    def need(self, reads: set[str], state: dict) -> None:
        for name in reads:
            if state.get(name, Z) == M:
                self.materialise.add(name)

    def reads(self, value: ast.expr) -> set[str]:
        """Adjoints read by ``value``, outside OR_ZERO markers (those never drop a statement)."""
        names: set[str] = set()
        todo = [value]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == self.or_zero:
                continue
            if isinstance(node, ast.Name) and node.id in self.adjoints:
                names.add(node.id)
            todo.extend(ast.iter_child_nodes(node))
        return names

    def fill(self, value: ast.expr, state: dict, spread: bool = False) -> ast.expr:
        """Resolve OR_ZERO markers against the current state (a dry run only notes what they need).
        ``spread``: the returned gradients, which must have their parameters' shapes."""
        lowering = self
        if not self.emit:
            for node in ast.walk(value):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == self.or_zero
                        and state.get(node.args[0].id, Z) == M):
                    self.materialise.add(node.args[0].id)
            return value

        class Fill(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id == lowering.whole:
                    adjoint, primal = node.args
                    if not lowering.maybe_scalar(adjoint.id, state):
                        return adjoint
                    return ast.Call(ast.Attribute(copy.deepcopy(lowering.sg), "whole", ast.Load()), [adjoint, primal], [])
                if isinstance(node.func, ast.Name) and node.func.id == lowering.or_zero:
                    adjoint, primal = node.args
                    status = state.get(adjoint.id, Z)
                    if status == Z:
                        return ast.Call(ast.Attribute(copy.deepcopy(lowering.sg), "zeros_like", ast.Load()), [primal], [])
                    if status == M:
                        lowering.materialise.add(adjoint.id)
                    if spread and lowering.maybe_scalar(adjoint.id, state):  # 0.0 to the parameter's shape
                        zeros = ast.Call(ast.Attribute(copy.deepcopy(lowering.sg), "zeros_like", ast.Load()), [primal], [])
                        add = ast.Attribute(copy.deepcopy(lowering.sg), "add", ast.Load())
                        return ast.Call(add, [adjoint, zeros], [])  # `+` would join lists, fail for dicts
                    return adjoint
                return self.generic_visit(node)

        return ast.fix_missing_locations(Fill().visit(value))

    def written(self, targets: list[ast.expr]) -> list[str]:
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and n.id in self.adjoints]

    def zero(self, name: str, where: ast.AST) -> ast.stmt:
        if name in self.zero_like:
            value = ast.Call(ast.Attribute(copy.deepcopy(self.sg), "zeros_like", ast.Load()),
                             [ast.Name(self.zero_like[name], ast.Load())], [])
        else:
            value = ast.Constant(0.0)
        return ast.fix_missing_locations(ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], value), where))


def lower(stmts: list[ast.stmt], *, adjoints: set[str], containers: set[str], sg: ast.expr,
          or_zero: str, whole: str, seeds: set[str], zero_like: dict[str, str]) -> list[ast.stmt]:
    """Plain statements for the adjoint IR ``stmts``; ``seeds`` hold values on entry.

    ``zero_like`` maps adjoints that need a real zero on entry to the primal whose zeros they take
    (parameters' adjoints: ``dW = sg.zeros_like(W)``).
    """
    lowering = Lowering(adjoints, containers, sg, or_zero, whole, set(), dict(zero_like))
    start = {name: N for name in seeds}
    lowering.run(stmts, dict(start))  # dry runs (emit=False) find what needs a real zero
    while True:
        found = set(lowering.materialise)
        lowering.run(stmts, dict(start))
        if lowering.materialise == found:
            break
    lowering.emit = True
    start.update({("own", name): True for name in lowering.materialise - seeds})  # fresh zeros
    body = lowering.run(stmts, dict(start))
    head = []
    for name in sorted(lowering.materialise - seeds):
        if name in zero_like:
            value = ast.Call(ast.Attribute(copy.deepcopy(sg), "zeros_like", ast.Load()), [ast.Name(zero_like[name], ast.Load())], [])
        else:
            value = ast.Constant(0.0)
        head.append(ast.Assign([ast.Name(name, ast.Store())], value, lineno=0, col_offset=0))
    return head + body
