"""Higher-order derivatives: Hessians, Hessian-vector products, Jacobians, and derivatives of order
3 to 6 by composing the generated functions (reverse over reverse, forward over forward, mixed).

Every check is numeric: against autograd on a twin of the same source (``helpers.make``), against
closed-form derivatives, or against central differences of a generated gradient.
"""

import inspect
import math
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import make, rand

import sourcegrad as sg

OPTIMIZED = [pytest.param(True, id="optimized"), pytest.param(False, id="unoptimized")]


def _quiet(fn, *args):
    """Call an autograd function, silencing its warning about outputs independent of an input."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        return fn(*args)


# --- 1. second derivatives of programs with loops and branches -----------------------------------

LOOP_SIN = """
def f(x, w):
    for i in range(3):
        x = np.sin(x) * w
    return np.sum(x * x)
"""

BRANCH_IN_LOOP = """
def f(x, w):
    h = x
    for i in range(3):
        if np.sum(h) > 0:
            h = np.sin(h) * w
        else:
            h = h * h + w
    return np.sum(h * h * h)
"""

WHILE_LOOP = """
def f(x, w):
    y = x
    n = 0
    while np.sum(y * y) < 6.0 and n < 5:
        y = y * 1.3 + np.tanh(y * w)
        n = n + 1
    return np.sum(y * x) + np.sum(np.exp(0.3 * y))
"""

USER_FUNCTION_IN_LOOP = """
def layer(h, w):
    return np.tanh(h * w + np.sin(h))

def f(x, w):
    h = x
    for i in range(3):
        h = layer(h, w)
    return np.sum(h ** 3 + h * x)
"""

EARLY_RETURN = """
def f(x, w):
    s = np.sum(x * w)
    if s > 0:
        return np.sum(np.exp(x) * w) + s * s
    y = np.sin(x) * np.cos(w * x)
    return np.sum(y * y * x)
"""

PROGRAMS = {
    "loop_sin": LOOP_SIN,
    "branch_in_loop": BRANCH_IN_LOOP,
    "while_loop": WHILE_LOOP,
    "user_function_in_loop": USER_FUNCTION_IN_LOOP,
    "early_return": EARLY_RETURN,
}


def program_args(rng, name, offset):
    """(x, w) of shape (3,), x shifted by offset so that branches go one way or the other."""
    x = rand(rng, (3,)) * 0.3 + offset
    w = rand(rng, (3,))
    if name == "early_return":
        w = np.abs(w) + 0.5  # sign of sum(x * w) follows the sign of offset
    return x, w


CASES = [pytest.param(name, offset, id=f"{name}{offset:+}") for name in PROGRAMS for offset in (0.6, -0.6)]


def fd_of_gradient(g, x, rest, v, eps=1e-6):
    """Central difference of a generated gradient along v: approximately H @ v."""
    return (np.asarray(g(x + eps * v, *rest)) - np.asarray(g(x - eps * v, *rest))) / (2 * eps)


@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("name, offset", CASES)
def test_hessian_matches_autograd(name, offset, optimized, rng):
    f_np, f_ag = make(PROGRAMS[name])
    x, w = program_args(rng, name, offset)
    got = sg.hessian(f_np, optimized=optimized)(x, w)
    want = _quiet(autograd.hessian(f_ag, 0), x, w)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got, got.T, rtol=1e-9, atol=1e-12, err_msg="the Hessian is symmetric")


@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("name, offset", CASES)
def test_hvp_matches_hessian_and_finite_differences(name, offset, optimized, rng):
    f_np, f_ag = make(PROGRAMS[name])
    x, w = program_args(rng, name, offset)
    v = rand(rng, (3,))
    got = sg.hvp(f_np, optimized=optimized)(x, w, v)
    hessian = _quiet(autograd.hessian(f_ag, 0), x, w)
    np.testing.assert_allclose(got, hessian @ v, rtol=1e-9, atol=1e-12, err_msg="vs autograd's Hessian @ v")
    fd = fd_of_gradient(sg.grad(f_np, optimized=optimized), x, (w,), v)
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7, err_msg="vs differences of the gradient")


@pytest.mark.parametrize("name, offset", CASES)
def test_hvp_with_respect_to_second_argument(name, offset, rng):
    f_np, f_ag = make(PROGRAMS[name])
    x, w = program_args(rng, name, offset)
    v = rand(rng, (3,))
    got = sg.hvp(f_np, wrt=1)(x, w, v)
    hessian = _quiet(autograd.hessian(f_ag, 1), x, w)
    np.testing.assert_allclose(got, hessian @ v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.hessian(f_np, wrt="w")(x, w), hessian, rtol=1e-9, atol=1e-12)


MATRIX_PROGRAM = """
def f(W, x):
    h = np.tanh(x @ W)
    for i in range(2):
        if np.sum(h) > 0:
            h = np.tanh(h @ W) * 1.5
        else:
            h = np.sin(h @ W)
    return np.sum(h ** 2) + 0.1 * np.sum(W ** 3)
