"""Every registered rule, both modes, checked numerically without the transform.

A template is evaluated directly: `d[NAME]` is rewritten into a dict access, and the body runs
with its parameters bound to real values and the rule module's globals. Adjoints pass the
dot-product test <u, J v> = <Jᵀu, v>, tangents must equal J v, where J v comes from central finite
differences in float64; where autograd has the function, the adjoints must also equal its VJPs.
The cases come from `domains.py`: a registered rule without a row there fails.
"""

from __future__ import annotations

import ast
import operator
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import sourcegrad.rules  # registers the built-in rules
from sourcegrad.errors import SourcegradError, qualified_name
from sourcegrad.rules import table
from sourcegrad.rules.table import d

sys.path.insert(0, str(Path(__file__).parent))
import domains_numpy2  # noqa: F401 - rows for NumPy 2's array-API names
import domains_runtime  # noqa: F401 - rows for the runtime helpers' rules
import domains_scipy  # noqa: F401 - rows for scipy.special, when SciPy is importable
import domains_signal  # noqa: F401 - rows for NumPy's sequence functions
import domains_stats  # noqa: F401 - rows for NumPy's statistics
from domains import DOMAINS, K, draw

EPS = 1e-6
PACKAGE = Path(sourcegrad.rules.__file__).parent


def built_in(registry: dict) -> set:
    """The functions whose rule in `registry` is one of sourcegrad's own (not a user's or a
    test's, which other test modules may register at import)."""
    return {fn for fn, t in registry.items() if Path(t.filename).is_relative_to(PACKAGE)}


REGISTERED = sorted(built_in(table.ADJOINTS) | built_in(table.TANGENTS), key=qualified_name)
CASES = [
    pytest.param(fn, c, id=f"{qualified_name(fn)}{c!r}")
    for fn in REGISTERED
    if fn in DOMAINS
    for c in DOMAINS[fn].cases
]


# --- evaluating templates ---
class _DictAccess(ast.NodeTransformer):
    """`d[x]` -> `__d__['x']`."""

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "d":
            assert isinstance(node.slice, ast.Name), "templates index d by a name"
            value = ast.Name("__d__", ast.Load())
            return ast.copy_location(
                ast.Subscript(value, ast.Constant(node.slice.id), node.ctx), node
            )
        return node


_COMPILED: dict[tuple[int, int], object] = {}


def run_statement(template: table.Template, index: int, values: dict, dvalues: dict) -> dict:
    """Execute statement `index` of `template` with params bound to `values`; return `d`."""
    key = (id(template), index)
    if key not in _COMPILED:
        stmt = _DictAccess().visit(ast.parse(ast.unparse(template.body[index])))
        _COMPILED[key] = compile(ast.fix_missing_locations(stmt), template.filename, "exec")
    scope = dict(template.namespace)
    scope.update(values)
    scope["__d__"] = dvalues
    exec(_COMPILED[key], scope)  # noqa: S102 - the template under test
    name = target(template.body[index])
    value = template.body[index].value
    if isinstance(value, ast.Constant) and value.value == 0:  # `d[x] = 0.0`: x gives only a shape
        dvalues[name] = np.zeros(np.shape(values[name]))
    return dvalues


def target(stmt: ast.stmt) -> str:
    return stmt.targets[0].slice.id


def reads(stmt: ast.stmt) -> set[str]:
    return {
        n.slice.id
        for n in ast.walk(stmt.value)
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == "d"
    }


