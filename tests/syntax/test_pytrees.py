"""Containers as data (pytrees): tuples, lists, dicts, namedtuples, dataclasses and nestings of
them, holding arrays and floats, as arguments and as results; lists built with ``append``.

A gradient has the structure of its argument; a VJP takes a seed of the output's structure;
a Jacobian is nested as JAX nests it. Each program is written once as source text and compared
with central finite differences (reverse and forward mode) and with autograd, which handles
tuples, lists and dicts natively.
"""

import collections
import dataclasses

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import check_pair, make, numeric_grad, rand
from tree_helpers import check_tree_grad, leaves, leaves_like

import sourcegrad as sg


def pair(src, **extra):
    return make(src, **extra)


def ag_vjp(f_ag, args, argnum, seed):
    """autograd's VJP of a function with a tuple, list or dict output (autograd differentiates
    containers it is given, but its outputs must be arrays): the gradient of <seed, f(args)>."""

    def inner(*a):
        return sum(anp.sum(o * s) for o, s in zip(_parts(f_ag(*a)), _parts(seed)))

    return autograd.grad(inner, argnum)(*args)


def _parts(x):
    if isinstance(x, dict):
        return [p for k in sorted(x) for p in _parts(x[k])]
    if isinstance(x, (tuple, list)):
        return [p for item in x for p in _parts(item)]
    return [x]


def test_tuple_argument(rng):
    f, f_ag = pair("""
def f(p, x):
    W, b = p
    return np.sum(np.tanh(W @ x + b))
""")
    p, x = (rand(rng, (2, 3)), rand(rng, (2,))), rand(rng, (3,))
    check_tree_grad(f, (p, x), 0, f_ag)


def test_list_argument_iterated(rng):
    f, f_ag = pair("""
def f(ws, x):
    h = x
    for w in ws:
        h = np.sin(w * h)
    return np.sum(h)
""")
    ws, x = [rand(rng, (3,)) for _ in range(3)], rand(rng, (3,))
    g = check_tree_grad(f, (ws, x), 0, f_ag)
    assert type(g) is list


def test_dict_argument_with_scalars(rng):
    f, f_ag = pair("""
def f(params, x):
    return np.sum((params["w"] * x + params["b"]) ** 2) * params["scale"]
""")
    params = {"w": rand(rng, (3,)), "b": 0.3, "scale": 1.7}
    check_tree_grad(f, (params, rand(rng, (3,))), 0, f_ag)


def test_nested_mixture(rng):
    f, f_ag = pair("""
def f(tree, x):
    layers, extra = tree["layers"], tree["extra"]
    h = x
    for W, b in layers:
        h = np.tanh(W @ h + b)
    return np.sum(h * extra[0]) + extra[1]["c"] ** 2
""")
    tree = {"layers": [(rand(rng, (3, 3)), rand(rng, (3,))), (rand(rng, (3, 3)), rand(rng, (3,)))],
            "extra": (rand(rng, (3,)), {"c": 0.4})}
    g = check_tree_grad(f, (tree, rand(rng, (3,))), 0, f_ag)
    assert type(g["layers"][0]) is tuple and type(g["extra"][1]) is dict


def test_a_tuple_passed_twice_to_a_user_function(rng):
    f, f_ag = pair("""
def part(p, x):
    return np.sum(p[0] * x) * p[1]

def f(p, x):
    return part(p, x) + part(p, x * 2.0)
""")
    check_tree_grad(f, ((rand(rng, (2,)), 0.5), rand(rng, (2,))), 0, f_ag)


def test_dict_result_vjp_and_default_seed(rng):
    f, f_ag = pair("""
def f(x):
    return {"s": np.sin(x), "c": np.cos(x) * 2.0, "n": np.sum(x * x)}
""")
    x = rand(rng, (3,))
    seed = {"s": rand(rng, (3,)), "c": rand(rng, (3,)), "n": 0.7}
    out, pullback = sg.vjp(f, x)
    assert set(out) == {"s", "c", "n"}
    (dx,) = pullback(seed)
    np.testing.assert_allclose(dx, ag_vjp(f_ag, (x,), 0, seed), rtol=1e-10)
    ones = {"s": np.ones(3), "c": np.ones(3), "n": 1.0}  # the default seed: every output leaf summed
    np.testing.assert_allclose(sg.grad(f)(x), ag_vjp(f_ag, (x,), 0, ones), rtol=1e-10)
    np.testing.assert_allclose(sg.grad(f)(x), pullback(ones)[0], rtol=1e-10)


