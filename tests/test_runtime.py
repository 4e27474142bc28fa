"""The runtime helpers that generated code calls, checked numerically."""

import pickle

import numpy as np
import pytest

from sourcegrad import runtime as sg

rng = np.random.default_rng(0)


def test_exports_exactly_the_documented_names():
    assert sorted(sg.__all__) == sorted(
        [
            "Tape",
            "push",
            # a backward loop that inserted code stopped early (runtime/tape.py)
            "depth",
            "truncate",
            # check_nan=True (runtime/checks.py)
            "check_finite",
            "NonFiniteGradient",
            # in-place updates (runtime/inplace.py)
            "setitem",
            "update",
            "clear_written",
            "clear",
            "written",
            "unwritten",
            # dicts: their keys in loops, d.get, d.copy(), dict(d), what a loop iterates (runtime/dicts.py)
            "keys",
            "has_key",
            "copy",
            "dict_copy",
            "iterated",
            "uniterated",
            "iterated_tangent",
            # objects and calls through values (runtime/trees.py, dispatch.py)
            "attribute_tangent",
            "call",
            "unattribute",
            "replace_field",
            "unreplace_field",
            "replace_field_tangent",
            "field_cotangent",
            "with_field",
            "seed_like",
            "unseed",
            "whole",
            "unsequence",
            "sequence_tangent",
            # attributes of values not surely arrays, repetition of sequences (attributes.py, sequences.py)
            "array_attribute",
            "array_attribute_tangent",
            "own_method",
            "unarray_attribute",
            # array methods with rules (attributes.py): x.astype(...), x.item(...)
            "astype",
            "item",
            "item_tangent",
            "unitem",
            # the items Python's max, min and sorted pick (runtime/choices.py)
            "max_index",
            "permuted",
            "unpermuted",
            "permuted_tangent",
            "min_index",
            "sort_order",
            "repeat_sequence",
            "repeat_sequence_tangent",
            "unrepeat_sequence",
            "unrepeat_sequence_tangent",
            "unrepeat_sequence_count",
            "unrepeat_sequence_count_tangent",
            "count_transpose",
            "count_transpose_xs",
            # ranges and powers (runtime/creation.py, powers.py)
            "arange_adjoint",
            "arange_tangent",
            "at_axis",
            "linspace_adjoint",
            "linspace_tangent",
            "scalar_base",
            "spaced_axis",
            "spaced_weights",
            "power_log",
            "power_slope",
            "power_slope_dy",
            "scaled",
            "pop",
            "unbroadcast",
            "unbroadcast_to",
            "rebroadcast",
            "unreduce",
            "unindex",
            "zeros_like",
            "add",
            "concat_tangent",
            "unconcat",
            "dot_adjoint_a",
            "dot_adjoint_b",
            "matmul_adjoint_a",
            "matmul_adjoint_b",
            # NumPy adjoints too complex for one line of a rule table (runtime/arrays.py, linalg.py)
            "average_adjoint",
            "einsum_jvp",
            "einsum_replaced",
            "einsum_vjp",
            "norm_grad",
            "ties",
            "unarray",
            "undiag",
            "undiagonal",
            "unrepeat",
            "untake",
            "untake_along_axis",
            "untile",
            "cholesky_adjoint",
            "cholesky_tangent",
            "eigh_adjoint",
            "eigh_tangent",
            "eigvalsh_adjoint",
            "matrix_power_adjoint",
            "matrix_power_tangent",
            "pinv_adjoint",
            "pinv_tangent",
            "qr_adjoint",
            "qr_tangent",
            "solve_adjoint_a",
            "solve_adjoint_b",
            "svd_adjoint",
            "svd_tangent",
            "median_weights",
            "unconcatenate",
            "undiff",
            "average_weights",
            "average_tangent",
            "tensordot_vjp",
            "kron_vjp",
            "unjoin",
            "unstack",
            "unpad",
            "unsort",
            "unselect",
            # NumPy 2 names, statistics, shapes, sequences (runtime/linalg.py, stats.py, shapes.py, signal.py)
            "append_tangent",
            "as_columns",
            "piecewise_adjoint",
            "piecewise_tangent",
            "piecewise_values_adjoint",
            "piecewise_values_tangent",
            "block_of",
            "unblock",
            "broadcast_tangents",
            "cast_derivative",
            "cond_grad",
            "convolve_adjoint",
            "corrcoef_adjoint",
            "corrcoef_tangent",
            "correlate_adjoint",
            "cov_adjoint",
            "cov_tangent",
            "ediff1d_tangent",
            "gradient_adjoint",
            "gradient_tangent",
            "index_trick",
            "index_trick_tangent",
            "insert_tangent",
            "interp_adjoint",
            "interp_tangent",
            "lstsq_adjoint",
            "lstsq_tangent",
            "meshgrid_tangent",
            "multi_dot_adjoint",
            "multi_dot_tangent",
            "permutation_of",
            "quantile_adjoint",
            "quantile_q_adjoint",
            "quantile_tangent",
            "reappend",
            "reinsert",
            "rollaxis_destination",
            "running_sum",
            "svdvals_adjoint",
            "svdvals_tangent",
            "tensorinv_adjoint",
            "tensorinv_tangent",
            "trapezoid_dx_adjoint",
            "trapezoid_tangent",
            "trapezoid_weights",
            "trapezoid_x_adjoint",
            "unappend",
            "unchoose",
            "uncumsum",
            "undelete",
            "unediff1d",
            "unindex_trick",
            "uninsert",
            "unmeshgrid",
            "unresize",
            "vander_derivative",
            "vector_norm_grad",
        ]
    )


