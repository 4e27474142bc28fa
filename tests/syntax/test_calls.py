"""Calls of user functions: differentiated through, nested, repeated, in loops, with defaults and
keywords, returning tuples, with their own control flow.

The first half uses ordinary functions of this module (sourcegrad reads them through inspect);
the second half writes caller and callees once as source text and compares with autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, check_grad, make, rand
from tree_helpers import check_tree_grad

import sourcegrad as sg

# --- module-level functions --------------------------------------------------------------------


def square_sum(x):
    return np.sum(x * x)


def layer(x, W, b):
    return np.tanh(x @ W + b)


def two_layers(x, W1, b1, W2):
    h = layer(x, W1, b1)
    out = layer(h, W2, 0.0)
    return square_sum(out)


def test_call_one_level(rng):
    def f(x):
        return square_sum(np.sin(x)) * 2.0

    check_grad(f, (rand(rng, (2, 3)),))


def test_call_two_levels_deep(rng):
    args = (rand(rng, (2, 3)), rand(rng, (3, 4)), rand(rng, (4,)), rand(rng, (4, 2)))
    check_grad(two_layers, args, wrt=(0, 1, 2, 3))


def scaled(x, scale=2.0):
    return x * scale


def uses_defaults_and_keywords(x, y):
    a = scaled(x)
    b = scaled(x, scale=0.5)
    c = scaled(x, 3.0)
    d = scaled(scale=y, x=x)
    return np.sum(a * b + c + d * d)


def test_call_with_default_and_keyword_arguments(rng):
    check_grad(uses_defaults_and_keywords, (rand(rng, (3,)), rand(rng)), wrt=(0, 1))


def sin_cos(x):
    return np.sin(x), np.cos(x) * x


def uses_tuple_result(x):
    s, c = sin_cos(x)
    pair = sin_cos(s)
    return np.sum(s * c + pair[0] * pair[1])


def test_call_returning_tuple(rng):
    check_grad(uses_tuple_result, (rand(rng, (2, 3)),))


def clipped_power(x, n):
    y = x
    for i in range(n):
        y = y * x
    if np.sum(y) > 0:
        return y * 2.0
    return -y


def uses_callee_with_control_flow(x):
    return np.sum(clipped_power(x, 2) + clipped_power(np.sin(x), 3))


@pytest.mark.parametrize("offset", [1.0, -1.0])
def test_callee_with_branches_and_loops(offset, rng):
    check_grad(uses_callee_with_control_flow, (rand(rng, (3,)) * 0.1 + offset,))


def called_in_loop(x, W):
    h = x
    for i in range(3):
        h = layer(h, W, x)
    return square_sum(h)


def test_user_function_called_in_loop(rng):
    check_grad(called_in_loop, (rand(rng, (3,)), rand(rng, (3, 3))), wrt=(0, 1))


def test_callee_differentiated_directly(rng):
    """The callee is itself a valid target of grad, before and after it was used as a callee."""
    x = rand(rng, (3,))
    check_grad(square_sum, (x,))
    check_grad(
        two_layers, (rand(rng, (2, 3)), rand(rng, (3, 4)), rand(rng, (4,)), rand(rng, (4, 2)))
    )
    check_grad(square_sum, (x * 2.0,))


# --- source-text twins, checked against autograd -----------------------------------------------


def test_call_twin_one_level(rng):
    src = """
def g(x):
    return np.sin(x) * x

def f(x):
    return np.sum(g(x) + x)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_call_twin_two_levels(rng):
    src = """
def inner(x, w):
    return np.tanh(x * w)

def middle(x, w):
    return inner(x, w) * inner(w, x) + x

def f(x, w):
    return np.sum(middle(x, w) * w)
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (3,))), wrt=(0, 1))


def test_call_twin_called_twice_on_related_values(rng):
    src = """
def g(x):
    return x * x * np.cos(x)

def f(x):
    a = g(x)
    b = g(a)
    return np.sum(a + b)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_call_twin_in_loop_with_overwrite(rng):
    src = """
def step(h, W, b):
    return np.tanh(h @ W + b)

def f(h, W, b):
    for i in range(3):
        h = step(h, W, b)
    return np.sum(h * h)
"""
    args = (rand(rng, (2, 3)), rand(rng, (3, 3)), rand(rng, (3,)))
    check_against_autograd(src, args, wrt=(0, 1, 2))


