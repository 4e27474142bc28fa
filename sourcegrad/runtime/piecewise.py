"""Derivatives of `np.piecewise`: numbers in its funclist are values, differentiated as such;
functions are called on `x[cond]` and differentiated when they run (dispatch.py).

    piecewise_adjoint(g, x, condlist, funclist), piecewise_tangent(dx, x, condlist, funclist)
    piecewise_values_adjoint(g, x, condlist, funclist), piecewise_values_tangent(dvalues, ...)
"""

from __future__ import annotations

import numpy as np

from sourcegrad.runtime.arrays import untake
from sourcegrad.runtime.dispatch import call_jvp, call_split
from sourcegrad.runtime.shapes import _full

# Piece i's value stays where its condition holds and no later one does. Numbers
# in funclist are values (differentiated as such); functions are called on x[cond] and
# differentiated at run time, once (dispatch.py): their second derivatives raise.


def piecewise_masks(x, condlist, n):
    """(conds, keeps): per piece (n of them), its condition as np.piecewise reads condlist (with
    the "otherwise" piece added), and where its value is the one kept; each in x's shape."""
    x = np.asanyarray(x)
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray)) and x.ndim != 0):
        condlist = [condlist]
    conds = np.asarray(condlist, dtype=bool)
    if len(conds) == n - 1:
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
    conds = np.broadcast_to(np.reshape(conds, (n,) + (1,) * (x.ndim - conds.ndim + 1) + conds.shape[1:]),
                            (n,) + x.shape)
    later = np.flip(np.cumsum(np.flip(conds, 0), 0), 0) - conds
    return conds, conds & (later == 0)


def is_function(v) -> bool:
    """Whether a funclist entry of np.piecewise is a function (else a value)."""
    return callable(v)


def piecewise_pullback(f):
    """The VJP of the funclist function `f` at x[cond], differentiated when it runs."""

    def pullback(xc, gc):
        fwd, bwd = call_split((1,))
        out, residuals = fwd(f, (xc,))
        return bwd(residuals, np.sum(gc) if np.ndim(out) == 0 else gc)[0]

    pullback.resolved_when_run = True  # differentiating it again raises (api._generate_locked)
    return pullback


def piecewise_pushforward(f):
    """The JVP of the funclist function `f` at x[cond], differentiated when it runs."""

    def pushforward(xc, dxc):
        out, dout = call_jvp((1,))(f, (xc,), None, (dxc,))
        return dout + np.zeros(np.shape(out))

    pushforward.resolved_when_run = True
    return pushforward


# The two helpers below are written in sourcegrad's differentiable subset; their calls of the
# funclist's functions resolve at run time, so numbers-only funclists differentiate again.


def piecewise_adjoint(g, x, condlist, funclist):
    """The cotangent of x in `np.piecewise(x, condlist, funclist)`: from the functions only."""
    conds, keeps = piecewise_masks(x, condlist, len(funclist))
    out = np.zeros(np.size(x))
    for i in range(len(funclist)):  # x and g are read inside the branch only (see below)
        idx = np.flatnonzero(conds[i])
        if is_function(funclist[i]) and np.size(idx) > 0:
            pullback = piecewise_pullback(funclist[i])
            gc = np.take(np.ravel(np.broadcast_to(g, np.shape(x))), idx) * np.take(np.ravel(keeps[i]), idx)
            out = out + untake(pullback(np.take(np.ravel(x), idx), gc), np.zeros(np.size(x)), idx)
    return np.reshape(out, np.shape(x))


# (Reading x or g before the loop would give them a symbolic-zero cotangent when no branch runs,
# which the adjoint of np.ravel cannot reshape.)


def piecewise_tangent(dx, x, condlist, funclist):
    """The tangent of `np.piecewise(x, condlist, funclist)` along dx: from the functions only."""
    conds, keeps = piecewise_masks(x, condlist, len(funclist))
    out = np.zeros(np.size(x))
    if type(dx) in (int, float) and dx == 0:
        return np.reshape(out, np.shape(x))
    for i in range(len(funclist)):
        idx = np.flatnonzero(conds[i])
        if is_function(funclist[i]) and np.size(idx) > 0:
            pushforward = piecewise_pushforward(funclist[i])
            dxc = np.take(np.ravel(np.broadcast_to(dx, np.shape(x))), idx)
            dc = pushforward(np.take(np.ravel(x), idx), dxc)
            out = out + untake(dc * np.take(np.ravel(keeps[i]), idx), np.zeros(np.size(x)), idx)
    return np.reshape(out, np.shape(x))


def piecewise_values_adjoint(g, x, condlist, funclist):
    """The cotangent of funclist: for a number, the sum of g where its value is kept; `0.0` for a
    function. Linear in g; its transpose is `piecewise_values_tangent`."""
    _, keeps = piecewise_masks(x, condlist, len(funclist))
    g = np.broadcast_to(g, np.shape(x))
    parts = [0.0 if is_function(v) else np.sum(g * keeps[i]) for i, v in enumerate(funclist)]
    return parts if isinstance(funclist, list) else tuple(parts)


def piecewise_values_tangent(dvalues, x, condlist, funclist):
    """The tangent of `np.piecewise(x, condlist, funclist)` along the tangents of funclist's
    numbers (`dvalues`, or `0.0` for none)."""
    _, keeps = piecewise_masks(x, condlist, len(funclist))
    out = np.zeros(np.shape(x))
    if type(dvalues) in (int, float) and dvalues == 0:
        return out
    for i, v in enumerate(funclist):
        if not is_function(v):
            out = out + _full(dvalues[i], ()) * keeps[i]
    return out
