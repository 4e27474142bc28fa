"""Classes: gradients with respect to objects' array attributes, methods, ``__call__``, lists of
layers, inheritance and ``super()``, ``@property``, static and class methods, dataclasses,
``__slots__``, library functions kept in attributes.

A gradient with respect to an object is an object of the same class whose attributes hold the
gradients (``g.W`` for ``model.W``). Every program is written once as source text and run twice:
with NumPy for sourcegrad, and with autograd.numpy for autograd, which differentiates the same
class code when the object is rebuilt around its boxes (``tree_helpers``). Each gradient is
checked against central finite differences in reverse and forward mode, and against autograd.
"""

import collections
import itertools
import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import check_grad, check_pair, make, numeric_grad, positive, rand
from tree_helpers import check_tree_grad, leaves, leaves_like, replace

import sourcegrad as sg
from sourcegrad.runtime import trees

MODELS = '''
import dataclasses

class Linear:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b)


class MLP:
    def __init__(self, layers, scale):
        self.layers = layers
        self.scale = scale
        self.name = "mlp"   # not an array: its gradient is None
        self.depth = len(layers)

    def __call__(self, x):
        h = x
        for layer in self.layers:
            h = layer(h)
        return h * self.scale

    def loss(self, x, y):
        return np.sum((self(x) - y) ** 2)


def mlp_loss(model, x, y):
    return np.sum((model(x) - y) ** 2)


def method_loss(model, x, y):
    return model.loss(x, y) + 0.1 * np.sum(model.layers[0].W ** 2)


class Base:
    def __init__(self, w):
        self.w = w

    def forward(self, x):
        return np.sin(self.w * x)


class Child(Base):
    def __init__(self, w, gain):
        super().__init__(w)
        self.gain = gain

    def forward(self, x):
        return super().forward(x) * self.gain + self.w


def child_loss(model, x):
    return np.sum(model.forward(x) ** 2)


class Masked:
    def __init__(self, W, mask):
        self.W = W
        self.mask = mask

    @property
    def weight(self):
        return self.W * self.mask

    @staticmethod
    def act(z):
        return z / (1.0 + z * z)

    @classmethod
    def shift(cls, z):
        return z + 0.5

    def __call__(self, x):
        return self.act(self.shift(self.weight @ x))


def masked_loss(model, x):
    return np.sum(model(x) ** 2)


@dataclasses.dataclass
class Affine:
    A: object
    c: float


@dataclasses.dataclass(frozen=True)
class Frozen:
    A: object
    c: float


class Slotted:
    __slots__ = ("A", "c")

    def __init__(self, A, c):
        self.A = A
        self.c = c


def affine_loss(p, x):
    return np.sum(np.tanh(p.A @ x) * p.c) + p.c ** 2


class WithActivation:
    def __init__(self, W, activation):
        self.W = W
        self.activation = activation

    def __call__(self, x):
        return self.activation(self.W @ x)


def activation_loss(model, x):
    return np.sum(model(x))


class Scale:
    def __init__(self, s):
        self.s = s

    def __call__(self, x):
        return x * self.s


def stack_loss(layers, x):
    h = x
    for layer in layers:
        h = layer(h)
    return np.sum(h * h)
'''


@pytest.fixture(scope="module")
def ns():
    ns_np = sg.exec_source(MODELS, {"np": np})
    ns_ag = {"np": anp}
    exec(compile(MODELS, "<autograd twin>", "exec"), ns_ag)  # noqa: S102 - the twin
    return ns_np, ns_ag


def mlp(ns, rng, sizes=(3, 4, 2)):
    layers = [ns["Linear"](rng.normal(size=(m, n)), rng.normal(size=m)) for n, m in itertools.pairwise(sizes)]
    return ns["MLP"](layers, 1.5)


def twin(obj, ns_ag):
    """The same object built from the autograd namespace's classes (same arrays)."""
    if isinstance(obj, list):
        return [twin(o, ns_ag) for o in obj]
    if trees.is_node(obj):
        new = object.__new__(ns_ag[type(obj).__name__])
        for name in trees.fields(obj):
            object.__setattr__(new, name, twin(getattr(obj, name), ns_ag))
        return new
    return obj


