"""Comprehensions: list, dict and generator expressions, inside ``sum``, ``np.array``, ``np.stack``,
assigned to names, nested, filtered, over runtime-length iterables.

Each program is written once as source text and compared with finite differences (both modes) and
with autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, rand

import sourcegrad as sg


def test_sum_of_generator_over_range(rng):
    src = """
def f(w, x):
    n = len(x)
    return sum(w[i] * x[i] ** 2 for i in range(n))
"""
    check_against_autograd(src, (rand(rng, (4,)), rand(rng, (4,))), wrt=(0, 1))


def test_sum_of_list_comprehension(rng):
    src = """
def f(x):
    return sum([np.sin(v) * v for v in x])
"""
    check_against_autograd(src, (rand(rng, (5,)),))


def test_sum_with_start_value(rng):
    src = """
def f(x, y):
    return sum((np.tanh(v * y) for v in x), y * 2.0)
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (3,))), wrt=(0, 1))


def test_stack_of_list_comprehension_over_rows(rng):
    src = """
def f(W, xs):
    hs = np.stack([np.tanh(W @ x_t) for x_t in xs])
    return np.sum(hs * hs)
"""
    check_against_autograd(src, (rand(rng, (3, 4)), rand(rng, (5, 4))), wrt=(0, 1))


def test_array_of_list_comprehension(rng):
    src = """
def f(x):
    return np.sum(np.array([x[i] * x[i + 1] for i in range(len(x) - 1)]) ** 2)
"""
    check_against_autograd(src, (rand(rng, (6,)),))


def test_list_comprehension_assigned_then_used(rng):
    src = """
def f(x, W):
    hs = [np.tanh(W @ v) for v in x]
    total = 0.0
    for h in hs:
        total = total + np.sum(h * h)
    return total + np.sum(hs[0] * hs[-1])
"""
    check_against_autograd(src, (rand(rng, (3, 2)), rand(rng, (2, 2))), wrt=(0, 1))


def test_comprehension_with_condition(rng):
    src = """
def f(x):
    return sum(v * v for v in x if v > 0) + sum([np.cos(x[i]) for i in range(len(x)) if i % 2 == 0])
"""
    check_against_autograd(src, (rand(rng, (7,)),))


def test_nested_comprehension(rng):
    src = """
def f(A):
    return sum(A[i, j] * A[j, i] * (i + 1) for i in range(A.shape[0]) for j in range(i))
"""
    check_against_autograd(src, (rand(rng, (3, 3)),))


def test_comprehension_over_zip_and_enumerate(rng):
    src = """
def f(xs, ys):
    a = sum(np.sum(x * y) for x, y in zip(xs, ys))
    b = sum(i * np.sum(np.sin(x)) for i, x in enumerate(xs))
    return a + b
"""
    check_against_autograd(src, (rand(rng, (3, 2)), rand(rng, (3, 2))), wrt=(0, 1))


def test_comprehension_reads_outer_locals(rng):
    src = """
def f(x, b):
    scale = np.exp(b)
    return np.sum(np.stack([np.tanh(v * scale + b) for v in x], axis=1))
"""
    check_against_autograd(src, (rand(rng, (4, 3)), rand(rng, (3,))), wrt=(0, 1))


def test_comprehension_variable_does_not_leak(rng):
    src = """
def f(x):
    v = x * 2.0
    ys = [v * v for v in x]
    return np.sum(v) + sum(ys)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_comprehension_in_a_loop(rng):
    src = """
def f(x, W):
    h = x
    for step in range(3):
        h = np.stack([np.tanh(W @ row) for row in h])
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (3, 3)) * 0.5), wrt=(0, 1))


def test_list_of_comprehension_of_lists(rng):
    src = """
def f(x):
    rows = [[x[i] * x[j] for j in range(3)] for i in range(2)]
    return np.sum(np.array(rows) * np.arange(6.0).reshape(2, 3))
"""
    check_against_autograd(src, (rand(rng, (3,)),))


# --- left out, with the error at the user's line (docs/python-subset.md) ----------------------------


@pytest.mark.parametrize(
    "body, words",
    [
        ("return sum({v for v in x})", "set comprehension"),
        ("parts = {i: x[i] * x[i] for i in range(3)}\n    return parts[0]", "dict comprehension"),
        (
            "while sum(v for v in x) > 0.0:\n        x = x - 1.0\n    return np.sum(x)",
            "`while` condition",
        ),
        ("return np.sum(x) if np.sum(x) > 0 else sum([v for v in x])", "conditional expression"),
        ("g = lambda t: sum(v for v in t)\n    return g(x)", "inside a lambda"),
    ],
    ids=["set", "dict", "while-test", "if-expression", "lambda"],
)
def test_left_out_comprehensions_raise_at_the_users_line(body, words):
    ns = sg.exec_source(f"def f(x):\n    {body}\n", {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])
    assert words in str(err.value)
    assert err.value.location is not None and err.value.location.lineno == 2


def test_comprehension_in_a_while_body_is_fine(rng):
    src = """
def f(x):
    k = 0
    while k < 2:
        x = np.stack([np.sin(v) * 0.9 for v in x])
        k = k + 1
    return np.sum(x)
"""
    check_against_autograd(src, (rand(rng, (4,)),))
