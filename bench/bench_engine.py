"""Timings of sourcegrad's generated gradients against a hand-written gradient and autograd.

Timings only, not a test. Every figure is measured in this one process, so compare the ratios,
not the absolute times across machines.

    python bench/bench_engine.py            # full run, well under two minutes
    python bench/bench_engine.py --quick    # fewer repeats, for a smoke check

Cases (all float64):
  mlp      2 hidden tanh layers, mean squared error, batch 128, input dim = hidden width,
           10 outputs; gradient with respect to all six parameters; width 64 and width 512
  rnn      h = tanh(h @ W + x[t] @ U + b) for T steps, batch 32, hidden 64,
           loss = sum(h_T ** 2); gradient with respect to W, U, b; T = 10 and T = 100
  loop     a Python float iterated 100 times with math.sin; gradient with respect to the input
  tiny     f(x) = x * x + 3.0 * x on a float: the fixed cost of one gradient call
"""

import argparse
import math
import statistics
import sys
import timeit
import types

import numpy as np

import sourcegrad as sg

# ------------------------------------------------------------------------------------------------
# The functions to differentiate. sourcegrad reads these from this file; autograd runs the very
# same code objects with `np` and `math` rebound to autograd.numpy (see `autograd_grad`).
# ------------------------------------------------------------------------------------------------


def mlp_loss(W1, b1, W2, b2, W3, b3, x, y):
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    return np.mean((out - y) ** 2)


def rnn_loss(W, U, b, x, h, T):
    for t in range(T):
        h = np.tanh(h @ W + x[t] @ U + b)
    return np.sum(h**2)


def scalar_loop(x):
    for i in range(100):
        x = x * 0.9 + math.sin(x) * 0.1
    return x


def tiny(x):
    return x * x + 3.0 * x


def linear_loss(W, b, x, y):  # PyTorch's layout: W is (out, in); .T and .shape of parameters
    out = x @ W.T + b
    return np.sum((out - y) ** 2) / x.shape[0]


# ------------------------------------------------------------------------------------------------
# Hand-written gradients: what a person would write with NumPy. Checked against central finite
# differences at start-up (`check_hand_written`).
# ------------------------------------------------------------------------------------------------


def mlp_grad_by_hand(W1, b1, W2, b2, W3, b3, x, y):
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    dout = 2.0 * (out - y) / out.size
    dW3 = h2.T @ dout
    db3 = dout.sum(axis=0)
    dz2 = (dout @ W3.T) * (1.0 - h2 * h2)
    dW2 = h1.T @ dz2
    db2 = dz2.sum(axis=0)
    dz1 = (dz2 @ W2.T) * (1.0 - h1 * h1)
    dW1 = x.T @ dz1
    db1 = dz1.sum(axis=0)
    return dW1, db1, dW2, db2, dW3, db3


def rnn_grad_by_hand(W, U, b, x, h, T):
    hs = [h]
    for t in range(T):
        h = np.tanh(h @ W + x[t] @ U + b)
        hs.append(h)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    dh = 2.0 * hs[T]
    for t in reversed(range(T)):
        dz = dh * (1.0 - hs[t + 1] * hs[t + 1])
        dW += hs[t].T @ dz
        dU += x[t].T @ dz
        db += dz.sum(axis=0)
        dh = dz @ W.T
    return dW, dU, db


def scalar_loop_grad_by_hand(x):
    # One input, one output: carrying the derivative forward is what a person would write.
    dx = 1.0
    for i in range(100):
        dx = dx * (0.9 + math.cos(x) * 0.1)
        x = x * 0.9 + math.sin(x) * 0.1
    return dx


def tiny_grad_by_hand(x):
    return 2.0 * x + 3.0


def linear_grad_by_hand(W, b, x, y):
    dout = 2.0 * (x @ W.T + b - y) / x.shape[0]
    return dout.T @ x, np.sum(dout, axis=0)


# ------------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------------


class Case:
    """One row of the table: a function, its inputs, which arguments to differentiate."""

    def __init__(self, name, f, by_hand, args, wrt):
        self.name, self.f, self.by_hand, self.args, self.wrt = name, f, by_hand, args, wrt


def mlp_args(rng, width, batch=128, outputs=10):
    def weight(n_in, n_out):
        return rng.normal(size=(n_in, n_out)) / math.sqrt(n_in)

    return (
        weight(width, width), rng.normal(size=width) * 0.1,
        weight(width, width), rng.normal(size=width) * 0.1,
        weight(width, outputs), rng.normal(size=outputs) * 0.1,
        rng.normal(size=(batch, width)), rng.normal(size=(batch, outputs)),
    )  # fmt: skip


def rnn_args(rng, T, batch=32, hidden=64, inputs=64):
    W = rng.normal(size=(hidden, hidden)) / math.sqrt(hidden)
    U = rng.normal(size=(inputs, hidden)) / math.sqrt(inputs)
    b = rng.normal(size=hidden) * 0.1
    x = rng.normal(size=(T, batch, inputs))
    h = np.zeros((batch, hidden))
    return W, U, b, x, h, T


def make_cases(rng):
    return [
        Case("mlp width=64", mlp_loss, mlp_grad_by_hand, mlp_args(rng, 64), (0, 1, 2, 3, 4, 5)),
        Case("mlp width=512", mlp_loss, mlp_grad_by_hand, mlp_args(rng, 512), (0, 1, 2, 3, 4, 5)),
        Case("rnn T=10", rnn_loss, rnn_grad_by_hand, rnn_args(rng, 10), (0, 1, 2)),
        Case("rnn T=100", rnn_loss, rnn_grad_by_hand, rnn_args(rng, 100), (0, 1, 2)),
        Case("loop 100 (floats)", scalar_loop, scalar_loop_grad_by_hand, (0.7,), 0),
        Case("tiny scalar", tiny, tiny_grad_by_hand, (1.5,), 0),
        Case("linear W.T 16x8x4", linear_loss, linear_grad_by_hand,
             (rng.normal(size=(4, 8)), rng.normal(size=4), rng.normal(size=(16, 8)), rng.normal(size=(16, 4))), (0, 1)),
    ]


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------


