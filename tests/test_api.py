"""The public API: grad and its options, value_and_grad, vjp, autodiff, source, exec_source,
caching, and the errors a user sees."""

import os
import traceback
import warnings

import autograd
import numpy as np
import pytest
from helpers import (
    assert_grad_close,
    check_against_autograd,
    check_grad,
    line_of,
    make,
    numeric_grad,
    positive,
    rand,
)

import sourcegrad as sg


def predict(W, b, x):
    return np.sum(np.tanh(x @ W + b) ** 2)


def predict_args(rng):
    return rand(rng, (3, 2)), rand(rng, (2,)), rand(rng, (4, 3))


# --- wrt ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrt", [0, 1, 2, "W", "b", "x"])
def test_wrt_single(wrt, rng):
    args = predict_args(rng)
    g = check_grad(predict, args, wrt=wrt)
    assert not isinstance(g, tuple)


@pytest.mark.parametrize(
    "wrt", [(0, 1), ("W", "b"), (0, "b", 2), [1, 0], (2,), ("x", "W")], ids=str
)
def test_wrt_tuple(wrt, rng):
    args = predict_args(rng)
    g = check_grad(predict, args, wrt=wrt)
    assert isinstance(g, tuple) and len(g) == len(wrt)


def test_default_wrt_is_first_argument(rng):
    args = predict_args(rng)
    np.testing.assert_allclose(sg.grad(predict)(*args), sg.grad(predict, wrt=0)(*args))


# --- seeds and non-scalar outputs --------------------------------------------------------------


def vector_out(x, W):
    return np.tanh(x @ W)


def test_non_scalar_output_default_seed_is_sum(rng):
    x, W = rand(rng, (2, 3)), rand(rng, (3, 4))
    got = sg.grad(vector_out, wrt=(0, 1))(x, W)
    assert_grad_close(got, numeric_grad(vector_out, (x, W), (0, 1)), (x, W), (0, 1), vector_out)


# Non-scalar outputs whose adjoint rules take the cotangent apart, transpose or reshape it: the
# default seed 1.0 is spread over the output (sg.seed_like), so each rule sees a cotangent of its
# value's shape. While the seed stayed a float these raised or gave a gradient of the wrong shape.
NON_SCALAR = {
    "transpose": "def f(X):\n    return X.T * 2.0\n",
    "reshape": "def f(X):\n    return np.reshape(X, (3, 2)) * np.sin(np.reshape(X, (3, 2)))\n",
    "stack": "def f(X):\n    return np.stack([X, X * X])\n",
    "concatenate": "def f(X):\n    return np.concatenate([X, np.tanh(X)])\n",
    "matmul": "def f(X):\n    return X @ X.T\n",
    "cumsum": "def f(X):\n    return np.cumsum(X * X)\n",
    "reversed_rows": "def f(X):\n    return X[::-1] * X[0]\n",
    "tuple_of_arrays": "def f(X):\n    return (X * 2.0, np.sin(X) * X)\n",
}


@pytest.mark.parametrize("name", sorted(NON_SCALAR))
def test_non_scalar_output_is_the_gradient_of_its_sum(name, rng):
    x = rand(rng, (2, 3))
    check_against_autograd(NON_SCALAR[name], (x,))
    f_np = sg.exec_source(NON_SCALAR[name], {"np": np})["f"]
    _, pullback = sg.vjp(f_np, x)
    np.testing.assert_allclose(pullback(1.0)[0], sg.grad(f_np)(x), rtol=1e-12)


def test_seed_is_spread_only_where_the_output_may_be_an_array():
    assert "seed_like" in sg.source(sg.grad(vector_out))
    assert "seed_like" not in sg.source(sg.grad(sqrt_sum))  # np.sum(...) is surely a number


def _per_example(W, x):
    return np.sum(np.tanh(x @ W.T) ** 2) / x.shape[0] + x.ndim * np.sum(W) / W.size


