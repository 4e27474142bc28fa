"""Errors that sourcegrad raises, and where in the user's code they point.

Every error names the user's file, line and the offending code with a caret, and says what to do.
This module is a leaf: it imports only the standard library.

    SourcegradError            base class: message, Location, hint
      UnsupportedSyntax        also a SyntaxError, so Python prints file, line and caret itself
      NoRule                   a call to a function with no derivative rule
      SourceUnavailable        no Python source to transform
      TransformError           any other code that cannot be differentiated
      GradientCheckError       also an AssertionError: `check_grads` found a wrong derivative
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's source: file, 1-based line, 0-based columns, and the line's text."""

    filename: str
    lineno: int
    col: int
    end_col: int | None
    text: str

    def format(self) -> str:
        """Render as a traceback-style block: file and line, the code, and a caret under it."""
        head = f'  File "{self.filename}", line {self.lineno}'
        code = self.text.strip()
        if not code:
            return head
        indent = len(self.text) - len(self.text.lstrip())
        start = min(max(self.col - indent, 0), len(code))
        end = start + 1 if self.end_col is None else min(self.end_col - indent, len(code))
        carets = "^" * max(end - start, 1)
        return f"{head}\n    {code}\n    {' ' * start}{carets}"


def location_of_function(fn: object) -> Location | None:
    """The Location of a Python function's `def` (or `lambda`), its name underlined; else None."""
    code = getattr(inspect.unwrap(getattr(fn, "__func__", fn)), "__code__", None)
    if code is None:
        return None
    filename, first = code.co_filename, code.co_firstlineno
    word = "lambda" if code.co_name == "<lambda>" else code.co_name
    for lineno in range(first, first + 20):  # past any decorators
        text = linecache.getline(filename, lineno).rstrip("\r\n")
        if not text:
            break
        col = text.find(word, text.find("def ") + 4 if word != "lambda" else 0)
        if (word == "lambda" or text.lstrip().startswith(("def ", "async def "))) and col >= 0:
            return Location(filename, lineno, col, col + len(word), text)
    return Location(filename, first, 0, None, linecache.getline(filename, first).rstrip("\r\n"))


def caller_location() -> Location | None:
    """The Location of the innermost call from outside sourcegrad: the user's line that called the
    public function now raising (on 3.11+ the call itself is underlined, as tracebacks do)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame = frame.f_back
    if frame is None:
        return None
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(filename, lineno, frame.f_globals).rstrip("\r\n")
    col, end = len(text) - len(text.lstrip()), len(text.rstrip())  # the whole statement before 3.11
    if hasattr(frame.f_code, "co_positions") and frame.f_lasti >= 0:
        positions = list(frame.f_code.co_positions())[frame.f_lasti // 2]
        if positions[0] == positions[1] == lineno and positions[2] is not None and text:
            col, end = _char_col(text, positions[2]), _char_col(text, positions[3])
    return Location(filename, lineno, col, end, text)


def _char_col(text: str, byte_col: int) -> int:
    """`ast` columns count UTF-8 bytes; turn one into a character column of `text`."""
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def location_of(node: ast.AST, filename: str) -> Location:
    """The Location of an `ast` node whose positions are true positions in `filename`.

    A node that spans several lines is underlined to the end of its first line.
    """
    lineno = getattr(node, "lineno", None) or 0
    text = linecache.getline(filename, lineno).rstrip("\r\n") if lineno else ""
    col = getattr(node, "col_offset", 0) or 0
    end_col = getattr(node, "end_col_offset", None)
    if getattr(node, "end_lineno", lineno) != lineno:
        end_col = len(text.rstrip().encode("utf-8")) if text else None
    if text:
        col = _char_col(text, col)
        end_col = None if end_col is None else _char_col(text, end_col)
    return Location(filename, lineno, col, end_col, text)


class SourcegradError(Exception):
    """Base class of every error sourcegrad raises on purpose.

    `str(err)` is the message, then the location block, then a line starting 'What to do: '.
    Without a location, the error points at the user's line that called into sourcegrad.
    """

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        if location is None:
            location = caller_location()
        self.message = message
        self.location = location
        self.hint = hint
        self.args = (message, location, hint)  # so that pickle rebuilds the error

    def __str__(self) -> str:
        parts = [self.message]
        if self.location is not None:
            parts.append(self.location.format())
        if self.hint:
            parts.append(f"What to do: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntax(SourcegradError, SyntaxError):
    """A construct outside the differentiable subset (see `frontend.fence`).

    Also a `SyntaxError` whose filename, lineno, offset, end_offset and text are the user's, so
    that an uncaught one prints the user's line with a caret, like a real syntax error.
    """

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        super().__init__(message, location, hint)
        # What Python's own traceback printer shows after the caret block.
        self.msg = message if not hint else f"{message}\nWhat to do: {hint}"
        if location is not None:
            self.filename = location.filename
            self.lineno = location.lineno
            self.offset = location.col + 1
            self.text = location.text + "\n" if location.text else None
            self.end_lineno = location.lineno
            end = location.end_col if location.end_col is not None else location.col + 1
            self.end_offset = max(end, location.col + 1) + 1
        self.args = (message, location, hint)

    # SyntaxError.__str__ would print only `msg (file, line N)`; keep the full message.
    __str__ = SourcegradError.__str__


def qualified_name(fn: object) -> str:
    """`module.qualname` of a callable (`numpy.tanh`, `model.Net.forward`), else its repr."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    module = getattr(fn, "__module__", None)
    if not isinstance(name, str):
        return repr(fn)
    if isinstance(module, str) and module != "builtins":
        return f"{module}.{name}"
    return name


class NoRule(SourcegradError):
    """A differentiated function calls `fn`, which has no derivative rule."""

    def __init__(self, fn: object, location: Location | None = None):
        name = qualified_name(fn)
        message = (
            f"Cannot differentiate through the call to `{name}`: it has no derivative rule, "
            "and it is not marked non-differentiable."
        )
        hint = (
            f"register a derivative rule with `@sourcegrad.adjoint({name})` (and "
            f"`@sourcegrad.tangent({name})` for forward mode), or, if its output carries no "
            f"gradient (shapes, indices, counters), declare `sourcegrad.nondifferentiable({name})`."
        )
        super().__init__(message, location, hint)
        self.fn = fn
        self.args = (fn, location)


class SourceUnavailable(SourcegradError):
    """sourcegrad could not read the Python source of a function it was asked to transform."""


class TransformError(SourcegradError):
    """This code cannot be differentiated; the message and hint say why and what to do."""


class GradientCheckError(SourcegradError, AssertionError):
    """`sourcegrad.check_grads` found derivatives that differ from finite differences.

    Also an `AssertionError`, so a test that calls `check_grads` fails rather than errors.
    `report` holds every comparison made (see `sourcegrad.checking.GradCheckReport`).
    """

    def __init__(self, message: str, report: object, location: Location | None = None,
                 hint: str | None = None):
        super().__init__(message, location, hint)
        self.report = report
        self.args = (message, report, location, hint)
