"""``for`` loops over what Python code iterates: ``zip``, ``enumerate``, ``reversed``, ``range(len(...))``,
lists of arrays, rows of an array, with tuple targets (``for i, (a, b) in enumerate(zip(xs, ys))``),
and dicts (``d.items()``, ``d.keys()``, ``d.values()``, ``d`` itself), with ``d.get``, ``len(d)``
and ``k in d``.

Each program is written once as source text and compared with finite differences (both modes) and
with autograd; dict arguments with ``check_tree_grad`` (each leaf perturbed).
"""

import sys
import warnings

import autograd
import numpy as np
import pytest
from helpers import check_against_autograd, make, rand
from tree_helpers import check_tree_grad

import sourcegrad as sg


def test_zip_of_two_arrays(rng):
    src = """
def f(xs, ys):
    s = 0.0
    for x, y in zip(xs, ys):
        s = s + np.sum(np.tanh(x) * y)
    return s
"""
    check_against_autograd(src, (rand(rng, (4, 3)), rand(rng, (4, 3))), wrt=(0, 1))


def test_zip_stops_at_the_shortest(rng):
    src = """
def f(xs, w):
    s = 0.0
    for x, c in zip(xs, [1.0, 2.0]):
        s = s + np.sum(x * w) * c
    return s
"""
    check_against_autograd(src, (rand(rng, (4, 3)), rand(rng, (3,))), wrt=(0, 1))


def test_zip_of_three_with_a_list(rng):
    src = """
def f(a, b):
    s = 0.0
    for x, y, z in zip(a, b, [a[0], b[1], a[2] * b[0]]):
        s = s + x * y * z
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_enumerate_rows(rng):
    src = """
def f(x):
    s = 0.0
    for i, row in enumerate(x):
        s = s + (i + 1.0) * np.sum(np.sin(row))
    return s
"""
    check_against_autograd(src, (rand(rng, (3, 2)),))


def test_enumerate_with_start(rng):
    src = """
def f(x):
    s = 0.0
    for i, v in enumerate(x, 2):
        s = s + v ** i
    return s
"""
    check_against_autograd(src, (rand(rng, (4,)),))


def test_enumerate_zip_with_nested_target(rng):
    src = """
def f(xs, ys):
    s = 0.0
    for i, (a, b) in enumerate(zip(xs, ys)):
        s = s + i * np.sum(a * b) + np.sum(np.cos(a))
    return s
"""
    check_against_autograd(src, (rand(rng, (3, 2)), rand(rng, (3, 2))), wrt=(0, 1))


def test_reversed_array(rng):
    src = """
def f(x):
    h = 0.0
    for v in reversed(x):
        h = np.tanh(h * 0.5 + v)
    return h
"""
    check_against_autograd(src, (rand(rng, (5,)),))


def test_reversed_list_of_arrays(rng):
    src = """
def f(x, y):
    h = x
    for w in reversed([x, y, x * y]):
        h = np.sin(h) * w
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_reversed_enumerate_of_a_list(rng):
    src = """
def f(x, y):
    s = 0.0
    for i, v in reversed(list(enumerate([x, y, x * y]))):
        s = s * 0.5 + i * np.sum(v * v)
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_range_of_len(rng):
    src = """
def f(x, w):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + x[i] * w[i + 1] - x[i + 1] * w[i]
    return s
"""
    check_against_autograd(src, (rand(rng, (5,)), rand(rng, (5,))), wrt=(0, 1))


def test_tuple_target_over_rows_of_a_matrix(rng):
    src = """
def f(pairs):
    s = 0.0
    for a, b in pairs:
        s = s + a * np.exp(b)
    return s
"""
    check_against_autograd(src, (rand(rng, (4, 2)),))


def test_list_of_arrays_argument(rng):
    src = """
def f(W, xs):
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(W @ h + x)
    return np.sum(h)
"""
    xs = [rand(rng, (3,)) for _ in range(4)]
    check_against_autograd(src, (rand(rng, (3, 3)), xs), wrt=0)


def test_nested_loops_over_zip_and_rows(rng):
    src = """
