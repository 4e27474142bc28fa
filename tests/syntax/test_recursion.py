"""Recursive user functions: recursion that a depth argument or a length bounds.

Each program is written once as source text and compared with finite differences (both modes) and
with autograd.
"""

import autograd
import numpy as np
import pytest
from helpers import check_against_autograd, check_pair, make, positive, rand

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


def test_recursive_call_with_a_keyword_argument(rng):
    """The stand-in for a derivative still being made passes keywords on (it took only positions)."""
    src = """
def cfrac(x, n, *, scale=1.0):
    if n == 0:
        return scale * x
    return x + 1.0 / (1.0 + cfrac(x, n - 1, scale=scale))

def f(x, s):
    return np.sum(cfrac(x, 4, scale=s))
"""
    check_against_autograd(src, (positive(rng, (3,)), 0.5 + positive(rng)), wrt=(0, 1))


@pytest.mark.parametrize("entry", ["f_tree", "f_mutual", "f_pair"])
def test_second_derivatives_of_recursive_functions(rng, entry):
    """A derivative of generated code that calls itself: the resolver reads the stand-in of the
    recursive call as the finished derivative (it raised on the stand-in's `*args`)."""
    src = """
def tree(x, depth):
    if depth == 0 or len(x) == 1:
        return np.sum(np.sin(x))
    mid = len(x) // 2
    return tree(x[:mid], depth - 1) * tree(x[mid:], depth - 1)

def even(x, n):
    return x if n == 0 else odd(np.sin(x), n - 1)

def odd(x, n):
    return x if n == 0 else even(x * x + 0.1, n - 1)

def pair(x, n, *, shift=0.0):
    if n == 0:
        return x, 1.0 + shift
    a, b = pair(x, n - 1, shift=shift)
    return a + b * x, a

def f_tree(x):
    return tree(x, 3)

def f_mutual(x):
    return np.sum(even(x, 5))

def f_pair(x):
    return np.sum(pair(x, 4, shift=0.25)[0])
"""
    f_np, f_ag = make(src, entry=entry)
    x = rand(rng, (5,))
    v = rand(rng, (5,))
    check_pair(f_np, f_ag, (x,))
    expected = autograd.hessian(f_ag)(x)
    np.testing.assert_allclose(sg.hessian(f_np)(x), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.hvp(f_np)(x, v), expected @ v, rtol=1e-9, atol=1e-12)
    gradient = sg.grad(f_np)
    numeric = np.stack([(gradient(x + 1e-6 * e) - gradient(x - 1e-6 * e)) / 2e-6 for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(sg.hessian(f_np)(x), numeric, rtol=1e-5, atol=1e-7)


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