"""


@pytest.mark.parametrize("optimized", OPTIMIZED)
def test_hvp_and_hessian_of_a_matrix_argument(optimized, rng):
    f_np, f_ag = make(MATRIX_PROGRAM)
    W, x = rand(rng, (3, 3)), rand(rng, (4, 3))
    V = rand(rng, (3, 3))
    hessian = _quiet(autograd.hessian(f_ag, 0), W, x)
    got_h = sg.hessian(f_np, optimized=optimized)(W, x)
    assert got_h.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(got_h, hessian, rtol=1e-9, atol=1e-12)
    got = sg.hvp(f_np, optimized=optimized)(W, x, V)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got, np.tensordot(hessian, V, axes=2), rtol=1e-9, atol=1e-12)
    fd = fd_of_gradient(sg.grad(f_np, optimized=optimized), W, (x,), V)
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7)


# --- 2. Jacobians in both modes ------------------------------------------------------------------

TANH_LAYER = """
def f(x, W, b):
    return np.tanh(W @ x + b)
"""

JAC_LOOP = """
def f(x, W, b):
    h = x
    for i in range(3):
        h = np.sin(W @ h) + b * h
    return h
"""

JAC_BRANCH = """
def f(x, W, b):
    z = W @ x + b
    if np.sum(z) > 0:
        y = np.tanh(z) * z
    else:
        y = np.exp(z) - x
    return y[:2] * 2.0
"""

JACOBIANS = {"tanh_layer": TANH_LAYER, "loop": JAC_LOOP, "branch": JAC_BRANCH}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("wrt", [0, 1, 2])
@pytest.mark.parametrize("offset", [0.8, -0.8])
@pytest.mark.parametrize("name", list(JACOBIANS))
def test_jacobian_matches_autograd(name, offset, wrt, mode, rng):
    f_np, f_ag = make(JACOBIANS[name])
    x, W, b = rand(rng, (3,)), rand(rng, (3, 3)), rand(rng, (3,)) * 0.3 + offset
    args = (x, W, b)
    got = sg.jacobian(f_np, wrt=wrt, mode=mode)(*args)
    want = _quiet(autograd.jacobian(f_ag, wrt), *args)
    out_shape = np.shape(f_np(*args))
    assert got.shape == out_shape + np.shape(args[wrt])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def _fd_jacobian(f, args, position, eps=1e-6):
    """Central differences of an array-valued f in args[position]: out.shape + arg.shape."""
    x = np.asarray(args[position], dtype=float)
    columns = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        up, down = list(args), list(args)
        up[position], down[position] = x + e.reshape(x.shape), x - e.reshape(x.shape)
        columns.append((np.asarray(f(*up)) - np.asarray(f(*down))).ravel() / (2 * eps))
    return np.reshape(np.stack(columns, axis=-1), np.shape(f(*args)) + x.shape)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_with_a_tuple_wrt(mode, rng):
    """`wrt=(0, 2)` is JAX's tuple `argnums`: a tuple of Jacobians, one per parameter (it raised a
    raw "too many values to unpack" from api.py)."""
    f_np, f_ag = make(JAC_LOOP)
    args = (rand(rng, (3,)), rand(rng, (3, 3)), rand(rng, (3,)))
    got = sg.jacobian(f_np, wrt=(0, 2), mode=mode)(*args)
    assert isinstance(got, tuple) and len(got) == 2
    for jac, p in zip(got, (0, 2)):
        np.testing.assert_allclose(jac, _quiet(autograd.jacobian(f_ag, p), *args), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(jac, _fd_jacobian(f_np, args, p), rtol=1e-6, atol=1e-8)
    pair = make("""
def g(x, W, b):
    return np.tanh(W @ x), b * np.sum(x)
