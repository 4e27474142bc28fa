"""Assignment forms, operators, subscripts, constants, math and NumPy calls, broadcasting.

Each case is a small function written once as source text and checked against central finite
differences and autograd (`check_against_autograd`); a few are ordinary functions of this module,
which sourcegrad reads through inspect.
"""

import math

import autograd
import numpy as np
import pytest
from helpers import SHAPES, check_against_autograd, check_grad, make, positive, rand

import sourcegrad as sg

# --- assignment and unpacking ------------------------------------------------------------------

ASSIGN = {
    "copy_then_use": """
def f(x):
    y = x
    z = y * 2.0
    return np.sum(z * y)
""",
    "tuple_unpack_literal": """
def f(x):
    a, b = x * 2.0, x + 1.0
    return np.sum(a * b)
""",
    "tuple_unpack_variable": """
def f(x):
    t = (x, np.sin(x))
    a, b = t
    return np.sum(a * b)
""",
    "chained_assignment": """
def f(x):
    a = b = x * 3.0
    return np.sum(a * b + a)
""",
    "overwrite_same_name": """
def f(x):
    y = x * x
    y = np.sin(y)
    y = y * x
    return np.sum(y)
""",
    "unary_minus_plus": """
def f(x):
    y = -x
    z = +y
    return np.sum(-(-z) * np.sin(x))
""",
    "tuple_construction_and_indexing": """
def f(x):
    t = (x, x * 2.0, 3.0)
    return np.sum(t[0] * t[1] + t[2] * t[0])
""",
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", sorted(ASSIGN))
def test_assignment_forms(case, shape, rng):
    check_against_autograd(ASSIGN[case], (rand(rng, shape),))


@pytest.mark.parametrize("shape", SHAPES)
def test_swap_by_tuple_assignment(shape, rng):
    src = """
def f(x, y):
    a, b = x, y
    a, b = b, a * b
    return np.sum(a * 3.0 - b)
"""
    check_against_autograd(src, (rand(rng, shape), rand(rng, shape)), wrt=(0, 1))


# --- starred targets: `a, *rest = xs` -----------------------------------------------------------

STARRED = {
    "head_and_rest_of_list": """
def f(x):
    xs = [x, 2.0 * x, x * x]
    a, *rest = xs
    return np.sum(a * sum(rest) + rest[1])
""",
    "first_middle_last_of_tuple": """
def f(x):
    first, *mid, last = (x, np.sin(x), x * 3.0, x * x)
    return np.sum(first * last + mid[0] * mid[1])
""",
    "empty_middle": """
def f(x):
    first, *mid, last = [x, np.cos(x)]
    return np.sum(first * last) + len(mid)
""",
    "rows_of_an_array": """
def f(x):
    top, *others = np.stack([x, x * x, np.sin(x)])
    return np.sum(top * others[0] + others[1])
""",
    "rest_first_then_last": """
def f(x):
    *init, last = [x, 2.0 * x, x * x]
    return np.sum(sum(init) * last)
""",
    "nested_and_loop_targets": """
def f(x):
    (p, *q), r = (x, x * x, np.sin(x)), x * 2.0
    s = 0.0
    for u, *v in [(x, x * x), (np.cos(x), x, x * 3.0)]:
        s = s + u * sum(v)
    return np.sum(p * q[1] * r + s)
""",
    "rebinds_its_own_source": """
def f(x):
    xs = [x, x * x, x * 3.0]
    y, *xs = xs
    return np.sum(y * xs[0] + xs[1])
""",
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", sorted(STARRED))
def test_starred_assignment(case, shape, rng):
    check_against_autograd(STARRED[case], (rand(rng, shape),))


def test_starred_assignment_second_order(rng):
    src = STARRED["nested_and_loop_targets"]
    f, f_ag = make(src)
    x = rand(rng, (3,))
    np.testing.assert_allclose(sg.hessian(f)(x), autograd.hessian(f_ag)(x), rtol=1e-9, atol=1e-12)


def test_starred_assignment_of_too_few_values(rng):
    f, _ = make("""
def f(x):
    first, *mid, last = [x]
    return first * last
""")
    with pytest.raises(AssertionError, match="not enough values to unpack"):
        sg.grad(f)(0.5)


# --- arithmetic operators ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "%"])
def test_binary_operator(op, shape, rng):
    src = f"""
def f(x, y):
    z = x {op} y
    return np.sum(z * x)
"""
    check_against_autograd(src, (rand(rng, shape), positive(rng, shape)), wrt=(0, 1))


def floor_division(x, y):
    # autograd has no rule for //, so this case is checked against finite differences only.
    steps = x // 0.5
    return np.sum(steps * x * y + (y // x) * y)


@pytest.mark.parametrize("shape", SHAPES)
def test_floor_division(shape, rng):
    check_grad(floor_division, (positive(rng, shape), positive(rng, shape)), wrt=(0, 1))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("expr", ["x ** 2", "x ** 3.0", "x ** 0.5", "x ** -1.5", "2.0 ** x"])
def test_power_with_constant(expr, shape, rng):
    src = f"""
def f(x):
    return np.sum({expr})
"""
    check_against_autograd(src, (positive(rng, shape),))


@pytest.mark.parametrize("shape", SHAPES)
def test_power_with_variable_exponent(shape, rng):
    src = """
def f(x, y):
    return np.sum(x ** y)
"""
    check_against_autograd(src, (positive(rng, shape), rand(rng, shape)), wrt=(0, 1))


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4))],
    ids=["vec@vec", "mat@vec", "vec@mat", "mat@mat"],
)
def test_matmul_operator(shape_a, shape_b, rng):
    src = """
def f(a, b):
    return np.sum(np.sin(a @ b))
"""
    check_against_autograd(src, (rand(rng, shape_a), rand(rng, shape_b)), wrt=(0, 1))