def test_mlp_called_as_a_function_with_a_loop_over_layers(ns, rng):
    ns_np, ns_ag = ns
    model, x, y = mlp(ns_np, rng), rng.normal(size=3), rng.normal(size=2)
    g = check_tree_grad(ns_np["mlp_loss"], (model, x, y), 0, ns_ag["mlp_loss"], (twin(model, ns_ag), x, y))
    assert type(g) is ns_np["MLP"] and type(g.layers[1]) is ns_np["Linear"]
    assert g.name is None and g.depth == 0.0  # not differentiable: None; an int: a zero


def test_gradient_with_respect_to_the_object_and_an_array(ns, rng):
    ns_np, _ = ns
    model, x, y = mlp(ns_np, rng), rng.normal(size=3), rng.normal(size=2)
    g_model, g_x = sg.grad(ns_np["mlp_loss"], wrt=("model", "x"))(model, x, y)
    np.testing.assert_allclose(g_model.scale, sg.grad(ns_np["mlp_loss"])(model, x, y).scale, rtol=1e-12)
    np.testing.assert_allclose(g_x, sg.grad(ns_np["mlp_loss"], wrt="x")(model, x, y), rtol=1e-12)


def test_methods_calling_methods_and_reading_nested_attributes(ns, rng):
    ns_np, ns_ag = ns
    model, x, y = mlp(ns_np, rng), rng.normal(size=3), rng.normal(size=2)
    check_tree_grad(ns_np["method_loss"], (model, x, y), 0, ns_ag["method_loss"], (twin(model, ns_ag), x, y))


def test_unbound_method_differentiated_with_respect_to_self(ns, rng):
    ns_np, ns_ag = ns
    model, x, y = mlp(ns_np, rng), rng.normal(size=3), rng.normal(size=2)
    loss = ns_np["MLP"].loss
    check_tree_grad(loss, (model, x, y), 0, ns_ag["MLP"].loss, (twin(model, ns_ag), x, y))


def test_bound_method_gradient_in_its_arguments(ns, rng):
    ns_np, ns_ag = ns
    model, x, y = mlp(ns_np, rng), rng.normal(size=3), rng.normal(size=2)
    g = check_tree_grad(model.loss, (x, y), 0)
    import autograd

    np.testing.assert_allclose(g, autograd.grad(twin(model, ns_ag).loss)(x, y), rtol=1e-9)


def test_inheritance_and_super(ns, rng):
    ns_np, ns_ag = ns
    model, x = ns_np["Child"](rng.normal(size=3), 0.7), rng.normal(size=3)
    g = check_tree_grad(ns_np["child_loss"], (model, x), 0, ns_ag["child_loss"], (twin(model, ns_ag), x))
    assert set(vars(g)) == {"w", "gain"}


def test_property_staticmethod_and_classmethod(ns, rng):
    ns_np, ns_ag = ns
    model = ns_np["Masked"](rng.normal(size=(2, 3)), (rng.uniform(size=(2, 3)) > 0.3) * 1.0)
    x = rng.normal(size=3)
    g = check_tree_grad(ns_np["masked_loss"], (model, x), 0, ns_ag["masked_loss"], (twin(model, ns_ag), x))
    np.testing.assert_array_equal(g.W[model.mask == 0.0], 0.0)  # masked weights get no gradient


@pytest.mark.parametrize("kind", ["Affine", "Frozen", "Slotted"])
def test_dataclasses_frozen_dataclasses_and_slots(ns, rng, kind):
    ns_np, ns_ag = ns
    p, x = ns_np[kind](rng.normal(size=(2, 3)), 0.8), rng.normal(size=3)
    g = check_tree_grad(ns_np["affine_loss"], (p, x), 0, ns_ag["affine_loss"], (twin(p, ns_ag), x))
    assert type(g) is ns_np[kind]