def test_a_sum_divided_by_a_shape_entry_is_surely_a_number(rng):
    """`np.sum(...) / x.shape[0]`: an entry of a shape is a number, so the output needs no spread
    seed, and the unbroadcast to the sum's shape is the identity: the forward np.sum is dead."""
    text = sg.source(sg.grad(_per_example))
    assert "seed_like" not in text and "np.sum(out" not in text
    W, x = rand(rng, (3, 4)), rand(rng, (5, 4))
    check_grad(_per_example, (W, x), wrt=(0, 1))


def test_explicit_seed(rng):
    x, W = rand(rng, (2, 3)), rand(rng, (3, 4))
    seed = rand(rng, (2, 4))
    got = sg.grad(vector_out, wrt=(0, 1))(x, W, seed)
    expected = numeric_grad(vector_out, (x, W), (0, 1), seed=seed)
    assert_grad_close(got, expected, (x, W), (0, 1), vector_out)


def test_scalar_seed_scales(rng):
    args = predict_args(rng)
    g1 = sg.grad(predict)(*args)
    g3 = sg.grad(predict)(*args, 3.0)
    np.testing.assert_allclose(g3, 3.0 * g1, rtol=1e-12)


# --- preserve_result, value_and_grad, autodiff -------------------------------------------------


def test_preserve_result(rng):
    args = predict_args(rng)
    g, value = sg.grad(predict, wrt=1, preserve_result=True)(*args)
    assert value == pytest.approx(predict(*args), rel=1e-12)
    np.testing.assert_allclose(g, sg.grad(predict, wrt=1)(*args), rtol=1e-12)
    assert np.shape(g) == (2,)


def test_value_and_grad(rng):
    args = predict_args(rng)
    value, g = sg.value_and_grad(predict, wrt=0)(*args)
    assert value == pytest.approx(predict(*args), rel=1e-12)
    assert_grad_close(g, numeric_grad(predict, args, 0), args, 0, predict)


def test_value_and_grad_tuple_wrt(rng):
    args = predict_args(rng)
    value, (dW, db) = sg.value_and_grad(predict, wrt=("W", "b"))(*args)
    assert value == pytest.approx(predict(*args), rel=1e-12)
    assert_grad_close((dW, db), numeric_grad(predict, args, (0, 1)), args, (0, 1), predict)


def test_autodiff_alias(rng):
    args = predict_args(rng)
    g = sg.autodiff(predict, mode="reverse", wrt=(0, 1))(*args)
    assert_grad_close(g, numeric_grad(predict, args, (0, 1)), args, (0, 1), predict)


