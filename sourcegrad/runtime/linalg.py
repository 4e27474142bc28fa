"""Adjoints and tangents of `np.linalg` factorisations, batched over leading axes like NumPy.

    solve_adjoint_a/b       cotangents of `z = solve(a, b)` (b a vector or a stack of matrices)
    cholesky_adjoint/tangent    L = cholesky(A), A symmetric positive definite
    eigh_adjoint/tangent, eigvalsh_adjoint    (w, V) = eigh(A), A symmetric, distinct eigenvalues
    qr_adjoint/tangent      qr(A, mode) for modes reduced, complete, r; m >= n, full column rank
    svd_adjoint/tangent     svd(A, full_matrices, compute_uv, hermitian), distinct singular values
    svdvals_adjoint/tangent, lstsq_adjoint/tangent, multi_dot_adjoint/tangent, cond_grad,
    tensorinv_adjoint/tangent, and the norms: vector_norm_grad, matrix_norm_grad, norm_grad
    pinv_adjoint/tangent    pinv(A), A of full rank
    matrix_power_adjoint/tangent   matrix_power(A, n)

Where two eigen- or singular values coincide, their vectors are not unique and have no derivative:
the adjoints raise a ValueError (`check_gaps`) when the cotangent couples such a pair (a function
of the values alone is fine); the tangents, which compute every column whether it is used or not,
leave NaN in the columns of those vectors only. Other rank deficiencies divide by zero: NumPy's
warnings and infinities show it, as they would for the primal's own conditioning.
Where it is not defined at all (the extra columns of a complete factorisation, a wide QR) a
ValueError says so.

The helpers are written in sourcegrad's differentiable subset (no `with`, no `raise`, no in-place
writes): generated gradients call them, and second derivatives (`sg.hessian`, `sg.hvp`, grad of
grad) differentiate them again. The checks that raise are small functions of their own, declared
non-differentiable in `rules/runtime_second_order.py`.
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.arrays import normalize_axes, ties
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


def check_real(x, what):
    """Raise for a complex matrix: these rules are written for real ones (docs/dtypes.md)."""
    if np.iscomplexobj(x):
        raise ValueError(
            f"the derivative of {what} is written for real matrices here; a complex one has no "
            "rule yet (docs/dtypes.md)"
        )


def cholesky_adjoint(g, L, upper=False):
    """The (symmetric) cotangent of `A` in `L = np.linalg.cholesky(A)` (Murray, 2016); with
    `upper`, the factor given is `L.T` and so is its cotangent."""
    check_real(L, "np.linalg.cholesky")
    if upper:
        g, L = _T(g), _T(L)
    p = _phi(_T(L) @ g)
    s = np.linalg.solve(_T(L), _T(np.linalg.solve(_T(L), _T(p))))
    return 0.5 * (s + _T(s))


def cholesky_tangent(dA, L, upper=False):
    """The tangent of `L = np.linalg.cholesky(A)` along a symmetric `dA` (of `L.T` with `upper`)."""
    check_real(L, "np.linalg.cholesky")
    if upper:
        L = _T(L)
    x = np.linalg.solve(L, _T(np.linalg.solve(L, dA)))  # L^-1 dA L^-T (dA symmetric)
    return _T(L @ _phi(x)) if upper else L @ _phi(x)


def coinciding(values, squared=False):
    """Where two of `values` (their squares, for singular values) coincide, to rounding: a mask of
    the pairs (i, j), i != j, whose vectors are not unique."""
    v = np.abs(np.asarray(values)) ** 2 if squared else np.asarray(values)
    gap = np.abs(v[..., None, :] - v[..., :, None])
    tol = 64 * np.finfo(float).eps * max(float(np.max(np.abs(v), initial=0.0)), np.finfo(float).tiny)
    return (gap <= tol) & ~np.eye(np.shape(v)[-1], dtype=bool)


def check_gaps(values, coupling, what, squared=False):
    """Raise where two of `values` coincide and `coupling`, the part of the cotangent or tangent
    between their vectors, is not zero: those vectors are not unique, so the derivative asked for
    is not defined. (Where the coupling is zero, as for a function of the values alone, the pair
    contributes nothing.)"""
    bad = coinciding(values, squared) & (np.asarray(coupling) != 0)
    if np.any(bad):
        where = np.argwhere(bad)[0]
        i, j = where[-2:]
        value = np.asarray(values)[(*where[:-2], i)]
        kind = "singular values" if squared else "eigenvalues"
        raise ValueError(
            f"the derivative of the {what} is not defined here: {kind} {i} and {j} coincide (both "
            f"{value:.6g}), and the result depends on which vectors of their shared space were "
            "picked; differentiate only functions of the values (np.linalg.eigvalsh, "
            "np.linalg.svd(..., compute_uv=False)) or of the whole space"
        )


def undefined_where(values, coupling, squared=False):
    """NaN at the pairs where two of `values` coincide and `coupling` is not zero, else 0: added to
    a tangent's gap factors, it leaves NaN in just the columns of the vectors whose tangent is not
    defined (forward mode computes every column, used or not; the adjoints raise instead)."""
    return np.where(coinciding(values, squared) & (np.asarray(coupling) != 0), np.nan, 0.0)


def _gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it and where w[i] and w[j] coincide
    (`check_gaps` has made sure that nothing is asked of such a pair)."""
    diff = w[..., None, :] - w[..., :, None]
    skip = np.eye(np.shape(w)[-1], dtype=bool) | coinciding(w)
    return np.where(skip, 0.0, 1.0 / np.where(skip, 1.0, diff))


