"""The error catalogue (docs/errors.md): every error sourcegrad raises on purpose, triggered from
user-like code, reads correctly: the user's file and line, the line with a caret under the
offending code, and a concrete remedy ("What to do: ...").

Each case is one piece of user code (a cell) defining `run()`, which makes the failing call.
Every cell runs three ways: as a module in a real file, in a namespace made by `sg.exec_source`,
and as a Jupyter cell (plain `exec` of code whose text IPython registered in `linecache`).
The fence's cases come from its tables, so a construct that becomes supported leaves the catalogue
with its table entry.
"""

import ast
import importlib.util
import itertools
import linecache
import re
import sys
import textwrap
from dataclasses import dataclass

import pytest

import sourcegrad as sg
from sourcegrad.frontend import fence

PY311 = sys.version_info >= (3, 11)
HEADER = "import functools\nimport numpy as np\nimport sourcegrad as sg\nfrom sourcegrad.rules.table import d\n\n"


@dataclass(frozen=True)
class Case:
    name: str
    error: type
    cell: str  # user code after HEADER; defines run()
    line: str  # the offending line, stripped
    caret: str  # the code the carets underline
    hint: str  # a fragment of the remedy
    call_caret: bool = False  # located at the user's call: underlined on 3.11+, the line before


def case(name, error, cell, line, caret=None, hint="", call_caret=False):
    return Case(
        name, error, textwrap.dedent(cell).strip("\n") + "\n", line, caret or line, hint, call_caret
    )


def syntax_case(node_type, body, caret, params="x", prefix=""):
    """A fence case: `body` inside `def f(params)`, differentiated by run()."""
    _what, hint = {**fence.UNSUPPORTED, **fence.STORE}.get(node_type, (None, ""))
    cell = f"{prefix}def f({params}):\n{textwrap.indent(textwrap.dedent(body).strip(chr(10)), '    ')}\n"
    cell += "    return x\n\n\ndef run():\n    return sg.grad(f)(1.5)\n"
    line = next(s.strip() for s in cell.splitlines() if caret in s)
    return Case(
        f"fence-{node_type.__name__ if isinstance(node_type, type) else node_type}",
        sg.UnsupportedSyntax,
        cell,
        line,
        caret,
        hint[:30],
    )


# --- the fence: one case per table entry -----------------------------------------------------

FENCE = {
    ast.Yield: ("yield x", "yield x"),
    ast.YieldFrom: ("yield from [x]", "yield from [x]"),
    ast.Global: ("global COUNT", "global COUNT"),
    ast.Nonlocal: ("v = x\ndef g():\n    nonlocal v\n    v = v * 2.0\ng()", "nonlocal v"),
    ast.Try: ("try:\n    x = x * 2.0\nexcept ValueError:\n    pass", "try:"),
    ast.With: ("with open('data.txt'):\n    x = x * 2.0", "with open('data.txt'):"),
    ast.Raise: ("raise ValueError('no')", "raise ValueError('no')"),
    ast.Delete: ("y = x\ndel y", "del y"),
    ast.Import: ("import math", "import math"),
    ast.ImportFrom: ("from math import sin", "from math import sin"),
    ast.ClassDef: ("class A:\n    pass", "class A:"),
    ast.ListComp: ("y = [v * 2.0 for v in x]", "[v * 2.0 for v in x]"),
    ast.SetComp: ("y = {v * 2.0 for v in x}", "{v * 2.0 for v in x}"),
    ast.DictComp: ("y = {v: v * 2.0 for v in x}", "{v: v * 2.0 for v in x}"),
    ast.GeneratorExp: ("y = (v * 2.0 for v in x)", "(v * 2.0 for v in x)"),
    ast.Set: ("y = {x, 1.0}", "{x, 1.0}"),
    ast.Match: ("match x:\n    case _:\n        x = x * 2.0", "match x:"),
    ast.Subscript: ("y = np.zeros((2, 3))\ny[0][1] = x", "y[0][1]"),
    ast.Attribute: ("state = np.zeros(3)\nstate.x = x", "state.x"),
    ast.Starred: ("y = [a for a, *b in ((x, x), (x, x))]", "*b"),
}
if hasattr(ast, "TryStar"):
    FENCE[ast.TryStar] = ("try:\n    x = x * 2.0\nexcept* ValueError:\n    pass", "try:")