# --- augmented assignment ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_augmented_assignment_on_local(shape, rng):
    src = """
def f(x, y):
    h = x * 2.0
    h += y
    h *= 2.0
    h -= x * y
    h /= 3.0
    h **= 2
    return np.sum(h)
"""
    check_against_autograd(src, (rand(rng, shape), rand(rng, shape)), wrt=(0, 1))


def test_augmented_assignment_on_scalar_parameters(rng):
    src = """
def f(x, y):
    x += y
    x *= 2
    y -= x * x
    return x * y
"""
    check_against_autograd(src, (rand(rng), rand(rng)), wrt=(0, 1))


def test_augmented_accumulator(rng):
    src = """
def f(x):
    s = 0.0
    s += np.sum(x)
    s += np.sum(x * x)
    s *= 0.5
    return s
"""
    check_against_autograd(src, (rand(rng, (2, 3)),))


# --- subscripts and slices (reading) -----------------------------------------------------------

SUBSCRIPTS = [
    ("x[0]", (3,)),
    ("x[-1] * x[0]", (3,)),
    ("x[1:]", (3,)),
    ("x[:2] * x[1:]", (3,)),
    ("x[::-1] * x", (3,)),
    ("x[0]", (2, 3)),
    ("x[:, 0]", (2, 3)),
    ("x[1, 2] * x[0, 1]", (2, 3)),
    ("x[:, 1:] * x[:, :2]", (2, 3)),
    ("x[::-1, ::2]", (2, 3)),
]


@pytest.mark.parametrize("expr, shape", SUBSCRIPTS, ids=[f"{e}-{s}" for e, s in SUBSCRIPTS])
def test_subscript_read(expr, shape, rng):
    src = f"""
def f(x):
    y = {expr}
    return np.sum(np.sin(y) * 2.0 + y)
"""
    check_against_autograd(src, (rand(rng, shape),))


def test_subscript_with_int_variable(rng):
    src = """
def f(x):
    i = 1
    j = i + 1
    return x[i] * x[j] + x[i - 1]
"""
    check_against_autograd(src, (rand(rng, (3,)),))


def test_subscript_with_int_argument(rng):
    src = """
def f(x, i):
    return np.sum(x[i] * x[i] + x[i + 1])
"""
    check_against_autograd(src, (rand(rng, (3, 2)), 1))


# --- constants ---------------------------------------------------------------------------------


def test_module_level_constants_in_source(rng):
    src = """
SCALE = 1.5
BIAS = np.array([0.1, -0.2, 0.3])

def f(x):
    return np.sum(np.tanh(SCALE * x + BIAS) * SCALE)
"""
    check_against_autograd(src, (rand(rng, (3,)),))


SCALE = 2.5
WEIGHTS = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def weighted(x):
    return np.sum(np.sin(x) * WEIGHTS) * SCALE + math.pi * np.sum(x)


def test_module_level_constants_in_this_file(rng):
    check_grad(weighted, (rand(rng, (2, 3)),))


# --- math functions on floats ------------------------------------------------------------------


def math_mix(x, y):
    a = math.sin(x) * math.exp(y) + math.cos(x * y)
    b = math.log(x) + math.sqrt(y) + math.tanh(x - y)
    return a * b + math.pi * x + math.e


@pytest.mark.parametrize("seed_shift", [0, 1])
def test_math_functions_on_floats(seed_shift, rng):
    x, y = positive(rng), positive(rng)
    check_grad(math_mix, (x + seed_shift, y), wrt=(0, 1))


def math_pow(x, y):
    return math.pow(x, y) + math.atan(x) + math.log1p(y) * x


def test_math_pow_and_friends(rng):
    check_grad(math_pow, (positive(rng), positive(rng)), wrt=(0, 1))


# --- NumPy functions ---------------------------------------------------------------------------

ELEMENTWISE = ["exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "square"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn", ELEMENTWISE)
def test_numpy_elementwise(fn, shape, rng):
    src = f"""
def f(x):
    return np.sum(np.{fn}(x) * x)
"""
    check_against_autograd(src, (positive(rng, shape),))


