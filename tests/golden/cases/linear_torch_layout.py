"""A linear layer in PyTorch's layout (W is out x in, read as W.T) with a loss divided by the batch
size x.shape[0]: the parameters read as arrays are specialised (np.transpose, an inactive shape,
no helper call), and the output, surely a number, needs no spread seed and no forward np.sum."""

import numpy as np

WRT = (0, 1)


def loss(W, b, x, y):
    out = x @ W.T + b
    return np.sum((out - y) ** 2) / x.shape[0]
