"""The derivatives of `np.gradient`, NumPy's finite differences along axes.

    gradient_adjoint(g, f, hs, axis, edge_order, i)     the cotangent of f, or of a spacing
    gradient_tangent(df, dhs, f, hs, axis, edge_order)  the tangent (a tuple for several axes)

Along one axis of n points with steps d (n - 1 of them: the spacing, or the differences of the
coordinates), NumPy's formulas are, with e = diff(f), u = e / d and
w = (e[:-1] + e[1:]) / (d[:-1] + d[1:]):

    inside     u[i-1] + u[i] - w[i-1]
    edges      u[0] and u[-1] (edge_order 1), u[0] - u[1] + w[0] and u[-1] - u[-2] + w[-1] (2)

(the uniform formulas are the same with equal steps). Linear in f; u and w carry the steps, so
spacings and coordinates are differentiated too. Generated gradients call these helpers and
second derivatives differentiate them again: they are written in sourcegrad's differentiable
subset (`check_gradient`, which raises, is declared non-differentiable). A leaf of the package,
like the rest of `runtime`.
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.arrays import normalize_axes


def _is_zero(x) -> bool:
    return x is None or (type(x) in (float, int) and x == 0)


def check_gradient(hs):
    """Raise for more spacing arguments than the rule of np.gradient takes (`hs[3]`: the
    parameter that catches a fourth, so that it is not read as `axis`)."""
    if hs[3] is not None:
        raise ValueError(
            "sourcegrad differentiates np.gradient with up to three spacing arguments; for more "
            "axes, pass one number for all, or differentiate along fewer axes at a time (axis=...)"
        )


def _axes_of(f, axis):
    """The axes np.gradient differentiates along, as non-negative ints."""
    return normalize_axes(axis, np.ndim(f))


def _count(hs):
    n = 0
    for h in hs:
        if h is not None:
            n = n + 1
    return n


def _uses(hs, i, k):
    """Whether spacing argument `i` is the spacing of the k-th axis differentiated."""
    if hs[i] is None:
        return False
    if _count(hs) == 1 and np.ndim(hs[0]) == 0:  # one number for every axis
        return i == 0
    return i == k


def _spacing(hs, k):
    """The spacing of the k-th axis differentiated: a number or 1-D coordinates."""
    if _count(hs) == 0:
        return 1.0
    if _count(hs) == 1 and np.ndim(hs[0]) == 0:
        return hs[0]
    return hs[k]


def _line(v, ndim, ax):
    """A 1-D `v` laid along axis `ax` of an array of `ndim` axes."""
    return np.reshape(v, tuple(-1 if i == ax else 1 for i in range(ndim)))


def _pad_along(v, ax, before, after):
    return np.pad(v, tuple((before, after) if i == ax else (0, 0) for i in range(np.ndim(v))))


def _steps(h, n, ndim, ax):
    """The n - 1 steps along `ax`, laid to broadcast against f."""
    if np.ndim(h) == 0:
        return _line(h * np.ones(n - 1), ndim, ax)
    return _line(np.diff(np.asarray(h, dtype=float)), ndim, ax)


def _firsts(v, ax, m):
    """v[:m] along ax."""
    return np.take(v, np.arange(m), ax)


def _lasts(v, ax, m):
    """v[-m:] along ax."""
    return np.take(v, np.arange(np.shape(v)[ax] - m, np.shape(v)[ax]), ax)


def _pairs(v, ax):
    """v[:-1] + v[1:] along ax."""
    m = np.shape(v)[ax] - 1
    return _firsts(v, ax, m) + _lasts(v, ax, m)


def _assemble(u, w, ax, edge_order):
    """The derivative along `ax` from u (n - 1 along ax) and w (n - 2)."""
    m = np.shape(u)[ax]
    inside = _pairs(u, ax) - w
    first, last = _firsts(u, ax, 1), _lasts(u, ax, 1)
    if edge_order == 2:
        first = first - np.take(u, [1], ax) + _firsts(w, ax, 1)
        last = last - np.take(u, [m - 2], ax) + _lasts(w, ax, 1)
    return np.concatenate((first, inside, last), ax)


def _disassemble(g, ax, edge_order):
    """The transpose of `_assemble`: the cotangents of u and w from that of the derivative."""
    n = np.shape(g)[ax]
    inside = np.take(g, np.arange(1, n - 1), ax)
    first, last = _firsts(g, ax, 1), _lasts(g, ax, 1)
    gu = _pad_along(inside, ax, 0, 1) + _pad_along(inside, ax, 1, 0)
    gw = -inside
    if edge_order == 2:
        gu = gu + _pad_along(np.concatenate((first, -first), ax), ax, 0, n - 3)
        gu = gu + _pad_along(np.concatenate((-last, last), ax), ax, n - 3, 0)
        return gu, gw + _pad_along(first, ax, 0, n - 3) + _pad_along(last, ax, n - 3, 0)
    return gu + _pad_along(first, ax, 0, n - 2) + _pad_along(last, ax, n - 2, 0), gw


def _parts(f, h, ax):
    """(steps d, u, w, and the sums of neighbouring steps s) of f along ax."""
    d = _steps(h, np.shape(f)[ax], np.ndim(f), ax)
    e = np.diff(f, axis=ax)
    s = _pairs(d, ax)
    return d, e / d, _pairs(e, ax) / s, s


def _along_adjoint(g, f, h, ax, edge_order, wrt):
    """The cotangent of f (wrt 0) or of the spacing h (wrt 1) from g, along one axis."""
    d, u, w, s = _parts(np.asarray(f, dtype=float), h, ax)
    gu, gw = _disassemble(np.broadcast_to(g, np.shape(f)), ax, edge_order)
    if wrt == 0:
        ge = gu / d + _pad_along(gw / s, ax, 0, 1) + _pad_along(gw / s, ax, 1, 0)
        return -np.diff(_pad_along(ge, ax, 1, 1), axis=ax)
    gs = -gw * w / s
    gd = -gu * u / d + _pad_along(gs, ax, 0, 1) + _pad_along(gs, ax, 1, 0)
    gd = np.sum(gd, axis=tuple(i for i in range(np.ndim(f)) if i != ax))
    if np.ndim(h) == 0:
        return np.sum(gd)
    return -np.diff(np.pad(gd, (1, 1)))


def gradient_adjoint(g, f, hs, axis=None, edge_order=1, i=None):
    """The cotangent of f (i None) or of the i-th spacing argument in
    `np.gradient(f, *hs, axis=axis, edge_order=edge_order)` (`hs`: four, padded with None)."""
    check_gradient(hs)
    axes = _axes_of(f, axis)
    out = np.zeros(np.shape(f)) if i is None else 0.0
    for k in range(len(axes)):
        gk = g if len(axes) == 1 else g[k]
        if _is_zero(gk):
            continue
        if i is None:
            out = out + _along_adjoint(gk, f, _spacing(hs, k), axes[k], edge_order, 0)
        elif _uses(hs, i, k):
            out = out + _along_adjoint(gk, f, hs[i], axes[k], edge_order, 1)
    return out


def _along_tangent(df, dh, f, h, ax, edge_order):
    """The tangent along one axis from those of f and of its spacing h (either may be zero)."""
    f = np.asarray(f, dtype=float)
    d, u, w, s = _parts(f, h, ax)
    out = np.zeros(np.shape(f))
    if not _is_zero(df):
        de = np.diff(np.broadcast_to(df, np.shape(f)), axis=ax)
        out = out + _assemble(de / d, _pairs(de, ax) / s, ax, edge_order)
    if not _is_zero(dh):
        dd = _steps(dh, np.shape(f)[ax], np.ndim(f), ax)
        out = out + _assemble(-u * dd / d, -w * _pairs(dd, ax) / s, ax, edge_order)
    return out


def _axis_tangent(df, dhs, f, hs, axes, k, edge_order):
    """The tangent of the k-th derivative np.gradient returns."""
    dh = 0.0
    if _count(hs) == 1 and np.ndim(hs[0]) == 0:
        dh = dhs[0]
    elif _count(hs) > 0:
        dh = dhs[k]
    return _along_tangent(df, dh, f, _spacing(hs, k), axes[k], edge_order)


def gradient_tangent(df, dhs, f, hs, axis=None, edge_order=1):
    """The tangent of `np.gradient(f, *hs, axis=axis, edge_order=edge_order)`: an array for one
    axis, else a tuple with one per axis."""
    check_gradient(hs)
    axes = _axes_of(f, axis)
    if len(axes) == 1:
        return _axis_tangent(df, dhs, f, hs, axes, 0, edge_order)
    # Tuples written out up to three axes: reverse mode over `out = out + (part,)` adds tuples
    # as arrays, so second derivatives through the loop below (four axes or more) fail.
    if len(axes) == 2:
        return (_axis_tangent(df, dhs, f, hs, axes, 0, edge_order),
                _axis_tangent(df, dhs, f, hs, axes, 1, edge_order))
    if len(axes) == 3:
        return (_axis_tangent(df, dhs, f, hs, axes, 0, edge_order),
                _axis_tangent(df, dhs, f, hs, axes, 1, edge_order),
                _axis_tangent(df, dhs, f, hs, axes, 2, edge_order))
    out = ()
    for k in range(len(axes)):
        out = out + (_axis_tangent(df, dhs, f, hs, axes, k, edge_order),)
    return out