# --- inputs ---
def direction(value, rng):
    if isinstance(value, dict):
        return {k: direction(v, rng) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(direction(v, rng) for v in value) if type(value) in (tuple, list) \
            else tuple(direction(v, rng) for v in value)
    if isinstance(value, float):
        return float(rng.normal())
    return rng.normal(size=np.shape(value))


def axpy(a, v, x, scale=1.0):
    """`(x + a * v) * scale` for values and tuples (lists, dicts) of values."""
    if isinstance(x, dict):
        return {k: axpy(a, v[k], x[k], scale) for k in x}
    if isinstance(x, (tuple, list)):
        items = [axpy(a, vi, xi, scale) for vi, xi in zip(v, x)]
        if hasattr(type(x), "_make"):  # keep namedtuples
            return type(x)._make(items)
        return items if isinstance(x, list) else tuple(items)
    return (np.asarray(x) + a * np.asarray(v)) * scale if scale != 1.0 else x + a * v


def inner(a, b) -> float:
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), (a, b)
        return sum(inner(a[k], b[k]) for k in b)
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b), (a, b)
        return sum(inner(ai, bi) for ai, bi in zip(a, b))
    assert np.shape(a) == np.shape(b), f"cotangent shape {np.shape(a)} != primal {np.shape(b)}"
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))  # Re: docs/dtypes.md's pairing


class Setup:
    """One case of one rule: the bound values, the differentiable inputs, the primal as f(dict)."""

    def __init__(self, fn, case):
        self.fn, self.case = fn, case
        row = DOMAINS[fn]
        self.rtol = row.rtol
        rng = np.random.default_rng(zlib.crc32(f"{qualified_name(fn)}{case!r}".encode()))
        self.args = [draw(s, rng, row.bounds(i)) for i, s in enumerate(case.args)]
        self.kwargs = dict(case.kwargs)
        tmpl = table.lookup_adjoint(fn) or table.lookup_tangent(fn)
        self.result, *names = tmpl.params
        assert len(self.args) <= len(names), "more arguments than template parameters"
        self.values = dict(tmpl.defaults) | dict(zip(names, self.args)) | self.kwargs
        missing = set(names) - set(self.values)
        assert not missing, f"case binds no value to {missing}"
        self.active = [
            p for p, s in zip(names, case.args) if not isinstance(s, K)
        ]  # arguments the case varies
        self.y = fn(*self.args, **self.kwargs)
        self.values[self.result] = self.y
        specs = dict(zip(names, case.args))
        self.v = {  # a structured input picks its own directions (symmetric ones for SPD)
            p: specs[p].direction(self.values[p], rng) if hasattr(specs[p], "direction")
            else direction(self.values[p], rng)
            for p in self.active
        }
        self.u = direction(self.y if not isinstance(self.y, np.generic) else float(self.y), rng)
        if not isinstance(self.y, (tuple, list, dict)) and np.ndim(self.y) == 0 and not isinstance(self.u, float):
            self.u = float(np.asarray(self.u))

    def call(self, values: dict):
        args = [values.get(p, a) for p, a in zip(self._names(), self.args)]
        return self.fn(*args, **self.kwargs)

    def _names(self):
        tmpl = table.lookup_adjoint(self.fn) or table.lookup_tangent(self.fn)
        return tmpl.params[1:]

    def jvp_fd(self):
        plus = {p: axpy(EPS, self.v[p], self.values[p]) for p in self.active}
        minus = {p: axpy(-EPS, self.v[p], self.values[p]) for p in self.active}
        return axpy(-1.0, self.call(minus), self.call(plus), scale=1 / (2 * EPS))


def close(actual, expected, rtol, what):
    if isinstance(expected, dict):  # a dict output (dict(d)): value by value
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (actual, expected)
        for k in expected:
            close(actual[k], expected[k], rtol, f"{what} [{k!r}]")
        return
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


# --- the table is complete ---
@pytest.mark.parametrize("fn", REGISTERED, ids=qualified_name)
def test_every_rule_has_a_domain_row(fn):
    assert fn in DOMAINS, f"add a row for {qualified_name(fn)} to tests/rules/domains.py"


def test_no_stale_domain_rows():
    stale = [
        qualified_name(f) for f in DOMAINS if f not in table.ADJOINTS and f not in table.TANGENTS
    ]
    assert not stale, f"rows for functions with no rule: {stale}"


def test_every_rule_has_both_modes():
    assert built_in(table.ADJOINTS) == built_in(table.TANGENTS)


