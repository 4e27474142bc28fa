"""x ** n at x = 0 for integer n, and an exponent from a loop index under second derivatives."""

import numpy as np

import sourcegrad as sg


def vandermonde(x):
    return np.sum(np.stack([x**k for k in range(3)], axis=1) @ np.array([1.0, 2.0, 3.0]))


def poly(c, x):
    return sum(c[k] * x**k for k in range(3))


def indexed_powers(x):
    out = 0.0
    for i, (p, q) in enumerate(zip(x, x[::-1])):
        out = out + p * q ** (i + 1)
    return out


def test_integer_powers_at_zero():
    x = np.array([0.0, 1.0])
    assert np.allclose(sg.grad(vandermonde)(x), 2.0 + 6.0 * x)
    assert np.allclose(sg.autodiff(vandermonde, mode="forward")(x, np.array([1.0, 0.0])), 2.0)
    assert sg.grad(poly, wrt=1)(np.array([1.0, 2.0, 3.0]), 0.0) == 2.0


def test_power_in_the_exponent_at_zero_is_zero():
    def f(y):
        return np.sum(np.array([0.0, 2.0]) ** y)

    assert np.allclose(sg.grad(f)(1.5), np.log(2.0) * 2.0**1.5)


def test_hessian_with_a_loop_index_exponent_of_negative_bases():
    x, v = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.7, 1.1])
    g = sg.grad(indexed_powers)
    expected = (g(x + 1e-5 * v) - g(x - 1e-5 * v)) / 2e-5
    assert np.allclose(sg.hvp(indexed_powers)(x, v), expected, atol=1e-6)
    assert np.all(np.isfinite(sg.hessian(indexed_powers)(x)))
