"""Differentiated arguments hold floating-point numbers: integers and booleans are refused, and a
real argument's gradient is real.

A derivative with respect to a value that moves only in whole steps (an index, a count, a mask) is
not defined, and a float gradient returned for one hides a mistake such as an index array passed
where a weight belongs. The peers refuse it: JAX's ``grad`` raises ``TypeError`` for integer and
boolean inputs (unless ``allow_int=True``), autograd's raises ``TypeError: Can't differentiate
w.r.t. type <class 'int'>`` for Python ints and bools, NumPy integer and boolean scalars and
integer and boolean arrays, and PyTorch refuses ``requires_grad`` on integer tensors. sourcegrad
raises ``IntegerInput``, a ``SourcegradError`` and a ``TypeError``, that names the parameter, what
it holds, and the remedy.

Only differentiated (wrt) arguments are checked: an index array or a count passed beside them is
fine. The check runs on every call, so it looks at each argument's type and ``dtype.kind``, never
at its elements, and does not look into tuples, lists, dicts or objects. Complex arguments pass
(see docs/dtypes.md for the convention).

``check`` is what ``api`` calls in the functions it writes by hand (``jvp``, ``vjp``,
``jacobian``, ``hessian``, ``hvp``). A generated derivative (``grad``, ``value_and_grad``,
``autodiff``) checks its own arguments: its compiled code starts with ``prologue``, a statement
that calls ``checker``'s helper only for an argument that is neither a float (Python or NumPy)
nor a float array, and that the shown source, tracebacks and pdb never display (the way ``emit``
adds its exception notes). A leaf: it imports ``errors`` (and NumPy) only.

The cotangent of a real value is real (docs/dtypes.md): in a program with complex intermediates
(``np.real(np.sum(x * c))`` with a real ``x`` and a complex ``c``) a real argument's gradient
comes out of the adjoint sweep with an imaginary part that means nothing (its real part is right).
autograd drops it in every rule that meets a real operand; sourcegrad drops it once, where the
gradient leaves: ``real_gradients`` compiles each returned gradient as ``g`` when it is a float or
a real array (a class test and a ``dtype.kind`` read, no call) and as ``real_for(g, x)`` otherwise,
out of sight like the prologue. Rules of functions with real results (``abs``, ``norm``, ``var``,
``angle``, ``np.real``) take the real part of their cotangent, so the imaginary part never reaches a
complex argument.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sys
from collections.abc import Callable, Sequence

import numpy as np

from sourcegrad.errors import Location, SourcegradError

_REFUSED_KINDS = {"b": "boolean", "i": "integer", "u": "unsigned integer"}
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ndarray = np.ndarray
_INEXACT = frozenset([float, complex, *(np.dtype(c).type for c in np.typecodes["AllFloat"])])
_COMPLEX = frozenset([complex, *(np.dtype(c).type for c in np.typecodes["Complex"])])
# Names the prologue reads from a generated function's globals.
_HELPER = "__sourcegrad_inputs__"
_INEXACT_NAME = "__sourcegrad_inexact__"
_NDARRAY = "__sourcegrad_ndarray__"
_REAL_FOR = "__sourcegrad_real_for__"
_GRADIENT = "__sourcegrad_gradient__"  # a local of the generated function, never shown


class IntegerInput(SourcegradError, TypeError):
    """A differentiated argument holds integers or booleans (see ``sourcegrad.inputs``)."""


def refused(value) -> str | None:
    """What ``value`` is, in words, if no derivative can be taken with respect to it; else None.

    Looks at the type and ``dtype.kind`` only: constant time whatever the size of an array.
    """
    kind = value.__class__
    if kind is _ndarray:
        dtype_kind = value.dtype.kind
        if dtype_kind not in _REFUSED_KINDS:
            return None
    elif kind in _INEXACT:
        return None
    elif kind is bool or isinstance(value, int):
        return f"the Python {kind.__name__} {value!r}"
    else:
        dtype_kind = getattr(getattr(value, "dtype", None), "kind", None)
        if dtype_kind not in _REFUSED_KINDS:
            return None
    holder = "array" if getattr(value, "ndim", 0) else "scalar"
    article = "an" if dtype_kind in "iu" else "a"
    return f"{article} {_REFUSED_KINDS[dtype_kind]} {holder} (dtype {value.dtype})"


def check(f: Callable, values: Sequence, positions: Sequence[int], caller: str) -> None:
    """Raise ``IntegerInput`` if an argument of ``f`` at ``positions`` holds integers or booleans.

    ``values`` are the positional arguments as passed; ``caller`` is the public function, e.g.
    ``"sg.jacobian"``. Names are looked up only when an argument is refused.
    """
    for i in positions:
        if i < len(values) and type(values[i]) is not float:
            what = refused(values[i])
            if what is not None:
                raise _error(f, _parameter_name(f, i), values[i], what, caller)


def checker(f: Callable, names: Sequence[str], caller: str) -> Callable[..., None]:
    """``check_inputs(*values)``: ``check`` for the differentiated parameters ``names`` of ``f``,
    called by the first statement of a generated derivative (see ``prologue``)."""

    def check_inputs(*values) -> None:
        for value in values:
            if value.__class__ not in _INEXACT and refused(value) is not None:
                i = next(i for i, v in enumerate(values) if refused(v) is not None)
                raise _error(f, names[i], values[i], refused(values[i]), caller)

    return check_inputs


def prologue(f: Callable, names: Sequence[str], caller: str) -> tuple[ast.stmt, dict]:
    """The first statement of a generated derivative with respect to ``names``, and the globals it
    reads: ``if x.__class__ not in INEXACT and (x.__class__ is not ndarray or x.dtype.kind in
    'biu') or ...: check_inputs(x, ...)``, where INEXACT holds ``float``, ``complex`` and NumPy's
    float and complex scalar types. A float, a float scalar or a float array costs a few attribute
    reads; anything else (an int, a container, an object) one call of ``checker``'s helper."""
    clause = "{n}.__class__ not in {f} and ({n}.__class__ is not {a} or {n}.dtype.kind in {k!r})"
    kinds = "".join(_REFUSED_KINDS)
    test = " or ".join(clause.format(n=n, f=_INEXACT_NAME, a=_NDARRAY, k=kinds) for n in names)
    stmt = ast.parse(f"if {test}:\n    {_HELPER}({', '.join(names)})").body[0]
    return stmt, {_HELPER: checker(f, names, caller), _INEXACT_NAME: _INEXACT, _NDARRAY: _ndarray}


