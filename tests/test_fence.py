"""frontend.fence: each unsupported construct is reported at the user's line, with a caret."""

import functools
import linecache
import pickle
import sys
import traceback

import numpy as np
import pytest

from sourcegrad.errors import SourcegradError, UnsupportedSyntax
from sourcegrad.frontend.fence import check_supported
from sourcegrad.frontend.source import exec_source, function_source

THIS_FILE = __file__
counter = 0


def line_of(marker: str, filename: str = THIS_FILE) -> int:
    """The line that ends with the comment `# <marker>`."""
    lines = linecache.getlines(filename)
    found = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(f"# {marker}")]
    assert len(found) == 1, f"marker {marker!r} found {len(found)} times"
    return found[0]


def deco(fn):
    return fn


# --- one function per unsupported construct; `# !name` marks the offending line -------------
# fmt: off


def f_yield(x):
    yield x * 2  # !yield


def f_yield_from(x):
    yield from [x]  # !yield_from


async def f_async(x):  # !async_def
    return x


def f_global(x):
    global counter  # noqa: PLW0602  # !global
    return x + counter


def f_nonlocal(x):
    y = x

    def g():
        nonlocal y  # !nonlocal
        return y

    return g()


def f_try(x):
    try:  # !try
        return np.log(x)
    except ValueError:
        return x


def f_with(x):
    with np.errstate(all="ignore"):  # !with
        return np.log(x)


def f_raise(x):
    if x < 0:
        raise ValueError("negative")  # !raise
    return x


def f_del(x):
    y = x * 2
    del y  # !del
    return x


def f_import(x):
    import math  # !import
    return math.sin(x)


def f_import_from(x):
    from math import sin  # !import_from
    return sin(x)


def f_class(x):
    class Box:  # !class
        pass
    return x


def f_match(x):
    match x:  # !match
        case 0:
            return 0.0
    return x


def f_setcomp(x):
    return len({x * i for i in range(3)})  # !setcomp


def f_set(x):
    return len({x, 2.0})  # !set


def f_star_call(x):
    return np.hypot(*(x, 2.0))  # !star_call


def f_star_target(x):
    heads = [a for a, *_rest in x]  # !star_target
    return heads


def f_kwargs_call(x):
    return np.sum(x, **{"axis": 0})  # !kwargs_call


def f_dict_unpack(x):
    d = {"a": x}
    e = {**d, "b": x}  # !dict_unpack
    return e["a"]


def f_varargs(x, *args):  # !varargs
    return x


def f_varkw(x, **kw):  # !varkw
    return x


def f_setitem(x):
    y = np.zeros((2, 3))
    y[0][1] = x  # !setitem
    return y


def f_augitem(x):
    y = np.zeros((2, 3))
    y[1][1:] += x  # !augitem
    return y


def f_setattr(self, x):
    self.a = x  # !setattr
    return x


def f_nested_deco(x):
    @deco  # !nested_deco
    def g(y):
        return y
    return g(x)


# fmt: on

CASES = [
    # (function, marker, underlined code, word in the message)
    (f_yield, "yield", "yield x * 2", "`yield`"),
    (f_yield_from, "yield_from", "yield from [x]", "`yield from`"),
    (f_async, "async_def", "async def f_async(x):", "`async def`"),
    (f_global, "global", "global counter", "`global`"),
    (f_nonlocal, "nonlocal", "nonlocal y", "`nonlocal`"),
    (f_try, "try", "try:", "`try`"),
    (f_with, "with", "with np.errstate", "`with`"),
    (f_raise, "raise", 'raise ValueError("negative")', "`raise`"),
    (f_del, "del", "del y", "`del`"),
    (f_import, "import", "import math", "`import`"),
    (f_import_from, "import_from", "from math import sin", "`import`"),
    (f_class, "class", "class Box:", "class definition"),
    (f_match, "match", "match x:", "`match`"),
    (f_setcomp, "setcomp", "{x * i for i in range(3)}", "set comprehension"),
    (f_set, "set", "{x, 2.0}", "set display"),
    (f_star_call, "star_call", "*(x, 2.0)", "unpacking with `*`"),  # a name is passed on: see test_signatures
    (f_star_target, "star_target", "*_rest", "starred target in a comprehension"),
    (f_kwargs_call, "kwargs_call", '**{"axis": 0}', "unpacking with `**`"),
    (f_dict_unpack, "dict_unpack", "d", "unpacking with `**`"),
    (f_varargs, "varargs", "args", "`*args` parameter"),
    (f_varkw, "varkw", "kw", "`**kwargs` parameter"),
    (f_setitem, "setitem", "y[0][1]", "subscript of a subscript"),
    (f_augitem, "augitem", "y[1][1:]", "subscript of a subscript"),
    (f_setattr, "setattr", "self.a", "assignment to an attribute"),
    (f_nested_deco, "nested_deco", "deco", "decorator on a nested function"),
]