""")[0]
    nested = sg.jacobian(pair, wrt=(0, 2), mode=mode)(*args)  # output's structure, then the tuple
    for k in range(2):
        for j, p in enumerate((0, 2)):
            want = _fd_jacobian(lambda *a: pair(*a)[k], args, p)
            np.testing.assert_allclose(nested[k][j], want, rtol=1e-6, atol=1e-8)


def test_hessian_and_hvp_with_a_tuple_wrt(rng):
    """`sg.hessian(f, wrt=(0, 1))` nests as JAX's: H[i][j] is shaped args[i].shape + args[j].shape;
    `sg.hvp` with a tuple `wrt` takes and returns one vector per parameter."""
    f_np, f_ag = make(LOOP_SIN)
    x, w = rand(rng, (3,)), 0.7
    H = sg.hessian(f_np, wrt=(0, 1))(x, w)
    assert H[0][0].shape == (3, 3) and H[0][1].shape == (3,) and H[1][0].shape == (3,) and H[1][1].shape == ()
    for i in range(2):
        for j in range(2):
            want = _quiet(autograd.jacobian(autograd.grad(f_ag, i), j), x, w)
            np.testing.assert_allclose(H[i][j], want, rtol=1e-9, atol=1e-12)
            fd = _fd_jacobian(sg.grad(f_np, wrt=i), (x, w), j)
            np.testing.assert_allclose(H[i][j], fd, rtol=1e-5, atol=1e-7)
    v = (rand(rng, (3,)), 0.4)
    hv = sg.hvp(f_np, wrt=(0, 1))(x, w, v)
    np.testing.assert_allclose(hv[0], H[0][0] @ v[0] + H[0][1] * v[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hv[1], H[1][0] @ v[0] + H[1][1] * v[1], rtol=1e-9, atol=1e-12)
    with pytest.raises(sg.SourcegradError, match="one vector per differentiated parameter"):
        sg.hvp(f_np, wrt=(0, 1))(x, w, v[0])


def test_hessian_of_a_dict_argument(rng):
    """The Hessian in a dict argument is a dict of dicts, H["w"]["b"] shaped w.shape + b.shape (it
    raised a raw TypeError from np.asarray of the dict)."""
    k_np, _ = make("""
def k(p):
    return np.sum(np.sin(p["w"]) * p["w"] ** 2) * p["b"] + p["b"] ** 3
""")
    _, k_ag = make("""
def k(w, b):
    return np.sum(np.sin(w) * w ** 2) * b + b ** 3
""")
    w, b = rand(rng, (3,)), 0.7
    H = sg.hessian(k_np)({"w": w, "b": b})
    assert set(H) == {"w", "b"} and set(H["w"]) == {"w", "b"}
    names = ("w", "b")
    for i, a in enumerate(names):
        for j, c in enumerate(names):
            want = _quiet(autograd.jacobian(autograd.grad(k_ag, i), j), w, b)
            np.testing.assert_allclose(H[a][c], want, rtol=1e-9, atol=1e-12)
            fd = _fd_jacobian(lambda wv, bv: sg.grad(k_np)({"w": wv, "b": bv})[a], (w, b), j)
            np.testing.assert_allclose(H[a][c], fd, rtol=1e-5, atol=1e-7)


# --- 3. orders 3 to 6 of scalar functions --------------------------------------------------------


def _poly_derivative(coefficients, k):
    """k-th derivative of a polynomial given by coefficients (lowest power first)."""
    return np.polynomial.polynomial.polyder(coefficients, k) if k else np.asarray(coefficients)


def _poly_value(coefficients, x):
    return float(np.polynomial.polynomial.polyval(x, coefficients)) if len(coefficients) else 0.0


def d_sin(n, x):
    """sin^(n)(x) = sin(x + n pi / 2)."""
    return math.sin(x + n * math.pi / 2)


def d_tanh(n, x):
    """tanh^(n)(x) = P_n(tanh x) with P_0(t) = t and P_{n+1}(t) = P_n'(t) (1 - t^2)."""
    p = np.array([0.0, 1.0])
    for _ in range(n):
        p = np.polynomial.polynomial.polymul(np.polynomial.polynomial.polyder(p), [1.0, 0.0, -1.0])
    return _poly_value(p, math.tanh(x))


def d_log2(n, x):
    """n-th derivative of log(x + 2): (-1)^(n-1) (n-1)! / (x + 2)^n for n >= 1."""
    if n == 0:
        return math.log(x + 2.0)
    return (-1) ** (n - 1) * math.factorial(n - 1) / (x + 2.0) ** n


def leibniz_x3_sin(k, x):
    """d^k (x^3 sin x) = sum_j C(k, j) (x^3)^(j) sin^(k-j)(x)."""
    powers = [x**3, 3 * x**2, 6 * x, 6.0]
    return sum(math.comb(k, j) * powers[j] * d_sin(k - j, x) for j in range(min(k, 3) + 1))


POLY = [-5.0, 1.0, 0.0, -2.0, 3.0, 0.0, 0.5, 0.25]  # -5 + x - 2 x^3 + 3 x^4 + x^6 / 2 + x^7 / 4

