"""Where each registered rule is tested: one row per primal, with its input cases and domain.

A case lists the primal's arguments: `A(2, 3)` is a random float64 array of that shape drawn from
the row's domain, `A()` a 0-d array, `F` a Python float, `T(...)` a tuple of such inputs, `L(...)` a list of them, and
`K(value)` a constant (an argument the derivative does not flow into: an index, an axis, a mask).
Keyword arguments are constants. A row's domain is `(low, high)` for every input, or one
`(low, high)` per positional argument. `tests/rules/test_rule_table.py` fails for a registered
rule without a row here, so a rule cannot be added untested.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class A:
    """A random float input of the given shape (`python=True`: a Python float)."""

    shape: tuple
    low: float | None = None
    high: float | None = None
    python: bool = False

    def __init__(self, *shape, low=None, high=None, python=False):
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "python", python)


F = A(python=True)


@dataclass(frozen=True)
class T:
    """A tuple of random inputs (for np.stack, np.concatenate, tuple subscripts)."""

    items: tuple

    def __init__(self, *items):
        object.__setattr__(self, "items", items)


class L(T):
    """A list of random inputs (np.block's nested lists, where NumPy refuses tuples)."""


@dataclass(frozen=True)
class K:
    """A constant argument."""

    value: object


@dataclass(frozen=True)
class Case:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    autograd: bool = True  # False where autograd itself cannot do the case

    def __repr__(self) -> str:
        def show(a):
            if isinstance(a, A):
                return "F" if a.python else f"A{a.shape}"
            if isinstance(a, T):
                return type(a).__name__ + "(" + ",".join(map(show, a.items)) + ")"
            return repr(a.value)

        parts = [show(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(parts) + ")"


def case(*args, **kwargs) -> Case:
    return Case(args, kwargs)


def draw(spec, rng, bounds):
    """A random value for one argument spec: `bounds` for an `A` without bounds of its own."""
    if hasattr(spec, "sample"):  # a structured input (symmetric positive definite, NaNs, ...)
        return spec.sample(rng)
    if isinstance(spec, K):
        return spec.value
    if isinstance(spec, T):
        items = tuple(draw(s, rng, bounds) for s in spec.items)
        return list(items) if isinstance(spec, L) else items
    low = bounds[0] if spec.low is None else spec.low
    high = bounds[1] if spec.high is None else spec.high
    value = rng.uniform(low, high, size=spec.shape)
    return float(value) if spec.python else value


def beyond_autograd(c: Case) -> Case:
    """The case `c`, not compared with autograd (whose rule cannot do it; finite differences can)."""
    return Case(c.args, c.kwargs, autograd=False)


@dataclass(frozen=True)
class Domain:
    cases: tuple
    domain: tuple = (-2.0, 2.0)
    autograd: bool = True  # compare VJPs with autograd's for the same function
    rtol: float = 1e-6

    def bounds(self, position: int) -> tuple[float, float]:
        if isinstance(self.domain[0], tuple):
            return self.domain[position]
        return self.domain


DOMAINS: dict[object, Domain] = {}


def row(fns, *cases, domain=(-2.0, 2.0), autograd=True, rtol=1e-6) -> None:
    for fn in fns if isinstance(fns, (list, tuple)) else (fns,):
        DOMAINS[fn] = Domain(tuple(cases), domain, autograd, rtol)


# fmt: off
# --- shared case lists ---
UNARY = [case(F), case(A()), case(A(3)), case(A(2, 3))]
SCALAR = [case(F)]
BINARY = [case(F, F), case(A(3), A(3)), case(A(2, 3), A(2, 3)), case(A(3), A(2, 3)),
          case(A(2, 3), A(3)), case(A(), A(2, 3)), case(A(2, 1), A(1, 3)), case(F, A(2, 3)),
          case(A(2, 3), F)]
REDUCTION = [case(F), case(A(3)), case(A(2, 3)), case(A(2, 3), axis=0),
             case(A(2, 3), axis=-1, keepdims=True), case(A(2, 3), keepdims=True),
             case(A(2, 3, 4), axis=(0, 2)), case(A(2, 3, 4), axis=(-1, 0), keepdims=True)]
ARRAY_REDUCTION = REDUCTION[1:]
MATMUL = [case(A(3), A(3)), case(A(2, 3), A(3)), case(A(3), A(3, 4)), case(A(2, 3), A(3, 4)),
          case(A(5, 2, 3), A(3, 4)), case(A(2, 3), A(5, 3, 4)), case(A(5, 1, 2, 3), A(4, 3, 2)),
          case(A(5, 2, 3), A(3)), case(A(3), A(5, 3, 4))]
MASK = np.array([[True, False, True], [False, False, True]])

# --- Python operators and builtins ---
row([operator.add, operator.sub, operator.mul], *BINARY)
row(operator.truediv, *BINARY, domain=((-2.0, 2.0), (0.5, 2.0)))
ZERO, ZERO_F = A(3, low=0.0, high=0.0), A(low=0.0, high=0.0, python=True)  # x = 0: x ** n for n = 0, 1, 2
row(operator.pow, *BINARY, case(A(3), K(2)), case(F, K(3)), case(A(2, 3), K(0.5)), case(A(3), K(0)),
    case(ZERO, K(0)), case(ZERO, K(1)), case(ZERO, K(2)), case(ZERO_F, K(0)), case(ZERO_F, K(1)),
    domain=((0.5, 2.0), (-1.5, 1.5)))
row(operator.mod, *BINARY, domain=((0.1, 4.0), (0.6, 1.4)), autograd=False)
row(operator.matmul, *MATMUL)
row(operator.neg, *UNARY)
row(operator.pos, *UNARY, autograd=False)                # autograd boxes have no unary +
row([operator.abs, abs], *UNARY)
row(float, case(F), case(A()), autograd=False)
row(operator.getitem,
    case(A(4, 3), K(1)), case(A(4, 3), K(-1)), case(A(4, 3), K(slice(1, 3))),
    case(A(4, 3), K((0, slice(None)))), case(A(4, 3), K((Ellipsis, 1))),
    case(A(4, 3), K(np.array([0, 2, 2]))), case(A(4, 3), K(np.array([True, False, True, True]))),
    case(A(4, 3), K((np.array([0, 0, 3]), np.array([1, 1, 2])))),
    case(T(A(3), F, A(2, 2)), K(1)), case(T(A(3), F, A(2, 2)), K(slice(0, 2))))
row(operator.concat, case(T(A(3), F), T(A(2, 2))), case(T(), T(A(2), A(2))), autograd=False)
row([list, tuple], case(T(A(3), F)), case(T(F, A(2, 2), F)), case(A(3)), case(A(2, 3)))


class Record:
    """A namedtuple input (an object's attributes, read with getattr: runtime/trees.py)."""

    kind = __import__("collections").namedtuple("Params", "w b")
    value = "Params(w=A(2, 3), b=F)"  # how Case.__repr__ shows it

    def sample(self, rng):
        return self.kind(rng.uniform(-2, 2, size=(2, 3)), float(rng.uniform(-2, 2)))

    def direction(self, value, rng):
        return self.kind(rng.normal(size=(2, 3)), float(rng.normal()))


row(getattr, case(Record(), K("w")), case(Record(), K("b")), autograd=False)

# --- math ---
row([math.exp, math.expm1, math.sin, math.cos, math.atan, math.sinh, math.cosh, math.tanh,
     math.asinh, math.fabs, math.erf, math.erfc], *SCALAR)
row([math.log, math.log1p, math.log2, math.log10, math.sqrt], *SCALAR, domain=(0.1, 4.0))
row(math.tan, *SCALAR, domain=(-1.2, 1.2))
row([math.asin, math.acos, math.atanh], *SCALAR, domain=(-0.9, 0.9))
row(math.acosh, *SCALAR, domain=(1.1, 4.0))
row(math.pow, case(F, F), case(F, K(2.0)), case(ZERO_F, K(0.0)), case(ZERO_F, K(1.0)), case(ZERO_F, K(2.0)),
    domain=((0.5, 2.0), (-1.5, 1.5)))
row(math.copysign, case(F, K(-1.0)), case(F, K(2.0)), domain=(0.2, 2.0), autograd=False)
row([math.atan2, math.hypot], case(F, F), domain=(0.2, 2.0))

# --- numpy: elementwise ---
row([np.exp, np.exp2, np.expm1, np.sin, np.cos, np.arctan, np.sinh, np.cosh, np.tanh,
     np.arcsinh, np.square, np.absolute, np.negative, np.positive], *UNARY)
row([np.log, np.log2, np.log10, np.log1p, np.sqrt, np.cbrt, np.reciprocal], *UNARY,
    domain=(0.1, 4.0))
row(np.tan, *UNARY, domain=(-1.2, 1.2))
row([np.arcsin, np.arccos, np.arctanh], *UNARY, domain=(-0.9, 0.9))
row(np.arccosh, *UNARY, domain=(1.1, 4.0))
row(np.copy, case(A(3)), case(A(2, 3)))

# --- numpy: constructors whose values depend on their arguments ---
row(np.full, case(K((2, 3)), F), case(K((2, 3)), A(3)), case(K(4), A()), autograd=False)
row(np.full_like, case(A(2, 3), F), case(A(2, 3), A(3)), case(A(2, 3), A(2, 1)), autograd=False)
row(np.arange, case(F, K(3.5)), case(F, K(3.5), F), domain=((0.0, 0.2), (0.0, 1.0), (0.95, 1.05)), autograd=False)
row(np.linspace, case(F, F, K(5)), case(A(3), A(3), K(4)), case(A(2, 1), A(3), K(4), axis=-1),
    case(F, A(2), K(3), endpoint=False), case(A(2), F, K(3), axis=1), case(F, F, K(1)), case(F, F), autograd=False)
row(np.logspace, case(F, F, K(4)), case(A(2), F, K(3), base=2.0), case(F, A(2), K(4), endpoint=False, axis=1),
    case(F, F, K(4), K(True), F), domain=((-1.0, 1.0), (-1.0, 1.0), (0, 1), (0, 1), (1.5, 3.0)), autograd=False)
row(np.geomspace, case(F, F, K(4)), case(A(2), A(2), K(3), axis=1), case(A(2, 1), F, K(3), endpoint=False),
    domain=(0.5, 2.0), autograd=False)

# --- numpy: binary ---
row([np.add, np.subtract, np.multiply, np.maximum, np.minimum, np.hypot, np.logaddexp,
     np.arctan2], *BINARY)
row(np.true_divide, *BINARY, domain=((-2.0, 2.0), (0.5, 2.0)))
row(np.power, *BINARY, case(A(3), K(2)), case(A(2, 3), K(0.5)), case(ZERO, K(0)), case(ZERO, K(1)),
    domain=((0.5, 2.0), (-1.5, 1.5)))
row(np.where, case(K(MASK), A(2, 3), A(2, 3)), beyond_autograd(case(K(MASK[0]), A(2, 3), A(3))),
    beyond_autograd(case(K(MASK), F, A(2, 3))), beyond_autograd(case(K(MASK), A(2, 1), A())))
row(np.clip, case(A(2, 3), K(-0.5), K(0.5)),
    case(A(3, 4), A(low=-1.0, high=-0.2), A(low=0.2, high=1.0)),
    case(A(2, 3), A(3, low=-1.0, high=-0.2), A(2, 1, low=0.2, high=1.0)))

# --- numpy: products ---
row(np.matmul, *MATMUL)
row(np.dot, case(A(3), A(3)), case(A(2, 3), A(3)), case(A(3), A(3, 4)), case(A(2, 3), A(3, 4)), case(F, A(2, 3)), case(A(3), F),
    case(A(2, 3, 5), A(4, 5, 2)), case(A(2, 3, 4), A(4)))
row(np.outer, case(A(3), A(4)), beyond_autograd(case(A(2, 2), A(3))))

# --- numpy: reductions ---
row([np.sum, np.mean], *REDUCTION, case(A(2, 3), axis=1, dtype=np.float64))
row([np.var, np.std], *ARRAY_REDUCTION, case(A(2, 3), axis=1, ddof=1), case(A(4), ddof=1),
    beyond_autograd(case(A(2, 3), K(1), K(np.float64))))  # autograd reads the third as ddof
row(np.prod, *REDUCTION, case(A(2, 3), K(0), K(np.float64)), domain=(0.5, 1.5))
row([np.max, np.amax, np.min, np.amin], *ARRAY_REDUCTION)

# --- numpy: shapes ---
row(np.reshape, case(A(2, 3), K((3, 2))), case(A(6), K((2, -1))), case(A(2, 3), K(6)))
row(np.ravel, case(A(2, 3)), case(A(2, 3, 4)))
row(np.squeeze, case(A(1, 3, 1)), case(A(1, 3, 1), axis=0), case(A(1, 3, 1), axis=(0, -1)))
row(np.expand_dims, case(A(2, 3), K(1)), case(A(3), K((0, 2))), case(A(2, 3), K(-1)))
row(np.transpose, case(A(2, 3)), case(A(2, 3, 4), axes=(1, 0, 2)), case(A(2, 3, 4), K((2, 0, 1))),
    beyond_autograd(case(A(2, 3, 4), K((-1, 0, 1)))))
row(np.swapaxes, case(A(2, 3, 4), K(0), K(2)), case(A(2, 3), K(-1), K(0)))
row(np.moveaxis, case(A(2, 3, 4), K(0), K(-1)), case(A(2, 3, 4), K((0, 1)), K((2, 0))))
row(np.broadcast_to, case(A(3), K((2, 3))), case(A(2, 1), K((4, 2, 3))), case(F, K((2,))),
    autograd=False)                                      # autograd: "extra leading dims"
row(np.stack, case(T(A(2, 3), A(2, 3))), case(T(A(2, 3), A(2, 3), A(2, 3)), axis=1),
    case(T(A(3), A(3)), axis=-1))
row(np.concatenate, case(T(A(2, 3), A(4, 3))), case(T(A(2, 3), A(2, 1), A(2, 2)), axis=1),
    case(T(A(3), A(2))), case(T(A(2, 3), A(2, 2)), axis=-1))
# fmt: on


# --- structured inputs: each draws its own value and its own tangent directions ---
@dataclass(frozen=True)
class M:
    """A random square matrix (or a batch of them) of a kind: "inv" (well conditioned) or "spd"
    (symmetric positive definite with well-separated eigenvalues 1, 2, ..., n; its directions
    are symmetric, as `cholesky`, `eigh` and `eigvalsh` read one triangle only)."""

    kind: str
    n: int
    batch: tuple = ()

    @property
    def value(self):  # how Case.__repr__ shows it
        return f"{self.kind}{self.batch + (self.n, self.n)}"

    def sample(self, rng):
        shape = self.batch + (self.n, self.n)
        if self.kind == "inv":
            return rng.uniform(-1.0, 1.0, size=shape) + 2.0 * np.eye(self.n)
        q = np.linalg.qr(rng.normal(size=shape))[0]
        return (q * (1.0 + np.arange(self.n))) @ np.swapaxes(q, -1, -2)

    def direction(self, value, rng):
        v = rng.normal(size=np.shape(value))
        return (v + np.swapaxes(v, -1, -2)) / 2 if self.kind == "spd" else v


# fmt: off
BOOLS = [MASK, ~MASK]

# --- numpy: more elementwise ---
row([np.fabs, np.deg2rad, np.radians, np.rad2deg, np.degrees, np.conjugate, np.real, np.imag], *UNARY)
row(np.angle, *UNARY, beyond_autograd(case(A(3), deg=True)))  # real x: 0 or pi, a derivative of 0
row(np.sinc, *UNARY, case(A(3, low=-1e-3, high=1e-3)))
row([np.array, np.asarray, np.asanyarray], case(A(3)), case(T(F, F, F)), case(T(A(2), A(2))),
    case(A(2, 3), dtype=np.float64), autograd=False)
row(np.ascontiguousarray, case(A(2, 3)), case(T(F, F)), autograd=False)
row(np.ldexp, case(A(3), K(np.array([1, 2, -1]))), case(A(2, 3), K(2)), autograd=False)
row([np.logaddexp2, np.fmax, np.fmin], *BINARY)
row(np.copysign, case(A(3), K(np.array([1.0, -1.0, 2.0]))), case(A(2, 3), K(-1.0)),
    case(A(2, 3), K(np.array([-1.0, 1.0, 1.0]))))
row([np.fmod, np.remainder], *BINARY, domain=((0.1, 4.0), (0.6, 1.4)), autograd=False)
row(np.float_power, *BINARY, case(A(3), K(2.0)), domain=((0.5, 2.0), (-1.5, 1.5)), autograd=False)

# --- numpy: more reductions ---
row(np.nansum, *REDUCTION, case(A(2, 3), axis=1, dtype=np.float64))
row(np.nanmean, *REDUCTION)
row([np.ptp, np.nanmax, np.nanmin], *ARRAY_REDUCTION)
row(np.cumsum, case(A(3)), case(A(2, 3)), case(A(2, 3), axis=0), case(A(2, 3), axis=-1),
    case(A(2, 3, 4), axis=1), beyond_autograd(case(A(2, 3), K(1), K(np.float64))))
row(np.cumprod, case(A(3)), case(A(2, 3)), case(A(2, 3), axis=0), case(A(2, 3, 4), axis=-1),
    domain=(0.5, 1.5))
row(np.trace, case(A(3, 3)), case(A(2, 3), offset=1), beyond_autograd(case(A(2, 3, 4), axis1=1, axis2=2)),
    case(A(3, 3), K(-1)))
row(np.diff, case(A(5)), case(A(3, 4), n=2), case(A(3, 4), axis=0), case(A(2, 3, 4), n=2, axis=1))
row(np.average, case(A(2, 3)), case(A(2, 3), axis=1), case(A(2, 3), axis=0, keepdims=True),
    case(A(2, 3), K(None), A(2, 3, low=0.5, high=2.0)), case(A(2, 3), K(1), A(3, low=0.5, high=2.0)),
    case(A(2, 3, 4), K((0, 2)), A(2, 3, 4, low=0.5, high=2.0), keepdims=True))
row(np.sort, case(A(5)), case(A(3, 4)), case(A(3, 4), axis=0), case(A(3, 4), axis=None))
row(np.median, case(A(5)), case(A(4)), case(A(3, 4), axis=0), case(A(3, 4), axis=1, keepdims=True),
    case(A(2, 3, 4), axis=(0, 2)), autograd=False)

# --- numpy: shapes ---
row(np.atleast_1d, case(F), case(A()), case(A(3)))
row(np.atleast_2d, case(A(3)), case(A(2, 3)))
row(np.atleast_3d, case(A(3)), case(A(2, 3)), case(A(2, 3, 4)))
row(np.flip, case(A(3)), case(A(2, 3), axis=0), case(A(2, 3, 4), axis=(0, 2)))
row([np.fliplr, np.flipud], case(A(2, 3)), case(A(2, 3, 2)))
row(np.roll, case(A(5), K(2)), case(A(2, 3), K(1), axis=1), beyond_autograd(case(A(2, 3), K((1, -1)), axis=(0, 1))))
row(np.rot90, case(A(2, 3)), case(A(2, 3), K(2)), beyond_autograd(case(A(2, 3, 4), K(-1), axes=(1, 2))))
row(np.tile, case(A(3), K(2)), case(A(2, 3), K((2, 1, 2))), beyond_autograd(case(A(2, 3), K((3,)))))
row(np.repeat, case(A(3), K(2)), case(A(2, 3), K(2), axis=1), case(A(2, 3), K(np.array([1, 3])), axis=0),
    autograd=False)
row([np.triu, np.tril], case(A(3, 3)), case(A(3, 4), K(1)), case(A(2, 3, 3), K(-1)))
row(np.diag, case(A(3)), case(A(3), K(1)), case(A(3, 3)), beyond_autograd(case(A(3, 4), K(-1))))
row(np.diagonal, case(A(3, 3)), case(A(3, 4), K(1)), case(A(2, 3, 4), K(0), K(1), K(2)),
    case(A(3, 4), K(-1), K(1), K(0)))
row(np.take, case(A(5), K(np.array([0, 2, 2]))), case(A(3, 4), K(np.array([[0, 1], [3, 3]])), axis=1),
    case(A(3, 4), K(1), axis=0), autograd=False)
row(np.take_along_axis, case(A(3, 4), K(np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]])), K(1)),
    case(A(3, 4), K(np.array([[0, 2, 1, 1]])), K(0)), case(A(3, 4), K(np.array([0, 5, 5])), K(None)),
    autograd=False)
