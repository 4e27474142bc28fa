"""Adjoints and tangents of `np.linalg` factorisations, batched over leading axes like NumPy.

    solve_adjoint_a/b       cotangents of `z = solve(a, b)` (b a vector or a stack of matrices)
    cholesky_adjoint/tangent    L = cholesky(A), A symmetric positive definite
    eigh_adjoint/tangent, eigvalsh_adjoint    (w, V) = eigh(A), A symmetric, distinct eigenvalues
    qr_adjoint/tangent      (Q, R) = qr(A), reduced, m >= n, full column rank
    svd_adjoint/tangent     (U, S, Vh) = svd(A, full_matrices=False), distinct singular values
    pinv_adjoint/tangent    pinv(A), A of full rank
    matrix_power_adjoint/tangent   matrix_power(A, n)

Where the derivative does not exist (repeated eigenvalues, rank deficiency) the formulas divide by
zero: NumPy's warnings and infinities show it, as they would for the primal's own conditioning.
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.broadcast import unbroadcast


def _T(a):
    return np.swapaxes(a, -1, -2)


def _solve_t(a, g, b):
    """`solve(a.T, g)` with `b`'s vector-or-matrix reading of the right-hand side."""
    if np.ndim(b) == 1:
        return np.linalg.solve(_T(a), np.asarray(g)[..., None])[..., 0]
    return np.linalg.solve(_T(a), g)


def solve_adjoint_b(g, a, b):
    """The cotangent of `b` in `z = np.linalg.solve(a, b)`."""
    return unbroadcast(_solve_t(a, g, b), b)


def solve_adjoint_a(g, a, b, z):
    """The cotangent of `a` in `z = np.linalg.solve(a, b)`: `-solve(a.T, g) @ z.T`."""
    gb = _solve_t(a, g, b)
    if np.ndim(b) == 1:
        return unbroadcast(-gb[..., :, None] * np.asarray(z)[..., None, :], a)
    return unbroadcast(-gb @ _T(z), a)


def _phi(x):
    """The lower triangle with the diagonal halved."""
    return np.tril(x) - 0.5 * np.tril(np.triu(x))


def cholesky_adjoint(g, L):
    """The (symmetric) cotangent of `A` in `L = np.linalg.cholesky(A)` (Murray, 2016)."""
    p = _phi(_T(L) @ g)
    s = np.linalg.solve(_T(L), _T(np.linalg.solve(_T(L), _T(p))))
    return 0.5 * (s + _T(s))


def cholesky_tangent(dA, L):
    """The tangent of `L = np.linalg.cholesky(A)` along a symmetric `dA`."""
    x = np.linalg.solve(L, _T(np.linalg.solve(L, dA)))  # L^-1 dA L^-T (dA symmetric)
    return L @ _phi(x)


def _gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    diff = w[..., None, :] - w[..., :, None]
    eye = np.eye(w.shape[-1], dtype=bool)
    with np.errstate(divide="ignore"):
        return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


def eigh_adjoint(g, w, v):
    """The cotangent of `A` in `(w, v) = np.linalg.eigh(A)` from `g = (gw, gv)`."""
    gw, gv = g
    inner = np.zeros(np.shape(v)) if _is_zero(gw) else gw[..., None, :] * np.eye(w.shape[-1])
    if not _is_zero(gv):
        inner = inner + _gaps(w) * (_T(v) @ gv)
    return v @ inner @ _T(v)


def eigh_tangent(dA, w, v):
    """The tangent `(dw, dv)` of `(w, v) = np.linalg.eigh(A)` along a symmetric `dA`."""
    m = _T(v) @ dA @ v
    return np.diagonal(m, 0, -2, -1), v @ (_gaps(w) * m)


def eigvalsh_adjoint(g, a):
    """The cotangent of `A` in `w = np.linalg.eigvalsh(A)`: `V diag(g) V.T`."""
    v = np.linalg.eigh(a)[1]
    return (v * np.asarray(g)[..., None, :]) @ _T(v)


def _is_zero(x) -> bool:
    return x is None or (type(x) in (float, int) and x == 0)


def _copyltu(m):
    return np.tril(m) + _T(np.tril(m, -1))


def qr_adjoint(g, q, r):
    """The cotangent of `A` in `(q, r) = np.linalg.qr(A)` (reduced, m >= n)."""
    gq, gr = g
    gq = np.zeros(np.shape(q)) if _is_zero(gq) else gq
    gr = np.zeros(np.shape(r)) if _is_zero(gr) else gr
    m = r @ _T(gr) - _T(gq) @ q
    b = gq + q @ _copyltu(m)
    return _T(np.linalg.solve(r, _T(b)))  # b @ r^-T


