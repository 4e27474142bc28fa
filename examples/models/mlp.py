"""A two-layer perceptron written as PyTorch-style classes, differentiated with respect to the
model object: ``sg.grad(loss)(model, x, y)`` returns an ``MLP`` whose attributes hold the
gradients (``g.hidden.W`` is d loss / d ``model.hidden.W``).

Prints the generated gradient of ``loss`` and of ``Linear.__call__``, checks every gradient
against central finite differences in float64, takes a few gradient steps, and exits non-zero if
a check fails.

    python examples/models/mlp.py
"""

import sys

import numpy as np

import sourcegrad as sg

EPS = 1e-6


class Linear:
    def __init__(self, W, b, activation=None):
        self.W = W
        self.b = b
        self.activation = activation

    def __call__(self, x):
        z = x @ self.W + self.b
        if self.activation is None:
            return z
        return self.activation(z)


class MLP:
    def __init__(self, rng, n_in, n_hidden, n_out):
        self.hidden = Linear(rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in), np.zeros(n_hidden), np.tanh)
        self.out = Linear(rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden), np.zeros(n_out))

    def __call__(self, x):
        return self.out(self.hidden(x))


def loss(model, x, y):
    return np.mean((model(x) - y) ** 2)


def leaves(model):
    return [(name, layer, attr) for name, layer in (("hidden", model.hidden), ("out", model.out)) for attr in ("W", "b")]


def check(model, x, y, g) -> float:
    """The largest difference between g and central differences, over every weight."""
    worst = 0.0
    for name, layer, attr in leaves(model):
        value, got = getattr(layer, attr), getattr(getattr(g, name), attr)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + EPS
            up = loss(model, x, y)
            value[i] = old - EPS
            down = loss(model, x, y)
            value[i] = old
            worst = max(worst, abs((up - down) / (2 * EPS) - got[i]))
    return worst


def main() -> int:
    rng = np.random.default_rng(0)
    model = MLP(rng, 3, 8, 2)
    x = rng.normal(size=(16, 3))
    y = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1)
    dloss = sg.grad(loss)
    print(sg.source(dloss))
    print(sg.source(sg.grad(Linear.__call__)))  # what the call of a layer runs backwards
    g = dloss(model, x, y)
    print(type(g).__name__, {f"{n}.{a}": getattr(getattr(g, n), a).shape for n, _, a in leaves(model)})
    worst = check(model, x, y, g)
    print(f"largest difference from central differences: {worst:.2e}")
    before = loss(model, x, y)
    for _ in range(50):
        g = dloss(model, x, y)
        for name, layer, attr in leaves(model):
            setattr(layer, attr, getattr(layer, attr) - 0.1 * getattr(getattr(g, name), attr))
    print(f"loss {before:.4f} -> {loss(model, x, y):.4f} after 50 steps")
    return 0 if worst < 1e-6 and loss(model, x, y) < before else 1


if __name__ == "__main__":
    sys.exit(main())
