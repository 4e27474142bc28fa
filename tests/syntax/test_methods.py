"""Methods as differentiated functions: source found, ``self`` bound, its attributes read.

Gradients with respect to objects are in test_classes.py; reading an attribute that arrays do not
have a rule for (``y.flat`` of an array) is a clear error.
"""

import autograd.numpy as anp
import numpy as np
import pytest

import sourcegrad as sg
from helpers import autograd_grad, check_grad, numeric_grad, rand


class Scaled:
    def __init__(self, scale, offset):
        self.scale = scale
        self.offset = offset

    def loss(self, x, w):
        h = np.tanh(x * w) * self.scale
        return np.sum((h - self.offset) ** 2)

    @staticmethod
    def static_loss(x):
        return np.sum(np.sin(x) * x)

    @classmethod
    def class_loss(cls, x):
        return np.sum(np.exp(x) * 0.5)


def test_bound_method_wrt_counts_after_self(rng):
    model = Scaled(1.5, 0.25)
    x, w = rand(rng, (3,)), rand(rng, (3,))
    dw = sg.grad(model.loss, wrt=1)(x, w)
    np.testing.assert_allclose(dw, numeric_grad(model.loss, (x, w), 1), rtol=1e-6, atol=1e-8)
    dx, dw2 = sg.grad(model.loss, wrt=("x", "w"))(x, w)
    np.testing.assert_allclose(dw2, dw, rtol=1e-12)
    np.testing.assert_allclose(dx, numeric_grad(model.loss, (x, w), 0), rtol=1e-6, atol=1e-8)


def test_bound_method_reads_the_objects_current_attributes(rng):
    x, w = rand(rng, (3,)), rand(rng, (3,))
    small, large = Scaled(0.5, 0.0), Scaled(3.0, 0.0)
    g_small = sg.grad(small.loss, wrt=1)(x, w)
    g_large = sg.grad(large.loss, wrt=1)(x, w)
    np.testing.assert_allclose(g_large, g_small * 36.0, rtol=1e-10)  # d/dw of (s*tanh)^2 scales as s^2


def test_static_and_class_methods(rng):
    x = rand(rng, (4,))
    check_grad(Scaled.static_loss, (x,))
    check_grad(Scaled.class_loss, (x,))
    expected = autograd_grad(lambda v: anp.sum(anp.exp(v) * 0.5), (x,))
    np.testing.assert_allclose(sg.grad(Scaled.class_loss)(x), expected, rtol=1e-10)


def test_source_of_a_bound_gradient_is_the_generated_code():
    text = sg.source(sg.grad(Scaled(1.0, 0.0).loss, wrt=1))
    assert "def dloss(self, x, w, dout=1.0):" in text
    assert "self.scale" in text


def attribute_of_active_value(x):
    y = x * 2.0
    return np.sum(y.flat)


def test_attribute_of_an_active_value_is_an_error_not_a_zero(rng):
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(attribute_of_active_value)(rand(rng, (3,)))
    assert "y.flat" in str(err.value)
    assert err.value.location.lineno == attribute_of_active_value.__code__.co_firstlineno + 2
