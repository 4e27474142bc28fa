"""Parameters assumed to hold arrays, numbers or sequences where their ``.T``, ``.shape``, ``.ndim``,
``.size`` or ``.dtype`` is read, and the hidden guard that keeps the assumption honest.

``W.T`` and ``W.shape[0]`` mean NumPy's transpose and shape for an array, but a user object may
have fields of those names (a dataclass with a differentiable ``size``, a gas with a temperature
``T``). Where the reader is not surely an array, the normaliser writes ``sg.array_attribute``,
which decides when the code runs (runtime/attributes.py). For the function's own parameters that
costs every gradient a helper call per read and, worse, makes ``n = W.shape[0]`` active: the
backward pass carries a chain of dead adjoints for it.

So a derivative is generated twice, the second time only if needed. The first version assumes that
the parameters whose such attributes are read (and that the body never rebinds) hold no user
object: ``W.T`` is ``np.transpose(W)``, ``W.shape`` is ``np.shape(W)``, inactive. Its compiled code
starts, out of sight like the argument check of ``sourcegrad.inputs``, with a guard: a parameter
whose class is not a plain one (``ndarray``, ``float``...) and that is a user object sends the call
to the general version, generated when first needed. A forward function of a split pair marks the
general version's residuals (``Diverted``) so that its backward function sends them on too.

A derivative of a generated function that carries the assumption carries it on: ``assumed``
names the parameters, and ``general`` makes the general twin. A leaf: it imports NumPy and the
runtime's number types only.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import numpy as np

from sourcegrad.runtime.broadcast import SCALAR_TYPES

# The classes of values the assumption covers, tested first: a set membership, no call.
PLAIN = frozenset([np.ndarray, list, tuple, type(None), *SCALAR_TYPES])
_PLAIN_NAME = "__sourcegrad_plain__"
_OBJECT_NAME = "__sourcegrad_object__"
_GENERAL_NAME = "__sourcegrad_general__"
_DIVERTED_NAME = "__sourcegrad_diverted__"
# The attributes a made function carries (see the module docstring).
ASSUMED = "__sourcegrad_assumed__"
GENERAL = "__sourcegrad_general_twin__"


class Diverted:
    """The residuals of a general forward function, called in place of a specialised one."""

    __slots__ = ("residuals",)

    def __init__(self, residuals) -> None:
        self.residuals = residuals


class Late:
    """The general version of a derivative, made at its first call by ``make``."""

    def __init__(self, make: Callable[[], Callable]) -> None:
        self._make, self._made = make, None

    def get(self) -> Callable:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __call__(self, *args, **kwargs):
        return self.get()(*args, **kwargs)

    def part(self, index: int) -> Callable:
        """One function of a general split pair, made when first called."""
        return lambda *args, **kwargs: self.get()[index](*args, **kwargs)


def guard(fn: ast.FunctionDef, assumed: list[str], is_object: Callable, general: Callable, role: str) -> tuple[ast.stmt, dict]:
    """The hidden first statement of the specialised ``fn`` and the globals it reads.

    ``role``: ``'whole'`` (the call goes on to ``general`` with the same arguments), ``'forward'``
    (the same, its residuals marked ``Diverted``) or ``'backward'`` (a split pair's backward
    function: marked residuals go on to ``general``)."""
    args = fn.args
    if role == "backward":
        res, seed = (a.arg for a in args.args)
        text = (f"if {res}.__class__ is {_DIVERTED_NAME}:\n"
                f"    return {_GENERAL_NAME}({res}.residuals, {seed})")
        return ast.parse(text).body[0], {_DIVERTED_NAME: Diverted, _GENERAL_NAME: general}
    test = " or ".join(f"{n}.__class__ not in {_PLAIN_NAME} and {_OBJECT_NAME}({n})" for n in assumed)
    passed = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        passed.append("*" + args.vararg.arg)
    passed += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    if args.kwarg:
        passed.append("**" + args.kwarg.arg)
    call = f"{_GENERAL_NAME}({', '.join(passed)})"
    if role == "forward":
        call = f"(__value := {call})[0], {_DIVERTED_NAME}(__value[1])"
    text = f"if {test}:\n    return {call}"
    stmt = ast.parse(text).body[0]
    return stmt, {_PLAIN_NAME: PLAIN, _OBJECT_NAME: is_object, _GENERAL_NAME: general, _DIVERTED_NAME: Diverted}