row(np.hstack, case(T(A(3), A(2))), case(T(A(2, 3), A(2, 1))))
row(np.vstack, case(T(A(3), A(2, 3))), case(T(A(2, 3), A(1, 3))))
row(np.dstack, case(T(A(2, 3), A(2, 3, 2))), case(T(A(3), A(3))))
row(np.split, case(A(6), K(3)), case(A(2, 6), K([1, 4]), axis=1), autograd=False)
row(np.array_split, case(A(7), K(3)), case(A(2, 5), K(2), axis=1), autograd=False)
row(np.pad, case(A(3), K(1)), case(A(2, 3), K(((1, 0), (2, 1)))), case(A(3), K(1), constant_values=3.0),
    case(A(2, 3), K(((1, 0), (2, 1))), mode="reflect"), case(A(4), K(2), mode="wrap"),
    case(A(2, 3), K(1), mode="edge"), case(A(2, 3), K(2), mode="symmetric"),
    autograd=False)  # autograd's pad rule needs `mode` passed positionally
row(np.select, case(K(BOOLS), T(A(2, 3), A(2, 3)), A()), case(K(BOOLS), T(A(3), A(2, 3)), A(2, 3)),
    autograd=False)

# --- numpy: products ---
row(np.vdot, case(A(3), A(3)), case(A(2, 3), A(6)))
row(np.inner, case(A(3), A(3)), case(A(2, 3), A(3)), case(A(2, 3), A(4, 3)), case(A(2, 2, 3), A(4, 3)))
row(np.tensordot, case(A(2, 3), A(3, 4), K(1)), case(A(2, 3, 4), A(3, 4, 5)),
    case(A(2, 3, 4), A(4, 3, 5), K(((1, 2), (1, 0)))), case(A(3, 2), A(3, 4), K(([0], [0]))))