def test_optimized_false_gives_same_gradient(rng):
    args = predict_args(rng)
    fast = sg.grad(predict, wrt=(0, 1, 2))(*args)
    plain = sg.grad(predict, wrt=(0, 1, 2), optimized=False)(*args)
    for a, b in zip(fast, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# --- vjp ---------------------------------------------------------------------------------------

VJP_SRC = """
def f(x, W):
    return np.sin(x @ W) * x[:, :1]
"""


def test_vjp_non_scalar_output(rng):
    f_np, f_ag = make(VJP_SRC)
    x, W = rand(rng, (2, 3)), rand(rng, (3, 4))
    seed = rand(rng, (2, 4))
    out, pullback = sg.vjp(f_np, x, W)
    np.testing.assert_allclose(out, f_np(x, W), rtol=1e-12)
    grads = pullback(seed)
    assert isinstance(grads, tuple) and len(grads) == 2
    for i, g in enumerate(grads):
        vjp_ag, _ = autograd.make_vjp(f_ag, argnum=i)(x, W)
        np.testing.assert_allclose(g, vjp_ag(seed), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            g, numeric_grad(f_np, (x, W), i, seed=seed), rtol=1e-6, atol=1e-8
        )


def test_vjp_pullback_is_reusable(rng):
    x = rand(rng, (3,))
    _, pullback = sg.vjp(np_sin_square, x)
    for _ in range(2):
        seed = rand(rng, (3,))
        (dx,) = pullback(seed)
        np.testing.assert_allclose(dx, seed * 2.0 * np.sin(x) * np.cos(x), rtol=1e-12)


def np_sin_square(x):
    return np.sin(x) ** 2


def looped_through_a_callee(x):
    s = x
    for i in range(3):
        s = np_sin_square(s) * x
    while np.sum(s) > 0.1:
        s = s * 0.5
    return s


def test_vjp_pullback_with_tapes_is_reusable(rng):
    """A loop, a while loop and a callee save on tapes that the backward pass pops: each call of
    the pullback gets whole copies, so a Jacobian can be built row by row from one vjp."""
    x = rng.uniform(0.5, 1.0, 3)
    _, pullback = sg.vjp(looped_through_a_callee, x)
    rows = [pullback(e)[0] for e in np.eye(3)]
    rows.append(pullback(np.eye(3)[0])[0])  # the first seed again: the same row
    want = autograd.jacobian(_autograd_looped)(x)
    np.testing.assert_allclose(np.stack(rows[:3]), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rows[3], want[0], rtol=1e-10, atol=1e-12)
    fd = np.stack([(looped_through_a_callee(x + 1e-6 * e) - looped_through_a_callee(x - 1e-6 * e)) / 2e-6
                   for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(np.stack(rows[:3]), fd, rtol=1e-6, atol=1e-8)


def _autograd_looped(x):
    import autograd.numpy as anp

    s = x
    for i in range(3):
        s = anp.sin(s) ** 2 * x
    while anp.sum(s) > 0.1:
        s = s * 0.5
    return s


# --- source, verbose, caching ------------------------------------------------------------------


def test_source_is_python_with_def(rng):
    df = sg.grad(predict, wrt=(0, 1))
    text = sg.source(df)
    assert isinstance(text, str) and "def " in text
    compile(text, "<generated>", "exec")


def verbose_target(x):
    return np.sum(np.exp(x) * x)


def test_verbose_prints_generated_source(capsys, rng):
    df = sg.grad(verbose_target, verbose=1)
    df(rand(rng, (3,)))
    printed = capsys.readouterr().out
    assert "def " in printed
    assert sg.source(df).strip() in printed


def test_verbose_zero_prints_nothing(capsys, rng):
    df = sg.grad(predict, wrt=2, verbose=0)
    df(*predict_args(rng))
    assert capsys.readouterr().out == ""


def test_cached_transformation_is_reused():
    assert sg.grad(predict, wrt=(0, 1)) is sg.grad(predict, wrt=(0, 1))
    assert sg.source(sg.grad(predict)) == sg.source(sg.grad(predict))


def test_output_is_deterministic():
    src = "def f(x, y):\n    return np.sum(np.tanh(x * y) * x)\n"
    first = sg.source(sg.grad(sg.exec_source(src, {"np": np})["f"], wrt=(0, 1)))
    second = sg.source(sg.grad(sg.exec_source(src, {"np": np})["f"], wrt=(0, 1)))
    assert first == second


def test_redefined_function_is_retransformed():
    ns = sg.exec_source("def f(x):\n    return x * x\n", {"np": np})
    first = ns["f"]
    assert sg.grad(first)(3.0) == pytest.approx(6.0)
    sg.exec_source("def f(x):\n    return x * x * x\n", ns)
    second = ns["f"]
    assert sg.grad(second)(3.0) == pytest.approx(27.0)
    assert sg.grad(first)(3.0) == pytest.approx(6.0)
    assert sg.source(sg.grad(first)) != sg.source(sg.grad(second))


def test_redefined_callee_is_seen():
    ns = sg.exec_source(
        "def g(x):\n    return x * 2.0\n\ndef f(x):\n    return g(x) * x\n", {"np": np}
    )
    assert sg.grad(ns["f"])(3.0) == pytest.approx(12.0)
    sg.exec_source("def g(x):\n    return x * x\n", ns)
    assert sg.grad(ns["f"])(3.0) == pytest.approx(27.0)


def test_changed_global_constant_is_seen():
    ns = sg.exec_source("SCALE = 2.0\n\ndef f(x):\n    return SCALE * x * x\n", {"np": np})
    assert sg.grad(ns["f"])(3.0) == pytest.approx(12.0)
    ns["SCALE"] = 5.0
    assert sg.grad(ns["f"])(3.0) == pytest.approx(30.0)


# --- exec_source -------------------------------------------------------------------------------


def test_exec_source_returns_namespace_with_functions(rng):
    ns = sg.exec_source("def f(x):\n    return np.sum(np.cos(x) * x)\n", {"np": np})
    assert callable(ns["f"]) and ns["np"] is np
    check_grad(ns["f"], (rand(rng, (2, 3)),))


def test_exec_source_without_namespace():
    ns = sg.exec_source("import math\n\ndef f(x):\n    return math.sin(x) * x\n")
    assert sg.grad(ns["f"])(0.3) == pytest.approx(np.cos(0.3) * 0.3 + np.sin(0.3), rel=1e-12)


# --- what flows through untouched --------------------------------------------------------------


def only_x(x, y, z):
    return np.sum(np.sin(x))


def only_x_via_branch(x, y, z):
    if np.sum(y) > 0:
        return np.sum(x * x)
    return np.sum(x) * 2.0


@pytest.mark.parametrize("fn", [only_x, only_x_via_branch])
def test_unused_inputs_get_zeros_of_their_shape(fn, rng):
    args = (rand(rng, (3,)), rand(rng, (2, 3)), rand(rng))
    dx, dy, dz = sg.grad(fn, wrt=(0, 1, 2))(*args)
    assert np.shape(dx) == (3,)
    assert np.shape(dy) == (2, 3) and np.all(np.asarray(dy) == 0.0)
    assert np.shape(dz) == () and float(dz) == 0.0
    assert_grad_close((dx, dy, dz), numeric_grad(fn, args, (0, 1, 2)), args, (0, 1, 2), fn)


def power_steps(x, n):
    for i in range(n):
        x = np.sin(x) * 1.5
    return np.sum(x) * n


@pytest.mark.parametrize("n", [0, 2, 5])
def test_integer_argument_flows_through(n, rng):
    x = rand(rng, (3,))
    g = check_grad(power_steps, (x, n), wrt=0)
    assert np.shape(g) == (3,)


def test_integer_argument_used_as_index_and_size(rng):
    def pick(x, i, k):
        return np.sum(x[i] * x[i]) / k + x.shape[0] * np.sum(x[:k])

    check_grad(pick, (rand(rng, (4, 2)), 2, 3), wrt="x")


# --- errors: unsupported syntax ----------------------------------------------------------------

COUNTER = 0


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_global(x):
    global COUNTER
    COUNTER = COUNTER + 1
    return x * 2.0


def uses_yield(x):
    yield x * 2.0


def uses_with(x):
    with warnings.catch_warnings():
        y = x * 2.0
    return y


UNSUPPORTED = [
    (uses_try, "try:"),
    (uses_global, "global COUNTER"),
    (uses_yield, "yield x * 2.0"),
    (uses_with, "with warnings.catch_warnings():"),
]


@pytest.mark.parametrize("fn, text", UNSUPPORTED, ids=[fn.__name__ for fn, _ in UNSUPPORTED])
def test_unsupported_syntax(fn, text):
    with pytest.raises(sg.UnsupportedSyntax) as info:
        sg.grad(fn)(1.5)
    err = info.value
    assert isinstance(err, SyntaxError) and isinstance(err, sg.SourcegradError)
    assert os.path.abspath(err.filename) == os.path.abspath(__file__)
    assert err.lineno == line_of(fn, text)
    assert text in str(err)


def test_unsupported_syntax_in_exec_source():
    src = (
        "def f(x):\n"
        "    y = x\n"
        "    try:\n"
        "        y = x * 2.0\n"
        "    finally:\n"
        "        pass\n"
        "    return y\n"
    )
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(sg.UnsupportedSyntax) as info:
        sg.grad(f)(1.5)
    assert info.value.lineno == 3
    assert "try:" in str(info.value)


def test_error_classes():
    for cls in (sg.UnsupportedSyntax, sg.NoRule, sg.SourceUnavailable):
        assert issubclass(cls, sg.SourcegradError)
    assert issubclass(sg.SourcegradError, Exception)
    assert issubclass(sg.UnsupportedSyntax, SyntaxError)


# --- errors: calls with no rule ----------------------------------------------------------------


def uses_fft(x):
    y = np.fft.fft(x)
    return np.sum(np.abs(y))


def uses_eigvals(x):
    return np.sum(np.abs(np.linalg.eigvals(x)))


@pytest.mark.parametrize(
    "fn, shape, name", [(uses_fft, (4,), "fft"), (uses_eigvals, (3, 3), "eigvals")]
)
def test_no_rule_names_the_function(fn, shape, name, rng):
    with pytest.raises(sg.NoRule) as info:
        sg.grad(fn)(rand(rng, shape))
    assert name in str(info.value)


# --- errors: source unavailable ----------------------------------------------------------------


def test_plain_exec_function_says_use_exec_source():
    ns = {"np": np}
    exec("def f(x):\n    return x * x\n", ns)  # noqa: S102  (plain exec is the case under test)
    with pytest.raises(sg.SourceUnavailable) as info:
        sg.grad(ns["f"])(2.0)
    assert "exec_source" in str(info.value)


# --- errors: nothing internal escapes ----------------------------------------------------------

INTERNAL = (KeyError, AttributeError, IndexError)


def calls_undefined(x):
    return x * undefined_name_for_sourcegrad_tests  # noqa: F821


def calls_missing_numpy_attribute(x):
    return np.not_a_numpy_function(x)


@pytest.mark.parametrize("wrt", [5, "nope", (0, "nope"), -7])
def test_bad_wrt_is_reported(wrt):
    with pytest.raises(Exception) as info:
        sg.grad(predict, wrt=wrt)(np.ones((3, 2)), np.ones(2), np.ones((4, 3)))
    assert not isinstance(info.value, INTERNAL), repr(info.value)
    assert isinstance(info.value, (sg.SourcegradError, TypeError, ValueError))
    bad = wrt[1] if isinstance(wrt, tuple) else wrt
    assert str(bad) in str(info.value)


@pytest.mark.parametrize("fn", [calls_undefined, calls_missing_numpy_attribute])
def test_bad_names_in_user_code_are_reported(fn):
    with pytest.raises(Exception) as info:
        sg.grad(fn)(1.0)
    assert not isinstance(info.value, INTERNAL), repr(info.value)
    assert isinstance(info.value, (sg.SourcegradError, NameError))


def test_mismatched_seed_is_reported(rng):
    x, W = rand(rng, (2, 3)), rand(rng, (3, 4))
    with pytest.raises(Exception) as info:
        sg.grad(vector_out)(x, W, np.ones((5, 7)))
    assert not isinstance(info.value, INTERNAL), repr(info.value)
    assert isinstance(info.value, (sg.SourcegradError, ValueError))


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


def test_traceback_shows_generated_source_line():
    """An error raised while the gradient runs points at a line of the generated source."""
    df = sg.grad(sqrt_sum)
    generated = sg.source(df)
    lines = [
        line.strip()
        for line in generated.splitlines()
        if line.strip() and not line.strip().startswith(("def ", "#", "@"))
    ]
    try:
        with np.errstate(all="raise"):
            # The primal sqrt(0) is fine; its derivative 0.5 / sqrt(0) divides by zero.
            df(np.array([1.0, 0.0, 4.0]))
    except FloatingPointError:
        formatted = traceback.format_exc()
    else:
        pytest.fail("expected a FloatingPointError from the backward pass")
    assert any(line in formatted for line in lines), formatted


def test_gradient_does_not_modify_arguments(rng):
    x = positive(rng, (2, 3))
    before = x.copy()
    sg.grad(sqrt_sum)(x)
    sg.value_and_grad(sqrt_sum)(x)
    _, pullback = sg.vjp(sqrt_sum, x)
    pullback(1.0)
    np.testing.assert_array_equal(x, before)


def two_outputs(a, x):
    return 3.0 * a * np.sum(x), a * x


def test_tuple_output_default_seed_is_gradient_of_the_sum(rng):
    """A scalar seed is repeated over a tuple output; a tuple seed weights each output."""
    a, x = 0.7, rand(rng, (3,))
    total = lambda a, x: two_outputs(a, x)[0] + np.sum(two_outputs(a, x)[1])  # noqa: E731
    np.testing.assert_allclose(sg.grad(two_outputs)(a, x), numeric_grad(total, (a, x), 0), rtol=1e-6)
    seed = (2.0, np.array([1.0, 0.0, -1.0]))
    weighted = lambda a, x: 2.0 * two_outputs(a, x)[0] + np.sum(seed[1] * two_outputs(a, x)[1])  # noqa: E731
    np.testing.assert_allclose(sg.grad(two_outputs)(a, x, seed), numeric_grad(weighted, (a, x), 0), rtol=1e-6)


def test_gradients_generated_in_several_threads_at_once():
    """The optimiser's per-pass state is shared: threads generating at once take turns there."""
    import threading

    from helpers import numeric_grad

    sources = [f"def f{i}(x):\n    for k in range({i + 2}):\n        x = np.tanh(x * {i + 1.5}) + 0.1 * x\n    return np.sum(x)\n"
               for i in range(6)]
    fns = [sg.exec_source(src, {"np": np})[f"f{i}"] for i, src in enumerate(sources)]
    x = np.array([0.1, -0.2, 0.3])
    results, errors = {}, []

    def work(i):
        try:
            results[i] = sg.grad(fns[i])(x)
        except Exception as err:  # reported below, with the thread's index
            errors.append((i, err))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, f in enumerate(fns):
        np.testing.assert_allclose(results[i], numeric_grad(f, (x,)), rtol=1e-6, atol=1e-8)


def _tangent_style(x, y, n=2.0):
    return np.sum(x ** n * y) + np.sum(np.sin(x))


def test_tangents_motion_and_mode_keywords(rng):
    """Tangent's own call styles: grad(f, motion='split') takes the seed as `init_grad=` (parameters
    left to their defaults keep them), grad(f, mode='forward') is the forward derivative; both
    against central differences."""
    x, y = rng.normal(size=3), rng.normal(size=3)
    expected = numeric_grad(_tangent_style, (x, y), 0)
    split = sg.grad(_tangent_style, motion="split", optimized=True, preserve_result=False)
    np.testing.assert_allclose(split(x, y, init_grad=2.0), 2.0 * expected, rtol=1e-6)
    np.testing.assert_allclose(split(x, y), expected, rtol=1e-6)
    np.testing.assert_allclose(sg.autodiff(_tangent_style, mode="reverse", motion="split")(x, y, init_grad=1.0), expected, rtol=1e-6)
    value_grad = sg.grad(_tangent_style, motion="split", preserve_result=True)(x, y, init_grad=1.0)
    np.testing.assert_allclose(value_grad[0], expected, rtol=1e-6)
    assert value_grad[1] == pytest.approx(_tangent_style(x, y))
    forward = sg.grad(_tangent_style, mode="forward", wrt=(0,))
    v = rng.normal(size=3)
    assert forward(x, y, 2.0, v) == pytest.approx(expected @ v, rel=1e-6)
    with pytest.raises(sg.SourcegradError, match="motion 'both' is unknown"):
        sg.grad(_tangent_style, motion="both")
    with pytest.raises(sg.SourcegradError, match="grad mode 'sideways' is unknown"):
        sg.grad(_tangent_style, mode="sideways")
