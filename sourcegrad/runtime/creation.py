"""Derivatives of the array constructors whose values depend on their arguments:
`np.linspace`, `np.logspace`, `np.geomspace` (start and stop, any shapes that broadcast, with
`num`, `endpoint`, `axis`) and `np.arange` (start + k step; the length is not differentiable).

    spaced_axis(start, stop, axis)                      where the new axis goes
    spaced_weights(start, stop, num, endpoint, axis)    t in y = start + t (stop - start)
    at_axis(v, start, stop, axis)                       v as start and stop broadcast, the new axis added
    linspace_adjoint(g, start, stop, num, endpoint, axis, i)   cotangent of start (i = 0) or stop (1)
    linspace_tangent(dstart, dstop, start, stop, num, endpoint, axis)
    scalar_base(base)                                   np.logspace's base (a scalar here)
    arange_adjoint(g, start, stop, step, i), arange_tangent(dstart, dstep, y, start, stop, step)

The helpers after `spaced_weights` are written in sourcegrad's differentiable subset.
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.broadcast import unbroadcast


def spaced_axis(start, stop, axis=0):
    """The axis of the result of `np.linspace(start, stop, axis=axis)` that runs along num."""
    nd = len(np.broadcast_shapes(np.shape(start), np.shape(stop))) + 1
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(axis, nd)
    return axis % nd


def spaced_weights(start, stop, num=50, endpoint=True, axis=0, retstep=False):
    """t with y = start + t (stop - start) in np.linspace: num values along the result's `axis`,
    shaped to broadcast against it."""
    if retstep:
        raise ValueError(
            "np.linspace(..., retstep=True) is not differentiable here: take the step as "
            "(stop - start) / (num - 1) (or / num without the endpoint) instead"
        )
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = num - 1 if endpoint else num
    t = np.arange(num, dtype=float) / div if div > 0 else np.zeros(num)
    ax = spaced_axis(start, stop, axis)
    nd = len(np.broadcast_shapes(np.shape(start), np.shape(stop))) + 1
    shape = [1] * nd
    shape[ax] = num
    return np.reshape(t, shape)


def at_axis(v, start, stop, axis=0):
    """`v` (start's or stop's shape) broadcast as start and stop are, with linspace's new axis added."""
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    return np.expand_dims(np.broadcast_to(v, shape), spaced_axis(start, stop, axis))


def linspace_adjoint(g, start, stop, num=50, endpoint=True, axis=0, i=0, retstep=False):
    """The cotangent of start (i = 0) or stop (i = 1) in `np.linspace(start, stop, num, endpoint,
    axis=axis)` from the cotangent `g` of its result."""
    t = spaced_weights(start, stop, num, endpoint, axis, retstep)
    ax = spaced_axis(start, stop, axis)
    if i == 0:
        return unbroadcast(np.sum(g * (1.0 - t), axis=ax), start)
    return unbroadcast(np.sum(g * t, axis=ax), stop)


def linspace_tangent(dstart, dstop, start, stop, num=50, endpoint=True, axis=0, retstep=False):
    """The tangent of `np.linspace(start, stop, num, endpoint, axis=axis)`."""
    t = spaced_weights(start, stop, num, endpoint, axis, retstep)
    return at_axis(dstart, start, stop, axis) * (1.0 - t) + at_axis(dstop, start, stop, axis) * t


def scalar_base(base):
    """np.logspace's base, where its derivatives are written (a scalar)."""
    if np.ndim(base) != 0:
        raise ValueError(
            "np.logspace with an array base is not differentiable here: pass a scalar base "
            "(or write base ** np.linspace(start, stop, ...) yourself)"
        )
    return base


def arange_adjoint(g, start, stop=None, step=None, i=0):
    """The cotangent of start (i = 0) or step (i = 2) in `np.arange(start, stop, step)`, whose values
    are start + k step; with one argument it is the stop, and only gives the length."""
    if stop is None:
        return 0.0
    if i == 0:
        return np.sum(g)
    return np.sum(g * np.arange(np.size(g)))


def arange_tangent(dstart, dstep, y, start, stop=None, step=None):
    """The tangent of `np.arange(start, stop, step)`: dstart + k dstep (zero for np.arange(stop))."""
    if stop is None:
        return np.zeros(np.shape(y))
    out = dstart + np.zeros(np.shape(y))
    if step is not None:
        out = out + dstep * np.arange(np.size(y))
    return out
