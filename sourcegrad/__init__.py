"""sourcegrad: automatic differentiation by source-code transformation.

``sourcegrad.grad(f)`` reads ``f``'s source and returns a new Python function, generated as source
you can print (``sourcegrad.source``), read and step through, that computes the gradient.
"""

from sourcegrad import rules as _rules  # noqa: F401  (registers the built-in rule tables)
from sourcegrad.api import autodiff, grad, hessian, hvp, jacobian, jvp, source, value_and_grad, vjp
from sourcegrad.checking import GradCheckReport, check_grads
from sourcegrad.custom import custom_jvp, custom_vjp
from sourcegrad.errors import (
    GradientCheckError,
    NoRule,
    SourcegradError,
    SourceUnavailable,
    TransformError,
    UnsupportedSyntax,
)
from sourcegrad.frontend.source import exec_source
from sourcegrad.inputs import IntegerInput
from sourcegrad.rules.table import adjoint, elementwise, linear, nondifferentiable, tangent
from sourcegrad.runtime.checks import NonFiniteGradient
from sourcegrad.surgery import insert_grad_of, stop_gradient

__all__ = [
    "GradCheckReport",
    "GradientCheckError",
    "IntegerInput",
    "NoRule",
    "NonFiniteGradient",
    "SourceUnavailable",
    "SourcegradError",
    "TransformError",
    "UnsupportedSyntax",
    "adjoint",
    "autodiff",
    "check_grads",
    "custom_jvp",
    "custom_vjp",
    "elementwise",
    "exec_source",
    "grad",
    "hessian",
    "hvp",
    "insert_grad_of",
    "jacobian",
    "jvp",
    "linear",
    "nondifferentiable",
    "source",
    "stop_gradient",
    "tangent",
    "value_and_grad",
    "vjp",
]