def test_a_library_function_kept_in_an_attribute(ns, rng):
    ns_np, ns_ag = ns
    model, x = ns_np["WithActivation"](rng.normal(size=(2, 3)), np.tanh), rng.normal(size=3)
    model_ag = ns_ag["WithActivation"](model.W, anp.tanh)
    g = check_tree_grad(ns_np["activation_loss"], (model, x), 0, ns_ag["activation_loss"], (model_ag, x))
    assert g.activation is None


def test_the_same_class_with_a_user_function_in_the_attribute(ns, rng):
    ns_np, _ = ns
    model, x = ns_np["WithActivation"](rng.normal(size=(2, 3)), ns_np["Masked"].act), rng.normal(size=3)
    check_tree_grad(ns_np["activation_loss"], (model, x), 0)


def test_forward_mode_takes_a_tangent_object(ns, rng):
    ns_np, _ = ns
    model, x, y = mlp(ns_np, rng), rng.normal(size=3), rng.normal(size=2)
    tangent = replace(model, [np.ones_like(leaf) if isinstance(leaf, np.ndarray) else 1.0 for leaf in leaves(model)])
    along = sg.autodiff(ns_np["mlp_loss"], mode="forward")(model, x, y, tangent)
    g = sg.grad(ns_np["mlp_loss"])(model, x, y)
    np.testing.assert_allclose(along, sum(np.sum(leaf) for leaf in leaves_like(g, model)), rtol=1e-10)


def test_generated_source_reads_the_attributes(ns):
    text = sg.source(sg.grad(ns["MLP"].loss if isinstance(ns, dict) else ns[0]["MLP"].loss))
    assert "call_fwd(self, " in text  # self(x): a call through a value, resolved when it runs


def test_gradient_of_an_object_not_read_is_zero(ns, rng):
    src = '''
def f(model, x):
    return np.sum(x * 2.0)
'''
    f = sg.exec_source(src, {"np": np})["f"]
    model = ns[0]["Affine"](rng.normal(size=(2, 2)), 0.5)
    g = sg.grad(f)(model, rng.normal(size=2))
    assert type(g) is ns[0]["Affine"]
    np.testing.assert_array_equal(g.A, 0.0)
    assert g.c == 0.0


def test_a_list_of_layers_of_different_classes(ns, rng):
    ns_np, ns_ag = ns
    layers = [ns_np["Linear"](rng.normal(size=(3, 3)), rng.normal(size=3)), ns_np["Scale"](rng.normal(size=3)),
              ns_np["Linear"](rng.normal(size=(2, 3)), rng.normal(size=2))]
    x = rng.normal(size=3)
    g = check_tree_grad(ns_np["stack_loss"], (layers, x), 0, ns_ag["stack_loss"], (twin(layers, ns_ag), x))
    assert [type(item).__name__ for item in g] == ["Linear", "Scale", "Linear"]


def test_second_derivatives_through_an_object_are_a_clear_error(rng):
    """Left out (docs/python-subset.md): Hessians through methods called on objects."""

    class Scale:
        def __init__(self, w):
            self.w = w

        def __call__(self, x):
            return np.sum(np.tanh(x * self.w))

    def loss(x, model):
        return model(x) ** 2

    x, model = rand(rng, (3,)), Scale(rand(rng, (3,)))
    np.testing.assert_allclose(sg.grad(loss)(x, model), numeric_grad(loss, (x, model), 0), rtol=1e-6)
    with pytest.raises(sg.TransformError, match="resolved at run time") as err:
        sg.hessian(loss)(x, model)
    assert "sg.grad(sg.grad(f))" in err.value.hint