# --- tape ---
def test_tape_is_a_last_in_first_out_stack():
    tape = sg.Tape()
    sg.push(tape, 1.0)
    sg.push(tape, np.ones(2))
    assert isinstance(tape, list) and len(tape) == 2
    np.testing.assert_array_equal(sg.pop(tape), np.ones(2))
    assert sg.pop(tape) == 1.0
    assert not tape
    with pytest.raises(IndexError):
        sg.pop(tape)


def test_tape_has_no_instance_dict():
    with pytest.raises(AttributeError):
        sg.Tape().anything = 1
    assert pickle.loads(pickle.dumps(sg.Tape([1, 2]))) == [1, 2]


# --- unbroadcast ---
@pytest.mark.parametrize(
    "gshape, xshape",
    [
        ((2, 3), (2, 3)),
        ((2, 3), (3,)),
        ((2, 3), (1, 3)),
        ((2, 3), (2, 1)),
        ((2, 3), ()),
        ((4, 2, 3), (2, 1)),
        ((4, 2, 3), (1, 1, 3)),
        ((5,), (1,)),
    ],
)
def test_unbroadcast_is_the_adjoint_of_broadcasting(gshape, xshape):
    x, g = rng.normal(size=xshape), rng.normal(size=gshape)
    out = sg.unbroadcast(g, x)
    assert np.shape(out) == xshape
    # <g, broadcast(v)> == <unbroadcast(g), v>
    v = rng.normal(size=xshape)
    np.testing.assert_allclose(np.sum(g * np.broadcast_to(v, gshape)), np.sum(out * v))


@pytest.mark.parametrize(
    "hshape, gshape",
    [((3,), (2, 3)), ((2, 3), (3,)), ((2, 3), ()), ((), (2, 3)), ((1, 3), (2, 1)), ((2, 3), (2, 3))],
)
def test_rebroadcast_is_the_transpose_of_unbroadcast_either_way(hshape, gshape):
    # unbroadcast(g, x) sums g down to x or broadcasts it up (a scalar 0.0 standing for an array's
    # zero); rebroadcast(h, g), its transpose in g, brings h back to g's shape the other way.
    g, h = rng.normal(size=gshape), rng.normal(size=hshape)
    out = sg.rebroadcast(h, g)
    assert np.shape(out) == gshape
    fit = sg.rebroadcast(g, h)  # g brought to h's shape: the linear map whose transpose out is
    np.testing.assert_allclose(np.sum(fit * h), np.sum(g * out))
    assert sg.rebroadcast(np.ones((2, 3)), 0.0) == 6.0


def test_unbroadcast_fast_paths_return_g_itself():
    g = np.ones((2, 3))
    assert sg.unbroadcast(g, np.zeros((2, 3))) is g
    assert sg.unbroadcast(2.5, 1.0) == 2.5
    assert sg.unbroadcast(2.5, np.float64(1.0)) == 2.5


def test_unbroadcast_to_python_scalar_sums_to_a_numpy_scalar():
    out = sg.unbroadcast(np.full((2, 3), 0.5, np.float32), 3.0)
    assert out == 3.0 and isinstance(out, np.float32)


