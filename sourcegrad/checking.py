"""``check_grads``: sourcegrad's derivatives against central finite differences, in float64.

Reverse mode: the generated gradient of ``<u, f(x)>`` for a random cotangent ``u``, element by
element against central differences of ``<u, f>`` (two evaluations of ``f`` per element of each
argument). Forward mode: the generated derivative along a random tangent of one argument at a
time, against central differences of ``f`` along that tangent. ``order=2`` then checks the
generated derivative functions themselves the same way (forward over reverse, reverse over
reverse, ...), and so on. Inputs are fixed by ``seed``: the same call checks the same numbers.

Uses only the public API (it is a client of ``api``, like the user's own tests).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sourcegrad import api
from sourcegrad.errors import GradientCheckError, SourcegradError, location_of_function

MODES = ("reverse", "forward")


@dataclass(frozen=True)
class Check:
    """One comparison: the derivative in one mode (and order) for one argument."""

    mode: str  # "reverse", "forward", or for order 2+ e.g. "forward over reverse"
    order: int
    argument: str
    shape: tuple
    max_abs_error: float  # max |sourcegrad - finite differences| over the derivative's elements
    max_rel_error: float  # max_abs_error / max |finite differences|
    tolerance: float  # atol + rtol * max |finite differences|

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_error <= self.tolerance)


@dataclass(frozen=True)
class GradCheckReport:
    """Every comparison ``check_grads`` made; ``str(report)`` is a table, one row per check."""

    function: str
    checks: tuple[Check, ...]
    eps: float
    rtol: float
    atol: float

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def max_abs_error(self) -> float:
        return max((c.max_abs_error for c in self.checks), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((c.max_rel_error for c in self.checks), default=0.0)

    def __str__(self) -> str:
        rows = [("mode", "order", "argument", "shape", "max abs error", "max rel error", "")]
        for c in self.checks:
            rows.append(
                (
                    c.mode,
                    str(c.order),
                    c.argument,
                    str(c.shape),
                    f"{c.max_abs_error:.2e}",
                    f"{c.max_rel_error:.2e}",
                    "ok" if c.passed else "FAILED",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        head = f"check_grads({self.function}): central differences, eps={self.eps:g}, "
        head += f"passes when max abs error <= {self.atol:g} + {self.rtol:g} * max |derivative|"
        return "\n".join([head] + ["  " + line for line in lines])


def check_grads(
    f: Callable,
    args: Sequence[Any],
    wrt: int | str | Sequence[int | str] | None = None,
    order: int = 1,
    modes: Sequence[str] = MODES,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
) -> GradCheckReport:
    """Compare sourcegrad's derivatives of ``f`` at ``args`` with central finite differences.

    ``wrt``: parameter positions or names to check (default: every float argument). ``modes``:
    ``"reverse"`` (``sg.grad``) and/or ``"forward"`` (``sg.autodiff(mode="forward")``). ``order``:
    also check the derivatives of the generated derivative functions, up to that order.
    Returns a ``GradCheckReport``; raises ``GradientCheckError`` (an ``AssertionError``) with the
    per-argument table when any error is above ``atol + rtol * max |derivative|``.
    """
    modes = tuple(modes)
    for mode in modes:
        if mode not in MODES:
            raise SourcegradError(
                f"check_grads: unknown mode {mode!r}", hint=f"use modes from {MODES}"
            )
    if not isinstance(order, int) or order < 1:
        raise SourcegradError(
            f"check_grads: order={order!r} is not a positive integer",
            hint="use order=1 for first derivatives, 2 for second, ...",
        )
    bound = inspect.signature(f).bind(*args)
    bound.apply_defaults()
    full = list(bound.args)
    positions = _positions(f, full, wrt)
    for i in positions:
        full[i] = _float64(full[i])
    checks: list[Check] = []
    rng = np.random.default_rng(seed)
    _check(f, tuple(full), positions, modes, order, 1, "", rng, eps, (rtol, atol), checks)
    name = getattr(f, "__qualname__", repr(f))
    report = GradCheckReport(name, tuple(checks), eps, rtol, atol)
    if not report.passed:
        bad = ", ".join(sorted({f"{c.argument} ({c.mode})" for c in report.failures}))
        raise GradientCheckError(
            f"check_grads({name}): the derivatives for {bad} differ from central finite "
            f"differences\n{report}",
            report,
            location_of_function(f),
            hint="read the generated code (`print(sg.source(sg.grad(f)))`): a rule registered "
            "with @sg.adjoint or @sg.tangent for a function called here may be wrong; if f is not "
            "smooth at these arguments (abs or max at a tie, a branch at its threshold), check it "
            "at other arguments; if f is badly scaled, pass a larger eps or rtol",
        )
    return report


def _check(f, args, positions, modes, order, level, path, rng, eps, tols, checks) -> None:
    """Check ``f`` at ``args`` in each mode at this level; recurse into the derivative functions."""
    params = list(inspect.signature(f).parameters)
    out = f(*args)
    for mode in modes:
        label = mode if not path else f"{mode} over {path}"
        if mode == "reverse":
            u = _random_like(out, rng)
            df = api.grad(f, wrt=positions)
            got = df(*args, u)
            for i, g in zip(positions, got):
                want = _numeric_gradient(
                    lambda x, i=i, u=u: _inner(u, f(*_with(args, i, x))), args[i], eps
                )
                checks.append(_compare(label, level, params[i], args[i], g, want, tols))
            more = args + (u,)
        else:
            f_dot = api.autodiff(f, mode="forward", wrt=positions)
            for i in positions:
                v = _random_like(args[i], rng)
                tangents = [v if j == i else _zeros_like(args[j]) for j in positions]
                got = f_dot(*args, *tangents)
                up, down = (
                    f(*_with(args, i, _step(args[i], v, eps))),
                    f(*_with(args, i, _step(args[i], v, -eps))),
                )
                want = [(a - b) / (2 * eps) for a, b in zip(_leaves(up), _leaves(down))]
                checks.append(_compare(label, level, params[i], args[i], _leaves(got), want, tols))
            df = f_dot
            more = args + tuple(_random_like(args[i], rng) for i in positions)
        if level < order:
            _check(df, more, positions, modes, order, level + 1, label, rng, eps, tols, checks)


def _positions(f, args: list, wrt) -> tuple[int, ...]:
    params = list(inspect.signature(f).parameters)
    if wrt is None:
        found = tuple(i for i, a in enumerate(args) if _is_float(a))
        if not found:
            raise SourcegradError(
                f"check_grads: no argument of {getattr(f, '__name__', f)} is a float or "
                "float array",
                hint="pass float arguments, or name them with wrt=",
            )
        return found
    items = [wrt] if isinstance(wrt, (int, str)) else list(wrt)
    out = []
    for item in items:
        index = params.index(item) if isinstance(item, str) and item in params else item
        if not isinstance(index, int) or not 0 <= index < len(args):
            raise SourcegradError(
                f"check_grads: wrt={item!r} names no parameter of {getattr(f, '__name__', f)}",
                hint=f"choose among {params}",
            )
        out.append(index)
    return tuple(out)


def _is_float(value) -> bool:
    if isinstance(value, (tuple, list)):
        return False
    return np.asarray(value).dtype.kind == "f"


def _float64(value):
    return float(value) if np.ndim(value) == 0 else np.array(value, dtype=np.float64)


def _with(args: tuple, i: int, value) -> tuple:
    return args[:i] + (value,) + args[i + 1 :]


def _step(x, v, h):
    return x + h * v


def _leaves(value) -> list[np.ndarray]:
    """A (possibly nested) tuple or list of outputs as a flat list of float64 arrays."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [np.asarray(value, dtype=np.float64)]