def real_for(g, x):
    """``g`` without its imaginary part when ``g`` is complex and ``x`` real (a float, a NumPy float
    scalar or a float array); else ``g`` itself. A tuple, list or dict gets the same, entry by entry,
    and the structure of ``x``: the gradient of a list is a list, even where a rule made a tuple
    (``sg.unstack``, ``sg.unconcatenate``: the parts of ``np.stack(xs)``). Objects are left as
    they are."""
    cls = g.__class__
    if cls is tuple or cls is list:
        if isinstance(x, (tuple, list)) and len(g) == len(x):
            parts = [real_for(a, b) for a, b in zip(g, x)]
            return parts if x.__class__ is list else type(x)._make(parts) if hasattr(type(x), "_make") else tuple(parts)
        return g
    if cls is dict and isinstance(x, dict):
        return {k: real_for(v, x[k]) if k in x else v for k, v in g.items()}
    if not (cls in _COMPLEX or (isinstance(g, _ndarray) and g.dtype.kind == "c")):
        return g
    kind = x.__class__
    if kind is float or (kind in _INEXACT and kind not in _COMPLEX):
        return g.real
    if isinstance(x, _ndarray) and x.dtype.kind == "f":
        return np.real(g)
    return g


def real_gradients(names: Sequence[str], single: bool, order: str) -> tuple[Callable, dict]:
    """How a generated gradient's ``return`` is compiled (see the module docstring), and the globals
    it reads. ``names`` are the differentiated parameters; ``single``: one gradient, not a tuple;
    ``order``: ``'grad'`` (the gradients), ``'grad_value'`` ((gradients, value)) or
    ``'value_grad'`` ((value, gradients)), as ``transform.assemble.joint`` writes them."""

    def guarded(g: ast.expr, name: str) -> ast.expr:
        text = (f"{_GRADIENT} if ({_GRADIENT} := G).__class__ is float or "
                f"{_GRADIENT}.__class__ is {_NDARRAY} and {_GRADIENT}.dtype.kind != 'c' "
                f"else {_REAL_FOR}({_GRADIENT}, {name})")
        expr = ast.parse(text, mode="eval").body
        expr.test.values[0].left.value.value = g  # G
        return expr

    def edit(ret: ast.Return) -> None:
        value = ret.value
        at = {"grad": None, "grad_value": 0, "value_grad": 1}[order]
        grads = value if at is None else value.elts[at]
        if single:
            grads = guarded(grads, names[0])
        else:
            assert isinstance(grads, ast.Tuple), "assemble.joint returns a tuple of gradients"
            grads = ast.Tuple([guarded(g, n) for g, n in zip(grads.elts, names)], ast.Load())
        if at is None:
            ret.value = grads
        else:
            value.elts[at] = grads

    return edit, {_REAL_FOR: real_for, _NDARRAY: _ndarray}


def _error(f: Callable, name: str, value, what: str, caller: str) -> IntegerInput:
    fn_name = getattr(f, "__name__", repr(f))
    message = (
        f"{caller}({fn_name}): the differentiated parameter '{name}' is {what}; derivatives "
        "are taken with respect to floating-point (or complex) values only"
    )
    if hasattr(value, "astype"):
        fix = (
            f"pass a float array ({name}.astype(float))"
            if getattr(value, "ndim", 0)
            else f"pass a float ({name}.astype(float) or float({name}))"
        )
    else:
        fix = f"pass a float ({float(value)!r} rather than {value!r})"
    if caller in ("sg.vjp", "sg.jvp"):
        leave = f"hold '{name}' fixed ({caller} of a lambda or functools.partial that supplies it)"
    else:
        leave = f"leave '{name}' out of wrt"
    hint = (
        f"{fix} if '{name}' is a quantity to differentiate, or {leave} if it is an index, "
        "a count or a mask"
    )
    return IntegerInput(message, _user_location(), hint)


def _parameter_name(f: Callable, position: int) -> str:
    try:
        params = list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        params = []
    return params[position] if position < len(params) else f"argument {position}"


def _user_location() -> Location | None:
    """The user's call of the derivative: the innermost frame that is neither in this package nor a
    generated function (``<sourcegrad ...>``); on 3.11+ the call itself is underlined, as
    ``errors.caller_location`` does, else the whole statement."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (
            os.path.abspath(filename).startswith(_PACKAGE) or filename.startswith("<sourcegrad ")
        ):
            break
        frame = frame.f_back
    if frame is None:
        return None
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(filename, lineno, frame.f_globals).rstrip("\r\n")
    col, end = len(text) - len(text.lstrip()), len(text.rstrip())
    if hasattr(frame.f_code, "co_positions") and frame.f_lasti >= 0:
        first, last, start, stop = list(frame.f_code.co_positions())[frame.f_lasti // 2]
        if first == last == lineno and start is not None and text:
            chars = lambda byte_col: len(
                text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")
            )
            col, end = chars(start), chars(stop)
    return Location(filename, lineno, col, end, text)
