"""In-place updates: `x[i] = v`, `x[i] += v`, masks, slices, fancy indices, lists and dicts.

autograd cannot differentiate assignment into an array, so each program is written twice: once
with in-place updates (differentiated by sourcegrad, checked against central finite differences in
both modes by `check_grad`) and once functionally, without any write into an array (its autograd
gradient must equal sourcegrad's). Writes through aliases raise an error naming the user's line.
"""

import sys
import time

import autograd
import numpy as np
import pytest
from helpers import (
    _entry_name,
    assert_grad_close,
    autograd_grad,
    check_against_autograd,
    check_grad,
    check_pair,
    line_of,
    make,
    numeric_grad,
    rand,
)

import sourcegrad as sg


def _numpy(src):
    """The in-place program, defined for sourcegrad (autograd cannot run it)."""
    return sg.exec_source(src, {"np": np})[_entry_name(src)]


# name -> (in-place source, functional twin for autograd, argument shapes, wrt)
PROGRAMS = {
    "element": ("""
def f(x, v):
    x[1] = v * 2.0
    return np.sum(x * x)
""", """
def f(x, v):
    x = np.concatenate([x[:1], np.array([v * 2.0]), x[2:]])
    return np.sum(x * x)
""", [(4,), ()], (0, 1)),
    "augmented_element": ("""
def f(x, v):
    x[2] += v * x[0]
    x[0] -= np.sin(v)
    return np.sum(x ** 3)
""", """
def f(x, v):
    e = np.eye(4)
    x = x + e[2] * (v * x[0])
    x = x - e[0] * np.sin(v)
    return np.sum(x ** 3)
""", [(4,), ()], (0, 1)),
    "column_scaled": ("""
def f(x, c):
    x[:, 1] *= c
    return np.sum(np.tanh(x))
""", """
def f(x, c):
    scale = np.array([1.0, 0.0, 1.0]) + np.array([0.0, 1.0, 0.0]) * c
    return np.sum(np.tanh(x * scale))
""", [(2, 3), ()], (0, 1)),
    "mask_zeroed": ("""
def f(x):
    y = x * 3.0
    y[y > 0.5] = 0.0
    return np.sum(y * x)
""", """
def f(x):
    y = x * 3.0
    y = np.where(y > 0.5, 0.0, y)
    return np.sum(y * x)
""", [(2, 3)], 0),
    "row_written": ("""
def f(x, row):
    out = np.zeros((3, 2))
    out[1, :] = row * x[0]
    out[2] = np.exp(row)
    return np.sum(out @ x)
""", """
def f(x, row):
    out = np.stack([np.zeros(2), row * x[0], np.exp(row)])
    return np.sum(out @ x)
""", [(2,), (2,)], (0, 1)),
    "broadcast_value": ("""
def f(x, v):
    x[0:2] = v
    return np.sum(np.sin(x) * np.arange(4.0))
""", """
def f(x, v):
    x = np.concatenate([np.array([v, v]), x[2:]])
    return np.sum(np.sin(x) * np.arange(4.0))
""", [(4,), ()], (0, 1)),
    "two_indices_minus": ("""
def f(x, y, c):
    for i in range(2):
        for j in range(3):
            x[i, j] -= y[j] * c
    return np.sum(x * x)
""", """
def f(x, y, c):
    return np.sum((x - y * c) ** 2)
""", [(2, 3), (3,), ()], (0, 1, 2)),
    "fill_loop": ("""
def f(x):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i] = np.sin(x[i]) * x[n - 1 - i]
    return np.sum(out * out)
""", """
def f(x):
    out = np.sin(x) * x[::-1]
    return np.sum(out * out)
""", [(5,)], 0),
    "recurrence": ("""
def f(a, x):
    out = np.zeros(x.shape[0])
    out[0] = x[0]
    for t in range(1, x.shape[0]):
        out[t] = a * out[t - 1] + x[t]
    return np.sum(out ** 2)
""", """
def f(a, x):
    prev = x[0]
    total = prev ** 2
    for t in range(1, x.shape[0]):
        prev = a * prev + x[t]
        total = total + prev ** 2
    return total
""", [(), (5,)], (0, 1)),
    "read_then_overwritten": ("""
def f(x, w):
    s = np.sum(x * w)
    x[0] = w[1] ** 2
    x[2] *= s
    return s + np.sum(np.cos(x))
""", """
def f(x, w):
    s = np.sum(x * w)
    x = np.concatenate([np.array([w[1] ** 2]), x[1:2], x[2:3] * s, x[3:]])
    return s + np.sum(np.cos(x))
""", [(4,), (4,)], (0, 1)),
    "in_branches": ("""
def f(x):
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            x[i] = x[i] ** 2
        else:
            x[i] *= -3.0
    return np.sum(x * np.arange(1.0, 5.0))
""", """
def f(x):
    y = np.where(x > 0.0, x ** 2, x * -3.0)
    return np.sum(y * np.arange(1.0, 5.0))
""", [(4,)], 0),
    "while_loop": ("""
def f(x):
    i = 0
    while i < 3:
        x[i + 1] = x[i] * 0.5 + x[i + 1]
        i = i + 1
    return np.sum(x ** 2)
""", """
def f(x):
    a = x[0]
    b = a * 0.5 + x[1]
    c = b * 0.5 + x[2]
    d = c * 0.5 + x[3]
    return a ** 2 + b ** 2 + c ** 2 + d ** 2
""", [(4,)], 0),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_in_place_program(name):
    src, twin, shapes, wrt = PROGRAMS[name]
    rng = np.random.default_rng(len(name))
    args = tuple(float(rng.uniform(-1, 1)) if s == () else rng.uniform(-1, 1, size=s) for s in shapes)
    f_np = _numpy(src)
    _, twin_ag = make(twin)
    got = check_grad(f_np, args, wrt)
    assert_grad_close(got, autograd_grad(twin_ag, args, wrt), args, wrt, f_np, rtol=1e-9, atol=1e-12,
                      what="vs autograd on the functional twin")


def test_repeated_fancy_index_last_write_wins():
    f_np = _numpy("""
def f(x, v):
    x[np.array([0, 2, 0])] = v
    return np.sum(x * np.arange(1.0, 6.0))
""")
    rng = np.random.default_rng(3)
    x, v = rng.uniform(size=5), rng.uniform(size=3)
    dx, dv = check_grad(f_np, (x, v), (0, 1))
    probe = np.zeros(5)
    probe[np.array([0, 2, 0])] = np.arange(3)  # which write NumPy kept at position 0
    kept = int(probe[0])
    expected_dv = np.zeros(3)
    expected_dv[kept] = 1.0
    expected_dv[1] = 3.0
    np.testing.assert_allclose(dv, expected_dv)
    np.testing.assert_allclose(dx, [0.0, 2.0, 0.0, 4.0, 5.0])


# --- lists and dicts ------------------------------------------------------------------------------

def test_list_element_update():
    f_np = _numpy("""
def f(a, b):
    xs = [a, b, a * b]
    xs[1] = xs[0] * 3.0
    xs[2] += np.sin(b)
    return xs[1] * xs[0] + xs[2]
""")
    _, twin = make("""
def f(a, b):
    return a * 3.0 * a + a * b + np.sin(b)
""")
    got = check_grad(f_np, (0.3, 0.8), (0, 1))
    assert_grad_close(got, autograd_grad(twin, (0.3, 0.8), (0, 1)), (0.3, 0.8), (0, 1), f_np, rtol=1e-9)


def test_dict_update_leaves_the_argument_alone():
    f_np = _numpy("""
def f(a, b, d):
    d["k"] = a * 2.0
    d["k"] += b * d["j"]
    d["j"] = a * b
    return d["k"] * d["j"]
""")
    given = {"k": 1.0, "j": 2.0}
    da, db = sg.grad(f_np, wrt=(0, 1))(0.3, 0.8, given)
    assert given == {"k": 1.0, "j": 2.0}
    expected = numeric_grad(lambda a, b: f_np(a, b, dict(given)), (0.3, 0.8), (0, 1))
    np.testing.assert_allclose((da, db), expected, rtol=1e-6)
    # hand-derived: (2a + 2b) * ab
    np.testing.assert_allclose((da, db), ((2 * 0.3 + 2 * 0.8) * 0.8 + 2 * 0.3 * 0.8, (2 * 0.3 + 2 * 0.8) * 0.3 + 2 * 0.3 * 0.8))
    along_a = sg.autodiff(f_np, mode="forward", wrt=(0, 1))(0.3, 0.8, dict(given), 1.0, 0.0)
    np.testing.assert_allclose(along_a, da)


# An entry of a list or dict may be replaced by a value of another shape. The adjoint of the write
# left zeros of the *new* shape where the old entry's cotangent goes (`clear_written`), which then
# met the old shape: "operands could not be broadcast", or, from shape (1,), a silent broadcast.
SHAPE_CHANGING = {
    "dict_entry": ("""
def f(x):
    d = {"w": x}
    d["w"] = np.concatenate([d["w"], x])
    return np.sum(d["w"] ** 2)
""", """
def f(x):
    return np.sum(np.concatenate([x, x]) ** 2)
"""),
    "list_entry": ("""
def f(x):
    xs = [x, x * 2.0]
    xs[0] = np.concatenate([xs[0], xs[1]])
    return np.sum(np.sin(xs[0])) + np.sum(xs[1])
""", """
def f(x):
    return np.sum(np.sin(np.concatenate([x, x * 2.0]))) + np.sum(x * 2.0)
"""),
    "entry_grows_from_one": ("""
def f(x):
    d = {"w": x[:1]}
    d["w"] = np.concatenate([d["w"], d["w"], d["w"]]) * x
    return np.sum(d["w"] ** 2)
""", """
def f(x):
    return np.sum((np.concatenate([x[:1], x[:1], x[:1]]) * x) ** 2)
"""),
    "entry_grows_in_a_loop": ("""
def f(x):
    d = {"w": x, "n": 0.0}
    for i in range(3):
        d["w"] = np.concatenate([d["w"], x * i])
        d["n"] += np.sum(d["w"])
    return np.sum(d["w"] ** 2) + d["n"]
""", """
def f(x):
    w, n = x, 0.0
    for i in range(3):
        w = np.concatenate([w, x * i])
        n = n + np.sum(w)
    return np.sum(w ** 2) + n
"""),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CHANGING))
def test_entry_replaced_by_a_value_of_another_shape(name):
    src, twin = SHAPE_CHANGING[name]
    x = np.random.default_rng(len(name)).uniform(-1, 1, size=3)
    f_np = _numpy(src)
    _, twin_ag = make(twin)
    got = check_grad(f_np, (x,))  # reverse and forward mode against central differences
    assert_grad_close(got, autograd_grad(twin_ag, (x,)), (x,), 0, f_np, rtol=1e-9, atol=1e-12,
                      what="vs autograd on the functional twin")
    df = sg.grad(f_np)
    want = numeric_grad(lambda x: df(x) @ np.ones(3), (x,), 0)
    np.testing.assert_allclose(sg.hvp(f_np)(x, np.ones(3)), want, rtol=1e-6)
    np.testing.assert_allclose(sg.grad(df)(x), want, rtol=1e-6)


