"""`x.T`, `x.shape`, `x.ndim`, `x.size`, `x.dtype`, `x.flat` where `x` is not surely an array
(normal/anf.py): NumPy's meaning for arrays, numbers and sequences (`np.transpose(x)`,
`np.shape(x)`..., `np.ravel(x)` for `x.flat`, read as `x.flat[i]` reads), and the
object's own attribute, with its derivative, for a user object (a dataclass with a field `size`).
Where `x` surely holds an array the normaliser calls the NumPy function itself."""

from __future__ import annotations

import types

import numpy as np

from sourcegrad.runtime import trees

_ndarray = np.ndarray
_module = types.ModuleType


def _dtype(x):
    return x.dtype if isinstance(x, (_ndarray, np.generic)) else np.result_type(x)


_NUMPY = {"T": np.transpose, "shape": np.shape, "ndim": np.ndim, "size": np.size, "dtype": _dtype,
          "flat": np.ravel}


def holds_own_attributes(x) -> bool:
    """Whether `x.name` is the object's own attribute rather than NumPy's."""
    return type(x) is not _ndarray and (trees.is_node(x) or (isinstance(x, tuple) and hasattr(type(x), "_fields")))


def own_method(x, name: str) -> bool:
    """Whether `x.name(...)`, `name` also an array method (`sum`, `reshape`...), is the object's own
    method (a user class that defines it) rather than NumPy's: decided when the code runs where
    `x` is not surely an array (normal/anf.py). A module held in a value (`self.xp = np`, then
    `self.xp.sum(y)`) and a user object without the method are refused: NumPy's function would
    take the module or the object as its array."""
    if type(x) is _ndarray:
        return False
    if isinstance(x, _module):
        raise TypeError(
            f"sourcegrad: '.{name}(...)' is read from the module `{x.__name__}` held in a value (such as "
            f"`self.xp = {x.__name__.split('.')[0]}`), which sourcegrad reads as an array's method; call the "
            f"module by its own name (`{x.__name__.split('.')[0]}.{name}(...)`)")
    if not holds_own_attributes(x):
        return False
    if hasattr(type(x), name):
        return True
    if hasattr(type(x), "__array__") or hasattr(type(x), "__array_function__"):
        return False
    raise TypeError(
        f"sourcegrad: '.{name}(...)' of a {type(x).__name__} object, whose class defines no method "
        f"'{name}' (NumPy's `np.{name}` cannot take the object as an array); define `{name}` in "
        f"{type(x).__name__}, or call it on the array the object holds")


def array_attribute(x, name: str):
    """`x.name` for one of the names above: the object's own attribute, else NumPy's."""
    if type(x) is _ndarray:
        return x.T if name == "T" else np.ravel(x) if name == "flat" else getattr(x, name)
    if holds_own_attributes(x):
        return getattr(x, name)
    return _NUMPY[name](x)


def unarray_attribute(g, x, name: str):
    """The cotangent of `x` in `array_attribute(x, name)`: `g` transposed for `.T`, zero for the
    shape and the like, the object's own rule (runtime/trees.py) for an object's attribute."""
    if type(x) is _ndarray and type(g) is _ndarray:
        return g.T if name == "T" else np.reshape(g, x.shape) if name == "flat" else 0.0
    if holds_own_attributes(x):
        return trees.unattribute(g, x, name)
    if name in ("T", "flat") and type(g) is float and g == 0.0:
        return g
    if name == "T":
        return np.transpose(g)
    return np.reshape(g, np.shape(x)) if name == "flat" else 0.0


def array_attribute_tangent(dx, x, name: str):
    """The tangent of `array_attribute(x, name)` given the tangent `dx` of `x`."""
    if holds_own_attributes(x):
        return trees.attribute_tangent(dx, x, name)
    if name in ("T", "flat") and (dx is None or (type(dx) is float and dx == 0.0)):
        return dx
    if name in ("T", "flat"):
        return np.transpose(dx) if name == "T" else np.ravel(np.broadcast_to(dx, np.shape(x)))
    return (0.0,) * np.ndim(x) if name == "shape" else 0.0  # a shape's zero tangent may be indexed


# --- array methods with rules of their own (rules/runtime.py): `x.astype(...)`, `x.item(...)` ---


def astype(x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """`x.astype(dtype, ...)`: the method, for an array or a NumPy scalar."""
    return x.astype(dtype, order, casting, subok, copy)


def item(x, index=None):
    """`x.item()`, `x.item(i)`, `x.item((i, j))`; `x.item(i, j)` arrives as `index=(i, j)`."""
    return x.item() if index is None else x.item(index)


def unitem(g, x, index=None):
    """The cotangent of `x` in `item(x, index)`: zeros like `x` with `g` at the position read
    (zero for an integer or bool `x`, whose item has no derivative)."""
    dtype = np.result_type(x)
    out = np.zeros(np.shape(x), dtype if dtype.kind in "fc" else float)
    if dtype.kind not in "fc":
        return out
    g = np.real(g) if dtype.kind == "f" else g
    if index is None:
        out[...] = g
    elif isinstance(index, tuple):
        out[index] = g
    else:
        out.flat[index] = g
    return out


def item_tangent(dx, x, index=None):
    """The tangent of `item(x, index)` given the tangent `dx` of `x`: a Python number."""
    if np.result_type(x).kind not in "fc":
        return 0.0
    return np.broadcast_to(dx, np.shape(x)).item() if index is None else np.broadcast_to(dx, np.shape(x)).item(index)
