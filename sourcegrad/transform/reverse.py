"""Reverse mode: a primal sweep that records what the adjoint sweep needs, then the adjoint sweep.

Input: a ``NormalForm``, the differentiated parameters, and ``split_call`` (which returns the
forward/backward pair of a called user function). Output: ``ReverseCode``, the two sweeps as
statement lists in adjoint IR (see ``accumulate``), plus the names the emitter needs.

The invariant the sweeps keep: when the adjoint of a statement runs, every variable it reads holds
the value it had right after that statement ran in the primal sweep. Overwritten values are pushed
before the overwrite and popped after the overwriting statement's adjoint, but only when an adjoint
reads the variable (to-be-recorded). Branch conditions and trip counts are control records: read
where they are, or pushed after their construct when it sits in a loop.
"""

from __future__ import annotations

import ast
import copy
import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sourcegrad import runtime
from sourcegrad.analyse.facts import (
    Activity,
    activity,
    holds_number,
    read_names,
    same_shapes,
    scalars,
    tuples_of_numbers,
    walk_simple,
)
from sourcegrad.custom import Custom
from sourcegrad.errors import TransformError, location_of
from sourcegrad.frontend.resolve import MISSING
from sourcegrad.normal import NormalForm
from sourcegrad.normal.grammar import assigned_names, is_test
from sourcegrad.normal.surgery import Inserted, breaks_out
from sourcegrad.rules import table
from sourcegrad.transform import economy, inplace, primitives, templates

OR_ZERO = "__or_zero__"  # IR marker: OR_ZERO(dx, x) is dx, or zeros shaped like x where dx is zero
# IR marker: WHOLE(dx, x) is dx with the structure of x, for an adjoint that is taken apart
# (``dt[0]`` for ``t = (a, b)``) where it may hold the scalar zero 0.0 standing for any structure.
WHOLE = "__whole__"
# Runtime helpers whose result is a tuple or list of cotangents (the parts of a joined sequence):
# an adjoint they contribute to accumulates with sg.add (`+` would join the two tuples).
SEQUENCE_COTANGENTS = (runtime.unconcatenate, runtime.unstack, runtime.unjoin, runtime.unselect,
                       runtime.uniterated, runtime.unrepeat_sequence, runtime.unarray, runtime.unwritten)


@dataclass
class ReverseCode:
    primal: list[ast.stmt]
    adjoint: list[ast.stmt]
    prebind: list[str]  # variables a push may meet unbound: bound to None first
    tape: str | None
    seed: str
    returned: ast.expr
    adjoint_names: set[str]
    containers: set[str]  # adjoint variables that may hold tuples/lists: accumulate with sg.add
    bound_at_end: set[str]
    scalar_output: bool  # the returned value is surely a number: a scalar seed needs no spreading


@dataclass
class _Bound:
    definite: set[str]
    possible: set[str]

    def copy(self) -> _Bound:
        return _Bound(set(self.definite), set(self.possible))


def _assign(target: ast.expr | str, value: ast.expr, where: ast.AST) -> ast.stmt:
    if isinstance(target, str):
        target = ast.Name(target, ast.Store())
    return ast.fix_missing_locations(ast.copy_location(ast.Assign([target], value), where))


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _whole(adjoint: str, name: str) -> ast.Call:
    return ast.Call(_load(WHOLE), [_load(adjoint), _load(name)], [])


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(self.new, node.ctx), node) if node.id == self.old else node