def test_entry_of_a_parameter_replaced_by_a_value_of_another_shape():
    f_np = _numpy("""
def f(d, xs):
    d["w"] = np.concatenate([d["w"], d["w"] * d["b"]])
    xs[0] = xs[1] * 2.0
    return np.sum(d["w"] ** 2) + np.sum(xs[0] * d["b"])
""")
    d, xs = {"w": np.array([0.5, -1.0, 2.0]), "b": 0.7}, [np.ones(4), np.array([1.0, 3.0])]
    dd, dxs = sg.grad(f_np, wrt=(0, 1))(d, xs)
    w, b = d["w"], d["b"]
    np.testing.assert_allclose(dd["w"], 2 * w + 2 * w * b * b)
    np.testing.assert_allclose(dd["b"], np.sum(2 * w * w * b) + np.sum(xs[1] * 2.0))
    np.testing.assert_array_equal(dxs[0], np.zeros(4))  # overwritten: zeros of the old entry's shape
    np.testing.assert_allclose(dxs[1], 2.0 * b * np.ones(2))
    assert d["w"].shape == (3,) and xs[0].shape == (4,), "the arguments are left alone"


def test_attribute_replaced_by_a_value_of_another_shape_is_refused_at_the_users_line():
    ns = sg.exec_source("""
class Box:
    def __init__(self, w):
        self.w = w

    def grow(self, x):
        self.w = np.concatenate([self.w, x])
        return np.sum(self.w ** 2)

def f(box, x):
    return box.grow(x)
""", {"np": np})
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(ns["f"], wrt=1)(ns["Box"](np.ones(2)), np.ones(2))
    assert "assignment to an attribute" in str(info.value)
    assert "self.w = np.concatenate([self.w, x])" in str(info.value)


