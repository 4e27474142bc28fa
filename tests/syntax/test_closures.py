"""Closures, factories, lambdas, nested defs and default arguments.

Functions nested in the test functions below are read through inspect and their closure cells;
factories written as source text are also compared with autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, check_grad, check_pair, make, rand

import sourcegrad as sg

# --- closures over outer variables -------------------------------------------------------------


def test_closure_over_array_and_float(rng):
    w = rand(rng, (3,))
    c = 0.7

    def f(x):
        return np.sum(np.tanh(x * w) * c + w)

    check_grad(f, (rand(rng, (2, 3)),))


def test_closure_over_outer_function(rng):
    W = rand(rng, (3, 3))

    def act(h):
        return np.tanh(h @ W)

    def f(x):
        return np.sum(act(act(x)) * x)

    check_grad(f, (rand(rng, (3,)),))


def test_closure_sees_rebound_cell(rng):
    """A closure reads its cell when it runs: a later rebinding must change the gradient."""
    x = rand(rng, (3,))
    c = 2.0

    def f(x):
        return np.sum(c * x * x)

    np.testing.assert_allclose(sg.grad(f)(x), 4.0 * x, rtol=1e-12)
    c = 5.0
    np.testing.assert_allclose(sg.grad(f)(x), 10.0 * x, rtol=1e-12)


def make_model(W, scale):
    def model(x):
        return np.sum(np.tanh(x @ W)) * scale

    return model


def test_functions_from_a_factory(rng):
    W = rand(rng, (3, 2))
    x = rand(rng, (2, 3))
    model_a = make_model(W, 1.5)
    model_b = make_model(W * 2.0, -0.5)
    ga = check_grad(model_a, (x,))
    gb = check_grad(model_b, (x,))
    assert not np.allclose(ga, gb), "two closures of one factory must not share a gradient"


FACTORY_SRC = """
def make_f(w, c):
    def f(x):
        h = np.tanh(x * w)
        return np.sum(h * c + x * w)
    return f
"""


def test_factory_against_autograd(rng):
    make_np, make_ag = make(FACTORY_SRC)
    w = rand(rng, (3,))
    for c in (0.3, -1.2):
        check_pair(make_np(w, c), make_ag(w, c), (rand(rng, (2, 3)),))


# --- lambdas -----------------------------------------------------------------------------------


def test_lambda_passed_to_grad(rng):
    x = rand(rng, (3,))
    g = sg.grad(lambda x: np.sum(np.sin(x) * x))(x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-12)


def test_lambda_with_two_arguments_passed_to_grad(rng):
    x, y = rand(rng, (2, 3)), rand(rng, (3,))
    check_grad(lambda x, y: np.sum(np.tanh(x * y) * y), (x, y), wrt=(0, 1))


def test_two_lambdas_on_one_line():
    f, g = lambda x: x * x, lambda x: x * 3.0
    assert sg.grad(f)(2.0) == pytest.approx(4.0, rel=1e-12)
    assert sg.grad(g)(2.0) == pytest.approx(3.0, rel=1e-12)
    assert sg.grad(f)(-1.5) == pytest.approx(-3.0, rel=1e-12)


def test_two_lambdas_on_one_line_from_source():
    src = "f, g = lambda x: x * x, lambda x: np.sin(x) * 3.0\n"
    ns = sg.exec_source(src, {"np": np})
    assert sg.grad(ns["f"])(0.5) == pytest.approx(1.0, rel=1e-12)
    assert sg.grad(ns["g"])(0.5) == pytest.approx(3.0 * np.cos(0.5), rel=1e-12)


def test_lambda_defined_and_called_inside(rng):
    src = """
def f(x):
    sq = lambda t: t * t
    scale = lambda t, k: np.sin(t) * k
    return np.sum(sq(x) + scale(x, 2.0) + sq(scale(x, x)))
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_lambda_closing_over_local(rng):
    src = """
def f(x, w):
    a = np.tanh(w)
    g = lambda t: t * a
    return np.sum(g(x) * g(x * x))
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_lambda_reading_a_differentiated_variable_passed_as_a_value_says_so(mode):
    # Inlined where called, a local lambda kept as a value would hide what it reads from the
    # derivative: a clear error at the lambda's line, not a derivative without that part.
    src = "def f(x, a):\n    h = lambda v: a * v * v\n    return np.sum(np.piecewise(x, [x < 0], [h, 1.0]))\n"
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(sg.TransformError, match="lambda that reads a differentiated variable") as err:
        sg.autodiff(f, mode=mode, wrt=1)
    assert err.value.location.lineno == 2


def test_lambda_inside_test_function(rng):
    w = rand(rng, (3,))
    g = lambda t: np.sum(np.cos(t * w))
    check_grad(g, (rand(rng, (3,)),))


# --- nested defs -------------------------------------------------------------------------------


def test_nested_def_called_inside(rng):
    src = """
