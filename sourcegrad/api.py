"""The public functions. They compose the stages and hold no AST code of their own.

frontend (source, fence, resolve) -> normal -> transform (reverse, assemble) -> optimise -> emit
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import re
import threading
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sourcegrad import inputs, plain, runtime
from sourcegrad.custom import Custom
from sourcegrad.emit import display, emit
from sourcegrad.emit.cache import Cache
from sourcegrad.errors import SourcegradError, TransformError
from sourcegrad.frontend import fence
from sourcegrad.frontend.resolve import MISSING, Resolver
from sourcegrad.frontend.source import exec_source, function_source
from sourcegrad.naming import Namer
from sourcegrad.normal import aliasing, normalise
from sourcegrad.optimise import passes
from sourcegrad.runtime import dispatch, tape, trees
from sourcegrad.transform import assemble, checks, inplace
from sourcegrad.transform.forward import ForwardTransform
from sourcegrad.transform.reverse import ReverseTransform

_cache = Cache()


@dataclass(frozen=True)
class _Request:
    mode: str  # 'grad' | 'grad_value' | 'value_grad' | 'split'
    wrt: tuple[int, ...]
    optimized: bool
    single: bool = False
    check_nan: bool = False
    callee: bool = False  # called from generated code: may take *args/**kwargs
    plain: bool = True  # parameters read as arrays are assumed plain, under a guard (sourcegrad.plain)


def grad(f: Callable, wrt: int | str | Sequence[int | str] = 0, optimized: bool = True,
         preserve_result: bool = False, verbose: int = 0, check_nan: bool = False,
         motion: str = "joint", mode: str = "reverse") -> Callable:
    """The gradient of ``f`` as a generated Python function.

    ``wrt`` names the differentiated parameters by position or name; a sequence gives a tuple of
    gradients. The returned function takes ``f``'s arguments plus an optional trailing seed (the
    output cotangent, default 1.0: for a non-scalar output this is the gradient of its sum, a
    number seed standing for that number at every element of the output). A gradient is itself
    such an output: ``grad(grad(f))(x)`` is the gradient of ``sum(grad(f)(x))``, i.e. ``H @ 1``.
    ``preserve_result=True`` returns ``(gradient, value)``. ``verbose=1`` prints the source
    (highlighted in a terminal); ``verbose=2`` first prints the normal form of ``f``.
    ``check_nan=True`` checks every gradient the backward pass computes and raises
    ``NonFiniteGradient`` at the first NaN or infinity, naming the user line it belongs to.

    Tangent's keywords: ``mode='forward'`` is ``autodiff(f, mode='forward')``; ``motion='split'``
    returns a function that takes the seed as the keyword ``init_grad`` (Tangent's split motion;
    the generated code is the same joint function).
    """
    if mode == "forward":
        return autodiff(f, mode="forward", wrt=wrt, optimized=optimized, preserve_result=preserve_result, verbose=verbose)
    if mode != "reverse":
        raise SourcegradError(f"grad mode {mode!r} is unknown", hint="use mode='reverse' or mode='forward'")
    if motion not in ("joint", "split"):
        raise SourcegradError(f"motion {motion!r} is unknown", hint="use motion='joint' or motion='split'")
    positions, single = _positions(f, wrt)
    request_mode = "grad_value" if preserve_result else "grad"
    df = _bound_like(f, lambda g, shift: _generate(g, _Request(request_mode, _shifted(positions, shift), optimized, single, check_nan), single))
    if verbose:
        _print_verbose(f, df, verbose)
    return _seeded_by_keyword(df, f) if motion == "split" else df


def _seeded_by_keyword(df: Callable, f: Callable) -> Callable:
    """``df`` called as Tangent's split motion calls it: ``df(*args, init_grad=seed)``. The seed
    goes in by its own name, so that parameters left to their defaults keep them."""
    seed = list(inspect.signature(df).parameters)[len(inspect.signature(f).parameters)]

    def split_df(*args, init_grad=1.0, **kwargs):
        return df(*args, **kwargs, **{seed: init_grad})

    split_df.__sourcegrad_source__ = getattr(df, "__sourcegrad_source__", None)
    split_df.__sourcegrad_helpers__ = getattr(df, "__sourcegrad_helpers__", ())
    return split_df


def autodiff(f: Callable, mode: str = "reverse", wrt: int | str | Sequence[int | str] = 0,
             optimized: bool = True, preserve_result: bool = False, verbose: int = 0,
             motion: str = "joint") -> Callable:
    """Tangent's entry point. ``mode='reverse'`` is ``grad`` (with its ``motion``). ``mode='forward'`` returns
    ``f_dot(*args, *tangents)``: the derivative of ``f`` along the given tangents of the ``wrt``
    parameters (one tangent per ``wrt`` parameter, after all of ``f``'s arguments);
    ``preserve_result=True`` returns ``(derivative, value)``."""
    if mode == "reverse":
        return grad(f, wrt=wrt, optimized=optimized, preserve_result=preserve_result, verbose=verbose, motion=motion)
    if mode != "forward":
        raise SourcegradError(f"autodiff mode {mode!r} is unknown", hint="use mode='reverse' or mode='forward'")
    positions, _ = _positions(f, wrt)
    request_mode = "forward_value" if preserve_result else "forward"
    df = _bound_like(f, lambda g, shift: _generate(g, _Request(request_mode, _shifted(positions, shift), optimized), False))
    if verbose:
        _print_verbose(f, df, verbose)
    return df


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), derivative of f along tangents)``, computed in one forward sweep (JAX's jvp)."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise SourcegradError(f"jvp: {len(primals)} primals but {len(tangents)} tangents",
                              hint="give one tangent per primal, of the same shape")
    inputs.check(f, primals, range(len(primals)), "sg.jvp")
    forward = _generate(f, _Request("jvp", tuple(range(len(primals))), True), False)
    return forward(*primals, *tangents)


def jvp_function(f: Callable, positions: tuple[int, ...], optimized: bool = True, callee: bool = False) -> Callable:
    """``f_jvp(*args, *tangents) -> (value, tangent)`` for the parameters at ``positions``.
    ``callee``: ``f`` is called from generated code (see ``primitives.call_arguments``)."""
    if f is runtime.call:  # a call through a value (layer(h)): resolved when it runs
        return dispatch.call_jvp(positions)
    return _generate(f, _Request("jvp", positions, optimized, callee=callee), False)


def value_and_grad(f: Callable, wrt: int | str | Sequence[int | str] = 0, optimized: bool = True) -> Callable:
    """A function returning ``(f(*args), gradient)``, computed in one sweep pair."""
    positions, single = _positions(f, wrt)
    request = lambda g, shift: _Request("value_grad", _shifted(positions, shift), optimized, single)
    return _bound_like(f, lambda g, shift: _generate(g, request(g, shift), single))


def vjp(f: Callable, *args: Any) -> tuple[Any, Callable]:
    """``(f(*args), pullback)``; ``pullback(seed)`` returns one cotangent per positional argument.
    The seed has the structure and shape of ``f``'s output; a number stands for that number
    everywhere (``pullback(1.0)`` gives the gradient of the sum of the output, as ``grad`` does)."""
    n = len(inspect.signature(f).parameters)
    inputs.check(f, args, range(n), "sg.vjp")
    fwd, bwd = split(f, tuple(range(n)))
    out, residuals = fwd(*args)
    def pullback(seed):
        cotangents = bwd(tape.unspent(residuals), runtime.seed_like(seed, out))  # callable again
        if n == 1:
            cotangents = (cotangents,)
        return tuple(inputs.real_for(c, x) for c, x in zip(cotangents, args))  # a real x's is real

    return out, pullback


def hvp(f: Callable, wrt: int | str | Sequence[int | str] = 0, optimized: bool = True) -> Callable:
    """``hvp_f(*args, v) -> H @ v``, the Hessian of scalar ``f`` in parameter ``wrt`` times ``v``,
    computed forward-over-reverse: the forward mode of the generated gradient, one sweep pair.
    ``v`` has the structure of the argument (a dict argument takes a dict of vectors). With a tuple
    ``wrt`` (several parameters), ``v`` is a tuple of one vector per parameter and so is the result."""
    positions, single = _positions(f, wrt)
    df = grad(f, wrt=positions[0] if single else positions, optimized=optimized)
    n_params = len(inspect.signature(df).parameters)  # f's parameters, then the seed
    forward = autodiff(df, mode="forward", wrt=positions[0] if single else positions, optimized=optimized)

    def hvp_f(*args):
        *primals, v = args
        bound = inspect.signature(f).bind(*primals)
        bound.apply_defaults()
        full = list(bound.args)
        inputs.check(f, full, positions, "sg.hvp")
        seeds = [1.0] * (n_params - len(full))
        if single:
            return inputs.real_for(forward(*full, *seeds, v), full[positions[0]])
        if not isinstance(v, (tuple, list)) or len(v) != len(positions):
            raise SourcegradError(
                f"sg.hvp with wrt={wrt!r} takes one vector per differentiated parameter as its last argument",
                hint=f"pass a tuple of {len(positions)} vectors, shaped like the arguments at {positions}",
            )
        out = forward(*full, *seeds, *v)
        return tuple(inputs.real_for(o, full[p]) for o, p in zip(out, positions))

    hvp_f.__sourcegrad_source__ = source(forward)
    hvp_f.__sourcegrad_composite__ = "sg.hvp"
    return hvp_f


def jacobian(f: Callable, wrt: int | str | Sequence[int | str] = 0, mode: str = "reverse",
             optimized: bool = True) -> Callable:
    """``jac_f(*args)``: the Jacobian of ``f`` in parameter ``wrt``, shaped ``out.shape + arg.shape``
    as JAX lays it out. ``mode='reverse'`` calls the generated VJP once per output element;
    ``mode='forward'`` the generated JVP once per input element. For a tuple, list, dict or object
    output or argument the Jacobian is nested as JAX nests it: the output's structure, each leaf
    holding the argument's structure, whose leaves are ``out_leaf.shape + arg_leaf.shape``. A tuple
    ``wrt`` (JAX's tuple ``argnums``) stands for the tuple of those arguments: an array output gets
    a tuple of Jacobians, one per parameter."""
    if mode not in ("reverse", "forward"):
        raise SourcegradError(f"jacobian mode {mode!r} is unknown", hint="use mode='reverse' or 'forward'")
    if hasattr(f, "__sourcegrad_jacobian__"):  # sg.jacobian(sg.jacobian(g)): g's second derivatives
        return _jacobian_of_jacobian(f, wrt, optimized)
    positions, single = _positions(f, wrt)
    which = positions[0] if single else positions
    df = grad(f, wrt=which, optimized=optimized) if mode == "reverse" else \
        autodiff(f, mode="forward", wrt=which, optimized=optimized)

    def jac_f(*args):
        bound = inspect.signature(f).bind(*args)
        bound.apply_defaults()
        args = list(bound.args)
        inputs.check(f, args, positions, "sg.jacobian")
        raw = f(*args)
        if not single:  # the tuple of the arguments is the tree differentiated
            call = (lambda e: df(*args, e)) if mode == "reverse" else (lambda e: df(*args, *e))
            return _tree_jacobian(call, tuple(args[p] for p in positions), raw, mode)
        position = positions[0]
        if _is_tree(args[position]) or _is_tree(raw):
            return _tree_jacobian(lambda e: df(*args, e), args[position], raw, mode)
        x, out = np.asarray(args[position], dtype=float), np.asarray(raw)
        if mode == "reverse":
            rows = [df(*args, _basis(out.shape, i)) for i in range(out.size)]
            return np.reshape(np.stack([np.ravel(r) for r in rows]), out.shape + x.shape)
        columns = [df(*args, _basis(x.shape, j)) for j in range(x.size)]
        return np.reshape(np.stack([np.ravel(c) for c in columns], axis=-1), out.shape + x.shape)

    jac_f.__sourcegrad_jacobian__ = (f, positions, single)
    return jac_f


def _jacobian_of_jacobian(jac: Callable, wrt, optimized: bool) -> Callable:
    """The Jacobian of ``jac = sg.jacobian(g, wrt=p)`` in ``g``'s parameter ``wrt``, shaped
    ``out.shape + x_p.shape + x_wrt.shape``: entry ``[i, k, j]`` is the forward derivative along
    ``e_j`` of the generated gradient of ``g``'s output ``i`` (forward over reverse, as ``hvp``)."""
    g, inner, single = jac.__sourcegrad_jacobian__
    outer, outer_single = _positions(g, wrt)
    if not (single and outer_single):
        raise SourcegradError("sg.jacobian of sg.jacobian takes one differentiated parameter at each level",
                              hint="differentiate with respect to one array parameter at a time (wrt=0)")
    df = grad(g, wrt=inner[0], optimized=optimized)
    n_params = len(inspect.signature(g).parameters)
    forward = autodiff(df, mode="forward", wrt=outer[0], optimized=optimized)

    def jac_jac_f(*args):
        bound = inspect.signature(g).bind(*args)
        bound.apply_defaults()
        args = list(bound.args)
        inputs.check(g, args, (inner[0], outer[0]), "sg.jacobian")
        out, x, y = np.asarray(g(*args)), np.asarray(args[inner[0]]), np.asarray(args[outer[0]])
        if any(_is_tree(a) for a in (args[inner[0]], args[outer[0]])) or len(args) != n_params:
            raise SourcegradError("sg.jacobian of sg.jacobian takes array or number arguments",
                                  hint="flatten containers into arrays, or use sg.hessian for a scalar function")
        blocks = [[np.ravel(forward(*args, _basis(out.shape, i), _basis(y.shape, j))) for j in range(y.size)]
                  for i in range(out.size)]
        stacked = np.array(blocks, dtype=float).reshape(out.size, y.size, x.size).transpose(0, 2, 1)
        return stacked.reshape(out.shape + x.shape + y.shape)

    jac_jac_f.__sourcegrad_composite__ = "sg.jacobian"
    return jac_jac_f


def _is_tree(x) -> bool:
    return isinstance(x, (tuple, list, dict)) or trees.is_node(x)


def _tree_jacobian(call: Callable, x, out, mode: str):
    """The nested Jacobian of a tree output ``out`` in a tree ``x`` (see ``jacobian``). ``call(e)``
    is the generated VJP at the output seed ``e`` (reverse), or the JVP at the tangent ``e`` of ``x``."""
    x_leaves, x_build = trees.flatten(x)
    out_leaves, out_build = trees.flatten(out)
    zeros = lambda leaves, k, e: [e if j == k else trees.zeros_like(leaf) for j, leaf in enumerate(leaves)]
    blocks = [[None] * len(x_leaves) for _ in out_leaves]
    if mode == "reverse":
        for k, o in enumerate(out_leaves):
            rows = [trees.leaves_like(call(out_build(zeros(out_leaves, k, _basis(np.shape(o), i)))), x)
                    for i in range(np.size(o))]
            for j, xl in enumerate(x_leaves):
                blocks[k][j] = np.reshape(np.stack([np.ravel(r[j]) for r in rows]), np.shape(o) + np.shape(xl))
    else:
        for j, xl in enumerate(x_leaves):
            cols = [trees.leaves_like(call(x_build(zeros(x_leaves, j, _basis(np.shape(xl), i)))), out)
                    for i in range(np.size(xl))]
            for k, o in enumerate(out_leaves):
                blocks[k][j] = np.reshape(np.stack([np.ravel(c[k]) for c in cols], axis=-1), np.shape(o) + np.shape(xl))
    return out_build([x_build(row) for row in blocks])


def hessian(f: Callable, wrt: int | str | Sequence[int | str] = 0, optimized: bool = True) -> Callable:
    """``hess_f(*args)``: the dense Hessian of scalar ``f`` in parameter ``wrt``, shaped
    ``arg.shape + arg.shape``, one generated Hessian-vector product per basis vector. A tuple,
    list, dict or object argument, or a tuple ``wrt``, gives the Hessian nested as JAX nests it:
    ``H[a][b]`` (``H["w"]["b"]`` for a dict) is shaped ``a.shape + b.shape``."""
    positions, single = _positions(f, wrt)
    product = hvp(f, wrt=positions[0] if single else positions, optimized=optimized)

    def hess_f(*args):
        inputs.check(f, args, positions, "sg.hessian")
        if not single:
            x = tuple(args[p] for p in positions)
            return _tree_jacobian(lambda v: product(*args, v), x, x, "forward")
        if _is_tree(args[positions[0]]):
            x = args[positions[0]]
            return _tree_jacobian(lambda v: product(*args, v), x, x, "forward")
        x = np.asarray(args[positions[0]], dtype=float)
        columns = [product(*args, _basis(x.shape, j)) for j in range(x.size)]
        return np.reshape(np.stack([np.ravel(c) for c in columns], axis=-1), x.shape + x.shape)

    hess_f.__sourcegrad_composite__ = "sg.hessian"
    return hess_f


def _basis(shape: tuple, i: int):
    """The i-th unit vector of an array of ``shape`` (a float for shape ())."""
    if shape == ():
        return 1.0
    e = np.zeros(shape)
    e.flat[i] = 1.0
    return e


def _print_verbose(f: Callable, df: Callable, verbose: int) -> None:
    """``verbose=1``: the generated source; ``verbose=2``: the normal form of ``f`` before it."""
    if verbose >= 2:
        f = inspect.unwrap(getattr(f, "__func__", f))
        src = function_source(f)
        display.show(emit.normal_form_text(normalise(src, Resolver(f), Namer()).fn, src) + "\n")
    source(df).show()


def split(f: Callable, positions: tuple[int, ...], optimized: bool = True, check_nan: bool = False,
          callee: bool = False) -> tuple[Callable, Callable]:
    """The forward/backward pair of ``f`` for the parameters at ``positions``.
    ``callee``: ``f`` is called from generated code (see ``primitives.call_arguments``)."""
    if f is runtime.call:  # a call through a value (layer(h)): resolved when it runs
        return dispatch.call_split(positions)
    return _generate(f, _Request("split", positions, optimized, check_nan=check_nan, callee=callee), False)


def _calling(fn: Callable, n_args: int, keywords: tuple[str, ...]) -> Callable:
    """A Python function calling ``fn`` (a library function held in a value, ``self.act = np.tanh``)
    with ``n_args`` positional arguments and ``keywords``: its derivative comes from ``fn``'s rules."""
    key = (fn, n_args, keywords)
    if key not in _callers:
        name = "call_" + "".join(c if c.isalnum() else "_" for c in getattr(fn, "__name__", "fn"))
        params = [f"a{i}" for i in range(n_args)] + list(keywords)
        args = params[:n_args] + [f"{k}={k}" for k in keywords]
        src = f"def {name}({', '.join(params)}):\n    return fn({', '.join(args)})\n"
        _callers[key] = exec_source(src, {"fn": fn})[name]
    return _callers[key]


_callers: dict[tuple, Callable] = {}
dispatch.install(split=lambda fn, positions: split(fn, positions, callee=True),
                 jvp=lambda fn, positions: jvp_function(fn, positions, callee=True), wrap=_calling)


def source(df: Callable) -> str:
    """The generated source of a function made by sourcegrad (and of the subroutines it calls).

    A ``str``; Jupyter shows it highlighted, and ``sg.source(df).show()`` prints it (in colour
    when standard output is a terminal and Pygments is installed)."""
    df = getattr(df, "__func__", df)
    if getattr(df, "__sourcegrad_source__", None) is None:
        raise SourcegradError(f"{df!r} was not generated by sourcegrad", hint="pass a function returned by sg.grad")
    return display.Source(emit.full_source(df))


# --- the pipeline -------------------------------------------------------------------------------


def _bound_like(f: Callable, make: Callable[[Callable, int], Callable]) -> Callable:
    """For a bound method, differentiate its function and bind the result to the same object;
    ``wrt`` positions count from the first argument after ``self``, as the user sees them."""
    if inspect.ismethod(f):
        return types.MethodType(make(f.__func__, 1), f.__self__)
    if isinstance(f, functools.partial):
        return _through_partial(f, make)
    return make(f, 0)


def _through_partial(p: functools.partial, make: Callable) -> Callable:
    """For ``functools.partial(g, *args, **keywords)``: differentiate ``g`` and fill in the
    partial's arguments. ``wrt`` counts the partial's own parameters; positional arguments beyond
    them (a seed, tangents) go after all of ``g``'s."""
    outer = list(inspect.signature(p).parameters.values())
    inner = list(inspect.signature(p.func).parameters)
    df = _bound_like(p.func, lambda g, shift: make(g, lambda i: inner.index(outer[i].name) + _shifted((0,), shift)[0]))
    count = sum(q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD) for q in outer)

    def through(*args, **kwargs):
        bound = inspect.signature(p.func).bind(*p.args, *args[:count], **{**p.keywords, **kwargs})
        bound.apply_defaults()
        return df(*bound.args, *args[count:], **bound.kwargs)

    through.__sourcegrad_source__ = df.__sourcegrad_source__
    through.__sourcegrad_helpers__ = getattr(df, "__sourcegrad_helpers__", ())
    return through


def _shifted(positions: tuple[int, ...], shift: int | Callable[[int], int]) -> tuple[int, ...]:
    return tuple(shift(p) if callable(shift) else p + shift for p in positions)


def _positions(f: Callable, wrt) -> tuple[tuple[int, ...], bool]:
    try:
        params = list(inspect.signature(f).parameters)
    except (TypeError, ValueError):  # a builtin or ufunc without a signature: no source either
        function_source(f)
        raise
    single = isinstance(wrt, (int, str))
    out = []
    for item in [wrt] if single else list(wrt):
        if isinstance(item, str):
            if item not in params:
                raise SourcegradError(f"wrt={item!r}: {f.__name__} has no parameter of that name",
                                      hint=f"choose among {params}")
            item = params.index(item)
        if not isinstance(item, int) or not 0 <= item < len(params):
            raise SourcegradError(f"wrt={item!r} is not a parameter position of {f.__name__}",
                                  hint=f"it takes {len(params)} parameters: {params}")
        out.append(item)
    return tuple(out), single


class _Late:
    """Stands in for a function still being generated: a recursive call's derivative calls the
    function that its own generation is making (resolved when that generation finishes)."""

    def __init__(self) -> None:
        self.made: Any = None

    def target(self, index: int | None) -> Callable | None:
        """The function stood in for, or None while it is still being made."""
        if self.made is None:
            return None
        return self.made if index is None else self.made[index]

    def part(self, index: int | None) -> Callable:
        def stand_in(*args, **kwargs):  # keywords too: a recursive call may pass them (f(x, n - 1, scale=s))
            return self.target(index)(*args, **kwargs)

        # what the resolver reads when the generated code is transformed again (a Hessian of a
        # recursive function): the finished derivative, whose source it can read
        stand_in.sourcegrad_stands_for = lambda: self.target(index)
        return stand_in


_pending: dict[tuple, _Late] = {}


def _generate(f: Callable, request: _Request, single: bool):
    with _ONE_AT_A_TIME:
        return _generate_locked(f, request, single)


# Generation runs one at a time: the optimiser keeps per-pass state at module level, and CPython's
# own AST constructor is not safe to use from several threads at once ("AST constructor recursion
# depth mismatch"). Reentrant: making a derivative makes its callees' derivatives.
_ONE_AT_A_TIME = threading.RLock()


def _generate_locked(f: Callable, request: _Request, single: bool):
    refused = (_refuse_resolved_when_run if getattr(f, "resolved_when_run", False)
               else _refuse_attribute if f is runtime.unattribute or f is runtime.attribute_tangent else None)
    if refused is not None:  # refused where it runs: a branch may never take it (`m.sum()`, normal/anf.py)
        return (refused,) * 2 if request.mode == "split" else refused
    if isinstance(f, Custom):  # transform a caller of f, so that f's own rules apply
        f = _caller_of(f)
    f = inspect.unwrap(getattr(f, "__func__", f))
    if getattr(f, "__module__", None) == __name__:  # sg.jacobian(g), jac_f, hess_f...: not user code
        made_by = getattr(f, "__sourcegrad_composite__", None) or (
            "sg.jacobian" if hasattr(f, "__sourcegrad_jacobian__") else f"sg.{f.__name__}")
        raise TransformError(
            f"a function made by {made_by} cannot be differentiated by transforming its source (it is "
            "sourcegrad's own loop over generated derivatives), nor can sourcegrad's functions be called "
            "inside a differentiated function",
            hint="for second derivatives use sg.hessian(f), sg.hvp(f), sg.grad(sg.grad(f)) or "
                 "sg.jacobian(sg.jacobian(f)) on the function itself, outside the differentiated code")
    if not request.plain and hasattr(f, plain.GENERAL):  # the general version of a specialised derivative
        f = getattr(f, plain.GENERAL)()
    hit = _cache.get(f, request)
    if hit is not None:
        return hit
    key = (f, request)
    if key in _pending:  # recursion: f's derivative calls the derivative being made
        late = _pending[key]
        return (late.part(0), late.part(1)) if request.mode == "split" else late.part(None)
    _pending[key] = _Late()
    try:
        made = _generate_now(f, request, single)
    finally:
        late = _pending.pop(key)
    late.made = made
    return made


def _refuse_resolved_when_run(*args, **kwargs):
    """The derivative of a derivative made when the code runs (``runtime.dispatch``): refused when
    it is called, so that code that only may take such a call (``m.sum()`` of a value that may be
    a user object, normal/anf.py) still differentiates twice where it holds arrays."""
    raise TransformError(
        "a second derivative through a call resolved at run time (a method or a layer called through an "
        "object, a function held in a value) is not supported yet",
        hint="differentiate once through objects: for Hessians, write the model as a function of its arrays "
             "(def loss(W1, W2, x)); for nested derivatives, transform the function itself (sg.grad(sg.grad(f)))")


def _refuse_attribute(*args, **kwargs):
    """The same for the derivative of an attribute read when the code runs."""
    raise TransformError(
        "a second derivative through an attribute read when the code runs (`z.real` of an argument, "
        "`obj.w`) is not supported yet",
        hint="for an array write np.real(z) and np.imag(z); for an object write the model as a function "
             "of its arrays (def loss(W1, W2, x))")


def _caller_of(custom: Custom) -> Callable:
    """A function whose body only calls ``custom``: what ``grad(custom)`` transforms, so that its
    rules apply to it as they do where other code calls it."""
    if custom.caller is None:
        params = list(inspect.signature(custom.primal).parameters.values())
        names, passed = [], []
        for p in params:
            if p.kind is p.KEYWORD_ONLY and "*" not in names:
                names.append("*")
            names.append(p.name)
            passed.append(f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name)
        name = custom.primal.__name__
        text = f"def {name}({', '.join(names)}):\n    return __custom__({', '.join(passed)})\n"
        made = exec_source(text, {"__custom__": custom}, filename=f"<sourcegrad custom {name}>")[name]
        made.__defaults__, made.__kwdefaults__ = custom.primal.__defaults__, custom.primal.__kwdefaults__
        custom.caller = made
    return custom.caller


def _generate_now(f: Callable, request: _Request, single: bool):
    src = function_source(f)
    fence.check_supported(src, var_params=request.callee)
    resolver = Resolver(f)
    carried = getattr(f, plain.ASSUMED, frozenset())  # a specialised derivative's own assumption
    nf = normalise(src, resolver, Namer(), assume_plain=request.plain)
    if not carried <= nf.scope.plain_params:
        return _generate_now(getattr(f, plain.GENERAL)(), request, single)
    nf.scope.assumed_plain |= carried
    general = plain.Late(lambda: _generate(f, dataclasses.replace(request, plain=False), single)) if nf.scope.assumed_plain else None
    _real_defaults(f, nf)
    params = nf.params
    wrt = [params[i] for i in request.wrt]
    namer, scope = nf.scope.namer, nf.scope
    temporaries = _temporaries(nf, src)
    checked = (f, wrt, _PUBLIC[request.mode]) if request.mode in _PUBLIC else None
    returning = inputs.real_gradients(wrt, single, request.mode) if request.mode in _GRADIENTS else None
    if request.mode in ("forward", "forward_value", "jvp"):
        forward = ForwardTransform(nf, wrt, lambda fn, pos: jvp_function(fn, pos, request.optimized, callee=True))
        suffix = "_jvp" if request.mode == "jvp" else "_dot"
        name = namer.fresh(nf.fn.name + suffix)
        fn = forward.function(name, with_value=request.mode != "forward")
        if request.mode == "forward_value":  # (derivative, value), like grad's preserve_result
            ret = fn.body[-1].value
            fn.body[-1].value = ast.Tuple([ret.elts[1], ret.elts[0]], ast.Load())
        made = _compile(fn, src, resolver, scope, request.optimized, temporaries, checked,
                        assumed=_assumption(scope, general, "whole"))
        _note_parameter_writes(made, src, scope, request)
        _cache.put(f, request, made, resolver)
        return made
    rc = ReverseTransform(nf, wrt, lambda fn, pos: split(fn, pos, request.optimized, request.check_nan, callee=True)).run()
    sg = _sg(scope)
    if request.mode == "split":
        names = (namer.fresh(f"{nf.fn.name}_fwd"), namer.fresh(f"{nf.fn.name}_bwd"))
        defs = assemble.split(rc, nf.fn, names, wrt, namer.adjoint, sg, namer.fresh("res"))
    else:
        name = "d" + nf.fn.name
        name = name if not namer.is_taken(name) else namer.fresh("grad_" + nf.fn.name)
        result = namer.fresh("value") if request.mode != "grad" else None
        defs = (assemble.joint(rc, nf.fn, name, wrt, namer.adjoint, sg, result, request.mode, single),)
    if request.check_nan:
        defs = tuple(checks.insert_checks(d, rc.adjoint_names | {rc.seed}, sg, src.filename) for d in defs)
    roles = ("forward", "backward") if request.mode == "split" else ("whole",)
    made = [_compile(d, src, resolver, scope, request.optimized, temporaries, checked, returning,
                     _assumption(scope, general, role, i if request.mode == "split" else None))
            for i, (d, role) in enumerate(zip(defs, roles))]
    _note_parameter_writes(made[0], src, scope, request)
    out = tuple(made) if request.mode == "split" else made[0]
    _cache.put(f, request, out, resolver)
    return out


def _assumption(scope, general: plain.Late | None, role: str, part: int | None = None) -> tuple | None:
    """What ``_compile`` needs to guard a derivative generated under ``sourcegrad.plain``'s
    assumption: the parameters, the general version (or its part of a split pair), the role."""
    if general is None:
        return None
    return sorted(scope.assumed_plain), general if part is None else general.part(part), role, (
        general.get if part is None else lambda: general.get()[part])


def _note_parameter_writes(made: Callable, src, scope, request: _Request) -> None:
    """A callee that writes into a parameter in place carries the error that ``runtime.dispatch``
    raises where it is called through a value (a static call is checked at its caller's line:
    ``normal.aliasing``)."""
    writes = aliasing.parameter_writes(src.node) if request.callee else {}
    if writes:
        param, write = next(iter(writes.items()))
        message, hint = aliasing.refusal(src.node.name, param, write)
        made.__sourcegrad_writes__ = lambda: scope.error(message, write, hint)


def _module_guards(src, scope, fn: ast.FunctionDef) -> tuple[tuple[ast.stmt, ...], dict]:
    """``xp.sum(y)`` of a parameter ``xp`` is read as an array's method, ``np.sum(xp, y)``: a module
    passed there (``h(x, np)``) would give a wrong derivative, so it is refused when the derivative
    is called. Only parameters read that way get the test (a class check), out of sight like
    ``inputs.prologue``; a default module (``xp=np``) was refused before (normal/objects.py)."""
    from sourcegrad.rules import table

    own = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    uses: dict[str, ast.Attribute] = {}
    for node in ast.walk(src.node):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in own
                and (node.attr in table.METHODS or node.attr in table.ATTRIBUTES)):
            uses.setdefault(node.value.id, node)
    guards, bindings = [], {"_sg_module_type": types.ModuleType}
    for name, use in uses.items():
        def refuse(module, name=name, use=use):
            raise scope.error(
                f"'{name}' holds the module `{module.__name__}`: sourcegrad reads `{name}.{use.attr}(...)` "
                f"as an array's method, not the module's function", use,
                f"call the module by its own name (`{module.__name__.split('.')[-1]}.{use.attr}(...)`) "
                "instead of passing it in")
        helper = f"_sg_refuse_module_{name}"
        bindings[helper] = refuse
        guards.append(ast.parse(f"if {name}.__class__ is _sg_module_type:\n    {helper}({name})").body[0])
    return tuple(guards), bindings if guards else {}


