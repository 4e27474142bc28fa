"""Complex inputs: sourcegrad follows autograd's convention (docs/dtypes.md).

For a real-valued f of z = x + iy, ``sg.grad(f)(z) = df/dx - i df/dy`` (elementwise): autograd's
``grad`` gives the same, and JAX's documents the same; PyTorch returns the conjugate. A cotangent
``c`` of a complex output pairs with it through ``Re(c * out)``, so the gradient of a complex-valued
f with the default seed 1.0 is that of ``Re(sum(f))``: for a holomorphic f, ``f'(z)``, what
autograd's ``holomorphic_grad`` returns. Forward mode is the derivative along a complex direction
``v``: ``df/dx Re(v) + df/dy Im(v)`` for a real f, ``f'(z) v`` for a holomorphic one.

Every case is checked against central differences in the real and the imaginary direction of each
element (float64) and against autograd on the same source. Functions with real results of complex
arguments (abs, norms, var, angle, imag) and real arguments of programs with complex values come
at the end.
"""

import dataclasses

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import make

import sourcegrad as sg

H = 1e-6


def complex_normal(rng, shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


def fd_gradient(f, z, i):
    """Central differences of real f at z in argument i: df/dx - i df/dy, element by element."""
    z = list(z)
    x = np.asarray(z[i], dtype=complex)
    g = np.zeros(x.shape, dtype=complex)
    for index in np.ndindex(x.shape):
        parts = []
        for step in (H, 1j * H):
            up, down = x.copy(), x.copy()
            up[index] += step
            down[index] -= step
            parts.append((f(*z[:i], up, *z[i + 1 :]) - f(*z[:i], down, *z[i + 1 :])) / (2 * H))
        g[index] = parts[0] - 1j * parts[1]
    return g


def fd_direction(f, z, i, v):
    """Central differences of f at z along the complex direction v of argument i."""
    z = list(z)
    up = f(*z[:i], z[i] + H * v, *z[i + 1 :])
    down = f(*z[:i], z[i] - H * v, *z[i + 1 :])
    return (np.asarray(up) - np.asarray(down)) / (2 * H)


# --- real-valued functions of complex inputs ------------------------------------------------------

A = np.array([[2.0 + 0.5j, -0.3j, 0.4], [0.1, 1.5 - 0.2j, 0.3j], [-0.2 + 0.1j, 0.2, 1.8 + 0.3j]])

REAL_VALUED = {
    "abs_squared_by_conj": "return np.real(np.sum(z * np.conj(z)))",
    "real_of_exp": "return np.sum(np.real(np.exp(z)))",
    "real_of_log": "return np.sum(np.real(np.log(z)))",
    "real_of_sqrt": "return np.sum(np.real(np.sqrt(z)))",
    "cos_times_conj": "return np.sum(np.real(np.cos(z) * np.conjugate(z)))",
    "polynomial": "return np.sum(np.real(z ** 3 - 2.0 * z + 1.0 / z))",
    "square_and_tanh": "return np.sum(np.real(np.square(z) * np.tanh(z)))",
    "dot_and_matmul": "return np.real(np.dot(z, z) + np.sum(A @ z) * np.sum(np.conj(z)))",
    "outer_mean_prod": "return np.real(np.sum(np.outer(z, np.conj(z))) + np.mean(z * z)"
    " + np.prod(z))",
    "cumsum": "return np.sum(np.real(np.cumsum(z) * np.conj(np.cumsum(z))))",
    "einsum": "return np.real(np.einsum('i,ij,j->', np.conj(z), A, z))",
    "inv_solve_det": "return np.real(np.sum(np.linalg.inv(A + np.diag(z)))"
    " + np.sum(np.linalg.solve(A, z)) + np.linalg.det(A + np.diag(z)))",
    "reshape_and_transpose": "return np.real(np.sum(np.reshape(z, (3, 1)).T"
    " @ np.conj(np.reshape(z, (3, 1)))))",
    "where_on_real_part": "return np.real(np.sum(np.where(np.real(z) > 0, z * z, np.conj(z))))",
    "indexing_and_loop": "s = 0.0\n    for i in range(3):\n"
    "        s = s + np.real(z[i] * np.conj(z[(i + 1) % 3]))\n    return s",
}


def program(body, params="z"):
    return f"def f({params}):\n    {body}\n"


@pytest.mark.parametrize("name", sorted(REAL_VALUED))
def test_real_valued_function_of_complex_input(name, rng):
    f_np, f_ag = make(program(REAL_VALUED[name]), A=A)
    z = complex_normal(rng, 3) + 2.0  # away from log's and sqrt's branch cut
    got = sg.grad(f_np)(z)
    assert got.dtype == np.complex128 and got.shape == z.shape
    want = fd_gradient(f_np, (z,), 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg="vs df/dx - i df/dy")
    np.testing.assert_allclose(
        got, autograd.grad(f_ag)(z), rtol=1e-10, atol=1e-12, err_msg="vs autograd"
    )
    # Forward mode along a complex direction; it agrees with the gradient: Re(g * v).
    v = complex_normal(rng, 3)
    tangent = sg.autodiff(f_np, mode="forward")(z, v)
    np.testing.assert_allclose(tangent, fd_direction(f_np, (z,), 0, v), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tangent, np.real(np.sum(got * v)), rtol=1e-10, atol=1e-12)
    assert np.isrealobj(tangent)


def test_the_convention_in_numbers():
    """|z|^2 at 3+4j: df/dx = 6, df/dy = 8, so the gradient is 6-8j (PyTorch would give 6+8j)."""
    f_np, f_ag = make(program("return np.real(z * np.conj(z))"))
    z = 3.0 + 4.0j
    assert sg.grad(f_np)(z) == pytest.approx(6.0 - 8.0j)
    assert autograd.grad(f_ag)(z) == pytest.approx(6.0 - 8.0j)
    assert fd_gradient(f_np, (np.array(z),), 0) == pytest.approx(6.0 - 8.0j)
    # Gradient descent moves along the conjugate: z - lr * conj(g) heads for 0.
    g = sg.grad(f_np)(z)
    assert f_np(z - 0.1 * np.conj(g)) < f_np(z) < f_np(z - 0.1 * g)


def test_complex_and_real_arguments_together(rng):
    """wrt a complex argument of a function that also takes a real one (held fixed)."""
    src = program("return np.sum(np.real(np.exp(w * z) * np.conj(z)) * w)", "z, w")
    f_np, f_ag = make(src)
    z, w = complex_normal(rng, 3), rng.normal(size=3)
    got = sg.grad(f_np)(z, w)
    np.testing.assert_allclose(got, fd_gradient(f_np, (z, w), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, autograd.grad(f_ag)(z, w), rtol=1e-10, atol=1e-12)


def test_array_methods(rng):
    """z.conj(), z.T, z.sum(): sourcegrad only (autograd's boxes lack conj()); the function-call
    spelling is checked against autograd above."""
    f_np, _ = make(program("return np.real((z.T @ z.conj()).sum() + (z * z).sum())"))
    z = complex_normal(rng, (2, 2))
    got = sg.grad(f_np)(z)
    np.testing.assert_allclose(got, fd_gradient(f_np, (z,), 0), rtol=1e-6, atol=1e-8)
    # sum(z.T @ conj(z)) = sum_k |row sum k|^2, and |w|^2 has the gradient 2 conj(w).
    rows = np.sum(z, axis=1, keepdims=True)
    np.testing.assert_allclose(got, 2 * np.conj(rows) * np.ones((2, 2)) + 2 * z, rtol=1e-12)


# --- complex-valued functions: the seed picks the real part ---------------------------------------

HOLOMORPHIC = {
    "sin": "return np.sum(np.sin(z))",
    "polynomial": "return np.sum(z ** 3 - 2.0 * z * z + 1.0)",
    "exp_log": "return np.sum(np.exp(z) * np.log(z))",
    "matmul": "return np.sum(A @ (z * z))",
}


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC))
def test_holomorphic_function_gives_its_complex_derivative(name, rng):
    f_np, f_ag = make(program(HOLOMORPHIC[name]), A=A)
    z = complex_normal(rng, 3) + 2.0
    got = sg.grad(f_np)(z)
    # f'(z) is the derivative along the real direction, and 1/i times that along the imaginary one.
    for k in range(3):
        e = np.eye(3)[k]
        np.testing.assert_allclose(got[k], fd_direction(f_np, (z,), 0, e), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(
            got[k], fd_direction(f_np, (z,), 0, 1j * e) / 1j, rtol=1e-6, atol=1e-8
        )
    np.testing.assert_allclose(got, autograd.holomorphic_grad(f_ag)(z), rtol=1e-10, atol=1e-12)
    # autograd's (and JAX's) grad refuses a complex output; sourcegrad takes its real part.
    with pytest.raises(TypeError):
        autograd.grad(f_ag)(z)
    np.testing.assert_allclose(
        got, autograd.grad(lambda u: anp.real(f_ag(u)))(z), rtol=1e-10, atol=1e-12
    )
    v = complex_normal(rng, 3)
    tangent = sg.autodiff(f_np, mode="forward")(z, v)
    np.testing.assert_allclose(tangent, fd_direction(f_np, (z,), 0, v), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tangent, np.sum(got * v), rtol=1e-10, atol=1e-12)


NON_HOLOMORPHIC = "return z * np.conj(z) * z + np.exp(np.conj(z)) - 2.0j * z"


@pytest.mark.parametrize("seed", [1.0, -1.0j, 0.3 - 0.7j])
def test_seed_c_gives_the_gradient_of_re_c_times_f(seed, rng):
    """dout=c: the gradient of Re(sum(c * f)); dout=-1j gives that of Im(sum(f))."""
    f_np, f_ag = make(program(NON_HOLOMORPHIC))
    z = complex_normal(rng, 3)
    c = np.full(3, seed)
    got = sg.grad(f_np)(z, c)
    real_part = lambda u: np.real(np.sum(c * f_np(u)))
    np.testing.assert_allclose(got, fd_gradient(real_part, (z,), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        got, autograd.grad(lambda u: anp.real(anp.sum(c * f_ag(u))))(z), rtol=1e-10, atol=1e-12
    )
    out, pullback = sg.vjp(f_np, z)
    np.testing.assert_allclose(out, f_np(z))
    np.testing.assert_allclose(pullback(c)[0], got, rtol=1e-12)


def test_forward_and_reverse_agree_through_re_of_the_product(rng):
    """The pairing that defines the convention: Re(sum(u * jvp(v))) == Re(sum(vjp(u) * v))."""
    f_np, _ = make(program(NON_HOLOMORPHIC))
    z, u, v = complex_normal(rng, 4), complex_normal(rng, 4), complex_normal(rng, 4)
    _, tangent = sg.jvp(f_np, (z,), (v,))
    np.testing.assert_allclose(tangent, fd_direction(f_np, (z,), 0, v), rtol=1e-6, atol=1e-8)
    (cotangent,) = sg.vjp(f_np, z)[1](u)
    assert np.real(np.sum(u * tangent)) == pytest.approx(np.real(np.sum(cotangent * v)), rel=1e-10)


def test_hessian_of_a_real_function_of_a_complex_input(rng):
    """The Hessian of |z|^2 + Re(z^3): hvp(v) is the forward derivative of the gradient along v."""
    f_np, _ = make(program("return np.real(np.sum(z * np.conj(z) + z ** 3))"))
    z, v = complex_normal(rng, 3), complex_normal(rng, 3)
    grad_f = sg.grad(f_np)
    np.testing.assert_allclose(
        sg.hvp(f_np)(z, v), fd_direction(grad_f, (z,), 0, v), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(sg.hvp(f_np)(z, v), 2 * np.conj(v) + 6 * z * v, rtol=1e-10)


# --- primitives with real results: the rules take the real part of their cotangent ------------

# Each is checked against central differences in both modes, and against autograd where it has the
# function (autograd has no vdot, no x.real or x.imag spelling, no deg for angle, no vector norms
# with ord <= 1, nan for ord inf, and no matrix norms but 'fro' and 'nuc').
REAL_RESULTS = {
    "abs": "return np.sum(np.abs(z))",
    "abs_squared": "return np.sum(np.abs(z) ** 2)",
    "norm": "return np.linalg.norm(z)",
    "norm_ord_1": "return np.linalg.norm(z, 1)",
    "norm_ord_3": "return np.linalg.norm(z, 3)",
    "norm_ord_inf": "return np.linalg.norm(z, np.inf)",
    "norm_fro": "return np.linalg.norm(np.outer(z, A @ z), 'fro')",
    "norm_nuc": "return np.linalg.norm(np.outer(z, z) + A, 'nuc')",
    "norm_matrix_2": "return np.linalg.norm(np.outer(z, z) + A, 2)",
    "norm_matrix_1": "return np.linalg.norm(np.outer(z, z) + A, 1)",
    "norm_axis": "return np.sum(np.linalg.norm(np.outer(z, z) + A, axis=1))",
    "norm_times_complex": "return np.real(np.linalg.norm(z) * (1.0 + 2.0j))",
    "var": "return np.var(z)",
    "std": "return np.std(z)",
    "var_std_times_complex": "return np.real(np.var(z) * (1.0 + 2.0j) + np.std(z) * (2.0 - 1.0j))",
    "vdot": "return np.real(np.vdot(z, A @ z))",
    "imag": "return np.sum(np.imag(z) ** 2)",
    "imag_times_complex": "return np.real(np.sum(np.imag(z) * (1.0 - 3.0j) * z))",
    "angle": "return np.sum(np.angle(z))",
    "angle_deg": "return np.sum(np.angle(z, deg=True) * np.abs(z))",
    "real_attribute": "return np.sum(z.real * z.imag + z.real ** 2)",
}
NOT_IN_AUTOGRAD = {"vdot", "real_attribute", "angle_deg", "norm_ord_1", "norm_ord_inf",
                   "norm_matrix_2", "norm_matrix_1"}
if hasattr(np.linalg, "vector_norm"):  # NumPy 2: the array-API norms share norm's helpers
    REAL_RESULTS["vector_norm"] = "return np.linalg.vector_norm(z, ord=3)"
    REAL_RESULTS["matrix_norm"] = "return np.linalg.matrix_norm(np.outer(z, z) + A, ord='nuc')"
    NOT_IN_AUTOGRAD |= {"vector_norm", "matrix_norm"}


@pytest.mark.parametrize("name", sorted(REAL_RESULTS))
def test_primitive_with_a_real_result(name, rng):
    f_np, f_ag = make(program(REAL_RESULTS[name]), A=A)
    z = complex_normal(rng, 3)
    want = fd_gradient(f_np, (z,), 0)
    got = sg.grad(f_np)(z)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg="vs df/dx - i df/dy")
    if name not in NOT_IN_AUTOGRAD:
        np.testing.assert_allclose(
            got, autograd.grad(f_ag)(z), rtol=1e-9, atol=1e-10, err_msg="vs autograd"
        )
    v = complex_normal(rng, 3)
    tangent = sg.autodiff(f_np, mode="forward")(z, v)
    np.testing.assert_allclose(tangent, fd_direction(f_np, (z,), 0, v), rtol=1e-6, atol=1e-8)
    assert np.isrealobj(tangent)


def test_angle_and_imag_follow_autograd_at_a_point():
    """arg(z) at 3+4j: d/dx = -4/25, d/dy = 3/25, so the gradient is (-4 - 3j)/25; Im(z): -1j."""
    f_np, f_ag = make(program("return np.angle(z)"))
    assert sg.grad(f_np)(3.0 + 4.0j) == pytest.approx((-4.0 - 3.0j) / 25)
    assert autograd.grad(f_ag)(3.0 + 4.0j) == pytest.approx((-4.0 - 3.0j) / 25)
    f_np, f_ag = make(program("return np.imag(z)"))
    assert sg.grad(f_np)(3.0 + 4.0j) == pytest.approx(-1.0j)
    assert autograd.grad(f_ag)(3.0 + 4.0j) == pytest.approx(-1.0j)


# --- real arguments in programs with complex values: their gradients are real -------------------

MIXED = program("return np.real(np.sum(np.exp(1j * x) * c) * np.sum(x * c))", "x, c")


def test_real_argument_mixed_with_complex_values_gets_a_real_gradient(rng):
    """The cotangent of a real value is real (autograd's too); the complex argument's is not."""
    f_np, f_ag = make(program("return np.real(np.sum(x * c))", "x, c"))
    x, c = rng.normal(size=3), complex_normal(rng, 3)
    got = sg.grad(f_np)(x, c)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.real(c), rtol=1e-12)
    np.testing.assert_allclose(got, autograd.grad(f_ag)(x, c), rtol=1e-12)
    dx, dc = sg.grad(f_np, wrt=(0, 1))(x, c)
    assert np.isrealobj(dx) and np.iscomplexobj(dc)
    np.testing.assert_allclose(dc, autograd.grad(f_ag, 1)(x, c), rtol=1e-12)
    assert isinstance(sg.grad(f_np)(0.5, c), float)  # a Python float's: a real number too


def test_real_argument_in_every_mode(rng):
    """grad, value_and_grad, preserve_result, vjp, forward mode, hvp and Hessians: a real
    argument's derivatives are real and agree with central differences and autograd."""
    f_np, f_ag = make(MIXED)
    x, c = rng.normal(size=3), complex_normal(rng, 3)
    want = autograd.grad(f_ag)(x, c)
    np.testing.assert_allclose(want, np.real(fd_gradient(f_np, (x, c), 0)), rtol=1e-6, atol=1e-8)
    results = {
        "grad": sg.grad(f_np)(x, c),
        "value_and_grad": sg.value_and_grad(f_np)(x, c)[1],
        "preserve_result": sg.grad(f_np, preserve_result=True)(x, c)[0],
        "vjp": sg.vjp(f_np, x, c)[1](1.0)[0],
        "wrt both": sg.grad(f_np, wrt=(0, 1))(x, c)[0],
    }
    for mode, got in results.items():
        assert np.isrealobj(got), mode
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=mode)
    v = rng.normal(size=3)
    tangent = sg.autodiff(f_np, mode="forward")(x, c, v)
    assert np.isrealobj(tangent)
    np.testing.assert_allclose(tangent, np.sum(want * v), rtol=1e-10)
    hessian = autograd.hessian(f_ag)(x, c)
    for mode, got in {
        "hvp": sg.hvp(f_np)(x, c, v),
        "hessian": sg.hessian(f_np)(x, c) @ v,
        "grad of grad": sg.jacobian(sg.grad(f_np))(x, c) @ v,
    }.items():
        assert np.isrealobj(got), mode
        np.testing.assert_allclose(got, hessian @ v, rtol=1e-8, atol=1e-10, err_msg=mode)


