"""Control flow: if/elif/else, conditional expressions, for, while, break, continue, early return.

Inputs are chosen so that every branch is taken by some case; value-dependent conditions sit far
from their thresholds, so finite differences never cross a branch boundary.
"""

import numpy as np
import pytest
from helpers import SHAPES, check_against_autograd, check_grad, positive, rand

import sourcegrad as sg

# --- the headline example --------------------------------------------------------------


def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    for i in range(3):
        if np.sum(h) > 0:
            h = h * 0.5
        else:
            h = h + 1.0
    return np.mean((h - y) ** 2)


LOSS_SRC = """
def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    for i in range(3):
        if np.sum(h) > 0:
            h = h * 0.5
        else:
            h = h + 1.0
    return np.mean((h - y) ** 2)
"""


def loss_args(rng, bias):
    W = rand(rng, (3, 2))
    b = rand(rng, (2,)) * 0.1 + bias
    x = rand(rng, (4, 3))
    y = rand(rng, (4, 2))
    return W, b, x, y


@pytest.mark.parametrize("bias", [2.0, -2.0], ids=["positive_branch", "both_branches"])
@pytest.mark.parametrize("wrt", [(0, 1), ("W", "b")], ids=["positions", "names"])
def test_headline_example(wrt, bias, rng):
    W, b, x, y = loss_args(rng, bias)
    dW, db = sg.grad(loss, wrt=wrt)(W, b, x, y)
    assert dW.shape == W.shape and db.shape == b.shape
    check_grad(loss, (W, b, x, y), wrt=wrt)


@pytest.mark.parametrize("bias", [2.0, -2.0], ids=["positive_branch", "both_branches"])
def test_headline_example_against_autograd(bias, rng):
    check_against_autograd(LOSS_SRC, loss_args(rng, bias), wrt=(0, 1, 2, 3))


# --- if / elif / else --------------------------------------------------------------------------

IF_ELIF_ELSE = """
def f(x):
    s = np.sum(x)
    if s > 1.0:
        y = x * x
    elif s > -1.0:
        y = np.sin(x) * 3.0
    else:
        y = -x * s
    return np.sum(y * x)
"""


@pytest.mark.parametrize("offset", [1.0, 0.0, -1.0], ids=["if", "elif", "else"])
def test_if_elif_else(offset, rng):
    x = rand(rng, (3,)) * 0.1 + offset
    check_against_autograd(IF_ELIF_ELSE, (x,))


@pytest.mark.parametrize("offset", [2.0, -2.0], ids=["taken", "not_taken"])
def test_if_without_else_overwrites(offset, rng):
    src = """
def f(x):
    y = np.sin(x)
    if y > 0.0:
        y = y * x
    return y * 2.0
"""
    check_against_autograd(src, (offset + rand(rng) * 0.1,))


@pytest.mark.parametrize("order", [1, -1], ids=["x_bigger", "y_bigger"])
def test_if_comparing_two_arguments(order, rng):
    src = """
def f(x, y):
    if x > y:
        z = x * y + np.sin(x)
    else:
        z = y * y - x
    return z
"""
    x, y = rand(rng), rand(rng)
    x, y = (max(x, y) + 0.1, min(x, y)) if order == 1 else (min(x, y), max(x, y) + 0.1)
    check_against_autograd(src, (x, y), wrt=(0, 1))


@pytest.mark.parametrize("shape", [(), (3,)])
@pytest.mark.parametrize("offset", [1.0, -1.0], ids=["true", "false"])
def test_conditional_expression(offset, shape, rng):
    src = """
def f(x):
    y = x * 2.0 if np.sum(x) > 0 else np.sin(x) * x
    z = np.tanh(y if np.sum(y) < 0.5 else y * y)
    return np.sum(z * x)
"""
    check_against_autograd(src, (rand(rng, shape) * 0.1 + offset,))


# --- for loops ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_for_range_constant(shape, rng):
    src = """
def f(x):
    h = x
    for i in range(4):
        h = h * x * 0.5 + 1.0
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, shape),))


@pytest.mark.parametrize("n", [0, 1, 3])
def test_for_range_variable(n, rng):
    src = """
def f(x, n):
    h = np.sin(x)
    for i in range(n):
        h = h * x + np.cos(h)
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (3,)), n))


@pytest.mark.parametrize("bounds", ["1, 7, 2", "5, 0, -2", "2, 4", "n, 2 * n"])
def test_for_range_start_stop_step(bounds, rng):
    src = f"""
def f(x):
    n = len(x)
    h = x
    for i in range({bounds}):
        h = h * np.sin(x) + x * i
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_loop_index_used_as_subscript(rng):
    src = """
def f(x, w):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * w[i] * x[i]
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_for_over_array_rows(rng):
    src = """
def f(x, w):
    s = 0.0
    for row in x:
        s = s + np.sum(np.tanh(row * w) * row)
    return s
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (3,))), wrt=(0, 1))


def test_for_over_list_of_arrays(rng):
    src = """
def f(x, y):
    s = 0.0
    for w in [x, y * 2.0, np.sin(x)]:
        s = s + np.sum(w * w * y)
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_for_over_tuple_of_arguments(rng):
    src = """
def f(x, y):
    h = 1.0
    for w in (x, y, x):
        h = np.tanh(h * w)
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (2, 3))), wrt=(0, 1))


def test_nested_loops(rng):
    src = """
def f(x):
    h = x * 1.0
    for i in range(2):
        for j in range(3):
            h = h * 0.9 + x[j] * i + np.sin(h) * x
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_nested_loops_with_variable_bounds(rng):
    src = """
def f(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i + 1):
            s = s + x[i] * x[j]
    return s
"""
    check_against_autograd(src, (rand(rng, (4,)), 4))