def _real_defaults(f: Callable, nf) -> None:
    """Default values in generated signatures are the objects ``f`` holds, not re-evaluated text."""
    args = nf.fn.args
    values = list(f.__defaults__ or ())
    names = [a.arg for a in args.args][len(args.args) - len(values):]
    args.defaults = [_constant_or_bound(v, n, nf.scope) for v, n in zip(values, names)]
    kw = f.__kwdefaults__ or {}
    args.kw_defaults = [_constant_or_bound(kw[a.arg], a.arg, nf.scope) if a.arg in kw else None
                        for a in args.kwonlyargs]


def _constant_or_bound(value: Any, param: str, scope) -> ast.expr:
    if type(value) in (int, float, bool, str, type(None)):
        return ast.Constant(value)
    return ast.Name(scope.bind(f"{param}_default", value), ast.Load())


def _sg(scope):
    from sourcegrad import runtime

    return scope.spell(runtime, "sg")


def _temporaries(nf, src) -> set[str]:
    """Names the transform invented: everything the user did not write."""
    user = {n.id for n in ast.walk(src.node) if isinstance(n, ast.Name)} | {a.arg for a in src.node.args.args}
    return nf.scope.namer.taken() - user


# Modes whose functions users call: their arguments are checked (sourcegrad.inputs). split and jvp
# are called by generated code; the public sg.vjp and sg.jvp check by hand.
_PUBLIC = {"grad": "sg.grad", "grad_value": "sg.grad", "value_grad": "sg.value_and_grad",
           "forward": "sg.autodiff", "forward_value": "sg.autodiff"}
