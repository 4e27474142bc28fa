"""Second derivatives of every registered rule, through the transforms.

For each rule, a scalar program is generated from a case in `domains*.py`: the inputs the case
varies are read from one flat vector `z`, the primal is called, and every float part of its result
`y` enters `sum(c * y) + sum(y * y) / 2`. That weighs each output by a random `c` (so the rule's
own second derivative counts) and by itself (so its first derivative, squared, counts too). Its
Hessian must equal central differences of `sg.grad` in float64, and autograd's Hessian where
autograd has the function, computed two ways:

- `sg.hessian`: forward mode over the generated gradient, which runs the tangent rules of the
  helpers that adjoint templates call, or differentiates their source;
- `sg.jacobian(sg.grad(f))`: reverse over reverse, which runs the helpers' adjoint rules;
- gradients of the generated directional derivative: reverse over forward, which differentiates
  the helpers that tangent templates call (under `-m exhaustive`).

A rule whose second derivative is not supported must say so with a `SourcegradError`: such rules
are listed in `UNSUPPORTED`, with the error and the reason; a silently wrong second derivative
fails. By default each rule's first case runs forward over reverse, and reverse over reverse where
its templates call helpers; `-m exhaustive` runs every other case and mode (CI does not).
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import sourcegrad as sg
import sourcegrad.rules  # registers the built-in rules
from sourcegrad.errors import TransformError, qualified_name
from sourcegrad.rules import table

sys.path.insert(0, str(Path(__file__).parent))
import domains_numpy2  # noqa: F401 - rows for NumPy 2's array-API names
import domains_runtime  # noqa: F401 - rows for the runtime helpers' rules
import domains_scipy  # noqa: F401 - rows for scipy.special, when SciPy is importable
import domains_signal  # noqa: F401 - rows for NumPy's sequence functions
import domains_stats  # noqa: F401 - rows for NumPy's statistics
from domains import DOMAINS, K, L, T, draw

EPS = 1e-5  # central differences of the gradient: error ~ EPS**2 * |f''''|
PACKAGE = Path(sourcegrad.rules.__file__).parent

FOR, REV, RF = "forward over reverse", "reverse over reverse", "reverse over forward"
ALL = {FOR, REV, RF}

# fn -> (the modes; error class; text the message must contain; why): second derivatives that
# are refused, with a SourcegradError that names the call. docs/numpy-coverage.md lists them
# (scripts/coverage_table.py, SECOND_ORDER_LIMITS).
UNSUPPORTED: dict = {
    getattr: (
        ALL,
        TransformError,
        "second derivative through a call resolved at run time",
        (
            "objects: the program builds the record with a call through a value (`sg.call`), and "
            "`sg.unattribute` has no rules; higher-order derivatives of objects are not done "
            "(docs/architecture.md)"
        ),
    ),
}
# The field-replacement helpers take the same namedtuple record, built by the program the same way
# (the user-level Hessian of `p._replace(...)` read by subscripts is checked in tests/syntax/test_pytrees.py).
for _fn in (sg.runtime.replace_field, sg.runtime.unreplace_field, sg.runtime.field_cotangent,
            sg.runtime.replace_field_tangent):  # with_field of a constant record has second derivatives
    UNSUPPORTED[_fn] = UNSUPPORTED[getattr]

# fn -> (the cases, None for all; the modes; exception; why): bugs outside the rules under test
# that raise a plain Python error where a derivative belongs. Strict xfails: a fix shows up here.
KNOWN_BUGS: dict = {
    sg.runtime.einsum_vjp: (
        (0, 1, 3),  # not 2, one operand
        {REV},
        ValueError,
        (
            "third derivatives of einsum: the adjoint of a list comprehension over a list read in "
            "every iteration adds lists of unequal lengths"
        ),
    ),
}


def built_in(registry: dict) -> set:
    return {fn for fn, t in registry.items() if Path(t.filename).is_relative_to(PACKAGE)}


RULES = sorted(
    (fn for fn in built_in(table.ADJOINTS) & built_in(table.TANGENTS) if fn in DOMAINS),
    key=qualified_name,
)


def _marks(fn, i, mode):
    cases, modes, error, why = KNOWN_BUGS.get(fn, ((), set(), None, ""))
    if mode not in modes or (cases is not None and i not in cases):
        return ()
    return (pytest.mark.xfail(raises=error, strict=True, reason=why),)


def calls_helpers(fn) -> bool:
    """Whether the rules of `fn` call a runtime helper (`sg.NAME`) or a function of a rule module:
    code that second derivatives differentiate again, beyond NumPy's own rules."""
    for template in (table.lookup_adjoint(fn), table.lookup_tangent(fn)):
        for node in ast.walk(ast.Module(body=list(template.body), type_ignores=[])):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "sg"
            ):
                return True
            if isinstance(f, ast.Name) and not hasattr(builtins, f.id):
                return True
    return False