# --- while -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,)])
def test_while_value_dependent(shape, rng):
    src = """
def f(x):
    h = x * x + 1.0
    n = 0
    while np.sum(h) < 20.0:
        h = h * 1.5 + x
        n = n + 1
    return np.sum(h) * n
"""
    check_against_autograd(src, (positive(rng, shape),))


def test_while_on_scalar(rng):
    src = """
def f(x, y):
    while x < 5.0:
        x = x * 2.0 + y
    return x * y
"""
    check_against_autograd(src, (positive(rng), positive(rng)), wrt=(0, 1))


def test_while_true_with_break(rng):
    src = """
def f(x):
    h = x
    while True:
        h = h * 1.7
        if np.sum(h) > 10.0:
            break
    return np.sum(np.sin(h))
"""
    check_against_autograd(src, (positive(rng, (3,)),))


# --- break and continue ------------------------------------------------------------------------


def test_break_value_dependent(rng):
    src = """
def f(x):
    h = x
    for i in range(20):
        h = h * 1.5 + 0.1 * x
        if np.sum(h * h) > 10.0:
            break
    return np.sum(h)
"""
    check_against_autograd(src, (positive(rng, (3,)),))


def test_continue_on_index(rng):
    src = """
def f(x):
    h = x
    for i in range(6):
        if i % 2 == 0:
            continue
        h = np.sin(h) * x
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_continue_value_dependent(rng):
    src = """
def f(x):
    s = 0.0
    for row in x:
        if np.sum(row) < 0.0:
            continue
        s = s + np.sum(row * row)
    return s
"""
    x = rand(rng, (4, 3)) * 0.1
    x[0] += 1.0
    x[1] -= 1.0
    x[2] += 1.0
    x[3] -= 1.0
    check_against_autograd(src, (x,))


# --- early return ------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [1.0, -1.0], ids=["returns_early", "falls_through"])
def test_early_return_inside_if(offset, rng):
    src = """
def f(x):
    if np.sum(x) > 0:
        return np.sum(x * x)
    y = np.sin(x)
    return np.sum(y * x)
"""
    check_against_autograd(src, (rand(rng, (3,)) * 0.1 + offset,))


@pytest.mark.parametrize("scale", [1.0, 0.01], ids=["returns_in_loop", "after_loop"])
def test_early_return_inside_loop(scale, rng):
    src = """
def f(x):
    h = x
    for i in range(5):
        h = h * 1.2 + x
        if np.sum(h) > 4.0:
            return np.sum(h * h)
    return np.sum(h)
"""
    check_against_autograd(src, (positive(rng, (3,)) * scale,))


# --- overwritten values the backward pass needs ------------------------------------------------


def test_loop_overwrites_value_read_by_backward(rng):
    src = """
def f(h, W):
    for i in range(4):
        h = np.tanh(h @ W)
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (3, 3))), wrt=(0, 1))


def rnn(h, W, U, xs):
    for x in xs:
        h = np.tanh(h @ W + x @ U)
    return np.sum(h * h)


def test_rnn_module_function(rng):
    args = (rand(rng, (3,)), rand(rng, (3, 3)), rand(rng, (2, 3)), rand(rng, (4, 2)))
    check_grad(rnn, args, wrt=(0, 1, 2, 3))


def test_branches_inside_loop(rng):
    src = """
def f(x, W):
    h = x
    for i in range(5):
        if np.sum(h) > 0:
            h = np.tanh(h @ W)
        else:
            h = np.sin(h) + x
    return np.sum(h * x)
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3, 3))), wrt=(0, 1))


def piecewise(x, y):
    if x > 1.0:
        z = x * y
    elif x > 0.0:
        z = x * x * y
    else:
        z = np.sin(x) + y
    for i in range(3):
        if z > 0.0:
            z = z * 0.5
        else:
            z = z - y
    return z


@pytest.mark.parametrize("x", [1.7, 0.4, -0.6])
@pytest.mark.parametrize("y", [0.8, -1.3])
def test_piecewise_module_function(x, y):
    check_grad(piecewise, (x, y), wrt=(0, 1))


# --- `and` / `or` for their value: Python returns an operand ---------------------------------------


@pytest.mark.parametrize("args", [(0.5, 1.5, 2.0), (0.0, 1.5, 2.0), (-0.7, 0.0, 1.2)])
def test_and_or_return_an_operand(args):
    """`a or b` is `a if a else b` and `a and b` is `b if a else a`, short-circuiting: the
    derivative is the chosen operand's (points sit away from the operands' zeros, but for the
    exact 0.0 that picks a branch)."""
    src = """
def f(x, y, z):
    a = x or y
    b = (x > 0 and x * 2.0) or x * 3.0
    c = y and z and x * z
    return a * z + b * y + c * x
"""
    check_against_autograd(src, args, wrt=(0, 1, 2)) if 0.0 not in args else _check_branch(src, args)


def _check_branch(src, args):
    """At an operand that is exactly 0.0 differences cross a branch: compare with autograd only
    (it follows the branch Python took, as sourcegrad does), in both modes."""
    import autograd
    from helpers import make

    f_np, f_ag = make(src)
    got = sg.grad(f_np, wrt=(0, 1, 2))(*args)
    want = [autograd.grad(f_ag, i)(*args) for i in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for i in range(3):
        tangent = sg.autodiff(f_np, mode="forward", wrt=i)(*args, 1.0)
        np.testing.assert_allclose(tangent, want[i], rtol=1e-12)