# --- higher order ---------------------------------------------------------------------------------

def test_forward_over_reverse_through_updates():
    f_np = _numpy("""
def f(a, x):
    out = np.zeros(3)
    for i in range(3):
        out[i] = a * x[i] ** 2
    out[1] *= a
    return np.sum(out * out)
""")
    x = np.array([0.3, -0.7, 1.1])
    df = sg.grad(f_np)
    want = numeric_grad(lambda a: df(a, x), (0.4,), 0)
    np.testing.assert_allclose(sg.autodiff(df, mode="forward", wrt=0)(0.4, x, 1.0, 1.0), want, rtol=1e-6)
    np.testing.assert_allclose(sg.hvp(f_np)(0.4, x, 1.0), want, rtol=1e-6)


# --- aliasing ---------------------------------------------------------------------------------------

ALIASES = {
    "name_alias": ("""
def f(x):
    y = x
    y[0] = 1.0
    return np.sum(x * y)
""", "y[0] = 1.0", "`x`"),
    "view_written": ("""
def f(x):
    v = x[0]
    v[:] = 1.0
    return np.sum(x)
""", "v[:] = 1.0", "`x`"),
    "base_written_view_read": ("""
def f(x):
    v = x[0]
    x[0, 1] = 5.0
    return np.sum(v * x)
""", "x[0, 1] = 5.0", "`v`"),
    "reshaped": ("""
def f(x):
    y = np.reshape(x, (6,))
    y[2] = 0.0
    return np.sum(x) + np.sum(y)
""", "y[2] = 0.0", "`x`"),
    "held_in_a_list": ("""
def f(x):
    xs = [x, x * 2.0]
    x[0] = 0.0
    return np.sum(xs[0])
""", "x[0] = 0.0", "`xs`"),
    "element_taken_then_its_object_written": ("""
def f(x):
    xs = [x, x * 2.0]
    a = xs[0]
    x[0] = 5.0
    return np.sum(a)
""", "x[0] = 5.0", "`a`"),
    "element_taken_and_written": ("""
def f(x):
    xs = [x * 1.0, x]
    a = xs[0]
    a[0] = 1.0
    return np.sum(xs[0])
""", "a[0] = 1.0", "`xs`"),
    "list_alias_written": ("""
def f(x):
    xs = [x * 1.0, x * 2.0]
    ys = xs
    xs[0] = x * 3.0
    return np.sum(ys[0])
""", "xs[0] = x * 3.0", "`ys`"),
    "np_asarray_shares": ("""
def f(x):
    y = x * 1.0
    z = np.asarray(y)
    y[1] = 0.0
    return np.sum(z * y)
""", "y[1] = 0.0", "`z`"),
    "rows_of_list_of_an_array": ("""
def f(x):
    y = x * 1.0
    rows = list(y)
    y[0] = y[0] * 0.0
    return np.sum(rows[0] ** 2) + np.sum(y)
""", "y[0] = y[0] * 0.0", "`rows`"),  # list(y) of a 2-D y: its items are views of y's rows
}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_write_through_an_alias_is_refused_at_the_users_line(name):
    src, line, other = ALIASES[name]
    f_np = _numpy(src)
    for mode in ("reverse", "forward"):
        with pytest.raises(sg.UnsupportedSyntax) as info:
            sg.autodiff(f_np, mode=mode)
        err = info.value
        assert err.lineno == line_of(f_np, line)
        assert line in str(err) and other in str(err) and "copy" in str(err)


