"""Gradient surgery and hand-written rules: insert_grad_of, stop_gradient, check_nan, custom_vjp,
custom_jvp. Every gradient is checked numerically: against central differences of the function
the surgery describes (a clipped, scaled or truncated backward pass written out by hand), or of
the function itself where the surgery leaves the derivative alone.
"""

import io
import pdb
import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import check_grad, line_of, numeric_grad

import sourcegrad as sg
from sourcegrad import insert_grad_of

# --- insert_grad_of: Tangent's README example, verbatim but for the library names ----------------


def rnn(params, h):
    return np.tanh(params @ h)


def clipped_rnn(params, x):
    h = x
    for i in range(5):
        with insert_grad_of(h) as g:
            g = np.clip(g, -0.05, 0.05)
        h = rnn(params, h)
    return np.sum(h)


def clipped_rnn_by_hand(params, x):
    """The backward pass clipped_rnn describes, written out: clip dh before each step's adjoint."""
    hs = [x]
    for i in range(5):
        hs.append(np.tanh(params @ hs[-1]))
    dh, dparams = np.ones_like(x), np.zeros_like(params)
    for i in reversed(range(5)):
        dpre = dh * (1 - hs[i + 1] ** 2)
        dparams += np.outer(dpre, hs[i])
        dh = np.clip(params.T @ dpre, -0.05, 0.05)
    return dparams


def test_clipping_inside_a_loop_matches_the_hand_written_backward_pass(rng):
    params, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    got = sg.grad(clipped_rnn)(params, x)
    np.testing.assert_allclose(got, clipped_rnn_by_hand(params, x), rtol=1e-12, atol=1e-14)
    assert not np.allclose(got, sg.grad(_unclipped)(params, x)), "the clip should bind here"


def _unclipped(params, x):
    h = x
    for i in range(5):
        h = rnn(params, h)
    return np.sum(h)


def test_without_the_clip_the_gradient_is_the_true_one(rng):
    params, x = rng.normal(size=(3, 3)) * 0.3, rng.normal(size=3)
    check_grad(_unclipped, (params, x), wrt=0)
    wide = sg.grad(_wide_clip)(params, x)  # a clip that never binds leaves the derivative exact
    np.testing.assert_allclose(wide, numeric_grad(_unclipped, (params, x), wrt=0), rtol=1e-6, atol=1e-8)


def _wide_clip(params, x):
    h = x
    for i in range(5):
        with insert_grad_of(h) as g:
            g = np.clip(g, -1e6, 1e6)
        h = rnn(params, h)
    return np.sum(h)


def test_the_function_still_runs_undifferentiated(rng):
    params, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    assert clipped_rnn(params, x) == pytest.approx(_unclipped(params, x))


def scaled(a):
    b = a * a
    with insert_grad_of(a) as g:
        g = g * 0.9
    c = b * a
    return c


def test_scaling_at_a_point_of_the_backward_pass():
    # c = b * a gives a**2 to da; the block scales it by 0.9; b = a * a then adds 2 a**2.
    a = 1.7
    assert sg.grad(scaled)(a) == pytest.approx(2.9 * a * a, rel=1e-12)
    # forward mode has no backward pass: the block does not apply
    assert sg.autodiff(scaled, mode="forward")(a, 1.0) == pytest.approx(3 * a * a, rel=1e-12)


def logged(x, w):
    h = x * w
    with insert_grad_of(h) as dh:
        print("dh =", dh)
    return np.sum(np.sin(h))


def test_print_in_the_backward_pass_shows_the_gradient_there(rng, capsys):
    x, w = rng.normal(size=3), rng.normal(size=3)
    got = sg.grad(logged, wrt=1)(x, w)
    printed = capsys.readouterr().out
    dh = np.cos(x * w)
    assert printed.startswith("dh = ")
    np.testing.assert_allclose(np.array(printed[5:].strip(" []\n").split(), float), dh, rtol=1e-6)
    check_grad(logged, (x, w), wrt=1)  # printing changes nothing
    np.testing.assert_allclose(got, dh * x, rtol=1e-12)


def branchy(x, w):
    h = np.tanh(x * w)
    if np.sum(x) > 0:
        with insert_grad_of(h) as g:
            g = 2.0 * g
        y = h * h
    else:
        y = h + 1.0
    return np.sum(y)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_inserted_code_in_a_branch_runs_only_when_the_branch_ran(sign, rng):
    x, w = np.abs(rng.normal(size=3)) * sign, rng.normal(size=3)
    h = np.tanh(x * w)
    dh = 2.0 * (2 * h) if sign > 0 else np.ones(3)
    np.testing.assert_allclose(sg.grad(branchy, wrt=1)(x, w), dh * (1 - h * h) * x, rtol=1e-12)


# --- break: backpropagation stopped part way back through a loop ---------------------------------


def truncated(x, w):
    h = x
    for t in range(6):
        h = np.sin(h * w)
        with insert_grad_of(h) as dh:
            if t < 3:
                break
    return np.sum(h * h) + np.sum(w * x)


