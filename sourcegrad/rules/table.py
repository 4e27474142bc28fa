"""The rule registries: derivative templates keyed by the callable they are for.

A rule is a template: a function whose parameters name the primal's result and arguments and whose
body is a list of `d[NAME] = expr` statements. Reverse-mode (adjoint) templates assign `d[arg]` from
`d[result]`; forward-mode (tangent) templates assign `d[result]` from the `d[arg]`s. The transform
substitutes real names into the body and inlines it, so the rule's text lands in generated code.

    @adjoint(np.true_divide)              # z = x / y
    def _(z, x, y):
        d[x] = sg.unbroadcast(d[z] / y, x)
        d[y] = sg.unbroadcast(-d[z] * z / y, y)

    elementwise(np.tanh, lambda x, y: 1 - y * y)        # both modes from dy/dx
    linear(np.sum, lambda g, x, axis=None, keepdims=False: sg.unreduce(g, x, axis, keepdims))

A leaf of the package: it imports `runtime` and `errors` only, never the pipeline. Rules are keyed
by identity (`np.abs is np.absolute`: one entry), and a later registration replaces an earlier one,
so user rules override the built-in ones.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import inspect
import linecache
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sourcegrad.errors import Location, SourcegradError, location_of, qualified_name


class _D:
    """The `d` of templates: `d[x]` is template syntax for "the derivative of x", never run."""

    __slots__ = ()

    def __getitem__(self, name):
        raise SourcegradError(
            "`d[...]` is template syntax: rule templates are inlined by sourcegrad, never called",
            hint="differentiate a function that uses the primal; do not call the template itself",
        )

    __call__ = __getitem__

    def __repr__(self) -> str:
        return "d"


d = _D()


@dataclass(frozen=True, eq=False)
class Template:
    """One derivative rule, ready for inlining.

    `params` is the result's name first, then the primal's parameters in call order. `body` holds
    `d[NAME] = expr` statements whose line numbers are true lines of `filename`; treat the nodes as
    read-only (copy before substituting). `namespace` resolves the module names the body reads.
    """

    primal: object
    params: tuple[str, ...]
    defaults: Mapping[str, object]
    body: tuple[ast.stmt, ...]
    namespace: Mapping[str, object]
    filename: str
    lineno: int

    @property
    def source(self) -> str:
        """The body as text, one statement a line (for error messages and debugging)."""
        return "\n".join(ast.unparse(s) for s in self.body)


ADJOINTS: dict[object, Template] = {}
TANGENTS: dict[object, Template] = {}
NONDIFFERENTIABLE: set[object] = set()
# Array method name -> (function, pack_varargs); filled by the library rule files.
METHODS: dict[str, tuple[object, bool]] = {}
# Array attribute name -> function of the array; filled by the library rule files.
ATTRIBUTES: dict[str, object] = {}
# Array attributes that user objects may have too (`p.real` of a record with a field `real`):
# the function where the receiver surely holds an array (objects.array_names), else a plain
# attribute read, whose rules (runtime/trees.py) take arrays and objects alike.
ARRAY_ONLY_ATTRIBUTES: dict[str, object] = {}
# Functions that return one number when given one argument alone (full reductions: np.sum(x)).
# A gradient whose output is such a number needs no seed spread over an array (assemble.py).
REDUCTIONS: set[object] = set()

_CONSTANT_TYPES = (type(None), bool, int, float, complex, str)


# --- registration ---------------------------------------------------------------------------


def adjoint(*fns):
    """Register the decorated template as the reverse-mode rule of each of `fns`.

    The template's parameters are the result's name, then the primal's parameters; each statement
    is `d[param] = expr` in terms of `d[result]`, the parameters and module names. One template
    serves several primals that share the math (`operator.add` and `np.add`).
    """
    return lambda template: _register_all(ADJOINTS, fns, template, "adjoint")


def tangent(*fns):
    """Register the decorated template as the forward-mode rule of each of `fns`.

    Same parameters as an adjoint; each statement is `d[result] = expr` in terms of the `d[param]`s.
    """
    return lambda template: _register_all(TANGENTS, fns, template, "tangent")


def elementwise(fn, derivative):
    """Register both modes of an elementwise `y = fn(x)` from `derivative = lambda x, y: dy/dx`.

    Reverse: `d[x] = d[y] * (dy/dx)`.  Forward: `d[y] = d[x] * (dy/dx)`. The lambda's own parameter
    names are the template's (`params == (y, x)`); a one-parameter lambda gets the result name `y`.
    """
    lam, filename, _ = _lambda_node(derivative)
    names = [a.arg for a in lam.args.args]
    if len(names) not in (1, 2) or lam.args.vararg or lam.args.kwarg or lam.args.defaults:
        raise _rule_error(
            f"elementwise({qualified_name(fn)}, ...) needs `lambda x, y: dy/dx`", lam, filename
        )
    x = names[0]
    y = names[1] if len(names) == 2 else _fresh("y", names)
    adj = _assign(x, ast.BinOp(_d(y), ast.Mult(), copy.deepcopy(lam.body)), lam)
    tan = _assign(y, ast.BinOp(_d(x), ast.Mult(), copy.deepcopy(lam.body)), lam)
    common = {
        "primal": fn,
        "params": (y, x),
        "defaults": MappingProxyType({}),
        "namespace": derivative.__globals__,
        "filename": filename,
        "lineno": lam.lineno,
    }
    _register(ADJOINTS, fn, _checked(Template(body=(adj,), **common), "adjoint"), None)
    _register(TANGENTS, fn, _checked(Template(body=(tan,), **common), "tangent"), None)


def linear(fn, transpose):
    """Register both modes of `y = fn(x, *more)`, linear in `x`, from its transpose.

    `transpose = lambda g, x, *more: expr` maps the output cotangent `g` to the cotangent of `x`;
    `more` are `fn`'s other parameters, with their defaults. Reverse: `d[x] = expr` with `g` read
    as `d[y]`. Forward: `d[y] = fn(d[x], *more)`, spelled as the first argument of this `linear(...)`
    call is spelled, parameters with defaults passed by keyword.
    """
    lam, filename, call = _lambda_node(transpose)
    args = lam.args
    names = [a.arg for a in args.args]
    if len(names) < 2 or args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise _rule_error(
            f"linear({qualified_name(fn)}, ...) needs `lambda g, x, *more: expr`", lam, filename
        )
    g, x, more = names[0], names[1], names[2:]
    y = _fresh("y", names)
    defaults = dict(zip(names[len(names) - len(args.defaults) :], transpose.__defaults__ or ()))
    adj = _assign(x, _Rename({g: _d(y)}).visit(copy.deepcopy(lam.body)), lam)
    spelled = _spelling(fn, call, transpose.__globals__, lam)
    tan_call = ast.Call(
        spelled,
        [_d(x)] + [ast.Name(p, ast.Load()) for p in more if p not in defaults],
        [ast.keyword(p, ast.Name(p, ast.Load())) for p in more if p in defaults],
    )
    tan = _assign(y, tan_call, lam)
    common = {
        "primal": fn,
        "params": (y, x, *more),
        "defaults": MappingProxyType(defaults),
        "namespace": transpose.__globals__,
        "filename": filename,
        "lineno": lam.lineno,
    }
    _check_defaults(fn, defaults, lam, filename)
    _register(ADJOINTS, fn, _checked(Template(body=(adj,), **common), "adjoint"), None)
    _register(TANGENTS, fn, _checked(Template(body=(tan,), **common), "tangent"), None)


def nondifferentiable(*fns):
    """Declare functions whose outputs carry no derivative (shapes, comparisons, integer ops)."""
    for fn in fns:
        ADJOINTS.pop(fn, None)
        TANGENTS.pop(fn, None)
        NONDIFFERENTIABLE.add(fn)


# --- lookup ---------------------------------------------------------------------------------


def lookup_adjoint(fn) -> Template | None:
    """The reverse-mode template of `fn`, or None when it has none."""
    try:
        return ADJOINTS.get(fn)
    except TypeError:  # unhashable callable
        return None


def lookup_tangent(fn) -> Template | None:
    """The forward-mode template of `fn`, or None when it has none."""
    try:
        return TANGENTS.get(fn)
    except TypeError:
        return None


def is_full_reduction(fn) -> bool:
    """True when `fn` called with one argument alone surely returns a number (see REDUCTIONS)."""
    try:
        return fn in REDUCTIONS
    except TypeError:
        return False


def is_nondifferentiable(fn) -> bool:
    """True when `fn` was declared non-differentiable."""
    try:
        return fn in NONDIFFERENTIABLE
    except TypeError:
        return False


# --- building templates ---------------------------------------------------------------------


def _register_all(registry: dict, fns: tuple, template_fn, mode: str):
    assert fns, f"@{mode}() needs the function(s) the rule is for"
    for fn in fns:
        _register(registry, fn, _from_def(fn, template_fn, mode), template_fn)
    return template_fn


def _register(registry: dict, fn, template: Template, returned):
    NONDIFFERENTIABLE.discard(fn)
    registry[fn] = template
    return returned


def _from_def(fn, template_fn, mode: str) -> Template:
    """A Template from a decorated `def`: its source, parameters, defaults and globals."""
    code = getattr(template_fn, "__code__", None)
    if code is None:
        raise SourcegradError(f"@{mode}({qualified_name(fn)}) must decorate a plain `def`", hint=f"write `@sourcegrad.{mode}({qualified_name(fn)})` on the line above a `def _(y, x): ...` template")
    try:
        lines, start = inspect.getsourcelines(template_fn)
    except (OSError, TypeError) as err:
        raise SourcegradError(
            f"cannot read the source of the {mode} rule for {qualified_name(fn)}: {err}",
            hint="define rules in a file or a notebook cell, where Python keeps their source",
        ) from None
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, max(start, 1) - 1)
    node = tree.body[0]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)), "getsource gave a def"
    args = node.args
    filename = code.co_filename
    if args.vararg or args.kwarg or args.kwonlyargs:
        raise _rule_error(
            f"{mode} rule for {qualified_name(fn)}: use plain parameters only", node, filename
        )
    params = tuple(a.arg for a in args.posonlyargs + args.args)
    sig = inspect.signature(template_fn)
    defaults = {
        p: sig.parameters[p].default
        for p in params
        if sig.parameters[p].default is not inspect.Parameter.empty
    }
    _check_defaults(fn, defaults, node, filename)
    body = node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    template = Template(
        fn,
        params,
        MappingProxyType(defaults),
        tuple(body),
        template_fn.__globals__,
        filename,
        node.lineno,
    )
    return _checked(template, mode, node)


def _checked(t: Template, mode: str, where: ast.AST | None = None) -> Template:
    """`t` unchanged, after checking the template's shape; else a SourcegradError at its line."""
    name = f"{mode} rule for {qualified_name(t.primal)}"
    if not t.params:
        raise _rule_error(
            f"{name}: the template needs the result's name as first parameter",
            where,
            t.filename,
            t.lineno,
        )
    if len(set(t.params)) != len(t.params) or "d" in t.params:
        raise _rule_error(
            f"{name}: parameter names must be distinct and not `d`", where, t.filename, t.lineno
        )
    if not t.body:
        raise _rule_error(f"{name}: the template has no statements", where, t.filename, t.lineno)
    targets = set(t.params[1:]) if mode == "adjoint" else {t.params[0]}
    what = "an argument (not the result)" if mode == "adjoint" else f"the result `{t.params[0]}`"
    bound = set(t.params) | set(t.namespace) | set(dir(builtins))
    for stmt in t.body:
        target = _d_target(stmt)
        if target is None or target not in targets:
            raise _rule_error(
                f"{name}: every statement must be `d[NAME] = expr` with NAME {what}",
                stmt,
                t.filename,
            )
        for node in ast.walk(stmt.value):
            if (
                isinstance(node, ast.Subscript)
                and _is_d(node.value)
                and not (isinstance(node.slice, ast.Name) and node.slice.id in t.params)
            ):
                raise _rule_error(
                    f"{name}: `d[...]` must name a template parameter", node, t.filename
                )
        free = _free_names(stmt.value) - bound
        if free:
            raise _rule_error(
                f"{name}: unknown name(s) {', '.join(sorted(free))} in the template",
                stmt,
                t.filename,
            )
    return t


