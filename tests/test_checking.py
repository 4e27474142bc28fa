"""`sg.check_grads`: generated derivatives against central finite differences, per argument."""

import inspect

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.rules.table import d


def layer(W, b, x):
    h = np.tanh(x @ W + b)
    return np.sum(h * h)


def layer_args(rng):
    return rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))


def test_correct_gradient_passes_with_a_row_per_mode_and_argument(rng):
    report = sg.check_grads(layer, layer_args(rng))
    assert isinstance(report, sg.GradCheckReport) and report.passed
    assert [(c.mode, c.order, c.argument, c.shape) for c in report.checks] == [
        ("reverse", 1, "W", (3, 2)),
        ("reverse", 1, "b", (2,)),
        ("reverse", 1, "x", (4, 3)),
        ("forward", 1, "W", (3, 2)),
        ("forward", 1, "b", (2,)),
        ("forward", 1, "x", (4, 3)),
    ]
    assert 0 < report.max_abs_error < 1e-7 and report.max_rel_error < 1e-7
    table = str(report)
    assert "max abs error" in table and "FAILED" not in table
    assert all(line.rstrip().endswith("ok") for line in table.splitlines()[2:])


def test_wrt_and_modes_select_what_is_checked(rng):
    report = sg.check_grads(layer, layer_args(rng), wrt=("b", 0), modes=("forward",))
    assert [(c.mode, c.argument) for c in report.checks] == [("forward", "b"), ("forward", "W")]


def steps(x, n, scale=2.0):
    for i in range(n):
        x = np.sin(x) * scale
    return np.sum(x)


def test_default_wrt_is_every_float_argument_and_defaults_are_used(rng):
    report = sg.check_grads(steps, (rng.standard_normal(3), 3))
    assert {c.argument for c in report.checks} == {"x", "scale"}


def test_second_order_checks_the_generated_derivatives(rng):
    report = sg.check_grads(layer, layer_args(rng), wrt="W", order=2)
    modes = [c.mode for c in report.checks]
    assert modes == [
        "reverse",
        "reverse over reverse",
        "forward over reverse",
        "forward",
        "reverse over forward",
        "forward over forward",
    ]
    assert [c.order for c in report.checks] == [1, 2, 2, 1, 2, 2]
    assert report.passed


def two_outputs(a, x):
    return a * np.sum(x), np.sin(x) * a


def test_tuple_outputs(rng):
    assert sg.check_grads(two_outputs, (0.7, rng.standard_normal(3))).passed


def test_float32_arguments_are_checked_in_float64(rng):
    W, b, x = (a.astype(np.float32) for a in layer_args(rng))
    assert sg.check_grads(layer, (W, b, x), wrt=(0, 1)).passed


# A deliberately wrong rule: the adjoint of `cube` says 2x² instead of 3x²; its tangent is right.


def cube(x):
    return x * x * x


def cube_adjoint(y, x):
    d[x] = d[y] * 2.0 * x * x


def cube_tangent(y, x):
    d[y] = d[x] * 3.0 * x * x


def uses_cube(x, w):
    return np.sum(cube(x) * w)


def test_wrong_rule_raises_with_a_per_argument_report(rng, restore_rules):
    sg.adjoint(cube)(cube_adjoint)
    sg.tangent(cube)(cube_tangent)
    x, w = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    with pytest.raises(sg.GradientCheckError) as info:
        sg.check_grads(uses_cube, (x, w))
    err = info.value
    assert isinstance(err, AssertionError) and isinstance(err, sg.SourcegradError)
    failed = [(c.mode, c.argument) for c in err.report.failures]
    assert failed == [("reverse", "x")]  # w is right in both modes, x right in forward mode
    # 2x² against 3x², whatever the random cotangent: a third of the true derivative is missing.
    assert err.report.failures[0].max_rel_error == pytest.approx(1 / 3, rel=1e-6)
    text = str(err)
    assert "the derivatives for x (reverse) differ" in text
    assert "FAILED" in text and text.count("ok") == 3
    # The location is the checked function's def, with its name underlined.
    _lines, first = inspect.getsourcelines(uses_cube)
    assert f'File "{__file__}", line {first}\n    def uses_cube(x, w):\n        ^^^^^^^^^' in text
    assert "What to do:" in text and "@sg.adjoint" in text


def test_report_row_for_a_gradient_of_the_wrong_shape_fails():
    from sourcegrad.checking import _compare

    check = _compare("reverse", 1, "x", np.zeros(3), np.zeros((3, 1)), np.zeros(3), (1e-5, 1e-7))
    assert not check.passed and check.max_abs_error == float("inf")


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"modes": ("sideways",)}, "unknown mode 'sideways'"),
        ({"order": 0}, "order=0"),
        ({"wrt": "nope"}, "wrt='nope'"),
    ],
)
def test_bad_arguments_are_reported(kwargs, fragment, rng):
    with pytest.raises(sg.SourcegradError) as info:
        sg.check_grads(layer, layer_args(rng), **kwargs)
    assert fragment in str(info.value) and "What to do:" in str(info.value)


def twice(n):
    return n * 2


def test_no_float_argument_is_reported():
    with pytest.raises(sg.SourcegradError, match="no argument of twice is a float"):
        sg.check_grads(twice, (np.arange(3),))
