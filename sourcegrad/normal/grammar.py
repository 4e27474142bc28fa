"""The core language that the analyses and transforms see (the normal form).

It is still valid Python, printable with ``ast.unparse``. After ``normal.normalise``::

    function := def NAME(params): stmt*
    stmt     := NAME = expr                   one primitive, applied to atoms
              | NAME, NAME, ... = NAME        unpack a tuple
              | NAME = TEST                   a test (comparison, ``not``, ``and``/``or`` of them): no derivative
              | if NAME: stmt* [else: stmt*]
              | for NAME in range(atom, ...): stmt*
              | while TEST: stmt*
              | if NAME: break                only as the last statement of a loop body
              | return atom                   only as the last statement of the function
              | OPAQUE                        ``print(...)``, ``assert``, ``pass``, local ``def``/``lambda``: primal only
    expr     := atom | atom OP atom | OP atom | CALLEE(atom, ..., kw=atom) | atom[index]
              | (atom, ...) | [atom, ...]
    index    := atom | slice of atoms | (index, ...)
    atom     := NAME | CONSTANT | a dotted name resolved at transformation time (``np.pi``)

Every statement keeps the ``lineno``/``col_offset`` of the user statement it came from. The target of
a primitive never appears among its own atoms (``h = h * 2`` becomes ``h_mul = h * 2; h = h_mul``),
so an adjoint can always read its arguments after the statement ran.
"""

from __future__ import annotations

import ast

TEST_NODES = (ast.Compare, ast.BoolOp)


def is_test(expr: ast.expr) -> bool:
    """A value that is only ever true or false: it has no derivative."""
    match expr:
        case ast.Compare() | ast.UnaryOp(op=ast.Not()):
            return True
        case ast.BoolOp(values=values):
            return all(is_test(v) for v in values)
    return False


def is_atom(expr: ast.expr) -> bool:
    return isinstance(expr, (ast.Name, ast.Constant))


def assigned_names(stmts: list[ast.stmt]) -> set[str]:
    """Every name bound anywhere in ``stmts`` (targets, loop variables, local defs)."""
    names: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            match node:
                case ast.Name(id=name, ctx=ast.Store()):
                    names.add(name)
                case ast.FunctionDef(name=name):
                    names.add(name)
    return names