def eigh_adjoint(g, w, v):
    """The cotangent of `A` in `(w, v) = np.linalg.eigh(A)` from `g = (gw, gv)`."""
    check_real(v, "np.linalg.eigh")
    gw, gv = g
    inner = np.zeros(np.shape(v)) if _is_zero(gw) else gw[..., None, :] * np.eye(w.shape[-1])
    if not _is_zero(gv):
        vt_gv = _T(v) @ gv
        check_gaps(w, vt_gv, "eigenvectors of np.linalg.eigh")
        inner = inner + _gaps(w) * vt_gv
    return v @ inner @ _T(v)


def eigh_tangent(dA, w, v):
    """The tangent `(dw, dv)` of `(w, v) = np.linalg.eigh(A)` along a symmetric `dA`."""
    check_real(v, "np.linalg.eigh")
    m = _T(v) @ dA @ v
    return np.diagonal(m, 0, -2, -1), v @ ((_gaps(w) + undefined_where(w, m)) * m)


def eigvalsh_adjoint(g, a):
    """The cotangent of `A` in `w = np.linalg.eigvalsh(A)`: `V diag(g) V.T`."""
    check_real(a, "np.linalg.eigvalsh")
    v = np.linalg.eigh(a)[1]
    return (v * np.asarray(g)[..., None, :]) @ _T(v)


def _is_zero(x) -> bool:
    return x is None or (type(x) in (float, int) and x == 0)


def _copyltu(m):
    return np.tril(m) + _T(np.tril(m, -1))


def check_qr(mode, shape):
    """Raise unless the derivative of `np.linalg.qr` of a matrix of `shape` is defined here."""
    m, n = shape[-2:]
    if mode not in ("reduced", "complete", "r") or m < n:
        raise ValueError(
            f"the derivative of np.linalg.qr is defined here for mode 'reduced', 'complete' or 'r' "
            f"and m >= n, got mode={mode!r} for a {m} x {n} matrix"
        )


def check_unused(g, n, what):
    """Raise unless the columns of `g` from `n` on are zeros: the extra columns of a complete
    factor are not unique, so they can take no cotangent."""
    if np.any(np.asarray(g)[..., n:] != 0):
        raise ValueError(
            f"the extra columns of a complete {what} are not unique: they have no derivative; "
            "use the reduced factorisation"
        )


def check_reduced(u, s, vh):
    """Raise unless `(u, s, vh)` is a reduced SVD."""
    k = np.shape(s)[-1]
    if np.shape(u)[-1] != k or np.shape(vh)[-2] != k:
        raise ValueError("the derivative of np.linalg.svd needs full_matrices=False for a "
                         "non-square matrix (the extra singular vectors are not unique)")