def _random_like(value, rng):
    """Random normal numbers shaped like ``value`` (a float for a scalar, tuples kept)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_random_like(v, rng) for v in value)
    shape = np.shape(value)
    return float(rng.standard_normal()) if shape == () else rng.standard_normal(shape)


def _zeros_like(value):
    return 0.0 if np.ndim(value) == 0 else np.zeros(np.shape(value))


def _inner(u, out) -> float:
    return float(sum(np.sum(a * b) for a, b in zip(_leaves(u), _leaves(out))))


def _numeric_gradient(phi: Callable[[Any], float], x, eps: float):
    """Central differences of the scalar ``phi`` at ``x``, one element at a time."""
    if np.ndim(x) == 0:
        return (phi(x + eps) - phi(x - eps)) / (2 * eps)
    g = np.zeros(np.shape(x))
    for index in np.ndindex(g.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        g[index] = (phi(up) - phi(down)) / (2 * eps)
    return g


def _compare(mode: str, order: int, name: str, arg, got, want, tols) -> Check:
    rtol, atol = tols
    got, want = _leaves(got), _leaves(want)
    if [a.shape for a in got] != [b.shape for b in want]:  # a wrong shape fails outright
        return Check(mode, order, name, np.shape(arg), float("inf"), float("inf"), 0.0)
    got = np.concatenate([np.ravel(a) for a in got]) if got else np.zeros(0)
    want = np.concatenate([np.ravel(a) for a in want]) if want else np.zeros(0)
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    error = float(np.max(np.abs(got - want))) if want.size else 0.0
    error = error if not np.isnan(error) else float("inf")
    relative = error / scale if scale > 0 else (0.0 if error == 0 else float("inf"))
    return Check(mode, order, name, np.shape(arg), error, relative, atol + rtol * scale)
