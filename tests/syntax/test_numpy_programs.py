"""Whole NumPy programs through the public API: models people differentiate, written the way people
write them (reductions with axis/keepdims, linear algebra, slicing in loops), each checked against
central finite differences and, where autograd runs the same source, against autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, check_grad, make, rand

import sourcegrad as sg

# --- classifiers --------------------------------------------------------------------------------

MLP = """
def loss(W1, b1, W2, b2, x, labels):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    logp = logits - lse
    return -np.mean(np.sum(logp * labels, axis=1))
"""


def test_mlp_with_softmax_cross_entropy(rng):
    x = rng.normal(size=(5, 3))
    labels = np.eye(4)[[0, 1, 3, 2, 1]]
    args = (rand(rng, (3, 6)), rand(rng, (6,)), rand(rng, (6, 4)), rand(rng, (4,)), x, labels)
    check_against_autograd(MLP, args, wrt=(0, 1, 2, 3))


LOGISTIC = """
def nll(w, b, x, y):
    z = x @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    return -np.mean(y * np.log(p + eps) + (1.0 - y) * np.log(1.0 - p + eps)) + 0.01 * np.sum(w ** 2)
"""


def test_logistic_regression(rng):
    x = rng.normal(size=(8, 3))
    y = (rng.uniform(size=8) > 0.5).astype(float)
    check_against_autograd(LOGISTIC, (rand(rng, (3,)), rand(rng), x, y), wrt=(0, 1))


LOGADDEXP = """
def nll(w, x, y):
    z = x @ w
    return np.sum(np.logaddexp(0.0, -y * z)) / np.size(y)
"""


def test_logistic_regression_with_logaddexp(rng):
    x = rng.normal(size=(6, 3))
    y = np.sign(rng.normal(size=6))
    check_against_autograd(LOGADDEXP, (rand(rng, (3,)), x, y))


# --- Gaussian process ---------------------------------------------------------------------------

GP = """
def gp_nll(log_ell, log_sf, log_sn, x, y):
    d2 = (x[:, None] - x[None, :]) ** 2
    K = np.exp(2.0 * log_sf) * np.exp(-0.5 * d2 / np.exp(2.0 * log_ell))
    K = K + np.exp(2.0 * log_sn) * np.eye(np.size(x))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(K, y)
    return 0.5 * np.dot(y, alpha) + np.sum(np.log(np.diag(L))) + 0.5 * np.size(x) * np.log(2.0 * np.pi)
"""


def test_gaussian_process_negative_log_likelihood(rng):
    x = np.sort(rng.uniform(-2.0, 2.0, size=6))
    y = np.sin(x) + 0.1 * rng.normal(size=6)
    check_against_autograd(GP, (0.1, -0.2, -1.0, x, y), wrt=(0, 1, 2), rtol=1e-5)


# --- convolution with slicing -------------------------------------------------------------------

CONV_SUM = """
def conv_loss(w, x):
    k = np.size(w)
    n = np.size(x) - k + 1
    total = 0.0
    for i in range(n):
        total = total + np.tanh(np.sum(w * x[i:i + k])) ** 2
    return total
"""


def test_one_dimensional_convolution_with_slices(rng):
    check_against_autograd(CONV_SUM, (rand(rng, (3,)), rand(rng, (8,))), wrt=(0, 1))


# --- rules that meet the normal form: lists, tuple results, methods ------------------------------

PROGRAMS = {
    "array_of_a_list": ("""
def f(a, b):
    v = np.array([a * b, np.sin(a), b])
    return np.sum(v * v)
""", lambda rng: (0.3, -0.7), (0, 1), True),
    "slogdet_unpacked": ("""
def f(A):
    s, logdet = np.linalg.slogdet(A)
    return logdet * s
""", lambda rng: (rand(rng, (3, 3)) + 3.0 * np.eye(3),), 0, True),
    "eigh_unpacked": ("""
def f(A):
    S = A + A.T
    w, v = np.linalg.eigh(S)
    return np.sum(w * w) + np.sum(v[:, 0] ** 2 * w)
""", lambda rng: (np.diag([1.0, 2.0, 3.0]) + 0.1 * rand(rng, (3, 3)),), 0, False),
    "einsum_norm_cumsum": ("""
def f(A, x):
    y = np.einsum('ij,j->i', A, x)
    return np.linalg.norm(y) + np.sum(np.cumsum(y) ** 2)
