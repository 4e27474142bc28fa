"""Checks for gradients of structures: tuples, lists, dicts, namedtuples and objects (pytrees).

`helpers.check_grad` compares one array per argument; here an argument is a tree whose leaves
(floats and float arrays) are perturbed one by one. A gradient must have the argument's
structure (same container types, same class for objects) and match central finite differences
in float64, in reverse mode and in forward mode (along a random tangent of the same structure).
Where autograd can run the same code, its gradient is the third opinion: autograd sees the
leaves as separate arguments and the tree is rebuilt around its boxes.
"""

import warnings

import autograd
import numpy as np

import sourcegrad as sg
from sourcegrad.runtime import trees

EPS = 1e-6


def is_leaf(x) -> bool:
    return type(x) is float or (isinstance(x, np.ndarray) and x.dtype.kind == "f")


def leaves(x) -> list:
    """The float leaves of a tree, depth first, in a fixed order."""
    if is_leaf(x):
        return [x]
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in leaves(item)]
    if isinstance(x, dict):
        return [leaf for key in x for leaf in leaves(x[key])]
    if trees.is_node(x):
        return [leaf for name in trees.fields(x) for leaf in leaves(getattr(x, name))]
    return []


def leaves_like(got, like) -> list:
    """The leaves of ``got`` where ``like`` (the argument) has its float leaves."""
    if is_leaf(like):
        return [got]
    if isinstance(like, (tuple, list)):
        return [leaf for a, b in zip(got, like) for leaf in leaves_like(a, b)]
    if isinstance(like, dict):
        return [leaf for key in like for leaf in leaves_like(got[key], like[key])]
    if trees.is_node(like):
        return [leaf for name in trees.fields(like) for leaf in leaves_like(getattr(got, name), getattr(like, name))]
    return []


def replace(x, new: list):
    """A copy of the tree ``x`` with its leaves taken, in order, from ``new`` (consumed)."""
    if is_leaf(x):
        return new.pop(0)
    if isinstance(x, list):
        return [replace(item, new) for item in x]
    if isinstance(x, tuple):
        items = [replace(item, new) for item in x]
        return type(x)._make(items) if hasattr(type(x), "_make") else tuple(items)
    if isinstance(x, dict):
        return {key: replace(x[key], new) for key in x}
    if trees.is_node(x):
        return trees.rebuild(x, {name: replace(getattr(x, name), new) for name in trees.fields(x)})
    return x


def same_structure(got, like, where="gradient"):
    """``got`` has the structure of ``like``: same containers and classes, leaves of its shapes."""
    if is_leaf(like):
        assert np.shape(got) == np.shape(like), f"{where}: shape {np.shape(got)} != {np.shape(like)}"
        return
    if not isinstance(like, (tuple, list, dict)) and not trees.is_node(like):
        return
    if isinstance(like, (tuple, list, dict)) or trees.is_node(like):
        assert type(got) is type(like), f"{where}: {type(got).__name__} where {type(like).__name__} was expected"
    if isinstance(like, (tuple, list)):
        assert len(got) == len(like), f"{where}: length {len(got)} != {len(like)}"
        for i, (a, b) in enumerate(zip(got, like)):
            same_structure(a, b, f"{where}[{i}]")
    elif isinstance(like, dict):
        assert list(got) == list(like), f"{where}: keys {list(got)} != {list(like)}"
        for key in like:
            same_structure(got[key], like[key], f"{where}[{key!r}]")
    elif trees.is_node(like):
        for name in trees.fields(like):
            same_structure(getattr(got, name), getattr(like, name), f"{where}.{name}")


def _scalar(out) -> float:
    return float(sum(np.sum(leaf) for leaf in leaves(out))) if not is_leaf(out) and not np.isscalar(out) \
        else float(np.sum(out))


def numeric_leaves(f, args, wrt: int) -> list:
    """Central differences of the sum of f's output leaves, one per leaf of args[wrt]."""
    base = leaves(args[wrt])
    out = []
    for k, leaf in enumerate(base):
        def value(shifted, k=k):
            new = [b.copy() if isinstance(b, np.ndarray) else b for b in base]
            new[k] = shifted
            call = list(args)
            call[wrt] = replace(args[wrt], new)
            return _scalar(f(*call))

        if isinstance(leaf, float):
            out.append((value(leaf + EPS) - value(leaf - EPS)) / (2 * EPS))
            continue
        g = np.zeros_like(leaf)
        for i in np.ndindex(leaf.shape):
            up, down = leaf.copy(), leaf.copy()
            up[i] += EPS
            down[i] -= EPS
            g[i] = (value(up) - value(down)) / (2 * EPS)
        out.append(g)
    return out


def check_tree_grad(f, args, wrt=0, f_ag=None, args_ag=None, rtol=1e-6, atol=1e-8):
    """sg.grad(f, wrt) on a tree argument: structure, finite differences, forward mode, autograd.

    ``f_ag`` (with ``args_ag``, the same arguments built for it, by default ``args``) is the
    autograd twin. Returns sourcegrad's gradient.
    """
    args = tuple(args)
    got = sg.grad(f, wrt=wrt)(*args)
    same_structure(got, args[wrt])
    expected = numeric_leaves(f, args, wrt)
    for k, (a, e) in enumerate(zip(leaves_like(got, args[wrt]), expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"reverse mode, leaf {k}")
    rng = np.random.default_rng(7)
    tangent = replace(args[wrt], [rng.standard_normal(np.shape(leaf)) if isinstance(leaf, np.ndarray)
                                  else float(rng.standard_normal()) for leaf in leaves(args[wrt])])
    f_dot = sg.autodiff(f, mode="forward", wrt=wrt)(*args, tangent)
    want = sum(float(np.sum(e * t)) for e, t in zip(expected, leaves(tangent)))
    np.testing.assert_allclose(_scalar(f_dot), want, rtol=rtol * 10, atol=atol * 10, err_msg="forward mode")
    if f_ag is not None:
        check_against_autograd_tree(got, f_ag, args_ag or args, wrt)
    return got


def check_against_autograd_tree(got, f_ag, args, wrt: int):
    """autograd's gradient of f_ag in each leaf of args[wrt] equals sourcegrad's ``got``."""
    base = leaves(args[wrt])

    def of_leaves(*new):
        call = list(args)
        call[wrt] = replace(args[wrt], list(new))
        out = f_ag(*call)
        return sum(autograd.numpy.sum(leaf) for leaf in _ag_leaves(out))

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        for k, a in enumerate(leaves_like(got, args[wrt])):
            e = autograd.grad(of_leaves, argnum=k)(*base)
            np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12, err_msg=f"vs autograd, leaf {k}")


def _ag_leaves(out) -> list:
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _ag_leaves(item)]
    if isinstance(out, dict):
        return [leaf for key in out for leaf in _ag_leaves(out[key])]
    return [out]