# Only inside `async def`, which the fence reports first (its case is below).
INSIDE_ASYNC = {ast.Await, ast.AsyncFor, ast.AsyncWith}


def fence_cases():
    cases = [syntax_case(t, *FENCE[t]) for t in FENCE if t in fence.UNSUPPORTED or t in fence.STORE]
    cases += [
        syntax_case(ast.AsyncFunctionDef, "x = x * 2.0", "async def f(x):", prefix="async "),
        syntax_case("vararg", "x = x * 2.0", "rest", params="x, *rest"),
        syntax_case("kwarg", "x = x * 2.0", "options", params="x, **options"),
        syntax_case("star-call", "y = np.add(*[x, x])", "*[x, x]"),
        syntax_case("star-star-call", "y = np.add(**{'x1': x, 'x2': x})", "**{'x1': x, 'x2': x}"),
        syntax_case("star-star-dict", "y = {**{'a': x}}", "{'a': x}"),
        syntax_case(
            "decorated-local",
            "@functools.lru_cache\ndef g(v):\n    return v\ny = g(x)",
            "functools.lru_cache",
        ),
    ]
    return cases


def test_every_fence_entry_has_a_case():
    missing = set(fence.UNSUPPORTED) - set(FENCE) - INSIDE_ASYNC - {ast.AsyncFunctionDef}
    assert not missing, f"add a case to FENCE for {sorted(t.__name__ for t in missing)}"
    assert set(fence.STORE) <= set(FENCE)


# --- the normal form, the transform, the rules -----------------------------------------------

G = """
def g1(a):
    return a * 2.0


def g_star(*xs):
    return xs[0] * 2.0


class Params:
    def __init__(self, scale):
        self.scale = scale

"""


def with_g(cell):
    return G + textwrap.dedent(cell)