def _qr_parts(y, x, mode):
    """`(q, r)` of the reduced factorisation, from `y = np.linalg.qr(x, mode)`."""
    check_real(x, "np.linalg.qr")
    check_qr(mode, np.shape(x))
    n = np.shape(x)[-1]
    if mode == "r":
        return np.linalg.qr(x)[0], y[..., :n, :]
    return y[0][..., :n], y[1][..., :n, :]


def _only_reduced(g, n, what):
    """`g` for the reduced factor; the extra columns of a complete factor are not unique, so their
    cotangent must be zero."""
    if _is_zero(g) or np.shape(g)[-1] == n:
        return g
    check_unused(g, n, what)
    return np.asarray(g)[..., :n]


def qr_adjoint(g, y, x, mode="reduced"):
    """The cotangent of `A` in `y = np.linalg.qr(A, mode)` (m >= n; mode 'complete' only when
    the extra columns of q get no cotangent)."""
    q, r = _qr_parts(y, x, mode)
    n = np.shape(x)[-1]
    gq, gr = (0.0, g) if mode == "r" else g
    if not _is_zero(gr):
        gr = np.asarray(gr)[..., :n, :]  # r's extra rows are zeros
    return _qr_reduced_adjoint((_only_reduced(gq, n, "q"), gr), q, r)


def qr_tangent(dA, y, x, mode="reduced"):
    """The tangent of `y = np.linalg.qr(A, mode)` (m >= n; a square matrix for mode 'complete')."""
    q, r = _qr_parts(y, x, mode)
    check_complete_qr(mode, np.shape(x))
    dq, dr = _qr_reduced_tangent(dA, q, r)
    return dr if mode == "r" else (dq, dr)


def check_complete_qr(mode, shape):
    """Raise for the tangent of a complete QR of a tall matrix (its extra columns of q)."""
    if mode == "complete" and shape[-2] > shape[-1]:
        raise ValueError("the extra columns of a complete q are not unique: they have no derivative; "
                         "use mode='reduced'")


def _qr_reduced_adjoint(g, q, r):
    """The cotangent of `A` in `(q, r) = np.linalg.qr(A)` (reduced, m >= n)."""
    gq, gr = g
    if _is_zero(gq):
        gq = np.zeros(np.shape(q))
    if _is_zero(gr):
        gr = np.zeros(np.shape(r))
    m = r @ _T(gr) - _T(gq) @ q
    b = gq + q @ _copyltu(m)
    return _T(np.linalg.solve(r, _T(b)))  # b @ r^-T


def _qr_reduced_tangent(dA, q, r):
    """The tangent `(dq, dr)` of `(q, r) = np.linalg.qr(A)` (reduced, m >= n)."""
    x = _T(np.linalg.solve(_T(r), _T(_T(q) @ dA)))  # q.T dA r^-1
    low = np.tril(x, -1)
    omega = low - _T(low)
    dr = (x - omega) @ r
    dq = _T(np.linalg.solve(_T(r), _T(dA))) - q @ (x - omega)
    return dq, dr


def _symmetric_if(out, hermitian):
    return 0.5 * (out + _T(out)) if hermitian else out


def svd_adjoint(g, y, x, compute_uv=True, hermitian=False):
    """The cotangent of `A` in `y = np.linalg.svd(A, full_matrices, compute_uv, hermitian)`
    (distinct singular values; with full_matrices and m != n, the extra singular vectors are not
    unique and must get no cotangent; hermitian: a symmetric cotangent)."""
    check_real(x, "np.linalg.svd")
    if not compute_uv:
        return _symmetric_if(svdvals_adjoint(g, x), hermitian)
    k = np.shape(y[1])[-1]
    gu, gs, gvh = g
    if not _is_zero(gvh):
        gvh = _T(_only_reduced(_T(gvh), k, "vh"))
    u, vh = y[0][..., :k], y[2][..., :k, :]
    out = _svd_reduced_adjoint((_only_reduced(gu, k, "u"), gs, gvh), u, y[1], vh)
    return _symmetric_if(out, hermitian)