def test_methods_and_attributes_map_to_registered_functions():
    fns = [fn for fn, _ in table.METHODS.values()] + list(table.ATTRIBUTES.values())
    unknown = [
        qualified_name(fn)
        for fn in fns
        if table.lookup_adjoint(fn) is None and not table.is_nondifferentiable(fn)
    ]
    assert not unknown
    assert table.METHODS["reshape"] == (np.reshape, True)
    assert table.METHODS["sum"] == (np.sum, False)
    assert table.ATTRIBUTES["T"] is np.transpose


# --- the rules are right ---
@pytest.mark.parametrize("fn, case", CASES)
def test_adjoint_passes_the_dot_product_test(fn, case):
    s = Setup(fn, case)
    tmpl = table.lookup_adjoint(fn)
    dvalues = {s.result: s.u}
    assigned = {target(st) for st in tmpl.body}
    assert set(s.active) <= assigned, f"no adjoint for {set(s.active) - assigned}"
    for i, stmt in enumerate(tmpl.body):
        if target(stmt) in s.active:
            run_statement(tmpl, i, s.values, dvalues)
    lhs = inner(s.u, s.jvp_fd())
    rhs = sum(inner(dvalues[p], s.v[p]) for p in s.active)
    close(rhs, lhs, s.rtol, f"<u, J v> vs <J^T u, v> for {tmpl.source}")


@pytest.mark.parametrize("fn, case", CASES)
def test_tangent_matches_finite_differences(fn, case):
    s = Setup(fn, case)
    tmpl = table.lookup_tangent(fn)
    dvalues = {}
    for p in tmpl.params[1:]:
        dvalues[p] = s.v[p] if p in s.active else 0.0
    for i in range(len(tmpl.body)):
        run_statement(tmpl, i, s.values, dvalues)
    out, expected = dvalues[s.result], s.jvp_fd()
    if isinstance(s.y, (tuple, list)):
        assert isinstance(out, (tuple, list)) and len(out) == len(s.y)
    else:
        out, expected = (out,), (expected,)
    for o, e, y in zip(out, expected, s.y if isinstance(s.y, (tuple, list)) else (s.y,)):
        assert np.shape(o) == np.shape(y), f"tangent shape {np.shape(o)} != {np.shape(y)}"
        close(o, e, s.rtol, f"tangent {tmpl.source}")


def _autograd_function(fn):
    anp = pytest.importorskip("autograd.numpy")
    if getattr(fn, "__module__", None) == "_operator" or fn is abs:
        return fn
    if getattr(fn, "__module__", "") == "numpy.linalg":
        return getattr(anp.linalg, fn.__name__, None)
    if isinstance(fn, np.ufunc) or getattr(fn, "__module__", "").startswith("numpy"):
        return getattr(anp, fn.__name__, None)
    return None


@pytest.mark.parametrize(
    "fn, case", [c for c in CASES if DOMAINS[c.values[0]].autograd and c.values[1].autograd]
)
def test_adjoint_matches_autograd(fn, case):
    from autograd import make_vjp

    agfn = _autograd_function(fn)
    if agfn is None:
        pytest.skip("autograd has no such function")
    s = Setup(fn, case)
    tmpl = table.lookup_adjoint(fn)
    dvalues = {s.result: s.u}
    for i, stmt in enumerate(tmpl.body):
        if target(stmt) in s.active:
            run_statement(tmpl, i, s.values, dvalues)
    names = s._names()
    compared = 0
    for p in s.active:

        def partial(xp, p=p):
            args = [xp if q == p else a for q, a in zip(names, s.args)]
            return agfn(*args, **s.kwargs)

        try:
            vjp, _ = make_vjp(partial)(s.values[p])
            expected = vjp(s.u)
        except NotImplementedError:  # autograd has no VJP for this argument
            continue
        actual = dvalues[p]
        real = isinstance(s.values[p], (float, np.ndarray)) and np.isrealobj(s.values[p])
        if real and np.iscomplexobj(actual):
            # A rule may leave an imaginary part in a real input's cotangent (imag, angle of real
            # x); it means nothing and is dropped where gradients leave (sourcegrad/inputs.py).
            actual = np.real(actual)
        if isinstance(expected, (tuple, list)):
            for a, e in zip(actual, expected):
                close(a, e, 1e-9, f"d[{p}] vs autograd")
        else:
            close(actual, expected, 1e-9, f"d[{p}] vs autograd")
        compared += 1
    if not compared:
        pytest.skip("autograd has no VJP for these arguments")