TRANSFORM = [
    case(
        "annotated-assignment",
        sg.UnsupportedSyntax,
        """
        def f(x):
            y: float = x * 2.0
            return y

        def run():
            return sg.grad(f)(1.5)
        """,
        "y: float = x * 2.0",
        hint="as `y = v`",
    ),
    case(
        "unpack-constant",
        sg.UnsupportedSyntax,
        """
        def f(x):
            a, b = 3
            return x * a

        def run():
            return sg.grad(f)(1.5)
        """,
        "a, b = 3",
        hint="unpack a tuple",
    ),
    case(
        "expression-kind",
        sg.UnsupportedSyntax,
        """
        def f(x):
            label = f"{x}"
            return x

        def run():
            return sg.grad(f)(1.5)
        """,
        'label = f"{x}"',
        'f"{x}"',
        hint="compute it outside",
    ),
    case(
        "unknown-callee",
        sg.UnsupportedSyntax,
        """
        def f(x):
            return np.sinh_of_a_typo(x)

        def run():
            return sg.grad(f)(1.5)
        """,
        "return np.sinh_of_a_typo(x)",
        "np.sinh_of_a_typo(x)",
        hint="check the spelling",
    ),
    case(
        "method-of-value",
        sg.UnsupportedSyntax,
        """
        def f(x):
            y = x * 2.0
            return y.frobnicate()

        def run():
            return sg.grad(f)(np.ones(2))
        """,
        "return y.frobnicate()",
        "y.frobnicate()",
        hint="call the library function",
    ),
    case(
        "lambda-call",
        sg.UnsupportedSyntax,
        """
        def f(x):
            square = lambda a: a * a
            return square(x, x)

        def run():
            return sg.grad(f)(1.5)
        """,
        "return square(x, x)",
        "square(x, x)",
        hint="one value per parameter",
    ),
    case(
        "local-function-as-value",
        sg.UnsupportedSyntax,
        """
        def f(x):
            def g(a):
                return a * 2.0
            h = g
            return x

        def run():
            return sg.grad(f)(1.5)
        """,
        "h = g",
        "g",
        hint="call it directly",
    ),
    case(
        "local-recursion",
        sg.UnsupportedSyntax,
        """
        def f(x):
            def g(a):
                return g(a)
            return g(x)

        def run():
            return sg.grad(f)(1.5)
        """,
        "return g(a)",
        "g(a)",
        hint="as a loop",
    ),
    case(
        "local-call-mismatch",
        sg.UnsupportedSyntax,
        """
        def f(x):
            def g(a):
                return a * 2.0
            return g(x, x)

        def run():
            return sg.grad(f)(1.5)
        """,
        "return g(x, x)",
        "g(x, x)",
        hint="one value per parameter",
    ),
    case(
        "local-call-missing",
        sg.UnsupportedSyntax,
        """
        def f(x):
            def g(a, b):
                return a * b
            return g(x)

        def run():
            return sg.grad(f)(1.5)
        """,
        "return g(x)",
        "g(x)",
        hint="pass 'b'",
    ),
    case(
        "no-rule",
        sg.NoRule,
        """
        def f(x):
            y = np.fft.fft(x)
            return np.sum(y.flat)

        def run():
            return sg.grad(f)(np.ones(4))
        """,
        "y = np.fft.fft(x)",
        hint="@sourcegrad.adjoint(numpy.fft.fft)",
    ),
    case(
        "no-rule-forward",
        sg.NoRule,
        """
        def f(x):
            y = np.fft.fft(x)
            return np.sum(y.flat)

        def run():
            return sg.autodiff(f, mode="forward")(np.ones(4), np.ones(4))
        """,
        "y = np.fft.fft(x)",
        hint="sourcegrad.nondifferentiable(numpy.fft.fft)",
    ),
    case(
        "array-attribute",
        sg.UnsupportedSyntax,
        """
        def f(x):
            y = x * 2.0
            return np.sum(y.strides)

        def run():
            return sg.grad(f)(np.ones(2))
        """,
        "return np.sum(y.strides)",
        "y.strides",
        hint="use the library function",
    ),
    case(
        "rule-too-many-arguments",
        sg.TransformError,
        """
        def f(x):
            return np.tanh(x, None)

        def run():
            return sg.grad(f)(np.ones(2))
        """,
        "return np.tanh(x, None)",
        hint="register a rule",
    ),
    case(
        "rule-missing-argument",
        sg.TransformError,
        """
        def f(x):
            return np.power(x)

        def run():
            return sg.grad(f)(1.5)
        """,
        "return np.power(x)",
        hint="pass 'y'",
    ),
    case(
        "lambda-used-as-a-value",
        sg.TransformError,
        """
        def f(x, a):
            h = lambda v: a * v * v
            return np.sum(np.piecewise(x, [x < 0], [h, 1.0]))

        def run():
            return sg.grad(f, wrt=1)(np.ones(2), 1.5)
        """,
        "h = lambda v: a * v * v",
        hint="call it directly",
    ),
    case(
        "call-signature",
        sg.TransformError,
        with_g("""
        def f(x):
            return g1(x, x)

        def run():
            return sg.grad(f)(1.5)
        """),
        "return g1(x, x)",
        hint="g1(a)",
    ),
    case(
        "unpacked-into-fixed-parameters",
        sg.UnsupportedSyntax,
        with_g("""
        def f(x):
            pair = (x,)
            return g1(*pair)

        def run():
            return sg.grad(f)(1.5)
        """),
        "return g1(*pair)",
        caret="g1(*pair)",
        hint="one by one",
    ),
    case(
        "unpacked-display-into-star-args",
        sg.UnsupportedSyntax,
        with_g("""
        def f(x):
            return g_star(x) + g_star(x, *(x, x))

        def run():
            return sg.grad(f)(1.5)
        """),
        "return g_star(x) + g_star(x, *(x, x))",
        caret="*(x, x)",
        hint="one by one",
    ),
]

# --- the source of the function ----------------------------------------------------------------

SOURCE = [
    case(
        "builtin",
        sg.SourceUnavailable,
        """
        def run():
            return sg.grad(np.tanh)
        """,
        "return sg.grad(np.tanh)",
        "sg.grad(np.tanh)",
        hint="wrap it in a `def`",
        call_caret=True,
    ),
    case(
        "class",
        sg.SourceUnavailable,
        with_g("""
        def run():
            return sg.grad(Params)
        """),
        "return sg.grad(Params)",
        "sg.grad(Params)",
        hint="wrap it in a `def`",
        call_caret=True,
    ),
    case(
        "plain-exec",
        sg.SourceUnavailable,
        """
        def run():
            namespace = {}
            exec("def h(x):\\n    return x * x\\n", namespace)
            return sg.grad(namespace["h"])
        """,
        'return sg.grad(namespace["h"])',
        'sg.grad(namespace["h"])',
        hint="exec_source",
        call_caret=True,
    ),
]

