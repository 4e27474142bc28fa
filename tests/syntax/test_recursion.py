"""Recursive user functions: recursion that a depth argument or a length bounds.

Each program is written once as source text and compared with finite differences (both modes) and
with autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, rand

import sourcegrad as sg


def test_recursive_polynomial_horner(rng):
    src = """
def horner(coeffs, x, k):
    if k == len(coeffs) - 1:
        return coeffs[k]
    return coeffs[k] + x * horner(coeffs, x, k + 1)

def f(coeffs, x):
    return np.sum(horner(coeffs, x, 0))
"""
    check_against_autograd(src, (rand(rng, (4,)), rand(rng, (3,))), wrt=(0, 1))


def test_recursive_tree_sum_with_depth(rng):
    src = """
def tree(x, w, depth):
    if depth == 0:
        return np.tanh(x * w)
    left = tree(x * 0.5, w, depth - 1)
    right = tree(x + w, w * 0.9, depth - 1)
    return left + right * x

def f(x, w):
    return np.sum(tree(x, w, 3))
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_recursion_differentiated_directly(rng):
    src = """
def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)
"""
    check_against_autograd(src, (rand(rng, (3,)), 4))


def test_mutual_recursion(rng):
    src = """
def even(x, n):
    if n == 0:
        return x
    return odd(np.sin(x), n - 1)

def odd(x, n):
    if n == 0:
        return x * 2.0
    return even(x * x, n - 1)

def f(x):
    return np.sum(even(x, 5))
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_recursion_on_a_value_dependent_condition(rng):
    src = """
def shrink(x):
    if np.sum(x * x) < 0.5:
        return x
    return shrink(np.tanh(x) * 0.8)

def f(x):
    return np.sum(shrink(x) * x)
"""
    check_against_autograd(src, (rand(rng, (3,)) * 2.0,))


def test_recursive_local_function_is_an_error():
    src = """
def f(x):
    def fact(y, n):
        if n == 0:
            return y
        return fact(y * n, n - 1)
    return fact(x, 3)
"""
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])
    assert "recursive" in str(err.value)
    assert err.value.location is not None