# Replacing an element of a local list or dict leaves the object a name took from it alone, and
# np.array copies (both were refused: "Python would change `a` too"); writing `d[k]` in a loop
# over a dict that a later loop iterates again was refused naming the internal `d_keys`.
LIST_AND_DICT_WRITES = """
def swap(x):
    xs = [x[0] * 1.0, x[1] * 2.0]
    a = xs[0]
    xs[0] = xs[1]
    xs[1] = a
    return xs[0] * 3.0 + xs[1] * a

def swap_in_dict(x):
    d = {"p": x[0] * 1.0, "q": np.sin(x[1])}
    t = d["p"]
    d["p"] = d["q"]
    d["q"] = t
    return d["p"] * 3.0 + d["q"] * t

def copied(x):
    y = x * 1.0
    z = np.array(y)
    y[1] = 0.0
    return np.sum(z ** 2 * y)

def sliced(x):
    xs = [x[0] * 1.0, x[1], x[0] * x[1]]
    ys = xs[1:]
    xs[1] = xs[0] * 5.0
    return xs[1] * ys[0] + ys[1]

def listed(x):
    xs = list(x * 1.0)
    xs[0] = xs[0] * 2.0
    return xs[0] * 3.0 + xs[1] ** 2
"""


@pytest.mark.parametrize("entry", ["swap", "swap_in_dict", "copied", "sliced", "listed"])
def test_writes_that_no_other_name_sees_are_fine(entry, rng):
    f_np, f_ag = make(LIST_AND_DICT_WRITES, entry=entry)
    if entry == "copied":  # autograd cannot write into an array
        check_grad(f_np, (rand(rng, (2,)),))
    else:
        check_pair(f_np, f_ag, (rand(rng, (2,)),))