row(np.einsum, case(K("ij,jk->ik"), A(2, 3), A(3, 4)), beyond_autograd(case(K("ii->"), A(3, 3))), beyond_autograd(case(K("ii->i"), A(3, 3))),
    case(K("ij->ji"), A(2, 3)), case(K("ij->i"), A(2, 3)), case(K("bij,bjk->bik"), A(2, 2, 3), A(2, 3, 4)),
    case(K("...ij,...jk"), A(2, 3), A(5, 3, 4)), case(K("i,j,k->ijk"), A(2), A(3), A(4)),
    case(K("ij,ij"), A(2, 3), A(2, 3)), case(K("ij,jk"), A(2, 3), A(3, 4)),
    beyond_autograd(case(K("i,ij->j"), A(1), A(3, 2))),
    case(K("ij,jk,kl,lm->im"), A(2, 3), A(3, 2), A(2, 2), A(2, 3)),
    case(K("i,i,i,i,i,i->"), A(3), A(3), A(3), A(3), A(3), A(3)))
row(np.cross, case(A(3), A(3)), beyond_autograd(case(A(4, 3), A(3))), case(A(2, 3), A(2, 3)))
row(np.kron, case(A(2), A(3)), case(A(2, 3), A(2, 2)))

# --- numpy.linalg ---
row(np.linalg.inv, case(M("inv", 3)), case(M("inv", 2, (4,))))
row(np.linalg.solve, case(M("inv", 3), A(3)), case(M("inv", 3), A(3, 2)),
    case(M("inv", 3, (2,)), A(2, 3, 4)), beyond_autograd(case(M("inv", 3, (2,)), A(3, 4))))