# --- `.real` and `.imag`: of an array, np.real and np.imag; of a user object, its fields ------------


@dataclasses.dataclass
class Parts:
    """A record whose fields happen to be named like an array's parts."""

    real: np.ndarray
    imag: np.ndarray


def test_fields_named_real_and_imag_of_an_object_are_its_fields(rng):
    """`p.real` of a record is its field, not np.real(p): the gradient with respect to the record
    has the record's structure and each field's own derivative, in both modes."""
    ns = sg.exec_source(program("return np.sum(x * p.real + p.imag * x * x)", "x, p"), {"np": np})
    f = ns["f"]
    x, p = rng.normal(size=3), Parts(rng.normal(size=3), rng.normal(size=3))
    dp = sg.grad(f, wrt=1)(x, p)
    assert isinstance(dp, Parts)
    np.testing.assert_allclose(dp.real, x, rtol=1e-12)
    np.testing.assert_allclose(dp.imag, x * x, rtol=1e-12)
    np.testing.assert_allclose(sg.grad(f)(x, p), p.real + 2 * p.imag * x, rtol=1e-12)
    v = rng.normal(size=3)
    np.testing.assert_allclose(sg.autodiff(f, mode="forward")(x, p, v), np.sum((p.real + 2 * p.imag * x) * v),
                               rtol=1e-12)


