"""The tutorial programs in examples/tutorials/: each script runs and passes its own check, and its
gradient agrees with central finite differences and with autograd running the very same code.

autograd runs the script's functions with ``np`` rebound to ``autograd.numpy`` (every function of
the script gets the rebound globals, so helpers such as ``predict`` or ``conv2d`` follow).
"""

import inspect
import runpy
import subprocess
import sys
import types
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from helpers import assert_grad_close, numeric_grad

import sourcegrad as sg

TUTORIALS = Path(__file__).resolve().parents[1] / "examples" / "tutorials"
SCRIPTS = sorted(p.name for p in TUTORIALS.glob("*.py"))


def test_every_tutorial_is_listed():
    assert SCRIPTS == [
        "convolution.py",
        "gaussian_process.py",
        "logistic_regression.py",
        "mlp_softmax.py",
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_and_its_check_passes(script):
    done = subprocess.run(
        [sys.executable, str(TUTORIALS / script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("check_grads(") :]
    rows = [line for line in table.splitlines()[2:] if line.startswith("  ")]
    assert rows and all(line.rstrip().endswith("ok") for line in rows), table
    assert {"reverse", "forward"} <= {line.split()[0] for line in rows}
    assert "FAILED" not in done.stdout


def autograd_twin(f: types.FunctionType):
    """``f`` with every function of its script seeing autograd.numpy as ``np``."""
    namespace = f.__globals__
    rebound = dict(namespace, np=anp)
    for key, value in namespace.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            rebound[key] = types.FunctionType(
                value.__code__, rebound, value.__name__, value.__defaults__, value.__closure__
            )
    return rebound[f.__name__]


@pytest.mark.parametrize("script", SCRIPTS)
def test_gradient_matches_finite_differences_and_autograd(script):
    namespace = runpy.run_path(str(TUTORIALS / script), run_name="tutorial")
    f, args, wrt = namespace["problem"]()
    got = sg.grad(f, wrt=wrt)(*args)
    assert_grad_close(
        got,
        numeric_grad(f, args, wrt),
        args,
        wrt,
        f,
        rtol=1e-6,
        atol=1e-8,
        what=f"{script} vs finite differences",
    )
    twin = autograd_twin(f)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    want = tuple(autograd.grad(twin, argnum=i)(*args) for i in positions)
    assert_grad_close(
        got,
        want if isinstance(wrt, tuple) else want[0],
        args,
        wrt,
        f,
        rtol=1e-9,
        atol=1e-12,
        what=f"{script} vs autograd",
    )
    # Forward mode along one random direction per parameter agrees with the gradient.
    rng = np.random.default_rng(0)
    tangents = [
        rng.normal(size=np.shape(args[i])) if np.ndim(args[i]) else float(rng.normal())
        for i in positions
    ]
    full = inspect.signature(f).bind(*args)
    full.apply_defaults()  # the forward function takes every argument of f, then the tangents
    derivative = sg.autodiff(f, mode="forward", wrt=wrt)(*full.args, *tangents)
    grads = got if isinstance(wrt, tuple) else (got,)
    assert derivative == pytest.approx(
        sum(float(np.sum(g * t)) for g, t in zip(grads, tangents)), rel=1e-8
    )