row([np.linalg.det, np.linalg.slogdet], case(M("inv", 3)), case(M("inv", 2, (3,))))
row(np.linalg.eigvalsh, case(M("spd", 3)), case(M("spd", 3, (2,))))
row(np.linalg.cholesky, case(M("spd", 3)), case(M("spd", 3, (2,))), beyond_autograd(case(M("spd", 3), upper=True)))
# autograd projects eigh's cotangent onto the lower triangle; ours is the symmetric one
row(np.linalg.eigh, case(M("spd", 3)), case(M("spd", 3, (2,))), autograd=False)
row(np.linalg.qr, case(A(4, 3)), case(A(3, 3)), case(A(2, 4, 3)), case(A(4, 3), mode="r"), case(A(3, 3), K("complete")),
    case(A(2, 4, 3), mode="r"), autograd=False)
row(np.linalg.svd, case(A(4, 3), full_matrices=False), case(A(3, 3)), case(A(2, 3, 4), full_matrices=False),
    case(A(4, 3), compute_uv=False), case(A(2, 3, 4), K(True), K(False)), case(M("spd", 3), hermitian=True),
    case(M("spd", 3), compute_uv=False, hermitian=True), autograd=False)
row(np.linalg.pinv, case(A(4, 3)), case(A(3, 4)), case(A(3, 3)), autograd=False)
row(np.linalg.matrix_power, case(M("inv", 3), K(3)), case(M("inv", 3), K(-2)), case(M("inv", 3), K(1)),
    case(M("inv", 2, (2,)), K(2)))