def svd_tangent(dA, y, x, compute_uv=True, hermitian=False):
    """The tangent of `y = np.linalg.svd(A, full_matrices, compute_uv, hermitian)`."""
    check_real(x, "np.linalg.svd")
    if not compute_uv:
        return svdvals_tangent(dA, x)
    return _svd_reduced_tangent(dA, y[0], y[1], y[2])


def _svd_reduced_adjoint(g, u, s, vh):
    """The cotangent of `A` in `(u, s, vh) = np.linalg.svd(A, full_matrices=False)`."""
    gu, gs, gvh = g
    k = np.shape(s)[-1]
    check_reduced(u, s, vh)
    eye = np.eye(k)
    out = np.zeros(np.shape(u)[:-1] + np.shape(vh)[-1:])
    if not _is_zero(gs):
        out = out + (u * gs[..., None, :]) @ vh
    s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2  # s_j^2 - s_i^2
    skip = (eye != 0) | coinciding(s, True)
    f = np.where(skip, 0.0, 1.0 / np.where(skip, 1.0, s2))
    v = _T(vh)
    sm = s[..., None, :] * eye
    sinv = (1.0 / s)[..., None, :] * eye
    m_rows, n_cols = np.shape(u)[-2], np.shape(vh)[-1]
    if not _is_zero(gu):
        ut_gu = _T(u) @ gu
        check_gaps(s, ut_gu - _T(ut_gu), "singular vectors of np.linalg.svd", squared=True)
        out = out + u @ (f * (ut_gu - _T(ut_gu))) @ sm @ vh
        out = out + (np.eye(m_rows) - u @ _T(u)) @ gu @ sinv @ vh
    if not _is_zero(gvh):
        gv = _T(gvh)
        vt_gv = _T(v) @ gv
        check_gaps(s, vt_gv - _T(vt_gv), "singular vectors of np.linalg.svd", squared=True)
        out = out + u @ sm @ (f * (vt_gv - _T(vt_gv))) @ _T(v)
        out = out + u @ sinv @ _T(gv) @ (np.eye(n_cols) - v @ _T(v))
    return out


def _svd_reduced_tangent(dA, u, s, vh):
    """The tangent `(du, ds, dvh)` of `(u, s, vh) = np.linalg.svd(A, full_matrices=False)`."""
    k = np.shape(s)[-1]
    check_reduced(u, s, vh)
    eye = np.eye(k)
    v = _T(vh)
    p = _T(u) @ dA @ v
    ds = np.diagonal(p, 0, -2, -1)
    s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2
    skip = (eye != 0) | coinciding(s, True)
    f = np.where(skip, 0.0, 1.0 / np.where(skip, 1.0, s2))
    sm = s[..., None, :] * eye
    sinv = (1.0 / s)[..., None, :] * eye
    pu, pv = p @ sm + sm @ _T(p), sm @ p + _T(p) @ sm
    du = u @ ((f + undefined_where(s, pu, True)) * pu)
    du = du + (np.eye(np.shape(u)[-2]) - u @ _T(u)) @ dA @ v @ sinv
    dv = v @ ((f + undefined_where(s, pv, True)) * pv)
    dv = dv + (np.eye(np.shape(vh)[-1]) - v @ _T(v)) @ _T(dA) @ u @ sinv
    return du, ds, _T(dv)


def pinv_adjoint(g, a, p):
    """The cotangent of `A` in `p = np.linalg.pinv(A)`, A of full rank."""
    check_real(a, "np.linalg.pinv")
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    return (-_T(p) @ g @ _T(p) + (np.eye(m) - a @ p) @ _T(g) @ p @ _T(p)
            + _T(p) @ p @ _T(g) @ (np.eye(n) - p @ a))


def pinv_tangent(dA, a, p):
    """The tangent of `p = np.linalg.pinv(A)`, A of full rank."""
    check_real(a, "np.linalg.pinv")
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    return (-p @ dA @ p + p @ _T(p) @ _T(dA) @ (np.eye(m) - a @ p)
            + (np.eye(n) - p @ a) @ _T(dA) @ _T(p) @ p)


def _powers(a, n):
    return [np.linalg.matrix_power(a, k) for k in range(n)]


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


# --- norms ------------------------------------------------------------------------------------


