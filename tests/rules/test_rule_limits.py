"""Where a rule's derivative is not defined, it says so (a ValueError naming the case); where it
is defined only in part, the defined part is right. Through the transforms, both modes."""

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.errors import TransformError

rng = np.random.default_rng(3)
TALL = rng.normal(size=(4, 3))


def singular_values_of_full_svd(a):
    return np.sum(np.linalg.svd(a)[1])  # full_matrices=True, but only s is used


def left_vectors_of_full_svd(a):
    return np.sum(np.linalg.svd(a)[0])


def r_of_complete_qr(a):
    return np.sum(np.linalg.qr(a, mode="complete")[1] ** 2)


def q_of_complete_qr(a):
    return np.sum(np.linalg.qr(a, mode="complete")[0])


def q_of_wide_qr(a):
    return np.sum(np.linalg.qr(a.T)[0])


def inverted_cdf_quantile(a):
    return np.quantile(a, 0.3, method="inverted_cdf")


def zero_norm(a):
    return np.linalg.norm(np.ravel(a), 0)


def test_full_svd_of_a_tall_matrix_differentiates_its_unique_part():
    u, _, vh = np.linalg.svd(TALL, full_matrices=False)
    np.testing.assert_allclose(sg.grad(singular_values_of_full_svd)(TALL), u @ vh, atol=1e-12)


def test_complete_qr_of_a_tall_matrix_differentiates_r():
    expected = sg.grad(lambda a: np.sum(np.linalg.qr(a)[1] ** 2))(TALL)
    np.testing.assert_allclose(sg.grad(r_of_complete_qr)(TALL), expected, atol=1e-12)


@pytest.mark.parametrize(
    "f, message",
    [
        (left_vectors_of_full_svd, "not unique"),
        (q_of_complete_qr, "not unique"),
        (q_of_wide_qr, "m >= n"),
        (inverted_cdf_quantile, "method"),
        (zero_norm, "ord=0"),
    ],
)
def test_undefined_derivatives_raise_in_reverse_mode(f, message):
    with pytest.raises(ValueError, match=message):
        sg.grad(f)(TALL)


@pytest.mark.parametrize(
    "f, message",
    [
        (singular_values_of_full_svd, "full_matrices=False"),
        (q_of_complete_qr, "not unique"),
        (inverted_cdf_quantile, "method"),
    ],
)
def test_undefined_derivatives_raise_in_forward_mode(f, message):
    with pytest.raises(ValueError, match=message):
        sg.jvp(f, (TALL,), (np.ones_like(TALL),))


def seven_operand_einsum(x):
    return np.einsum("i,i,i,i,i,i,i->", x, x, x, x, x, x, x)


def test_einsum_beyond_six_operands_raises_in_both_modes():
    x = np.arange(1.0, 4.0)
    with pytest.raises(ValueError, match="up to six operands"):
        sg.grad(seven_operand_einsum)(x)
    with pytest.raises(ValueError, match="up to six operands"):
        sg.jvp(seven_operand_einsum, (x,), (np.ones_like(x),))


def cov_with_frequencies(w):
    return np.sum(np.cov(TALL.T, fweights=w))


def test_cov_frequency_weights_raise_in_both_modes():
    w = np.array([1.0, 2.0, 1.0, 3.0])
    with pytest.raises(ValueError, match="fweights are integer counts"):
        sg.grad(cov_with_frequencies)(w)
    with pytest.raises(ValueError, match="fweights are integer counts"):
        sg.jvp(cov_with_frequencies, (w,), (np.ones_like(w),))


def gradient_with_four_spacings(x):
    return np.sum(np.gradient(np.reshape(x, (3, 3, 3, 3)), 1.0, 2.0, 0.5, 2)[0])


def test_gradient_beyond_three_spacing_arguments_raises_in_both_modes():
    # the fourth spacing must not be read as `axis`
    x = np.arange(81.0) ** 2
    with pytest.raises(ValueError, match="up to three spacing arguments"):
        sg.grad(gradient_with_four_spacings)(x)
    with pytest.raises(ValueError, match="up to three spacing arguments"):
        sg.jvp(gradient_with_four_spacings, (x,), (np.ones_like(x),))


# np.piecewise with functions in funclist: they are differentiated when they run (first order, both
# modes); their second derivatives raise, naming the cause.
def _cube(v):
    return v * v * v


def piecewise_with_functions(x):
    y = np.piecewise(x, [x < -0.5, x > 0.3, x > 1.0], [_cube, np.sin, 1.5, np.exp])
    return np.sum(y * y)