row(np.linalg.norm, case(A(3)), case(A(2, 3)), case(A(2, 3, 4)), case(A(2, 3), axis=1),
    beyond_autograd(case(A(2, 3), axis=0, keepdims=True)), case(A(3), K(1)), beyond_autograd(case(A(3), K(np.inf))),
    beyond_autograd(case(A(3), K(-np.inf))),
    case(A(3), K(3)), case(A(2, 3), K("fro")), case(A(3, 3), K("nuc")), case(A(3, 4), K(2)),
    case(A(3, 4), K(1)), case(A(3, 4), K(np.inf)), case(A(3, 4), K(-1)), case(A(2, 3, 4), K(None), K((1, 2))),
    case(A(2, 3, 4), K(2), K((2, 1))), beyond_autograd(case(A(2, 3), K(1), K(1), K(True))))
# fmt: on
# fmt: off
row(np.linalg.cond, case(M("inv", 3)), case(M("inv", 3), K(-2)), case(M("inv", 3, (2,)), K("fro")),
    case(M("inv", 3), K("nuc")), case(M("inv", 3), K(1)), case(M("inv", 3), K(-np.inf)), autograd=False)
row(np.linalg.lstsq, case(A(4, 3), A(4)), case(A(4, 3), A(4, 2)), case(A(3, 3), A(3)), case(A(2, 4), A(2, 3)),
    case(A(4, 3), K(np.ones(4))), autograd=False)