def as_tuple(grads, wrt):
    """Gradients as a tuple: a tuple `wrt` gives a tuple of gradients, an int one gradient."""
    return tuple(grads) if isinstance(wrt, tuple) else (grads,)


def numeric_grad(f, args, argnum, eps=1e-6):
    """Central differences in float64, one entry at a time (used on small inputs only)."""

    def f_at(value):
        return f(*args[:argnum], value, *args[argnum + 1 :])

    x = args[argnum]
    if not isinstance(x, np.ndarray):
        return (f_at(x + eps) - f_at(x - eps)) / (2 * eps)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f_at(plus) - f_at(minus)) / (2 * eps)
    return grad


def check_hand_written(rng):
    """The hand-written gradients are the reference, so they are checked first, on small sizes."""
    small = [
        Case("mlp", mlp_loss, mlp_grad_by_hand, mlp_args(rng, 5, batch=4, outputs=3), (0, 1, 2, 3, 4, 5)),
        Case("rnn", rnn_loss, rnn_grad_by_hand, rnn_args(rng, 4, batch=3, hidden=5, inputs=4), (0, 1, 2)),
        Case("loop", scalar_loop, scalar_loop_grad_by_hand, (0.7,), 0),
        Case("tiny", tiny, tiny_grad_by_hand, (1.5,), 0),
    ]  # fmt: skip
    for case in small:
        got = as_tuple(case.by_hand(*case.args), case.wrt)
        argnums = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
        for argnum, g in zip(argnums, got, strict=True):
            want = numeric_grad(case.f, case.args, argnum)
            if not np.allclose(g, want, rtol=1e-5, atol=1e-8):
                sys.exit(f"hand-written gradient of {case.name} is wrong (argument {argnum})")
    print("hand-written gradients agree with central finite differences")


def same_gradient(got, want):
    got, want = as_tuple(got, got), as_tuple(want, want)
    return len(got) == len(want) and all(
        np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-7, atol=1e-10)
        for g, w in zip(got, want)
    )


# ------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------


def median_us(call, repeats):
    """Median time of one call in µs, over `repeats` rounds of a timeit-chosen loop count."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()  # loop count so that one round takes at least 0.2 s
    number = max(1, number // 4)  # ... then a quarter of that: ~50 ms rounds
    rounds = timer.repeat(repeat=repeats, number=number)
    return statistics.median(rounds) / number * 1e6


def load_autograd():
    """The autograd module, imported only now; None (and a message) if it is not installed."""
    try:
        import autograd
        import autograd.numpy  # makes autograd.numpy an attribute, for autograd_grad
    except ImportError:
        print("autograd is not installed: its column is skipped (pip install autograd)")
        return None
    return autograd


def autograd_grad(autograd, f, wrt):
    """autograd.grad of `f`'s own code object, run with `np` and `math` bound to autograd.numpy."""
    anp = autograd.numpy
    names = dict(f.__globals__, np=anp, math=types.SimpleNamespace(sin=anp.sin, cos=anp.cos))
    traced = types.FunctionType(f.__code__, names, f.__name__, f.__defaults__, f.__closure__)
    return autograd.grad(traced, wrt)


def run_case(case, repeats, autograd):
    """Returns (hand µs, sourcegrad µs or None, autograd µs or None) and prints any warning."""
    args, wrt = case.args, case.wrt
    want = case.by_hand(*args)
    hand = median_us(lambda: case.by_hand(*args), repeats)

    ours = None
    try:
        df = sg.grad(case.f, wrt=wrt)
        got = df(*args)  # the first call also transforms; it is not timed
    except Exception as error:  # noqa: BLE001  (report and go on to the next column)
        print(f"warning: {case.name}: sourcegrad failed: {type(error).__name__}: {error}")
    else:
        if not same_gradient(got, want):
            print(f"warning: {case.name}: sourcegrad's gradient differs from the hand-written one")
        ours = median_us(lambda: df(*args), repeats)

    theirs = None
    if autograd is not None:
        ag = autograd_grad(autograd, case.f, wrt)
        if not same_gradient(ag(*args), want):
            print(f"warning: {case.name}: autograd's gradient differs from the hand-written one")
        theirs = median_us(lambda: ag(*args), repeats)
    return hand, ours, theirs


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def fmt_us(value):
    return fmt(value, ".2f" if value is not None and value < 10 else ".1f")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    options = parser.parse_args(argv)
    repeats = 3 if options.quick else 7

    rng = np.random.default_rng(0)
    check_hand_written(rng)
    autograd = load_autograd()

    header = ("case", "hand µs", "sourcegrad µs", "autograd µs", "sg/hand", "sg/autograd")
    rows = []
    for case in make_cases(rng):
        hand, ours, theirs = run_case(case, repeats, autograd)
        rows.append((
            case.name, fmt_us(hand), fmt_us(ours), fmt_us(theirs),
            fmt(None if ours is None else ours / hand, ".2f"),
            fmt(None if ours is None or theirs is None else ours / theirs, ".2f"),
        ))  # fmt: skip

    print(f"\nmedian time per gradient call, {repeats} repeats, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}")  # fmt: skip
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])] + [
            str(c).rjust(w) for c, w in zip(row[1:], widths[1:])
        ]
        print("  ".join(cells))
    print("ratios < 1 mean sourcegrad is faster")


if __name__ == "__main__":
    main()
