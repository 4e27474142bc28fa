"""Debugging a generated gradient: pdb steps through its lines, tracebacks show them, and an
exception raised in it carries a note naming the user's line the failing line came from."""

import inspect
import io
import linecache
import os
import pdb  # noqa: T100 - driving pdb is what this file tests
import re
import sys
import traceback

import numpy as np
import pytest
from helpers import line_of

import sourcegrad as sg
from sourcegrad.rules.table import d

HERE = os.path.abspath(__file__)
needs_notes = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="exception notes are new in Python 3.11"
)


def generated_line(df, text):
    """The 1-based line of the generated source of df that starts with text (stripped)."""
    for number, line in enumerate(df.__sourcegrad_source__.splitlines(), 1):
        if line.strip().startswith(text):
            return number
    raise AssertionError(f"{text!r} not in the generated source:\n{df.__sourcegrad_source__}")


def raised_by(call):
    """Run call(); return the exception it raises and its formatted traceback."""
    try:
        with np.errstate(all="raise"):
            call()
    except Exception as err:  # noqa: BLE001 - any error is what the test inspects
        return err, "".join(traceback.format_exception(type(err), err, err.__traceback__))
    pytest.fail("expected an exception")


# --- pdb -------------------------------------------------------------------------------------


def root_sum(x):
    y = np.sqrt(x)
    return np.sum(y * 3.0)


def run_pdb(call, commands):
    """Drive pdb through call() with the given commands; return what pdb printed and the result."""
    out = io.StringIO()
    debugger = pdb.Pdb(
        stdin=io.StringIO("\n".join(commands) + "\n"), stdout=out, nosigint=True, readrc=False
    )
    result = debugger.runcall(call)
    return out.getvalue(), result


def test_pdb_steps_into_the_generated_gradient_and_lists_it():
    df = sg.grad(root_sum)
    x = np.array([1.0, 4.0])
    printed, result = run_pdb(lambda: df(x), ["step", "step", "step", "list", "continue"])
    np.testing.assert_allclose(result, 1.5 / np.sqrt(x))
    filename = f"<sourcegrad droot_sum test_debugging.py:{line_of(root_sum, 'def root_sum')}>"
    assert f"> {filename}(1)droot_sum()" in printed  # stepped into the generated function
    assert "-> def droot_sum(x, dout=1.0):" in printed
    assert "-> y = np.sqrt(x)" in printed  # the first line of its body, shown from linecache
    # `list` shows the generated source, numbered, the backward pass with its comments included.
    source = df.__sourcegrad_source__.splitlines()
    for number, text in enumerate(source, 1):
        assert re.search(
            rf"^(\(Pdb\) )?\s*{number}\s+(->)?\s*{re.escape(text)}$", printed, re.MULTILINE
        ), text
    assert "# line" in printed


def test_pdb_next_walks_the_backward_pass_line_by_line():
    df = sg.grad(root_sum)
    commands = ["step"] + ["next"] * 8 + ["continue"]
    printed, _ = run_pdb(lambda: df(np.array([1.0, 4.0])), commands)
    shown = re.findall(r"^-> (.*)$", printed, re.MULTILINE)
    shown = [line for i, line in enumerate(shown) if i == 0 or line != shown[i - 1]]  # --Return--
    body = [
        line.strip()
        for line in df.__sourcegrad_source__.splitlines()[1:]
        if not line.strip().startswith("#")
    ]
    # Every executed line of the generated body was shown, in order.
    assert [s for s in shown if s in body] == body


def test_pdb_breakpoint_on_a_generated_line():
    df = sg.grad(root_sum)
    target = generated_line(df, "dx =")
    # Step into the gradient, then break at a line number of the generated source.
    commands = ["step", f"break {target}", "continue", "p dy", "continue"]
    printed, _ = run_pdb(lambda: df(np.array([1.0, 4.0])), commands)
    assert f"> {df.__code__.co_filename}({target})droot_sum()" in printed
    assert "array([3., 3.])" in printed  # dy, read at the breakpoint


def test_inspect_reads_the_generated_source():
    df = sg.grad(root_sum)
    assert inspect.getsource(df) == df.__sourcegrad_source__
    assert df.__code__.co_filename in linecache.cache


# --- tracebacks --------------------------------------------------------------------------------