def _params(mode, which):
    return [
        pytest.param(fn, i, id=f"{qualified_name(fn)}{case!r}", marks=_marks(fn, i, mode))
        for fn in RULES
        for i, case in enumerate(DOMAINS[fn].cases)
        if which(fn, i)
    ]


DEFAULT_FOR = _params(FOR, lambda fn, i: i == 0)
SLOW_FOR = _params(FOR, lambda fn, i: i > 0)
DEFAULT_REV = _params(REV, lambda fn, i: i == 0 and calls_helpers(fn))
SLOW_REV = _params(REV, lambda fn, i: i > 0 or not calls_helpers(fn))
SLOW_RF = _params(RF, lambda fn, i: i == 0 and calls_helpers(fn))


# --- the program: z -> inputs -> the primal -> a scalar ----------------------------------------------
class Program:
    """The generated scalar program of one case, its input vector `z`, and its twin for autograd."""

    def __init__(self, fn, index: int):
        self.fn, row = fn, DOMAINS[fn]
        self.case = case = row.cases[index]
        rng = np.random.default_rng(zlib.crc32(f"2nd {qualified_name(fn)}{case!r}".encode()))
        values = [draw(s, rng, row.bounds(i)) for i, s in enumerate(case.args)]
        self.namespace = {"np": np, "FN": fn}
        self.lines, self.parts = [], []
        args = [self._unpack(s, v, f"a{i}") for i, (s, v) in enumerate(zip(case.args, values))]
        kwargs = []
        for k, v in case.kwargs.items():
            self.namespace[f"KW_{k}"] = v
            kwargs.append(f"{k}=KW_{k}")
        self.lines.append(f"y = FN({', '.join(args + kwargs)})")
        y = fn(*values, **case.kwargs)
        terms = self._objective("y", y, rng)
        self.lines.append("return " + (" + ".join(terms) if terms else "0.0 * np.sum(z)"))
        self.z = np.concatenate([np.ravel(p) for p in self.parts]) if self.parts else np.zeros(0)
        self.source = "def f(z):\n" + "".join(f"    {line}\n" for line in self.lines)
        self.f = sg.exec_source(self.source, dict(self.namespace))["f"]

    def _unpack(self, spec, value, name: str) -> str:
        """Statements that read `value` (for a varied input, from z) into `name`; its expression."""
        if isinstance(spec, K):
            self.namespace[name] = value
            return name
        if isinstance(spec, T):
            items = [
                self._unpack(s, v, f"{name}_{i}") for i, (s, v) in enumerate(zip(spec.items, value))
            ]
            if isinstance(spec, L):
                return "[" + ", ".join(items) + "]"
            return "(" + "".join(f"{item}, " for item in items) + ")"
        if isinstance(value, dict):  # a dict: its values from z, the dict built from them
            items = [f"{k!r}: {self._unpack(None, v, f'{name}_{k}')}" for k, v in value.items()]
            return "{" + ", ".join(items) + "}"
        if hasattr(value, "_fields"):  # a namedtuple: its fields from z, the record built from them
            self.namespace[f"{name}_kind"] = type(value)
            fields = [self._unpack(None, v, f"{name}_{f}") for f, v in zip(value._fields, value)]
            self.lines.append(f"{name} = {name}_kind({', '.join(fields)})")
            return name
        start = sum(np.size(p) for p in self.parts)
        self.parts.append(np.asarray(value, dtype=float))
        if isinstance(value, float):
            self.lines.append(f"{name} = z[{start}]")
            return name
        shape = np.shape(value)
        self.lines.append(f"{name} = np.reshape(z[{start}:{start + np.size(value)}], {shape})")
        if getattr(spec, "kind", None) == "spd":  # symmetric: the rule reads one triangle only
            self.lines.append(f"{name} = ({name} + np.swapaxes({name}, -1, -2)) * 0.5")
        return name

    def _objective(self, expr: str, y, rng) -> list[str]:
        """`sum(c * y) + sum(y * y) / 2` over the float parts of the result `y`."""
        if isinstance(y, (tuple, list)):
            terms = []
            for i, item in enumerate(y):
                terms += self._objective(f"{expr}[{i}]", item, rng)
            return terms
        if not np.issubdtype(np.asarray(y).dtype, np.floating):
            return []  # an integer part: a rank, an exponent
        name = f"c{len([k for k in self.namespace if k.startswith('c')])}"
        self.namespace[name] = rng.normal(size=np.shape(y))
        return [f"np.sum({name} * {expr} + {expr} * {expr} * 0.5)"]

    def autograd_twin(self):
        """The same program on autograd.numpy with autograd's own function, or None."""
        anp = pytest.importorskip("autograd.numpy")
        fn = self.fn
        if getattr(fn, "__module__", None) == "_operator" or fn is abs:
            twin = fn
        elif getattr(fn, "__module__", "") == "numpy.linalg":
            twin = getattr(anp.linalg, fn.__name__, None)
        elif isinstance(fn, np.ufunc) or getattr(fn, "__module__", "").startswith("numpy"):
            twin = getattr(anp, fn.__name__, None)
        else:
            twin = None
        if twin is None:
            return None
        namespace = dict(self.namespace, np=anp, FN=twin)
        exec(compile(self.source, "<autograd twin>", "exec"), namespace)  # noqa: S102
        return namespace["f"]