def _expand_reduced(y, axes, keepdims):
    """The reduction's result `y` with the reduced `axes` kept (as size 1)."""
    if not keepdims and axes:
        return np.expand_dims(y, axes)
    return y


def check_vector_ord(ord):
    """Raise for a vector norm without a derivative."""
    if ord == 0:
        raise ValueError("the vector norm with ord=0 counts nonzeros: it has no derivative")


def check_matrix_ord(ord):
    """Raise for a matrix norm without a derivative here."""
    if ord not in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
        raise ValueError(f"no derivative for the matrix norm with ord={ord!r}")


def vector_norm_grad(x, y, ord=2, axis=None, keepdims=False):
    """The derivative of the vector norm `y` of `x` over `axis` (None: every axis): an array J of
    x's shape with `dy = Re(sum(J * dx))` over the reduced axes; for complex x, J is the conjugate
    of the real formula with sign(x) = x / |x| (autograd's convention, docs/dtypes.md). Any p > 0,
    inf and -inf; at x = 0 (ord 2) and at ties (inf) the result is a subgradient."""
    check_vector_ord(ord)
    x = np.asarray(x)
    axes = normalize_axes(axis, np.ndim(x))
    yk = _expand_reduced(y, axes, keepdims)
    if ord is None or ord == 2:
        return _conj(np.where(yk == 0, 0.0, x / np.where(yk == 0, 1.0, yk)))
    if ord == np.inf or ord == -np.inf:
        return _conj(_sign(x) * ties(np.abs(x), yk, axes))
    if ord == 1:
        return _conj(_sign(x))
    return _conj(_sign(x) * (np.abs(x) / yk) ** (ord - 1))


def _sign(x):
    """`x / |x|`, 0 at 0: `np.sign` of a real x; NumPy 1's `np.sign` of a complex x is the sign of
    its real part, so the quotient is written out."""
    if np.iscomplexobj(x):
        a = np.abs(x)
        return x / np.where(a == 0, 1.0, a)
    return np.sign(x)


def _conj(j):
    """The conjugate of a complex derivative, a real one unchanged (no copy)."""
    if np.iscomplexobj(j):
        return np.conj(j)
    return j


def _extreme_sums(x, ord):
    """The derivative of the matrix norms 1, -1, inf, -inf of `x` (the last two axes): the signs
    of the column (1) or row (inf) with the largest (smallest, for -1 and -inf) absolute sum."""
    sums_axis = -2 if ord == 1 or ord == -1 else -1  # column sums for 1, row sums for inf
    other = -1 if sums_axis == -2 else -2
    sums = np.sum(np.abs(x), axis=sums_axis, keepdims=True)
    if ord == 1 or ord == np.inf:
        extreme = np.max(sums, axis=other, keepdims=True)
    else:
        extreme = np.min(sums, axis=other, keepdims=True)
    return _sign(x) * ties(sums, extreme, other)


def matrix_norm_grad(x, y, ord="fro", axis=(-2, -1), keepdims=False):
    """The derivative of the matrix norm `y` of `x` over the two axes `axis`: an array J of x's
    shape with `dy = Re(sum(J * dx))` (ord 'fro', 'nuc', 2, -2, 1, -1, inf, -inf; subgradients at
    ties). For complex x, J is the conjugate of the real formula: `conj(u @ vh)` for 'nuc'."""
    check_matrix_ord(ord)
    x = np.asarray(x)
    axes = normalize_axes(axis, np.ndim(x))
    if ord is None or ord == "fro":
        return vector_norm_grad(x, y, 2, axes, keepdims)
    a0, a1 = axes
    xm = np.moveaxis(x, (a0, a1), (-2, -1))
    if ord == "nuc":
        u, _, vt = np.linalg.svd(xm, full_matrices=False)
        return _conj(np.moveaxis(u @ vt, (-2, -1), (a0, a1)))
    if ord == 2 or ord == -2:
        u, _, vt = np.linalg.svd(xm, full_matrices=False)
        k = 0 if ord == 2 else -1
        jm = u[..., :, k, None] * vt[..., k, None, :]
        return _conj(np.moveaxis(jm, (-2, -1), (a0, a1)))
    return _conj(np.moveaxis(_extreme_sums(xm, ord), (-2, -1), (a0, a1)))