def test_max_splits_the_cotangent_among_ties():
    tmpl = table.lookup_adjoint(np.max)
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    for axis, expected in [(None, [[0, 0.5, 0.5], [0, 0, 0]]), (1, [[0, 0.5, 0.5], [0.5, 0, 0.5]])]:
        y = np.max(x, axis=axis)
        values = {"y": y, "x": x, "axis": axis, "keepdims": False}
        out = run_statement(tmpl, 0, values, {"y": np.ones_like(y)})["x"]
        np.testing.assert_allclose(out, expected)


# --- the registry itself ---
def test_templates_have_the_documented_shape():
    t = table.lookup_adjoint(np.true_divide)
    assert t.primal is np.true_divide and t.params == ("z", "x", "y")
    assert t.source == "d[x] = sg.unbroadcast(d[z] / y, x)\nd[y] = sg.unbroadcast(-d[z] * z / y, y)"
    assert t.namespace["np"] is np and Path(t.filename).name == "operators.py"
    assert "def _(z, x, y)" in Path(t.filename).read_text().splitlines()[t.lineno - 1]
    assert t.body[0].lineno == t.lineno + 1  # statements carry their true lines


def test_one_template_serves_an_operator_and_its_ufunc():
    import operator

    for op, ufunc in [(operator.add, np.add), (operator.mul, np.multiply), (operator.matmul, np.matmul)]:
        a, b = table.lookup_adjoint(op), table.lookup_adjoint(ufunc)
        assert a.source == b.source and (a.filename, a.lineno) == (b.filename, b.lineno)
        assert a.primal is op and b.primal is ufunc


def test_elementwise_expands_both_modes():
    assert table.lookup_adjoint(np.tanh).source == "d[x] = d[y] * (1.0 - y * y)"
    assert table.lookup_tangent(np.tanh).source == "d[y] = d[x] * (1.0 - y * y)"
    assert table.lookup_adjoint(np.tanh).params == ("y", "x")
    t = table.lookup_adjoint(np.exp)
    line = Path(t.filename).read_text().splitlines()[t.lineno - 1]
    assert "elementwise(np.exp," in line


def test_linear_expands_both_modes():
    t = table.lookup_adjoint(np.sum)
    assert dict(t.defaults) == {"axis": None, "dtype": None, "keepdims": False}
    assert t.source == "d[x] = sg.unreduce(d[y], x, axis, keepdims)"
    assert (
        table.lookup_tangent(np.sum).source
        == "d[y] = np.sum(d[x], axis=axis, dtype=dtype, keepdims=keepdims)"
    )
    assert table.lookup_tangent(np.reshape).source == "d[y] = np.reshape(d[x], shape)"
    assert table.lookup_tangent(float).source == "d[y] = float(d[x])"
    assert table.lookup_adjoint(np.sum).params == ("y", "x", "axis", "dtype", "keepdims")


def test_aliases_are_registered_once():
    assert np.abs is np.absolute and table.lookup_adjoint(np.abs) is table.lookup_adjoint(
        np.absolute
    )
    assert table.lookup_adjoint(np.amax) is not None and table.lookup_adjoint(np.amin) is not None


def test_nondifferentiable_and_missing():
    assert table.is_nondifferentiable(np.argmax) and table.is_nondifferentiable(operator.lt)
    assert table.lookup_adjoint(np.argmax) is None and not table.is_nondifferentiable(np.exp)
    assert (  # complex results: no rule
        table.lookup_adjoint(np.linalg.eig) is None and table.lookup_tangent(np.linalg.eig) is None
    )
    assert table.lookup_adjoint([]) is None and not table.is_nondifferentiable([])  # unhashable


