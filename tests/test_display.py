"""Reading generated code: `sg.source`, `verbose=1/2`, highlighting in a terminal and in Jupyter,
and the `# line N: <statement>` comment over each adjoint block.

Pygments is optional: every path is tested with it and, by hiding it from `import`, without it.
"""

import ast
import inspect
import io
import re
import sys

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.emit import display

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeTTY(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self):
        return True


@pytest.fixture
def no_pygments(monkeypatch):
    """Make `import pygments` fail, as on an installation without it."""
    for name in [m for m in sys.modules if m == "pygments" or m.startswith("pygments.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pygments", None)


@pytest.fixture
def colour_allowed(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def has_pygments():
    try:
        import pygments  # noqa: F401
    except ImportError:
        return False
    return True


def model(W, b, x):
    h = np.tanh(x @ W + b)
    if np.sum(h) > 0:
        h = h * 0.5
    return np.sum(h * h)


def first_line(fn):
    return inspect.getsourcelines(fn)[1]


# --- sg.source ---------------------------------------------------------------------------------


def test_source_is_a_plain_string_of_the_generated_code():
    df = sg.grad(model, wrt=(0, 1))
    text = sg.source(df)
    assert isinstance(text, str)
    assert text == df.__sourcegrad_source__
    assert str(text) == text and text.splitlines()[0].startswith("def dmodel(")
    compile(text, "<check>", "exec")


def test_source_shows_itself_plainly_when_piped(capsys):
    df = sg.grad(model)
    sg.source(df).show()
    printed = capsys.readouterr().out
    assert printed == sg.source(df)
    assert not ANSI.search(printed)


@pytest.mark.skipif(not has_pygments(), reason="highlighting needs Pygments, which is optional")
def test_source_is_highlighted_in_a_terminal(colour_allowed):
    df = sg.grad(model)
    tty = FakeTTY()
    sg.source(df).show(file=tty)
    printed = tty.getvalue()
    assert ANSI.search(printed), "a terminal should get colours"
    assert ANSI.sub("", printed) == sg.source(df)


def test_source_is_plain_in_a_terminal_without_pygments(no_pygments, colour_allowed):
    df = sg.grad(model)
    tty = FakeTTY()
    sg.source(df).show(file=tty)
    assert tty.getvalue() == sg.source(df)


def test_no_color_turns_colours_off(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTTY()
    display.show("x = 1\n", file=tty)
    assert tty.getvalue() == "x = 1\n"


def test_ipython_terminal_display_uses_the_code_not_a_repr(no_pygments):
    class Printer:
        def __init__(self):
            self.parts = []

        def text(self, s):
            self.parts.append(s)

    text = sg.source(sg.grad(model))
    printer = Printer()
    text._repr_pretty_(printer, False)
    assert "".join(printer.parts) == text.rstrip("\n")


# --- Jupyter -----------------------------------------------------------------------------------


@pytest.mark.skipif(not has_pygments(), reason="highlighting needs Pygments, which is optional")
def test_generated_function_renders_highlighted_html():
    df = sg.grad(model, wrt=(0, 1))
    page = df._repr_html_()
    assert "<span" in page and "style=" in page
    assert "dmodel" in page and "&gt;" in page  # `np.sum(h) > 0`, escaped
    assert sg.source(df)._repr_html_() == page


def test_generated_function_renders_escaped_pre_without_pygments(no_pygments):
    df = sg.grad(model, wrt=(0, 1))
    page = df._repr_html_()
    assert page.startswith("<pre") and page.endswith("</pre>")
    assert "np.sum(h) &gt; 0" in page
    import html

    assert html.unescape(re.sub(r"</?pre[^>]*>", "", page)) == sg.source(df)


def helper_used(x):
    return np.sin(x) * 2.0


def uses_helper(x):
    return np.sum(helper_used(x) * x)


def test_html_and_source_include_the_generated_subroutines(no_pygments):
    df = sg.grad(uses_helper)
    text = sg.source(df)
    assert "def duses_helper(" in text and "def helper_used_bwd(" in text
    assert "helper_used_bwd" in df._repr_html_()


def test_bound_method_gradient_has_html_too(no_pygments):
    class Scaled:
        def __init__(self, k):
            self.k = k

        def f(self, x):
            return np.sum(x * x) * self.k

    df = sg.grad(Scaled(2.0).f)
    assert "def df(" in df._repr_html_() or "def grad_f(" in df._repr_html_()


# --- verbose -----------------------------------------------------------------------------------


def test_verbose_1_prints_the_source_plain_when_piped(capsys):
    df = sg.grad(model, wrt=1, verbose=1)
    printed = capsys.readouterr().out
    assert printed == sg.source(df)


@pytest.mark.skipif(not has_pygments(), reason="highlighting needs Pygments, which is optional")
def test_verbose_1_highlights_in_a_terminal(monkeypatch, colour_allowed):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    df = sg.grad(model, wrt=2, verbose=1)
    monkeypatch.undo()
    assert ANSI.search(tty.getvalue())
    assert ANSI.sub("", tty.getvalue()) == sg.source(df)


def test_verbose_2_prints_the_normal_form_first(capsys):
    df = sg.grad(model, wrt=(0, 1), verbose=2)
    printed = capsys.readouterr().out
    normal, generated = printed.split("\n\n", 1)
    assert generated == sg.source(df)
    start = first_line(model)
    assert (
        normal.splitlines()[0]
        == f"# normal form of model (test_display.py:{start}): the code sourcegrad differentiates"
    )
    body = "\n".join(normal.splitlines()[1:])
    tree = ast.parse(body)  # the normal form is Python
    assert tree.body[0].name == "model"
    # One primitive per statement: `np.tanh(x @ W + b)` is split into three.
    assert "h_matmul = x @ W" in body and "h = np.tanh(" in body
    assert f"# line {start + 1}: h = np.tanh(x @ W + b)" in body
    assert f"# line {start + 4}: return np.sum(h * h)" in body


def test_verbose_2_for_forward_mode(capsys):
    f_dot = sg.autodiff(model, mode="forward", wrt=0, verbose=2)
    printed = capsys.readouterr().out
    assert "# normal form of model" in printed
    assert printed.endswith(sg.source(f_dot))


# --- comments over adjoint blocks --------------------------------------------------------------


# fmt: off
def spread(x, w):
    h = np.tanh(x *
                w)
    y = (h * 2.0 +
         np.exp(h))
    for i in range(2):
        y = y * h
    return np.sum(y)
# fmt: on


def test_every_adjoint_block_names_its_user_statement():
    start = first_line(spread)
    text = sg.source(sg.grad(spread, wrt=(0, 1)))
    comments = re.findall(r"# line (\d+): (.*)", text)
    lines = [int(n) for n, _ in comments]
    # The backward pass visits the statements in reverse: return, loop, its body, y, h.
    assert lines == [start + 7, start + 5, start + 6, start + 3, start + 1]
    shown = {int(n): s for n, s in comments}
    assert shown[start + 7] == "return np.sum(y)"
    assert shown[start + 5] == "for i in range(2):"
    assert shown[start + 6] == "y = y * h"
    # A statement written over several lines is shown whole, on one line.
    assert shown[start + 3] == "y = h * 2.0 + np.exp(h)"
    assert shown[start + 1] == "h = np.tanh(x * w)"