""", lambda rng: (rand(rng, (3, 4)), rand(rng, (4,))), (0, 1), True),
    "array_methods": ("""
def f(X):
    Y = X.T.dot(X)
    return Y.sum() + X.mean(axis=0).max() + X.reshape(-1).std() + X.clip(-0.5, 0.5).cumsum().sum()
""", lambda rng: (rand(rng, (3, 2)),), 0, False),
    "stack_concatenate_trace": ("""
def f(a, b):
    s = np.stack([a, b], axis=1)
    c = np.concatenate([a, b * 2.0])
    return np.sum(s ** 2) + np.sum(np.sin(c)) + np.trace(np.outer(a, b))
""", lambda rng: (rand(rng, (3,)), rand(rng, (3,))), (0, 1), True),
    "split_unpacked": ("""
def f(x):
    a, b = np.split(x, 2)
    return np.sum(a * b)
""", lambda rng: (rand(rng, (4,)),), 0, True),
    "inv_and_det": ("""
def f(A):
    return np.sum(np.linalg.inv(A)) + np.linalg.det(A)
""", lambda rng: (rand(rng, (3, 3)) + 3.0 * np.eye(3),), 0, True),
    "where_maximum_abs": ("""
def f(x):
    r = np.maximum(x, 0.0)
    return np.sum(np.where(x > 0.2, r ** 2, np.abs(x)))
""", lambda rng: (rand(rng, (5,)),), 0, True),
    "qr_and_singular_values": ("""
def f(A):
    q, r = np.linalg.qr(A)
    u, s, vh = np.linalg.svd(A, full_matrices=False)
    return np.sum(r ** 2) + np.sum(s) + np.sum(u[:3, 0] * vh[0, :]) ** 2
""", lambda rng: (rand(rng, (4, 3)),), 0, False),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_numpy_program(name, rng):
    src, args, wrt, with_autograd = PROGRAMS[name]
    args = args(rng)
    if with_autograd:
        check_against_autograd(src, args, wrt=wrt)
    else:  # autograd's rule differs (eigh) or is missing (qr, svd, clip of a method chain)
        f, _ = make(src)
        check_grad(f, args, wrt=wrt)


def test_float32_stays_float32():
    import sourcegrad as sg

    def f(x, w):
        h = np.tanh(x @ w)
        return np.sum(np.log1p(np.exp(h)) * np.sqrt(np.abs(h) + 1.0)) / np.linalg.norm(w)

    x = np.ones((2, 3), np.float32)
    w = np.full((3, 2), 0.5, np.float32)
    dw = sg.grad(f, wrt=1)(x, w)
    assert dw.dtype == np.float32


# --- NumPy's index tricks: the "index" of np.r_ and np.c_ is the data -----------------------------

INDEX_TRICKS = """
def f(x, y, c):
    rows = np.r_[x, c[0], y, 0.5:2.5, x * y]
    cols = np.c_[rows, rows ** 2]
    return np.sum(np.sin(cols[:, 1]) * np.r_['0,2', rows, rows][1])
"""


def test_r_and_c_carry_the_derivative_of_their_items(rng):
    """`np.r_[...]` and `np.c_[...]` with differentiated arrays and numbers, a constant and a slice
    among them: reading them as a subscript of a constant gave a zero gradient, silently."""
    args = (rand(rng, (3,)), rand(rng), rand(rng, (2, 3)))
    check_against_autograd(INDEX_TRICKS, args, wrt=(0, 1))
    f, _ = make(INDEX_TRICKS)
    sg.check_grads(f, args, wrt=(0, 1), order=2)


DOT_SHAPES = """
def f(s, v, M, T3):
    return np.sum(np.sin(np.dot(s, M))) + np.sum(np.dot(v, s) ** 2) + np.sum(np.tanh(np.dot(T3, M.T)))
"""


def test_dot_of_a_number_and_of_n_dimensional_arrays(rng):
    """`np.dot` where an operand is a number (a product) or has more than two axes (a sum over
    the last axis of the first and the second-to-last of the second): its rule was matmul's,
    which raised an IndexError for a number."""
    args = (rand(rng), rand(rng, (4,)), rand(rng, (3, 4)), rand(rng, (2, 5, 4)))
    check_against_autograd(DOT_SHAPES, args, wrt=(0, 1, 2, 3))
    f, _ = make(DOT_SHAPES)
    sg.check_grads(f, args, order=2)
