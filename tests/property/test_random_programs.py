"""Random small programs, generated as source text, differentiated by sourcegrad and compared with
central finite differences and autograd.

Programs have two inputs v0, v1 (both floats, or both arrays of shape (3,)) and a few statements:
new variables, overwrites (of inputs too), augmented assignments, if/else on a value, and short
loops that carry a variable. Only operations that are smooth on the whole real line appear
(log and sqrt of 1 + a*a, division by 1 + b*b), so every program is defined everywhere; inputs
come from a seeded generator, so branch conditions sit away from their thresholds.
"""

import keyword

import numpy as np
from helpers import assert_grad_close, autograd_grad, make, numeric_grad
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import sourcegrad as sg

CONSTANTS = ["0.5", "1.3", "-0.7", "2.0"]
THRESHOLDS = ["-0.5", "0.0", "0.3"]
UNARY = [
    "np.sin({a})",
    "np.cos({a})",
    "np.tanh({a})",
    "np.exp(np.tanh({a}))",
    "np.log(1.0 + {a} * {a})",
    "np.sqrt(1.0 + {a} * {a})",
    "-{a}",
    "{a} * 0.5",
    "{a} ** 2",
]
BINARY = [
    "{a} + {b}",
    "{a} - {b}",
    "{a} * {b}",
    "{a} / (1.0 + {b} * {b})",
    "np.sin({a}) * {b}",
    "np.tanh({a}) + {b}",
]
AUGMENTED = ["+=", "-=", "*="]
SETTINGS = settings(max_examples=60, deadline=None)


def _operand(text):
    """Parenthesise anything that is not a name or a positive number."""
    if text.isidentifier() and not keyword.iskeyword(text):
        return text
    if text.replace(".", "", 1).isdigit():
        return text
    return f"({text})"


def _leaf(draw, names):
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(CONSTANTS))
    return draw(st.sampled_from(names))


def _expr(draw, names, depth, force_op=False):
    """An expression over names; with force_op, never a bare name (no aliasing of arrays)."""
    if depth == 0 or (not force_op and draw(st.integers(0, 2)) == 0):
        return _leaf(draw, names)
    if draw(st.booleans()):
        a = _operand(_expr(draw, names, depth - 1))
        return draw(st.sampled_from(UNARY)).format(a=a)
    a = _operand(_expr(draw, names, depth - 1))
    b = _operand(_expr(draw, names, depth - 1))
    return draw(st.sampled_from(BINARY)).format(a=a, b=b)


@st.composite
def programs(draw, array):
    """Source text of `def f(v0, v1): ...` returning np.sum of a late value."""
    names = ["v0", "v1"]
    lines = []
    last = "v1"

    def new_name():
        return f"v{len(names)}"

    def condition():
        var = draw(st.sampled_from(names))
        threshold = draw(st.sampled_from(THRESHOLDS))
        return f"np.sum({var}) > {threshold}" if array else f"{var} > {threshold}"

    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["new", "new", "overwrite", "augment", "branch", "loop"]))
        derived = names[2:]
        if kind == "augment" and derived:
            target = draw(st.sampled_from(derived))
            op = draw(st.sampled_from(AUGMENTED))
            lines.append(f"    {target} {op} {_expr(draw, names, 2, force_op=True)}")
        elif kind == "overwrite":
            target = draw(st.sampled_from(names))
            lines.append(f"    {target} = {_expr(draw, names, 2, force_op=True)}")
        elif kind == "branch":
            target = new_name()
            lines.append(f"    if {condition()}:")
            if draw(st.booleans()):
                other = draw(st.sampled_from(names))
                lines.append(f"        {other} = {_expr(draw, names, 2, force_op=True)}")
            lines.append(f"        {target} = {_expr(draw, names, 2, force_op=True)}")
            lines.append("    else:")
            lines.append(f"        {target} = {_expr(draw, names, 2, force_op=True)}")
            names.append(target)
        elif kind == "loop":
            target = draw(st.sampled_from(names))
            trips = draw(st.integers(1, 3))
            step = draw(st.sampled_from(BINARY)).format(
                a=target, b=_operand(_expr(draw, names, 1, force_op=True))
            )
            lines.append(f"    for i in range({trips}):")
            lines.append(f"        {target} = {step}")
        else:
            target = new_name()
            lines.append(f"    {target} = {_expr(draw, names, 2, force_op=True)}")
            names.append(target)
        last = target

    other = draw(st.sampled_from(names))
    result = draw(st.sampled_from([f"{last}", f"{last} * {other}", f"np.tanh({last}) + {other}"]))
    lines.append(f"    return np.sum({result})")
    return "def f(v0, v1):\n" + "\n".join(lines) + "\n"


def _inputs(seed, shape):
    rng = np.random.default_rng(seed)
    v0, v1 = rng.uniform(-1.5, 1.5, size=(2,) + shape)
    if shape == ():
        return float(v0), float(v1)
    return v0.copy(), v1.copy()


def _check(src, args):
    note(src)
    f_np, f_ag = make(src)
    with np.errstate(all="ignore"):
        value = f_np(*args)
        expected = numeric_grad(f_np, args, (0, 1))
    # Squares inside loops can blow values up; such programs say nothing about derivatives.
    assume(np.isfinite(value) and abs(value) < 1e3)
    assume(all(np.all(np.abs(g) < 1e3) for g in expected))
    got = sg.grad(f_np, wrt=(0, 1))(*args)
    assert_grad_close(got, expected, args, (0, 1), f_np, rtol=1e-5, atol=1e-6)
    reference = autograd_grad(f_ag, args, (0, 1))
    assert_grad_close(got, reference, args, (0, 1), f_np, rtol=1e-9, atol=1e-9, what="vs autograd")


@SETTINGS
@given(src=programs(array=False), seed=st.integers(0, 2**32 - 1))
def test_random_scalar_programs(src, seed):
    _check(src, _inputs(seed, ()))


@SETTINGS
@given(src=programs(array=True), seed=st.integers(0, 2**32 - 1))
def test_random_array_programs(src, seed):
    _check(src, _inputs(seed, (3,)))
