"""Timings of a Hessian-vector product: sourcegrad's forward-over-reverse against a hand-written
Pearlmutter R-op in NumPy and autograd's reverse-over-reverse.

Timings only, not a test. Every figure is measured in this one process, so compare the ratios,
not the absolute times across machines.

    python bench/bench_hvp.py            # full run, well under two minutes
    python bench/bench_hvp.py --quick    # fewer repeats, for a smoke check

Case (float64): the MLP loss of bench_engine.py (2 hidden tanh layers, mean squared error,
batch 128, input dim = hidden width, 10 outputs), widths 64 and 512. The Hessian is taken with
respect to the first weight matrix W1 only and applied to a random direction V of W1's shape.
"""

import argparse
import os
import sys
import types

import numpy as np

import sourcegrad as sg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import fmt, fmt_us, load_autograd, median_us, mlp_args, mlp_loss  # noqa: E402

# ------------------------------------------------------------------------------------------------
# Hand-written Hessian-vector product (Pearlmutter 1994): run the forward pass, the backward pass,
# and the forward-mode derivative (the R-operator, R{.} = d/dt .(W1 + t V) at t = 0) of both.
# Only W1 moves, so R{x} = R{b1} = R{W2} = ... = 0.
# ------------------------------------------------------------------------------------------------


def mlp_grad_w1_by_hand(W1, b1, W2, b2, W3, b3, x, y):
    """The gradient of mlp_loss with respect to W1 alone (for the finite-difference check)."""
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    dout = 2.0 * (out - y) / out.size
    dz2 = (dout @ W3.T) * (1.0 - h2 * h2)
    dz1 = (dz2 @ W2.T) * (1.0 - h1 * h1)
    return x.T @ dz1


def mlp_hvp_w1_by_hand(W1, b1, W2, b2, W3, b3, x, y, V):
    # forward pass, and its R-op
    h1 = np.tanh(x @ W1 + b1)
    s1 = 1.0 - h1 * h1  # tanh' at layer 1
    r_h1 = s1 * (x @ V)
    h2 = np.tanh(h1 @ W2 + b2)
    s2 = 1.0 - h2 * h2
    r_h2 = s2 * (r_h1 @ W2)
    out = h2 @ W3 + b3
    r_out = r_h2 @ W3
    # backward pass, and its R-op
    scale = 2.0 / out.size
    dout = scale * (out - y)
    r_dout = scale * r_out
    dh2 = dout @ W3.T
    r_dh2 = r_dout @ W3.T
    dz2 = dh2 * s2
    r_dz2 = r_dh2 * s2 - 2.0 * dh2 * h2 * r_h2  # R{1 - h2^2} = -2 h2 R{h2}
    dh1 = dz2 @ W2.T
    r_dh1 = r_dz2 @ W2.T
    r_dz1 = r_dh1 * s1 - 2.0 * dh1 * h1 * r_h1
    return x.T @ r_dz1  # R{x.T @ dz1}, x fixed


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------


def check_hand_written(rng, eps=1e-6):
    """The hand-written HVP is the reference: check it on a small MLP against central differences
    of the hand-written gradient (itself checked against differences of the loss)."""
    args = mlp_args(rng, 5, batch=4, outputs=3)
    V = rng.normal(size=args[0].shape)
    W1, rest = args[0], args[1:]

    numeric = np.zeros_like(W1)
    for index in np.ndindex(*W1.shape):
        plus, minus = W1.copy(), W1.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (mlp_loss(plus, *rest) - mlp_loss(minus, *rest)) / (2 * eps)
    if not np.allclose(mlp_grad_w1_by_hand(*args), numeric, rtol=1e-5, atol=1e-8):
        sys.exit("hand-written gradient with respect to W1 is wrong")

    fd = (mlp_grad_w1_by_hand(W1 + eps * V, *rest) - mlp_grad_w1_by_hand(W1 - eps * V, *rest)) / (2 * eps)
    if not np.allclose(mlp_hvp_w1_by_hand(*args, V), fd, rtol=1e-5, atol=1e-8):
        sys.exit("hand-written Hessian-vector product is wrong")
    print("hand-written HVP agrees with central differences of the hand-written gradient")


def autograd_hvp(autograd, f):
    """autograd.hessian_vector_product of `f`'s own code object, run with `np` bound to
    autograd.numpy (reverse over reverse)."""
    names = dict(f.__globals__, np=autograd.numpy)
    traced = types.FunctionType(f.__code__, names, f.__name__, f.__defaults__, f.__closure__)
    return autograd.hessian_vector_product(traced, 0)


def agree(name, what, got, want):
    if np.shape(got) != np.shape(want) or not np.allclose(got, want, rtol=1e-7, atol=1e-10):
        err = np.max(np.abs(np.asarray(got) - want)) if np.shape(got) == np.shape(want) else "shape"
        print(f"warning: {name}: {what} differs from the hand-written HVP (max abs diff {err})")
        return False
    return True


# ------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------


def run_case(name, args, V, repeats, autograd):
    """Returns (hand µs, sourcegrad µs or None, autograd µs or None)."""
    want = mlp_hvp_w1_by_hand(*args, V)
    hand = median_us(lambda: mlp_hvp_w1_by_hand(*args, V), repeats)

    ours = None
    try:
        hvp = sg.hvp(mlp_loss, wrt=0)
        got = hvp(*args, V)  # the first call also transforms; it is not timed
    except Exception as error:  # noqa: BLE001  (report and go on to the next column)
        print(f"warning: {name}: sourcegrad failed: {type(error).__name__}: {error}")
    else:
        agree(name, "sourcegrad's HVP", got, want)
        ours = median_us(lambda: hvp(*args, V), repeats)

    theirs = None
    if autograd is not None:
        ag = autograd_hvp(autograd, mlp_loss)
        agree(name, "autograd's HVP", ag(*args, V), want)
        theirs = median_us(lambda: ag(*args, V), repeats)
    return hand, ours, theirs


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
    for width in (64, 512):
        args = mlp_args(rng, width)
        V = rng.normal(size=args[0].shape)
        name = f"mlp HVP wrt W1, width={width}"
        hand, ours, theirs = run_case(name, args, V, repeats, autograd)
        rows.append((
            name, fmt_us(hand), fmt_us(ours), fmt_us(theirs),
            fmt(None if ours is None else ours / hand, ".2f"),
            fmt(None if ours is None or theirs is None else ours / theirs, ".2f"),
        ))  # fmt: skip

    print(f"\nmedian time per Hessian-vector product, {repeats} repeats, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}")  # fmt: skip
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(row[1:], widths[1:])]
        print("  ".join(cells))
    print("ratios < 1 mean sourcegrad is faster")


if __name__ == "__main__":
    main()
