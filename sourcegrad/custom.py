"""Rules given as plain functions, for black boxes: ``custom_vjp`` and ``custom_jvp``.

::

    @sg.custom_vjp
    def f(x, y): ...
    def f_fwd(x, y): return f(x, y), residuals       # the value and what the backward needs
    def f_bwd(residuals, g): return (dx, dy)         # one cotangent per parameter of f
    f.defvjp(f_fwd, f_bwd)

    @sg.custom_jvp
    def g(x): ...
    @g.defjvp
    def g_jvp(primals, tangents): return value, tangent_of_value

Where a differentiated function calls ``f``, the generated code calls ``f_fwd`` in the forward sweep
and ``f_bwd`` in the backward sweep (``g_jvp`` in forward mode), by their own names. A mode without a
rule differentiates ``f``'s own source, as for any user function. ``sg.grad(f)`` of the decorated
function itself uses the rule too. The call shapes are checked when the rule is registered.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from sourcegrad.errors import SourcegradError, location_of_function


class Custom:
    """A user function with hand-written derivative rules; calling it calls the function."""

    def __init__(self, primal: Callable):
        if not inspect.isfunction(primal):
            raise SourcegradError(f"custom_vjp/custom_jvp decorate a Python function, not {primal!r}",
                                  hint="decorate the `def` of the function whose derivative you give")
        functools.update_wrapper(self, primal)
        self.primal = primal
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self.jvp: Callable | None = None
        self.caller: Callable | None = None  # what sg.grad(f) transforms (made by api)

    def __call__(self, *args, **kwargs):
        return self.primal(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<sourcegrad.custom {self.primal.__qualname__}>"

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Reverse mode: ``fwd(*args) -> (value, residuals)``, ``bwd(residuals, g) -> tuple``
        with one cotangent per parameter of the function."""
        _check_params(fwd, len(inspect.signature(self.primal).parameters), self, "the forward function (fwd)",
                      f"give it the parameters of {self.primal.__name__}{inspect.signature(self.primal)}")
        _check_params(bwd, 2, self, "the backward function (bwd)", "define it as `def f_bwd(residuals, g):`")
        self.fwd, self.bwd = fwd, bwd

    def defjvp(self, jvp: Callable) -> Callable:
        """Forward mode: ``jvp(primals, tangents) -> (value, tangent)``, both arguments tuples
        with one entry per parameter. Returns ``jvp``, so that it can be used as a decorator."""
        _check_params(jvp, 2, self, "the JVP rule", "define it as `def f_jvp(primals, tangents):`")
        self.jvp = jvp
        return jvp


def custom_vjp(fn: Callable) -> Custom:
    """Decorate ``fn`` so that its reverse-mode derivative comes from ``fn.defvjp(fwd, bwd)``."""
    return fn if isinstance(fn, Custom) else Custom(fn)


def custom_jvp(fn: Callable) -> Custom:
    """Decorate ``fn`` so that its forward-mode derivative comes from ``fn.defjvp(jvp)``."""
    return fn if isinstance(fn, Custom) else Custom(fn)


def _check_params(rule: Callable, count: int, owner: Custom, what: str, hint: str) -> None:
    try:
        params = list(inspect.signature(rule).parameters.values())
    except (TypeError, ValueError):
        raise SourcegradError(f"{what} of {owner.primal.__name__} is not a function", hint=hint) from None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != count and not any(p.kind is p.VAR_POSITIONAL for p in params):
        raise SourcegradError(
            f"{what} of {owner.primal.__name__} takes {len(positional)} parameter(s); it must take {count}",
            location_of_function(rule), hint=hint,
        )
