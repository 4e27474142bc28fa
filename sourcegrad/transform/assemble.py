"""Whole generated functions from the two sweeps: the joint gradient and the split pair.

Input: ``ReverseCode`` from ``reverse``. Output: FunctionDefs whose bodies hold the primal sweep, a
``SWEEP_MARK`` statement, then the lowered adjoint sweep (the mark tells the optimiser and the
emitter where the adjoint starts; the emitter drops it).

- joint: ``def dloss(W, b, x, y, dout=1.0): <primal> <adjoint> return dW, db``
- split: ``def g_fwd(x, w): <primal> return out, (tape, h, ...)`` and
  ``def g_bwd(res, dout): tape, h, ... = res; <adjoint> return dx, dw`` for user subroutines and vjp.
"""

from __future__ import annotations

import ast
import copy

from sourcegrad.transform.accumulate import lower
from sourcegrad.transform.reverse import OR_ZERO, WHOLE, ReverseCode

SWEEP_MARK = "--- adjoint sweep ---"


def mark() -> ast.stmt:
    return ast.Expr(ast.Constant(SWEEP_MARK))


def is_mark(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value == SWEEP_MARK


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _head(rc: ReverseCode, sg: ast.expr, extra_prebind: set[str] = frozenset()) -> list[ast.stmt]:
    head = []
    if rc.tape:
        tape = ast.Call(ast.Attribute(copy.deepcopy(sg), "Tape", ast.Load()), [], [])
        head.append(ast.Assign([ast.Name(rc.tape, ast.Store())], tape))
    for name in list(rc.prebind) + sorted(extra_prebind - set(rc.prebind)):
        head.append(ast.Assign([ast.Name(name, ast.Store())], ast.Constant(None)))
    return head


def _gradients(rc: ReverseCode, wrt: list[str], adjoint, single: bool = True) -> ast.expr:
    parts = [ast.Call(_load(OR_ZERO), [_load(adjoint(p)), _load(p)], []) for p in wrt]
    return parts[0] if single and len(parts) == 1 else ast.Tuple(parts, ast.Load())


def _lowered(rc: ReverseCode, stmts: list[ast.stmt], sg: ast.expr, adjoint, params: list[str],
             spread: bool) -> list[ast.stmt]:
    """``spread``: the seed may be a scalar standing for a value of another shape (see joint)."""
    zero_like = {adjoint(p): p for p in params}
    if spread and isinstance(rc.returned, ast.Name) and rc.seed in rc.adjoint_names:
        seed = ast.Call(ast.Attribute(copy.deepcopy(sg), "seed_like", ast.Load()), [_load(rc.seed), _load(rc.returned.id)], [])
        stmts = [ast.Assign([ast.Name(rc.seed, ast.Store())], seed, lineno=0, col_offset=0)] + stmts
    return lower(stmts, adjoints=rc.adjoint_names | {rc.seed}, containers=rc.containers, sg=sg,
                 or_zero=OR_ZERO, whole=WHOLE, seeds={rc.seed}, zero_like=zero_like)


def joint(rc: ReverseCode, fn: ast.FunctionDef, name: str, wrt: list[str], adjoint, sg: ast.expr,
          result: str | None, order: str, single: bool) -> ast.FunctionDef:
    """The gradient in one function. ``order``: 'grad', 'grad_value' or 'value_grad'."""
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    grads = _gradients(rc, wrt, adjoint, single)
    body = _head(rc, sg) + list(rc.primal)
    if order != "grad":
        body.append(ast.Assign([ast.Name(result, ast.Store())], copy.deepcopy(rc.returned)))
    ret = ast.Return(grads)
    # A cotangent has its value's shape, and rules rely on it (the adjoint of `x[i]` reads `dy[i]`):
    # the scalar seed (default 1.0) of an output that may not be a number is spread over the output,
    # so that the gradient of a non-scalar output is the gradient of its sum.
    adjoint_part = _lowered(rc, list(rc.adjoint) + [ret], sg, adjoint, params, spread=not rc.scalar_output)
    final = adjoint_part[-1].value
    if order == "grad_value":
        adjoint_part[-1] = ast.Return(ast.Tuple([final, _load(result)], ast.Load()))
    elif order == "value_grad":
        adjoint_part[-1] = ast.Return(ast.Tuple([_load(result), final], ast.Load()))
    args = copy.deepcopy(fn.args)
    args.args.append(ast.arg(rc.seed))
    args.defaults = list(args.defaults) + [ast.Constant(1.0)]
    body = body + [mark()] + adjoint_part
    return ast.fix_missing_locations(ast.FunctionDef(name, args, body, [], None, None, **_tp()))


def split(rc: ReverseCode, fn: ast.FunctionDef, names: tuple[str, str], wrt: list[str], adjoint,
          sg: ast.expr, residual_name: str) -> tuple[ast.FunctionDef, ast.FunctionDef]:
    """The forward function returning (value, residuals) and the backward one taking them."""
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    grads = _gradients(rc, wrt, adjoint)
    # Generated callers pass cotangents of the output's shape; a tuple/list/dict output may get a scalar.
    adjoint_part = _lowered(rc, list(rc.adjoint) + [ast.Return(grads)], sg, adjoint, params,
                            spread=rc.seed in rc.containers)
    local = set(params) | {n.id for s in rc.primal for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    residuals = sorted((_free_reads(adjoint_part) & local) - rc.adjoint_names - {rc.seed})
    if rc.tape and rc.tape not in residuals:
        residuals.insert(0, rc.tape)
    elif rc.tape:
        residuals.remove(rc.tape)
        residuals.insert(0, rc.tape)
    unbound = set(residuals) - rc.bound_at_end - {rc.tape}
    res_tuple = ast.Tuple([_load(r) for r in residuals], ast.Load())
    fwd_body = _head(rc, sg, unbound) + list(rc.primal)
    fwd_body.append(ast.Return(ast.Tuple([copy.deepcopy(rc.returned), res_tuple], ast.Load())))
    fwd = ast.FunctionDef(names[0], copy.deepcopy(fn.args), fwd_body, [], None, None, **_tp())
    unpack = ast.Assign([ast.Tuple([ast.Name(r, ast.Store()) for r in residuals], ast.Store())], _load(residual_name))
    bwd_args = ast.arguments(posonlyargs=[], args=[ast.arg(residual_name), ast.arg(rc.seed)], kwonlyargs=[],
                             kw_defaults=[], defaults=[])
    bwd_body = ([unpack] if residuals else []) + [mark()] + adjoint_part
    bwd = ast.FunctionDef(names[1], bwd_args, bwd_body, [], None, None, **_tp())
    return ast.fix_missing_locations(fwd), ast.fix_missing_locations(bwd)


def _free_reads(stmts: list[ast.stmt]) -> set[str]:
    """Names read before the statements themselves surely bind them (conservative)."""
    return {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _sg_names(sg: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(sg) if isinstance(n, ast.Name)}


def _tp() -> dict:
    return {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