SCALAR_FUNCTIONS = {
    # name: (source, closed-form k-th derivative or None for autograd's nested grad)
    "x3_sin": ("def f(x):\n    return x ** 3 * np.sin(x)\n", leibniz_x3_sin),
    "exp_tanh": (
        "def f(x):\n    return np.exp(0.5 * x) + np.tanh(x)\n",
        lambda k, x: 0.5**k * math.exp(0.5 * x) + d_tanh(k, x),
    ),
    "log_times_x": (
        "def f(x):\n    return np.log(x + 2.0) * x\n",
        lambda k, x: x * d_log2(k, x) + k * d_log2(k - 1, x),
    ),
    "x_times_log": (
        "def f(x):\n    return x * np.log(x + 2.0)\n",
        lambda k, x: x * d_log2(k, x) + k * d_log2(k - 1, x),
    ),
    "polynomial": (
        "def f(x):\n    return 0.25 * x ** 7 + 0.5 * x ** 6 + 3.0 * x ** 4 - 2.0 * x ** 3 + x - 5.0\n",
        lambda k, x: _poly_value(_poly_derivative(POLY, k), x),
    ),
    "exp_sin_damped": (
        "def f(x):\n    return np.sin(x) * np.exp(-x)\n",
        # e^{-x} sin x = Im e^{(i - 1) x}, so its k-th derivative is Im (i - 1)^k e^{(i - 1) x}.
        lambda k, x: ((1j - 1) ** k * np.exp((1j - 1) * x)).imag,
    ),
    "loop": (
        "def f(x):\n    y = x\n    for i in range(3):\n        y = y * x + np.sin(y)\n    return y\n",
        None,
    ),
    "exp_of_sin": ("def f(x):\n    return np.exp(np.sin(x)) / (x * x + 1.0)\n", None),
}

POINTS = [0.7, -0.4]
ORDERS = [3, 4, 5, 6]


def reference(name, f_ag, k, x):
    """The closed form where there is one, else autograd.grad applied k times."""
    closed = SCALAR_FUNCTIONS[name][1]
    if closed is not None:
        return float(closed(k, x))
    g = f_ag
    for _ in range(k):
        g = autograd.grad(g)
    return float(g(x))


def call_with_unit_seeds(g, x):
    """Call a composed generated function with x and 1.0 for every seed and tangent after it."""
    n = len(inspect.signature(g).parameters)
    return g(x, *([1.0] * (n - 1)))


_MADE = {}
_COMPOSED = {}


def made(name):
    """(f_np, f_ag) for a scalar function, built once so that compositions can be shared."""
    if name not in _MADE:
        _MADE[name] = make(SCALAR_FUNCTIONS[name][0])
    return _MADE[name]


def composed(name, pattern, optimized):
    """Apply 'R' (sg.grad) and 'F' (forward mode, wrt x) in the order of pattern, innermost first.

    Generating order 6 takes seconds, so each composition is built once and the longer patterns
    reuse their prefixes (the tests of order k reuse order k - 1)."""
    key = (name, pattern, optimized)
    if key not in _COMPOSED:
        inner = composed(name, pattern[:-1], optimized) if len(pattern) > 1 else made(name)[0]
        if pattern[-1] == "R":
            _COMPOSED[key] = sg.grad(inner, wrt=0, optimized=optimized)
        else:
            _COMPOSED[key] = sg.autodiff(inner, mode="forward", wrt=0, optimized=optimized)
    return _COMPOSED[key]


def assert_order(name, pattern, optimized, x, got, want):
    np.testing.assert_allclose(
        got, want, rtol=1e-7, atol=0,
        err_msg=f"{name}: order {len(pattern)} by {pattern} (optimized={optimized}) at x={x}",
    )  # fmt: skip


def test_closed_forms_agree_with_autograd():
    """The hand-derived references are themselves checked against autograd's nested grad."""
    for name, (src, closed) in SCALAR_FUNCTIONS.items():
        if closed is None:
            continue
        _, f_ag = make(src)
        g = f_ag
        for k in range(1, 7):
            g = autograd.grad(g)
            for x in POINTS:
                np.testing.assert_allclose(closed(k, x), g(x), rtol=1e-10, err_msg=f"{name} order {k}")


def _nested_grad(name, order, optimized):
    f_ag = made(name)[1]
    g = composed(name, "R" * order, optimized)
    for x in POINTS:
        assert_order(name, "R" * order, optimized, x, call_with_unit_seeds(g, x), reference(name, f_ag, order, x))


# The two functions whose code is largest: their order 5 and 6 compositions take minutes to
# generate (each reverse level multiplies the code about fourfold), so those are marked slow
# (`pytest -m slow`, which .ci/run runs on 3.11); every other case runs in the default suite.
HEAVY = {"loop", "exp_of_sin"}


def _case(name, arrangement):
    order = arrangement if isinstance(arrangement, int) else len(arrangement)
    slow = name in HEAVY and order >= (5 if isinstance(arrangement, str) else 6)
    return pytest.param(name, arrangement, marks=pytest.mark.slow if slow else ())