# Modes that return gradients to users: a real argument's gradient is made real (sourcegrad.inputs).
_GRADIENTS = ("grad", "grad_value", "value_grad")


def _compile(fn: ast.FunctionDef, src, resolver: Resolver, scope, optimized: bool, temporaries: set[str],
             checked: tuple | None = None, returning: tuple | None = None, assumed: tuple | None = None):
    if optimized:
        temps = (temporaries | {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}) - _user_and_adjoint_names(src, scope)
        fn = passes.optimise(fn, _purity(scope, resolver), temps, assemble.is_mark)
        fn = inplace.claim_buffers(fn, scope.resolve)
    body, commented = _strip_mark(fn)
    fn.body = body
    rendered = emit.render(fn, src.filename, commented)
    namespace = {}
    for name in _in_order_of_use(emit.free_names(fn), rendered.text):
        value = scope.bindings.get(name, MISSING)
        if value is MISSING:
            value = resolver.lookup(name)
        if value is not MISSING:
            namespace[name] = value
    filename = emit.pseudo_filename(fn.name, src.filename, src.node.lineno)
    prologue, bindings = _module_guards(src, scope, fn)
    namespace.update(bindings)
    if checked is not None:  # integer arguments refused on every call, out of sight (inputs.py)
        check, bindings = inputs.prologue(*checked)
        prologue = (check, *prologue)
        namespace.update(bindings)
    if assumed is not None:  # diverted to the general version for a user object (sourcegrad.plain)
        names, general, role, twin = assumed
        stmt, bindings = plain.guard(fn, names, runtime.attributes.holds_own_attributes, general, role)
        prologue += (stmt,)
        namespace.update(bindings)
    edit = None
    if returning is not None:
        edit, bindings = returning
        namespace.update(bindings)
    made = emit.compile_function(rendered, fn.name, filename, namespace, prologue, edit)
    made.__sourcegrad_helpers__ = tuple(
        h for v in namespace.values() for h in ([v] if hasattr(v, "__sourcegrad_source__") else [])
    )
    if assumed is not None:
        setattr(made, plain.ASSUMED, frozenset(names))
        setattr(made, plain.GENERAL, twin)
    return made