def test_rule_failing_in_the_backward_pass_shows_generated_line_and_user_line():
    df = sg.grad(root_sum)
    # sqrt(0) is fine; its derivative 0.5 / sqrt(0) divides by zero in the backward pass.
    err, formatted = raised_by(lambda: df(np.array([1.0, 0.0])))
    assert isinstance(err, FloatingPointError)
    number = generated_line(df, "dx =")
    assert f'File "{df.__code__.co_filename}", line {number}, in droot_sum' in formatted
    assert df.__sourcegrad_source__.splitlines()[number - 1].strip() in formatted


@needs_notes
def test_exception_note_points_back_to_the_user_line():
    df = sg.grad(root_sum)
    err, formatted = raised_by(lambda: df(np.array([1.0, 0.0])))
    number = generated_line(df, "dx =")
    user = line_of(root_sum, "y = np.sqrt(x)")
    (note,) = err.__notes__
    assert note == (
        f"sourcegrad: line {number} of the generated `droot_sum` (the backward pass) comes from\n"
        f'  File "{HERE}", line {user}\n'
        f"    y = np.sqrt(x)"
    )
    assert note in formatted


def log_sum(x):
    y = np.log(x)
    return np.sum(y)


@needs_notes
def test_exception_in_the_forward_sweep_names_the_user_line():
    df = sg.grad(log_sum)
    err, _ = raised_by(lambda: df(np.array([1.0, -1.0])))
    assert isinstance(err, FloatingPointError)
    (note,) = err.__notes__
    assert "(the forward sweep)" in note
    assert f'File "{HERE}", line {line_of(log_sum, "y = np.log(x)")}' in note


def inner(x):
    return np.sqrt(x) * 2.0


def outer(x):
    z = inner(x) + x
    return np.sum(z)


@needs_notes
def test_error_in_a_generated_subroutine_names_both_user_lines():
    df = sg.grad(outer)
    err, formatted = raised_by(lambda: df(np.array([0.0, 1.0])))
    # Innermost first, as the exception left each generated function.
    assert len(err.__notes__) == 2
    assert "generated `inner_bwd` (the backward pass)" in err.__notes__[0]
    assert (
        f"line {line_of(inner, 'return np.sqrt(x) * 2.0')}\n    return np.sqrt(x) * 2.0"
        in err.__notes__[0]
    )
    assert "generated `douter` (the backward pass)" in err.__notes__[1]
    assert f"line {line_of(outer, 'z = inner(x) + x')}\n    z = inner(x) + x" in err.__notes__[1]
    assert "inner_bwd" in formatted and "douter" in formatted


# A user's function that raises while the backward pass runs: the adjoint rule of `clipped`
# calls `clipped_backward`, which refuses inputs outside its range.


def clipped(x):
    return np.clip(x, -1.0, 1.0)


def clipped_backward(g, x):
    if np.any(np.abs(x) > 10.0):
        raise ValueError("clipped_backward: input out of range")
    return g * (np.abs(x) < 1.0)


def clipped_adjoint(y, x):
    d[x] = clipped_backward(d[y], x)


def uses_clipped(x):
    y = clipped(x) * 2.0
    return np.sum(y)


def test_user_function_raising_in_the_backward_pass(restore_rules):
    sg.adjoint(clipped)(clipped_adjoint)
    df = sg.grad(uses_clipped)
    np.testing.assert_allclose(df(np.array([0.5, 3.0])), [2.0, 0.0])
    err, formatted = raised_by(lambda: df(np.array([0.5, 30.0])))
    assert isinstance(err, ValueError)
    # The traceback goes through the generated line that calls the user's function, then into it.
    assert "clipped_backward(" in formatted
    assert (
        f'File "{HERE}", line {line_of(clipped_backward, "raise ValueError")}, in clipped_backward'
        in formatted
    )
    if sys.version_info >= (3, 11):
        (note,) = err.__notes__
        assert "(the backward pass)" in note
        assert (
            f"line {line_of(uses_clipped, 'y = clipped(x) * 2.0')}\n    y = clipped(x) * 2.0"
            in note
        )


def test_traceback_survives_a_cleared_linecache():
    df = sg.grad(root_sum)
    linecache.clearcache()
    _, formatted = raised_by(lambda: df(np.array([1.0, 0.0])))
    number = generated_line(df, "dx =")
    assert df.__sourcegrad_source__.splitlines()[number - 1].strip() in formatted


def test_generated_globals_hold_only_what_the_code_names():
    df = sg.grad(root_sum)
    assert "__sourcegrad_note__" not in root_sum.__globals__
    names = set(df.__code__.co_names) | {
        "__builtins__",
        "__name__",
        "__sourcegrad_note__",
        "droot_sum",
    }
    assert set(df.__globals__) <= names
