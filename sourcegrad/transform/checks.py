"""``check_nan=True``: a finiteness check after every assignment of the adjoint sweep.

Input: a generated FunctionDef (primal sweep, ``SWEEP_MARK``, adjoint sweep) and the adjoint
names. Output: the same function where each statement of the adjoint sweep that assigns an
adjoint is followed by ``sg.check_finite(dx, 'dx', 'file.py:12: <the user's statement>')``: the
first non-finite gradient stops the backward pass and names the user line it belongs to (the
adjoint statements carry the positions of the primal statements they differentiate).
"""

from __future__ import annotations

import ast
import copy
import linecache
import os

from sourcegrad.transform.assemble import is_mark


def insert_checks(fn: ast.FunctionDef, adjoints: set[str], sg: ast.expr, filename: str) -> ast.FunctionDef:
    body = list(fn.body)
    for i, stmt in enumerate(body):
        if is_mark(stmt):
            body[i + 1:] = _checked(body[i + 1:], adjoints, sg, filename)
            break
    fn.body = body
    return fn


def _checked(stmts: list[ast.stmt], adjoints: set[str], sg: ast.expr, filename: str) -> list[ast.stmt]:
    out = []
    for stmt in stmts:
        out.append(stmt)
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            stmt.body = _checked(stmt.body, adjoints, sg, filename)
            stmt.orelse = _checked(stmt.orelse, adjoints, sg, filename)
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and node.id in adjoints:
                    out.append(_check(node.id, stmt, sg, filename))
    return out


def _check(name: str, where: ast.stmt, sg: ast.expr, filename: str) -> ast.stmt:
    line = getattr(where, "lineno", 0)
    text = linecache.getline(filename, line).strip() if line else ""
    place = f"{os.path.basename(filename)}:{line}: {text}" if line else os.path.basename(filename)
    func = ast.Attribute(copy.deepcopy(sg), "check_finite", ast.Load())
    call = ast.Call(func, [ast.Name(name, ast.Load()), ast.Constant(name), ast.Constant(place)], [])
    return ast.fix_missing_locations(ast.copy_location(ast.Expr(call), where))
