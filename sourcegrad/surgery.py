"""Gradient surgery in the user's own code: ``insert_grad_of`` and ``stop_gradient``.

Both are markers that the transform reads; called directly (the function run without
differentiation) they do as little as they can:

- ``with sg.insert_grad_of(h) as dh: <code>``: ``<code>`` is moved into the backward pass, at the
  point that corresponds to the ``with`` statement, with ``dh`` naming the gradient of ``h`` there
  (``dh = np.clip(dh, -1, 1)`` changes what flows on). A ``break`` in it, inside a loop, stops
  backpropagation through that loop. Run without differentiation, the block runs once with ``dh``
  bound to zeros shaped like ``h``: no gradient exists yet.
- ``sg.stop_gradient(x)`` is ``x``, with no derivative: nothing flows back through it.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np


@contextmanager
def insert_grad_of(x):
    """Put the body of ``with insert_grad_of(x) as dx:`` into the backward pass (see the module)."""
    yield np.zeros_like(x)


def stop_gradient(x):
    """``x`` itself, with a zero derivative in both modes."""
    return x
