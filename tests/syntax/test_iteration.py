"""``for`` loops over what Python code iterates: ``zip``, ``enumerate``, ``reversed``, ``range(len(...))``,
lists of arrays, rows of an array, with tuple targets (``for i, (a, b) in enumerate(zip(xs, ys))``).

Each program is written once as source text and compared with finite differences (both modes) and
with autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, rand

import sourcegrad as sg


def test_zip_of_two_arrays(rng):
    src = """
def f(xs, ys):
    s = 0.0
    for x, y in zip(xs, ys):
        s = s + np.sum(np.tanh(x) * y)
    return s
"""
    check_against_autograd(src, (rand(rng, (4, 3)), rand(rng, (4, 3))), wrt=(0, 1))


def test_zip_stops_at_the_shortest(rng):
    src = """
def f(xs, w):
    s = 0.0
    for x, c in zip(xs, [1.0, 2.0]):
        s = s + np.sum(x * w) * c
    return s
"""
    check_against_autograd(src, (rand(rng, (4, 3)), rand(rng, (3,))), wrt=(0, 1))


def test_zip_of_three_with_a_list(rng):
    src = """
def f(a, b):
    s = 0.0
    for x, y, z in zip(a, b, [a[0], b[1], a[2] * b[0]]):
        s = s + x * y * z
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_enumerate_rows(rng):
    src = """
def f(x):
    s = 0.0
    for i, row in enumerate(x):
        s = s + (i + 1.0) * np.sum(np.sin(row))
    return s
"""
    check_against_autograd(src, (rand(rng, (3, 2)),))


def test_enumerate_with_start(rng):
    src = """
def f(x):
    s = 0.0
    for i, v in enumerate(x, 2):
        s = s + v ** i
    return s
"""
    check_against_autograd(src, (rand(rng, (4,)),))


def test_enumerate_zip_with_nested_target(rng):
    src = """
def f(xs, ys):
    s = 0.0
    for i, (a, b) in enumerate(zip(xs, ys)):
        s = s + i * np.sum(a * b) + np.sum(np.cos(a))
    return s
"""
    check_against_autograd(src, (rand(rng, (3, 2)), rand(rng, (3, 2))), wrt=(0, 1))


def test_reversed_array(rng):
    src = """
def f(x):
    h = 0.0
    for v in reversed(x):
        h = np.tanh(h * 0.5 + v)
    return h
"""
    check_against_autograd(src, (rand(rng, (5,)),))


def test_reversed_list_of_arrays(rng):
    src = """
def f(x, y):
    h = x
    for w in reversed([x, y, x * y]):
        h = np.sin(h) * w
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_reversed_enumerate_of_a_list(rng):
    src = """
def f(x, y):
    s = 0.0
    for i, v in reversed(list(enumerate([x, y, x * y]))):
        s = s * 0.5 + i * np.sum(v * v)
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_range_of_len(rng):
    src = """
def f(x, w):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + x[i] * w[i + 1] - x[i + 1] * w[i]
    return s
"""
    check_against_autograd(src, (rand(rng, (5,)), rand(rng, (5,))), wrt=(0, 1))


def test_tuple_target_over_rows_of_a_matrix(rng):
    src = """
def f(pairs):
    s = 0.0
    for a, b in pairs:
        s = s + a * np.exp(b)
    return s
"""
    check_against_autograd(src, (rand(rng, (4, 2)),))


def test_list_of_arrays_argument(rng):
    src = """
def f(W, xs):
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(W @ h + x)
    return np.sum(h)
"""
    xs = [rand(rng, (3,)) for _ in range(4)]
    check_against_autograd(src, (rand(rng, (3, 3)), xs), wrt=0)


def test_nested_loops_over_zip_and_rows(rng):
    src = """
def f(x, y):
    s = 0.0
    for row_x, row_y in zip(x, y):
        for a, b in zip(row_x, row_y):
            s = s + a * b * a
    return s
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (2, 3))), wrt=(0, 1))


def test_loop_over_a_generator_function_result_is_an_error():
    src = """
def f(x):
    s = 0.0
    for v in iter(x):
        s = s + v
    return s
"""
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])(np.ones(3))
    assert err.value.location is not None and err.value.location.lineno == 4
