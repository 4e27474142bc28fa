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


# --- `else` of a loop: runs when the loop ended without `break` -------------------------------

LOOP_ELSE = {
    "for_else_without_break": """
def f(x, n):
    s = x
    for i in range(n):
        s = s * np.cos(x)
    else:
        s = s + x * x
    return np.sum(s)
""",
    "for_else_with_break": """
def f(x, n):
    s = x
    for i in range(n):
        s = s * 1.5
        if i >= 2:
            break
    else:
        s = s + np.sin(x)
    return np.sum(s)
""",
    "while_else_with_break": """
def f(x, n):
    s = x
    k = 0
    while k < n:
        s = s * np.tanh(x) + 1.0
        k = k + 1
        if k > 3:
            break
    else:
        s = s * x
    return np.sum(s)
""",
    "else_continues_the_outer_loop": """
def f(x, n):
    t = 0.0
    for i in range(n):
        for j in range(n):
            if j == i:
                break
        else:
            t = t + x * j
            continue
        t = t + x * x
    return np.sum(t)
""",
    "return_in_the_loop_skips_else": """
def f(x, n):
    for i in range(n):
        if i == 2:
            return np.sum(x * i)
    else:
        return np.sum(-x * x)
""",
}


@pytest.mark.parametrize("n", [0, 2, 6])
@pytest.mark.parametrize("case", sorted(LOOP_ELSE))
def test_loop_else(case, n, rng):
    check_against_autograd(LOOP_ELSE[case], (rand(rng, (3,)), n))


def test_loop_else_second_order(rng):
    import autograd
    from helpers import make

    f, f_ag = make(LOOP_ELSE["while_else_with_break"])
    x = rand(rng, (3,))
    for n in (2, 6):
        np.testing.assert_allclose(sg.hessian(f)(x, n), autograd.hessian(f_ag)(x, n), rtol=1e-9, atol=1e-12)


# --- assignment expressions: `(n := e)` --------------------------------------------------------

WALRUS = {
    "in_an_if_condition": """
def f(x):
    if (n := np.sum(x * x)) > 0.5:
        return n * np.sum(x)
    return n
""",
    "reads_before_and_after_in_one_expression": """
def f(x):
    n = x * 2.0
    y = n * (n := np.sin(x)) + n
    return np.sum(y + (m := x * 3.0) * m)
""",
    "in_a_while_condition": """
def f(x):
    s = x
    k = 0
    while (t := np.sum(s * s)) > 0.1:
        s = s * 0.5
        k = k + 1
        if k > 2:
            continue
    return np.sum(s) * t + k
""",
    "only_where_python_evaluates_it": """
def f(x):
    flag = np.sum(x) > 0.0
    u = x
    y = flag and (z := x * 3.0)
    w = (u := x + 1.0) if flag else np.cos(x)
    v = (not flag) or (u := u * x)
    return np.sum(y * w * u) + np.sum(v)
""",
    "in_a_call_and_a_comprehension_condition": """
def f(x):
    total = np.sum(np.tanh(h := x * 2.0), axis=(a := 0))
    ys = [y for v in [x, 2.0 * x] if np.sum(y := v * v) > 0.0]
    return total * np.sum(h) + np.sum(sum(ys) * y) + a
""",
}


@pytest.mark.parametrize("low", [0.2, 1.0])
@pytest.mark.parametrize("case", sorted(WALRUS))
def test_walrus(case, low, rng):
    x = rng.uniform(low, 1.5 * low, size=3) * rng.choice([-1.0, 1.0])
    check_against_autograd(WALRUS[case], (x,))


def test_walrus_second_order(rng):
    import autograd
    from helpers import make

    f, f_ag = make(WALRUS["in_a_while_condition"])
    x = rand(rng, (3,))
    np.testing.assert_allclose(sg.hessian(f)(x), autograd.hessian(f_ag)(x), rtol=1e-9, atol=1e-12)


def test_walrus_in_a_lambda_is_refused():
    from helpers import make

    f, _ = make("""
def f(x):
    g = lambda v: (w := v * 2.0) + w
    return g(x)
""")
    with pytest.raises(sg.SourcegradError, match="inside a lambda") as info:
        sg.grad(f)(0.5)
    assert "g = lambda" in info.value.location.text
