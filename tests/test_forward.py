"""Forward mode through the public API: autodiff(mode='forward') and jvp.

Every syntax test also checks forward mode (``helpers.check_forward``); these cover the API itself.
"""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import sourcegrad as sg
from helpers import make, numeric_grad, rand


def mlp(W1, b1, W2, x):
    h = np.tanh(x @ W1 + b1)
    return np.mean((h @ W2) ** 2)


def test_directional_derivative_matches_gradient_and_finite_differences(rng):
    args = (rand(rng, (4, 5)), rand(rng, (5,)), rand(rng, (5, 2)), rand(rng, (3, 4)))
    v = rand(rng, (4, 5))
    f_dot = sg.autodiff(mlp, mode="forward", wrt=0)
    eps = 1e-6
    fd = (mlp(args[0] + eps * v, *args[1:]) - mlp(args[0] - eps * v, *args[1:])) / (2 * eps)
    np.testing.assert_allclose(f_dot(*args, v), fd, rtol=1e-6)
    np.testing.assert_allclose(f_dot(*args, v), np.sum(numeric_grad(mlp, args, 0) * v), rtol=1e-6)


def test_preserve_result_returns_derivative_then_value(rng):
    args = (rand(rng, (4, 5)), rand(rng, (5,)), rand(rng, (5, 2)), rand(rng, (3, 4)))
    derivative, value = sg.autodiff(mlp, mode="forward", wrt=(0, 1), preserve_result=True)(
        *args, rand(rng, (4, 5)), rand(rng, (5,))
    )
    assert value == mlp(*args)
    assert np.ndim(derivative) == 0


SRC = """
def f(x, w):
    h = x
    for i in range(3):
        if np.sum(h) > 0:
            h = np.sin(h) * w
        else:
            h = h * h + w
    return h
"""


@pytest.mark.parametrize("offset", [0.5, -0.5])
def test_jvp_against_autograd_on_a_vector_output(offset, rng):
    f_np, f_ag = make(SRC)
    x, w = rand(rng, (3,)) * 0.1 + offset, rand(rng, (3,))
    vx, vw = rand(rng, (3,)), rand(rng, (3,))
    y, ty = sg.jvp(f_np, (x, w), (vx, vw))
    np.testing.assert_allclose(y, f_np(x, w), rtol=1e-12)
    tx = autograd.make_jvp(lambda a: f_ag(a, w))(x)(vx)[1]
    tw = autograd.make_jvp(lambda b: f_ag(x, b))(w)(vw)[1]
    np.testing.assert_allclose(ty, tx + tw, rtol=1e-10)


def inner(h, W, scale=1.0):
    return np.tanh(h @ W) * scale


def outer(W, x):
    h = inner(x, W)
    return np.sum(inner(h, W, scale=2.0))


def test_forward_through_user_functions(rng):
    W, x, v = rand(rng, (3, 3)), rand(rng, (2, 3)), rand(rng, (3, 3))
    _, tangent = sg.jvp(outer, (W, x), (v, np.zeros((2, 3))))
    np.testing.assert_allclose(tangent, np.sum(numeric_grad(outer, (W, x), 0) * v), rtol=1e-6)
    assert "def inner_jvp(" in sg.source(sg.autodiff(outer, mode="forward"))


def test_jvp_needs_one_tangent_per_primal(rng):
    with pytest.raises(sg.SourcegradError, match="tangents"):
        sg.jvp(outer, (rand(rng, (3, 3)), rand(rng, (2, 3))), (rand(rng, (3, 3)),))


def test_unknown_mode_is_an_error():
    with pytest.raises(sg.SourcegradError, match="sideways"):
        sg.autodiff(outer, mode="sideways")


def test_a_sum_whose_other_term_is_constant_keeps_the_broadcast_shape():
    """`r = y - m` with only the scalar m varying: r's tangent has y's shape, not m's."""

    def f(m, y):
        r = y - m
        return np.dot(r, r) + np.sum(np.sin(y + m))

    y = np.array([1.0, 2.0, 3.0])
    m = 0.5
    expected = -2.0 * np.sum(y - m) + np.sum(np.cos(y + m))
    assert sg.autodiff(f, mode="forward", wrt=0)(m, y, 1.0) == pytest.approx(expected, rel=1e-12)
    assert sg.jvp(f, (m, y), (1.0, np.zeros(3)))[1] == pytest.approx(expected, rel=1e-12)
    second = 2.0 * y.size - np.sum(np.sin(y + m))
    assert sg.hessian(f)(m, y) == pytest.approx(second, rel=1e-12)