def test_parts_of_a_computed_array_differentiate_twice(rng):
    """`y.real` of an array the function computes is np.real(y): its Hessian works and matches
    autograd's; of an argument (read when the code runs) a second derivative is a clear error."""
    f_np, _ = make(program("y = np.exp(1j * x)\n    return np.sum(y.real * y.imag + y.real ** 2)", "x"))
    _, f_ag = make(program("y = np.exp(1j * x)\n    return np.sum(np.real(y) * np.imag(y) + np.real(y) ** 2)", "x"))
    x = rng.normal(size=3)  # autograd's boxes have no .real: its twin spells np.real
    np.testing.assert_allclose(sg.hessian(f_np)(x), autograd.hessian(f_ag)(x), rtol=1e-10, atol=1e-12)
    f = sg.exec_source(program("return np.sum(z.real * z.imag)"), {"np": np})["f"]
    with pytest.raises(sg.TransformError, match="attribute read when the code runs"):
        sg.hessian(f)(x)


# --- np.linalg: rules written for real matrices refuse complex ones; the others follow the convention


LINALG_REAL_ONLY = {
    "cholesky": "return np.real(np.sum(np.linalg.cholesky(z @ np.conj(z.T) + 3.0 * np.eye(3))))",
    "eigh": "return np.sum(np.abs(np.linalg.eigh(z @ np.conj(z.T))[1][:, 0]) ** 2 * np.arange(3.0))",
    "eigvalsh": "return np.sum(np.linalg.eigvalsh(z @ np.conj(z.T)) ** 2)",
    "qr": "return np.real(np.sum(np.linalg.qr(z)[1]))",
    "svd": "return np.sum(np.linalg.svd(z, compute_uv=False))",
    "cond": "return np.linalg.cond(z)",
    "pinv": "return np.real(np.sum(np.linalg.pinv(z)))",
    "lstsq": "return np.real(np.sum(np.linalg.lstsq(z, np.ones(3), rcond=None)[0]))",
}
LINALG_COMPLEX = {
    "det": "return np.real(np.linalg.det(z))",
    "inv": "return np.real(np.sum(np.linalg.inv(z) * A))",
    "solve": "return np.real(np.sum(np.linalg.solve(z, A[0])))",
    "slogdet": "return np.linalg.slogdet(z)[1]",
    "matrix_power": "return np.real(np.sum(np.linalg.matrix_power(z, 3) * A))",
    "multi_dot": "return np.real(np.sum(np.linalg.multi_dot([z, A, z])))",
}


