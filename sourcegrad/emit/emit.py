"""From a generated FunctionDef to a live function whose source tracebacks and pdb can show.

Input: a FunctionDef, the user's filename (for ``# line N:`` comments) and the objects its free
names denote. Output: the compiled function; its source is registered in ``linecache`` under a
deterministic pseudo-filename (``<sourcegrad dloss model.py:12>``) and kept on the function as
``__sourcegrad_source__``. The function's globals are a fresh dict of exactly those objects:
nothing is written into the user's module.

An exception that leaves a generated function gets a note (3.11+) naming the user's line the
failing generated line came from, as a traceback entry: ``File "model.py", line 7``. The text that
tracebacks and pdb show is the text ``sourcegrad.source`` returns; only the compiled code holds an
extra ``try``/``except`` around the body that adds the note and re-raises.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sourcegrad.emit import display

NOTE = "__sourcegrad_note__"  # the note helper, in a generated function's globals
_CAUGHT = "__sourcegrad_error__"  # the exception, in its except clause


@dataclass(frozen=True)
class Origin:
    """Where a generated line comes from: a line of the user's file; ``adjoint`` when the
    generated line belongs to the backward pass (after the first ``# line N:`` comment)."""

    filename: str
    lineno: int
    adjoint: bool


@dataclass(frozen=True)
class Rendered:
    """Generated source text, and for each of its lines (1-based) the user line it comes from."""

    text: str
    origins: dict[int, Origin]


class _NegativeConstants(ast.NodeTransformer):
    """``Constant(-0.7)`` as ``-(0.7)``: ``ast.unparse`` would print ``-0.7 ** x``, i.e. ``-(0.7 ** x)``."""

    def visit_Constant(self, node: ast.Constant):
        value = node.value
        if type(value) in (int, float, complex) and (value.real < 0 or str(value).startswith("-")):
            return ast.copy_location(ast.UnaryOp(ast.USub(), ast.Constant(-value)), node)
        return node


def render(fn: ast.FunctionDef, user_file: str, comment_lines: set[int] | None = None) -> Rendered:
    """Source text of ``fn``; statements from ``comment_lines`` blocks get a ``# line N: ...`` comment."""
    for stmt in fn.body:
        _NegativeConstants().visit(stmt)
    stub = ast.FunctionDef(fn.name, fn.args, [ast.Pass()], [], None, None, **_type_params())
    header = ast.unparse(ast.fix_missing_locations(ast.copy_location(stub, fn)))
    out = _Lines(user_file, comment_lines or set())
    out.lines.append(header.splitlines()[0])
    out.block(fn.body, 1)
    return Rendered("\n".join(out.lines) + "\n", out.origins)


def _type_params() -> dict:
    return {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}


class _Lines:
    """The lines of a function body being rendered, and the user line each one comes from."""

    def __init__(self, user_file: str, commented: set[int]):
        self.user_file, self.commented = user_file, commented
        self.lines: list[str] = []
        self.origins: dict[int, Origin] = {}
        self.last: int | None = None  # the user line of the last comment

    def add(self, text: str, stmt: ast.stmt | None = None) -> None:
        self.lines.append(text)
        line = getattr(stmt, "lineno", None)
        if line:
            self.origins[len(self.lines)] = Origin(self.user_file, line, id(stmt) in self.commented)

    def block(self, stmts, depth: int) -> None:
        pad = "    " * depth
        for stmt in stmts:
            line = getattr(stmt, "lineno", None)
            if id(stmt) in self.commented and line and line != self.last and not isinstance(stmt, ast.Return):
                self.lines.append(f"{pad}# line {line}: {primal_text(self.user_file, stmt)}")
                self.last = line
            match stmt:
                case ast.If(test=test, body=body, orelse=orelse):
                    self.add(f"{pad}if {ast.unparse(test)}:", stmt)
                    self.block(body, depth + 1)
                    if orelse:
                        self.add(f"{pad}else:", stmt)
                        self.block(orelse, depth + 1)
                case ast.For(target=target, iter=iterable, body=body):
                    self.add(f"{pad}for {ast.unparse(target)} in {ast.unparse(iterable)}:", stmt)
                    self.block(body, depth + 1)
                case ast.While(test=test, body=body):
                    self.add(f"{pad}while {ast.unparse(test)}:", stmt)
                    self.block(body, depth + 1)
                case _:
                    for text in _unparse_statement(stmt).splitlines():
                        self.add(pad + text, stmt)


def primal_text(user_file: str, stmt: ast.stmt) -> str:
    """The user's statement at ``stmt``'s position, on one line.

    A block statement (``for``, ``if``) shows its header line. A simple statement written over
    several lines is re-printed from its parsed form, so the comment shows all of it.
    """
    first = linecache.getline(user_file, stmt.lineno).strip()
    end = getattr(stmt, "end_lineno", None) or stmt.lineno
    if end <= stmt.lineno or first.endswith(":"):
        return first
    lines = [linecache.getline(user_file, n) for n in range(stmt.lineno, end + 1)]
    try:
        (whole,) = ast.parse(textwrap.dedent("".join(lines))).body
    except (SyntaxError, ValueError):  # not one whole statement: keep what the line shows
        return first
    return ast.unparse(whole) if "\n" not in ast.unparse(whole) else first


def normal_form_text(fn: ast.FunctionDef, src) -> str:
    """The normal form ``fn`` of the user function ``src`` (a FunctionSource), each statement
    under a ``# line N:`` comment naming the user line it comes from."""
    every = {id(n) for n in ast.walk(fn) if isinstance(n, ast.stmt)}
    where = f"{os.path.basename(src.filename)}:{src.node.lineno}"
    head = f"# normal form of {src.qualname} ({where}): the code sourcegrad differentiates\n"
    return head + render(fn, src.filename, every).text


def _unparse_statement(stmt: ast.stmt) -> str:
    """``ast.unparse``, with unpacking written ``a, b = f(x)`` on every Python (3.10 adds parentheses)."""
    match stmt:
        case ast.Assign(targets=[ast.Tuple(elts=elts)], value=value) if elts:
            names = ", ".join(ast.unparse(e) for e in elts) + ("," if len(elts) == 1 else "")
            return f"{names} = {ast.unparse(value)}"
    return ast.unparse(stmt)


def pseudo_filename(name: str, user_file: str, lineno: int) -> str:
    return f"<sourcegrad {name} {os.path.basename(user_file)}:{lineno}>"


def compile_function(rendered: Rendered, name: str, filename: str, namespace: dict[str, Any],
                     prologue: tuple[ast.stmt, ...] = (), returning: Callable[[ast.Return], None] | None = None):
    """Compile ``rendered`` (one ``def``) under ``filename`` and return the function it defines.

    ``prologue``: statements the compiled code runs first but the source does not show (the
    argument check of ``sourcegrad.inputs``), placed on the first body line so that pdb shows no
    extra line, and outside the ``try`` that adds notes (their errors concern the call).
    ``returning``: edits each ``return`` of the function (not of functions inside it) in the compiled
    code only, on the return's own line (``sourcegrad.inputs.real_gradients``)."""
    source = rendered.text
    lines = source.splitlines(keepends=True)
    filename = _unclaimed(filename, lines)
    entry = (len(source), None, lines, filename)
    linecache.cache[filename] = entry
    note = _Note(name, filename, entry, rendered.origins)
    scope = {"__builtins__": builtins, "__name__": "sourcegrad.generated", **namespace, NOTE: note}
    module = ast.parse(source, filename)
    if returning is not None:
        _edit_returns(module.body[0], returning)
    exec(compile(_noting(module, prologue), filename, "exec"), scope)  # noqa: S102  (running generated code is the point)
    fn = scope[name]
    fn.__sourcegrad_source__ = source
    fn._repr_html_ = lambda: display.as_html(full_source(fn))
    return fn


def _unclaimed(filename: str, lines: list[str]) -> str:
    """``filename``, or a numbered variant if other text holds it (the optimized and unoptimized
    gradients of one function share a name): generated source is read back from linecache to be
    transformed again, so two texts must never share a name."""
    base, n = filename, 1
    while filename in linecache.cache and linecache.cache[filename][2] != lines:
        n += 1
        filename = f"{base[:-1]} #{n}>"
    return filename


def full_source(fn) -> str:
    """The source of a generated function followed by that of the generated functions it calls."""
    parts = [fn.__sourcegrad_source__]
    for helper in getattr(fn, "__sourcegrad_helpers__", ()):
        parts.append(full_source(helper))
    return "\n\n".join(dict.fromkeys(parts))


def _edit_returns(fn: ast.FunctionDef, edit: Callable[[ast.Return], None]) -> None:
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            value, written = node.value, {id(n) for n in ast.walk(node.value)}
            edit(node)
            for inner in ast.walk(node.value):
                if id(inner) not in written:  # new code takes the place of the value it wraps
                    ast.copy_location(inner, value)
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _noting(module: ast.Module, prologue: tuple[ast.stmt, ...] = ()) -> ast.Module:
    """Wrap the function's body in ``try: ... except Exception as e: note(e); raise``.

    The ``try`` takes the first statement's line (so stepping in pdb shows no extra line), the
    handler the ``def`` line (an exception leaving the function passes through it).
    """
    (fn,) = module.body
    caught = ast.Name(_CAUGHT, ast.Load())
    call = ast.Expr(ast.Call(ast.Name(NOTE, ast.Load()), [caught], []))
    handler = ast.ExceptHandler(ast.Name("Exception", ast.Load()), _CAUGHT, [call, ast.Raise()])
    for node in ast.walk(handler):
        if isinstance(node, (ast.stmt, ast.expr, ast.excepthandler)):
            ast.copy_location(node, fn)
    for node in (n for stmt in prologue for n in ast.walk(stmt)):
        if isinstance(node, (ast.stmt, ast.expr)):
            ast.copy_location(node, fn.body[0])
    wrapped = ast.copy_location(ast.Try(fn.body, [handler], [], []), fn.body[0])
    fn.body = [*prologue, wrapped]
    return module


class _Note:
    """Adds to an exception leaving a generated function the user line its generated line is for."""

    def __init__(self, name: str, filename: str, entry: tuple, origins: dict[int, Origin]):
        self.name, self.filename, self.entry, self.origins = name, filename, entry, origins

    def __call__(self, error: BaseException) -> None:
        # The source may have been dropped (linecache.clearcache()); the traceback needs it.
        linecache.cache.setdefault(self.filename, self.entry)
        tb = error.__traceback__
        origin = self.origins.get(tb.tb_lineno) if tb is not None else None
        if origin is None or not hasattr(error, "add_note"):  # add_note: Python 3.11+
            return
        sweep = "the backward pass" if origin.adjoint else "the forward sweep"
        text = linecache.getline(origin.filename, origin.lineno).strip()
        where = f'  File "{origin.filename}", line {origin.lineno}'
        error.add_note(
            f"sourcegrad: line {tb.tb_lineno} of the generated `{self.name}` ({sweep}) comes from\n"
            + (f"{where}\n    {text}" if text else where)
        )


def free_names(fn: ast.FunctionDef) -> set[str]:
    """Names the function reads that it never binds: they must come from its globals."""
    bound = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    read = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
    return read - bound
