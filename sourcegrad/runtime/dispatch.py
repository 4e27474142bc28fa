"""Calls whose target is known only at run time: ``layer(h)``, ``model.forward(x)``,
``self.activation(z)``, ``for layer in self.layers: h = layer(h)``.

The normal form writes such a call as ``y = sg.call(f, args)`` (``args`` a tuple, keyword
arguments in a dict). The transforms treat ``call`` like any user function: reverse mode asks for
its forward/backward pair, forward mode for its JVP, specialised for which of ``f``, ``args`` and
``kwargs`` are active. Those are made here (``call_split``, ``call_jvp``): at run time they look at
what ``f`` is and ask the generator for the derivative of the Python function behind it, which the
generator caches like any other:

- a bound method ``obj.m``: ``type(obj).m`` with ``obj`` as its first argument; the cotangent of
  ``f`` is then the cotangent of ``obj`` (a class method's class gets none);
- a callable object (``__call__`` written in Python): ``type(f).__call__`` with ``f`` first;
- a Python function: itself (a staticmethod read through an object is one);
- a namedtuple class or dataclass: building one packs its arguments, so the derivative unpacks;
- anything else with a derivative rule (``np.tanh`` kept in an attribute): a small Python function
  that calls it, made by the generator.

The generator (``sourcegrad.api``) installs itself with ``install``: the one place where the
runtime calls back into the pipeline, and only for these calls and for ``@property`` getters.
A leaf of the package: NumPy and the standard library only.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable
from typing import Any

from sourcegrad.runtime.zeros import seed_like, zeros_like

_generator: dict[str, Callable] = {}  # split(fn, positions), jvp(fn, positions), wrap(fn, n, names)


def install(split: Callable, jvp: Callable, wrap: Callable) -> None:
    """Called once by ``sourcegrad.api``: how to differentiate a Python function at run time."""
    _generator.update(split=split, jvp=jvp, wrap=wrap)


def call(f, args, kwargs=None):
    """``f(*args, **kwargs)``: a call whose target is a value (see the module docstring)."""
    return f(*args, **kwargs) if kwargs else f(*args)


# --- what a call runs -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Target:
    fn: Callable  # a Python function
    values: tuple  # one per parameter in order: ``*args`` a tuple, ``**kwargs`` a dict
    sources: tuple  # per parameter: ("self",), ("arg", i), ("kw", name), ("args", i), ("kwargs", names), ("default",)
    owner: bool  # the first argument is an object whose cotangent is f's
    names: tuple = ()  # per parameter: its name where it is passed by keyword, else None

    def call(self, fn: Callable, *tangents, generated: bool = True):
        """``fn`` (the function or a derivative generated from it) on ``values``, then ``tangents``.
        Generated code takes ``*args``/``**kwargs`` as a tuple and a dict by keyword (see
        ``normal._variadics_as_keywords``); the function itself takes them unpacked."""
        if not any(self.names):
            return fn(*self.values, *tangents)
        positional = [v for v, n in zip(self.values, self.names) if n is None]
        keywords = {n: v for v, n in zip(self.values, self.names) if n is not None}
        if not generated:
            for source, value in zip(self.sources, self.values):
                if source[0] == "args":
                    positional += list(value)
                elif source[0] == "kwargs":
                    keywords.update(value)
            keywords = {n: v for n, v in keywords.items() if n not in self._variadic_names()}
        return fn(*positional, *tangents, **keywords)

    def _variadic_names(self) -> set[str]:
        return {n for n, s in zip(self.names, self.sources) if s[0] in ("args", "kwargs")}


def _target(f, args: tuple, kwargs: dict | None) -> _Target:
    kwargs = kwargs or {}
    if isinstance(f, type):
        return _bind(_packer(f), (), args, kwargs, False)
    if isinstance(f, types.MethodType) and inspect.isfunction(f.__func__):
        return _bind(f.__func__, (f.__self__,), args, kwargs, not isinstance(f.__self__, type))
    if inspect.isfunction(f):
        return _bind(f, (), args, kwargs, False)
    method = inspect.getattr_static(type(f), "__call__", None)
    if inspect.isfunction(method):
        return _bind(method, (f,), args, kwargs, True)
    return _bind(_generator["wrap"](f, len(args), tuple(kwargs)), (), args, kwargs, False)


def _bind(fn, head: tuple, args: tuple, kwargs: dict, owner: bool) -> _Target:
    params = list(inspect.signature(fn).parameters.values())
    values, sources = list(head), [("self",)] * len(head)
    names: list = [None] * len(head)
    given = len(head) + len(args)
    for i, a in enumerate(args):
        if len(values) < len(params) and params[len(values)].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            values.append(a)
            sources.append(("arg", i))
            names.append(None)
    used = set()
    for p in params[len(values):]:
        if p.kind is p.VAR_POSITIONAL:
            start = len(values) - len(head)
            values.append(tuple(args[start:]))
            sources.append(("args", start))
            given -= len(args) - start
        elif p.kind is p.VAR_KEYWORD:
            extra = {k: v for k, v in kwargs.items() if k not in used}
            values.append(extra)
            sources.append(("kwargs", tuple(extra)))
            used |= set(extra)
        elif p.name in kwargs:
            values.append(kwargs[p.name])
            sources.append(("kw", p.name))
            used.add(p.name)
        elif p.default is not p.empty:
            values.append(p.default)
            sources.append(("default",))
        else:
            raise TypeError(f"sourcegrad: {fn.__qualname__}() misses the argument '{p.name}'")
        names.append(p.name if p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL, p.VAR_KEYWORD) else None)
    if given > len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]):
        raise TypeError(f"sourcegrad: {fn.__qualname__}() takes {len(params)} arguments, got {given}")
    if set(kwargs) - used:
        raise TypeError(f"sourcegrad: {fn.__qualname__}() got unexpected keyword arguments {sorted(set(kwargs) - used)}")
    return _Target(fn, tuple(values), tuple(sources), owner, tuple(names))


class _Pack:
    """Building a namedtuple or dataclass from its fields: ``Pack(cls)(*fields)``. Its derivative
    unpacks the cotangent's fields; a tangent is the same class built from the fields' tangents."""

    def __init__(self, cls: type):
        if hasattr(cls, "_fields") and issubclass(cls, tuple):
            self.names = list(cls._fields)
        elif dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__"):
            self.names = [f.name for f in dataclasses.fields(cls) if f.init]
        else:
            raise TypeError(f"sourcegrad: cannot differentiate through the construction of {cls.__qualname__} "
                            "(its __init__ runs code); build it outside the differentiated function, or make "
                            "it a dataclass or namedtuple")
        self.cls = cls
        params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in self.names]
        self.__signature__ = inspect.Signature(params)
        self.__qualname__ = cls.__qualname__

    def __call__(self, *fields):
        return self.cls(*fields) if issubclass(self.cls, tuple) else self.cls(**dict(zip(self.names, fields)))

    def unpack(self, g, values: tuple) -> list:
        if g is None or isinstance(g, (int, float)):  # a scalar seed stands for every leaf, as seed_like
            return [seed_like(g, v) if g and zeros_like(v) is not None else zeros_like(v) for v in values]
        return [getattr(g, n) if hasattr(g, n) else g[i] for i, n in enumerate(self.names)]


_packers: dict[type, _Pack] = {}


def _packer(cls: type) -> _Pack:
    if cls not in _packers:
        _packers[cls] = _Pack(cls)
    return _packers[cls]


def _positions(target: _Target, active: tuple[int, ...]) -> tuple[int, ...]:
    """Parameters to differentiate: ``active`` counts ``call``'s own (0: f, 1: args, 2: kwargs)."""
    wanted = {"self": 0 in active and target.owner, "arg": 1 in active, "args": 1 in active,
              "kw": 2 in active, "kwargs": 2 in active, "default": False}
    return tuple(i for i, s in enumerate(target.sources) if wanted[s[0]])