@pytest.mark.parametrize("name", sorted(LINALG_REAL_ONLY))
def test_linalg_rules_for_real_matrices_refuse_complex_ones(name, rng):
    f = sg.exec_source(program(LINALG_REAL_ONLY[name]), {"np": np})["f"]
    z = complex_normal(rng, (3, 3))
    with pytest.raises(ValueError, match="written for real matrices here"):
        sg.grad(f)(z)
    with pytest.raises(ValueError, match="written for real matrices here"):
        sg.autodiff(f, mode="forward")(z, complex_normal(rng, (3, 3)))


@pytest.mark.parametrize("name", sorted(LINALG_COMPLEX))
def test_linalg_rules_of_plain_products_follow_the_convention(name, rng):
    f_np, f_ag = make(program(LINALG_COMPLEX[name]), A=A)
    z = complex_normal(rng, (3, 3)) + 2.0 * np.eye(3)
    got = sg.grad(f_np)(z)
    np.testing.assert_allclose(got, fd_gradient(f_np, (z,), 0), rtol=1e-6, atol=1e-7)
    if name not in ("multi_dot", "matrix_power"):  # autograd has no multi_dot, no VJP of matrix_power
        np.testing.assert_allclose(got, autograd.grad(f_ag)(z), rtol=1e-9, atol=1e-10)
    v = complex_normal(rng, (3, 3))
    np.testing.assert_allclose(sg.autodiff(f_np, mode="forward")(z, v), fd_direction(f_np, (z,), 0, v),
                               rtol=1e-6, atol=1e-7)


