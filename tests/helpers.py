"""Shared checks for the test suite: finite differences, autograd twins, random inputs.

Every derivative in the suite is compared with central finite differences in float64 and, where
autograd can run the same program, with autograd. A test function is written once, as source
text; `make` builds a NumPy version through `sg.exec_source` (so sourcegrad can read its source)
and an autograd version through plain `exec` with `autograd.numpy` bound to `np`.
"""

import ast
import inspect
import warnings

import autograd
import autograd.numpy as anp
import numpy as np

import sourcegrad as sg

EPS = 1e-6
SHAPES = [(), (3,), (2, 3)]


# --- random inputs ---------------------------------------------------------------------------


def rand(rng, shape=(), low=-1.0, high=1.0):
    """A float for shape (), else a float64 array, uniform in [low, high)."""
    value = rng.uniform(low, high, size=shape)
    return float(value) if shape == () else value.astype(np.float64)


def positive(rng, shape=()):
    """Inputs for log, sqrt, division and powers with variable exponents: in [0.5, 2)."""
    return rand(rng, shape, 0.5, 2.0)


def line_of(fn, text):
    """The absolute line number in its file of the first line of fn that starts with text."""
    lines, first = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if line.strip().startswith(text):
            return first + offset
    raise AssertionError(f"{text!r} not in {fn.__name__}")


# --- wrt handling ------------------------------------------------------------------------------


def _positions(f, wrt):
    """wrt (int, name, or tuple/list of them) -> tuple of positions, and whether it was a tuple."""
    many = isinstance(wrt, (tuple, list))
    items = tuple(wrt) if many else (wrt,)
    params = list(inspect.signature(f).parameters)
    positions = tuple(params.index(w) if isinstance(w, str) else w for w in items)
    return positions, many


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _scalar_output(out, seed):
    out = np.asarray(out, dtype=np.float64)
    if seed is None:
        return float(np.sum(out))
    return float(np.sum(out * np.asarray(seed, dtype=np.float64)))


# --- finite differences ------------------------------------------------------------------------


def numeric_grad(f, args, wrt=0, seed=None, eps=EPS):
    """Central differences of f at args with respect to wrt.

    A non-scalar output is reduced like sourcegrad's default seed: the gradient of sum(out), or of
    sum(seed * out) when a seed is given. Returns one gradient (float for a scalar argument,
    float64 array of the argument's shape otherwise), or a tuple when wrt is a tuple or list.
    """
    positions, many = _positions(f, wrt)

    def value_at(i, new):
        call = [_copy(a) for a in args]
        call[i] = new
        return _scalar_output(f(*call), seed)

    grads = []
    for i in positions:
        x = args[i]
        if np.ndim(x) == 0:
            x = float(x)
            grads.append((value_at(i, x + eps) - value_at(i, x - eps)) / (2 * eps))
            continue
        x = np.asarray(x, dtype=np.float64)
        g = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[index] += eps
            down[index] -= eps
            g[index] = (value_at(i, up) - value_at(i, down)) / (2 * eps)
        grads.append(g)
    return tuple(grads) if many else grads[0]


def assert_grad_close(actual, expected, args, wrt, f, rtol=1e-6, atol=1e-8, what="sourcegrad"):
    """Compare one gradient or a tuple of them, including shapes, with a readable message."""
    positions, many = _positions(f, wrt)
    if many:
        assert isinstance(actual, tuple), f"wrt={wrt!r} should give a tuple, got {type(actual)}"
        assert len(actual) == len(positions), f"wrt={wrt!r}: got {len(actual)} gradients"
    else:
        actual, expected = (actual,), (expected,)
    for i, a, e in zip(positions, actual, expected):
        assert np.shape(a) == np.shape(args[i]), (
            f"{what}: gradient of argument {i} has shape {np.shape(a)}, "
            f"argument has shape {np.shape(args[i])}"
        )
        np.testing.assert_allclose(
            np.asarray(a, dtype=np.float64),
            np.asarray(e, dtype=np.float64),
            rtol=rtol,
            atol=atol,
            err_msg=f"{what}: gradient of argument {i} (wrt={wrt!r})",
        )


def check_grad(f, args, wrt=0, rtol=1e-6, atol=1e-8):
    """sg.grad(f, wrt=wrt)(*args) against central differences; returns sourcegrad's gradient.

    Also checks that computing the gradient leaves the arguments unchanged.
    """
    args = tuple(args)
    before = [_copy(a) for a in args]
    got = sg.grad(f, wrt=wrt)(*args)
    for i, (old, new) in enumerate(zip(before, args)):
        np.testing.assert_array_equal(old, new, err_msg=f"the gradient modified argument {i}")
    expected = numeric_grad(f, args, wrt)
    assert_grad_close(got, expected, args, wrt, f, rtol=rtol, atol=atol)
    check_forward(f, args, wrt, expected, rtol=rtol, atol=atol)
    return got


