"""Parameters and arguments: defaults, keyword-only parameters, ``*args`` and ``**kwargs`` in user
functions called from the differentiated function, and calls with keywords or unpacking.

Each program is written once as source text and compared with finite differences (both modes) and
with autograd.
"""

import numpy as np
import pytest
from helpers import check_against_autograd, rand

import sourcegrad as sg


def test_keyword_only_parameter_of_a_callee(rng):
    src = """
def affine(x, *, w, b=0.5):
    return np.tanh(x * w + b)

def f(x, w):
    return np.sum(affine(x, w=w) + affine(x * 2.0, b=w, w=1.5))
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_keyword_only_parameter_of_the_differentiated_function(rng):
    src = """
def f(x, *, scale=2.0, w):
    return np.sum(np.sin(x * w) * scale)
"""
    f_np, _ = __import__("helpers").make(src)
    x, w = rand(rng, (3,)), rand(rng, (3,))
    got = sg.grad(f_np)(x, w=w)
    np.testing.assert_allclose(got, np.cos(x * w) * w * 2.0, rtol=1e-12)


def test_defaults_evaluated_once_and_overridden(rng):
    src = """
def poly(x, a=1.0, b=-0.5, c=0.25):
    return a + b * x + c * x * x

def f(x, y):
    return np.sum(poly(x) + poly(x, y) + poly(x, c=y) + poly(b=y, x=x))
"""
    check_against_autograd(src, (rand(rng, (3,)), rand(rng)), wrt=(0, 1))


# --- left out: *args and **kwargs in callees, unpacking in calls (docs/python-subset.md) -----------

STAR_CALLEE = """
def total(*terms):
    s = 0.0
    for t in terms:
        s = s + np.sum(t * t)
    return s

def f(x, y):
    return total(x, y, x * y)
"""

KWARGS_CALLEE = """
def layer(x, **params):
    return np.tanh(x * params["w"] + params["b"])

def f(x, w):
    return np.sum(layer(x, w=w, b=0.1))
"""

STAR_CALL = """
def mix(a, b, c):
    return a * np.sin(b) + c

def f(x, y):
    pair = (x, y)
    return np.sum(mix(*pair, x * y))
"""

STAR_PARAMETER = """
def f(x, *rest):
    return np.sum(x) + len(rest)
"""


@pytest.mark.parametrize(
    "src, line, words",
    [
        (STAR_CALLEE, 9, "*args/**kwargs"),
        (KWARGS_CALLEE, 6, "*args/**kwargs"),
        (STAR_CALL, 7, "unpacking with `*`"),
        (STAR_PARAMETER, 2, "*args"),
    ],
    ids=["star-args-callee", "kwargs-callee", "star-call", "star-parameter"],
)
def test_left_out_forms_raise_at_the_users_line(src, line, words, rng):
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])(rand(rng, (3,)), rand(rng, (3,)))
    assert words in str(err.value)
    assert err.value.location is not None and err.value.location.lineno == line