def f(x, y):
    s = 0.0
    for row_x, row_y in zip(x, y):
        for a, b in zip(row_x, row_y):
            s = s + a * b * a
    return s
"""
    check_against_autograd(src, (rand(rng, (2, 3)), rand(rng, (2, 3))), wrt=(0, 1))


def test_loop_over_a_generator_function_result_is_an_error():
    src = """
def f(x):
    s = 0.0
    for v in iter(x):
        s = s + v
    return s
"""
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])(np.ones(3))
    assert err.value.location is not None and err.value.location.lineno == 4


# --- dicts ---------------------------------------------------------------------------------------


def _params(rng):
    return {"w": rand(rng, (3,)), "b": rand(rng, (3,)), "scale": 0.7}


def test_loop_over_the_items_of_a_dict_argument(rng):
    f, f_ag = make("""
def f(params, x):
    s = 0.0
    for name, p in params.items():
        s = s + np.sum(np.tanh(p * x)) * len(name)
    return s
""")
    args = (_params(rng), rand(rng, (3,)))
    check_tree_grad(f, args, 0, f_ag)
    check_tree_grad(f, args, 1, f_ag)


def test_loop_over_keys_values_and_the_dict_argument_itself(rng):
    f, f_ag = make("""
def f(params, x):
    s = 0.0
    for k in params.keys():
        s = s + np.sum(params[k] * x)
    for v in params.values():
        s = s + np.sum(np.sin(v))
    for k in params:
        s = s + np.sum(params[k] ** 2)
    return s
""")
    check_tree_grad(f, (_params(rng), rand(rng, (3,))), 0, f_ag)


def test_loop_over_a_dict_made_in_the_function(rng):
    src = """
def f(x, ys):
    d = {"a": x * 2.0, "b": np.exp(x)}
    s = 0.0
    for k in d:
        s = s + np.sum(np.sin(d[k]))
    for i, (k, v) in enumerate(d.items()):
        s = s + (i + 1.0) * np.sum(v * ys[i])
    for k, y in zip(d.keys(), ys):
        s = s + np.sum(d[k] * y)
    for v in reversed(list(d.values())):
        s = s * 0.5 + np.sum(v)
    return s
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (2, 3))), wrt=(0, 1))


def test_dict_with_integer_keys_iterates_over_its_keys(rng):
    # `for k in d` indexed d[0], d[1], ... by position before dicts had loops of their own
    f, f_ag = make("""
def f(d):
    s = 0.0
    for k in d:
        s = s + (k + 1.0) * np.sum(d[k] ** 2)
    return s
""")
    g = check_tree_grad(f, ({2: rand(rng, (2,)), 0: rand(rng, (2,))},), 0, f_ag)
    assert list(g) == [2, 0]


def test_writing_into_the_dict_being_iterated(rng):
    f, f_ag = make("""
def f(params, x):
    for k in params:
        params[k] = params[k] * x
    for k, v in params.items():
        params[k] = np.sin(v)
    return np.sum(params["w"] * params["b"])
""")
    p = {"w": rand(rng, (3,)), "b": rand(rng, (3,))}
    # only with respect to the dict: the checks give each call a new one (Python's f changes it)
    check_tree_grad(f, (p, rand(rng, (3,))), 0, f_ag)
    assert set(p) == {"w", "b"}


def test_writing_into_a_dict_comprehension_being_iterated(rng):
    f, f_ag = make("""
def f(params, x):
    d = {k: v * x for k, v in params.items()}
    for k in d:
        d[k] = np.sin(d[k]) + x
    return np.sum(d["w"] * d["b"])
""")
    args = ({"w": rand(rng, (3,)), "b": rand(rng, (3,))}, rand(rng, (3,)))
    check_tree_grad(f, args, 0, f_ag)
    check_tree_grad(f, args, 1, f_ag)


