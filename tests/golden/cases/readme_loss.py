"""The README's headline loss: a loop whose body branches on the data."""

import numpy as np

WRT = (0, 1)


def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    for i in range(3):
        if np.sum(h) > 0:
            h = h * 0.5
        else:
            h = h + 1.0
    return np.mean((h - y) ** 2)