def norm_grad(x, y, ord=None, axis=None, keepdims=False):
    """The derivative of `y = np.linalg.norm(x, ord, axis, keepdims)`: an array J of x's shape such
    that a tangent `dx` gives `dy = Re(sum(J * dx))` over the reduced axes (the real part matters
    for complex x only, whose J is the conjugate of the real formula).

    Vector norms (ord None, 2, 1, inf, -inf, any p > 0) and matrix norms (None/'fro', 'nuc',
    2, -2, 1, -1, inf, -inf). Where the norm is not differentiable (x = 0 for ord 2, ties for
    inf) the result is a subgradient.
    """
    if _is_matrix_norm(np.ndim(x), ord, axis):
        return matrix_norm_grad(x, y, ord, (0, 1) if axis is None else axis, keepdims)
    return vector_norm_grad(x, y, ord, axis, keepdims)


def _is_matrix_norm(ndim, ord, axis):
    """Whether `np.linalg.norm(x, ord, axis)` of an `ndim`-D x is a matrix norm."""
    if axis is None:
        return ndim == 2 and ord is not None
    return len(normalize_axes(axis, ndim)) == 2


def cond_grad(x, y, p=None):
    """The derivative of `y = np.linalg.cond(x, p)`, x's shape (batched): for p None, 2, -2 the
    ratio of extreme singular values; otherwise `norm(x, p) * norm(inv(x), p)`."""
    check_real(x, "np.linalg.cond")
    x = np.asarray(x)
    if p is None or p == 2 or p == -2:
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        big = -1 if p == -2 else 0
        small = 0 if p == -2 else -1
        top = u[..., :, big, None] * vh[..., big, None, :]
        bottom = u[..., :, small, None] * vh[..., small, None, :]
        sb, ss = s[..., big, None, None], s[..., small, None, None]
        return top / ss - sb / ss**2 * bottom
    inv = np.linalg.inv(x)
    nx = np.linalg.norm(x, p, axis=(-2, -1), keepdims=True)
    ni = np.linalg.norm(inv, p, axis=(-2, -1), keepdims=True)
    gi = matrix_norm_grad(inv, ni, p, (-2, -1), True)
    return ni * matrix_norm_grad(x, nx, p, (-2, -1), True) - nx * (_T(inv) @ gi @ _T(inv))


# --- singular values, least squares, chains of products ------------------------------------------


def svdvals_adjoint(g, x):
    """The cotangent of `A` in `s = np.linalg.svd(A, compute_uv=False)`: `U diag(g) Vh`."""
    check_real(x, "np.linalg.svd")
    u, _, vh = np.linalg.svd(x, full_matrices=False)
    return (u * np.asarray(g)[..., None, :]) @ vh


def svdvals_tangent(dA, x):
    """The tangent of the singular values of `A`: the diagonal of `U.T dA V`."""
    check_real(x, "np.linalg.svd")
    u, _, vh = np.linalg.svd(x, full_matrices=False)
    return np.diagonal(_T(u) @ dA @ _T(vh), 0, -2, -1)


def _lstsq_parts(a, b, y):
    """Columns: b, the solution and the residual as matrices (1-D b as one column)."""
    x = y[0]
    if np.ndim(b) == 1:
        b, x = np.asarray(b)[:, None], np.asarray(x)[:, None]
    return b, x, b - a @ x


def lstsq_adjoint(g, a, b, y, i):
    """The cotangent of `a` (i = 0) or `b` (i = 1) in `y = np.linalg.lstsq(a, b)`, from the
    cotangents of the solution, the residuals and the singular values (a of full rank)."""
    check_real(a, "np.linalg.lstsq")
    gx, gres, _, gs = g
    bm, xm, r = _lstsq_parts(a, b, y)
    p = np.linalg.pinv(a)
    gxm = np.zeros(xm.shape) if _is_zero(gx) else np.reshape(gx, xm.shape)
    # residuals (m > n, full rank) are |b - a x|^2 per column; x is optimal, so only b and a move
    gr = 2.0 * r * np.reshape(gres, (1, -1)) if not _is_zero(gres) and np.size(y[1]) else 0.0 * r
    if i == 1:
        return np.reshape(_T(p) @ gxm + gr, np.shape(b))
    out = pinv_adjoint(gxm @ _T(bm), a, p) - gr @ _T(xm)
    return out if _is_zero(gs) else out + svdvals_adjoint(gs, a)


