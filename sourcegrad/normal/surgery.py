"""``with insert_grad_of(h) as dh: <code>`` blocks, taken out of the primal before normalisation.

Input: the user's FunctionDef (past the fence) and a resolver. Output: the same function where
each such block is one ``Inserted`` statement. ``Inserted`` has no AST fields, so the passes that
follow (desugaring, ANF, activity, the primal sweep) see an opaque statement and leave the block's
code alone; the reverse transform puts the code, unchanged but for ``dh``, into the backward pass,
and forward mode drops it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from sourcegrad.surgery import insert_grad_of


class Inserted(ast.stmt):
    """Backward-pass code: ``body`` runs where the adjoint sweep passes this statement, with
    ``alias`` naming the gradient of ``primal``."""

    _fields = ()

    def __init__(self, primal: str, alias: str, body: list[ast.stmt], **where):
        super().__init__(**where)
        self.primal, self.alias, self.body_code = primal, alias, body


def is_insertion(stmt: ast.stmt, resolve: Callable[[ast.expr], object]) -> bool:
    match stmt:
        case ast.With(items=[ast.withitem(context_expr=ast.Call(func=func))]):
            return resolve(func) is insert_grad_of
    return False


def extract(fn: ast.FunctionDef, resolve: Callable[[ast.expr], object], error) -> ast.FunctionDef:
    """Replace every ``with insert_grad_of(h) as dh:`` block by an ``Inserted`` statement.

    ``error(message, node, hint)`` builds the exception for a malformed block (the fence has
    checked the shape that does not need name resolution)."""

    def block(stmts: list[ast.stmt]) -> list[ast.stmt]:
        out = []
        for stmt in stmts:
            if isinstance(stmt, ast.With):
                if not is_insertion(stmt, resolve):
                    raise error("a `with` statement other than `with sourcegrad.insert_grad_of(x) as dx:`", stmt,
                                "move it out of the differentiated function, into its caller")
                out.append(_inserted(stmt, error))
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, ast.FunctionDef):
                    setattr(stmt, field, block(getattr(stmt, field)))
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def _inserted(stmt: ast.With, error) -> Inserted:
    item = stmt.items[0]
    call = item.context_expr
    form = "write `with sourcegrad.insert_grad_of(x) as dx:` with one variable `x` and a name `dx`"
    if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Name):
        raise error("insert_grad_of takes one variable of the function", call, form)
    if not isinstance(item.optional_vars, ast.Name):
        raise error("insert_grad_of needs `as <name>` for the gradient", stmt, form)
    for node in _walk_outside_loops(stmt.body):
        if isinstance(node, (ast.Return, ast.Continue, ast.Yield)):
            raise error("inserted backward-pass code cannot `return`, `continue` or `yield`", node,
                        "use `break` to stop backpropagation through the enclosing loop, or an `if`")
    where = {k: getattr(stmt, k) for k in ("lineno", "col_offset", "end_lineno", "end_col_offset")}
    return Inserted(call.args[0].id, item.optional_vars.id, stmt.body, **where)


def _walk_outside_loops(stmts: list[ast.stmt]):
    """Nodes of ``stmts``, not entering loops or function definitions nested in them."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def breaks_out(stmt: Inserted) -> bool:
    """Whether the block's code can ``break`` out of the loop that holds it."""
    return any(isinstance(n, ast.Break) for n in _walk_outside_loops(stmt.body_code))