def test_copy_of_a_dict_then_written(rng):
    f, f_ag = make("""
def f(params, x):
    new = params.copy()
    for k in params:
        new[k] = params[k] * np.sum(x)
    return np.sum(new["w"] * params["b"]) + np.sum(new["b"]) * new["scale"] * params["scale"]
""")
    args = (_params(rng), rand(rng, (3,)))
    check_tree_grad(f, args, 0, f_ag)
    check_tree_grad(f, args, 1, f_ag)


def test_get_with_and_without_the_key(rng):
    f, f_ag = make("""
def f(params, x):
    a = params.get("w", x)
    b = params.get("missing", x * 3.0)
    return np.sum(a * b) + params.get("scale") * np.sum(params.get("b", 0.0) * x)
""")
    args = (_params(rng), rand(rng, (3,)))
    check_tree_grad(f, args, 0, f_ag)
    check_tree_grad(f, args, 1, f_ag)


def test_len_and_membership_of_a_dict_in_conditions(rng):
    f, f_ag = make("""
def f(params, x):
    s = np.sum(x) * len(params)
    if "w" in params and "missing" not in params.keys():
        s = s + np.sum(params["w"] * x)
    if len(params) > 5:
        s = s * 0.0
    return s
""")
    check_tree_grad(f, (_params(rng), rand(rng, (3,))), 0, f_ag)


def test_loops_over_dicts_and_arguments_at_second_order(rng):
    f, f_ag = make("""
def f(x, w):
    d = {"a": x * w, "b": np.tanh(x)}
    s = 0.0
    for k, v in d.items():
        s = s + np.sum(v ** 2) * len(k)
    for v in x:
        s = s + v ** 3 * np.sum(w)
    return s + d.get("c", x)[0] * d.get("a", x)[1]
""")
    x, w, v = rand(rng, (3,)), rand(rng, (3,)), rand(rng, (3,))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        hess_x, hess_w = autograd.hessian(f_ag, 0)(x, w), autograd.hessian(f_ag, 1)(x, w)
    np.testing.assert_allclose(sg.hessian(f)(x, w), hess_x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sg.hvp(f, wrt=1)(x, w, v), hess_w @ v, rtol=1e-9, atol=1e-12)


def test_hvp_with_respect_to_a_dict_argument_a_loop_iterates(rng):
    f, _ = make("""
def f(params, x):
    s = 0.0
    for k in params:
        s = s + np.sum(params[k] ** 3 * x) + np.sum(params.get("missing", params[k]) ** 2)
    return s
""")
    p, v = ({"a": rand(rng, (3,)), "b": rand(rng, (2,))} for _ in range(2))
    x, eps = rand(rng, (1,)), 1e-6
    got = sg.hvp(f)(p, x, v)
    up = sg.grad(f)({k: p[k] + eps * v[k] for k in p}, x)
    down = sg.grad(f)({k: p[k] - eps * v[k] for k in p}, x)
    for k in p:
        np.testing.assert_allclose(got[k], (up[k] - down[k]) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_a_dict_loop_reads_values_by_key():
    f, _ = make("""
def f(params):
    s = 0.0
    for name, p in params.items():
        s = s + np.sum(p * p)
    return s
""")
    text = sg.source(sg.grad(f))
    assert "params_keys = sg.keys(params)" in text
    assert "name = params_keys[i_item]" in text and "p = params[name]" in text


class Box:
    def __init__(self, w):
        self.w = w

    def get(self, key, default):
        return self.w * default

    def items(self):
        return [("w", self.w)]


@pytest.mark.parametrize("body", ["return np.sum(box.get('w', x))",
                                  "s = 0.0\n    for k, v in box.items():\n        s = s + np.sum(v * x)\n    return s"],
                         ids=["get", "items"])
def test_dict_methods_of_an_object_that_is_not_a_dict_say_so(body):
    ns = sg.exec_source(f"def f(box, x):\n    {body}\n", {"np": np})
    with pytest.raises(TypeError, match="expected a dict here.*got a Box.*Box.get") as err:
        sg.grad(ns["f"], wrt=1)(Box(np.ones(3)), np.ones(3))
    if sys.version_info >= (3, 11):  # exception notes are new in Python 3.11
        assert any("line 2" in note or "line 3" in note for note in err.value.__notes__)