def _d_target(stmt: ast.stmt) -> str | None:
    """NAME when `stmt` is `d[NAME] = expr`, else None."""
    match stmt:
        case ast.Assign(targets=[ast.Subscript(value=value, slice=ast.Name(id=name))]) if _is_d(
            value
        ):
            return name
    return None


def _is_d(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "d"


def _free_names(expr: ast.expr) -> set[str]:
    """Names an expression reads, less those bound inside it (comprehension and lambda variables)."""
    loads, bound = set(), set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loads - bound - {"d"}


def _check_defaults(fn, defaults: Mapping, where, filename: str) -> None:
    def constant(v) -> bool:
        return isinstance(v, _CONSTANT_TYPES) or (isinstance(v, tuple) and all(map(constant, v)))

    for name, value in defaults.items():
        if not constant(value):
            raise _rule_error(
                f"rule for {qualified_name(fn)}: default of `{name}` must be a Python "
                f"constant (None, bool, int, float, str or a tuple), got {value!r}",
                where,
                filename,
            )


def _rule_error(message: str, node: ast.AST | None, filename: str, lineno: int | None = None):
    if node is not None and getattr(node, "lineno", None):
        location = location_of(node, filename)
    else:
        text = linecache.getline(filename, lineno or 0).rstrip("\r\n")
        location = Location(filename, lineno or 0, 0, None, text)
    return SourcegradError(
        f"{message} ({filename}:{location.lineno})",
        location,
        "write the rule as `@sourcegrad.adjoint(fn)` over `def _(y, x): d[x] = d[y] * ...` (the result first, one `d[arg] = ...` per argument), or `@sourcegrad.tangent(fn)` over `def _(y, x): d[y] = d[x] * ...`; constant defaults only",
    )


def _d(name: str) -> ast.Subscript:
    return ast.Subscript(ast.Name("d", ast.Load()), ast.Name(name, ast.Load()), ast.Load())


def _assign(name: str, value: ast.expr, where: ast.AST) -> ast.Assign:
    target = _d(name)
    target.ctx = ast.Store()
    stmt = ast.Assign(targets=[target], value=value)
    return ast.fix_missing_locations(ast.copy_location(stmt, where))


def _fresh(name: str, taken) -> str:
    while name in taken:
        name += "_"
    return name


class _Rename(ast.NodeTransformer):
    """Replace loads of the given names by expressions."""

    def __init__(self, mapping: dict[str, ast.expr]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.mapping:
            return ast.copy_location(copy.deepcopy(self.mapping[node.id]), node)
        return node


# --- finding a lambda's source --------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _parse_source(text: str) -> tuple[ast.Module, dict[ast.AST, ast.AST]]:
    tree = ast.parse(text)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return tree, parents


def _lambda_node(fn) -> tuple[ast.Lambda, str, ast.Call | None]:
    """The `ast.Lambda` of a live lambda, its filename, and the call it is an argument of.

    The whole source file is parsed, so a rule may span lines; among several lambdas starting on
    one line, the code object's positions (3.11+) or the parameter names pick the right one.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        raise SourcegradError(f"expected a lambda, got {fn!r}", hint="pass the derivative as a lambda written in the call: `elementwise(fn, lambda x, y: ...)`")
    filename = code.co_filename
    lines = linecache.getlines(filename, getattr(fn, "__globals__", None))
    if not lines:
        raise SourcegradError(
            f"cannot read the source of the rule lambda at {filename}:{code.co_firstlineno}",
            hint="define rules in a file or a notebook cell, where Python keeps their source",
        )
    tree, parents = _parse_source("".join(lines))
    found = [
        n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == code.co_firstlineno
    ]
    if len(found) > 1 and sys.version_info >= (3, 11):
        found = _by_positions(found, code) or found
    if len(found) > 1:
        names = list(code.co_varnames[: code.co_argcount])
        found = [n for n in found if [a.arg for a in n.args.args] == names]
    if len(found) != 1:
        raise SourcegradError(
            f"cannot tell which lambda on {filename}:{code.co_firstlineno} is the rule",
            hint="write one rule lambda per line",
        )
    lam = found[0]
    call = parents.get(lam)
    return lam, filename, call if isinstance(call, ast.Call) else None


def _by_positions(lambdas: list[ast.Lambda], code) -> list[ast.Lambda]:
    """The lambda whose span holds most of the code's instruction positions (innermost on ties)."""
    spots = [
        (ln, col) for ln, _, col, _ in code.co_positions() if ln is not None and col is not None
    ]

    def held(n: ast.Lambda) -> int:
        return sum((n.lineno, n.col_offset) <= s <= (n.end_lineno, n.end_col_offset) for s in spots)

    best = max(map(held, lambdas), default=0)
    holding = [n for n in lambdas if best and held(n) == best]
    holding.sort(key=lambda n: (n.end_lineno - n.lineno, n.end_col_offset - n.col_offset))
    return holding[:1]


def _spelling(fn, call: ast.Call | None, namespace: Mapping, lam: ast.Lambda) -> ast.expr:
    """How the rule file spells `fn`: the first argument of the `linear(fn, ...)` call, when that
    evaluates to `fn`; else `module.name` for a module in `namespace` that holds `fn`."""
    if call is not None and call.args and call.args[0] is not lam:
        spelled = call.args[0]
        try:
            value = eval(
                compile(ast.Expression(copy.deepcopy(spelled)), "<rule>", "eval"), dict(namespace)
            )
        except Exception:  # noqa: BLE001 - any failure means "not a plain spelling"
            value = None
        if value is fn:
            return copy.deepcopy(spelled)
    name = getattr(fn, "__name__", None)
    for module_name, module in namespace.items():
        if inspect.ismodule(module) and name and getattr(module, name, None) is fn:
            return ast.Attribute(ast.Name(module_name, ast.Load()), name, ast.Load())
        if module is fn and isinstance(module_name, str):
            return ast.Name(module_name, ast.Load())
    raise SourcegradError(
        f"linear({qualified_name(fn)}, ...): cannot spell the function for the forward rule",
        hint="write the call as `linear(module.function, lambda g, x: ...)` in one expression",
    )