# --- the derivative of `call` -----------------------------------------------------------------


def _refuse_writes(made: Callable) -> None:
    """A derivative of a function that writes into its parameter in place (``v /= s``,
    ``self.h = h``) does not pass the change back: refused where the target is known only now."""
    refuse = getattr(made, "__sourcegrad_writes__", None)
    if refuse is not None:
        raise refuse()


def call_split(active: tuple[int, ...]) -> tuple[Callable, Callable]:
    """The forward/backward pair of ``call`` for its active parameters ``active``."""
    def call_fwd(f, args, kwargs=None):
        target = _target(f, args, kwargs)
        positions = _positions(target, active)
        if not positions:
            out = target.call(target.fn, generated=False)
            _refuse_method_of_value(f, active, out)
            return out, (None, None, target, positions)
        if isinstance(target.fn, _Pack):
            return target.fn(*target.values), (target.fn.unpack, None, target, positions)
        fwd, bwd = _generator["split"](target.fn, positions)
        _refuse_writes(fwd)
        out, residuals = target.call(fwd)
        return out, (bwd, residuals, target, positions)

    def call_bwd(res, g):
        bwd, residuals, target, positions = res
        grads = {}
        if isinstance(target.fn, _Pack):
            grads = dict(enumerate(target.fn.unpack(g, target.values)))
        elif positions:
            given = bwd(residuals, g)
            grads = dict(zip(positions, given if len(positions) > 1 else (given,)))
        return _regroup(target, active, lambda i: grads[i] if i in grads else zeros_like(target.values[i]))

    call_fwd.resolved_when_run = call_bwd.resolved_when_run = True  # see api._refuse_dispatchers
    return call_fwd, call_bwd


