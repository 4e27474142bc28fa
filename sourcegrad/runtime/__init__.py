"""What generated code calls, as `sg.NAME`: the tape, unbroadcasting, zeros and accumulation.

A leaf of the package: it imports NumPy and the standard library only.
"""

from sourcegrad.runtime.broadcast import (
    matmul_adjoint_a,
    matmul_adjoint_b,
    unbroadcast,
    unbroadcast_to,
    unindex,
    unreduce,
)
from sourcegrad.runtime.tape import Tape, pop, push
from sourcegrad.runtime.zeros import add, seed_like, zeros_like

__all__ = [
    "Tape",
    "add",
    "matmul_adjoint_a",
    "matmul_adjoint_b",
    "pop",
    "push",
    "seed_like",
    "unbroadcast",
    "unbroadcast_to",
    "unindex",
    "unreduce",
    "zeros_like",
]
