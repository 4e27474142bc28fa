"""Global and closure state: module constants, closures over arrays, functions returned by factories,
``functools.partial`` of a user function, passed to ``sg.grad`` or called inside.

Programs are written once as source text (a module of their own) and compared with finite
differences (both modes) and with autograd.
"""

import functools

import numpy as np
import pytest
from helpers import check_grad, check_pair, rand

import sourcegrad as sg

MODULE = """
import functools

SCALE = 1.5
OFFSETS = np.array([0.1, -0.2, 0.3])
TABLE = (0.5, 2.0)

def penalty(x, strength, power=2):
    return strength * np.sum(np.abs(x) ** power)

def reads_constants(x):
    return np.sum(np.tanh(x * SCALE + OFFSETS)) * TABLE[1] + penalty(x, TABLE[0])

def make_loss(data, targets):
    def loss(w):
        predictions = np.tanh(data @ w)
        return np.mean((predictions - targets) ** 2)
    return loss

def make_layer(W):
    scale = np.sum(W * W)
    def layer(x):
        return np.tanh(W @ x) * scale
    return layer

def two_layers(x, W1, W2):
    first = make_layer(W1)
    return np.sum(first(x) * x)

def calls_partial(x, w):
    reg = functools.partial(penalty, strength=0.3)
    return np.sum(np.sin(x * w)) + reg(w) + reg(x, power=3)

small_penalty = functools.partial(penalty, strength=0.1, power=4)

def calls_module_partial(x):
    return small_penalty(x) + np.sum(x * x)
"""


@pytest.fixture(scope="module")
def module():
    ns_np = sg.exec_source(MODULE, {"np": np})
    import autograd.numpy as anp

    ns_ag = {"np": anp}
    exec(compile(MODULE, "<autograd twin>", "exec"), ns_ag)  # noqa: S102  (the twin)
    return ns_np, ns_ag


@pytest.mark.parametrize(
    "name, shapes, wrt",
    [
        ("reads_constants", [(3,)], 0),
        ("calls_partial", [(3,), (3,)], (0, 1)),
        ("calls_module_partial", [(3,)], 0),
    ],
)
def test_module_function(module, name, shapes, wrt, rng):
    """Module constants; a partial made inside, and one made at module level, called inside."""
    ns_np, ns_ag = module
    check_pair(ns_np[name], ns_ag[name], tuple(rand(rng, shape) for shape in shapes), wrt=wrt)


def test_rebinding_a_module_constant_regenerates(module, rng):
    ns_np, _ = module
    x = rand(rng, (3,))
    f = ns_np["reads_constants"]
    before = sg.grad(f)(x)
    ns_np["SCALE"] = 3.0
    try:
        after = check_grad(f, (x,))
    finally:
        ns_np["SCALE"] = 1.5
    assert not np.allclose(before, after)


def test_closure_from_a_factory_passed_to_grad(module, rng):
    ns_np, ns_ag = module
    data, targets = rand(rng, (5, 3)), rand(rng, (5,))
    w = rand(rng, (3,))
    check_pair(ns_np["make_loss"](data, targets), ns_ag["make_loss"](data, targets), (w,))
    other = ns_np["make_loss"](data * 2.0, targets)
    assert not np.allclose(sg.grad(other)(w), sg.grad(ns_np["make_loss"](data, targets))(w))


def test_closure_capturing_an_array_and_a_derived_value(module, rng):
    ns_np, ns_ag = module
    W = rand(rng, (3, 3))
    check_pair(ns_np["make_layer"](W), ns_ag["make_layer"](W), (rand(rng, (3,)),))


def test_function_made_by_a_factory_inside(module, rng):
    """`first` is known only when the function runs: the call goes through ``sg.call``, which
    differentiates the closure it finds then."""
    ns_np, ns_ag = module
    args = (rand(rng, (3,)), rand(rng, (3, 3)), rand(rng, (3, 3)))
    check_pair(ns_np["two_layers"], ns_ag["two_layers"], args, wrt=0)


def test_factory_of_a_differentiated_value_is_an_error(module, rng):
    """Left out (docs/python-subset.md): a closure over a value being differentiated (W1 here)."""
    ns_np, _ = module
    args = (rand(rng, (3,)), rand(rng, (3, 3)), rand(rng, (3, 3)))
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns_np["two_layers"], wrt=(0, 1))(*args)
    assert "local function 'layer'" in str(err.value)
    assert err.value.location.text.strip() == "return layer"


def test_partial_passed_to_grad(module, rng):
    ns_np, ns_ag = module
    x = rand(rng, (3,))
    f_np = functools.partial(ns_np["penalty"], strength=0.7, power=3)
    f_ag = functools.partial(ns_ag["penalty"], strength=0.7, power=3)
    check_pair(f_np, f_ag, (x,))


def test_partial_with_a_bound_array_passed_to_grad(module, rng):
    ns_np, _ = module
    x, w = rand(rng, (3,)), rand(rng, (3,))
    loss = functools.partial(ns_np["calls_partial"], w=w)
    check_grad(loss, (x,))
    bound_first = functools.partial(ns_np["calls_partial"], x)
    check_grad(bound_first, (w,))


