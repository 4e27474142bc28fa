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


# --- *args and **kwargs in callees --------------------------------------------------------------

VARIADIC = {
    "star-args-loop": """
def total(*terms):
    s = 0.0
    for t in terms:
        s = s + np.sum(t * t)
    return s

def f(x, y):
    return total(x, y, x * y)
""",
    "star-args-sum-len-index": """
def avg(*xs):
    return sum(xs) / len(xs) + xs[0] * xs[-1]

def f(x, y):
    return np.sum(avg(x, y, np.sin(x)) ** 2)
""",
    "kwargs-subscript": """
def layer(x, **params):
    return np.tanh(x * params["w"] + params["b"])

def f(x, w):
    return np.sum(layer(x, w=w, b=0.1) + layer(x, b=w, w=x))
""",
    "every-kind-of-parameter": """
def total(*terms):
    return sum(np.sum(t) for t in terms)

def mix(a, b=1.0, *rest, scale=2.0, **opts):
    return scale * a * b * total(*rest) + opts["shift"] * len(opts)

def f(x, y):
    return np.sum(mix(x, y, x, y * y, scale=3.0, shift=np.sum(y), unused=1.0) + mix(y, shift=x))
""",
    "passed-on": """
def inner(x, *args, **kw):
    s = x
    for a in args:
        s = s * a
    return s + kw["b"]

def outer(x, *args, **kw):
    return inner(x, *args, **kw) + len(args)

def f(x, y):
    return np.sum(outer(x, y, x, b=y) + outer(y, b=x))
""",
    "a-tuple-unpacked-into-star-args": """
def prod(*xs):
    p = 1.0
    for v in xs:
        p = p * v
    return p

def f(x, y):
    pair = (x, np.cos(y))
    return np.sum(prod(*pair) + prod(x, pair[1]))
""",
    "keyword-parameters-passed-by-name": """
def total(*terms, scale=1.0, **weights):
    return scale * sum(np.sum(t * t) for t in terms) + weights["bias"]

def outer(x, *args, scale=1.0, **kw):
    return x * total(*args, scale=scale, **kw)

def f(x, y):
    return np.sum(outer(x, y, x * y, scale=2.0, bias=np.sum(y)))
""",
    "nothing-extra": """
def scaled(x, *args, **kw):
    return x * (2.0 + len(args) + len(kw))

def f(x, y):
    return np.sum(scaled(x) * y)
""",
    "in-a-loop": """
def step(h, *weights):
    for w in weights:
        h = np.tanh(h * w)
    return h

def f(x, y):
    h = x
    for i in range(3):
        h = step(h, y, x)
    return np.sum(h)
""",
}


@pytest.mark.parametrize("name", sorted(VARIADIC))
def test_star_args_and_kwargs_of_a_callee(name, rng):
    check_against_autograd(VARIADIC[name], (rand(rng, (3,)), rand(rng, (3,))), wrt=(0, 1))


def test_second_derivatives_through_star_args(rng):
    ns = sg.exec_source(VARIADIC["star-args-loop"], {"np": np})
    f = ns["f"]
    x, y = rand(rng, (3,)), rand(rng, (3,))
    # total(x, y, x*y) = sum x^2 + y^2 + x^2 y^2: the Hessian in x is diagonal 2 + 2 y^2
    np.testing.assert_allclose(sg.hessian(f)(x, y), np.diag(2.0 + 2.0 * y * y), rtol=1e-12, atol=1e-12)
    v = rand(rng, (3,))
    np.testing.assert_allclose(sg.hvp(f)(x, y, v), (2.0 + 2.0 * y * y) * v, rtol=1e-12)


def test_generated_code_passes_a_tuple_and_a_dict(rng):
    ns = sg.exec_source(VARIADIC["every-kind-of-parameter"], {"np": np})
    text = str(sg.source(sg.grad(ns["f"], wrt=(0, 1))))
    assert "def mix_fwd(a, b=1.0, *, rest, scale=2.0, opts)" in text
    assert "rest=" in text and "opts=" in text


# --- left out: unpacking that cannot be bound, *args of the differentiated function -----------------

STAR_CALL = """
def mix(a, b, c):
    return a * np.sin(b) + c

def f(x, y):
    pair = (x, y)
    return np.sum(mix(*pair, x * y))
"""