def test_object_attributes_named_like_array_attributes(rng):
    """`c.size`, `d.shape`, `g.T` of user objects are the objects' own attributes, with their
    derivatives (they were read as np.size/np.shape/np.transpose: a zero derivative, silently);
    `W.T` and `W.shape` of an array argument keep NumPy's meaning, twice differentiable."""
    import dataclasses

    @dataclasses.dataclass
    class Cell:
        size: float
        T: float
        shape: float

    ns = sg.exec_source("""
def f(c, W, x):
    y = W.T @ x * c.size + c.T ** 2 * c.shape
    return np.sum(np.tanh(y)) * W.shape[0] + W.ndim * x.size
""", {"np": np})
    f = ns["f"]
    c, W, x = Cell(1.5, 0.7, -0.4), rand(rng, (3, 2)), rand(rng, (3,))
    g = sg.grad(f)(c, W, x)
    h = 1e-6
    for name in ("size", "T", "shape"):
        up, down = dataclasses.replace(c, **{name: getattr(c, name) + h}), dataclasses.replace(c, **{name: getattr(c, name) - h})
        assert getattr(g, name) == pytest.approx((f(up, W, x) - f(down, W, x)) / (2 * h), rel=1e-6)
    dc = Cell(1.0, -0.5, 2.0)
    expected = sum(getattr(g, n) * getattr(dc, n) for n in ("size", "T", "shape"))
    assert sg.autodiff(f, mode="forward")(c, W, x, dc) == pytest.approx(expected, rel=1e-9)
    check_grad(lambda W, x: f(c, W, x), (W, x), wrt=(0, 1))
    hw = sg.hessian(f, wrt=1)(c, W, x)
    hx = sg.hessian(f, wrt=2)(c, W, x)
    assert hw.shape == (3, 2, 3, 2) and hx.shape == (3, 3)
    fd = (sg.grad(f, wrt=2)(c, W, x + h * np.eye(3)[0]) - sg.grad(f, wrt=2)(c, W, x - h * np.eye(3)[0])) / (2 * h)
    np.testing.assert_allclose(hx[0], fd, rtol=1e-5, atol=1e-8)


_GAS = '''
import dataclasses

@dataclasses.dataclass
class Gas:
    T: float
    size: float

def energy(g, x):
    return g.T * np.sum(x ** 2) / x.shape[0] + g.size * x.ndim

def loss(g, x):
    return energy(g, x) ** 2 + np.sum(x @ x.T)
'''


def test_parameters_read_as_arrays_are_specialised_under_a_guard(rng):
    """`W.T` and `W.shape[0]` of a parameter are NumPy's transpose and an inactive shape in the code
    shown (no helper call, no adjoint chain for the shape); a user object passed there is sent by a
    hidden guard to the general version, in every mode and through a callee's split pair."""
    ns = sg.exec_source(_GAS, {"np": np})
    gas, loss, energy = ns["Gas"], ns["loss"], ns["energy"]
    x = rand(rng, (4,))
    text = sg.source(sg.grad(energy, wrt=1))
    assert "array_attribute" not in text and "np.shape(x)" in text and "dx = " in text
    assert "unindex" not in text  # x.shape[0] carries no adjoint
    check_grad(lambda x: loss(gas(0.7, 1.3), x), (x,))
    g = sg.grad(loss)(gas(0.7, 1.3), x)  # an object where the specialised code assumed arrays
    h = 1e-6
    for name, up, down in (("T", gas(0.7 + h, 1.3), gas(0.7 - h, 1.3)), ("size", gas(0.7, 1.3 + h), gas(0.7, 1.3 - h))):
        assert getattr(g, name) == pytest.approx((loss(up, x) - loss(down, x)) / (2 * h), rel=1e-6)
    tangent = sg.autodiff(loss, mode="forward")(gas(0.7, 1.3), x, gas(1.0, -2.0))
    assert tangent == pytest.approx(g.T - 2.0 * g.size, rel=1e-9)
    hx = sg.hessian(lambda x: loss(gas(0.7, 1.3), x))(x)
    fd = np.stack([(sg.grad(loss, wrt=1)(gas(0.7, 1.3), x + h * e) - sg.grad(loss, wrt=1)(gas(0.7, 1.3), x - h * e)) / (2 * h)
                   for e in np.eye(4)])
    np.testing.assert_allclose(hx, fd, rtol=1e-5, atol=1e-7)
    ddf = sg.grad(sg.grad(energy, wrt=1), wrt=1)  # the assumption carried to the second derivative
    assert "array_attribute" not in sg.source(ddf)
    np.testing.assert_allclose(ddf(gas(0.7, 1.3), x), 2 * 0.7 * np.ones(4) / 4, rtol=1e-12)