row(np.linalg.multi_dot, case(T(A(2, 3), A(3, 4))), case(T(A(3), A(3, 4), A(4, 2), A(2))),
    case(T(A(2, 3), A(3, 3), A(3))), autograd=False)
row(np.linalg.tensorinv, case(M("inv", 4), K(1)), case(A(2, 3, 6, low=-0.3, high=0.3), K(2)), autograd=False)
# fmt: on

# --- numpy: more shapes, joins and picks ---
# fmt: off
row(np.diagflat, case(A(3)), case(A(2, 2), K(1)), case(A(3), k=-1))
row(np.rollaxis, case(A(2, 3, 4), K(2)), case(A(2, 3, 4), K(0), K(2)), case(A(2, 3, 4), K(-1), K(1)),
    case(A(2, 3, 4), K(1), start=-1), autograd=False)
row(np.resize, case(A(3), K(7)), case(A(2, 3), K((3, 3))), case(A(2, 3), K(4)), autograd=False)
row(np.delete, case(A(5), K(1)), case(A(3, 4), K([0, 2]), axis=1), case(A(3, 4), K(slice(0, 2)), axis=0),
    case(A(3, 4), K(np.array([1, 5, 6]))), autograd=False)
row([np.asfortranarray, np.asarray_chkfinite], case(A(2, 3)), case(T(F, F)), autograd=False)
row([np.hsplit, np.vsplit], case(A(4, 4), K(2)), case(A(4, 6), K([1, 3])), autograd=False)
row(np.hsplit, case(A(6), K(3)), autograd=False)
row(np.dsplit, case(A(2, 3, 4), K(2)), case(A(2, 3, 4), K([1])), autograd=False)
row(np.column_stack, case(T(A(3), A(3, 2))), case(T(A(3), A(3))), autograd=False)
row(np.block, case(L(A(2, 2), A(2, 3))), case(L(L(A(2, 2), A(2, 3)), L(A(1, 5)))), case(L(L(A(3), A(2)), L(A(5)))),
    case(L(A(3), F)), case(L(L(A(2, 1, 2), A(2, 1, 3)))), case(L(L(L(A(2), A(2))), L(L(A(4))))),
    case(L(L(A(2, 3, 2), A(2, 3, 1)), L(A(2, 1, 3)))), autograd=False)