NESTED = [_case(name, order) for name in SCALAR_FUNCTIONS for order in ORDERS if (name, order) not in
          {("loop", 5), ("loop", 6)}]  # fmt: skip


@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("name, order", NESTED)
def test_nested_grad(name, order, optimized):
    _nested_grad(name, order, optimized)


@pytest.mark.slow
@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("order", [5, 6])
def test_nested_grad_of_the_loop_at_orders_5_and_6(order, optimized):
    """The same bar as test_nested_grad, marked slow (`pytest -m slow`; .ci/run runs it on 3.11):
    each reverse level multiplies the generated code about fourfold (order 5 of the loop is
    ~10,000 lines), so orders 5 and 6 take minutes to generate, in time linear in their size."""
    _nested_grad("loop", order, optimized)


@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", list(SCALAR_FUNCTIONS))
def test_forward_over_forward(name, order, optimized):
    f_ag = made(name)[1]
    g = composed(name, "F" * order, optimized)
    for x in POINTS:
        assert_order(name, "F" * order, optimized, x, call_with_unit_seeds(g, x), reference(name, f_ag, order, x))


# Orders 2 to 4 in every arrangement worth telling apart, and one each of orders 5 and 6.
MIXED = ["FR", "RF", "FRF", "RFR", "FFR", "RRF", "FRFR", "RFRF", "FFRR", "RRFF", "FRRRF", "RFFFRR"]


@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("name, pattern", [_case(name, p) for name in SCALAR_FUNCTIONS for p in MIXED])
def test_mixed_orders(name, pattern, optimized):
    f_ag = made(name)[1]
    g = composed(name, pattern, optimized)
    for x in POINTS:
        want = reference(name, f_ag, len(pattern), x)
        assert_order(name, pattern, optimized, x, call_with_unit_seeds(g, x), want)


def test_grad_of_grad_of_a_vector_program_is_the_hessian_row_sum(rng):
    """grad(grad(f)) of a vector argument: the gradient of sum(grad f), i.e. H @ ones."""
    f_np, f_ag = make(LOOP_SIN)
    x, w = program_args(rng, "loop_sin", 0.6)
    got = sg.grad(sg.grad(f_np))(x, w)
    want = _quiet(autograd.hessian(f_ag, 0), x, w) @ np.ones(3)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# A gradient is a vector-valued function: sg.grad of it is the gradient of its sum (the scalar seed
# 1.0 spread over the output, as for any non-scalar output), i.e. H @ ones. Its backward pass takes
# the seed apart (the adjoint of x[i] reads ddx[i]), which failed while the seed stayed a float.
INDEXED = {
    "subscript_loop": ("""
def f(x):
    s = 0.0
    for i in range(3):
        s = s + x[i] * x[i] * x[i]
    return s
""", (3,)),
    "rows": ("""
def f(X):
    s = 0.0
    for row in X:
        s = s + np.sum(np.sin(row) * row * row)
    return s
""", (2, 3)),
    "two_indices": ("""
def f(X):
    s = 0.0
    for i in range(2):
        for j in range(3):
            s = s + X[i, j] ** 3 * X[0, j]
    return s
""", (2, 3)),
    "slices": ("""
def f(x):
    return np.sum(x[1:] * x[:-1] ** 2) + x[0] ** 3
""", (3,)),
    "while_index": ("""
def f(x):
    s = 0.0
    i = 0
    while i < 3:
        s = s + np.sin(x[i]) * x[i] * x[i]
        i = i + 1
    return s
""", (3,)),
}


def _sum_of_grad(f_ag):
    return lambda x: autograd.numpy.sum(autograd.grad(f_ag)(x))


@pytest.mark.parametrize("name", sorted(INDEXED))
def test_grad_of_grad_of_indexing_code(name, rng):
    src, shape = INDEXED[name]
    f_np, f_ag = make(src)
    x = rng.uniform(0.3, 1.0, shape)
    hessian = _quiet(autograd.hessian(f_ag), x).reshape(x.size, x.size)
    want = (hessian @ np.ones(x.size)).reshape(shape)
    fd = fd_of_gradient(lambda x: np.sum(sg.grad(f_np)(x)), x, (), np.ones(shape))
    np.testing.assert_allclose(np.sum(want), fd, rtol=1e-6, err_msg="autograd vs differences of sum(grad)")
    np.testing.assert_allclose(sg.grad(sg.grad(f_np))(x), want, rtol=1e-9, atol=1e-12)
    twice = sg.autodiff(sg.autodiff(f_np, mode="reverse"), mode="reverse")
    np.testing.assert_allclose(twice(x), want, rtol=1e-9, atol=1e-12)
    v = rng.standard_normal(shape)
    _, pullback = sg.vjp(sg.grad(f_np), x)
    np.testing.assert_allclose(pullback(1.0)[0], want, rtol=1e-9, atol=1e-12)
    hvp = pullback(v)[0]  # called again: each call runs on a copy of the tapes
    np.testing.assert_allclose(hvp, (hessian @ v.ravel()).reshape(shape), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["subscript_loop", "two_indices", "while_index"])