# --- the API -----------------------------------------------------------------------------------

F = """
def f(x, w):
    return np.sum(np.tanh(x * w))

"""


def api_case(name, call, hint, error=sg.SourcegradError):
    return case(
        name,
        error,
        F + f"\ndef run():\n    return {call}\n",
        f"return {call}",
        re.sub(r"\(1\.5(, 1\.5)*\)$", "", call) if call.startswith("sg.grad(f, wrt") else call,
        hint=hint,
        call_caret=True,
    )


API = [
    api_case("wrt-name", "sg.grad(f, wrt='z')(1.5, 1.5)", "choose among ['x', 'w']"),
    api_case("wrt-position", "sg.grad(f, wrt=5)(1.5, 1.5)", "it takes 2 parameters"),
    api_case("autodiff-mode", "sg.autodiff(f, mode='sideways')", "mode='forward'"),
    api_case("jacobian-mode", "sg.jacobian(f, mode='sideways')", "'forward'"),
    api_case("jvp-tangents", "sg.jvp(f, (1.5, 1.5), (1.0,))", "one tangent per primal"),
    api_case("source-of-other", "sg.source(f)", "returned by sg.grad"),
    api_case(
        "check-grads-mode", "sg.check_grads(f, (1.5, 1.5), modes=('sideways',))", "use modes from"
    ),
    api_case("check-grads-order", "sg.check_grads(f, (1.5, 1.5), order=0)", "order=1"),
]

# --- rules the user registers ------------------------------------------------------------------

RULES = [
    case(
        "rule-statement-shape",
        sg.SourcegradError,
        """
        def cube(x):
            return x * x * x

        @sg.adjoint(cube)
        def _(y, x):
            x = d[y] * 3.0 * x * x
        """,
        "x = d[y] * 3.0 * x * x",
        hint="`def _(y, x): d[x] = d[y] * ...`",
    ),
    case(
        "rule-unknown-name",
        sg.SourcegradError,
        """
        def cube(x):
            return x * x * x

        @sg.adjoint(cube)
        def _(y, x):
            d[x] = d[y] * 3.0 * z * z
        """,
        "d[x] = d[y] * 3.0 * z * z",
        hint="`def _(y, x): d[x] = d[y] * ...`",
    ),
    case(
        "rule-d-of-non-parameter",
        sg.SourcegradError,
        """
        def cube(x):
            return x * x * x

        @sg.adjoint(cube)
        def _(y, x):
            d[x] = d[q] * 3.0
        """,
        "d[x] = d[q] * 3.0",
        "d[q]",
        hint="the result first",
    ),
    case(
        "rule-parameters",
        sg.SourcegradError,
        """
        def cube(x):
            return x * x * x

        @sg.adjoint(cube)
        def _(y, x, *more):
            d[x] = d[y] * 3.0 * x * x
        """,
        "def _(y, x, *more):",
        hint="constant defaults only",
    ),
    case(
        "rule-default",
        sg.SourcegradError,
        """
        def cube(x, k=2.0):
            return x * x * x * k

        @sg.adjoint(cube)
        def _(y, x, k=np.ones(2)):
            d[x] = d[y] * 3.0 * x * x * k
        """,
        "def _(y, x, k=np.ones(2)):",
        hint="constant defaults only",
    ),
    case(
        "elementwise-lambda",
        sg.SourcegradError,
        """
        def cube(x):
            return x * x * x

        sg.elementwise(cube, lambda x, y, z: 3.0 * x * x)
        """,
        "sg.elementwise(cube, lambda x, y, z: 3.0 * x * x)",
        "lambda x, y, z: 3.0 * x * x",
        hint="one `d[arg] = ...` per argument",
    ),
    case(
        "linear-lambda",
        sg.SourcegradError,
        """
        def twice(x):
            return 2.0 * x

        sg.linear(twice, lambda g: 2.0 * g)
        """,
        "sg.linear(twice, lambda g: 2.0 * g)",
        "lambda g: 2.0 * g",
        hint="one `d[arg] = ...`",
    ),
    case(
        "template-called",
        sg.SourcegradError,
        """
        def run():
            return d["x"]
        """,
        'return d["x"]',
        'd["x"]',
        hint="do not call the template",
        call_caret=True,
    ),
]