def lstsq_tangent(da, db, a, b, y):
    """The tangent `(dx, dresiduals, 0, ds)` of `y = np.linalg.lstsq(a, b)` (a of full rank)."""
    check_real(a, "np.linalg.lstsq")
    bm, xm, r = _lstsq_parts(a, b, y)
    p = np.linalg.pinv(a)
    if _is_zero(da):
        da = np.zeros(np.shape(a))
    dbm = np.zeros(bm.shape) if _is_zero(db) else np.reshape(db, bm.shape)
    dx = pinv_tangent(da, a, p) @ bm + p @ dbm
    dres = 2.0 * np.sum(r * (dbm - da @ xm), axis=0) if np.size(y[1]) else np.zeros(np.shape(y[1]))
    return np.reshape(dx, np.shape(y[0])), dres, 0.0, svdvals_tangent(da, a)


def _as_matrix(a, i, n):
    if i == 0:
        return np.atleast_2d(a)  # a row
    if i == n - 1:
        return np.reshape(a, (np.shape(a)[0], -1))  # a column
    return np.asarray(a)


def _chain(arrays):
    """multi_dot's operands as matrices: a 1-D first operand is a row, a 1-D last one a column."""
    n = len(arrays)
    return [_as_matrix(a, i, n) for i, a in enumerate(arrays)]


def _product(mats, n):
    """The product of a list of matrices; the n x n identity for none."""
    if not mats:
        return np.eye(n)
    return mats[0] if len(mats) == 1 else np.linalg.multi_dot(mats)


def multi_dot_adjoint(g, arrays):
    """The cotangents (a list) of the operands of `np.linalg.multi_dot(arrays)`: for operand i,
    (the product before it).T @ g @ (the product after it).T. Written in sourcegrad's
    differentiable subset, so that second derivatives go through it."""
    mats = _chain(arrays)
    rows, cols = np.shape(mats[0])[0], np.shape(mats[-1])[1]
    gm = np.reshape(g, (rows, cols))
    return [
        np.reshape(_T(_product(mats[:i], rows)) @ gm @ _T(_product(mats[i + 1 :], cols)), np.shape(a))
        for i, a in enumerate(arrays)
    ]


def multi_dot_tangent(arrays, tangents):
    """The tangent of `np.linalg.multi_dot(arrays)`: one term per operand with a tangent,
    (the product before it) @ its tangent @ (the product after it)."""
    mats = _chain(arrays)
    n = len(arrays)
    rows, cols = np.shape(mats[0])[0], np.shape(mats[-1])[1]
    out = np.zeros((rows, cols))
    for i in range(n):
        if not _is_zero(tangents[i]):
            t = _as_matrix(tangents[i], i, n)
            out = out + _product(mats[:i], rows) @ t @ _product(mats[i + 1 :], cols)
    shape = (rows,) if np.ndim(arrays[0]) == 2 else ()
    return np.reshape(out, shape + ((cols,) if np.ndim(arrays[-1]) == 2 else ()))


def tensorinv_adjoint(g, x, y, ind=2):
    """The cotangent of `a` in `y = np.linalg.tensorinv(a, ind)`: inv's adjoint, as matrices."""
    rows = int(np.prod(np.shape(x)[:ind]))
    inv = np.reshape(y, (-1, rows))
    return np.reshape(-_T(inv) @ np.reshape(g, inv.shape) @ _T(inv), np.shape(x))


def tensorinv_tangent(dx, x, y, ind=2):
    """The tangent of `y = np.linalg.tensorinv(a, ind)`."""
    rows = int(np.prod(np.shape(x)[:ind]))
    inv = np.reshape(y, (-1, rows))
    return np.reshape(-inv @ np.reshape(dx, (rows, -1)) @ inv, np.shape(y))