def test_grad_of_grad_of_grad_of_indexing_code(name, rng):
    src, shape = INDEXED[name]
    f_np, f_ag = make(src)
    x = rng.uniform(0.3, 1.0, shape)
    want = autograd.grad(lambda x: autograd.numpy.sum(autograd.grad(_sum_of_grad(f_ag))(x)))(x)
    np.testing.assert_allclose(sg.grad(sg.grad(sg.grad(f_np)))(x), want, rtol=1e-9, atol=1e-12)


# --- 4. the second-order code is readable Python -------------------------------------------------


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_hvp_source_is_python(name):
    f_np, _ = make(PROGRAMS[name])
    text = sg.source(sg.hvp(f_np))
    compile(text, "<hvp source>", "exec")
    assert "def " in text
    assert "_dot" in text


def test_nested_grad_source_is_python():
    g = composed("x3_sin", "RRR", True)
    text = sg.source(g)
    compile(text, "<third-order source>", "exec")
    assert "def " in text


def _layer(x, W):
    return np.tanh(W @ x) * x[0]


def _layer_autograd(x, W):
    return anp.tanh(W @ x) * x[0]


@pytest.mark.parametrize("inner, outer", [(0, 0), (0, 1), (1, 0)])
def test_jacobian_of_a_jacobian(inner, outer, rng):
    """sg.jacobian(sg.jacobian(f, wrt=i), wrt=o), laid out as autograd's (out + x_i + x_o), checked
    against autograd and central differences of the inner Jacobian."""
    x, W = rng.normal(size=3), rng.normal(size=(2, 3))
    got = sg.jacobian(sg.jacobian(_layer, wrt=inner), wrt=outer)(x, W)
    want = autograd.jacobian(autograd.jacobian(_layer_autograd, inner), outer)(x, W)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    args, h = [x, W], 1e-6
    inner_jac = sg.jacobian(_layer, wrt=inner)
    for j in range(args[outer].size):
        e = np.zeros(args[outer].shape)
        e.flat[j] = h
        up, down = list(args), list(args)
        up[outer], down[outer] = args[outer] + e, args[outer] - e
        central = (inner_jac(*up) - inner_jac(*down)) / (2 * h)
        np.testing.assert_allclose(got.reshape(got.shape[:-args[outer].ndim] + (-1,))[..., j], central, rtol=1e-6, atol=1e-8)


def test_functions_made_by_sourcegrad_are_not_transformed_again(rng):
    """A Hessian function, or sg.jacobian called inside differentiated code, is sourcegrad's own
    loop over generated code: a clear TransformError naming the way that works, not an error from
    inside sourcegrad's source."""
    x = rng.normal(size=3)
    with pytest.raises(sg.TransformError, match="made by sg.hessian cannot be differentiated"):
        sg.grad(sg.hessian(lambda v: np.sum(v ** 3)))(x)
    ns = sg.exec_source("""
def s(x):
    return np.sin(x) * 2.0

def g(x):
    return np.sum(sg.jacobian(s)(x))
""", {"np": np, "sg": sg})
    with pytest.raises(sg.TransformError, match="made by sg.jacobian") as err:
        sg.grad(ns["g"])(x)
    assert "sg.jacobian(sg.jacobian(f))" in err.value.hint


# Second derivatives of functions that call recursive user functions: the first derivative calls
# itself through a stand-in while it is made (api._Late); differentiating it again reads the made
# function there (frontend/resolve.py). It raised an error that pointed into api.py.
RECURSIVE = {
    "power": """
def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)

def f(x, w):
    return np.sum(power(x, 4) * w)
""",
    "mutual": """
def even(x, n):
    if n == 0:
        return x
    return np.sin(odd(x, n - 1))

def odd(x, n):
    if n == 0:
        return x
    return even(x, n - 1) * x

def f(x, w):
    return np.sum(even(x * w, 5))
""",
    "value_dependent": """
def shrink(x, s):
    if s < 0.1:
        return np.tanh(x) * s
    return shrink(x * 0.9, s / 2.0) + np.sin(x) * s

def f(x, w):
    return np.sum(shrink(x, 1.0) * w)
""",
}