def qr_tangent(dA, q, r):
    """The tangent `(dq, dr)` of `(q, r) = np.linalg.qr(A)` (reduced, m >= n)."""
    x = _T(np.linalg.solve(_T(r), _T(_T(q) @ dA)))  # q.T dA r^-1
    low = np.tril(x, -1)
    omega = low - _T(low)
    dr = (x - omega) @ r
    dq = _T(np.linalg.solve(_T(r), _T(dA))) - q @ (x - omega)
    return dq, dr


def _reduced(u, s, vh):
    k = s.shape[-1]
    if np.shape(u)[-1] != k or np.shape(vh)[-2] != k:
        raise ValueError("the derivative of np.linalg.svd needs full_matrices=False for a "
                         "non-square matrix (the extra singular vectors are not unique)")


def svd_adjoint(g, u, s, vh):
    """The cotangent of `A` in `(u, s, vh) = np.linalg.svd(A, full_matrices=False)`."""
    gu, gs, gvh = g
    k = s.shape[-1]
    _reduced(u, s, vh)
    eye = np.eye(k)
    out = np.zeros(np.shape(u)[:-1] + np.shape(vh)[-1:])
    if not _is_zero(gs):
        out = out + (u * gs[..., None, :]) @ vh
    s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2  # s_j^2 - s_i^2
    with np.errstate(divide="ignore"):
        f = np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, s2))
    v = _T(vh)
    sm = s[..., None, :] * eye
    sinv = (1.0 / s)[..., None, :] * eye
    m_rows, n_cols = np.shape(u)[-2], np.shape(vh)[-1]
    if not _is_zero(gu):
        ut_gu = _T(u) @ gu
        out = out + u @ (f * (ut_gu - _T(ut_gu))) @ sm @ vh
        out = out + (np.eye(m_rows) - u @ _T(u)) @ gu @ sinv @ vh
    if not _is_zero(gvh):
        gv = _T(gvh)
        vt_gv = _T(v) @ gv
        out = out + u @ sm @ (f * (vt_gv - _T(vt_gv))) @ _T(v)
        out = out + u @ sinv @ _T(gv) @ (np.eye(n_cols) - v @ _T(v))
    return out


def svd_tangent(dA, u, s, vh):
    """The tangent `(du, ds, dvh)` of `(u, s, vh) = np.linalg.svd(A, full_matrices=False)`."""
    k = s.shape[-1]
    _reduced(u, s, vh)
    eye = np.eye(k)
    v = _T(vh)
    p = _T(u) @ dA @ v
    ds = np.diagonal(p, 0, -2, -1)
    s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2
    with np.errstate(divide="ignore"):
        f = np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, s2))
    sm = s[..., None, :] * eye
    sinv = (1.0 / s)[..., None, :] * eye
    du = u @ (f * (p @ sm + sm @ _T(p)))
    du = du + (np.eye(np.shape(u)[-2]) - u @ _T(u)) @ dA @ v @ sinv
    dv = v @ (f * (sm @ p + _T(p) @ sm))
    dv = dv + (np.eye(np.shape(vh)[-1]) - v @ _T(v)) @ _T(dA) @ u @ sinv
    return du, ds, _T(dv)


def pinv_adjoint(g, a, p):
    """The cotangent of `A` in `p = np.linalg.pinv(A)`, A of full rank."""
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    return (-_T(p) @ g @ _T(p) + (np.eye(m) - a @ p) @ _T(g) @ p @ _T(p)
            + _T(p) @ p @ _T(g) @ (np.eye(n) - p @ a))


def pinv_tangent(dA, a, p):
    """The tangent of `p = np.linalg.pinv(A)`, A of full rank."""
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    return (-p @ dA @ p + p @ _T(p) @ _T(dA) @ (np.eye(m) - a @ p)
            + (np.eye(n) - p @ a) @ _T(dA) @ _T(p) @ p)


def _powers(a, n):
    out = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(n - 1):
        out.append(out[-1] @ a)
    return out


def matrix_power_adjoint(g, a, n):
    """The cotangent of `A` in `np.linalg.matrix_power(A, n)`: sum of (A^T)^k g (A^T)^(n-1-k)."""
    if n == 0:
        return np.zeros(np.shape(a))
    if n < 0:
        inv = np.linalg.inv(a)
        gi = matrix_power_adjoint(g, inv, -n)
        return -_T(inv) @ gi @ _T(inv)
    p = _powers(a, n)
    return sum(_T(p[k]) @ g @ _T(p[n - 1 - k]) for k in range(n))


def matrix_power_tangent(dA, a, n):
    """The tangent of `np.linalg.matrix_power(A, n)`: sum of A^k dA A^(n-1-k)."""
    if n == 0:
        return np.zeros(np.shape(a))
    if n < 0:
        inv = np.linalg.inv(a)
        return matrix_power_tangent(-inv @ dA @ inv, inv, -n)
    p = _powers(a, n)
    return sum(p[k] @ dA @ p[n - 1 - k] for k in range(n))