def test_d_cannot_be_used_at_runtime():
    with pytest.raises(SourcegradError):
        d[1]
    with pytest.raises(SourcegradError):
        d(1)


def _user_fn(x, k=2):
    return x * k


def _restore(fn):
    table.ADJOINTS.pop(fn, None)
    table.TANGENTS.pop(fn, None)
    table.NONDIFFERENTIABLE.discard(fn)


def test_user_rules_register_and_override():
    try:

        @table.adjoint(_user_fn)
        def _(y, x, k=2):
            """Docstrings are dropped."""
            d[x] = d[y] * k

        t = table.lookup_adjoint(_user_fn)
        assert t.params == ("y", "x", "k") and dict(t.defaults) == {"k": 2}
        assert t.source == "d[x] = d[y] * k" and t.namespace is globals()
        assert t.filename == __file__

        @table.adjoint(_user_fn)
        def _(y, x, k=2):
            d[x] = k * d[y]

        assert table.lookup_adjoint(_user_fn).source == "d[x] = k * d[y]"
        table.nondifferentiable(_user_fn)
        assert table.lookup_adjoint(_user_fn) is None and table.is_nondifferentiable(_user_fn)
        table.elementwise(_user_fn, lambda x, y: 2 * x)
        assert not table.is_nondifferentiable(_user_fn)
        assert table.lookup_tangent(_user_fn).source == "d[y] = d[x] * (2 * x)"
    finally:
        _restore(_user_fn)


def test_linear_spells_the_function_as_written():
    try:
        table.linear(_user_fn, lambda g, x, k=2: g * k)
        assert table.lookup_tangent(_user_fn).source == "d[y] = _user_fn(d[x], k=k)"
        assert table.lookup_adjoint(_user_fn).source == "d[x] = d[y] * k"
    finally:
        _restore(_user_fn)


def test_several_lambdas_on_one_line_are_told_apart():
    if sys.version_info < (3, 11):
        pytest.skip("co_positions is 3.11+")
    try:
        lams = (lambda x, y: 3 * x, lambda x, y: 4 * x)
        table.elementwise(_user_fn, lams[1])
        assert table.lookup_adjoint(_user_fn).source == "d[x] = d[y] * (4 * x)"
    finally:
        _restore(_user_fn)


@pytest.mark.parametrize(
    "body, message",
    [
        ("    d[y] = d[y] * 2\n", "an argument (not the result)"),
        ("    dx = d[y]\n", "d[NAME] = expr"),
        ("    d[x] += d[y]\n", "d[NAME] = expr"),
        ("    d[x] = d[q]\n", "must name a template parameter"),
        ("    d[x] = d[y] * undefined_name\n", "unknown name"),
    ],
)
def test_malformed_adjoints_are_rejected_with_their_line(body, message, tmp_path):
    path = tmp_path / "user_rules.py"
    path.write_text(
        "from sourcegrad.rules.table import adjoint, d\n"
        "def f(x):\n    return x\n"
        "@adjoint(f)\n"
        "def _(y, x):\n" + body
    )
    spec = __import__("importlib.util").util.spec_from_file_location("user_rules", path)
    module = __import__("importlib.util").util.module_from_spec(spec)
    with pytest.raises(SourcegradError) as err:
        spec.loader.exec_module(module)
    assert message in str(err.value)
    assert f"{path}:6" in str(err.value)


def test_malformed_tangent_and_defaults_are_rejected():
    with pytest.raises(SourcegradError, match="the result"):

        @table.tangent(_user_fn)
        def _(y, x, k=2):
            d[x] = d[y]

    with pytest.raises(SourcegradError, match="Python constant"):

        @table.adjoint(_user_fn)
        def _(y, x, k=np.ones(2)):  # noqa: B008 - the point of the test
            d[x] = d[y]

    assert table.lookup_tangent(_user_fn) is None and table.lookup_adjoint(_user_fn) is None