def test_call_twin_defaults_and_keywords(rng):
    src = """
def g(x, scale=2.0, shift=0.0):
    return np.sin(x * scale) + shift

def f(x, y):
    return np.sum(g(x) + g(x, scale=y) + g(x, 0.5, shift=y * y) + g(shift=x, x=y))
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng)), wrt=(0, 1))


def test_call_twin_tuple_result(rng):
    src = """
def stats(x):
    m = np.mean(x)
    return m, np.mean((x - m) ** 2)

def f(x):
    m, v = stats(x)
    t = stats(x * x)
    return m * v + t[0] - t[1]
"""
    check_against_autograd(src, (rand(rng, (2, 3)),))


@pytest.mark.parametrize("offset", [1.0, -1.0])
def test_call_twin_callee_with_control_flow(offset, rng):
    src = """
def g(x, n):
    s = 0.0
    for i in range(n):
        if np.sum(x) > 0:
            s = s + np.sum(x * x) * i
        else:
            s = s - np.sum(np.sin(x))
    return s

def f(x):
    return g(x, 3) + g(x * 0.5, 2)
"""
    check_against_autograd(src, (rand(rng, (3,)) * 0.1 + offset,))


def test_call_twin_callee_returns_early(rng):
    src = """
def g(x):
    for i in range(10):
        x = x * 1.5
        if x > 3.0:
            return x * x
    return x

def f(x, y):
    return g(x) * y + g(y)
"""
    check_against_autograd(src, (rand(rng) + 1.5, rand(rng) * 0.1), wrt=(0, 1))


def test_call_twin_argument_not_differentiated(rng):
    src = """
def g(x, W):
    return np.sum(np.tanh(x @ W))

def f(x, W):
    return g(x, W) + g(x, np.ones((3, 2)))
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (3, 2))), wrt=0)


# --- Python's max, min, abs and sorted of numbers ------------------------------------------------

CHOICES = {
    "max_min_of_two": """
def f(x, y):
    return max(x, y) * min(x, y) + abs(x) * max(x * y, y, 0.1)
""",
    "of_a_list_and_with_key": """
def f(x, y):
    xs = [x, y, x * y, np.sin(y)]
    return max(xs) + 2.0 * min(*xs) + min((x, y), key=abs) * max(xs, key=lambda v: v * v)
""",
    "sorted_with_key_and_reverse": """
def f(x, y):
    t = sorted([x, y, x * y])
    u = sorted([x, np.cos(y), x * y], key=lambda v: -abs(v), reverse=True)
    return t[0] * 2.0 + t[2] * t[1] + u[1] * u[0] + sum(sorted((y, x), reverse=True)[:1])
""",
    "of_array_elements": """
def f(x, y):
    v = np.stack([x, y, x * y, y * y])
    return max(v) * min(v) + sum(sorted(v)[1:3]) * np.sum(sorted(v, reverse=True)[0])
""",
}
POINTS = [(0.7, 0.3), (0.3, -0.7), (-0.5, 0.2), (-1.3, -0.4)]

SORTED_CONTAINERS = {
    "keys_of_a_dict": """
def f(d):
    total = 0.0
    for i, k in enumerate(sorted(d)):
        total = total + np.sum(np.sin(d[k])) * (i + 1.0)
    return total
""",
    "items_of_a_dict_by_key": """
def f(d):
    total = 0.0
    for i, (k, v) in enumerate(sorted(d.items(), key=lambda kv: kv[0], reverse=True)):
        total = total + np.sum(np.cos(v)) * (i + 2.0)
    return total
""",
    "rows_of_an_array": """
def f(d):
    rows = sorted(d["m"], key=lambda r: r[0])
    return np.sum(rows[0] * 3.0) + np.sum(rows[-1] ** 2) + np.sum(d["b"])
""",
}


@pytest.mark.parametrize("case", sorted(SORTED_CONTAINERS))
def test_sorted_of_keys_items_and_rows(case, rng):
    """sorted() of what is not numbers: a dict's keys (no derivative of their own), `d.items()`
    ordered by a key, an array's rows; the same objects in a new order, their cotangents put back
    in their places (sg.permuted). Both modes against central differences, reverse against autograd."""
    d = {"b": rng.normal(size=3), "a": rng.normal(size=2), "m": rng.normal(size=(3, 2))}
    f_np, f_ag = make(SORTED_CONTAINERS[case])
    check_tree_grad(f_np, (d,), f_ag=f_ag)