def check_forward(f, args, wrt, expected, rtol=1e-6, atol=1e-8):
    """Forward mode along a random tangent equals <finite-difference gradient, tangent>.

    The output is reduced like the reverse-mode seed (sum of a non-scalar output).
    """
    positions, many = _positions(f, wrt)
    grads = expected if many else (expected,)
    rng = np.random.default_rng(len(positions))
    tangents = [rng.standard_normal(np.shape(args[i])) if np.ndim(args[i]) else float(rng.standard_normal())
                for i in positions]
    f_dot = sg.autodiff(f, mode="forward", wrt=tuple(positions))
    bound = inspect.signature(f).bind(*args)
    bound.apply_defaults()  # the forward function takes every argument of f, then the tangents
    got = f_dot(*bound.args, *tangents)
    want = sum(float(np.sum(np.asarray(g) * t)) for g, t in zip(grads, tangents))
    leaves = got if isinstance(got, (tuple, list)) else (got,)
    total = sum(float(np.sum(np.asarray(leaf, dtype=np.float64))) for leaf in leaves)
    np.testing.assert_allclose(total, want, rtol=rtol * 10, atol=atol * 10,
                               err_msg=f"forward mode along a random tangent (wrt={wrt!r})")


# --- autograd twins ----------------------------------------------------------------------------


def _entry_name(src):
    """The last top-level function defined in src (by def or by assigning a lambda)."""
    name = None
    for node in ast.parse(src).body:
        if isinstance(node, ast.FunctionDef):
            name = node.name
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            target = node.targets[0]
            if isinstance(target, ast.Name):
                name = target.id
    assert name is not None, "the source defines no function"
    return name


class _ForAutograd(ast.NodeTransformer):
    """Two spellings autograd's boxes cannot run, rewritten to equivalent ones for the twin only:
    augmented assignment (`h += y` writes into a plain ndarray `h` when `y` is a box) becomes
    `h = h + y`, and unary plus (ArrayBox has no __pos__) is dropped. The suite's programs never
    alias an array that they update in place, so both rewrites keep the meaning."""

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        load = ast.Name(id=node.target.id, ctx=ast.Load())
        value = ast.BinOp(left=load, op=node.op, right=node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return node.operand if isinstance(node.op, ast.UAdd) else node


def _autograd_source(src):
    tree = ast.fix_missing_locations(_ForAutograd().visit(ast.parse(src)))
    return ast.unparse(tree)


def make(src, entry=None, **extra_globals):
    """Build (f_np, f_ag) from one source text.

    f_np is defined by sg.exec_source with np = numpy, f_ag by exec with np = autograd.numpy
    (after the rewrites of _ForAutograd). entry names the function to return; by default the
    last top-level function in src.
    """
    name = entry or _entry_name(src)
    ns_np = sg.exec_source(src, {"np": np, **extra_globals})
    ns_ag = {"np": anp, **extra_globals}
    exec(compile(_autograd_source(src), "<autograd twin>", "exec"), ns_ag)  # noqa: S102  (the twin)
    return ns_np[name], ns_ag[name]


def autograd_grad(f_ag, args, wrt=0):
    """autograd's gradient with sourcegrad's wrt conventions (names, tuples)."""
    positions, many = _positions(f_ag, wrt)

    def scalar(*a):
        out = f_ag(*a)
        return anp.sum(out)

    with warnings.catch_warnings():
        # autograd warns when the output does not depend on an input; zeros are the answer.
        warnings.filterwarnings("ignore", "Output seems independent of input")
        grads = tuple(autograd.grad(scalar, argnum=i)(*args) for i in positions)
    return grads if many else grads[0]


def check_pair(f_np, f_ag, args, wrt=0, rtol=1e-6, atol=1e-8):
    """sourcegrad on f_np against finite differences and against autograd on f_ag."""
    got = check_grad(f_np, args, wrt, rtol=rtol, atol=atol)
    expected = autograd_grad(f_ag, args, wrt)
    assert_grad_close(got, expected, args, wrt, f_np, rtol=1e-9, atol=1e-12, what="vs autograd")
    return got


def check_against_autograd(src, args, wrt=0, rtol=1e-6, atol=1e-8, entry=None, **extra_globals):
    """Define src twice (NumPy for sourcegrad, autograd.numpy for autograd) and compare gradients.

    sourcegrad's gradient is checked against finite differences and against autograd.
    Returns sourcegrad's gradient.
    """
    f_np, f_ag = make(src, entry=entry, **extra_globals)
    return check_pair(f_np, f_ag, args, wrt, rtol=rtol, atol=atol)