def test_writing_a_dict_that_is_iterated_again(rng):
    """`for k in d: d[k] = d[k] * 2`, then another loop over `d`: the keys' list is never written."""
    f_np = _numpy("""
def f(d, c):
    for k in d:
        d[k] = d[k] * c
    s = 0.0
    for k in d:
        s = s + np.sum(np.sin(d[k]))
    return s
""")
    d, c = {"w": rand(rng, (2,)), "b": 0.3}, 1.7
    g, dc = sg.grad(f_np, wrt=(0, 1))(d, c)
    eps = 1e-6  # central differences on fresh copies: f writes into the dict it is given
    for key, value in d.items():
        for j in range(np.size(value)):
            up, down = dict(d), dict(d)
            e = np.zeros(np.shape(value))
            e.flat[j] = eps
            up[key], down[key] = value + e, value - e
            want = (f_np(up, c) - f_np(down, c)) / (2 * eps)
            np.testing.assert_allclose(np.ravel(g[key])[j], want, rtol=1e-6, atol=1e-8)
    want = (f_np(dict(d), c + eps) - f_np(dict(d), c - eps)) / (2 * eps)
    np.testing.assert_allclose(dc, want, rtol=1e-6, atol=1e-8)


def test_a_refusal_never_names_a_name_of_the_desugaring():
    """The alias check runs on desugared code; a name that the user did not write (a loop's list)
    is described by its line, never named."""
    import ast

    from sourcegrad.errors import UnsupportedSyntax
    from sourcegrad.normal import aliasing

    fn = ast.parse("def f(x):\n    x_items = x\n    x[0] = 1.0\n    return x_items\n").body[0]
    def error(message, node, hint):
        return UnsupportedSyntax(message + " " + hint)
    with pytest.raises(UnsupportedSyntax) as info:
        aliasing.check_writes(fn, lambda node: None, error, user_names=frozenset({"f", "x"}))
    assert "x_items" not in str(info.value) and "line 2" in str(info.value) and "copy" in str(info.value)


def test_copies_and_reads_before_the_write_are_fine():
    f_np = _numpy("""
def f(x):
    y = x.copy()
    y[0] = 1.0
    for i in range(x.shape[0]):
        row = x[i]
        x[i] = row * 2.0
    return np.sum(x * y)
""")
    check_grad(f_np, (np.random.default_rng(0).uniform(size=(3, 2)),))


def test_nested_subscript_target_is_refused_with_a_remedy():
    f_np = _numpy("""
def f(x):
    x[0][1] = 2.0
    return np.sum(x)
""")
    with pytest.raises(sg.UnsupportedSyntax, match="subscript of a subscript") as info:
        sg.grad(f_np)
    assert "x[i, j] = v" in str(info.value)
    assert info.value.lineno == line_of(f_np, "x[0][1] = 2.0")


def test_list_slice_of_the_same_length(rng):
    """`xs[1:3] = [a, b]` replaces two entries: their cotangents come back as a list (the
    backward pass took the list for a `+` of two lists and raised a TypeError about `a + b`)."""
    src = """
def f(x, w):
    xs = list(x)
    xs[1:3] = [xs[2] * w, np.sin(xs[1]) * 3.0]
    xs[0:2] = (xs[1] * xs[3], xs[0])
    return xs[1] * xs[2] + xs[0] * xs[3] * w
"""
    f_np, f_ag = make(src)
    x, w = rand(rng, (4,)), 0.7
    check_pair(f_np, f_ag, (x, w), (0, 1))
    np.testing.assert_allclose(sg.hessian(f_np)(x, w), autograd.hessian(f_ag)(x, w), rtol=1e-9, atol=1e-12)


def test_list_slice_that_changes_the_length_is_refused():
    f_np = _numpy("""
def f(a):
    xs = [a, a, a]
    xs[0:2] = [a]
    return xs[0] * xs[1]
""")
    with pytest.raises(ValueError, match="change the list's length"):
        sg.grad(f_np)(0.5)


# --- cost: filling an array element by element is linear ---------------------------------------------