class ReverseTransform:
    def __init__(self, nf: NormalForm, wrt: list[str], split_call: Callable[[Any, tuple[int, ...]], tuple]):
        self.nf, self.scope, self.namer = nf, nf.scope, nf.scope.namer
        self.split_call = split_call
        final = nf.fn.body[-1] if nf.fn.body else None
        assert isinstance(final, ast.Return), "the normal form ends in one return"
        self.returned = final.value
        returned_name = self.returned.id if isinstance(self.returned, ast.Name) else None
        edges = primitives.tape_edges(nf.fn, self.scope)
        # A tape handed in (a forward half's residuals, popped by this backward half) is consumed
        # here: its cotangent must be an adjoint tape with one entry per pop, which the forward
        # half's own adjoint pops where it pushed, even where nothing popped reaches the output
        # (`sg.zeros_like` of the emptied tape would have no entries left).
        handed_in = primitives.tapes_handed_in(nf.fn, self.scope)
        self.activity: Activity = activity(nf.fn, wrt, returned_name, self._flows, edges, handed_in)
        numbers = scalars(nf.fn, nf.params, self._scalar_call, self._shape_call)
        self.numbers = numbers
        tuples = tuples_of_numbers(nf.fn, self._shape_call)
        self.shapes = same_shapes(nf.fn, self._shape_preserving, lambda e: holds_number(e, numbers, tuples))
        self.seed = self.adjoint(returned_name) if returned_name else self.namer.fresh("dout")
        self.sg = self.scope.spell(runtime, "sg")
        self.tape: str | None = None
        self.adjoints: dict[int, list[ast.stmt]] = {}
        self.primal_forms: dict[int, ast.stmt] = {}
        self.containers: set[str] = set()
        self.records: set[str] = set()
        self.loop_depth = 0
        self.prebind: list[str] = []
        self.call_adjoints: set[str] = set()  # adjoints a user call's backward function returns
        self.adjoint_tapes: set[str] = set()  # stacks of adjoints, when differentiating a gradient
        self.active_tapes = {tape for _, tape, _, _ in primitives.tape_ops(nf.fn, self.scope) if self.active(tape)}
        for stmt in walk_simple(nf.fn.body):
            self.adjoints[id(stmt)] = self._adjoint_of(stmt)
        self._tape_adjoints()
        self._containers_through_copies()
        economy.reevaluate_subscripts(nf.fn.body, self.adjoints, self.primal_forms, set(nf.params))
        self.shape_records = economy.shape_records(nf.fn, self.adjoints, self.namer, set(nf.params))
        self.adj_read = self._adjoint_reads()
        # A reassigned parameter is restored by the tape: its gradient takes the original's shape.
        self.adj_read |= set(wrt) & assigned_names(nf.fn.body)
        # ... but only where an adjoint that runs after the restoring pop reads it (in-place updates)
        self.read_before = inplace.reads_before(nf.fn.body, self.adjoints, self.adj_read, set(wrt) & assigned_names(nf.fn.body))

    # --- facts ----------------------------------------------------------------------------------

    def adjoint(self, name: str) -> str:
        return self.namer.adjoint(name)

    def active(self, name: str) -> bool:
        return self.activity.active(name)

    def _flows(self, stmt: ast.Assign) -> set[str] | None:
        fn = primitives.callee(stmt.value, self.scope)
        if fn is MISSING:
            return None
        if table.is_nondifferentiable(fn):
            return set()
        template = table.lookup_adjoint(fn)
        return primitives.differentiated_operands(stmt.value, self.scope, template)

    def _scalar_call(self, call: ast.Call) -> bool:
        fn = self.scope.resolve(call.func)
        if table.is_full_reduction(fn):
            return len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred)
        counts = (table.ATTRIBUTES.get("ndim"), table.ATTRIBUTES.get("size"))  # x.ndim, x.size: ints
        return fn in (float, int, len, *counts) or getattr(fn, "__module__", None) == "math"

    def _shape_call(self, call: ast.Call) -> bool:
        return self.scope.resolve(call.func) is table.ATTRIBUTES.get("shape")  # x.shape: a tuple of ints

    def _shape_preserving(self, call: ast.Call) -> bool:
        fn = self.scope.resolve(call.func)
        if type(fn).__name__ == "ufunc":
            return fn.nin == 1
        return getattr(fn, "__module__", None) == "math" or getattr(type(fn), "__module__", "") == "math"

    # --- adjoint of one simple statement ---------------------------------------------------------

    def _tape_adjoints(self) -> None:
        """A tape with anything active on it gets an adjoint tape, and then every push and pop on it
        gets its adjoint (zeros for inactive values), so that the adjoint tape stays in step."""
        ops = list(primitives.tape_ops(self.nf.fn, self.scope))
        active = self.active_tapes
        sg_ = lambda attr: ast.Attribute(copy.deepcopy(self.sg), attr, ast.Load())
        for stmt, tape, name, is_push in ops:
            if tape not in active:
                continue
            dtape = self._adjoint_tape(tape, stmt)
            if is_push:  # the value's adjoint comes back off the adjoint tape
                if name:  # tapes also carry shapes, flags and counts: accumulate container-aware
                    self.containers.add(self.adjoint(name))
                pop = ast.Call(sg_("pop"), [_load(dtape)], [])
                out = self._acc(name, pop, stmt) if name and self.active(name) else ast.Expr(pop)
            else:  # the popped value's adjoint goes onto it
                if name is None:
                    seed: ast.expr = ast.Constant(0.0)
                elif self.active(name):
                    seed = self._or_zero(name)
                else:
                    seed = ast.Call(sg_("zeros_like"), [_load(name)], [])
                out = ast.Expr(ast.Call(sg_("push"), [_load(dtape), seed], []))
            self.adjoints[id(stmt)] = [ast.fix_missing_locations(ast.copy_location(out, stmt))]

    def _adjoint_of(self, stmt: ast.stmt) -> list[ast.stmt]:
        match stmt:
            case ast.Expr(value=ast.Call() as call) if primitives.callee(call, self.scope) is runtime.truncate:
                raise TransformError(
                    "this gradient stops its backward pass early (a `break` in insert_grad_of code), "
                    "so it cannot be differentiated again in reverse mode",
                    location_of(stmt, self.scope.filename),
                    hint="differentiate it in forward mode (sg.autodiff(df, mode='forward'), as sg.hvp does), "
                    "or move the `break` out of the function you differentiate twice",
                )
            case ast.Assign(targets=[ast.Name(id=target)], value=value) if not is_test(value):
                if not self.active(target):
                    return []
                return self._assign_adjoint(stmt, target, value)
            case ast.Assign(targets=[ast.Tuple(elts=elts)], value=ast.Name(id=source)):
                self.containers.add(self.adjoint(source))
                if not self.active(source) or not any(self.active(e.id) for e in elts):
                    return []
                parts = [self._or_zero(e.id) for e in elts]
                acc = ast.AugAssign(ast.Name(self.adjoint(source), ast.Store()), ast.Add(), ast.Tuple(parts, ast.Load()))
                return [ast.fix_missing_locations(ast.copy_location(acc, stmt))]
        return []

    def _assign_adjoint(self, stmt: ast.stmt, target: str, value: ast.expr) -> list[ast.stmt]:
        dtarget = _load(self.adjoint(target))
        if target in self.scope.call_operands:  # arguments packed for `sg.call`: an entry may be an object
            entries = value.values if isinstance(value, ast.Dict) else getattr(value, "elts", [])
            self.containers |= {self.adjoint(e.id) for e in entries if isinstance(e, ast.Name)}
        match value:
            case ast.Name(id=source):
                return [self._acc(source, dtarget, stmt)] if self.active(source) else []
            case ast.Constant():
                return []
            case ast.Attribute() if primitives.callee(value, self.scope) is MISSING:
                return []
            case ast.Dict(keys=keys, values=elts):
                self.containers.add(self.adjoint(target))
                return [
                    self._acc(e.id, ast.Subscript(_whole(dtarget.id, target), k, ast.Load()), stmt)
                    for k, e in zip(keys, elts)
                    if isinstance(e, ast.Name) and self.active(e.id)
                ]
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                self.containers.add(self.adjoint(target))
                return [
                    self._acc(e.id, ast.Subscript(_whole(dtarget.id, target), ast.Constant(i), ast.Load()), stmt)
                    for i, e in enumerate(elts)
                    if isinstance(e, ast.Name) and self.active(e.id)
                ]
        fn = primitives.callee(value, self.scope)
        if isinstance(value, (ast.Subscript, ast.Attribute)) and isinstance(value.value, ast.Name):
            self.containers.add(self.adjoint(value.value.id))
        if fn is runtime.array_attribute and isinstance(value.args[0], ast.Name):  # an object's attribute
            self.containers.add(self.adjoint(value.args[0].id))
        if fn is runtime.pop:  # see _tape_adjoints
            return []
        if fn is not MISSING and table.is_nondifferentiable(fn):
            return []
        template = table.lookup_adjoint(fn) if fn is not MISSING else None
        if template is None and isinstance(fn, Custom):
            return self._custom_call(stmt, target, value, fn) if fn.bwd else self._user_call(stmt, target, value, fn.primal)
        if template is None and inspect.isfunction(fn):
            return self._user_call(stmt, target, value, fn)
        if template is None:
            raise primitives.no_rule(fn, value, stmt, self.scope)
        site = templates.Site(stmt, target, *primitives.operands(value), self.scope.filename)
        out = templates.instantiate(
            template, site, adjoint=self.adjoint, active=self.active, spell=self.scope.spell,
            same_shape=lambda name: self.shapes.holds(stmt, name), index_spelling=lambda node: primitives.index_value(node, self.scope),
        )
        for acc in out:  # `dxs += sg.unstack(...)`, and both operands of `operator.concat`
            if fn is operator.concat or primitives.callee(acc.value, self.scope) in SEQUENCE_COTANGENTS:
                self.containers.add(acc.target.id)
        return out

    def _containers_through_copies(self) -> None:
        """An adjoint that receives another adjoint as it is (``d[g] = d[y]``, the rule of
        ``sg.whole`` or ``sg.add``) may hold a tuple or list where that one may: it accumulates
        with sg.add too (`+` of two lists of cotangents joins them, a silently wrong gradient)."""
        copies = [
            (acc.target.id, acc.value.id)
            for stmts in self.adjoints.values()
            for acc in stmts
            if isinstance(acc, ast.AugAssign) and isinstance(acc.value, ast.Name)
        ]
        changed = True
        while changed:
            changed = False
            for target, source in copies:
                if source in self.containers and target not in self.containers:
                    self.containers.add(target)
                    changed = True

    def _or_zero(self, name: str) -> ast.expr:
        """The adjoint of ``name`` where it is handed on whole; an active tape's is its adjoint tape,
        made at the start of the adjoint sweep, whose depth the zeros of an emptied tape would lose."""
        if name in self.active_tapes:
            return _load(self._adjoint_tape(name, None))
        return ast.Call(_load(OR_ZERO), [_load(self.adjoint(name)), _load(name)], [])

    def _adjoint_tape(self, tape: str, where: ast.AST) -> str:
        """``dtape`` for a generated gradient's ``tape``: a stack of adjoints, made at the start
        of the adjoint sweep."""
        dtape = self.adjoint(tape)
        self.adjoint_tapes.add(dtape)
        return dtape

    def _acc(self, name: str, value: ast.expr, where: ast.AST) -> ast.stmt:
        acc = ast.AugAssign(ast.Name(self.adjoint(name), ast.Store()), ast.Add(), value)
        return ast.fix_missing_locations(ast.copy_location(acc, where))

    def _user_call(self, stmt: ast.stmt, target: str, call: ast.Call, fn: Any) -> list[ast.stmt]:
        args = primitives.bind_call(fn, call, stmt, self.scope)
        active = tuple(i for i, a in enumerate(args) if isinstance(a, ast.Name) and self.active(a.id))
        if not active:
            return []
        self.containers |= {self.adjoint(args[i].id) for i in active}  # an argument may be a tuple or object
        fwd, bwd = self.split_call(fn, active)
        base = fn.__name__
        fwd_name, bwd_name = self.scope.spell(fwd, base + "_fwd"), self.scope.spell(bwd, base + "_bwd")
        residual = self.namer.fresh(base + "_res")
        primal = ast.Assign([ast.Tuple([ast.Name(target, ast.Store()), ast.Name(residual, ast.Store())], ast.Store())],
                            ast.Call(fwd_name, *primitives.call_arguments(fn, args)))
        self.primal_forms[id(stmt)] = ast.fix_missing_locations(ast.copy_location(primal, stmt))
        parts = [self.namer.fresh(f"{self.adjoint(args[i].id)}_{base}") for i in active]
        self.call_adjoints |= set(parts)
        targets = ast.Tuple([ast.Name(p, ast.Store()) for p in parts], ast.Store()) if len(parts) > 1 else ast.Name(parts[0], ast.Store())
        out = [_assign(targets, ast.Call(bwd_name, [_load(residual), _load(self.adjoint(target))], []), stmt)]
        out += [self._acc(args[i].id, _load(p), stmt) for i, p in zip(active, parts)]
        return out

    def _custom_call(self, stmt: ast.stmt, target: str, call: ast.Call, fn: Custom) -> list[ast.stmt]:
        """``y, res = f_fwd(x, w)`` in the primal; ``dx_f, dw_f = f_bwd(res, dy)`` in the adjoint:
        the user's own rule functions, called by their own names."""
        args = primitives.bind_call(fn.primal, call, stmt, self.scope)
        active = [i for i, a in enumerate(args) if isinstance(a, ast.Name) and self.active(a.id)]
        if not active:
            return []
        base = fn.__name__
        fwd_name, bwd_name = self.scope.spell(fn.fwd, fn.fwd.__name__), self.scope.spell(fn.bwd, fn.bwd.__name__)
        residual = self.namer.fresh(base + "_res")
        primal = ast.Assign([ast.Tuple([ast.Name(target, ast.Store()), ast.Name(residual, ast.Store())], ast.Store())],
                            ast.Call(fwd_name, *primitives.call_arguments(fn.primal, args)))
        self.primal_forms[id(stmt)] = ast.fix_missing_locations(ast.copy_location(primal, stmt))
        parts = [self.namer.fresh(f"{self.adjoint(a.id)}_{base}" if isinstance(a, ast.Name) else "unused") for a in args]
        self.call_adjoints |= {parts[i] for i in active}
        targets = ast.Tuple([ast.Name(p, ast.Store()) for p in parts], ast.Store())
        out = [_assign(targets, ast.Call(bwd_name, [_load(residual), _load(self.adjoint(target))], []), stmt)]
        return out + [self._acc(args[i].id, _load(parts[i]), stmt) for i in active]

    def _adjoint_reads(self) -> set[str]:
        names: set[str] = set()
        adjoint_names = set(self.namer.adjoint_names().values()) | self.call_adjoints
        for stmts in self.adjoints.values():
            for stmt in stmts:
                names |= read_names(stmt)
        for node in ast.walk(self.nf.fn):  # loops read their range arguments again in reverse
            if isinstance(node, ast.For):
                names |= read_names(node.iter)
        for stmt in walk_simple(self.nf.fn.body):  # inserted code reads the primal where it stands
            if isinstance(stmt, Inserted):
                names |= {stmt.primal} | {n for s in stmt.body_code for n in read_names(s)} - {stmt.alias}
        return names - adjoint_names

    def _inserted(self, stmt: Inserted) -> Inserted:
        """The user's backward-pass code, its alias renamed to the adjoint it names."""
        dx = self.adjoint(stmt.primal)
        body = [_Rename(stmt.alias, dx).visit(copy.deepcopy(s)) for s in stmt.body_code]
        return ast.copy_location(Inserted(stmt.primal, dx, body), stmt)

    def _stops_early(self, loop: ast.For | ast.While) -> bool:
        """Whether inserted code in ``loop``'s own body (not a nested loop's) can break out of it."""
        def through_ifs(stmts):
            for s in stmts:
                if isinstance(s, ast.If):
                    yield from through_ifs(s.body + s.orelse)
                else:
                    yield s
        return any(isinstance(s, Inserted) and breaks_out(s) for s in through_ifs(loop.body))

    def _tape_mark(self, loop: ast.For | ast.While) -> tuple[list, list, list, list]:
        """For a loop whose backward pass inserted code may stop early: the tape's depth taken
        before the loop (and kept as a control record), and the truncation back to it after the
        backward loop, so that what the skipped iterations saved does not meet later pops."""
        if not self._stops_early(loop):
            return [], [], [], []
        self.tape = self.tape or self.namer.fresh("tape")
        mark = self.namer.fresh("tape_mark")
        sg_ = lambda attr: ast.Attribute(copy.deepcopy(self.sg), attr, ast.Load())
        before = [_assign(mark, ast.Call(sg_("depth"), [_load(self.tape)], []), loop)]
        after, pre = self._record(mark, loop)
        cut = ast.Expr(ast.Call(sg_("truncate"), [_load(self.tape), _load(mark)], []))
        return before, after, pre, [ast.fix_missing_locations(ast.copy_location(cut, loop))]


    # --- sweeps ---------------------------------------------------------------------------------

    def run(self) -> ReverseCode:
        params = set(self.nf.params)
        bound = _Bound(set(params), set(params))
        primal, adjoint = self.sweep(self.nf.fn.body[:-1], bound)
        make = lambda name: _assign(name, ast.Call(ast.Attribute(copy.deepcopy(self.sg), "Tape", ast.Load()), [], []), self.nf.fn)
        adjoint = [make(name) for name in sorted(self.adjoint_tapes)] + adjoint
        adjoint_names = (set(self.namer.adjoint_names().values()) | self.call_adjoints) - self.adjoint_tapes
        scalar_output = isinstance(self.returned, ast.Name) and \
            self.returned.id in self.numbers
        return ReverseCode(primal, adjoint, self.prebind, self.tape, self.seed, self.returned,
                           adjoint_names, self.containers & adjoint_names, bound.definite, scalar_output)

    def sweep(self, stmts: list[ast.stmt], bound: _Bound) -> tuple[list[ast.stmt], list[ast.stmt]]:
        primal: list[ast.stmt] = []
        adjoint: list[ast.stmt] = []
        for stmt in stmts:
            match stmt:
                case ast.If(test=ast.Name(), body=[ast.Break()], orelse=[]):
                    p, a = [stmt], []
                case ast.If():
                    p, a = self._if(stmt, bound)
                case ast.For():
                    p, a = self._for(stmt, bound)
                case ast.While():
                    p, a = self._while(stmt, bound)
                case Inserted():
                    p, a = [], [self._inserted(stmt)]
                case _:
                    p, a = self._simple(stmt, bound)
            primal += p
            adjoint = a + adjoint
        return primal, adjoint

    def _simple(self, stmt: ast.stmt, bound: _Bound) -> tuple[list, list]:
        form = self.primal_forms.get(id(stmt), stmt)
        targets = sorted(assigned_names([form]))
        saved = [t for t in targets if t in self.read_before.get(id(stmt), self.adj_read) and t in bound.possible and t not in self.records]
        primal = [self._push(t, stmt, bound) for t in saved] + [form]
        adjoint = list(self.adjoints.get(id(stmt), []))
        adjoint += [self._pop(t, stmt) for t in reversed(saved)]
        # The adjoint of the overwritten value starts at zero (after the pop: a parameter's zeros
        # take the shape of the restored argument).
        adjoint += [ast.copy_location(ast.Delete([ast.Name(self.adjoint(t), ast.Del())]), stmt)
                    for t in targets if self.active(t)]
        bound.definite |= set(targets)
        bound.possible |= set(targets)
        for t in targets:
            if t in self.shape_records:
                import numpy

                shape = ast.Call(self.scope.spell(numpy.shape), [_load(t)], [])
                p, a = self._simple(_assign(self.shape_records[t], shape, stmt), bound)
                primal, adjoint = primal + p, a + adjoint
        return primal, adjoint

    def _push(self, name: str, where: ast.AST, bound: _Bound) -> ast.stmt:
        if name not in bound.definite and name not in self.prebind:
            self.prebind.append(name)
        self.tape = self.tape or self.namer.fresh("tape")
        call = ast.Call(ast.Attribute(self.sg, "push", ast.Load()), [_load(self.tape), _load(name)], [])
        return ast.fix_missing_locations(ast.copy_location(ast.Expr(call), where))

    def _pop(self, name: str, where: ast.AST) -> ast.stmt:
        call = ast.Call(ast.Attribute(self.sg, "pop", ast.Load()), [_load(self.tape)], [])
        return _assign(name, call, where)

    def _record(self, name: str, where: ast.AST) -> tuple[list, list]:
        """A control record: pushed after its construct and popped before it, inside loops only."""
        self.records.add(name)
        if not self.loop_depth:
            return [], []
        push = self._push(name, where, _Bound({name}, {name}))
        return [push], [self._pop(name, where)]

    def _if(self, stmt: ast.If, bound: _Bound) -> tuple[list, list]:
        cond = stmt.test.id
        left, right = bound.copy(), bound.copy()
        p_body, a_body = self.sweep(stmt.body, left)
        p_else, a_else = self.sweep(stmt.orelse, right)
        bound.definite |= left.definite & right.definite
        bound.possible |= left.possible | right.possible
        primal = [ast.copy_location(ast.If(stmt.test, p_body or [ast.Pass()], p_else), stmt)]
        if not (a_body or a_else):
            return primal, []
        push, pop = self._record(cond, stmt)
        return primal + push, pop + [ast.copy_location(ast.If(_load(cond), a_body or [ast.Pass()], a_else), stmt)]

    def _loop_body(self, stmt, bound: _Bound, target: str | None) -> tuple[list, list]:
        inner = bound.copy()
        forms = [self.primal_forms.get(id(s), s) for s in walk_simple(stmt.body)]
        inner.possible |= assigned_names(stmt.body) | assigned_names(forms) | ({target} if target else set())
        inner.possible |= {self.shape_records[n] for n in inner.possible if n in self.shape_records}
        if target:
            inner.definite.add(target)
        self.loop_depth += 1
        p_body, a_body = self.sweep(stmt.body, inner)
        self.loop_depth -= 1
        bound.possible |= inner.possible
        return p_body, a_body

    def _for(self, stmt: ast.For, bound: _Bound) -> tuple[list, list]:
        target = stmt.target.id
        saved = target in self.adj_read and target in bound.possible
        before = [self._push(target, stmt, bound)] if saved else []
        p_body, a_body = self._loop_body(stmt, bound, target)
        loop = ast.copy_location(ast.For(stmt.target, stmt.iter, p_body, []), stmt)
        bound.possible.add(target)
        if not a_body:
            return before + [loop], [self._pop(target, stmt)] if saved else []
        iterable = stmt.iter
        if assigned_names(stmt.body) & read_names(stmt.iter):  # the range changes: keep the one we ran
            snapshot = self.namer.fresh("range_" + target)
            before.append(_assign(snapshot, stmt.iter, stmt))
            iterable = loop.iter = _load(snapshot)
        after, pre = [], []
        if self._exits(stmt):
            count = self.namer.fresh("n_" + target)
            before.append(_assign(count, ast.Constant(0), stmt))
            loop.body.insert(0, _assign(count, ast.BinOp(_load(count), ast.Add(), ast.Constant(1)), stmt))
            iterable = ast.Subscript(iterable, ast.Slice(None, _load(count), None), ast.Load())
            after, pre = self._record(count, stmt)
        backwards = ast.Call(_load("reversed"), [iterable], [])
        reverse = ast.copy_location(ast.For(ast.Name(target, ast.Store()), backwards, a_body, []), stmt)
        restore = [self._pop(target, stmt)] if saved else []
        mark, mark_after, mark_pre, cut = self._tape_mark(stmt)
        return before + mark + [loop] + after + mark_after, mark_pre + pre + [reverse] + cut + restore

    @staticmethod
    def _exits(loop: ast.For | ast.While) -> bool:
        return any(isinstance(s, ast.If) and s.body and isinstance(s.body[0], ast.Break) for s in loop.body)

    def _while(self, stmt: ast.While, bound: _Bound) -> tuple[list, list]:
        p_body, a_body = self._loop_body(stmt, bound, None)
        loop = ast.copy_location(ast.While(stmt.test, p_body, []), stmt)
        if not a_body:
            return [loop], []
        count = self.namer.fresh("n_while")
        loop.body.insert(0, _assign(count, ast.BinOp(_load(count), ast.Add(), ast.Constant(1)), stmt))
        after, pre = self._record(count, stmt)
        rng = ast.Call(_load("range"), [_load(count)], [])
        underscore = "_" if not self.namer.is_taken("_") else self.namer.fresh("unused")
        reverse = ast.copy_location(ast.For(ast.Name(underscore, ast.Store()), rng, a_body, []), stmt)
        mark, mark_after, mark_pre, cut = self._tape_mark(stmt)
        primal = [_assign(count, ast.Constant(0), stmt)] + mark + [loop] + after + mark_after
        return primal, mark_pre + pre + [reverse] + cut

