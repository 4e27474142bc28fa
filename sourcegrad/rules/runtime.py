"""Rules for the runtime helpers, so generated code can be differentiated again.

Forward-over-reverse (Hessian-vector products) runs the forward transform over a generated
gradient: its helpers need rules like any primitive. ``sg.push``/``sg.pop`` are handled by the
transforms themselves (a tangent rides on the tape beside its value). An operand that only gives a
shape has ``d[x] = 0.0``: its derivative is zero, and the transform writes nothing for it.
"""

import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, nondifferentiable, tangent

nondifferentiable(sg.Tape, sg.zeros_like, sg.push, sg.pop, sg.permutation_of, sg.rollaxis_destination)


# --- linear in the cotangent; the other operand gives the shape -------------------------------------
@adjoint(sg.unbroadcast)
def _(y, g, x):
    d[g] = np.broadcast_to(d[y], np.shape(g))
    d[x] = 0.0


@tangent(sg.unbroadcast)
def _(y, g, x):
    d[y] = sg.unbroadcast(d[g], x)


@adjoint(sg.unbroadcast_to)
def _(y, g, shape):
    d[g] = np.broadcast_to(d[y], np.shape(g))
    d[shape] = 0.0


@tangent(sg.unbroadcast_to)
def _(y, g, shape):
    d[y] = sg.unbroadcast_to(d[g], shape)


@adjoint(sg.unreduce)
def _(y, g, x, axis=None, keepdims=False):
    d[g] = np.reshape(np.sum(d[y], axis=axis, keepdims=keepdims), np.shape(g))
    d[x] = 0.0


@tangent(sg.unreduce)
def _(y, g, x, axis=None, keepdims=False):
    d[y] = sg.unreduce(d[g], x, axis, keepdims)


@adjoint(sg.unindex)
def _(y, g, x, idx):
    d[g] = d[y][idx]
    d[x] = 0.0


@tangent(sg.unindex)
def _(y, g, x, idx):
    d[y] = sg.unindex(d[g], x, idx)


@adjoint(sg.seed_like)
def _(y, seed, value):
    d[seed] = d[y]
    d[value] = 0.0


@tangent(sg.seed_like)
def _(y, seed, value):
    d[y] = sg.seed_like(d[seed], value)


@adjoint(sg.add)
def _(z, a, b):
    d[a] = d[z]
    d[b] = d[z]


@tangent(sg.add)
def _(z, a, b):
    d[z] = sg.add(d[a], d[b])


# --- bilinear: the cotangent and the other operand ----------------------------------------------------
@adjoint(sg.matmul_adjoint_a)  # y = g @ b.T in every matmul case; a gives only the shape
def _(y, g, a, b):
    d[g] = d[y] @ b
    d[a] = 0.0
    d[b] = sg.matmul_adjoint_b(g, d[y], b)


@tangent(sg.matmul_adjoint_a)
def _(y, g, a, b):
    d[y] = sg.matmul_adjoint_a(d[g], a, b) + sg.matmul_adjoint_a(g, a, d[b])


@adjoint(sg.matmul_adjoint_b)  # y = a.T @ g; b gives only the shape
def _(y, g, a, b):
    d[g] = a @ d[y]
    d[a] = sg.matmul_adjoint_a(g, a, d[y])
    d[b] = 0.0


@tangent(sg.matmul_adjoint_b)
def _(y, g, a, b):
    d[y] = sg.matmul_adjoint_b(d[g], a, b) + sg.matmul_adjoint_b(g, d[a], b)