def _seconds(fn, *args) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def test_filling_rows_costs_linear_time_in_both_sweeps():
    f_np = _numpy("""
def f(w):
    n = 4000
    out = np.zeros((n, 50))
    for i in range(n):
        out[i] = w * (i % 7)
    return np.sum(out * out)
""")
    df = sg.grad(f_np)
    text = sg.source(df).text if hasattr(sg.source(df), "text") else str(sg.source(df))
    assert "sg.update(out" in text and "sg.push(tape, out)" not in text
    w = np.linspace(0, 1, 50)
    check_grad(f_np, (w,))
    # A copy per write would move 4000 * 4000 * 50 * 8 bytes = 6.4 GB; in place it is ~1.6 MB.
    assert _seconds(df, w) < 2.0


def test_update_writes_in_place_only_when_nothing_else_holds_the_array():
    from sourcegrad import runtime

    def fill(n):
        out = np.zeros(n)
        for i in range(n):
            out = runtime.update(out, i, 1.0)
        return out

    first = fill(50)  # warm: the call sites are specialised, the count is the smallest it gets
    np.testing.assert_array_equal(first, np.ones(50))
    a = np.zeros(3)
    b = a
    a = runtime.update(a, 0, 1.0)  # b holds the array
    assert b[0] == 0.0 and a[0] == 1.0
    c = np.zeros((2, 2))
    view = c[0]
    c = runtime.update(c, (0, 0), 1.0)  # a view holds it
    assert view[0] == 0.0
    tape = runtime.Tape()
    d = np.zeros(2)
    runtime.push(tape, d)
    d = runtime.update(d, 1, 5.0)  # the tape holds it
    assert runtime.pop(tape)[1] == 0.0
    g = np.ones(3)
    h = g
    g = runtime.clear(g, 1)
    assert h[1] == 1.0 and g[1] == 0.0


def test_kalman_example_gradient_matches_finite_differences():
    import runpy
    from pathlib import Path

    example = runpy.run_path(str(Path(__file__).parents[2] / "examples" / "models" / "kalman.py"))
    assert example["main"]() == 0


# --- in-place writes the derivative cannot follow: refused at the line that makes them --------------


AUGMENTED_THROUGH_ALIASES = {
    "alias": ("y = x * 2.0\n    z = y\n    z += 1.0\n    return np.sum(y * x)", 4),
    "view": ("y = x * 2.0\n    v = y[0:2]\n    v *= 3.0\n    return np.sum(y * x)", 4),
    "held_by_a_list": (("acc = np.zeros(3)\n    accs = []\n    for i in range(3):\n        acc += x * (i + 1)\n"
                       "        accs.append(acc)\n    return np.sum(accs[0] * x)"), 5),
    "alias_in_a_loop": (("s = np.zeros(3)\n    for i in range(3):\n        row = s\n        row += x * i\n"
                        "    return np.sum(s * x)"), 5),
    # a list's `+=` extends it in place (`*=` repeats it in place), as an array's adds
    "list_extended": ("xs = [x]\n    ys = xs\n    xs += [x * 2.0]\n    return np.sum(ys[-1]) + len(ys)", 4),
    "list_of_a_comprehension": (("xs = [v * 2.0 for v in x]\n    ys = xs\n    xs += list(x)\n"
                                 "    return sum(ys)"), 4),
    "list_repeated": ("xs = [x, x * 2.0]\n    ys = xs\n    xs *= 2\n    return np.sum(ys[3])", 4),
}


@pytest.mark.parametrize("name", sorted(AUGMENTED_THROUGH_ALIASES))
def test_augmented_assignment_through_an_alias_is_refused(name):
    """`z += v` changes an array (NumPy's __iadd__) or a list in place, so every name sharing it
    changes too; sourcegrad rebinds `z`, so it refuses where another live name shares the object."""
    body, line = AUGMENTED_THROUGH_ALIASES[name]
    f = sg.exec_source(f"def f(x):\n    {body}\n", {"np": np})["f"]
    with pytest.raises(sg.UnsupportedSyntax, match="in place, and `.*` may share it") as err:
        sg.grad(f)(np.ones(3))
    assert err.value.location.lineno == line


def test_augmented_assignment_of_numbers_and_unshared_arrays_works(rng):
    """A number's `t += dt` rebinds `t` (floats do not change in place), and an array no other
    name shares may be changed in place: both differentiate as Python runs them."""
    src = """
def f(x):
    t = 0.0
    t_prev = t
    y = x * 2.0
    for i in range(3):
        t_prev = t
        t += 0.5
        y += x * t
        y *= 0.9
    return np.sum(y * x) + t_prev
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_a_list_extended_with_plus_equals_that_nothing_shares_works(rng):
    """`xs += [v]` on a list no other name shares, and `t += (v,)` on a tuple (a rebinding even
    where shared), differentiate as Python runs them."""
    src = """