@pytest.mark.parametrize("name", sorted(RECURSIVE))
def test_second_derivatives_through_recursive_calls(name, rng):
    f_np, f_ag = make(RECURSIVE[name])
    x, w, v = rand(rng, (3,)), rand(rng, (3,)) + 1.5, rand(rng, (3,))
    want = _quiet(autograd.hessian(f_ag, 0), x, w)
    np.testing.assert_allclose(sg.hessian(f_np)(x, w), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.hvp(f_np)(x, w, v), want @ v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.grad(sg.grad(f_np))(x, w), want @ np.ones(3), rtol=1e-9, atol=1e-12)
    fd = fd_of_gradient(sg.grad(f_np), x, (w,), v)
    np.testing.assert_allclose(sg.hvp(f_np)(x, w, v), fd, rtol=1e-5, atol=1e-7)


# --- third and fourth derivatives through calls of user functions --------------------------------

# The backward half of a split pair pops the tape that its forward half filled. Differentiated
# again, its cotangent for that tape was `sg.zeros_like(tape)` where nothing it popped reached the
# output, read after the pops had emptied it: the forward half's own adjoint then popped an empty
# adjoint tape (`IndexError: pop from empty list` at order 3, `float += tuple` with recursion).
# A tape handed in now gets an adjoint tape with one entry per pop (`transform/reverse.py`).
CALLEES = {
    "once": """
def h(x):
    return np.sin(x) * x

def f(x):
    return np.sum(h(x) * 2.0)
""",
    "twice": """
def h(x):
    return np.sin(x) * x

def f(x):
    return np.sum(h(x) + h(x * x))
""",
    "in_a_loop": """
def h(x):
    return np.sin(x) * x

def f(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(h(x * (i + 1)))
    return s
""",
    "callee_with_loop": """
def h(x, n):
    s = x
    for i in range(n):
        s = np.sin(s * x + 0.5)
    return s

def f(x):
    return np.sum(h(x, 3))
""",
    "callee_with_if": """
def h(x):
    if np.sum(x) > 0.0:
        y = x * x
    else:
        y = np.cos(x)
    return y

def f(x):
    return np.sum(h(x) * x)
""",
    "nested": """
def h(x):
    return np.sin(x) * x

def g(x):
    return h(x) + np.exp(-x * x)

def f(x):
    return np.sum(g(x) * g(2.0 * x))
""",
    "recursive": """
def h(x, n):
    if n == 0:
        return x
    return np.sin(h(x, n - 1)) * x

def f(x):
    return np.sum(h(x, 2))
""",
}


def _sum_grad(g):
    return autograd.grad(lambda x: anp.sum(g(x)))


@pytest.mark.parametrize("name", sorted(CALLEES))
def test_third_derivatives_through_user_calls(name, rng):
    f_np, f_ag = make(CALLEES[name])
    x, v = rand(rng, (3,)), rand(rng, (3,))
    a1 = autograd.grad(f_ag)
    a2 = _sum_grad(a1)
    a3 = _sum_grad(a2)
    g2 = sg.grad(sg.grad(f_np))
    np.testing.assert_allclose(sg.grad(g2)(x), _quiet(a3, x), rtol=1e-9, atol=1e-12)
    jvp2 = _quiet(autograd.jacobian(a2), x) @ v  # forward over reverse over reverse
    np.testing.assert_allclose(sg.autodiff(g2, mode="forward")(x, 1.0, 1.0, v), jvp2, rtol=1e-9, atol=1e-12)
    hvp = lambda x: anp.dot(autograd.jacobian(a1)(x), v)  # reverse over forward over reverse
    want = _quiet(autograd.grad(lambda x: anp.sum(hvp(x))), x)
    np.testing.assert_allclose(sg.grad(sg.autodiff(sg.grad(f_np), mode="forward"))(x, 1.0, v), want,
                               rtol=1e-9, atol=1e-12)


# At order 4: a cotangent `0.0` standing for an array's zero went through `sg.unbroadcast_to`'s
# derivatives (its transpose broadcast to the scalar's shape: `sg.rebroadcast` sums); a residual
# left None on the path taken (a branch's variable, a library function's own generated gradient)
# has the cotangent None, which the lowering added with `+`; and `+` of two list cotangents
# concatenated them (`cannot add cotangents of lengths 3 and 2`).
@pytest.mark.parametrize("name", sorted(CALLEES))
def test_fourth_derivatives_through_user_calls(name, rng):
    f_np, f_ag = make(CALLEES[name])
    x = rand(rng, (3,))
    a4 = _sum_grad(_sum_grad(_sum_grad(autograd.grad(f_ag))))
    np.testing.assert_allclose(sg.grad(sg.grad(sg.grad(sg.grad(f_np))))(x), _quiet(a4, x), rtol=1e-8, atol=1e-10)


