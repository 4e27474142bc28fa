"""frontend.source: live function -> ast.FunctionDef with the true positions of this file."""

import ast
import functools
import inspect
import linecache
import math
import sys

import numpy as np
import pytest

from sourcegrad.errors import SourcegradError, SourceUnavailable
from sourcegrad.frontend.source import LAMBDA_NAME, exec_source, function_source

THIS_FILE = __file__


def line_of(marker: str) -> int:
    """The line of this file that ends with the comment `# <marker>`."""
    lines = linecache.getlines(THIS_FILE)
    found = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(f"# {marker}")]
    assert len(found) == 1, f"marker {marker!r} found {len(found)} times"
    return found[0]


def find_node(root: ast.AST, kind: type, pred=lambda n: True) -> ast.AST:
    return next(n for n in ast.walk(root) if isinstance(n, kind) and pred(n))


def assert_true_position(node: ast.AST, filename: str, code: str) -> None:
    """`node` sits where `code` is written on its line, and spans exactly `code`."""
    line = linecache.getline(filename, node.lineno)
    assert node.col_offset == line.index(code), (line, node.col_offset)
    assert node.end_lineno == node.lineno
    assert line[node.col_offset : node.end_col_offset] == code


def the_call(fn_src) -> ast.Call:
    return find_node(fn_src.node, ast.Call)


# --- functions under test -------------------------------------------------------------------


def module_level(x, y=2.0):
    h = np.tanh(x * y)  # module_level.h
    return h


def make_closure(scale):
    def inner(x):
        return np.sin(x) * scale  # inner.return

    return inner


class Model:
    def method(self, x):
        return np.exp(x) + self.bias()  # Model.method

    @staticmethod
    def static(x):
        return np.cos(x)  # Model.static

    @classmethod
    def klass(cls, x):
        return np.log(x)  # Model.klass

    def bias(self):
        return 0.0


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def plain_decorator(fn):
    fn.tagged = True
    return fn


@logged
@plain_decorator
def decorated(x):  # decorated.def
    return math.sqrt(x)  # decorated.return


@functools.cache
def cached(x):
    return x**2  # cached.return


consts = (lambda: 1.5, lambda: 2.5)  # constant lambdas
square, shift = lambda x: x * x, lambda x: x + 1  # two lambdas
alone = lambda x, y: np.hypot(x, y)  # lambda alone
twins = (lambda x: x, lambda x: x)  # identical twins
outer_lambda = lambda x: lambda y: x * y  # nested lambdas
# fmt: off
multi_line = (
    lambda v: (  # multi-line lambda
        v * 2.0
        + 1.0  # multi-line lambda end
    )
)
# fmt: on


def first_arg(fn, *rest):
    return fn


in_call = first_arg(
    lambda acc,  # lambda in a call
    v: acc * v,
    3.0,
)


# --- tests ----------------------------------------------------------------------------------


def test_module_level_function():
    src = function_source(module_level)
    assert isinstance(src.node, ast.FunctionDef)
    assert (src.name, src.qualname, src.filename) == ("module_level", "module_level", THIS_FILE)
    assert src.node.lineno == module_level.__code__.co_firstlineno
    stmt = src.node.body[0]
    assert stmt.lineno == line_of("module_level.h")
    assert_true_position(stmt.value, THIS_FILE, "np.tanh(x * y)")
    assert_true_position(stmt.value.args[0], THIS_FILE, "x * y")


def test_nested_function_keeps_indented_columns():
    inner = make_closure(3.0)
    src = function_source(inner)
    assert src.name == "inner" and src.qualname == "make_closure.<locals>.inner"
    assert src.node.lineno == inner.__code__.co_firstlineno
    assert src.node.col_offset == 4
    ret = src.node.body[0]
    assert ret.lineno == line_of("inner.return")
    assert_true_position(ret.value, THIS_FILE, "np.sin(x) * scale")


def test_bound_method_unbound_method_static_and_class_methods():
    cases = [
        (Model().method, "Model.method", "np.exp(x) + self.bias()"),
        (Model.method, "Model.method", "np.exp(x) + self.bias()"),
        (Model.static, "Model.static", "np.cos(x)"),
        (Model.__dict__["static"], "Model.static", "np.cos(x)"),
        (Model.klass, "Model.klass", "np.log(x)"),
        (Model.__dict__["klass"], "Model.klass", "np.log(x)"),
    ]
    for fn, marker, code in cases:
        src = function_source(fn)
        assert src.qualname == marker
        assert src.node.decorator_list == []
        ret = src.node.body[0]
        assert ret.lineno == line_of(marker)
        assert_true_position(ret.value, THIS_FILE, code)


def test_decorated_function_is_unwrapped_and_decorators_removed():
    assert decorated.__name__ == "decorated" and hasattr(decorated, "__wrapped__")
    src = function_source(decorated)
    assert src.node.decorator_list == []
    assert src.node.lineno == line_of("decorated.def")
    # co_firstlineno counts the decorator lines; the def node starts at `def`.
    assert decorated.__wrapped__.__code__.co_firstlineno == src.node.lineno - 2
    assert src.node.body[0].lineno == line_of("decorated.return")
    assert_true_position(src.node.body[0].value, THIS_FILE, "math.sqrt(x)")