def fence_error(fn) -> UnsupportedSyntax:
    with pytest.raises(UnsupportedSyntax) as info:
        check_supported(function_source(fn))
    return info.value


@pytest.mark.parametrize("fn, marker, code, word", CASES, ids=[c[1] for c in CASES])
def test_unsupported_construct(fn, marker, code, word):
    err = fence_error(fn)
    assert isinstance(err, SyntaxError) and isinstance(err, SourcegradError)
    loc = err.location
    assert err.lineno == loc.lineno == line_of("!" + marker)
    assert err.filename == loc.filename == THIS_FILE
    assert code in loc.text[loc.col : loc.end_col]  # the caret is under the code
    assert err.offset == loc.col + 1
    assert word in err.message and fn.__qualname__ in err.message
    assert "does not support it yet" in err.message
    text = str(err)
    assert text.startswith(err.message)
    assert f'File "{THIS_FILE}", line {loc.lineno}' in text
    assert "What to do: " in text and err.hint


def test_nested_item_assignment_says_how_to_write_it():
    assert "x[i, j] = v" in fence_error(f_setitem).hint


def test_try_hint_says_to_move_it_out():
    assert "outside the differentiated function" in fence_error(f_try).hint


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is 3.11+")
def test_try_star():
    src = "def f(x):\n    try:\n        return x\n    except* ValueError:\n        x = 0\n    return x\n"
    ns = exec_source(src)
    err = fence_error(ns["f"])
    assert err.lineno == 2 and "except*" in err.message


def test_first_problem_in_source_order_wins():
    def two_problems(x):
        y = {x for _ in range(2)}  # !first problem
        del y
        return x

    assert fence_error(two_problems).lineno == line_of("!first problem")


def test_caret_block_and_python_traceback_show_the_user_line():
    err = fence_error(f_try)
    lines = err.location.format().splitlines()
    assert lines[1].strip() == "try:  # !try"
    assert lines[2].strip() == "^" * len("try:  # !try")
    printed = "".join(traceback.format_exception_only(type(err), err))
    assert f'File "{THIS_FILE}", line {line_of("!try")}' in printed
    assert "try:  # !try" in printed and "^" in printed
    assert "UnsupportedSyntax: Expected code in" in printed


def test_error_survives_pickle():
    err = fence_error(f_with)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.lineno == err.lineno


# --- supported code passes ------------------------------------------------------------------


def s_straight_line(x, w, b=0.0, *, scale=1.0):
    h = np.tanh(x @ w + b)
    a = c = h * scale
    p, q = a, c
    assert h.shape == x.shape, f"bad shape {h.shape}"
    loss = np.sum(p * q, axis=0, keepdims=False)
    pass  # noqa: PIE790
    return loss


def s_control_flow(x, n):
    total = 0.0
    for i in range(n):
        if i % 2 == 0 and x > 0:
            total += x * i
        elif not x < -1 < i:
            continue
        else:
            break
    while total > 10:
        total = total / 2
    y = total if total > 1 else -total
    return y


def s_containers_and_nested(x):
    pair = (x, x * 2)
    lst = [x, pair[0]]
    d = {"a": x, "b": lst[-1]}
    sl = np.arange(5.0)[1:3]

    def helper(z):
        return z * d["a"]

    g = lambda z: helper(z) + sl[0]
    return g(pair[1])


class Model:
    def forward(self, x):
        return np.maximum(x * self.w, 0.0)


@functools.wraps(s_straight_line)
def wrapped(*args, **kwargs):
    return s_straight_line(*args, **kwargs)


@pytest.mark.parametrize(
    "fn",
    [
        s_straight_line,
        s_control_flow,
        s_containers_and_nested,
        Model().forward,
        wrapped,
        lambda x, y: x * y + np.sin(x) if x > 0 else y,
    ],
)
def test_supported_code_passes(fn):
    assert check_supported(function_source(fn)) is None