def test_unbroadcast_keeps_float32():
    out = sg.unbroadcast(np.ones((4, 3), np.float32), np.ones(3, np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, 4.0)


def test_unbroadcast_scalar_cotangent_of_an_array_broadcasts_up():
    np.testing.assert_array_equal(sg.unbroadcast(2.0, np.zeros((2, 2))), np.full((2, 2), 2.0))


# --- unreduce ---
@pytest.mark.parametrize(
    "shape, axis, keepdims",
    [
        ((2, 3), None, False),
        ((2, 3), None, True),
        ((2, 3), 0, False),
        ((2, 3), -1, False),
        ((2, 3), 1, True),
        ((2, 3, 4), (0, 2), False),
        ((2, 3, 4), (-1, 0), True),
        ((3,), 0, False),
    ],
)
def test_unreduce_is_the_adjoint_of_sum(shape, axis, keepdims):
    x = rng.normal(size=shape)
    y = np.sum(x, axis=axis, keepdims=keepdims)
    g = rng.normal(size=np.shape(y))
    out = sg.unreduce(g, x, axis, keepdims)
    assert out.shape == shape
    v = rng.normal(size=shape)
    np.testing.assert_allclose(np.sum(g * np.sum(v, axis=axis, keepdims=keepdims)), np.sum(out * v))


def test_unreduce_of_scalars():
    assert sg.unreduce(1.5, 2.0) == 1.5
    np.testing.assert_array_equal(sg.unreduce(1.5, np.zeros(3)), [1.5, 1.5, 1.5])


# --- unindex ---
@pytest.mark.parametrize(
    "idx",
    [
        1,
        -1,
        slice(1, 3),
        (0, slice(None)),
        (Ellipsis, 1),
        (None, 0),
        np.array([0, 2, 2]),
        np.array([True, False, True, False]),
        (np.array([0, 0, 1]), np.array([1, 1, 2])),
        ([1, 1],),
    ],
    ids=repr,
)
def test_unindex_is_the_adjoint_of_indexing(idx):
    x = rng.normal(size=(4, 3))
    g = rng.normal(size=np.shape(x[idx]))
    out = sg.unindex(g, x, idx)
    assert out.shape == x.shape
    v = rng.normal(size=x.shape)
    np.testing.assert_allclose(np.sum(g * v[idx]), np.sum(out * v))


def test_unindex_dtypes():
    assert sg.unindex(np.float32(1.0), np.zeros(3, np.float32), 0).dtype == np.float32
    assert sg.unindex(1.0, np.zeros(3, np.float32), 0).dtype == np.float32
    assert sg.unindex(1.0, np.arange(3), 0).dtype == np.float64


def test_unindex_of_containers():
    out = sg.unindex(2.0, (1.0, np.ones(2), 3.0), 2)
    assert isinstance(out, tuple) and out[0] == 0.0 and out[2] == 2.0
    np.testing.assert_array_equal(out[1], [0.0, 0.0])
    out = sg.unindex([5.0, 6.0], [1.0, 2.0, 3.0], slice(1, None))
    assert out == [0.0, 5.0, 6.0] and isinstance(out, list)
    assert sg.unindex(3.0, {"a": 1.0, "b": 2.0}, "b") == {"a": 0.0, "b": 3.0}


# --- zeros_like ---
def test_zeros_like():
    assert sg.zeros_like(3.0) == 0.0 and type(sg.zeros_like(3)) is float
    assert type(sg.zeros_like(True)) is float
    z = sg.zeros_like(np.ones((2, 3), np.float32))
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.any()
    assert sg.zeros_like(np.arange(3)).dtype == np.float64
    assert type(sg.zeros_like(np.float32(2.0))) is np.float32
    assert type(sg.zeros_like(np.int64(2))) is np.float64
    z = sg.zeros_like((1.0, [np.ones(2), 2.0], {"k": 3.0}))
    assert z[0] == 0.0 and isinstance(z[1], list) and z[2] == {"k": 0.0}
    np.testing.assert_array_equal(z[1][0], [0.0, 0.0])
    assert sg.zeros_like("mode") is None


# --- add ---
def test_add():
    assert sg.add(1.0, 2.0) == 3.0
    np.testing.assert_array_equal(sg.add(np.ones(2), 1.0), [2.0, 2.0])
    assert sg.add((1.0, [2.0]), (3.0, [4.0])) == (4.0, [6.0])
    assert sg.add({"a": 1.0}, {"a": 2.0, "b": 1.0}) == {"a": 3.0, "b": 1.0}
    pair = (np.ones(2), 2.0)
    assert sg.add(0.0, pair) is pair and sg.add(pair, 0.0) is pair
    assert sg.add({"a": 1.0}, 0.0) == {"a": 1.0}
    assert sg.add(None, 2.0) == 2.0 and sg.add((None, 1.0), (3.0, None)) == (3.0, 1.0)


def test_add_does_not_write_into_its_arguments():
    a, b = np.ones(2), np.ones(2)
    sg.add(a, b)
    np.testing.assert_array_equal(a, [1.0, 1.0])


# --- matmul adjoints: the dot-product test against central finite differences ---
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
]


