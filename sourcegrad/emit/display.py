"""Showing generated code to a person: highlighted in a terminal, as HTML in Jupyter.

Input: source text. Output: the same text with ANSI colours (only for a terminal, only when
Pygments is installed) or as HTML (highlighted with Pygments, else an escaped ``<pre>``). Pygments
is optional: without it everything here still works, in plain text. ``NO_COLOR`` (no-color.org)
and ``TERM=dumb`` turn colours off.
"""

from __future__ import annotations

import html
import os
import sys
from typing import IO


def _pygments():
    """The pieces of Pygments used here, or None when it is not installed."""
    try:
        import pygments
        from pygments.formatters import HtmlFormatter, TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return None
    return pygments.highlight, PythonLexer, TerminalFormatter, HtmlFormatter


def wants_colour(stream: IO) -> bool:
    """Colour only for an interactive terminal, never for a pipe, a file or a captured stream."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def for_terminal(text: str, stream: IO) -> str:
    """``text`` with ANSI colours when ``stream`` is a terminal and Pygments is installed."""
    tools = _pygments()
    if tools is None or not wants_colour(stream):
        return text
    highlight, lexer, terminal, _ = tools
    return highlight(text, lexer(), terminal())


def as_html(text: str) -> str:
    """``text`` as HTML for Jupyter: highlighted with inline styles, or an escaped ``<pre>``."""
    tools = _pygments()
    if tools is None:
        return f'<pre class="sourcegrad">{html.escape(text)}</pre>'
    highlight, lexer, _, formatter = tools
    return highlight(text, lexer(), formatter(noclasses=True, cssclass="sourcegrad"))


def show(text: str, file: IO | None = None) -> None:
    """Print ``text`` to ``file`` (default ``sys.stdout``), highlighted if that is a terminal."""
    stream = sys.stdout if file is None else file
    out = for_terminal(text, stream)
    stream.write(out if out.endswith("\n") else out + "\n")


class Source(str):
    """Generated source text: a plain ``str`` that also displays itself highlighted.

    Jupyter renders it as highlighted HTML (``_repr_html_``), IPython's terminal in colour
    (``_repr_pretty_``); ``.show()`` prints it, in colour when standard output is a terminal.
    """

    __slots__ = ()

    def show(self, file: IO | None = None) -> None:
        """Print the source, highlighted when ``file`` (default standard output) is a terminal."""
        show(str(self), file)

    def _repr_html_(self) -> str:
        return as_html(str(self))

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(for_terminal(str(self), sys.stdout).rstrip("\n"))
