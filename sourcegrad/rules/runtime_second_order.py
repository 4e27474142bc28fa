"""Rules for the runtime helpers that adjoint and tangent templates call, so that second
derivatives (`sg.hessian`, `sg.hvp`, grad of grad) can differentiate generated gradients again.

Most helpers are transposes of linear maps (`untake` is the transpose of `np.take`): their rules
are the map and the transpose again, and their other operands give only shapes (`d[x] = 0.0`).
Helpers written in sourcegrad's differentiable subset (the quantiles, norms, covariances,
`runtime/stats.py`, `linalg.py`, `signal.py`) need no rule: their source is differentiated.
What they compute from ranks and indices alone is declared non-differentiable here.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, linear, nondifferentiable, tangent
from sourcegrad.runtime import differences, linalg, piecewise, signal, stats
from sourcegrad.runtime.arrays import check_einsum_optimize, replaced_at
from sourcegrad.runtime.signal import bin_sum

# --- the transposes' transposes, and their tangents, where a rule needs more than one call ---
# (plain Python in the differentiable subset, like the helpers in runtime/)


def _is_zero(x) -> bool:
    return x is None or (type(x) in (float, int) and x == 0)


def rejoin(parts, xs, axis, promote):
    """The transpose of `sg.unjoin`: the parts, each in the shape `promote` gives its operand,
    joined along `axis` (what `np.hstack`/`vstack`/`dstack`/`column_stack` do)."""
    return np.concatenate([np.reshape(p, np.shape(promote(x))) for p, x in zip(parts, xs)], axis)


def reselect(h, g, condlist, choice, i=None):
    """The transpose of `sg.unselect(g, condlist, choice, i)` in `g`: each choice's cotangent in
    `h` (a sequence of them when `i` is None) placed where that choice was picked."""
    picked = np.select(condlist, list(range(len(condlist))), -1)
    if i is not None:
        return np.where(picked == i, h, 0.0) * np.ones(np.shape(g))
    out = np.zeros(np.shape(g))
    for k in range(len(choice)):
        out = out + np.where(picked == k, h[k], 0.0)
    return out


def kron_vjp_transpose(h, g, a, b, i, wrt):
    """The cotangent from `h` of `sg.kron_vjp(g, a, b, i)` (bilinear in g and the other operand)
    in g (wrt 0), a (1) or b (2)."""
    if wrt == 0:
        if i == 0:
            return np.kron(h, b)
        return np.kron(a, h)
    if wrt == 2 and i == 0:
        return sg.kron_vjp(g, h, b, 1)
    if wrt == 1 and i == 1:
        return sg.kron_vjp(g, a, h, 0)
    if wrt == 1:
        return np.zeros(np.shape(a))
    return np.zeros(np.shape(b))


def kron_vjp_tangent(dg, da, db, g, a, b, i):
    """The tangent of `sg.kron_vjp(g, a, b, i)`."""
    out = 0.0
    if not _is_zero(dg):
        out = out + sg.kron_vjp(dg, a, b, i)
    if i == 0 and not _is_zero(db):
        out = out + sg.kron_vjp(g, a, db, 0)
    if i == 1 and not _is_zero(da):
        out = out + sg.kron_vjp(g, da, b, 1)
    return out


def einsum_vjp_operands(h, g, subscripts, operands, i, optimize=False):
    """The cotangents from `h` of `sg.einsum_vjp(g, subscripts, operands, i)` in the other
    operands, a list with one per operand (zero for operand i, which gives only a shape)."""
    with_h = replaced_at(operands, i, h)
    return [
        _operand_cotangent(g, subscripts, with_h, i, j, o, optimize) for j, o in enumerate(operands)
    ]


def _operand_cotangent(g, subscripts, with_h, i, j, o, optimize):
    if o is None:
        return None
    if j == i:
        return np.zeros(np.shape(o))
    return sg.einsum_vjp(g, subscripts, with_h, j, optimize)


def einsum_vjp_tangent(dg, doperands, g, subscripts, operands, i, optimize=False):
    """The tangent of `sg.einsum_vjp(g, subscripts, operands, i)`: multilinear in g and the
    operands other than i."""
    out = 0.0
    if not _is_zero(dg):
        out = out + sg.einsum_vjp(dg, subscripts, operands, i, optimize)
    if _is_zero(doperands):
        return out
    for j in range(len(operands)):
        if j != i and operands[j] is not None and not _is_zero(doperands[j]):
            out = out + sg.einsum_vjp(
                g, subscripts, replaced_at(operands, j, doperands[j]), i, optimize
            )
    return out


# fmt: off

# --- ranks and indices: piecewise constant in their arguments ---
nondifferentiable(sg.spaced_axis, sg.spaced_weights)
linear(sg.scalar_base, lambda g, base: g)  # the identity on a scalar (it raises for an array base)
nondifferentiable(stats.quantile_ranks, sg.median_weights, piecewise.piecewise_masks, piecewise.is_function,
                  piecewise.piecewise_pullback, piecewise.piecewise_pushforward)

# --- checks that raise where a derivative is not defined, and return nothing ---
nondifferentiable(linalg.check_real, linalg.coinciding, linalg.check_gaps, linalg.undefined_where, linalg.check_qr, linalg.check_complete_qr, linalg.check_unused, linalg.check_reduced,
                  linalg.check_vector_ord, linalg.check_matrix_ord, signal.check_interp, check_einsum_optimize,
                  differences.check_gradient, stats.check_frequency_weights)


# --- linear helpers: the map and its transpose; the operand x gives only a shape ---
@adjoint(sg.untake)                     # the transpose of np.take
def _(y, g, x, indices, axis=None):
    d[g] = np.take(d[y], indices, axis)
    d[x] = 0.0


@tangent(sg.untake)
def _(y, g, x, indices, axis=None):
    d[y] = sg.untake(d[g], x, indices, axis)


@adjoint(sg.untake_along_axis)          # the transpose of np.take_along_axis
def _(y, g, x, indices, axis):
    d[g] = sg.unbroadcast(np.take_along_axis(d[y], indices, axis), g)
    d[x] = 0.0


@tangent(sg.untake_along_axis)
def _(y, g, x, indices, axis):
    d[y] = sg.untake_along_axis(d[g], x, indices, axis)


@adjoint(sg.unsort)                     # the transpose of the sort's permutation; x gives only the order
def _(y, g, x, axis=-1):
    d[g] = np.take_along_axis(d[y], np.argsort(x, axis=axis), axis)
    d[x] = 0.0


@tangent(sg.unsort)
def _(y, g, x, axis=-1):
    d[y] = sg.unsort(d[g], x, axis)


@adjoint(sg.undiagonal)                 # the transpose of np.diagonal
def _(y, g, x, offset=0, axis1=0, axis2=1):
    d[g] = np.diagonal(d[y], offset, axis1, axis2)
    d[x] = 0.0


@tangent(sg.undiagonal)
def _(y, g, x, offset=0, axis1=0, axis2=1):
    d[y] = sg.undiagonal(d[g], x, offset, axis1, axis2)


@adjoint(sg.undiag)                     # the transpose of np.diag (either way round)
def _(y, g, x, k=0):
    d[g] = np.diag(d[y], k)
    d[x] = 0.0


@tangent(sg.undiag)
def _(y, g, x, k=0):
    d[y] = sg.undiag(d[g], x, k)


@adjoint(sg.unconcatenate)              # y: a tuple of parts
def _(y, g, xs, axis=0):
    d[g] = np.concatenate(d[y], axis)
    d[xs] = 0.0


@tangent(sg.unconcatenate)
def _(y, g, xs, axis=0):
    d[y] = sg.unconcatenate(d[g], xs, axis)


@adjoint(sg.unstack)                    # y: a tuple of slices
def _(y, g, axis=0):
    d[g] = np.stack(d[y], axis)


@tangent(sg.unstack)
def _(y, g, axis=0):
    d[y] = sg.unstack(d[g], axis)


@adjoint(sg.unjoin)                     # y: a tuple of parts
def _(y, g, xs, axis, promote):
    d[g] = rejoin(d[y], xs, axis, promote)
    d[xs] = 0.0


@tangent(sg.unjoin)
def _(y, g, xs, axis, promote):
    d[y] = sg.unjoin(d[g], xs, axis, promote)


@adjoint(sg.unblock)                    # y: the blocks, nested as arrays; the transpose joins them again
def _(y, g, arrays):
    d[g] = sg.block_of(d[y], arrays)
    d[arrays] = 0.0


@tangent(sg.unblock)
def _(y, g, arrays):
    d[y] = sg.unblock(d[g], arrays)


@adjoint(sg.block_of)                   # h: parts nested as arrays
def _(y, h, arrays):
    d[h] = sg.unblock(d[y], arrays)
    d[arrays] = 0.0


@tangent(sg.block_of)
def _(y, h, arrays):
    d[y] = sg.block_of(d[h], arrays)


@adjoint(sg.piecewise_values_adjoint)   # linear in g; x, condlist and funclist give the masks only
def _(y, g, x, condlist, funclist):
    d[g] = sg.piecewise_values_tangent(d[y], x, condlist, funclist)
    d[x] = 0.0


@tangent(sg.piecewise_values_adjoint)
def _(y, g, x, condlist, funclist):
    d[y] = sg.piecewise_values_adjoint(d[g], x, condlist, funclist)


@adjoint(sg.piecewise_values_tangent)   # linear in the values' tangents
def _(y, dvalues, x, condlist, funclist):
    d[dvalues] = sg.piecewise_values_adjoint(d[y], x, condlist, funclist)
    d[x] = 0.0


@tangent(sg.piecewise_values_tangent)
def _(y, dvalues, x, condlist, funclist):
    d[y] = sg.piecewise_values_tangent(d[dvalues], x, condlist, funclist)


@adjoint(sg.unsequence)                 # linear in g; x and the sequence give only structure
def _(y, g, x):
    d[g] = sg.sequence_tangent(d[y], x, g)
    d[x] = 0.0


@tangent(sg.unsequence)
def _(y, g, x):
    d[y] = sg.unsequence(d[g], x)


@adjoint(sg.sequence_tangent)
def _(y, dx, x, z):
    d[dx] = sg.unsequence(d[y], x)
    d[x] = 0.0
    d[z] = 0.0


@tangent(sg.sequence_tangent)
def _(y, dx, x, z):
    d[y] = sg.sequence_tangent(d[dx], x, z)


@adjoint(sg.unrepeat)                   # the transpose of np.repeat
def _(y, g, x, repeats, axis=None):
    d[g] = np.repeat(d[y], repeats, axis)
    d[x] = 0.0


@tangent(sg.unrepeat)
def _(y, g, x, repeats, axis=None):
    d[y] = sg.unrepeat(d[g], x, repeats, axis)


@adjoint(sg.unarray)                    # y: x's structure (nested lists or tuples), g: the array
def _(y, g, x):
    d[g] = np.reshape(np.array(d[y], dtype=float), np.shape(g))
    d[x] = 0.0


@tangent(sg.unarray)
def _(y, g, x):
    d[y] = sg.unarray(d[g], x)


@adjoint(sg.unselect)                   # choice: the choicelist (i None) or one choice; they give shapes only
def _(y, g, condlist, choice, i=None):
    d[g] = reselect(d[y], g, condlist, choice, i)
    d[choice] = 0.0


@tangent(sg.unselect)
def _(y, g, condlist, choice, i=None):
    d[y] = sg.unselect(d[g], condlist, choice, i)


@adjoint(sg.kron_vjp)                   # bilinear in g and the operand other than i
def _(y, g, a, b, i):
    d[g] = kron_vjp_transpose(d[y], g, a, b, i, 0)
    d[a] = kron_vjp_transpose(d[y], g, a, b, i, 1)
    d[b] = kron_vjp_transpose(d[y], g, a, b, i, 2)


@tangent(sg.kron_vjp)
def _(y, g, a, b, i):
    d[y] = kron_vjp_tangent(d[g], d[a], d[b], g, a, b, i)


@adjoint(sg.einsum_vjp)                 # multilinear in g and the operands other than i
def _(y, g, subscripts, operands, i, optimize=False):
    d[g] = sg.einsum_replaced(d[y], subscripts, operands, i, optimize)
    d[operands] = einsum_vjp_operands(d[y], g, subscripts, operands, i, optimize)


@tangent(sg.einsum_vjp)
def _(y, g, subscripts, operands, i, optimize=False):
    d[y] = einsum_vjp_tangent(d[g], d[operands], g, subscripts, operands, i, optimize)


@adjoint(sg.unpad)                      # the transpose of np.pad in a linear mode
def _(y, g, x, pad_width, mode="constant"):
    d[g] = np.pad(d[y], pad_width, mode)
    d[x] = 0.0


@tangent(sg.unpad)
def _(y, g, x, pad_width, mode="constant"):
    d[y] = sg.unpad(d[g], x, pad_width, mode)


@adjoint(bin_sum)                       # y[k] = sum of v where bins == k; bins: integers, v's shape
def _(y, v, bins, n):
    d[v] = np.take(d[y], bins)


@tangent(bin_sum)
def _(y, v, bins, n):
    d[y] = bin_sum(d[v], bins, n)

# fmt: on


# --- powers (runtime/powers.py): x ** y's derivatives, finite at x = 0 for integer exponents ---
@adjoint(sg.power_slope)
def _(z, x, y, k=1):
    d[x] = sg.unbroadcast(d[z] * sg.power_slope(x, y, k + 1), x)
    d[y] = sg.unbroadcast(d[z] * sg.power_slope_dy(x, y, k), y)


@tangent(sg.power_slope)
def _(z, x, y, k=1):
    d[z] = d[x] * sg.power_slope(x, y, k + 1) + sg.scaled(d[y], sg.power_slope_dy(x, y, k))


@adjoint(sg.power_log)                  # w = z log x, 0 at x = 0
def _(w, z, x):
    d[z] = sg.unbroadcast(sg.power_log(d[w], x), z)
    d[x] = sg.unbroadcast(d[w] * np.where(x == 0, 0.0, z / np.where(x == 0, 1.0, x)), x)


@tangent(sg.power_log)
def _(w, z, x):
    d[w] = sg.power_log(d[z], x) + d[x] * np.where(x == 0, 0.0, z / np.where(x == 0, 1.0, x))


@adjoint(sg.scaled)                     # t v with a strong zero: 0 where t is 0
def _(w, t, v):
    d[t] = sg.unbroadcast(sg.scaled(d[w], v), t)
    d[v] = sg.unbroadcast(sg.scaled(t, d[w]), v)


@tangent(sg.scaled)
def _(w, t, v):
    d[w] = sg.scaled(d[t], v) + sg.scaled(t, d[v])
