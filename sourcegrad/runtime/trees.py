"""Objects as containers of cotangents: instances of user classes are pytree nodes.

A cotangent (or tangent) has the structure of its primal value (see ``zeros``). For an instance
of a class written in Python (a plain class, a dataclass, a class with ``__slots__``) that
structure is a *shallow copy of the instance* made without calling ``__init__``, whose attributes
hold the cotangents of the original's attributes: arrays and numbers get arrays and numbers,
tuples, lists, dicts and nested objects the same recursively, anything else (strings, functions,
None) None. A namedtuple is a tuple and already has this shape. ``sg.grad(loss, wrt="model")``
therefore returns an object of the model's own class: ``g.W`` is the gradient of ``model.W``.

``y = obj.W`` is the primitive ``getattr(obj, "W")``: its adjoint is ``unattribute`` (the
cotangent of ``obj`` that is ``dy`` at ``W`` and zero elsewhere), its tangent
``attribute_tangent``. A ``@property`` is a function of the object: its derivative comes from the
property's getter, differentiated like any user function (``dispatch``).

A leaf of the package: NumPy and the standard library only.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable

import numpy as np

from sourcegrad.runtime import dispatch
from sourcegrad.runtime.zeros import zeros_like

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: the class was made by a `class` statement
_NOT_NODES = (tuple, list, dict, np.ndarray, np.generic, type, types.FunctionType, types.MethodType,
              types.ModuleType, functools.partial, BaseException, property, staticmethod, classmethod)
_visiting: set[int] = set()  # objects being rebuilt: a reference cycle gives None, not recursion


def is_node(x) -> bool:
    """Whether ``x`` is an instance of a Python class whose attributes are its children."""
    cls = type(x)
    return bool(cls.__flags__ & _HEAPTYPE) and not isinstance(x, _NOT_NODES) and bool(_field_names(x))


def _field_names(x) -> list[str]:
    names = list(vars(x)) if hasattr(x, "__dict__") else []
    for cls in type(x).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot not in ("__dict__", "__weakref__") and slot not in names and hasattr(x, slot):
                names.append(slot)
    return names


def fields(x) -> list[str]:
    """The attributes of a node that hold its data, in definition order."""
    return _field_names(x)


def rebuild(x, values: dict):
    """A shallow copy of the node ``x`` whose attributes are ``values`` (no ``__init__`` runs, so
    frozen dataclasses and classes with required arguments work)."""
    out = object.__new__(type(x))
    for name in fields(x):
        object.__setattr__(out, name, values.get(name))
    return out


def map_node(fn, x):
    """``rebuild(x, {a: fn(x.a)})``; a node met again inside itself maps to None."""
    if id(x) in _visiting:
        return None
    _visiting.add(id(x))
    try:
        return rebuild(x, {name: fn(getattr(x, name)) for name in fields(x)})
    finally:
        _visiting.discard(id(x))


def add_nodes(a, b, add):
    """Attribute by attribute sum of two cotangents of the same class."""
    if type(a) is not type(b):
        raise TypeError(f"cannot add cotangents of types {type(a).__name__} and {type(b).__name__}")
    return rebuild(a, {name: add(getattr(a, name, None), getattr(b, name, None)) for name in fields(a)})


def _static(x, name: str):
    try:
        return inspect.getattr_static(type(x), name)
    except AttributeError:
        return None


def _property_getter(x, name: str):
    attr = _static(x, name)
    if isinstance(attr, property) and name not in getattr(x, "__dict__", {}):
        return attr.fget
    if isinstance(attr, functools.cached_property) and name not in getattr(x, "__dict__", {}):
        return attr.func
    return None


def _is_own_method(x, name: str) -> bool:
    value = getattr(x, name)
    return isinstance(value, types.MethodType) and value.__self__ is x


def unattribute(g, x, name: str):
    """The cotangent of ``y = x.name`` with respect to ``x``, given the cotangent ``g`` of ``y``.

    A data attribute: zeros shaped like ``x`` with ``g`` at ``name``. A property: the getter's
    derivative applied to ``g``. A method bound to ``x``: its cotangent *is* ``x``'s (what a call
    through it gave back for ``self``). A class attribute is a constant: zeros.
    """
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):  # namedtuple: a tuple with names
        out = list(zeros_like(x))
        i = type(x)._fields.index(name)
        out[i] = out[i] if _integral(x[i]) else g
        return type(x)._make(out)
    if not is_node(x) and name in _ARRAY_PARTS:  # z.real of an array or number: np.real's rule
        return _ARRAY_PARTS[name](g)
    if not is_node(x) and g is None:  # a method of a value whose result has no derivative (x.argmax)
        return zeros_like(x)
    if not is_node(x):
        raise TypeError(
            f"sourcegrad: no derivative for the attribute '.{name}' of a {type(x).__name__} value; "
            "use the library function instead (np.real(x) rather than x.real)"
        )
    getter = _property_getter(x, name)
    if getter is not None:
        return dispatch.vjp(getter, x, g)
    if _is_own_method(x, name):
        return zeros_like(x) if g is None else g
    if name not in fields(x):
        return zeros_like(x)
    value = getattr(x, name)
    return _with(zeros_like(x), name, zeros_like(value) if _integral(value) else g)


def _integral(value) -> bool:
    """An int, bool or integer array: a field whose cotangent and tangent are zero (docs: an int
    attribute gets 0.0), whatever flows to it (`x ** m.n` gives the exponent a real derivative)."""
    t = type(value)
    return t is int or t is bool or isinstance(value, (np.integer, np.bool_)) or (
        t is np.ndarray and value.dtype.kind in "biu")


# The cotangents of x from that of x.real and x.imag, for an array or a number x: the rules of
# np.real and np.imag (rules/numpy.py), Im(z) being Re(-1j z).
_ARRAY_PARTS = {"real": lambda g: np.real(g), "imag": lambda g: -1j * np.real(g)}


def _with(node, name: str, value):
    object.__setattr__(node, name, value)
    return node


def attribute_tangent(dx, x, name: str):
    """The tangent of ``y = x.name`` given the tangent ``dx`` of ``x`` (same structure as ``x``)."""
    value = getattr(x, name)
    getter = _property_getter(x, name) if is_node(x) else None
    if getter is not None:
        return dispatch.jvp(getter, x, dx)
    if is_node(x) and _is_own_method(x, name):
        return dx
    if dx is None or isinstance(dx, (float, int)) or (is_node(x) and name not in fields(x)) or _integral(value):
        return zeros_like(value)  # a symbolic zero for the whole object, a class attribute, an int
    if isinstance(x, tuple) and not hasattr(dx, name):  # a namedtuple's tangent as a plain tuple
        return dx[type(x)._fields.index(name)]
    return getattr(dx, name)


# --- flattening, for the API's Jacobians -----------------------------------------------------


def _is_leaf(x) -> bool:
    return isinstance(x, (float, complex, np.floating, np.complexfloating)) or (
        isinstance(x, np.ndarray) and x.dtype.kind in "fc")


def flatten(x) -> tuple[list, Callable]:
    """The float leaves of a tree (tuples, lists, dicts, objects), depth first, and a function
    that builds a tree of the same structure from new leaves."""
    out: list = []
    _collect(x, x, out)

    def build(new: list):
        return _rebuild(x, iter(new))

    return [leaf for leaf, _ in out], build


def leaves_like(value, like) -> list:
    """The leaves of ``value`` (a gradient or tangent) where ``like`` has its float leaves."""
    out: list = []
    _collect(value, like, out)
    return [leaf for leaf, _ in out]


def _collect(value, like, out: list) -> None:
    if _is_leaf(like):
        out.append((value, like))
    elif isinstance(like, (tuple, list)):
        for v, l in zip(value, like):
            _collect(v, l, out)
    elif isinstance(like, dict):
        for key in like:
            _collect(value[key], like[key], out)
    elif is_node(like):
        for name in fields(like):
            _collect(getattr(value, name), getattr(like, name), out)


def _rebuild(like, new):
    if _is_leaf(like):
        return next(new)
    if isinstance(like, list):
        return [_rebuild(v, new) for v in like]
    if isinstance(like, tuple):
        items = [_rebuild(v, new) for v in like]
        return type(like)._make(items) if hasattr(type(like), "_make") else type(like)(items)
    if isinstance(like, dict):
        return type(like)((k, _rebuild(v, new)) for k, v in like.items())
    if is_node(like):
        return rebuild(like, {name: _rebuild(getattr(like, name), new) for name in fields(like)})
    return zeros_like(like)


# --- copies with a field replaced: `p._replace(x=v)`, `dataclasses.replace(obj, x=v)` ------------


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def replace_field(obj, name: str, value):
    """A copy of ``obj`` with its field ``name`` set to ``value``: ``obj._replace(name=value)`` of a
    namedtuple, ``dataclasses.replace(obj, name=value)`` of a dataclass (the normaliser makes one
    call per replaced field, normal/anf.py). Also used on cotangents, shallow copies of the object."""
    import dataclasses

    if _is_namedtuple(obj):
        return obj._replace(**{name: value})
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        known = {f.name: f for f in dataclasses.fields(cls)}
        if name not in known or not known[name].init:
            raise TypeError(f"sourcegrad: {cls.__name__} has no field '{name}' that replace can set")
        if hasattr(cls, "__post_init__") or any(not f.init for f in known.values()):
            raise TypeError(
                f"sourcegrad: dataclasses.replace of a {cls.__name__}, whose __post_init__ or init=False "
                "fields compute values when it is built, has no derivative rule; build the new object "
                f"with {cls.__name__}(...) instead")
        return dataclasses.replace(obj, **{name: value})
    return _replaced(obj, name, value)


def _replaced(obj, name: str, value):
    """``replace_field`` of a cotangent or tangent (a shallow copy of the object, no ``__init__``)."""
    if _is_namedtuple(obj):
        return obj._replace(**{name: value})
    if not is_node(obj):
        raise TypeError(
            f"sourcegrad: replace of a field of a {type(obj).__name__} value: only namedtuples "
            "(p._replace(x=v)) and dataclasses (dataclasses.replace(obj, x=v)) are supported")
    if name not in fields(obj):
        raise TypeError(f"sourcegrad: a {type(obj).__name__} has no field '{name}'")
    return rebuild(obj, {**{n: getattr(obj, n) for n in fields(obj)}, name: value})


def unreplace_field(g, obj, name: str):
    """The cotangent of ``obj`` in ``replace_field(obj, name, value)``: ``g`` with zero at ``name``
    (the replaced field does not reach the result)."""
    if _symbolic_zero(g):
        return zeros_like(obj)
    if _is_namedtuple(obj) and not _is_namedtuple(g):
        g = type(obj)._make(g)
    return _replaced(g, name, zeros_like(getattr(obj, name)))


def replace_field_tangent(dobj, dvalue, obj, name: str, value):
    """The tangent of ``replace_field(obj, name, value)``: the tangent of ``obj`` with the tangent of
    ``value`` at ``name`` (either may be a symbolic zero)."""
    if _symbolic_zero(dobj):
        dobj = zeros_like(obj)
    elif _is_namedtuple(obj) and not _is_namedtuple(dobj):
        dobj = type(obj)._make(dobj)
    if _symbolic_zero(dvalue) and type(value) is not float:
        dvalue = zeros_like(value)
    return _replaced(dobj, name, dvalue)


def _symbolic_zero(g) -> bool:
    return g is None or (type(g) is float and g == 0.0)


def field_cotangent(g, obj, name: str):
    """The field ``name`` of ``g``, a cotangent or tangent of ``obj`` (zeros where ``g`` is a
    symbolic zero): the value's part in ``replace_field``'s rules. Linear in ``g``; its transpose
    is ``with_field``."""
    value = getattr(obj, name)
    if _symbolic_zero(g) or _integral(value):
        return zeros_like(value)
    if _is_namedtuple(obj) and not hasattr(g, name):  # a namedtuple's cotangent as a plain tuple
        return g[type(obj)._fields.index(name)]
    return getattr(g, name)


def with_field(h, obj, name: str):
    """Zeros of ``obj``'s structure with ``h`` at the field ``name``: the transpose of
    ``field_cotangent``."""
    value = getattr(obj, name)
    return _replaced(zeros_like(obj), name, zeros_like(value) if _symbolic_zero(h) or _integral(value) else h)
