"""Dtypes of differentiated arguments (docs/dtypes.md): float32 stays float32 through generated
gradients (reverse and forward), with values that agree with the float64 gradient to float32
precision; every float dtype is accepted; integer and boolean arguments are refused with an error
naming the parameter, by every entry point, while integer arguments outside wrt keep working.
Complex arguments: tests/test_complex.py."""

import functools
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import autograd_grad, check_grad, numeric_grad

import sourcegrad as sg
from sourcegrad.inputs import IntegerInput


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


# --- integer and boolean inputs get no gradient ---------------------------------------------------
#
# A derivative with respect to a value that moves in whole steps is not defined. JAX's grad raises
# TypeError for integer and boolean inputs, Python ints included, unless allow_int=True; PyTorch
# refuses requires_grad on integer tensors. autograd raises TypeError("Can't differentiate w.r.t.
# type <class 'int'>") for Python ints and bools and NumPy integer and boolean scalars (it has no
# vector space for them), but takes an integer or boolean array and returns a float gradient (its
# TypeError for an integer array comes only from an integer output). sourcegrad follows JAX:
# IntegerInput (a SourcegradError and a TypeError) names the parameter and the remedy; for an
# array, the remedy (a float array) gives the gradient autograd returns. Arguments that are not
# differentiated (indices, counts, masks) are not checked.


def gather(W, idx, mask, n):
    """A loss with an index array, a boolean mask and a count beside the weights W."""
    total = 0.0
    for i in range(n):
        total = total + np.sum(np.where(mask, np.tanh(W[idx] * (i + 1.0)), 0.0) ** 2)
    return total


def gather_ag(W, idx, mask, n):
    total = 0.0
    for i in range(n):
        total = total + anp.sum(anp.where(mask, anp.tanh(W[idx] * (i + 1.0)), 0.0) ** 2)
    return total


def gather_args(rng):
    return rng.normal(size=5), np.array([0, 3, 3, 1]), np.array([True, False, True, True]), 2


def cubic(x):
    return np.sum(x * x * x - 2.0 * x)


INTEGER_VALUES = {
    "int64 array": np.array([1, -2, 3]),
    "uint8 array": np.array([1, 2, 3], dtype=np.uint8),
    "bool array": np.array([True, False, True]),
    "int64 scalar": np.int64(2),
    "bool scalar": np.bool_(True),
    "Python int": 2,
    "Python bool": True,
}