def piecewise_with_arguments(x):
    return np.sum(np.piecewise(x, [x < 0.0], [_scaled, 0.0], 2.0))


def _scaled(v, k):
    return v * k


PIECEWISE_X = np.array([-1.2, -0.7, -0.1, 0.2, 0.6, 0.9, 1.4, 1.9])


def _central_differences(f, x, eps=1e-6):
    return np.array([(f(x + e) - f(x - e)) / (2 * eps) for e in np.eye(x.size) * eps])


def test_piecewise_functions_are_differentiated_in_both_modes():
    expected = _central_differences(piecewise_with_functions, PIECEWISE_X)
    np.testing.assert_allclose(sg.grad(piecewise_with_functions)(PIECEWISE_X), expected, rtol=1e-6)
    v = np.linspace(-1.0, 1.0, PIECEWISE_X.size)
    _, tangent = sg.jvp(piecewise_with_functions, (PIECEWISE_X,), (v,))
    np.testing.assert_allclose(tangent, expected @ v, rtol=1e-6)


def test_second_derivatives_of_piecewise_functions_raise():
    with pytest.raises(TransformError, match="resolved at run time"):
        sg.hessian(piecewise_with_functions)(PIECEWISE_X)
    with pytest.raises(TransformError, match="resolved at run time"):
        sg.jacobian(sg.grad(piecewise_with_functions))(PIECEWISE_X)


def test_piecewise_extra_arguments_for_the_functions_raise():
    with pytest.raises(TransformError, match="too many arguments for the rule of numpy.piecewise"):
        sg.grad(piecewise_with_arguments)(PIECEWISE_X)


# --- repeated eigen- and singular values: their vectors are not unique ----------------------------
Q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
REPEATED = Q @ np.diag([1.0, 1.0, 2.5]) @ Q.T
REPEATED = (REPEATED + REPEATED.T) / 2  # eigenvalues 1, 1, 2.5; singular values the same


def vector_of_a_repeated_eigenvalue(a):
    w, v = np.linalg.eigh(a)
    return np.sum(v[:, 0] ** 3) + np.sum(w)


def vector_of_a_single_eigenvalue(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w ** 2) + np.sum(v[:, 2] ** 4)


def vector_of_a_repeated_singular_value(a):
    u, _s, _vh = np.linalg.svd(a)
    return np.sum(u[:, 2] ** 3)


def vector_of_a_single_singular_value(a):
    _u, s, vh = np.linalg.svd(a)
    return np.sum(s ** 3) + np.sum(vh[0] ** 4)


@pytest.mark.parametrize("f, what", [(vector_of_a_repeated_eigenvalue, "eigenvectors of np.linalg.eigh"),
                                     (vector_of_a_repeated_singular_value, "singular vectors of np.linalg.svd")])
def test_vectors_of_repeated_values_raise_in_reverse_mode_and_are_nan_in_forward_mode(f, what):
    with pytest.raises(ValueError, match=f"derivative of the {what} is not defined here.*coincide"):
        sg.grad(f)(REPEATED)
    assert np.isnan(sg.autodiff(f, mode="forward")(REPEATED, rng.normal(size=(3, 3))))


@pytest.mark.parametrize("f", [vector_of_a_single_eigenvalue, vector_of_a_single_singular_value])
def test_vectors_of_single_values_beside_repeated_ones_are_right(f):
    """The derivative exists for the vector of an eigen- or singular value of its own: both modes
    agree with central differences along a symmetric direction (eigh reads one triangle)."""
    d = rng.normal(size=(3, 3))
    d = d + d.T
    fd = (f(REPEATED + 1e-6 * d) - f(REPEATED - 1e-6 * d)) / 2e-6
    assert np.sum(sg.grad(f)(REPEATED) * d) == pytest.approx(fd, rel=1e-6, abs=1e-8)
    assert sg.autodiff(f, mode="forward")(REPEATED, d) == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_functions_of_repeated_values_alone_are_right():
    def values(a):
        w, _v = np.linalg.eigh(a)
        s = np.linalg.svd(a)[1]
        return np.sum(w ** 3) + np.sum(s ** 2)

    d = rng.normal(size=(3, 3))
    d = d + d.T
    fd = (values(REPEATED + 1e-6 * d) - values(REPEATED - 1e-6 * d)) / 2e-6
    assert np.sum(sg.grad(values)(REPEATED) * d) == pytest.approx(fd, rel=1e-6)
    assert sg.autodiff(values, mode="forward")(REPEATED, d) == pytest.approx(fd, rel=1e-6)
