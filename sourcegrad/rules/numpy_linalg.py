"""Derivative rules of `np.linalg`, batched over leading axes where NumPy is.

Factorisations return tuples (`slogdet`, `eigh`, `qr`, `svd`): their cotangent `d[y]` and tangent
are tuples too, one entry per part. Symmetric inputs (`cholesky`, `eigh`, `eigvalsh`) get
symmetric cotangents and assume symmetric tangents, as the functions read one triangle only.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, tangent

# fmt: off


@adjoint(np.linalg.inv)
def _(y, x):
    d[x] = -np.swapaxes(y, -1, -2) @ d[y] @ np.swapaxes(y, -1, -2)


@tangent(np.linalg.inv)
def _(y, x):
    d[y] = -y @ d[x] @ y


@adjoint(np.linalg.solve)               # z = a^-1 b; b a vector or a (stack of) matrices
def _(z, a, b):
    d[a] = sg.solve_adjoint_a(d[z], a, b, z)
    d[b] = sg.solve_adjoint_b(d[z], a, b)


@tangent(np.linalg.solve)
def _(z, a, b):
    d[z] = np.linalg.solve(a, d[b] - d[a] @ z)


@adjoint(np.linalg.det)
def _(y, x):
    d[x] = np.expand_dims(d[y] * y, (-2, -1)) * np.linalg.inv(np.swapaxes(x, -1, -2))


@tangent(np.linalg.det)
def _(y, x):
    d[y] = y * np.trace(np.linalg.solve(x, d[x]), axis1=-2, axis2=-1)


@adjoint(np.linalg.slogdet)             # y = (sign, logabsdet); the sign has no derivative
def _(y, x):
    d[x] = np.expand_dims(d[y][1], (-2, -1)) * np.linalg.inv(np.swapaxes(x, -1, -2))


@tangent(np.linalg.slogdet)
def _(y, x):
    d[y] = (0.0 * y[0], np.real(np.trace(np.linalg.solve(x, d[x]), axis1=-2, axis2=-1)))  # log|det| is real


@adjoint(np.linalg.cholesky)            # x symmetric positive definite
def _(y, x, upper=False):
    d[x] = sg.cholesky_adjoint(d[y], y, upper)


@tangent(np.linalg.cholesky)
def _(y, x, upper=False):
    d[y] = sg.cholesky_tangent(d[x], y, upper)


@adjoint(np.linalg.eigh)                # y = (w, v); x symmetric; vectors of repeated eigenvalues: ValueError (NaN in forward mode)
def _(y, x, UPLO="L"):
    d[x] = sg.eigh_adjoint(d[y], y[0], y[1])


@tangent(np.linalg.eigh)
def _(y, x, UPLO="L"):
    d[y] = sg.eigh_tangent(d[x], y[0], y[1])


@adjoint(np.linalg.eigvalsh)
def _(y, x, UPLO="L"):
    d[x] = sg.eigvalsh_adjoint(d[y], x)


@tangent(np.linalg.eigvalsh)
def _(y, x, UPLO="L"):
    d[y] = sg.eigh_tangent(d[x], y, np.linalg.eigh(x)[1])[0]


@adjoint(np.linalg.qr)                  # y = (q, r) or r; x of full column rank, m >= n; mode 'complete': q's extra columns get no cotangent
def _(y, x, mode="reduced"):
    d[x] = sg.qr_adjoint(d[y], y, x, mode)


@tangent(np.linalg.qr)
def _(y, x, mode="reduced"):
    d[y] = sg.qr_tangent(d[x], y, x, mode)


@adjoint(np.linalg.svd)                 # y = (u, s, vh) or s; vectors of repeated singular values: ValueError (NaN forward); non-square full_matrices: the extra vectors get no cotangent
def _(y, x, full_matrices=True, compute_uv=True, hermitian=False):
    d[x] = sg.svd_adjoint(d[y], y, x, compute_uv, hermitian)


@tangent(np.linalg.svd)
def _(y, x, full_matrices=True, compute_uv=True, hermitian=False):
    d[y] = sg.svd_tangent(d[x], y, x, compute_uv, hermitian)


@adjoint(np.linalg.pinv)                # x of full rank
def _(y, x):
    d[x] = sg.pinv_adjoint(d[y], x, y)


@tangent(np.linalg.pinv)
def _(y, x):
    d[y] = sg.pinv_tangent(d[x], x, y)


@adjoint(np.linalg.matrix_power)
def _(y, x, n):
    d[x] = sg.matrix_power_adjoint(d[y], x, n)


@tangent(np.linalg.matrix_power)
def _(y, x, n):
    d[y] = sg.matrix_power_tangent(d[x], x, n)


@adjoint(np.linalg.norm)                # vector norms (ord None, p, inf) and matrix norms ('fro', 'nuc', 1, 2, inf)
def _(y, x, ord=None, axis=None, keepdims=False):
    d[x] = sg.unreduce(np.real(d[y]), x, axis, keepdims) * sg.norm_grad(x, y, ord, axis, keepdims)


@tangent(np.linalg.norm)
def _(y, x, ord=None, axis=None, keepdims=False):
    d[y] = np.sum(np.real(d[x] * sg.norm_grad(x, y, ord, axis, keepdims)), axis=axis, keepdims=keepdims)


@adjoint(np.linalg.cond)                # p None, 2, -2: extreme singular values (distinct); else norm(x) norm(inv(x))
def _(y, x, p=None):
    d[x] = np.expand_dims(d[y], (-2, -1)) * sg.cond_grad(x, y, p)


@tangent(np.linalg.cond)
def _(y, x, p=None):
    d[y] = np.sum(d[x] * sg.cond_grad(x, y, p), axis=(-2, -1))


@adjoint(np.linalg.lstsq)               # y = (x, residuals, rank, s); a of full rank
def _(y, a, b, rcond=None):
    d[a] = sg.lstsq_adjoint(d[y], a, b, y, 0)
    d[b] = sg.lstsq_adjoint(d[y], a, b, y, 1)


@tangent(np.linalg.lstsq)
def _(y, a, b, rcond=None):
    d[y] = sg.lstsq_tangent(d[a], d[b], a, b, y)


@adjoint(np.linalg.multi_dot)           # a list of matrices; the first and last may be 1-D
def _(y, arrays):
    d[arrays] = sg.multi_dot_adjoint(d[y], arrays)


@tangent(np.linalg.multi_dot)
def _(y, arrays):
    d[y] = sg.multi_dot_tangent(arrays, d[arrays])


@adjoint(np.linalg.tensorinv)
def _(y, x, ind=2):
    d[x] = sg.tensorinv_adjoint(d[y], x, y, ind)


@tangent(np.linalg.tensorinv)
def _(y, x, ind=2):
    d[y] = sg.tensorinv_tangent(d[x], x, y, ind)

# fmt: on
