"""An Elman RNN cell as a class, stepped over a sequence in a loop; the loss is differentiated
with respect to the cell object (``g.W_h``, ``g.W_x``, ``g.b``) and the initial state.

Prints the generated gradient, checks it against central finite differences in float64 (both
the cell's gradient and, in forward mode, a directional derivative), and exits non-zero if a
check fails.

    python examples/models/rnn_cell.py
"""

import sys
from dataclasses import dataclass

import numpy as np

import sourcegrad as sg

EPS = 1e-6


@dataclass
class RNNCell:
    W_h: np.ndarray
    W_x: np.ndarray
    b: np.ndarray

    def __call__(self, h, x):
        return np.tanh(self.W_h @ h + self.W_x @ x + self.b)


def sequence_loss(cell, h0, xs, targets):
    h = h0
    total = 0.0
    for x, target in zip(xs, targets):
        h = cell(h, x)
        total = total + np.sum((h - target) ** 2)
    return total / len(xs)


def central_differences(cell, h0, xs, targets):
    out = {}
    for name in ("W_h", "W_x", "b"):
        value = getattr(cell, name)
        g = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + EPS
            up = sequence_loss(cell, h0, xs, targets)
            value[i] = old - EPS
            down = sequence_loss(cell, h0, xs, targets)
            value[i] = old
            g[i] = (up - down) / (2 * EPS)
        out[name] = g
    return out


def main() -> int:
    rng = np.random.default_rng(1)
    n_h, n_x, steps = 4, 3, 6
    cell = RNNCell(0.5 * rng.normal(size=(n_h, n_h)), rng.normal(size=(n_h, n_x)), np.zeros(n_h))
    h0, xs, targets = np.zeros(n_h), rng.normal(size=(steps, n_x)), rng.normal(size=(steps, n_h))
    dloss = sg.grad(sequence_loss, wrt=("cell", "h0"))
    print(sg.source(dloss))
    g_cell, g_h0 = dloss(cell, h0, xs, targets)
    expected = central_differences(cell, h0, xs, targets)
    worst = max(float(np.max(np.abs(getattr(g_cell, n) - expected[n]))) for n in expected)
    print(f"type of the gradient: {type(g_cell).__name__}; largest difference: {worst:.2e}")
    tangent = RNNCell(rng.normal(size=(n_h, n_h)), rng.normal(size=(n_h, n_x)), rng.normal(size=n_h))
    along = sg.autodiff(sequence_loss, mode="forward")(cell, h0, xs, targets, tangent)
    want = sum(float(np.sum(expected[n] * getattr(tangent, n))) for n in expected)
    print(f"forward mode along a random direction: {along:.8f} (central differences {want:.8f})")
    return 0 if worst < 1e-6 and abs(along - want) < 1e-6 and g_h0.shape == h0.shape else 1


if __name__ == "__main__":
    sys.exit(main())
