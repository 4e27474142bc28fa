"""Comprehensions: list, dict and generator expressions, inside ``sum``, ``np.array``, ``np.stack``,
assigned to names, returned, nested, filtered, over runtime-length iterables and over dicts.

Each program is written once as source text and compared with finite differences (both modes) and
with autograd; dict arguments and results with ``check_tree_grad`` (each leaf perturbed).
"""

import warnings

import autograd
import numpy as np
import pytest
from helpers import check_against_autograd, make, rand
from tree_helpers import check_tree_grad

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


# --- dict comprehensions -------------------------------------------------------------------------


def test_dict_comprehension_over_the_items_of_a_dict_argument(rng):
    f, f_ag = make("""
def f(params, x):
    norms = {name: np.sum(w ** 2) for name, w in params.items()}
    return norms["w"] * np.sum(x) + norms["b"] * norms["scale"]
""")
    params = {"w": rand(rng, (3,)), "b": rand(rng, (2,)), "scale": 0.7}
    args = (params, rand(rng, (3,)))
    check_tree_grad(f, args, 0, f_ag)
    check_tree_grad(f, args, 1, f_ag)


def test_dict_comprehension_over_range_with_a_filter(rng):
    src = """
def f(x):
    parts = {i: x[i] * 2.0 for i in range(len(x)) if i % 2 == 0}
    return parts[0] * parts[2] + sum(parts.values()) + len(parts)
"""
    check_against_autograd(src, (rand(rng, (5,)),))


def test_dict_comprehension_with_a_repeated_key_keeps_the_last_value(rng):
    src = """
def f(x):
    parts = {i % 2: np.sin(x[i]) * (i + 1.0) for i in range(len(x))}
    return parts[0] * parts[1]
"""
    check_against_autograd(src, (rand(rng, (5,)),))


def _ag_vjp(f_ag, args, argnum, seed):
    """autograd's VJP of a function with a dict result: the gradient of <seed, f(args)>."""

    def inner(*a):
        out = f_ag(*a)
        return sum(autograd.numpy.sum(out[k] * seed[k]) for k in seed)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        return autograd.grad(inner, argnum)(*args)


def test_dict_comprehension_returned_takes_a_seed_dict(rng):
    f, f_ag = make("""
def f(params, x):
    return {k: np.tanh(v * x) for k, v in params.items() if k != "frozen"}
""")
    params = {"w": rand(rng, (3,)), "frozen": rand(rng, (3,)), "b": rand(rng, (3,))}
    x = rand(rng, (3,))
    g = check_tree_grad(f, (params, x), 0, f_ag)  # the default seed: the sum of the leaves
    assert list(g) == ["w", "frozen", "b"] and not np.any(g["frozen"])
    out, pullback = sg.vjp(f, params, x)
    assert list(out) == ["w", "b"]
    seed = {"w": rand(rng, (3,)), "b": rand(rng, (3,))}
    dparams, dx = pullback(seed)
    want = _ag_vjp(f_ag, (params, x), 0, seed)
    for k in params:
        np.testing.assert_allclose(dparams[k], want[k], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, _ag_vjp(f_ag, (params, x), 1, seed), rtol=1e-10)
    value, tangent = sg.jvp(f, (params, x), ({k: np.ones(3) for k in params}, np.zeros(3)))
    assert list(value) == list(tangent) == ["w", "b"]
    np.testing.assert_allclose(tangent["w"], x * (1 - value["w"] ** 2), rtol=1e-10)


def test_dict_comprehension_over_zip_of_names_and_a_list(rng):
    f, f_ag = make("""
def f(ws, x):
    named = {name: np.tanh(w @ x) for name, w in zip(["a", "b"], ws)}
    scaled = {k: v * (len(k) + 1.0) for k, v in named.items()}
    return np.sum(scaled["a"] * scaled["b"])
""")
    args = ([rand(rng, (2, 3)), rand(rng, (2, 3))], rand(rng, (3,)))
    g = check_tree_grad(f, args, 0, f_ag)
    assert type(g) is list and len(g) == 2
    check_tree_grad(f, args, 1, f_ag)