STAR_BEFORE_PARAMETERS = """
def scale(a, *rest):
    return a * len(rest)

def f(x, y):
    pair = (x, y)
    return np.sum(scale(*pair))
"""

DOUBLE_STAR_AND_KEYWORDS = """
def layer(x, **params):
    return x * params["w"]

def f(x, y):
    kw = {"w": y}
    return np.sum(layer(x, b=1.0, **kw))
"""

DICT_MAY_HOLD_PARAMETERS = """
def total(*terms, scale=1.0, **weights):
    return scale * sum(np.sum(t * t) for t in terms) + weights["bias"]

def outer(x, *args, **kw):
    return x * total(*args, **kw)

def f(x, y):
    return np.sum(outer(x, y, x * y, scale=2.0, bias=np.sum(y)))
"""

STAR_INTO_LIBRARY = """
def f(x, y):
    pair = (x, y)
    return np.sum(np.maximum(*pair))
"""

STAR_PARAMETER = """
def f(x, *rest):
    return np.sum(x) + len(rest)
"""


@pytest.mark.parametrize(
    "src, line, words",
    [
        (STAR_CALL, 7, "takes no *args"),
        (STAR_BEFORE_PARAMETERS, 7, "cannot tell which parameters of scale"),
        (DOUBLE_STAR_AND_KEYWORDS, 7, "cannot tell which parameters of layer"),
        (DICT_MAY_HOLD_PARAMETERS, 6, "may hold parameters of total (scale)"),
        (STAR_INTO_LIBRARY, 4, "takes no *args"),
        (STAR_PARAMETER, 2, "*args"),
    ],
    ids=["star-call", "star-before-parameters", "double-star-and-keywords", "dict-may-hold-parameters", "star-into-library",
         "star-parameter"],
)
def test_left_out_forms_raise_at_the_users_line(src, line, words, rng):
    ns = sg.exec_source(src, {"np": np})
    with pytest.raises(sg.SourcegradError) as err:
        sg.grad(ns["f"])(rand(rng, (3,)), rand(rng, (3,)))
    assert words in str(err.value)
    assert err.value.location is not None and err.value.location.lineno == line


# --- *args, **kwargs and keyword-only parameters of methods called through objects ----------------

LAYER = """
class Layer:
    def __init__(self, W):
        self.W = W

    def __call__(self, x, *extra, scale=1.0, **opts):
        h = np.tanh(x @ self.W) * scale
        for e in extra:
            h = h + e
        return h + opts["bias"]

    def apply(self, x, *, shift):
        return x @ self.W + shift

def f(W, x, y):
    layer = Layer(W)
    return np.sum(layer(x, y, x, scale=2.0, bias=y) ** 2) + np.sum(layer.apply(x, shift=y) ** 2)

def g(layer, x, y):
    return np.sum(layer(x, y, bias=x * y) ** 2) + np.sum(layer.apply(x, shift=y) ** 2)
"""


def test_variadic_and_keyword_only_methods_through_objects(rng):
    args = (rand(rng, (3, 3)), rand(rng, (3,)), rand(rng, (3,)))
    check_against_autograd(LAYER, args, wrt=(1, 2), entry="f")  # Layer(W) of an active W: see test_classes


def test_gradient_of_an_object_through_a_variadic_call(rng):
    from helpers import numeric_grad

    ns = sg.exec_source(LAYER, {"np": np})
    W, x, y = rand(rng, (3, 3)), rand(rng, (3,)), rand(rng, (3,))
    dlayer, dx = sg.grad(ns["g"], wrt=(0, 1))(ns["Layer"](W), x, y)
    assert isinstance(dlayer, ns["Layer"])
    of_W = lambda W, x, y: ns["g"](ns["Layer"](W), x, y)
    expected_W, expected_x = numeric_grad(of_W, (W, x, y), wrt=(0, 1))
    np.testing.assert_allclose(dlayer.W, expected_W, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, expected_x, rtol=1e-6, atol=1e-8)
    v = rand(rng, (3,))
    g, Layer = ns["g"], ns["Layer"]
    x_dot = sg.jvp(lambda x: g(Layer(W), x, y), (x,), (v,))[1]
    np.testing.assert_allclose(x_dot, expected_x @ v, rtol=1e-6)
