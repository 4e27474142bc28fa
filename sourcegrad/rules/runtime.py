"""Rules for the runtime helpers, so generated code can be differentiated again.

Forward-over-reverse (Hessian-vector products) runs the forward transform over a generated
gradient: its helpers need tangent rules like any primitive. ``sg.push``/``sg.pop`` are handled by
the forward transform itself (a tangent rides on the tape beside its value).
"""

# fmt: off
import numpy as np

from sourcegrad import runtime as sg
from sourcegrad.rules.table import d, linear, nondifferentiable, tangent

nondifferentiable(sg.Tape, sg.zeros_like, sg.push, sg.pop)

# --- linear in their first argument -------------------------------------------------------------
linear(sg.unbroadcast,    lambda ct, g, x: np.broadcast_to(ct, np.shape(g)))
linear(sg.unbroadcast_to, lambda ct, g, shape: np.broadcast_to(ct, np.shape(g)))
linear(sg.unreduce,       lambda ct, g, x, axis=None, keepdims=False: np.reshape(np.sum(ct, axis=axis, keepdims=keepdims), np.shape(g)))
linear(sg.unindex,        lambda ct, g, x, idx: ct[idx])
linear(sg.seed_like,      lambda ct, seed, value: ct)
# fmt: on


# --- bilinear: the cotangent and the other operand ------------------------------------------------
@tangent(sg.add)
def _(z, a, b):
    d[z] = sg.add(d[a], d[b])


@tangent(sg.matmul_adjoint_a)  # g @ b.T, in every matmul case; a gives only the shape
def _(y, g, a, b):
    d[y] = sg.matmul_adjoint_a(d[g], a, b) + sg.matmul_adjoint_a(g, a, d[b])


@tangent(sg.matmul_adjoint_b)  # a.T @ g
def _(y, g, a, b):
    d[y] = sg.matmul_adjoint_b(d[g], a, b) + sg.matmul_adjoint_b(g, d[a], b)