def test_closure_cell_rebound_after_grad(rng):
    src = """
def make():
    state = np.ones(3)
    def f(x):
        return np.sum(np.sin(x) * state)
    def set_state(v):
        nonlocal state
        state = v
    return f, set_state
"""
    ns = sg.exec_source(src, {"np": np})
    f, set_state = ns["make"]()
    x = rand(rng, (3,))
    np.testing.assert_allclose(sg.grad(f)(x), np.cos(x), rtol=1e-12)
    set_state(np.full(3, 2.0))
    np.testing.assert_allclose(check_grad(f, (x,)), 2.0 * np.cos(x), rtol=1e-9)


def raises_at(src, words, lines):
    """sg.grad of `f` in `src` raises a SourcegradError saying `words` at one of `lines`."""
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])
    assert words in str(err.value)
    assert err.value.location is not None and err.value.location.lineno in lines


def test_global_statement_is_an_error():
    src = """
COUNT = 0

def f(x):
    global COUNT
    COUNT = COUNT + 1
    return np.sum(x)
"""
    raises_at(src, "global", (5,))


def test_calling_a_factorys_result_directly(rng):
    src = """
def make_model(W):
    def model(x):
        return np.sum(np.tanh(x @ W))
    return model

def f(x, W):
    return make_model(W)(x) + make_model(W * 2.0)(x * x)
"""
    ns_np, ns_ag = sg.exec_source(src, {"np": np}), sg.exec_source(src, {"np": __import__("autograd.numpy").numpy})
    check_pair(ns_np["f"], ns_ag["f"], (rand(rng, (3,)), rand(rng, (3, 3))), wrt=0)


def test_local_partial_rebound_is_an_error():
    src = """
import functools

def scaled(x, k):
    return x * k

def f(x):
    g = functools.partial(scaled, k=2.0)
    if np.sum(x) > 0:
        g = functools.partial(scaled, k=3.0)
    return np.sum(g(x))
"""
    raises_at(src, "partial", (8, 10))


def test_a_gradient_called_inside_is_differentiated_again():
    """``sg.grad(f)`` made and called inside the function, as autograd users write grad of grad."""
    import autograd

    def f(x):
        return np.sin(x) * x**3

    def f_ag(x):
        return autograd.numpy.sin(x) * x**3

    second = sg.grad(lambda x: sg.grad(f)(x))
    for x in (0.7, -1.3):
        assert second(x) == pytest.approx(-np.sin(x) * x**3 + 6 * np.cos(x) * x**2 + 6 * x * np.sin(x), rel=1e-12)
        assert second(x) == pytest.approx(autograd.grad(autograd.grad(f_ag))(x), rel=1e-12)


def test_third_order_through_a_call_resolved_at_run_time_is_an_error():
    """Left out (docs/python-subset.md): a second derivative of a call through a value."""

    def f(x):
        return np.sin(x) * x**3

    once = lambda y: sg.grad(f)(y)
    with pytest.raises(sg.TransformError, match="resolved at run time"):
        sg.grad(lambda x: sg.grad(once)(x))(0.7)


@pytest.mark.parametrize("src, line", [
    ("def f(x, xp=np):\n    return xp.sum(xp.tanh(x))\n", 1),
    ("def f(x):\n    xp = np\n    return xp.sum(xp.exp(x))\n", 2),
])
def test_a_module_held_in_a_name_is_refused_where_its_functions_read_as_array_methods(src, line):
    """`xp.sum(y)` with `xp = np` would be read as the array method `y.sum` of a value `xp` (a
    zero gradient, before): refused at the binding."""
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(sg.UnsupportedSyntax, match="holds the module `np`") as err:
        sg.grad(f)(np.ones(3))
    assert err.value.location.lineno == line


def sum_through_a_module_argument(x, xp):
    return xp.sum(x ** 2) + np.sum(x)


def twice_through_a_module_argument(x, xp):
    return 2.0 * sum_through_a_module_argument(x, xp)


@pytest.mark.parametrize("f", [sum_through_a_module_argument, twice_through_a_module_argument])
@pytest.mark.parametrize("mode", ["reverse", "forward", "both"])
def test_a_module_passed_as_an_argument_is_refused_where_its_functions_read_as_array_methods(f, mode):
    """`xp.sum(y)` of a parameter `xp` is read as the array method `y.sum` (a zero gradient, before):
    a module passed there is refused when the derivative is called, at the line that reads it."""
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(sg.UnsupportedSyntax, match="'xp' holds the module `numpy`") as err:
        if mode == "reverse":
            sg.grad(f)(x, np)
        elif mode == "forward":
            sg.autodiff(f, mode="forward")(x, np, np.ones(3))
        else:
            sg.grad(f, wrt=(0, 1))(x, np)
    assert err.value.location.lineno == sum_through_a_module_argument.__code__.co_firstlineno + 1


def weighted_by_a_sum(x, w):
    return w.sum() * np.sum(x ** 2) + w.T @ x


def test_a_parameter_read_by_array_methods_works_when_it_holds_an_array(rng):
    x, w = rand(rng, (3,)), rand(rng, (3,))
    check_grad(weighted_by_a_sum, (x, w), wrt=0)  # w is not differentiated: the module test is made
    check_grad(weighted_by_a_sum, (x, w), wrt=(0, 1))


def test_a_submodule_in_a_local_name_works(rng):
    f = sg.exec_source("def f(A):\n    la = np.linalg\n    return np.sum(la.inv(A) * A)\n", {"np": np})["f"]
    check_grad(f, (np.eye(3) * 2.0 + 0.1 * rand(rng, (3, 3)),))