NUMPY_CALLS = {
    "sum": ("return np.sum(x * x)", [(2, 3)]),
    "sum_axis": ("return np.sum(np.sum(x * x, axis=0) * np.arange(3.0))", [(2, 3)]),
    "mean": ("return np.mean(np.sin(x))", [(2, 3)]),
    "mean_axis": ("return np.sum(np.mean(x, axis=1) * np.array([1.0, -2.0]))", [(2, 3)]),
    "dot_vectors": ("return np.dot(x, y) * np.dot(x, x)", [(3,), (3,)]),
    "dot_matrix_vector": ("return np.sum(np.tanh(np.dot(x, y)))", [(2, 3), (3,)]),
    "matmul": ("return np.sum(np.sin(np.matmul(x, y)))", [(2, 3), (3, 2)]),
    "maximum": ("return np.sum(np.maximum(x, y) * x)", [(2, 3), (2, 3)]),
    "maximum_const": ("return np.sum(np.maximum(x, 0.0) * y)", [(2, 3), (2, 3)]),
    "where": ("return np.sum(np.where(x > 0, x * y, -y))", [(2, 3), (2, 3)]),
    "reshape": (
        "return np.sum(np.sin(np.reshape(x, (3, 2))) * np.arange(6.0).reshape(3, 2))",
        [(2, 3)],
    ),
    "transpose": ("return np.sum(np.sin(np.transpose(x) @ y))", [(2, 3), (2, 2)]),
}


@pytest.mark.parametrize("case", sorted(NUMPY_CALLS))
def test_numpy_function(case, rng):
    body, shapes = NUMPY_CALLS[case]
    params = ["x", "y"][: len(shapes)]
    src = f"def f({', '.join(params)}):\n    {body}\n"
    args = tuple(rand(rng, s) for s in shapes)
    check_against_autograd(src, args, wrt=tuple(range(len(args))))


# --- broadcasting ------------------------------------------------------------------------------


def test_matrix_plus_vector_bias(rng):
    src = """
def f(x, W, b):
    return np.sum(np.tanh(x @ W + b))
"""
    args = (rand(rng, (2, 3)), rand(rng, (3, 4)), rand(rng, (4,)))
    check_against_autograd(src, args, wrt=(0, 1, 2))


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_scalar_times_array(shape, rng):
    src = """
def f(a, x):
    return np.sum(np.tanh(a * x) + x * a * a)
"""
    check_against_autograd(src, (rand(rng), rand(rng, shape)), wrt=(0, 1))


@pytest.mark.parametrize(
    "shape_x, shape_y", [((2, 1), (3,)), ((2, 3), (1, 3)), ((2, 3), ()), ((3,), (2, 1))]
)
def test_broadcasting_both_sides(shape_x, shape_y, rng):
    src = """
def f(x, y):
    return np.sum(np.sin(x * y) + x - y)
"""
    check_against_autograd(src, (rand(rng, shape_x), rand(rng, shape_y)), wrt=(0, 1))


# --- array methods and attributes --------------------------------------------------------------

METHODS = {
    "T": "return np.sum(np.sin(x.T @ x))",
    "sum_method": "return np.sin(x).sum()",
    "sum_method_axis": "return np.sum(x.sum(axis=1) * np.array([2.0, -1.0]))",
    "reshape_method": "return np.sum(x.reshape(3, 2) * np.arange(6.0).reshape(3, 2))",
    "reshape_method_tuple": "return np.sum(np.sin(x.reshape((6,))) * np.arange(6.0))",
    "mean_method_axis0": "return np.sum(np.tanh(x.mean(axis=0)) * np.arange(3.0))",
    "shape_divisor": "return np.sum(x * x) / x.shape[0]",
    "shape_both": "return np.sum(x) * x.shape[1] / (x.shape[0] + 1.0)",
}


@pytest.mark.parametrize("case", sorted(METHODS))
def test_array_methods_and_attributes(case, rng):
    src = f"def f(x):\n    {METHODS[case]}\n"
    check_against_autograd(src, (rand(rng, (2, 3)),))


def test_len_and_integer_counter(rng):
    src = """
def f(x):
    n = len(x)
    k = 0
    k = k + 1
    k += 2
    m = n * k
    return np.sum(x * x) / n + np.sum(x) * m
"""
    check_against_autograd(src, (rand(rng, (3,)),))


# --- comparisons as masks ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_comparison_mask(shape, rng):
    src = """
def f(x, y):
    mask = x > 0
    return np.sum((x > 0) * x + mask * y * x + (y <= 0.2) * y)
"""
    check_against_autograd(src, (rand(rng, shape), rand(rng, shape)), wrt=(0, 1))


# --- ordinary module-level functions -----------------------------------------------------------


def affine_tanh(x, W, b):
    h = np.tanh(x @ W + b)
    h2, s = h * h, np.sum(h)
    return np.sum(h2) + s * s


def test_module_function_affine(rng):
    args = (rand(rng, (2, 3)), rand(rng, (3, 2)), rand(rng, (2,)))
    check_grad(affine_tanh, args, wrt=(0, 1, 2))


def slices_and_methods(x):
    first = x[0]
    rest = x[1:]
    y = rest @ first.reshape(3, 1)
    return y.sum() + x.mean(axis=0).sum() / x.shape[0]


def test_module_function_slices_and_methods(rng):
    check_grad(slices_and_methods, (rand(rng, (3, 3)),))