def test_a_rebound_parameter_is_not_assumed_plain(rng):
    ns = sg.exec_source('''
def f(c, x):
    if x.ndim > 1:
        c = c.T
    return np.sum(c.T * x)
''', {"np": np})
    text = sg.source(sg.grad(ns["f"]))
    assert "array_attribute(c, 'T')" in text
    check_grad(ns["f"], (rand(rng, (2, 3)), rand(rng, (2, 3))))


# An int attribute is a constant: its gradient is 0.0 (it was the exponent's derivative, nan for a
# negative base) and forward mode ignores what the tangent object holds there (it read the int as
# a tangent).
class PowerOf:
    def __init__(self, w, n):
        self.w = w
        self.n = n


PowerPair = collections.namedtuple("PowerPair", "w n")


def power_sum(m):
    return np.sum(m.w ** m.n) + np.sum(m.w * m.n)


@pytest.mark.parametrize("make", [PowerOf, PowerPair])
def test_int_attribute_gets_a_zero_gradient_and_no_tangent(make):
    w = np.array([0.5, -1.0, 2.0])
    g = check_tree_grad(power_sum, (make(w, 3),))
    assert g.n == 0.0 and type(g.n) is float
    along = sg.autodiff(power_sum, mode="forward")(make(w, 3), make(np.ones(3), 2))
    np.testing.assert_allclose(along, np.sum(3 * w ** 2 + 3), rtol=1e-12)


# A user method named like an array method, called through the class (the documented remedy):
# `type(m).sum` was read as the array method `.sum` of the value `type(m)` (a zero gradient).
class SquareSum:
    def __init__(self, w):
        self.w = w

    def sum(self):
        return np.sum(self.w ** 2)


def sum_through_type(m):
    return type(m).sum(m) * 2.0


def test_a_method_named_like_an_array_method_called_through_type():
    w = np.array([0.5, -1.0, 2.0])
    g = check_tree_grad(sum_through_type, (SquareSum(w),))
    np.testing.assert_allclose(g.w, 4 * w, rtol=1e-12)


# `m.sum()` of a user object that defines `sum`: the object's own method (it was read as
# `np.sum(m)`: a gradient of ones in reverse mode, the method called on the tangent in forward mode).
class Weighted:
    def __init__(self, w, c):
        self.w, self.c = w, c

    def sum(self):
        return np.sum(self.w ** 2) * self.c

    def dot(self, x):
        return np.sum(np.sin(self.w) * x)


def _same(m):
    return m


def own_sum_of_a_parameter(m):
    return m.sum() * 2.0


def own_methods_of_values(m, x):
    b = _same(m)                     # not surely an array: decided when the code runs
    return b.sum() + b.dot(x) + [m][0].sum()


def test_a_method_named_like_an_array_method_is_the_objects_own(rng):
    w, x = rand(rng, (3,)), rand(rng, (3,))
    m = Weighted(w, 1.5)
    g = check_tree_grad(own_sum_of_a_parameter, (m,),
                        f_ag=lambda m: anp.sum(m.w ** 2) * m.c * 2.0)
    np.testing.assert_allclose(g.w, 6.0 * w, rtol=1e-12)
    ag = lambda m, x: 2 * anp.sum(m.w ** 2) * m.c + anp.sum(anp.sin(m.w) * x)
    check_tree_grad(own_methods_of_values, (m, x), wrt=0, f_ag=ag)
    check_tree_grad(own_methods_of_values, (m, x), wrt=1, f_ag=ag)


def array_methods_of_values(x):
    h = _same(x)
    return (h ** 3).sum() + h.mean() + x.dot(h)


def test_array_methods_stay_numpy_and_differentiate_twice(rng):
    """An array parameter's `x.sum()` is `np.sum(x)` with no run-time test (sourcegrad.plain's
    guard sends a user object elsewhere); a value not surely an array is tested when the code runs
    and, holding an array, differentiates again."""
    import autograd

    x = rand(rng, (3,))
    assert "own_method" not in sg.source(sg.grad(own_sum_of_a_parameter))
    check_grad(array_methods_of_values, (x,))
    ag = lambda x: anp.sum(x ** 3) + anp.mean(x) + anp.dot(x, x)
    np.testing.assert_allclose(sg.grad(array_methods_of_values)(x), autograd.grad(ag)(x), rtol=1e-12)
    np.testing.assert_allclose(sg.hessian(array_methods_of_values)(x), autograd.hessian(ag)(x), rtol=1e-10)
    np.testing.assert_allclose(sg.grad(own_sum_of_a_parameter)(x), 2.0 * np.ones(3), rtol=1e-12)