def truncated_by_hand(x, w, keep):
    """The same loss with the first 6 - keep steps computed at fixed values (no gradient)."""
    h = x
    for t in range(6 - keep):
        h = np.sin(h * w)
    start = h.copy()

    def tail(w):
        h = start
        for t in range(keep):
            h = np.sin(h * w)
        return np.sum(h * h) + np.sum(w * x)

    return numeric_grad(tail, (w,), wrt=0)


def test_break_stops_backpropagation_through_the_loop(rng):
    x, w = rng.normal(size=3), rng.normal(size=3) + 1.0
    got = sg.grad(truncated, wrt=1)(x, w)
    # the block runs after step t's adjoint: steps 5, 4, 3 are backpropagated, then t = 2 breaks
    np.testing.assert_allclose(got, truncated_by_hand(x, w, keep=3), rtol=1e-6, atol=1e-8)


def truncated_while(x, w):
    h = x
    n = 0
    while n < 5:
        h = np.tanh(h * w + 0.1)
        n = n + 1
        with insert_grad_of(h) as dh:
            if n < 3:
                break
    return np.sum(h)


def test_break_in_a_while_loop_keeps_the_tape_in_step(rng):
    x, w = rng.normal(size=3), rng.normal(size=3)
    got = sg.grad(truncated_while, wrt=(0, 1))(x, w)
    # steps n = 3, 4, 5 are backpropagated, from the h reached after two steps
    h2 = np.tanh(np.tanh(x * w + 0.1) * w + 0.1)
    dh_at_break = numeric_grad(lambda h: _three_steps(h, w), (h2,), wrt=0)
    np.testing.assert_allclose(got[1], numeric_grad(_tail_w(x, w), (w,), wrt=0), rtol=1e-6, atol=1e-8)
    # x is reached only through the stopped steps: its gradient is dh where backpropagation stopped
    np.testing.assert_allclose(got[0], dh_at_break, rtol=1e-6, atol=1e-8)


def _three_steps(h, w):
    for _ in range(3):
        h = np.tanh(h * w + 0.1)
    return np.sum(h)


def _tail_w(x, w0):
    h = x
    for _ in range(2):
        h = np.tanh(h * w0 + 0.1)
    return lambda w: _three_steps(h, w)