PIECES = [np.array([True, True, False, False, True, False]), np.array([False, True, True, False, False, False])]
row(np.piecewise, case(A(6), K(PIECES), L(F, F)), case(A(6), K(PIECES), L(F, F, F)), case(A(2, 3), K([MASK]), L(F, F)),
    case(A(6), K(PIECES), K([1.0, -2.0, 0.5])), case(F, K([True, False]), L(F, F)), case(A(2, 3), K(BOOLS), T(F, F)),
    autograd=False)  # functions in funclist: tests/rules/test_rule_limits.py
row(np.append, case(A(3), A(2)), case(A(2, 3), A(2, 2), axis=1), case(A(2, 3), A(2, 3)), case(A(2, 3), F),
    case(A(3), K(np.array([1.0, 2.0]))), autograd=False)
row(np.insert, case(A(5), K(1), F), case(A(5), K([0, 2, 2]), A(3)), case(A(3, 4), K(1), A(4), axis=0),
    case(A(3, 4), K(2), A(3), axis=1), case(A(3, 4), K([1, 3]), A(3, 1), axis=1), case(A(2, 3), K(2), A(2)),
    case(A(3, 2), K(1), F, axis=1), case(A(4), K(slice(0, 2)), K(0.5)), autograd=False)
row(np.broadcast_arrays, case(A(3), A(2, 3)), case(A(2, 1), A(3), A()), case(A(4)), autograd=False)
row(np.meshgrid, case(A(3), A(4)), case(A(3), A(4), indexing="ij"), case(A(2), A(3), A(4)), case(A(3)),
    case(A(3), A(2), sparse=True), case(A(2, 2), A(3)), case(A(2), A(3), A(2), indexing="ij"), autograd=False)
row(np.compress, case(K(np.array([True, False, True])), A(3)), case(K([False, True]), A(2, 3), axis=0),
    case(K([True, False, True]), A(2, 3), axis=1), case(K([True, True, False, True]), A(2, 3)), autograd=False)
row(np.extract, case(K(MASK), A(2, 3)), autograd=False)
row(np.choose, case(K(np.array([0, 1, 1, 0])), T(A(4), A(4))), case(K(np.array([[0, 2, 1]])), T(A(2, 3), A(3), F)),
    case(K(np.array([0, 3, -1])), T(A(3), A(3)), mode="wrap"), case(K(np.array([0, 5])), T(A(2), A(2)), mode="clip"),
    case(K(np.array([1, 0, 1])), A(2, 3)), autograd=False)
# fmt: on