def test_lru_cache_is_unwrapped():
    src = function_source(cached)
    assert src.node.body[0].lineno == line_of("cached.return")


def test_constant_lambdas_on_one_line():
    # 3.12+ keeps no position for a returned constant; the compiled code still tells them apart.
    for fn, code in zip(consts, ["1.5", "2.5"]):
        assert_true_position(function_source(fn).node.body[0].value, THIS_FILE, code)


def test_lambda_alone_becomes_a_def():
    src = function_source(alone)
    node = src.node
    assert src.name == LAMBDA_NAME and node.name == LAMBDA_NAME
    assert [a.arg for a in node.args.args] == ["x", "y"]
    assert node.lineno == line_of("lambda alone") == alone.__code__.co_firstlineno
    (ret,) = node.body
    assert isinstance(ret, ast.Return)
    assert_true_position(ret.value, THIS_FILE, "np.hypot(x, y)")
    compile(ast.fix_missing_locations(ast.Module(body=[node], type_ignores=[])), "<t>", "exec")


def test_two_lambdas_on_one_line():
    for fn, code in [(square, "x * x"), (shift, "x + 1")]:
        src = function_source(fn)
        assert src.node.lineno == line_of("two lambdas")
        assert_true_position(src.node.body[0].value, THIS_FILE, code)


def test_nested_lambdas_on_one_line():
    outer = function_source(outer_lambda).node
    inner = function_source(outer_lambda(2.0)).node
    assert [a.arg for a in outer.args.args] == ["x"]
    assert [a.arg for a in inner.args.args] == ["y"]
    assert_true_position(inner.body[0].value, THIS_FILE, "x * y")
    assert isinstance(outer.body[0].value, ast.Lambda)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="co_positions is 3.11+")
def test_identical_lambdas_on_one_line_told_apart_by_positions():
    first, second = (function_source(fn).node.body[0].value for fn in twins)
    assert first.lineno == second.lineno == line_of("identical twins")
    assert first.col_offset < second.col_offset


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="3.11+ tells them apart")
def test_identical_lambdas_on_one_line_are_ambiguous_without_positions():
    with pytest.raises(SourceUnavailable, match="own line"):
        function_source(twins[0])


def test_multi_line_lambda_inside_a_call():
    node = function_source(in_call).node
    assert node.lineno == line_of("lambda in a call") == in_call.__code__.co_firstlineno
    assert [a.arg for a in node.args.args] == ["acc", "v"]
    assert_true_position(node.body[0].value, THIS_FILE, "acc * v")


def test_multi_line_lambda_body():
    node = function_source(multi_line).node
    body = node.body[0].value
    assert node.lineno == line_of("multi-line lambda")
    assert isinstance(body, ast.BinOp)
    assert body.lineno == line_of("multi-line lambda") + 1
    assert body.end_lineno == line_of("multi-line lambda end")
    assert_true_position(body.left, THIS_FILE, "v * 2.0")


def test_exec_source_registers_source():
    src = "import numpy as np\n\ndef f(x):\n    return np.tanh(x) * 2.0\n"
    ns = exec_source(src)
    assert ns["__name__"] == "__sourcegrad_exec__"
    filename = ns["f"].__code__.co_filename
    assert filename.startswith("<sourcegrad-exec-") and filename.endswith(">")
    assert inspect.getsource(ns["f"]).startswith("def f(x):")
    fs = function_source(ns["f"])
    assert fs.filename == filename and fs.node.lineno == 3
    assert_true_position(fs.node.body[0].value, filename, "np.tanh(x) * 2.0")
    again = exec_source(src, {})
    assert again["f"].__code__.co_filename != filename  # a fresh name each time


def test_exec_source_into_given_namespace_and_filename():
    ns = {"k": 3.0}
    out = exec_source("g = lambda x: x * k", ns, filename="<my-model>")
    assert out is ns
    assert function_source(ns["g"]).node.body[0].value.col_offset == len("g = lambda x: ")


def test_tracebacks_show_exec_source_lines():
    ns = exec_source("def boom():\n    return 1 / 0\n")
    with pytest.raises(ZeroDivisionError) as info:
        ns["boom"]()
    assert "return 1 / 0" in str(info.traceback[-1])


def test_plain_exec_raises_source_unavailable_with_remedy():
    ns = {}
    exec("def f(x):\n    return x * 2\n", ns)  # noqa: S102
    with pytest.raises(SourceUnavailable) as info:
        function_source(ns["f"])
    text = str(info.value)
    assert "`f`" in text and "<string>" in text
    assert "sourcegrad.exec_source(src, namespace)" in text
    assert "What to do:" in text
    assert isinstance(info.value, SourcegradError)


@pytest.mark.parametrize(
    "fn, name",
    [
        (len, "len"),
        (math.sin, "math.sin"),
        (np.tanh, "tanh"),
        (Model, "Model"),
        (functools.partial(module_level, y=1.0), "partial"),
    ],
)
def test_objects_without_python_source(fn, name):
    with pytest.raises(SourceUnavailable) as info:
        function_source(fn)
    text = str(info.value)
    assert name in text and "no Python source" in text
    assert "@sourcegrad.adjoint(" in text and "sourcegrad.nondifferentiable(" in text


def test_result_is_a_private_copy():
    first = function_source(module_level)
    first.node.body.clear()
    assert function_source(module_level).node.body