def _in_order_of_use(names: set[str], text: str) -> list[str]:
    """``names`` in the order they first appear in ``text``: the generated helpers a function calls
    are listed (and shown by ``source``) in that order, the same in every process."""
    first = {name: (re.search(rf"\b{re.escape(name)}\b", text) or re.search("$", text)).start() for name in names}
    return sorted(names, key=lambda name: (first[name], name))


def _user_and_adjoint_names(src, scope) -> set[str]:
    user = {n.id for n in ast.walk(src.node) if isinstance(n, ast.Name)} | {a.arg for a in src.node.args.args}
    adjoints, tangents = scope.namer.adjoint_names(), scope.namer.tangent_names()
    return user | {adjoints[u] for u in user if u in adjoints} | {tangents[u] for u in user if u in tangents}


def _strip_mark(fn: ast.FunctionDef) -> tuple[list[ast.stmt], set[int]]:
    body, commented, seen = [], set(), False
    for stmt in fn.body:
        if assemble.is_mark(stmt):
            seen = True
            continue
        body.append(stmt)
        if seen:
            commented |= {id(n) for n in ast.walk(stmt) if isinstance(n, ast.stmt)}
    return body, commented


def _purity(scope, resolver: Resolver) -> Callable[[ast.Call], bool]:
    """Whether a call has no effect but its value: the optimiser may drop or move it.

    The tape's push and pop, ``print`` and random generators change state; a runtime helper is pure
    only if listed; anything else must have a rule (rules describe functions of their inputs).
    """
    from sourcegrad import runtime
    from sourcegrad.rules import table

    pure_helpers = {runtime.unbroadcast, runtime.unbroadcast_to, runtime.unreduce, runtime.unindex,
                    runtime.zeros_like, runtime.add, runtime.seed_like, runtime.matmul_adjoint_a,
                    runtime.matmul_adjoint_b, runtime.Tape}

    def pure(call: ast.Call) -> bool:
        fn = scope.resolve(call.func)
        if fn is MISSING or fn is print or fn is runtime.push or fn is runtime.pop:
            return False
        module = getattr(fn, "__module__", None) or ""
        if module.startswith("sourcegrad.runtime"):
            return fn in pure_helpers
        if "random" in module:
            return False
        return table.lookup_adjoint(fn) is not None or table.is_nondifferentiable(fn)

    return pure
