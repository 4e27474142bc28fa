"""float32 stays float32 through generated gradients (reverse and forward), with values that agree
with the float64 gradient to float32 precision."""

import numpy as np
import pytest
from helpers import check_grad

import sourcegrad as sg


def layer_loss(x, w):
    return np.sum(np.tanh(x @ w) ** 2) + np.mean(np.exp(0.1 * w))


def looped(x, w):
    h = x
    for i in range(3):
        h = np.sin(h * w) + 0.5 * h
    return np.sum(h * h)


@pytest.mark.parametrize("f, shapes", [(layer_loss, ((4, 3), (3, 2))), (looped, ((3,), (3,)))])
def test_float32_gradients_stay_float32(f, shapes, rng):
    x64, w64 = (rng.normal(size=s) for s in shapes)
    check_grad(f, (x64, w64), wrt=(0, 1))  # the float64 gradient is right
    x32, w32 = x64.astype(np.float32), w64.astype(np.float32)
    want = sg.grad(f, wrt=(0, 1))(x64, w64)
    got = sg.grad(f, wrt=(0, 1))(x32, w32)
    for g, g64 in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-5)
    v = np.ones_like(x32)
    tangent = sg.autodiff(f, mode="forward", wrt=0)(x32, w32, v)
    assert np.asarray(tangent).dtype == np.float32
    np.testing.assert_allclose(tangent, np.sum(want[0] * v), rtol=1e-4)
