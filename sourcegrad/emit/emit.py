"""From a generated FunctionDef to a live function whose source tracebacks and pdb can show.

Input: a FunctionDef, the user's filename (for ``# line N:`` comments) and the objects its free
names denote. Output: the compiled function; its source is registered in ``linecache`` under a
deterministic pseudo-filename (``<sourcegrad dloss model.py:12>``) and kept on the function as
``__sourcegrad_source__``. The function's globals are a fresh dict of exactly those objects:
nothing is written into the user's module.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import os
from typing import Any


class _NegativeConstants(ast.NodeTransformer):
    """``Constant(-0.7)`` as ``-(0.7)``: ``ast.unparse`` would print ``-0.7 ** x``, i.e. ``-(0.7 ** x)``."""

    def visit_Constant(self, node: ast.Constant):
        value = node.value
        if type(value) in (int, float, complex) and (value.real < 0 or str(value).startswith("-")):
            return ast.copy_location(ast.UnaryOp(ast.USub(), ast.Constant(-value)), node)
        return node


def render(fn: ast.FunctionDef, user_file: str, comment_lines: set[int] | None = None) -> str:
    """Source text of ``fn``; statements from ``comment_lines`` blocks get a ``# line N: ...`` comment."""
    for stmt in fn.body:
        _NegativeConstants().visit(stmt)
    stub = ast.FunctionDef(fn.name, fn.args, [ast.Pass()], [], None, None, **_type_params())
    header = ast.unparse(ast.fix_missing_locations(ast.copy_location(stub, fn)))
    lines = [header.splitlines()[0]]
    _block(fn.body, 1, lines, user_file, comment_lines or set(), [None])
    return "\n".join(lines) + "\n"


def _type_params() -> dict:
    return {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}


def _block(stmts, depth: int, lines: list[str], user_file: str, commented: set[int], last: list) -> None:
    pad = "    " * depth
    for stmt in stmts:
        line = getattr(stmt, "lineno", None)
        if id(stmt) in commented and line != last[0] and line and not isinstance(stmt, ast.Return):
            text = linecache.getline(user_file, line).strip() if line else ""
            lines.append(f"{pad}# line {line}: {text}")
            last[0] = line
        match stmt:
            case ast.If(test=test, body=body, orelse=orelse):
                lines.append(f"{pad}if {ast.unparse(test)}:")
                _block(body, depth + 1, lines, user_file, commented, last)
                if orelse:
                    lines.append(f"{pad}else:")
                    _block(orelse, depth + 1, lines, user_file, commented, last)
            case ast.For(target=target, iter=iterable, body=body):
                lines.append(f"{pad}for {ast.unparse(target)} in {ast.unparse(iterable)}:")
                _block(body, depth + 1, lines, user_file, commented, last)
            case ast.While(test=test, body=body):
                lines.append(f"{pad}while {ast.unparse(test)}:")
                _block(body, depth + 1, lines, user_file, commented, last)
            case _:
                for text in ast.unparse(stmt).splitlines():
                    lines.append(pad + text)


def pseudo_filename(name: str, user_file: str, lineno: int) -> str:
    return f"<sourcegrad {name} {os.path.basename(user_file)}:{lineno}>"


def compile_function(source: str, name: str, filename: str, namespace: dict[str, Any]):
    """Compile ``source`` (one ``def``) under ``filename`` and return the function it defines."""
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    scope = {"__builtins__": builtins, "__name__": "sourcegrad.generated", **namespace}
    exec(compile(source, filename, "exec"), scope)  # noqa: S102  (running generated code is the point)
    fn = scope[name]
    fn.__sourcegrad_source__ = source
    return fn


def free_names(fn: ast.FunctionDef) -> set[str]:
    """Names the function reads that it never binds: they must come from its globals."""
    bound = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    read = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
    return read - bound