def check_case():
    return case(
        "check-grads",
        sg.GradientCheckError,
        """
        def cube(x):
            return x * x * x

        @sg.adjoint(cube)
        def _(y, x):
            d[x] = d[y] * 2.0 * x * x

        def f(x):
            return np.sum(cube(x))

        def run():
            return sg.check_grads(f, (np.ones(3),), modes=("reverse",))
        """,
        "def f(x):",
        "f",
        hint="a rule registered with @sg.adjoint",
    )


CASES = fence_cases() + TRANSFORM + SOURCE + API + RULES + [check_case()]

# --- running a cell three ways -----------------------------------------------------------------

_cells = itertools.count(1)


def run_in_file(text, filename):
    spec = importlib.util.spec_from_file_location("user_model", filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def run_in_exec_source(text, filename):
    return sg.exec_source(text, {"__name__": "__main__"}, filename=filename)


def run_in_notebook(text, filename):
    """What IPython does with a cell: register its text in linecache, then compile and exec."""
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102  (a notebook cell)
    return namespace


PLACES = {"file": run_in_file, "exec_source": run_in_exec_source, "notebook": run_in_notebook}


def raise_case(c, place, tmp_path):
    """Run the cell (then its run(), if any) in `place`; the error, the cell's filename, its text."""
    text = HEADER + c.cell
    number = next(_cells)
    if place == "file":
        filename = str(tmp_path / f"user_model_{number}.py")
        with open(filename, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        filename = (
            f"<ipython-input-{number}-5f3a9c>" if place == "notebook" else f"<catalogue-{number}>"
        )
    with pytest.raises(c.error) as info:
        namespace = PLACES[place](text, filename)
        namespace["run"]()
    return info.value, filename, text


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_error_reads_correctly(c, place, tmp_path, restore_rules):
    err, filename, text = raise_case(c, place, tmp_path)
    assert type(err) is c.error, f"{type(err).__name__}: {err}"
    message = str(err)
    # The user's file and line ...
    lineno = next(i for i, s in enumerate(text.splitlines(), 1) if s.strip() == c.line)
    head = f'  File "{filename}", line {lineno}\n'
    assert head in message, message
    # ... the line itself, with the carets under the offending code ...
    code, carets = message.split(head, 1)[1].splitlines()[:2]
    assert code == "    " + c.line, message
    start, end = carets.index("^"), carets.rindex("^") + 1
    expected = c.caret if (PY311 or not c.call_caret) else c.line
    assert code[start:end] == expected, message
    assert set(carets.strip()) == {"^"}
    # ... and what to do.
    assert err.hint and c.hint in err.hint, err.hint
    assert f"\nWhat to do: {err.hint}" in message
    assert message.splitlines()[0] == err.message.splitlines()[0]


@pytest.mark.parametrize(
    "c", [c for c in CASES if c.error is sg.UnsupportedSyntax], ids=lambda c: c.name
)
def test_unsupported_syntax_is_a_syntax_error_at_the_user_line(c, tmp_path):
    err, filename, text = raise_case(c, "notebook", tmp_path)
    assert isinstance(err, SyntaxError)
    assert err.filename == filename
    assert text.splitlines()[err.lineno - 1].strip() == c.line
    assert err.text.strip() == c.line
    # Python's own printer shows the same caret from offset / end_offset (1-based columns).
    assert err.text[err.offset - 1 : err.end_offset - 1] == c.caret


def test_catalogue_documents_every_error_class():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "errors.md").read_text(encoding="utf-8")
    for cls in (
        sg.UnsupportedSyntax,
        sg.NoRule,
        sg.SourceUnavailable,
        sg.TransformError,
        sg.GradientCheckError,
        sg.SourcegradError,
    ):
        assert f"`{cls.__name__}`" in doc
