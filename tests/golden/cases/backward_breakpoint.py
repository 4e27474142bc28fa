"""A breakpoint and a print placed in the backward pass, and backpropagation stopped after two
steps back through the loop (truncated backpropagation through time)."""

import pdb

import numpy as np

from sourcegrad import insert_grad_of

WRT = 1


def loss(x, w):
    h = x
    for t in range(6):
        h = np.sin(h * w)
        with insert_grad_of(h) as dh:
            print("gradient of h at step", t, ":", dh)
            if t < 4:
                pdb.set_trace()
                break
    return np.sum(h * h)