def test_surgery_is_differentiated_again(rng):
    a = 1.7  # d/da of the surgically scaled 2.9 a**2
    assert sg.grad(sg.grad(scaled))(a) == pytest.approx(5.8 * a, rel=1e-12)
    x, w = rng.normal(size=3), rng.normal(size=3) + 1.0
    dg = sg.grad(truncated, wrt=1)
    v = rng.normal(size=3)
    hv = sg.autodiff(dg, mode="forward", wrt=1)(x, w, 1.0, v)
    eps = 1e-6
    np.testing.assert_allclose(hv, (dg(x, w + eps * v) - dg(x, w - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-8)
    with pytest.raises(sg.TransformError, match="cannot be differentiated again in reverse mode"):
        sg.grad(dg, wrt=1)


# --- a breakpoint in the backward pass -----------------------------------------------------------


def with_breakpoint(x, w):
    h = np.sin(x * w)
    with insert_grad_of(h) as dh:
        pdb.set_trace()
    return np.sum(h * h)


def test_a_breakpoint_in_the_backward_pass_stops_there(rng, monkeypatch):
    x, w = rng.normal(size=3), rng.normal(size=3)
    commands, out = io.StringIO("p d_h.tolist()\nwhere\ncontinue\n"), io.StringIO()

    def set_trace():  # pdb.set_trace as the user would meet it, driven by scripted commands
        pdb.Pdb(stdin=commands, stdout=out, nosigint=True).set_trace(sys._getframe(1))

    monkeypatch.setattr(pdb, "set_trace", set_trace)
    got = sg.grad(with_breakpoint, wrt=1)(x, w)
    shown = out.getvalue()
    h = np.sin(x * w)
    assert str((2 * h).tolist()) in shown, shown  # the gradient of h, as the debugger printed it
    assert "<sourcegrad dwith_breakpoint" in shown, shown  # stopped inside the generated function
    np.testing.assert_allclose(got, 2 * h * np.cos(x * w) * x, rtol=1e-12)


# --- errors in inserted code ---------------------------------------------------------------------


def returns_inside(x):
    with insert_grad_of(x) as dx:
        return dx
    return x * x


def not_a_variable(x):
    with insert_grad_of(x * 2) as dx:
        dx = dx * 2
    return x * x


def other_with(x):
    with open("/dev/null") as fh:
        x = x * 2
    return x


@pytest.mark.parametrize("fn, text, line", [
    (returns_inside, "cannot `return`, `continue` or `yield`", "return dx"),
    (not_a_variable, "takes one variable", "with insert_grad_of"),
    (other_with, "a `with` statement", "with open"),
])  # fmt: skip
def test_malformed_blocks_are_errors_at_the_users_line(fn, text, line):
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(fn)(1.0)
    assert text in str(err.value)
    assert err.value.location.lineno == line_of(fn, line)


# --- stop_gradient --------------------------------------------------------------------------------


def baseline_scaled(x, w):
    scale = sg.stop_gradient(np.sum(x * x))
    return np.sum(np.sin(x * w)) * scale


def test_stop_gradient_in_both_modes(rng):
    x, w = rng.normal(size=3), rng.normal(size=3)
    s = np.sum(x * x)
    want_x = np.cos(x * w) * w * s
    np.testing.assert_allclose(sg.grad(baseline_scaled)(x, w), want_x, rtol=1e-12)
    v = rng.normal(size=3)
    np.testing.assert_allclose(sg.autodiff(baseline_scaled, mode="forward")(x, w, v), want_x @ v, rtol=1e-12)
    # the same derivative as autograd's, where the scale is a constant
    ag = autograd.grad(lambda x: anp.sum(anp.sin(x * w)) * s)(x)
    np.testing.assert_allclose(sg.grad(baseline_scaled)(x, w), ag, rtol=1e-12)
    assert baseline_scaled(x, w) == pytest.approx(np.sum(np.sin(x * w)) * s)


# --- check_nan ------------------------------------------------------------------------------------


def root(z):
    return np.sqrt(z)


def has_a_sqrt_at_zero(x):
    y = x * x
    z = root(y - 1.0)
    return np.sum(z * 2.0)


def test_check_nan_names_the_user_line(recwarn):
    df = sg.grad(has_a_sqrt_at_zero, check_nan=True)
    with pytest.raises(sg.NonFiniteGradient) as err:
        df(np.array([1.0, 2.0]))
    where = f"test_surgery.py:{line_of(root, 'return np.sqrt(z)')}: return np.sqrt(z)"
    assert where in str(err.value)
    assert "'dz'" in str(err.value)


def test_check_nan_leaves_finite_gradients_alone(rng):
    x = rng.uniform(1.5, 2.0, size=3)
    np.testing.assert_allclose(sg.grad(has_a_sqrt_at_zero, check_nan=True)(x), sg.grad(has_a_sqrt_at_zero)(x))
    check_grad(has_a_sqrt_at_zero, (x,))
    assert "check_finite" in sg.source(sg.grad(has_a_sqrt_at_zero, check_nan=True))
    assert "check_finite" not in sg.source(sg.grad(has_a_sqrt_at_zero))


# --- custom_vjp and custom_jvp --------------------------------------------------------------------


@sg.custom_vjp
def softplus(x, beta):
    return np.log1p(np.exp(beta * x)) / beta


def softplus_fwd(x, beta):
    return softplus(x, beta), (x, beta)


def softplus_bwd(res, g):
    x, beta = res
    s = 1.0 / (1.0 + np.exp(-beta * x))
    dbeta = g * (x * s - np.log1p(np.exp(beta * x)) / beta) / beta
    return g * s, np.sum(dbeta)


softplus.defvjp(softplus_fwd, softplus_bwd)


@sg.custom_jvp
def cube(x):
    return x * x * x


@cube.defjvp
def cube_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return cube(x), 3.0 * x * x * x_dot


def uses_both(x, beta):
    return np.sum(softplus(x, beta) * cube(x))


def test_custom_rules_give_the_true_derivative(rng):
    x, beta = rng.normal(size=3), 1.5
    check_grad(uses_both, (x, beta), wrt=0)
    check_grad(uses_both, (x, beta), wrt=1)


def test_custom_rules_are_called_by_their_own_names():
    text = sg.source(sg.grad(uses_both))
    assert "softplus_fwd(x, beta)" in text and "softplus_bwd(" in text
    assert "cube_jvp((x,), (x_dot,))" in sg.source(sg.autodiff(uses_both, mode="forward"))


@sg.custom_vjp
def doubled_gradient(x):
    return np.sin(x)


doubled_gradient.defvjp(lambda x: (np.sin(x), x), lambda x, g: (2.0 * g * np.cos(x),))


def test_a_custom_rule_overrides_the_functions_own_derivative(rng):
    x = rng.normal(size=3)
    np.testing.assert_allclose(sg.grad(lambda_free)(x), 2.0 * np.cos(x), rtol=1e-12)
    # grad of the decorated function itself uses the rule too
    np.testing.assert_allclose(sg.grad(doubled_gradient)(x, np.ones(3)), 2.0 * np.cos(x), rtol=1e-12)
    # forward mode has no rule here: it differentiates the function's own source
    np.testing.assert_allclose(sg.autodiff(lambda_free, mode="forward")(x, np.ones(3)), np.sum(np.cos(x)), rtol=1e-12)


def lambda_free(x):
    return np.sum(doubled_gradient(x))


def test_registration_checks_the_rule_signatures():
    @sg.custom_vjp
    def f(x, y):
        return x * y

    with pytest.raises(sg.SourcegradError, match="takes 1 parameter"):
        f.defvjp(lambda x: (x, ()), lambda res, g: (g, g))
    with pytest.raises(sg.SourcegradError, match="backward function"):
        f.defvjp(lambda x, y: (x * y, ()), lambda g: (g, g))
    with pytest.raises(sg.SourcegradError, match="JVP rule"):
        sg.custom_jvp(f).defjvp(lambda primals: primals)
