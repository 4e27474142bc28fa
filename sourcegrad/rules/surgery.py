"""Rules of the gradient-surgery markers (``sourcegrad.surgery``) and the tape's marks.

``stop_gradient`` passes its value and no derivative. ``depth`` and ``truncate`` keep a tape in
step when inserted code stops a backward loop early; a gradient whose backward pass truncates its
tape is not differentiated again (its adjoint tape could not follow), so ``truncate`` has no rule.
"""

from sourcegrad import runtime as sg
from sourcegrad.rules.table import nondifferentiable
from sourcegrad.surgery import stop_gradient

nondifferentiable(stop_gradient, sg.depth, sg.check_finite)