FOURTH = {
    "norm": """
def f(x):
    return np.linalg.norm(x * x + 1.0)
""",
    "comprehension": """
def f(x):
    ys = [np.sin(x[i]) * x[i] for i in range(3)]
    return ys[0] * ys[1] + ys[2]
""",
    "while": """
def f(x):
    s = x
    k = 0
    while k < 3:
        s = np.sin(s) * x
        k = k + 1
    return np.sum(s)
""",
}


@pytest.mark.parametrize("name", sorted(FOURTH))
def test_fourth_derivatives_of_unbound_residuals_and_lists(name, rng):
    f_np, f_ag = make(FOURTH[name])
    x = rand(rng, (3,))
    g3 = sg.grad(sg.grad(sg.grad(f_np)))
    g4 = sg.grad(g3)(x)
    a4 = _sum_grad(_sum_grad(_sum_grad(autograd.grad(f_ag))))
    np.testing.assert_allclose(g4, _quiet(a4, x), rtol=1e-8, atol=1e-10)
    fd = np.array([(np.sum(g3(x + e)) - np.sum(g3(x - e))) / 2e-5 for e in np.eye(3) * 1e-5])
    np.testing.assert_allclose(g4, fd, rtol=1e-4, atol=1e-6)


# A zero that the adjoint sweep makes (`0.0`, or `sg.zeros_like` of a generated gradient's own
# `dresult = 0.0`) may stand for a list's cotangent: the lowering accumulated into it with `+=`
# (`float += list`, grad of grad of grad of a comprehension, through `sg.unconcat`'s derivatives).
LISTS = {
    "comprehension": """
def f(x):
    ys = [np.sin(x[i]) * x[i] for i in range(3)]
    return ys[0] * ys[1] + ys[2]
""",
    "append": """
def f(x):
    out = []
    for i in range(3):
        out.append(x[i] * x[i] * x[(i + 1) % 3])
    return out[0] * out[1] + out[2]
""",
}


@pytest.mark.parametrize("optimized", OPTIMIZED)
@pytest.mark.parametrize("name", sorted(LISTS))
def test_derivatives_of_list_building_code(name, optimized, rng):
    f_np, _ = make(LISTS[name])
    x = rand(rng, (3,))
    g = lambda fn: sg.grad(fn, optimized=optimized)
    g2 = g(g(f_np))
    if name == "comprehension":  # autograd's twin builds the same list
        _, f_ag = make(LISTS[name])
        a2 = _sum_grad(autograd.grad(f_ag))
        np.testing.assert_allclose(g2(x), _quiet(a2, x), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(g(g2)(x), _quiet(_sum_grad(a2), x), rtol=1e-9, atol=1e-12)
    fd = np.array([(np.sum(g2(x + e)) - np.sum(g2(x - e))) / 2e-6 for e in np.eye(3) * 1e-6])
    np.testing.assert_allclose(g(g2)(x), fd, rtol=1e-5, atol=1e-7)


# The adjoint of `sg.written` (`sg.unwritten`) is a dict's or list's cotangent: accumulated with
# `+` it raised `dict + dict` at order 2 (`clear_written` of a float cotangent at order 3).
WRITES = {
    "dict": """
def f(x):
    d = {}
    d['a'] = x * x
    d['b'] = np.sin(d['a'])
    return np.sum(d['b'] * x)
""",
    "array": """
def f(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = np.sin(x[i]) * x[i]
    return np.sum(y * y)
""",
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_derivatives_of_in_place_writes(name, rng):
    f_np, _ = make(WRITES[name])
    x = rand(rng, (3,))
    fd = lambda F: np.array([(np.sum(F(x + e)) - np.sum(F(x - e))) / 2e-6 for e in np.eye(3) * 1e-6])
    g1 = sg.grad(f_np)
    g2 = sg.grad(g1)
    np.testing.assert_allclose(g2(x), fd(g1), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sg.grad(g2)(x), fd(g2), rtol=1e-5, atol=1e-7)


def test_a_derivative_of_a_derivative_whose_text_linecache_dropped(rng):
    """Generated code is read back to be transformed again; after linecache.clearcache() (which
    IPython and test runners call) the generated function's own copy of its text is used."""
    import linecache

    def f(x):
        return np.sum(np.sin(x) ** 2 * x)

    x = rand(rng, (3,))
    first = sg.grad(f)(x)  # made and cached, its text in linecache
    linecache.clearcache()
    second = sg.grad(sg.grad(f))(x)
    h = 1e-6
    fd = np.array([(np.sum(sg.grad(f)(x + h * e)) - np.sum(sg.grad(f)(x - h * e))) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(second, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sg.grad(f)(x), first, rtol=1e-15)