def f(x, y):
    def inner(a):
        return np.tanh(a * y) + a
    z = inner(x)
    return np.sum(inner(z) * x)
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_nested_def_with_control_flow(rng):
    src = """
def f(x):
    def step(h):
        if np.sum(h) > 0:
            return h * 0.5
        return np.sin(h) + 1.0
    h = x
    for i in range(3):
        h = step(h)
    return np.sum(h * x)
"""
    for offset in (1.0, -1.0):
        check_against_autograd(src, (rand(rng, (3,)) * 0.1 + offset,))


def module_with_nested(x):
    def inner(a, k=3.0):
        return a * k + np.sin(a)

    return np.sum(inner(x) + inner(x, 0.5))


def test_nested_def_in_module_function(rng):
    check_grad(module_with_nested, (rand(rng, (2, 3)),))


# --- default arguments -------------------------------------------------------------------------


def with_default(x, a=2.0, b=None):
    if b is None:
        b = np.ones_like(x)
    return np.sum(np.sin(a * x) * b)


def test_default_arguments(rng):
    x = rand(rng, (3,))
    check_grad(with_default, (x,))
    check_grad(with_default, (x, 0.5))
    check_grad(with_default, (x, 0.5, rand(rng, (3,))), wrt=(0, 1, 2))


def test_default_argument_captured_by_factory(rng):
    src = """
def make_g(k):
    def g(x, k=k):
        return np.sum(np.tanh(x) * k)
    return g
"""
    make_np, make_ag = make(src)
    x = rand(rng, (3,))
    g3 = check_pair(make_np(3.0), make_ag(3.0), (x,))
    g5 = check_pair(make_np(-5.0), make_ag(-5.0), (x,))
    np.testing.assert_allclose(g5, g3 * (-5.0 / 3.0), rtol=1e-12)


def test_default_argument_differentiated(rng):
    src = """
def f(x, scale=1.5):
    return np.sum(np.sin(x * scale) * scale)
"""
    check_against_autograd(src, (rand(rng, (3,)), 0.7), wrt=(0, 1))
    check_against_autograd(src, (rand(rng, (3,)),), wrt=0)


# --- lambdas and local defs passed to user functions, closing over differentiated values -------

PASSING = """
def apply(f, x):
    return f(x) + 1.0

def twice(f, x, k=2.0):
    return f(f(x)) * k
"""


def _hessian_check(f, f_ag, args, wrt):
    """sg.hessian against autograd's and against central differences of sg.grad."""
    import autograd

    hessian = sg.hessian(f, wrt=wrt)(*args)
    np.testing.assert_allclose(hessian, autograd.hessian(f_ag, wrt)(*args), rtol=1e-9, atol=1e-12)
    grad = sg.grad(f, wrt=wrt)
    eps, base = 1e-6, args[wrt]
    columns = []
    for e in np.eye(base.size):
        up, down = list(args), list(args)
        up[wrt], down[wrt] = base + eps * e, base - eps * e
        columns.append((grad(*up) - grad(*down)) / (2 * eps))
    np.testing.assert_allclose(hessian, np.stack(columns, axis=1), rtol=1e-6, atol=1e-8)


def test_a_lambda_closing_over_a_differentiated_value_passed_to_a_user_function(rng):
    src = PASSING + """
def f(a, x):
    return np.sum(apply(lambda v: v * a, x) * np.sin(a))
"""
    f, f_ag = make(src)
    args = (rand(rng, (3,)), rand(rng, (3,)))
    check_pair(f, f_ag, args, wrt=(0, 1))
    _hessian_check(f, f_ag, args, 0)


def test_a_lambda_closing_over_a_loop_variable(rng):
    src = PASSING + """
def f(a, x):
    s = 0.0
    for i in range(3):
        w = a * i
        s = s + np.sum(apply(lambda v: np.tanh(v * w) + i, x))
    return s
"""
    f, f_ag = make(src)
    args = (rand(rng, (3,)), rand(rng, (3,)))
    check_pair(f, f_ag, args, wrt=(0, 1))
    _hessian_check(f, f_ag, args, 1)


def test_a_local_def_and_a_lambda_passed_by_keyword_to_a_function_calling_it_twice(rng):
    src = PASSING + """
def f(a, x):
    def h(v):
        return v * a * v
    return np.sum(twice(h, x) + twice(f=lambda u: u * np.tanh(a), x=x, k=0.5))
"""
    f, f_ag = make(src)
    args = (rand(rng, (3,)), rand(rng, (3,)))
    check_pair(f, f_ag, args, wrt=(0, 1))
    _hessian_check(f, f_ag, args, 0)


def test_a_lambda_passed_in_a_loop_of_a_comprehension(rng):
    src = PASSING + """
def f(ws, x):
    return sum(np.sum(apply(lambda v: v * w, x)) for w in ws)
"""
    f, f_ag = make(src)
    check_pair(f, f_ag, (rand(rng, (4,)), rand(rng, (3,))), wrt=(0, 1))


def test_a_lambda_a_function_keeps_is_refused(rng):
    src = """
def keep(f):
    return f

def f(a, x):
    h = keep(lambda v: v * a)
    return np.sum(h(x))
"""
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(sg.UnsupportedSyntax, match="a lambda passed to a function that keeps it"):
        sg.grad(f)(rand(rng, (3,)), rand(rng, (3,)))