# A complex value written into a float array: NumPy keeps its real part (with a ComplexWarning),
# and the derivative is that of the real part, in both modes (setitem's rules read the cotangent of
# the float array, which is real; the tangent written into the float tangent array drops its
# imaginary part as the value does).
def complex_written_into_floats(z):
    v = np.zeros(3)
    v[0] = z[0] * z[1]
    v[1:] = z[1:] * 2.0
    return np.sum(v ** 2)


def complex_written_into_floats_twin(z):
    return anp.real(z[0] * z[1]) ** 2 + anp.sum(anp.real(z[1:] * 2.0) ** 2)


def test_a_complex_value_written_into_a_float_array_keeps_its_real_part(rng):
    z, v = complex_normal(rng, (3,)), complex_normal(rng, (3,))
    with pytest.warns(np.exceptions.ComplexWarning):
        got = sg.grad(complex_written_into_floats)(z)
    with pytest.warns(np.exceptions.ComplexWarning):
        expected = fd_gradient(complex_written_into_floats, (z,), 0)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, autograd.grad(complex_written_into_floats_twin)(z), rtol=1e-12)
    with pytest.warns(np.exceptions.ComplexWarning):
        tangent = sg.autodiff(complex_written_into_floats, mode="forward")(z, v)
        along = fd_direction(complex_written_into_floats, (z,), 0, v)
    np.testing.assert_allclose(tangent, along, rtol=1e-6, atol=1e-8)