def test_dict_comprehension_variables_do_not_leak(rng):
    src = """
def f(x):
    k = x * 3.0
    squares = {k: v * v for k, v in enumerate(x)}
    return np.sum(k) + squares[0] + squares[2]
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_dict_views_used_as_values(rng):
    src = """
def f(x):
    d = {"a": np.sin(x), "b": x * x}
    stacked = np.stack(list(d.values()))
    pairs = list(d.items())
    return np.sum(stacked ** 2) * len(d.keys()) + np.sum(pairs[1][1]) + sum(d.values())[0]
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_dict_comprehension_at_second_order(rng):
    f, f_ag = make("""
def f(x, w):
    parts = {i: np.sin(x[i]) * w[i] for i in range(3) if i != 1}
    return sum(v * x[k] for k, v in parts.items()) + parts.get(1, x[1] ** 3)
""")
    x, w, v = rand(rng, (3,)), rand(rng, (3,)), rand(rng, (3,))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        hess_x, hess_w = autograd.hessian(f_ag, 0)(x, w), autograd.hessian(f_ag, 1)(x, w)
    np.testing.assert_allclose(sg.hessian(f)(x, w), hess_x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.hvp(f, wrt=1)(x, w, v), hess_w @ v, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("src", [
    "def f(x):\n    return np.sum([xi * 3.0 for xi in x])\n",
    "def f(x):\n    return np.sum(np.array([np.sin(xi) * xi for xi in x if xi > -5.0]))\n",
    "def f(x):\n    ys = [xi ** 3 for xi in x]\n    return ys[0] * ys[-1] + sum(ys)\n",
])
def test_comprehension_reverse_over_forward(src, rng):
    """The derivative of a forward derivative of a list comprehension (a Hessian-vector product
    the other way round from `sg.hvp`): the list the forward code builds for the primal is read
    by nothing after it, so its cotangent stays the zero 0.0, which the adjoint of each `+` of
    lists sliced (a TypeError, 'float' object is not subscriptable, in the generated code)."""
    f, f_ag = make(src)
    x, v = rand(rng, (4,)), rand(rng, (4,))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        expected = autograd.hessian_vector_product(f_ag)(x, v)
        by_v = autograd.grad(f_ag)(x)
        h_ones = autograd.hessian_vector_product(f_ag)(x, np.ones(4))
    for optimized in (True, False):
        f_dot = sg.autodiff(f, mode="forward", optimized=optimized)
        np.testing.assert_allclose(sg.grad(f_dot, optimized=optimized)(x, v), expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sg.grad(f_dot, wrt=1, optimized=optimized)(x, v), by_v, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sg.hvp(f, optimized=optimized)(x, v), expected, rtol=1e-9, atol=1e-12)
    # reverse over reverse (optimized; unoptimized, the zero 0.0 of a list's cotangent is still
    # accumulated into with `+=` there, a TypeError)
    np.testing.assert_allclose(sg.grad(sg.grad(f))(x), h_ones, rtol=1e-9, atol=1e-12)


# --- left out, with the error at the user's line (docs/python-subset.md) ----------------------------


@pytest.mark.parametrize(
    "body, words",
    [
        ("return sum({v for v in x})", "set comprehension"),
        (
            "while sum(v for v in x) > 0.0:\n        x = x - 1.0\n    return np.sum(x)",
            "`while` condition",
        ),
        ("return np.sum(x) if np.sum(x) > 0 else sum([v for v in x])", "conditional expression"),
        ("g = lambda t: sum(v for v in t)\n    return g(x)", "inside a lambda"),
    ],
    ids=["set", "while-test", "if-expression", "lambda"],
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
