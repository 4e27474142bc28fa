"""Rule templates may use comprehensions and lambdas: their variables are the template's own,
neither parameters to substitute nor module names to resolve."""

import numpy as np

import sourcegrad as sg
from sourcegrad.rules import table
from sourcegrad.rules.table import adjoint, d, tangent


def scale_all(xs, k):
    return tuple(x * k for x in xs)


@adjoint(scale_all)
def _(y, xs, k):
    d[xs] = tuple(g * k for g in d[y])
    d[k] = sum(np.sum(g * x) for g, x in zip(d[y], xs))


@tangent(scale_all)
def _(y, xs, k):
    d[y] = tuple(map(lambda t, x: t * k + x * d[k], d[xs], xs))


def uses_scale_all(a, b, k):
    u, v = scale_all((a, b), k)
    return np.sum(u * v)


A, B, K = np.arange(3.0), np.array([1.0, -2.0, 0.5]), 2.0


def test_comprehension_variables_stay_local_in_reverse_mode():
    da, dk = sg.grad(uses_scale_all, wrt=(0, 2))(A, B, K)
    np.testing.assert_allclose(da, K * K * B)
    np.testing.assert_allclose(dk, 2 * K * np.sum(A * B))


def test_comprehension_and_lambda_variables_stay_local_in_forward_mode():
    _, tangent_out = sg.jvp(uses_scale_all, (A, B, K), (np.ones(3), np.zeros(3), 1.0))
    np.testing.assert_allclose(tangent_out, K * K * np.sum(B) + 2 * K * np.sum(A * B))


def teardown_module():
    table.ADJOINTS.pop(scale_all, None)
    table.TANGENTS.pop(scale_all, None)