def fd_hessian(grad, z):
    """Central differences of the generated gradient, one column per entry of z."""
    columns = []
    for j in range(z.size):
        e = np.zeros(z.size)
        e[j] = EPS
        columns.append((np.asarray(grad(z + e)) - np.asarray(grad(z - e))) / (2 * EPS))
    return np.stack(columns, axis=-1) if columns else np.zeros((0, 0))


def close(actual, expected, rtol, what):
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def reverse_over_forward(f):
    """The Hessian as the gradients of the generated directional derivative `f_dot(z, e_j)`."""
    gradient_of_jvp = sg.grad(sg.autodiff(f, mode="forward"), wrt=0)
    return lambda z: np.stack([gradient_of_jvp(z, e) for e in np.eye(z.size)], axis=-1)


HESSIANS = {
    FOR: sg.hessian,
    REV: lambda f: sg.jacobian(sg.grad(f)),
    RF: reverse_over_forward,
}


def check(fn, index, mode=FOR):
    p = Program(fn, index)
    hessian_of = HESSIANS[mode]
    if fn in UNSUPPORTED and mode in UNSUPPORTED[fn][0]:
        _, error, text, _ = UNSUPPORTED[fn]
        with pytest.raises(error, match=text):
            hessian_of(p.f)(p.z)
        return
    with np.errstate(all="ignore"):
        hessian = hessian_of(p.f)(p.z)
        expected = fd_hessian(sg.grad(p.f), p.z)
    tol = max(DOMAINS[fn].rtol, 1e-6) * 10
    close(hessian, expected, tol, f"{mode} vs central differences of sg.grad\n{p.source}")
    if DOMAINS[fn].autograd and p.case.autograd:
        twin = p.autograd_twin()
        if twin is not None:
            import autograd

            try:
                reference = autograd.hessian(twin)(p.z)
            except (NotImplementedError, KeyError):  # autograd has no (second) derivative here
                return
            close(hessian, reference, 1e-8, f"{mode} vs autograd.hessian\n{p.source}")


@pytest.mark.parametrize("fn, index", DEFAULT_FOR)
def test_hessian_of_a_program_on_the_rule(fn, index):
    check(fn, index, FOR)


@pytest.mark.parametrize("fn, index", DEFAULT_REV)
def test_grad_of_grad_through_the_helpers(fn, index):
    check(fn, index, REV)


@pytest.mark.exhaustive
@pytest.mark.parametrize("fn, index", SLOW_FOR)
def test_hessian_of_every_other_case(fn, index):
    check(fn, index, FOR)


@pytest.mark.exhaustive
@pytest.mark.parametrize("fn, index", SLOW_REV)
def test_grad_of_grad_of_every_case(fn, index):
    check(fn, index, REV)


@pytest.mark.exhaustive
@pytest.mark.parametrize("fn, index", SLOW_RF)
def test_grad_of_the_directional_derivative_through_the_helpers(fn, index):
    check(fn, index, RF)


def test_every_refusal_names_a_rule():
    assert set(UNSUPPORTED) <= set(RULES)
    assert set(KNOWN_BUGS) <= set(RULES)


def test_the_coverage_table_notes_every_refusal():
    path = Path(__file__).resolve().parents[2] / "scripts" / "coverage_table.py"
    spec = importlib.util.spec_from_file_location("coverage_table", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    refused = {script.numpy_name(fn) for fn in UNSUPPORTED} - {None}
    assert refused == set(script.SECOND_ORDER_LIMITS), (
        "update SECOND_ORDER_LIMITS in scripts/coverage_table.py"
    )