# Every public way to differentiate cubic with respect to its parameter x, called on x.
ENTRY_POINTS = {
    "grad": lambda x: sg.grad(cubic)(x),
    "grad(wrt='x')": lambda x: sg.grad(cubic, wrt="x")(x),
    "value_and_grad": lambda x: sg.value_and_grad(cubic)(x),
    "autodiff forward": lambda x: sg.autodiff(cubic, mode="forward")(
        x, np.ones_like(x, dtype=float)
    ),
    "jacobian": lambda x: sg.jacobian(cubic)(x),
    "jacobian forward": lambda x: sg.jacobian(cubic, mode="forward")(x),
    "hessian": lambda x: sg.hessian(cubic)(x),
    "hvp": lambda x: sg.hvp(cubic)(x, np.ones_like(x, dtype=float)),
    "vjp": lambda x: sg.vjp(cubic, x)[1](1.0),
    "jvp": lambda x: sg.jvp(cubic, (x,), (np.ones_like(x, dtype=float),))[1],
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("kind", sorted(INTEGER_VALUES))
def test_integer_or_bool_argument_is_refused_by_every_entry_point(entry, kind):
    x = INTEGER_VALUES[kind]
    ag_cubic = autograd.grad(lambda v: anp.sum(v * v * v - 2.0 * v))
    if np.ndim(x) == 0:
        with pytest.raises(TypeError, match="Can't differentiate w.r.t. type"):  # autograd too
            ag_cubic(x)
    with pytest.raises(IntegerInput) as info:
        ENTRY_POINTS[entry](x)
    err = info.value
    assert isinstance(err, sg.SourcegradError) and isinstance(err, TypeError)
    text = str(err)
    assert "(cubic): the differentiated parameter 'x' is " in text
    if hasattr(x, "dtype"):
        what = {"b": "boolean", "u": "unsigned integer", "i": "integer"}[x.dtype.kind]
        assert f"{what} {'array' if np.ndim(x) else 'scalar'} (dtype {x.dtype})" in text
    else:
        assert f"the Python {type(x).__name__} {x!r}" in text
    assert "What to do: pass a float" in text and "if it is an index, a count or a mask" in text
    assert err.location is not None and err.location.filename == __file__  # the user's call line
    # The remedy works: as a float, the same argument gets the gradient that finite differences
    # and autograd give.
    x_float = np.asarray(x, dtype=float) if hasattr(x, "dtype") else float(x)
    got = sg.grad(cubic)(x_float)
    np.testing.assert_allclose(got, numeric_grad(cubic, (x_float,)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, ag_cubic(x_float))
    if np.ndim(x):  # autograd takes the integer array itself and gives this float gradient
        np.testing.assert_allclose(got, ag_cubic(x))


def test_remedies_name_the_fix_for_arrays_and_python_numbers():
    with pytest.raises(
        IntegerInput, match=r"pass a float array \(x\.astype\(float\)\).*leave 'x' out of wrt"
    ):
        sg.grad(cubic)(np.arange(3))
    with pytest.raises(IntegerInput, match=r"pass a float \(2\.0 rather than 2\)"):
        sg.grad(cubic)(2)
    with pytest.raises(
        IntegerInput, match=r"hold 'x' fixed \(sg\.vjp of a lambda or functools\.partial"
    ):
        sg.vjp(cubic, np.arange(3))


def test_index_mask_and_count_arguments_are_not_checked(rng):
    args = gather_args(rng)
    got = sg.grad(gather)(*args)
    np.testing.assert_allclose(got, numeric_grad(gather, args, 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, autograd_grad(gather_ag, args, 0), rtol=1e-12)
    value, g = sg.value_and_grad(gather)(*args)
    assert value == pytest.approx(gather(*args)) and np.allclose(g, got)
    v = rng.normal(size=5)
    tangent = sg.autodiff(gather, mode="forward")(*args, v)
    assert tangent == pytest.approx(float(np.sum(got * v)), rel=1e-10)
    H = sg.hessian(gather)(*args)
    np.testing.assert_allclose(H @ v, sg.hvp(gather)(*args, v), rtol=1e-10, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # autograd: "Output seems independent of input" for rows
        np.testing.assert_allclose(H, autograd.hessian(gather_ag)(*args), rtol=1e-8, atol=1e-10)


def test_integer_argument_outside_wrt_named_by_the_error(rng):
    W, idx, mask, n = gather_args(rng)
    # idx differentiated by mistake (wrt=1): the error names idx, not W.
    with pytest.raises(
        IntegerInput,
        match=r"sg\.grad\(gather\): the differentiated parameter 'idx' is an integer array",
    ):
        sg.grad(gather, wrt=1)(W, idx, mask, n)
    with pytest.raises(IntegerInput, match="parameter 'mask' is a boolean array"):
        sg.grad(gather, wrt=(0, "mask"))(W, idx, mask, n)
    with pytest.raises(IntegerInput, match="parameter 'n' is the Python int 2"):
        sg.jacobian(gather, wrt="n")(W, idx, mask, n)
    # Passed by keyword, the argument is checked as well.
    with pytest.raises(IntegerInput, match="parameter 'W' is an integer array"):
        sg.grad(gather)(W=np.arange(5), idx=idx, mask=mask, n=n)
    got = sg.grad(gather)(W=W, idx=idx, mask=mask, n=n)
    np.testing.assert_allclose(
        got, numeric_grad(gather, (W, idx, mask, n), 0), rtol=1e-6, atol=1e-8
    )


class Scaled:
    def __init__(self, k):
        self.k = k

    def loss(self, x, idx):
        return np.sum(np.sin(x[idx] * self.k))


def test_methods_and_partials_name_the_parameter_the_user_sees(rng):
    model, x, idx = Scaled(1.5), rng.normal(size=4), np.array([2, 0])
    with pytest.raises(IntegerInput, match=r"sg\.grad\(loss\): the differentiated parameter 'x'"):
        sg.grad(model.loss)(np.arange(4), idx)
    got = sg.grad(model.loss)(x, idx)
    np.testing.assert_allclose(got, numeric_grad(model.loss, (x, idx), 0), rtol=1e-6, atol=1e-8)
    bound = functools.partial(gather, mask=np.array([True, True, False, True]), n=1)
    with pytest.raises(IntegerInput, match="parameter 'W' is an integer array"):
        sg.grad(bound)(np.arange(5), np.array([0, 1, 2, 4]))
    args = (rng.normal(size=5), np.array([0, 1, 2, 4]))
    np.testing.assert_allclose(
        sg.grad(bound)(*args), numeric_grad(bound, args, 0), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_every_float_dtype_is_accepted(dtype, rng):
    x = rng.normal(size=3).astype(dtype)
    got = sg.grad(cubic)(x)
    assert got.dtype == dtype
    want = numeric_grad(cubic, (x.astype(np.float64),))
    np.testing.assert_allclose(
        got.astype(np.float64), want, rtol=5e-3 if dtype == np.float16 else 1e-5
    )
    scalar = dtype(0.7)
    np.testing.assert_allclose(float(sg.grad(cubic)(scalar)), 3 * 0.7**2 - 2.0, rtol=5e-3)


def _mixed_precision(x):
    return x * 2.123456789 + np.float32(1.0) * x + np.sum(np.float32(0.5) * x ** 2)


@pytest.mark.parametrize("x", [np.float64(1.5), np.array(1.5), np.array([1.5, -0.25])], ids=["scalar", "0-d", "1-d"])
def test_a_float32_constant_does_not_lower_a_float64_gradient(x):
    """f computes in float64 (x is float64; NumPy promotes the float32 constants): the gradient is
    float64 too. The default seed 1.0 is a Python float, which NEP 50 lets a float32 constant in
    the backward pass turn into float32; the seed takes the output's type instead."""
    g = sg.grad(_mixed_precision)(x)
    assert np.asarray(_mixed_precision(x)).dtype == np.float64
    assert np.asarray(g).dtype == np.float64
    expected = autograd.grad(lambda v: anp.sum(v * 2.123456789 + np.float32(1.0) * v + anp.sum(np.float32(0.5) * v ** 2)))(x)
    np.testing.assert_allclose(g, expected, rtol=1e-12)
    h = np.float64(1e-6)  # float64 steps: a Python float x would make f itself float32
    basis = np.eye(x.size).reshape((x.size, *x.shape)) if x.ndim else [np.float64(1.0)]
    central = [(np.sum(_mixed_precision(x + h * e)) - np.sum(_mixed_precision(x - h * e))) / (2 * h) for e in basis]
    np.testing.assert_allclose(g, np.reshape(central, np.shape(x)), rtol=1e-7)