def f(x):
    xs = [x]
    t = (x,)
    u = t
    for i in range(3):
        xs += [xs[-1] * x]
        t += (x * i,)
    return np.sum(xs[-1]) + np.sum(t[-1] * u[0])
"""
    check_against_autograd(src, (rand(rng, (3,)),))


@pytest.mark.parametrize("call", ["np.fill_diagonal(B, 0.0)", "np.exp(B, out=B)", "B.fill(2.0)",
                                  "np.add.at(B, [0, 0], 1.0)", "np.copyto(B, A)", "np.put(B, [0], 5.0)"])
def test_numpy_calls_that_write_in_place_are_refused(call):
    """These write into an array they are given (and `B = A * 1.0` may share the caller's `A`
    after the optimiser): a clear error at their line, not a derivative that misses the write."""
    f = sg.exec_source(f"def f(A):\n    B = A * 1.0\n    {call}\n    return np.sum(B * A)\n", {"np": np})["f"]
    A = np.arange(1.0, 5.0).reshape(2, 2)
    before = A.copy()
    with pytest.raises(sg.UnsupportedSyntax, match="in place") as err:
        sg.grad(f)(A)
    assert err.value.location.lineno == 3
    np.testing.assert_array_equal(A, before)


def test_out_none_is_the_default_and_works(rng):
    f = sg.exec_source("def f(x):\n    return np.sum(np.exp(x, out=None) * np.sin(x))\n", {"np": np})["f"]
    x = rand(rng, (3,))
    got = check_grad(f, (x,))  # both modes against central differences (autograd takes no out=)
    np.testing.assert_allclose(got, np.exp(x) * (np.sin(x) + np.cos(x)), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("call", ["np.arctan(b, a)", "np.exp(b, a)", "np.multiply(a, b, a)", "np.dot(a, b, a)",
                                  "np.clip(b, 0.0, 1.0, a)", "np.cumsum(b, 0, None, a)"])
def test_an_out_argument_given_by_position_is_refused(call, mode):
    """A ufunc's argument after its inputs, or the place of `out` in a NumPy signature, is `out`:
    `np.arctan(b, a)` (arctan of b written into a, Tangent's `cart2polar`) writes into `a`. With
    floats NumPy raises a bare TypeError, with arrays the caller's `a` changes under the
    derivative: a clear error at the line instead, in both modes."""
    f = sg.exec_source(f"def f(a, b):\n    t = a * b\n    r = {call}\n    return np.sum(r * t)\n", {"np": np})["f"]
    a, b = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.2, -0.7])
    before = a.copy()
    with pytest.raises(sg.UnsupportedSyntax, match="as its `out` argument") as err:
        df = sg.autodiff(f, mode=mode)
        df(a, b) if mode == "reverse" else df(a, b, np.ones(3))
    assert err.value.location.lineno == 3
    np.testing.assert_array_equal(a, before)


def test_calls_with_all_their_inputs_by_position_still_differentiate(rng):
    """Binary ufuncs given both inputs, and NumPy functions given positional parameters before `out`."""
    src = """
def f(a, b):
    r = np.arctan2(b, a) + np.maximum(a, b) * np.clip(b, -0.5, 0.5)
    return np.sum(np.cumsum(r, 0) * np.mean(a * b, 0, None))
"""
    check_against_autograd(src, (rand(rng, (4,)), rand(rng, (4,))), wrt=(0, 1))


# --- calls of functions that write into their arguments -------------------------------------------

_CALLEE_WRITES = '''
def normalize_(v):
    v /= np.sum(v)

def normalized(v):
    v /= np.sum(v)
    return v

def clamp_ends(u):
    u[0] = 0.0
    u[-1] = 0.0
    return u

def hidden(y):
    y = y * 1.0
    normalize_(y)
    return np.sum(y ** 2)

def rebound(x):
    y = x * 1.0
    y = normalized(y)
    u = clamp_ends(y * y)
    return np.sum(y ** 3) + np.sum(np.sin(u))

def unseen(x):
    y = x * 2.0
    return np.sum(clamp_ends(y) ** 2)

def seen_through_other(x):
    y = x * 2.0
    z = clamp_ends(y)
    return np.sum(z) + np.sum(y)
'''


def test_a_call_that_writes_into_an_argument_read_afterwards_is_refused(rng):
    """Python's caller sees `normalize_(y)` change `y` (its `v /= ...` is in place for an array); a
    differentiated call's parameters are its own, so the call is refused where `y` is read after it
    (it was a silently wrong gradient); assigning the returned value, or not reading the argument
    again, is the same in both and differentiates."""
    ns = sg.exec_source(_CALLEE_WRITES, {"np": np})
    x = rand(rng, (4,), 0.5, 2.0)
    for name, call in (("hidden", "normalize_(y)"), ("seen_through_other", "z = clamp_ends(y)")):
        with pytest.raises(sg.UnsupportedSyntax, match="changes `y` in place") as err:
            sg.grad(ns[name])(x)
        assert err.value.location.lineno == line_of(ns[name], call)
        assert "return" in err.value.hint
        with pytest.raises(sg.UnsupportedSyntax, match="in place"):
            sg.autodiff(ns[name], mode="forward")(x, x)
    for name in ("rebound", "unseen"):
        check_grad(ns[name], (x,))
        expected = numeric_grad(ns[name], (x,), 0)
        assert sg.autodiff(ns[name], mode="forward")(x, np.ones(4)) == pytest.approx(np.sum(expected), rel=1e-6)


def test_a_method_called_for_its_effect_on_an_object_is_refused():
    """`c.step(x)` whose result is unused is called for what it changes in `c`: refused where `c` is
    read afterwards (the forward sweep ran the method, the gradient ignored it: silently wrong)."""
    ns = sg.exec_source('''
class Counter:
    def __init__(self, h):
        self.h = h

    def bump(self, x):
        return self.h * x

def f(c, xs):
    for x in xs:
        c.bump(x)
    return np.sum(c.h ** 2)
''', {"np": np})
    with pytest.raises(sg.UnsupportedSyntax, match=r"`c.bump\(x\)` is called for what it changes in `c`"):
        sg.grad(ns["f"])(ns["Counter"](np.ones(2)), [np.ones(2)])


def test_a_method_that_writes_into_its_argument_is_refused_when_called(rng):
    """Where the call's target is known only when the code runs (a layer object), the function that
    writes into its parameter in place is refused then."""
    ns = sg.exec_source('''
class Normalize:
    def __call__(self, v):
        v /= np.sum(v)
        return v

def f(layer, x):
    y = x * 1.0
    z = layer(y)
    return np.sum(z ** 2) + np.sum(y)
''', {"np": np})
    x = rand(rng, (3,), 0.5, 2.0)
    with pytest.raises(sg.UnsupportedSyntax, match="changes its argument `v` in place") as err:
        sg.grad(ns["f"], wrt=1)(ns["Normalize"](), x)
    assert "v = v / ..." in err.value.hint
    with pytest.raises(sg.UnsupportedSyntax, match="changes its argument `v` in place"):
        sg.autodiff(ns["f"], mode="forward", wrt=1)(ns["Normalize"](), x, x)


# A float written into an integer or bool array is truncated by NumPy, so the written value has no
# derivative; the rules passed the gradient through it. It is refused where it runs, in both modes.
def write_float_into_int_array(w):
    v = np.array([0, 0, 0])
    v[0] = w
    return np.sum(v * 3.0) + w


def write_float_into_bool_array(w):
    m = np.zeros(3, dtype=bool)
    m[1:] = w * 2.0
    return np.sum(m * w)


@pytest.mark.parametrize("f, dtype", [(write_float_into_int_array, "int64"), (write_float_into_bool_array, "bool")])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_float_written_into_an_integer_array_is_refused(f, dtype, mode):
    with pytest.raises(TypeError, match=f"a float64 value is written into an array of dtype {dtype}, which NumPy truncates") as err:
        if mode == "reverse":
            sg.grad(f)(1.7)
        else:
            sg.autodiff(f, mode="forward")(1.7, 1.0)
    if sys.version_info >= (3, 11):  # exception notes (the user's line) exist from 3.11
        assert any(f"line {f.__code__.co_firstlineno + 2}" in note for note in err.value.__notes__)


def write_integers_into_int_array(w):
    v = np.array([0, 0, 0])
    v[0] = int(w)                             # the remedy the error names: no derivative through it
    v[1] = np.floor(w * 2.0).astype(int)
    v[2] = 5
    return np.sum(v * 3.0) * w + w ** 2


def test_integers_written_into_an_int_array_have_no_derivative():
    check_grad(write_integers_into_int_array, (1.7,))