def call_jvp(active: tuple[int, ...]) -> Callable:
    """``call``'s JVP: ``call_jvp(f, args, kwargs, *tangents) -> (value, tangent)``."""

    def call_jvp(f, args, kwargs=None, *tangents):
        target = _target(f, args, kwargs)
        positions = _positions(target, active)
        if not positions:
            out = target.call(target.fn, generated=False)
            _refuse_method_of_value(f, active, out)
            return out, zeros_like(out)
        given = dict(zip(active, tangents))
        spread = [_tangent_of(target, s, given) for s in target.sources]
        if isinstance(target.fn, _Pack):
            dots = [zeros_like(v) if i not in positions or spread[i] is None else spread[i]
                    for i, v in enumerate(target.values)]
            return target.fn(*target.values), target.fn(*dots)
        jvp = _generator["jvp"](target.fn, positions)
        _refuse_writes(jvp)
        return target.call(jvp, *[spread[i] for i in positions])

    call_jvp.resolved_when_run = True
    return call_jvp


def _refuse_method_of_value(f, active: tuple[int, ...], out) -> None:
    """A method written in C (``x.astype``, ``xs.copy``, ``z.conjugate``) bound to a value being
    differentiated that returns a float has no derivative rule: refuse it rather than give the
    call a zero derivative. (Methods with rules are rewritten before: rules/numpy.py METHODS.)"""
    receiver = getattr(f, "__self__", None)
    if 0 not in active or not isinstance(f, _C_METHODS) or isinstance(receiver, (type, types.ModuleType)):
        return
    from sourcegrad.runtime.trees import flatten

    if flatten(receiver)[0] and flatten(out)[0]:
        raise TypeError(
            f"sourcegrad: the method '.{f.__name__}()' of a {type(receiver).__name__} value being "
            "differentiated has no derivative rule, and its result would get a zero derivative; "
            f"call the NumPy function instead where there is one (np.{f.__name__}(x) rather than "
            f"x.{f.__name__}(...)), or write it with operations sourcegrad differentiates")


_C_METHODS = (types.BuiltinMethodType, types.MethodWrapperType)


def _tangent_of(target: _Target, source: tuple, given: dict):
    match source:
        case ("self",):
            return given.get(0)
        case ("arg", i):
            return given[1][i] if 1 in given else None
        case ("kw", name):
            return given[2][name] if 2 in given else None
        case ("args", start):
            return tuple(given[1][start:]) if 1 in given else None
        case ("kwargs", names):
            return {n: given[2][n] for n in names} if 2 in given else None
    return None


def _regroup(target: _Target, active: tuple[int, ...], grad_of: Callable[[int], Any]):
    """Cotangents of ``call``'s own parameters (f, args, kwargs) from those of the function's:
    a ``*args`` tuple's spread back over the arguments it packed, a ``**kwargs`` dict's over the
    keywords."""
    parts = []
    for which in active:
        if which == 0:
            parts.append(grad_of(0) if target.owner else None)
        elif which == 1:
            args = []
            for i, s in enumerate(target.sources):
                if s[0] == "arg":
                    args.append(grad_of(i))
                elif s[0] == "args":
                    g = grad_of(i)
                    args += [g[j] if isinstance(g, tuple) else zeros_like(v) for j, v in enumerate(target.values[i])]
            parts.append(tuple(args))
        else:
            kwargs = {}
            for i, s in enumerate(target.sources):
                if s[0] == "kw":
                    kwargs[s[1]] = grad_of(i)
                elif s[0] == "kwargs":
                    g = grad_of(i)
                    kwargs |= {n: g[n] if isinstance(g, dict) else zeros_like(target.values[i][n]) for n in s[1]}
            parts.append(kwargs)
    return tuple(parts) if len(parts) > 1 else parts[0]


# --- property getters ---------------------------------------------------------------------------


def vjp(fn: Callable, x, g):
    """The cotangent of ``x`` for ``y = fn(x)`` given ``g`` (recomputes ``fn(x)``)."""
    fwd, bwd = _generator["split"](fn, (0,))
    _, residuals = fwd(x)
    return bwd(residuals, g)


def jvp(fn: Callable, x, dx):
    """The tangent of ``y = fn(x)`` given ``dx``."""
    return _generator["jvp"](fn, (0,))(x, dx)[1]