BOUND_METHODS = '''
import dataclasses

@dataclasses.dataclass
class Point:
    x: float
    y: float

    @classmethod
    def polar(cls, r, t):
        return cls(r * np.cos(t), r * np.sin(t))

    @classmethod
    def squared_radius(cls, r, t):
        return (r * np.cos(t)) ** 2 + (r * np.sin(t)) ** 2 * cls.STRETCH

Point.STRETCH = 1.5

class Scaled:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        return np.tanh(self.W @ x)

MODEL = Scaled(np.array([[1.0, -0.5], [0.3, 0.8]]))

def through_class(r, t):
    p = Point.polar(r, t)
    return (p.x + 1.0) ** 2 + p.y ** 2

def plain(r, t):
    return Point.squared_radius(r, t) * np.sin(r) + np.sum(MODEL.forward(np.array([r, t])))
'''


@pytest.mark.parametrize("entry", ["through_class", "plain"])
def test_methods_bound_at_module_level(rng, entry):
    """``Point.polar(r, t)`` (a classmethod read from its class) and ``MODEL.forward(x)`` (a method of
    a module-level object) are calls of the methods' functions with the class or object first: they
    raised NoRule, as if the bound method were a library function."""
    f_np, f_ag = make(BOUND_METHODS, entry=entry)
    args = (0.5 + positive(rng), rand(rng))
    check_pair(f_np, f_ag, args, wrt=(0, 1))
    if entry == "plain":  # no object built: twice differentiable
        for k in (0, 1):
            second = autograd.grad(autograd.grad(f_ag, k), k)(*args)
            np.testing.assert_allclose(sg.hessian(f_np, wrt=k)(*args), second, rtol=1e-9, atol=1e-12)


# --- array-method names read from what is not an array -------------------------------------------


def _notes(error) -> str:
    return "\n".join(getattr(error, "__notes__", []))


NOTES = sys.version_info >= (3, 11)  # exception notes (naming the user's line) exist from 3.11


def test_a_module_kept_in_an_attribute_is_refused_not_read_as_an_array(rng):
    src = """
import numpy

class Backend:
    def __init__(self, w):
        self.xp = numpy
        self.w = w

    def energy(self, y):
        return self.xp.sum(y * self.w)

def f(y, model):
    return model.energy(y) * 2.0
"""
    ns = sg.exec_source(src, {"np": np})
    model = ns["Backend"](rand(rng, (3,)))
    for mode in ("reverse", "forward"):
        with pytest.raises(TypeError, match="module `numpy` held in a value") as info:
            if mode == "reverse":
                sg.grad(ns["f"])(rand(rng, (3,)), model)
            else:
                sg.autodiff(ns["f"], mode="forward", wrt=0)(rand(rng, (3,)), model, rand(rng, (3,)))
        assert not NOTES or "return self.xp.sum(y * self.w)" in _notes(info.value)


class _NoSum:
    def __init__(self, w):
        self.w = w


@pytest.mark.parametrize("where", ["parameter", "built inside"])
def test_an_array_method_of_an_object_that_does_not_define_it_names_the_line(where, rng):
    src = """
def f(y, w):
    m = NoSum(w)
    return m.sum() * np.sum(y)
""" if where == "built inside" else """
def f(y, m):
    return m.sum() * np.sum(y)
"""
    f = sg.exec_source(src, {"np": np, "NoSum": _NoSum})["f"]
    second = rand(rng, (3,)) if where == "built inside" else _NoSum(rand(rng, (3,)))
    with pytest.raises(TypeError, match="NoSum object, whose class defines no method 'sum'") as info:
        sg.grad(f)(rand(rng, (3,)), second)
    assert not NOTES or "m.sum() * np.sum(y)" in _notes(info.value)