def test_tuple_result_vjp_and_jacobian(rng):
    f, f_ag = pair("""
def f(x, w):
    return np.tanh(x * w), np.sum(x ** 2) * w
""")
    x, w = rand(rng, (3,)), rand(rng, (3,))
    _, pullback = sg.vjp(f, x, w)
    seed = (rand(rng, (3,)), rand(rng, (3,)))
    dx, dw = pullback(seed)
    np.testing.assert_allclose(dx, ag_vjp(f_ag, (x, w), 0, seed), rtol=1e-10)
    np.testing.assert_allclose(dw, ag_vjp(f_ag, (x, w), 1, seed), rtol=1e-10)
    for mode in ("reverse", "forward"):
        jac = sg.jacobian(f, wrt=0, mode=mode)(x, w)
        assert isinstance(jac, tuple) and [j.shape for j in jac] == [(3, 3), (3, 3)]
        np.testing.assert_allclose(jac[0], autograd.jacobian(lambda v: f_ag(v, w)[0])(x), rtol=1e-10)
        np.testing.assert_allclose(jac[1], autograd.jacobian(lambda v: f_ag(v, w)[1])(x), rtol=1e-10)


def test_an_array_seed_for_a_tuple_output_is_the_seed_of_its_stacked_items(rng):
    """`df(x, np.ones_like(y))` for a tuple `y` (how Tangent's tests seed any output of more than one
    element): the seed of `np.array(y)`, one row per item. It was spread to every item whole, and
    the items' adjoints summed it: a gradient 5 where 3 was right, and no error."""
    f, f_ag = pair("""
def f(a, w):
    return 2.0 * a * w, np.sin(a) ** 3
""")
    g, g_ag = pair("""
def g(x, w):
    return np.tanh(x * w), x ** 2
""")
    a, w = 0.7, 1.3
    seed = np.array([2.0, -5.0])
    expected = numeric_grad(lambda a, w: np.sum(seed * np.array(f(a, w))), (a, w), (0, 1))
    for df in (sg.grad(f, wrt=(0, 1)), sg.grad(f, wrt=(0, 1), optimized=False)):
        np.testing.assert_allclose(df(a, w, seed), expected, rtol=1e-7)
        np.testing.assert_allclose(df(a, w, np.ones(2)), df(a, w, (1.0, 1.0)), rtol=1e-12)
    np.testing.assert_allclose(sg.grad(f)(a, w, seed), ag_vjp(f_ag, (a, w), 0, tuple(seed)), rtol=1e-10)
    x, v, rows = rand(rng, (3,)), rand(rng, (3,)), rand(rng, (2, 3))
    np.testing.assert_allclose(sg.grad(g)(x, v, rows), ag_vjp(g_ag, (x, v), 0, tuple(rows)), rtol=1e-10)
    np.testing.assert_allclose(sg.grad(g)(x, v, rows[0]), ag_vjp(g_ag, (x, v), 0, (rows[0], rows[0])), rtol=1e-10)
    # differentiated again, in the seed (reverse and forward) and in `a`
    dseed = sg.grad(sg.grad(f), wrt=2)(a, w, seed)
    np.testing.assert_allclose(dseed, numeric_grad(lambda s: sg.grad(f)(a, w, s), (seed,), 0), rtol=1e-7)
    np.testing.assert_allclose(sg.autodiff(sg.grad(f), mode="forward", wrt=2)(a, w, seed, np.array([0.0, 1.0])), dseed[1],
                               rtol=1e-10)
    np.testing.assert_allclose(sg.grad(sg.grad(f))(a, w, seed),
                               numeric_grad(lambda a: sg.grad(f)(a, w, seed), (a,), 0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"a seed of shape \(3,\) for an output tuple of 2 items"):
        sg.grad(f)(a, w, np.ones(3))


def test_jacobian_of_a_dict_in_a_dict(rng):
    f = sg.exec_source("""
def f(p):
    return {"y": p["a"] * p["b"], "z": np.sum(p["a"])}
""", {"np": np})["f"]
    p = {"a": rand(rng, (2,)), "b": 0.5}
    for mode in ("reverse", "forward"):
        jac = sg.jacobian(f, mode=mode)(p)
        np.testing.assert_allclose(jac["y"]["a"], 0.5 * np.eye(2), rtol=1e-12)
        np.testing.assert_allclose(jac["y"]["b"], p["a"], rtol=1e-12)
        np.testing.assert_allclose(jac["z"]["a"], np.ones(2), rtol=1e-12)
        assert jac["z"]["b"] == 0.0


Params = collections.namedtuple("Params", "w b")


@dataclasses.dataclass
class State:
    pos: object
    vel: object


def test_namedtuple_argument_and_namedtuple_built_inside(rng):
    src = """
def f(p, x):
    q = Params(p.w * 2.0, p.b)
    return np.sum(np.tanh(q.w * x + q.b))
"""
    f, f_ag = pair(src, Params=Params)
    g = check_tree_grad(f, (Params(rand(rng, (3,)), 0.2), rand(rng, (3,))), 0, f_ag)
    assert type(g) is Params


def test_dataclass_built_and_returned(rng):
    src = """
def step(s, dt):
    return State(pos=s.pos + dt * s.vel, vel=s.vel - dt * np.sin(s.pos))
"""
    f = sg.exec_source(src, {"np": np, "State": State})["step"]
    s = State(rand(rng, (3,)), rand(rng, (3,)))
    out, pullback = sg.vjp(f, s, 0.1)
    assert type(out) is State
    seed = State(rand(rng, (3,)), rand(rng, (3,)))
    ds, ddt = pullback(seed)
    assert type(ds) is State
    eps = 1e-6

    def scalar(pos, vel, dt):
        o = f(State(pos, vel), dt)
        return float(np.sum(o.pos * seed.pos) + np.sum(o.vel * seed.vel))

    for name in ("pos", "vel"):
        base = getattr(s, name)
        num = np.zeros(3)
        for i in range(3):
            up, dn = base.copy(), base.copy()
            up[i] += eps
            dn[i] -= eps
            args_up = {"pos": s.pos, "vel": s.vel, name: up}
            args_dn = {"pos": s.pos, "vel": s.vel, name: dn}
            num[i] = (scalar(args_up["pos"], args_up["vel"], 0.1) - scalar(args_dn["pos"], args_dn["vel"], 0.1)) / (2 * eps)
        np.testing.assert_allclose(getattr(ds, name), num, rtol=1e-6, atol=1e-8)
    num_dt = (scalar(s.pos, s.vel, 0.1 + eps) - scalar(s.pos, s.vel, 0.1 - eps)) / (2 * eps)
    np.testing.assert_allclose(ddt, num_dt, rtol=1e-6)
    energy = sg.exec_source("""
def energy(s, dt):
    s = step(s, dt)
    s = step(s, dt)
    return np.sum(s.pos ** 2) + 0.5 * np.sum(s.vel ** 2)
""", {"np": np, "step": f})["energy"]
    check_tree_grad(energy, (s, 0.1), 0)  # a state stepped twice, both modes


def test_list_built_with_append_and_read_back(rng):
    f, f_ag = pair("""
def f(x, w):
    hs = []
    h = x
    for i in range(4):
        h = np.tanh(w * h + 0.1 * i)
        hs.append(h)
    total = 0.0
    for h_t in hs:
        total = total + np.sum(h_t * h_t)
    return total + np.sum(hs[0] * hs[-1])
""")
    x, w = rand(rng, (3,)), rand(rng, (3,))
    from helpers import check_pair

    check_pair(f, f_ag, (x, w), wrt=(0, 1))


def test_list_of_appended_arrays_returned(rng):
    f, f_ag = pair("""
def f(x):
    out = []
    for k in range(3):
        out.append(np.sin(x * (k + 1.0)))
    return out
""")
    x = rand(rng, (2,))
    out, pullback = sg.vjp(f, x)
    assert isinstance(out, list) and len(out) == 3
    seed = [rand(rng, (2,)) for _ in range(3)]
    (dx,) = pullback(seed)
    np.testing.assert_allclose(dx, ag_vjp(f_ag, (x,), 0, seed), rtol=1e-10)


def test_dict_display_and_dict_call_and_forward_mode(rng):
    f, f_ag = pair("""
def f(x, y):
    d = dict(a=x * y, b=np.exp(x))
    e = {"sum": d["a"] + d["b"], "prod": d["a"] * d["b"]}
    return np.sum(e["sum"]) + np.sum(e["prod"])
""")
    check_pair_two(f, f_ag, rng)
    value, tangent = sg.jvp(f, (rand(rng, (3,)), rand(rng, (3,))), (np.ones(3), np.zeros(3)))
    assert np.ndim(value) == 0 and np.ndim(tangent) == 0


def check_pair_two(f, f_ag, rng):
    from helpers import check_pair

    check_pair(f, f_ag, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_jvp_with_a_structured_tangent(rng):
    f, _ = pair("""
def f(p):
    return np.sum(np.sin(p["a"]) * p["b"][0]) + p["b"][1]
""")
    p = {"a": rand(rng, (3,)), "b": (rand(rng, (3,)), 0.3)}
    t = {"a": rand(rng, (3,)), "b": (rand(rng, (3,)), 1.0)}
    _, along = sg.jvp(f, (p,), (t,))
    g = sg.grad(f)(p)
    np.testing.assert_allclose(along, sum(np.sum(a * b) for a, b in zip(leaves_like(g, p), leaves(t))), rtol=1e-10)


def test_appending_to_an_argument_is_an_error(rng):
    src = """
def f(xs, x):
    xs.append(x)
    return np.sum(xs[0])
"""
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(sg.UnsupportedSyntax) as err:
        sg.grad(f, wrt=1)([rand(rng, (2,))], rand(rng, (2,)))
    assert "changes the caller's list" in str(err.value) and err.value.location.lineno == 3


@pytest.mark.parametrize("call", ["xs.pop()", "xs.extend([x])", "xs.insert(0, x)", "d.update(a=x)"])
def test_other_mutating_methods_are_errors(rng, call):
    src = f"""
def f(x):
    xs = [x]
    d = {{"a": x}}
    {call}
    return np.sum(xs[0]) + np.sum(d["a"])
"""
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(sg.UnsupportedSyntax) as err:
        sg.grad(f)(rand(rng, (2,)))
    assert "in place" in str(err.value) and err.value.location.lineno == 5


def test_autograd_sees_the_same_gradient_for_a_list_of_tuples(rng):
    src = """
def f(pairs):
    s = 0.0
    for a, b in pairs:
        s = s + np.sum(a * np.cos(b))
    return s
"""
    f, f_ag = pair(src)
    pairs = [(rand(rng, (2,)), rand(rng, (2,))) for _ in range(3)]
    g = check_tree_grad(f, (pairs,), 0, f_ag)
    expected = autograd.grad(f_ag)(pairs)
    for a, e in zip(leaves(g), leaves(list(expected))):
        np.testing.assert_allclose(a, e, rtol=1e-10)
    assert anp is not None


# A container built on every iteration but read on some only: its adjoint is the scalar zero 0.0
# on the others, which the adjoint of the display takes apart (`dt[0]`); it gets the container's
# structure first (the WHOLE marker in transform/reverse.py). This raised "'float' object is not
# subscriptable".
@pytest.mark.parametrize("display", ["(x * i, x)", "[x * i, x]", '{"a": x * i, "b": x}'])
def test_container_built_in_a_loop_and_read_on_some_iterations(display, rng):
    first, second = ("t['a']", "t['b']") if display.startswith("{") else ("t[0]", "t[1]")
    src = f"""
def f(x):
    s = 0.0
    for i in range(3):
        t = {display}
        if i != 1:
            s = s + np.sum(np.sin({first}) * {second})
    return s
"""
    f_np, f_ag = make(src)
    x = rand(rng, (3,))
    got = check_pair(f_np, f_ag, (x,))
    np.testing.assert_allclose(sg.hessian(f_np)(x), autograd.hessian(f_ag)(x), rtol=1e-9, atol=1e-12)
    assert got.shape == (3,)


# --- `+` of tuples and lists joins them --------------------------------------------------------


@pytest.mark.parametrize("kind", ["tuple", "list"])
def test_a_sequence_grown_with_plus_in_a_loop(kind, rng):
    """`out = out + (v,)` and `parts = parts + [v]` join sequences: the backward pass splits the
    cotangent again (it added them as numbers before, a silently wrong gradient)."""
    empty, one = ("()", "(x[i] ** 2 * w,)") if kind == "tuple" else ("[]", "[x[i] ** 2 * w]")
    f, f_ag = pair(f"""
def f(x, w):
    out = {empty}
    for i in range(3):
        out = out + {one}
    out += {one.replace("x[i]", "x[0]")}
    return np.sum(out[0] * out[2] + out[1] * out[3])
""")
    check_pair(f, f_ag, (rand(rng, (3,)), rand(rng, (2,))), wrt=(0, 1))
    x, w = rand(rng, (3,)), 0.7
    np.testing.assert_allclose(sg.hessian(f)(x, w), autograd.hessian(f_ag)(x, w), rtol=1e-9, atol=1e-12)


def test_sequence_arguments_copied_and_joined(rng):
    """`tuple(xs) + tuple(ys)` of arguments joins; `list(xs)` copies an argument, which may then
    be appended to (the caller's list is not changed)."""
    f, f_ag = pair("""
def f(xs, ys):
    zs = tuple(xs) + tuple(ys)
    return zs[0] * zs[3] + np.sum(zs[1] * zs[2])
""")
    xs, ys = (0.5, rand(rng, (2,))), (rand(rng, (2,)), -1.5)
    check_tree_grad(f, (xs, ys), 0, f_ag)
    check_tree_grad(f, (xs, ys), 1, f_ag)
    g, g_ag = pair("""
def g(xs, v):
    xs = list(xs)
    xs.append(v * 2.0)
    return np.sum(xs[0] * xs[2])
""")
    check_tree_grad(g, ([rand(rng, (2,)), 0.3], rand(rng, (2,))), 0, g_ag)
    check_pair(g, g_ag, ([rand(rng, (2,)), rand(rng, (2,))], rand(rng, (2,))), wrt=1)


def test_two_comprehensions_joined_with_plus(rng):
    """autograd's neural_net l2_norm: `[...] + [...]` of two comprehensions is a concatenation, and
    the argument iterated by both loops gets its two contributions added as trees (they were
    joined with `+`: "cannot add cotangents of lengths 4 and 2")."""
    f, f_ag = pair("""
def f(params):
    flat = np.concatenate([np.ravel(W) for W, b in params] + [np.ravel(b) for W, b in params])
    return np.dot(flat, flat * flat)
""")
    params = [(rand(rng, (2, 2)), rand(rng, (2,))), (rand(rng, (2, 1)), rand(rng, (1,)))]
    g = check_tree_grad(f, (params,), 0, f_ag)
    assert type(g) is list and all(type(p) is tuple for p in g)


def test_a_list_argument_used_by_two_joining_calls(rng):
    """`np.stack(xs)` and `np.concatenate(xs)` of one tuple argument: the two tuple cotangents are
    added part by part (`+` joined them: a gradient twice as long, silently)."""
    f, f_ag = pair("""
def f(xs):
    a = np.stack(xs)
    b = np.concatenate(xs)
    return np.sum(a ** 2) + np.sum(np.sin(b) * b)
""")
    g = check_tree_grad(f, ((rand(rng, (2,)), rand(rng, (2,))),), 0, f_ag)
    assert len(g) == 2


def test_plus_of_sequence_arguments_is_an_error_not_a_sum(rng):
    """`xs + ys` of two arguments: sourcegrad cannot tell at transformation time that they are
    sequences; when they are, the backward pass says so instead of adding their cotangents."""
    f = sg.exec_source("def f(xs, ys):\n    zs = xs + ys\n    return zs[0] * zs[3]\n", {"np": np})["f"]
    with pytest.raises(TypeError, match=r"`a \+ b` or `a \* n` made a tuple or list here.*list\(a\) \+ list\(b\)"):
        sg.grad(f)((1.0, 2.0), (3.0, 4.0))


# --- `*` of a tuple or list and an integer repeats it ----------------------------------------------


def test_repetition_of_sequences(rng):
    """`[w] * 3`, `(v,) * 2`, `2 * [a, b]` repeat: each copy's cotangent is summed back (they were
    multiplied as numbers before: the gradient of one copy only, silently)."""
    f, f_ag = pair("""
def f(x, w):
    ws = [w] * 3
    s = 0.0
    for v in ws:
        s = s + v ** 2
    hs = [x] * 2 + 2 * [x * w, np.sin(x)]
    ts = (x,) * 2
    return s + np.sum(hs[0] * hs[2] + hs[1] * hs[3] + hs[4] * hs[5] * ts[1])
""")
    check_pair(f, f_ag, (rand(rng, (3,)), rand(rng)), wrt=(0, 1))
    x, w = rand(rng, (3,)), 0.7
    np.testing.assert_allclose(sg.hessian(f)(x, w), autograd.hessian(f_ag)(x, w), rtol=1e-9, atol=1e-12)
    g, g_ag = pair("""
def g(xs, n):
    ys = tuple(xs) * n
    return ys[0] * ys[3] + np.sum([1.0, 2.0] * ys[1])
""")
    check_tree_grad(g, ((0.5, rand(rng, (2,))), 2), 0, g_ag)


def test_repetition_of_an_unknown_sequence_is_an_error_not_a_product(rng):
    """`xs * 2` of an argument: where it holds a list, the backward and forward passes say so
    instead of differentiating a product of numbers."""
    f = sg.exec_source("def f(xs):\n    ys = xs * 2\n    return ys[0] * ys[3]\n", {"np": np})["f"]
    with pytest.raises(TypeError, match=r"`a \* n` made a tuple or list here.*tuple\(a\) \* n"):
        sg.grad(f)([1.0, 2.0])
    # Forward mode repeats the tangent list as the primal repeats its list (a sequence cotangent of
    # the result's length passes unbroadcast as it is, for `xs[1:3] = [a, b]`): the right tangent.
    f_dot = sg.autodiff(f, mode="forward")
    assert f_dot([1.0, 2.0], [1.0, 0.0]) == pytest.approx(2.0) and f_dot([1.0, 2.0], [0.0, 1.0]) == pytest.approx(1.0)


def test_plus_of_an_array_and_a_tuple_adds_numbers(rng):
    f, f_ag = pair("""
def f(x):
    y = x + (1.0, 2.0, 3.0)
    z = [0.5, 0.25, 2.0] + y
    return np.sum(y * z)
""")
    check_pair(f, f_ag, (rand(rng, (3,)),))


def test_second_derivative_through_the_seed_of_a_list_sum(rng):
    """`sum([a, b])` differentiated twice, reverse over reverse, in the seed too: the adjoint of
    the list `[a, b]` in the gradient's own backward pass receives two list cotangents, added
    part by part (`+` joined them into a list of four and the seed's derivative lost half)."""
    f, _ = pair("""
def f(a, b):
    return sum([a, b])
""")
    a, b, u = rand(rng, (2, 3)), rand(rng, (2, 3)), rand(rng, (2, 3))
    df = sg.grad(f, wrt=(0, 1))
    w = (rand(rng, (2, 3)), rand(rng, (2, 3)))
    # d/du of <w, df(a, b, u)> is w[0] + w[1]: df is (u, u) whatever a and b are
    got = sg.vjp(df, a, b, u)[1](w)
    assert np.allclose(got[2], w[0] + w[1])
    assert np.allclose(got[0], 0.0) and np.allclose(got[1], 0.0)
    ag = autograd.grad(lambda u: sum(anp.sum(g * v) for g, v in zip(
        autograd.grad(lambda a, b, u: anp.sum(sum([a, b]) * u), (0, 1))(a, b, u), w)))(u)
    assert np.allclose(got[2], ag)


# The gradient of a list used through np.stack / np.concatenate / np.vstack is a list (it came
# back as the tuple that the rules' helpers make: sg.unstack, sg.unconcatenate, sg.unjoin).
def stacked_list(xs):
    return np.sum(np.stack(xs) ** 2)


def concatenated_list(xs):
    return np.sum(np.sin(np.concatenate(xs)) * 3.0)


def vstacked_in_a_dict(params):
    return np.sum(np.vstack(params["rows"]) ** 3) + np.sum(params["w"] ** 2)


def test_gradient_of_a_list_joined_by_numpy_is_a_list(rng):
    xs = [rand(rng, (3,)), rand(rng, (3,))]
    check_tree_grad(stacked_list, (xs,), f_ag=lambda xs: anp.sum(anp.stack(xs) ** 2))
    check_tree_grad(concatenated_list, (xs,), f_ag=lambda xs: anp.sum(anp.sin(anp.concatenate(xs)) * 3.0))
    params = {"rows": [rand(rng, (2,)), rand(rng, (2,))], "w": rand(rng, (2,))}
    check_tree_grad(vstacked_in_a_dict, (params,),
                    f_ag=lambda p: anp.sum(anp.vstack(p["rows"]) ** 3) + anp.sum(p["w"] ** 2))
    _, pullback = sg.vjp(stacked_list, xs)
    (g,) = pullback(1.0)
    assert type(g) is list
    np.testing.assert_allclose(g[1], 2 * xs[1], rtol=1e-12)
    assert type(sg.grad(stacked_list)(tuple(xs))) is tuple


def test_dict_of_a_dict_is_a_copy(rng):
    """`dict(d)` copies a dict, as `d.copy()` does (it raised NoRule; sourcegrad's own aliasing
    hint suggests it); `dict(pairs)` is refused when it runs."""
    src = """
def f(cfg, x):
    inner = dict(cfg["inner"])
    inner["w"] = inner["w"] * 2.0
    out = dict(cfg)
    out["inner"] = inner
    return np.sum(out["inner"]["w"] * x) + out["b"] * np.sum(cfg["inner"]["w"])
"""
    f_np, _ = make(src)
    cfg = {"inner": {"w": rand(rng, (3,))}, "b": rand(rng)}
    x = rand(rng, (3,))
    g = sg.grad(f_np, wrt=(0, 1))(cfg, x)
    eps = 1e-6
    for k in range(3):
        e = np.eye(3)[k] * eps
        plus = {"inner": {"w": cfg["inner"]["w"] + e}, "b": cfg["b"]}
        minus = {"inner": {"w": cfg["inner"]["w"] - e}, "b": cfg["b"]}
        np.testing.assert_allclose(g[0]["inner"]["w"][k], (f_np(plus, x) - f_np(minus, x)) / (2 * eps), rtol=1e-6)
    db = (f_np({**cfg, "b": cfg["b"] + eps}, x) - f_np({**cfg, "b": cfg["b"] - eps}, x)) / (2 * eps)
    np.testing.assert_allclose(g[0]["b"], db, rtol=1e-6)
    np.testing.assert_allclose(g[1], numeric_grad(lambda x: f_np(cfg, x), (x,)), rtol=1e-6)
    t = {"inner": {"w": rand(rng, (3,))}, "b": rand(rng)}
    expected = np.sum(g[0]["inner"]["w"] * t["inner"]["w"]) + g[0]["b"] * t["b"]
    np.testing.assert_allclose(sg.autodiff(f_np, mode="forward")(cfg, x, t), expected, rtol=1e-9)

    pairs = sg.exec_source("def h(x):\n    d = dict([('a', x)])\n    return d['a'] * 2.0\n", {})["h"]
    with pytest.raises(TypeError, match=r"dict\(x\) copies a dict"):
        sg.grad(pairs)(1.0)


# --- copies with fields replaced: p._replace(x=v), dataclasses.replace(obj, x=v) ----------------


@pytest.mark.parametrize("wrt", [0, 1])
def test_namedtuple_replace_of_an_argument(wrt, rng):
    src = """
def f(p, v):
    q = p._replace(w=v * p.w, b=np.sum(v) * p.b)
    r = q._replace(b=q.b + 1.0)
    return np.sum(np.tanh(r.w) * r.b) + np.sum(p.w * v)
"""
    f, f_ag = pair(src, Params=Params)
    p, v = Params(rand(rng, (3,)), 0.4), rand(rng, (3,))
    g = check_tree_grad(f, (p, v), wrt, f_ag)
    if wrt == 0:
        assert type(g) is Params


def test_namedtuple_replace_built_inside_kept_fields_get_their_gradient(rng):
    src = """
def f(a, b):
    p = Params(a, b)
    q = p._replace(w=a * b)
    return np.sum(q.w * q.b * a)
"""
    f, f_ag = pair(src, Params=Params)
    check_pair(f, f_ag, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


@pytest.mark.parametrize("frozen", [False, True])
def test_dataclasses_replace(frozen, rng):
    cls = dataclasses.make_dataclass("Pair", ["pos", "vel"], frozen=frozen)
    src = """
import dataclasses

def f(a, b):
    s = Pair(a, b)
    t = dataclasses.replace(s, pos=a * b, vel=np.sin(s.vel))
    u = dataclasses.replace(t, vel=t.vel * t.pos)
    return np.sum(u.pos * u.vel * s.pos)
"""
    f, f_ag = pair(src, Pair=cls)
    check_pair(f, f_ag, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_dataclasses_replace_of_an_argument_both_modes(rng):
    src = """
import dataclasses

def f(s, dt):
    moved = dataclasses.replace(s, pos=s.pos + dt * s.vel)
    return np.sum(moved.pos ** 2 * moved.vel)
"""
    f, f_ag = pair(src, State=State)
    s = State(rand(rng, (3,)), rand(rng, (3,)))
    g = check_tree_grad(f, (s, 0.3), 0, f_ag)
    assert type(g) is State
    check_tree_grad(f, (s, 0.3), 1, f_ag)


def test_replace_hessian_of_a_namedtuple_read_by_position(rng):
    base = Params(rand(rng, (3,)), rand(rng, (3,)))
    src = """
def f(v):
    q = BASE._replace(b=v * v)
    r = q._replace(w=np.sin(v) * q[0])
    return np.sum(r[0] * r[1] * v)
"""
    f, f_ag = pair(src, BASE=base)
    v = rand(rng, (3,))
    check_pair(f, f_ag, (v,))
    hessian = sg.hessian(f)(v)
    np.testing.assert_allclose(hessian, autograd.hessian(f_ag)(v), rtol=1e-9, atol=1e-12)
    grad = sg.grad(f)
    eps = 1e-6
    columns = [(grad(v + eps * e) - grad(v - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(hessian, np.stack(columns, axis=1), rtol=1e-6, atol=1e-8)


def test_replace_of_a_dataclass_with_post_init_is_refused(rng):
    @dataclasses.dataclass
    class Scaled:
        w: object
        twice: object = None

        def __post_init__(self):
            self.twice = 2.0 * self.w

    src = """
import dataclasses

def f(s, v):
    return np.sum(dataclasses.replace(s, w=v).twice)
"""
    f = sg.exec_source(src, {"np": np})["f"]
    with pytest.raises(TypeError, match="__post_init__"):
        sg.grad(f, wrt=1)(Scaled(np.ones(2)), np.ones(2))
