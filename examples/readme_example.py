"""The README's headline example: a loss with a loop and a branch, differentiated by sourcegrad.

Prints the generated gradient source, then checks dW and db against central finite differences
in float64 and exits non-zero if they disagree.

    python examples/readme_example.py
"""

import numpy as np

import sourcegrad as sg

TOLERANCE = 1e-6
EPS = 1e-6


def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    for i in range(3):
        if np.sum(h) > 0:
            h = h * 0.5
        else:
            h = h + 1.0
    return np.mean((h - y) ** 2)


def central_difference(f, args, argnum, eps=EPS):
    """d f(*args) / d args[argnum], one entry at a time, by (f(a + eps) - f(a - eps)) / (2 eps)."""
    x = np.array(args[argnum], dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        shifted = list(args)
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        shifted[argnum] = plus
        f_plus = f(*shifted)
        shifted[argnum] = minus
        f_minus = f(*shifted)
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(got, want):
    """Largest absolute difference, relative to the larger of the two gradients' magnitudes."""
    scale = max(np.max(np.abs(got)), np.max(np.abs(want)), 1e-12)
    return float(np.max(np.abs(got - want)) / scale)


def main():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3))
    b = rng.normal(size=(3,))
    x = rng.normal(size=(5, 4))
    y = rng.normal(size=(5, 3))

    dloss = sg.grad(loss, wrt=(0, 1))
    print(sg.source(dloss))

    dW, db = dloss(W, b, x, y)
    errors = {
        "dW": relative_error(dW, central_difference(loss, (W, b, x, y), 0)),
        "db": relative_error(db, central_difference(loss, (W, b, x, y), 1)),
    }
    worst = max(errors.values())
    for name, error in errors.items():
        print(f"{name}: relative error vs finite differences {error:.2e}")
    print(f"max relative error: {worst:.2e} (tolerance {TOLERANCE:.0e})")
    if not worst <= TOLERANCE:  # `not <=` so that a NaN fails too
        print("FAIL: sourcegrad's gradient disagrees with finite differences")
        raise SystemExit(1)
    print("OK")


if __name__ == "__main__":
    main()
