"""What keeps in-place updates linear in time: restoring only what an earlier adjoint reads, and
writing into buffers that nothing else holds.

``x[i] = v`` is ``x = sg.setitem(x, i, v)`` in the normal form (``normal/anf.py``), a rebinding
that the reverse transform saves and restores like any other. Two facts keep a loop that fills an
array in place from costing O(n) per write:

- ``reads_before``: an overwritten value is pushed only if the adjoint of a statement that may run
  *before* the overwrite reads it (earlier in the function, or anywhere in a loop around it). A
  value that only later statements' adjoints read (``out`` in ``for i ...: out[i] = ...`` followed
  by ``return np.sum(out ** 2)``) is read by them as it is at the end of the primal sweep, and is
  never saved.
- ``claim_buffers``: after optimisation, an update that rebinds its own operand,
  ``x = sg.setitem(x, i, v)``, calls ``sg.update``, which writes into ``x`` itself when nothing
  but that variable refers to it (``runtime/inplace.py``). A pushed ``x`` is held by the tape and
  gets copied; the normal form of generated code turns ``sg.update`` back into ``sg.setitem``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from sourcegrad import runtime
from sourcegrad.analyse.facts import read_names, walk_simple


def reads_before(body: list[ast.stmt], adjoints: dict[int, list[ast.stmt]], adj_read: set[str],
                 always: set[str]) -> dict[int, set[str]]:
    """For each simple statement (by ``id``): the primal names, of ``adj_read``, that adjoints of
    statements that may run before it read, plus ``always``. A statement whose adjoint is not
    plain code (inserted backward-pass code) counts as reading everything."""

    def reads(stmt: ast.stmt) -> set[str]:
        if not isinstance(stmt, (ast.Assign, ast.Expr, ast.Pass, ast.Assert, ast.Break)):
            return set(adj_read)
        return set().union(*(read_names(a) for a in adjoints.get(id(stmt), [])))

    out: dict[int, set[str]] = {}
    seen: set[str] = set()

    def visit(stmts: list[ast.stmt], around: set[str]) -> None:
        nonlocal seen
        for stmt in stmts:
            if isinstance(stmt, ast.For):
                seen = seen | read_names(stmt.iter)  # the backward loop reads its range again
            if isinstance(stmt, (ast.For, ast.While)):  # earlier iterations run before
                inner = around | set().union(*(reads(s) for s in walk_simple(stmt.body)))
                inner |= {n for s in ast.walk(stmt) if isinstance(s, ast.For) for n in read_names(s.iter)}
                visit(stmt.body, inner)
            elif isinstance(stmt, ast.If):
                visit(stmt.body, around)
                visit(stmt.orelse, around)
            else:
                out[id(stmt)] = ((seen | around) & adj_read) | always
                seen = seen | reads(stmt)

    visit(body, set())
    return out


# --- buffers nobody else holds ----------------------------------------------------------------------

_CLAIMS = {runtime.setitem: "update", runtime.clear_written: "clear"}


def claim_buffers(fn: ast.FunctionDef, resolve: Callable[[ast.expr], object]) -> ast.FunctionDef:
    """``x = sg.setitem(x, ...)`` -> ``x = sg.update(x, ...)`` (and ``clear_written`` -> ``clear``):
    helpers that may write into ``x``, safe because the statement rebinds ``x`` to the result."""
    for node in ast.walk(fn):
        match node:
            case ast.Assign(targets=[ast.Name(id=x)], value=ast.Call(func=ast.Attribute() as func, args=[ast.Name(id=y), *_])) if (
                x == y and _claimable(resolve(func))
            ):
                func.attr = _CLAIMS[resolve(func)]
    return fn


def _claimable(fn: object) -> bool:
    try:
        return fn in _CLAIMS
    except TypeError:  # unhashable
        return False
