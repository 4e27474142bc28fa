"""Keeping the tape small: what the adjoint sweep can get without the primal sweep saving it.

Input: the adjoint statements of each normal-form statement (keyed by ``id``), before the sweeps
are built. Output: the same statements reading less of the primal state:

- ``reevaluate_subscripts``: an adjoint reads ``x[t]`` again instead of a saved ``h_item = x[t]``
  (a cheap view) where neither ``x`` nor ``t`` changed in between;
- ``shape_records``: a variable overwritten in a loop whose adjoints need only its shape is saved
  as ``np.shape(v)``, read through ``sg.unbroadcast_to`` (a tuple on the tape, not an array).
"""

from __future__ import annotations

import ast
import copy

from sourcegrad.analyse.facts import read_names
from sourcegrad.naming import Namer
from sourcegrad.normal.grammar import assigned_names

Adjoints = dict[int, list[ast.stmt]]
_VIEW_NODES = (ast.Name, ast.Constant, ast.Slice, ast.Tuple, ast.Subscript, ast.expr_context)


def reevaluate_subscripts(block: list[ast.stmt], adjoints: Adjoints, primal_forms: dict, params: set[str]) -> None:
    """Rewrite ``adjoints`` in place so they read subscripts again rather than saved copies."""
    views: dict[str, ast.Subscript] = {}
    for stmt in block:
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            reevaluate_subscripts(stmt.body, adjoints, primal_forms, params)
            reevaluate_subscripts(stmt.orelse, adjoints, primal_forms, params)
            changed = assigned_names([stmt])
        else:
            mapping = {v: e for v, e in views.items() if v not in params}
            if mapping and adjoints.get(id(stmt)):
                adjoints[id(stmt)] = [_Substitute(mapping).visit(a) for a in adjoints[id(stmt)]]
            changed = assigned_names([primal_forms.get(id(stmt), stmt)])
        views = {v: e for v, e in views.items() if not (changed & (read_names(e) | {v}))}
        match stmt:
            case ast.Assign(targets=[ast.Name(id=v)], value=ast.Subscript() as e) if v not in read_names(e):
                if all(isinstance(n, _VIEW_NODES) for n in ast.walk(e)):
                    views[v] = e


def shape_records(fn: ast.FunctionDef, adjoints: Adjoints, namer: Namer, params: set[str]) -> dict[str, str]:
    """Variables to save as shapes, each mapped to its shape variable; rewrites ``adjoints``."""
    in_loops = {n for loop in ast.walk(fn) if isinstance(loop, (ast.For, ast.While)) for n in assigned_names(loop.body)}
    shape_reads: dict[str, int] = {}
    all_reads: dict[str, int] = {}
    for stmts in adjoints.values():
        for stmt in stmts:
            for node in ast.walk(stmt):
                match node:
                    case ast.Call(func=ast.Attribute(attr="unbroadcast"), args=[_, ast.Name(id=v)]):
                        shape_reads[v] = shape_reads.get(v, 0) + 1
                    case ast.Name(id=v, ctx=ast.Load()):
                        all_reads[v] = all_reads.get(v, 0) + 1
    records = {
        v: namer.fresh(v + "_shape")
        for v, n in sorted(shape_reads.items())
        if v in in_loops and v not in params and all_reads.get(v) == n
    }
    if records:
        for key, stmts in adjoints.items():
            adjoints[key] = [_ShapeReads(records).visit(stmt) for stmt in stmts]
    return records


class _Substitute(ast.NodeTransformer):
    """Reads of a name replaced by a copy of an expression."""

    def __init__(self, mapping: dict[str, ast.expr]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in self.mapping:
            return ast.copy_location(copy.deepcopy(self.mapping[node.id]), node)
        return node


class _ShapeReads(ast.NodeTransformer):
    """``sg.unbroadcast(g, v)`` -> ``sg.unbroadcast_to(g, v_shape)`` for shape-recorded ``v``."""

    def __init__(self, records: dict[str, str]):
        self.records = records

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        match node:
            case ast.Call(func=ast.Attribute(value=owner, attr="unbroadcast"), args=[g, ast.Name(id=v)]) if (
                v in self.records
            ):
                func = ast.Attribute(owner, "unbroadcast_to", ast.Load())
                return ast.copy_location(ast.Call(func, [g, ast.Name(self.records[v], ast.Load())], []), node)
        return node