@pytest.mark.parametrize("point", POINTS, ids=["a", "b", "c", "d"])
@pytest.mark.parametrize("case", sorted(CHOICES))
def test_max_min_sorted(case, point):
    check_against_autograd(CHOICES[case], point, wrt=(0, 1))


def test_max_min_ties_pick_what_python_picks():
    from helpers import make

    import sourcegrad as sg

    f, _ = make("""
def f(x):
    return 3.0 * max(x, 1.0 - x) + min([2.0 * x, 1.0 - 0.0 * x, 0.5 + x])
""")
    # at x = 0.5 all are equal: max keeps x (slope 1), min keeps 2x (slope 2), as Python's do
    assert sg.grad(f)(0.5) == 3.0 * 1.0 + 2.0
    assert sg.autodiff(f, mode="forward")(0.5, 1.0) == 5.0


def test_max_min_sorted_second_order():
    import autograd
    from helpers import make

    import sourcegrad as sg

    f, f_ag = make("""
def f(x):
    s = sorted([x[0] * x[1], np.sin(x[1]), x[0] ** 3], key=lambda v: abs(v))
    return s[0] * s[2] + max(x[0], x[1] ** 2) * min(list(x))
""")
    for x in (np.array([0.7, 0.3]), np.array([-0.4, 1.1])):
        np.testing.assert_allclose(sg.hessian(f)(x), autograd.hessian(f_ag)(x), rtol=1e-9, atol=1e-12)


def test_max_with_default_is_refused():
    from helpers import make

    import sourcegrad as sg

    f, _ = make("""
def f(x):
    return max([x, 2.0 * x], default=0.0)
""")
    with pytest.raises(sg.SourcegradError, match="max"):
        sg.grad(f)(0.5)


# --- tables of functions indexed by a constant ---------------------------------------------------

TABLES = """
def square(v):
    return v * v

ACTS = {"tanh": np.tanh, "sq": square}
LAYERS = (np.sin, square)

def f(x):
    acts = {"tanh": np.tanh, "sin": np.sin, "sq": square}
    layers = [np.cos, square]
    h = acts["tanh"](x) + acts["sin"](x) * acts["sq"](x) + layers[1](x) + layers[-2](x)
    return np.sum(h * ACTS["sq"](x) + ACTS["tanh"](x) * LAYERS[0](x))
"""


@pytest.mark.parametrize("shape", [(), (3,)])
def test_table_of_functions_indexed_and_called(shape, rng):
    check_against_autograd(TABLES, (rand(rng, shape),))


def test_table_of_functions_second_order(rng):
    import autograd
    from helpers import make

    import sourcegrad as sg

    f, f_ag = make(TABLES)
    x = rand(rng, (3,))
    np.testing.assert_allclose(sg.hessian(f)(x), autograd.hessian(f_ag)(x), rtol=1e-9, atol=1e-12)


def test_table_indexed_by_a_variable_is_refused():
    from helpers import make

    import sourcegrad as sg

    f, _ = make("""
def f(x, k):
    acts = {"tanh": np.tanh, "sin": np.sin}
    return acts[k](x)
""")
    with pytest.raises(sg.SourcegradError, match="cannot tell what"):
        sg.grad(f)(0.5, "tanh")


def test_a_lambda_passed_to_a_user_function_that_calls_it(rng):
    src = """
def apply(f, x):
    return f(x) + 1.0

def f(x, scale):
    return np.sum(apply(lambda v: np.exp(v) * scale, x) ** 2)
"""
    check_against_autograd(src, (rand(rng, (3,)), 0.7), wrt=(0, 1))


def test_a_lambda_passed_to_a_method_stays_refused(rng):
    src = """
class Runner:
    def __init__(self, w):
        self.w = w

    def run(self, f, x):
        return f(x * self.w)

def f(a, x, m):
    return np.sum(m.run(lambda v: v * a, x))
"""
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.UnsupportedSyntax, match="Lambda expression is not supported here"):
        sg.grad(ns["f"])(rand(rng, (3,)), rand(rng, (3,)), ns["Runner"](rand(rng, (3,))))