@pytest.mark.parametrize("ashape, bshape", MATMUL_SHAPES, ids=str)
def test_matmul_adjoints(ashape, bshape):
    a, b = rng.normal(size=ashape), rng.normal(size=bshape)
    z = a @ b
    u = rng.normal(size=np.shape(z))
    va, vb = rng.normal(size=ashape), rng.normal(size=bshape)
    eps = 1e-6
    jv = ((a + eps * va) @ (b + eps * vb) - (a - eps * va) @ (b - eps * vb)) / (2 * eps)
    ga, gb = sg.matmul_adjoint_a(u, a, b), sg.matmul_adjoint_b(u, a, b)
    assert np.shape(ga) == ashape and np.shape(gb) == bshape
    np.testing.assert_allclose(np.sum(u * jv), np.sum(ga * va) + np.sum(gb * vb), rtol=1e-7)


def test_matmul_adjoint_keeps_float32():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    g = np.ones((2, 4), np.float32)
    assert sg.matmul_adjoint_a(g, a, b).dtype == np.float32
    assert sg.matmul_adjoint_b(g, a, b).dtype == np.float32


@pytest.mark.parametrize("g_shape, shape", [((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), ()), ((2, 3), (2, 3)), ((), ())])
def test_unbroadcast_to_matches_unbroadcast(g_shape, shape):
    """Given only the operand's shape, the result equals unbroadcast against the operand."""
    rng = np.random.default_rng(0)
    g = rng.standard_normal(g_shape)
    x = rng.standard_normal(shape)
    np.testing.assert_array_equal(sg.unbroadcast_to(g, shape), sg.unbroadcast(g, x))
    assert np.shape(sg.unbroadcast_to(g, shape)) == shape


def test_seed_like_spreads_a_scalar_seed_over_the_output():
    out = (np.ones(2), [3.0, {"k": np.zeros(3, np.float32)}])
    seed = sg.seed_like(2.0, out)
    np.testing.assert_array_equal(seed[0], [2.0, 2.0])
    assert seed[1][0] == 2.0 and seed[1][1]["k"].dtype == np.float32
    np.testing.assert_array_equal(seed[1][1]["k"], [2.0, 2.0, 2.0])
    given = (np.ones(2), [1.0, {"k": np.ones(3)}])
    assert sg.seed_like(given, out) is given
    np.testing.assert_array_equal(sg.seed_like(5.0, np.ones(3)), [5.0, 5.0, 5.0])
    assert sg.seed_like(5.0, np.float64(1.0)) == 5.0
    # its adjoint in the seed sums over what the seed was spread to
    assert sg.unseed((np.ones(2), [3.0, {"k": np.ones(3)}]), 2.0) == 8.0
    g = np.arange(3.0)
    assert sg.unseed(g, g) is g

def test_whole_gives_a_scalar_zero_the_structure_of_its_value():
    x = (np.ones(2), {"k": np.ones(3), "j": 2.0})
    g = sg.whole(0.0, x)
    np.testing.assert_array_equal(g[0], np.zeros(2))
    assert g[1]["j"] == 0.0 and g[1]["k"].shape == (3,)
    partly = sg.whole((np.ones(2), {"k": 0.0, "j": 1.0}), x)  # what clear_written leaves
    assert partly[1]["k"].shape == (3,) and partly[1]["j"] == 1.0
    given = np.arange(3.0)
    assert sg.whole(given, given) is given
