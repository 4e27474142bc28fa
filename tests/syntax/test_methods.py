"""Methods as differentiated functions: source found, ``self`` bound, its attributes read.

Gradients with respect to objects are in test_classes.py; reading an attribute that arrays do not
have a rule for (``y.strides`` of an array) is a clear error.
"""

import re
import sys

import autograd.numpy as anp
import numpy as np
import pytest

import sourcegrad as sg
from helpers import autograd_grad, check_against_autograd, check_grad, make, numeric_grad, rand


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
    return np.sum(y.strides)


def test_attribute_of_an_active_value_is_an_error_not_a_zero(rng):
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(attribute_of_active_value)(rand(rng, (3,)))
    assert "y.strides" in str(err.value)
    assert err.value.location.lineno == attribute_of_active_value.__code__.co_firstlineno + 2


# --- array methods with rules: x.astype(dtype), x.item(i) (rules/runtime.py) ----------------------

ASTYPE = """
def f(x):
    y = x.astype(np.float64)
    return np.sum(np.sin(y) * x)
"""

ASTYPE_32 = """
def f(x):
    y = x.astype(np.float32)
    return np.sum(y ** 2)
"""


def test_astype_to_a_float_dtype_passes_the_derivative_in_both_modes(rng):
    x = rand(rng, (3,))
    check_against_autograd(ASTYPE, (x,))
    f_np, f_ag = make(ASTYPE_32)  # through float32: finite differences would see its rounding
    got = sg.grad(f_np)(x)
    assert got.dtype == np.float64  # the cotangent is cast back to x's dtype
    np.testing.assert_allclose(got, autograd_grad(f_ag, (x,)), rtol=1e-12)
    np.testing.assert_allclose(got, 2 * x, rtol=1e-6)
    t = rand(rng, (3,))
    np.testing.assert_allclose(sg.autodiff(f_np, mode="forward")(x, t), np.sum(2 * x * t), rtol=1e-6)


def astype_to_int(x):
    k = (x * 3.0).astype(np.int64)
    return np.sum(k * x) + np.sum(x ** 2)


def test_astype_to_an_integer_dtype_has_no_derivative(rng):
    x = np.array([0.35, -0.2, 0.8])  # away from where x * 3 crosses an integer
    check_grad(astype_to_int, (x,))


def item_squared(x):
    return x.item(1) ** 2 + x.item((0, 2)) * x.item(0, 0) + np.sum(x) * x[1, 1].item()


def test_item_reads_one_entry_in_both_modes(rng):
    x = rand(rng, (2, 3))
    check_grad(item_squared, (x,))


# A method written in C that has no rule, bound to a differentiated value, used to give a zero
# tangent in forward mode (the call's receiver was read as a function without a derivative).
def view_of_active(x):
    return np.sum(x.view() ** 2)


def tolist_of_active(x):
    return sum(x.tolist())


@pytest.mark.parametrize("f, name", [(view_of_active, ".view()"), (tolist_of_active, ".tolist()")])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_c_method_without_a_rule_of_an_active_value_is_an_error_not_a_zero(rng, f, name, mode):
    x = rand(rng, (3,))
    with pytest.raises(TypeError, match=re.escape(f"the method '{name}' of a ndarray value being differentiated has no")) as err:
        if mode == "reverse":
            sg.grad(f)(x)
        else:
            sg.autodiff(f, mode="forward")(x, np.ones(3))
    if sys.version_info >= (3, 11):  # exception notes (the user's line) exist from 3.11
        assert f"test_methods.py\", line {f.__code__.co_firstlineno + 1}" in "".join(err.value.__notes__)


def searchsorted_weight(x):
    return np.sum(x * x.searchsorted(0.0))


def test_c_method_with_an_integer_result_has_no_derivative(rng):
    x = np.sort(rand(rng, (4,)))
    check_grad(searchsorted_weight, (x,))


# --- `x.flat[i]` reads `np.ravel(x)[i]` (it raised a raw TypeError in reverse mode) -------------

def flat_of_an_argument(M):
    return np.sum(M.flat[::2] ** 2) + M.flat[1] * M.flat[-1]


def flat_of_a_local(M):
    y = np.sin(M) * 2.0
    return np.sum(y.flat[[0, 3, 3]] ** 3)


def flat_through_a_value(M):
    y = _passed(M)                   # not surely an array: sg.array_attribute decides
    return np.sum(np.exp(y.flat[1:4]))


def _passed(v):
    return v


@pytest.mark.parametrize("f, f_ag", [
    (flat_of_an_argument, lambda M: anp.sum(anp.ravel(M)[::2] ** 2) + anp.ravel(M)[1] * anp.ravel(M)[-1]),
    (flat_of_a_local, lambda M: anp.sum(anp.ravel(anp.sin(M) * 2.0)[anp.array([0, 3, 3])] ** 3)),
    (flat_through_a_value, lambda M: anp.sum(anp.exp(anp.ravel(M)[1:4]))),
])
def test_flat_index_reads_the_raveled_array(rng, f, f_ag):
    import autograd

    M = rand(rng, (2, 3))
    got = check_grad(f, (M,))
    np.testing.assert_allclose(got, autograd.grad(f_ag)(M), rtol=1e-12)
    np.testing.assert_allclose(sg.hessian(f)(M), autograd.hessian(f_ag)(M), rtol=1e-10, atol=1e-12)


def test_a_write_through_flat_is_refused():
    def f(x):
        y = x * 2.0
        y.flat[1] = 0.0
        return np.sum(y)

    with pytest.raises(sg.UnsupportedSyntax, match="a write through `.flat`"):
        sg.grad(f)(np.ones(3))
