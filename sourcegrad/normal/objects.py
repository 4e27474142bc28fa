"""Objects and containers in the normal form: method calls, calls through values, ``super()``,
dict displays, lists built with ``append``.

Input: the desugared FunctionDef (``lower_statements``) and, during ANF, single calls
(``dynamic_call``). Output: the core language of ``grammar``, where

- ``obj.W`` of a runtime object stays an attribute: the primitive ``getattr(obj, "W")``, whose
  rules live in ``rules/operators.py`` and whose helpers in ``runtime/trees.py``;
- a call whose target is a value (``layer(h)``, ``model.forward(x)``, ``self.act(z)``) becomes
  ``y = sg.call(f, args)`` with ``args`` a tuple (and keyword arguments a dict): the transforms
  differentiate it as a user function that ``runtime/dispatch.py`` resolves at run time;
- ``super().m(a)`` becomes a call of the method that ``super()`` finds, ``Base_m(self, a)``,
  resolved now through the class's MRO (the class is the method's ``__class__`` cell);
- ``xs.append(v)`` on a list made in the function becomes ``xs = operator.concat(xs, [v])``,
  a new list each time, as comprehensions build theirs;
- ``dict(a=x)`` becomes the display ``{'a': x}``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import operator
import types
from collections.abc import Callable

import numpy as np

from sourcegrad import runtime
from sourcegrad.frontend.resolve import MISSING
from sourcegrad.normal.grammar import assigned_names

MUTATORS = {"extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault",
            "popitem", "add", "discard",
            # arrays' own (`y.fill(0.0)`, `y.put(i, v)`): they write into the array
            "fill", "put", "itemset", "resize", "partition", "setfield", "setflags"}
# NumPy functions that write into an array they are given, rather than returning a new one.
WRITERS = {np.fill_diagonal, np.copyto, np.put, np.place, np.putmask, np.put_along_axis}


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, old)
    return ast.copy_location(new, old)


# --- before ANF: statements -------------------------------------------------------------------


def check_module_values(fn: ast.FunctionDef, scope) -> None:
    """A module held in a local name or a parameter's default (`xp = np`, `def f(x, xp=np)`):
    refused, since `xp.sum(y)` would be read as the array method `y.sum` of a value `xp`."""
    args = fn.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, v) for a, v in zip(args.kwonlyargs, args.kw_defaults) if v is not None]
    bound = [(a.arg, v, v) for a, v in pairs]
    bound += [(node.targets[0].id, node.value, node) for node in ast.walk(fn)
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)]
    from sourcegrad.rules import table

    methods = {node.value.id for node in ast.walk(fn)  # names whose `.sum`, `.T`... are array's
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and (node.attr in table.METHODS or node.attr in table.ATTRIBUTES)}
    for name, value, where in bound:
        if name in methods and isinstance(value, (ast.Name, ast.Attribute)) and isinstance(scope.resolve(value), types.ModuleType):
            module = ast.unparse(value)
            raise scope.error(
                f"'{name}' holds the module `{module}`: sourcegrad would read `{name}.sum(...)` as an "
                "array's method, not the module's function", where,
                f"call the module by its own name (`{module}.sum(...)`)",
            )


def lower_statements(fn: ast.FunctionDef, scope) -> ast.FunctionDef:
    """``super()`` calls, ``append`` and ``dict(...)`` lowered; mutating methods refused."""
    params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    first = (fn.args.posonlyargs + fn.args.args)[:1]
    owner = scope.resolver.closure.get("__class__")
    # The first line that rebinds each name (`xs = list(xs)`): after it, `xs` is no longer the caller's.
    rebound: dict[str, int] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            rebound[name] = min(rebound.get(name, node.lineno), node.lineno)

    class Lower(ast.NodeTransformer):
        def visit_Expr(self, node: ast.Expr):
            self.generic_visit(node)
            match node.value:
                case ast.Call(func=ast.Attribute(value=ast.Name(id=name), attr="append"), args=[item], keywords=[]) if (
                    name in scope.local_names and scope.resolve(ast.Name(name)) is MISSING
                ):
                    if name in params and rebound.get(name, node.lineno) >= node.lineno:
                        raise scope.error(f"appending to the argument '{name}' changes the caller's list", node,
                                          f"copy it first: `{name} = list({name})`")
                    concat = ast.Call(scope.spell(operator.concat), [ast.Name(name, ast.Load()), ast.List([item], ast.Load())], [])
                    return _at(ast.Assign([ast.Name(name, ast.Store())], concat), node)
            return node

        def visit_Call(self, node: ast.Call):
            self.generic_visit(node)
            # `out=None` is every NumPy function's default: dropped, so that rules need not name it
            node.keywords = [k for k in node.keywords
                             if not (k.arg == "out" and isinstance(k.value, ast.Constant) and k.value.value is None)]
            match node.func:
                case ast.Attribute(value=ast.Call(func=ast.Name(id="super"), args=[]), attr=attr):
                    return _at(ast.Call(_super_method(scope, owner, attr, node), _self(first, node, scope) + node.args, node.keywords), node)
                case ast.Attribute(value=ast.Name(id=name), attr=attr) if attr in MUTATORS and name in scope.local_names:
                    raise scope.error(f"'.{attr}()' changes '{name}' in place", node,
                                      "build a new value instead (`xs = xs + [v]`, `d = {**d, ...}` outside, ...); "
                                      "`xs.append(v)` on a list made in this function works")
                case ast.Attribute(attr="at") if isinstance(scope.resolve(node.func.value), np.ufunc):
                    raise scope.error(f"`{ast.unparse(node.func)}(...)` writes into its first argument in place", node,
                                      "build a new array instead: `y = y + np.bincount(idx, weights=v, minlength=len(y))` "
                                      "for np.add.at, or a loop of `y[i] = y[i] + v`")
                case _ if _resolved_in(scope, node.func, WRITERS):
                    raise scope.error(f"`{ast.unparse(node.func)}(...)` writes into an array in place", node,
                                      "build a new array instead (`B = np.where(mask, value, B)`, `B = B * (1 - np.eye(n))`)")
                case _ if any(k.arg == "out" for k in node.keywords):
                    raise scope.error("`out=` writes the result into an existing array in place", node,
                                      "assign the result instead (`y = np.exp(y)`)")
                case _ if (out := _positional_out(scope, node)) is not None:
                    called = ast.unparse(node.func)
                    raise scope.error(f"`{called}(...)` takes `{ast.unparse(out)}` as its `out` argument, "
                                      "and writes the result into it in place", out,
                                      f"pass only its inputs and assign the result: `y = {called}(...)`"
                                      + (" (the angle of the point (x, y) is `np.arctan2(y, x)`)"
                                         if scope.resolve(node.func) is np.arctan else ""))
                case ast.Name(id="dict") if scope.resolve(node.func) is dict and not node.args:
                    keys = [ast.Constant(k.arg) for k in node.keywords]
                    return _at(ast.Dict(keys, [k.value for k in node.keywords]), node)
            return node

    return Lower().visit(fn)


# Where NumPy's C functions take `out` by position, for NumPy versions whose C functions carry no
# signature (2.2 and older): np.dot(a, b, out), np.concatenate(arrays, axis, out).
_C_OUT_POSITIONS = {np.dot: 2, np.concatenate: 2}


def _out_position(fn) -> int | None:
    """Where the NumPy function ``fn`` takes ``out`` by position, from its signature (or the table
    above for a C function without one); None where ``out`` is keyword-only or absent."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a C function without a signature (NumPy < 2.3: np.dot)
        return _C_OUT_POSITIONS.get(fn)
    by_position = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters[:next((i for i, p in enumerate(parameters) if p.kind not in by_position),
                                              len(parameters))]]
    return names.index("out") if "out" in names else None  # np.einsum(*operands, out=None): by keyword


def _positional_out(scope, node: ast.Call) -> ast.expr | None:
    """The argument that a NumPy call receives, by position, as its `out` parameter: a ufunc's
    `nin`-th (`np.arctan(b, a)` writes arctan(b) into `a`), or the place of `out` in the signature
    of a NumPy function (`np.dot(a, b, c)`). None if there is none, or it is the constant None."""
    if any(isinstance(a, ast.Starred) for a in node.args):
        return None
    target = scope.resolve(node.func)
    if isinstance(target, np.ufunc):
        position = target.nin
    elif callable(target) and (getattr(target, "__module__", None) or "").startswith("numpy"):
        position = _out_position(target)
        if position is None:
            return None
    else:
        return None
    if len(node.args) <= position:
        return None
    out = node.args[position]
    return None if isinstance(out, ast.Constant) and out.value is None else out


def _resolved_in(scope, func: ast.expr, functions: set) -> bool:
    try:
        return scope.resolve(func) in functions
    except TypeError:  # an unhashable value
        return False


def _self(first: list[ast.arg], node: ast.AST, scope) -> list[ast.expr]:
    if not first:
        raise scope.error("`super()` in a function without parameters", node, "call the base class's method directly")
    return [ast.Name(first[0].arg, ast.Load())]


def _super_method(scope, owner, attr: str, node: ast.AST) -> ast.expr:
    """The function ``super().attr`` finds: the first class after ``owner`` in its MRO with it."""
    if not isinstance(owner, type):
        raise scope.error("`super()` outside a method of a class", node, "call the base class's method directly")
    for cls in owner.__mro__[1:]:
        if attr in vars(cls):
            fn = vars(cls)[attr]
            fn = getattr(fn, "__func__", fn)
            return scope.spell(fn, f"{cls.__name__}_{attr}".strip("_"))
    raise scope.error(f"no base class of {owner.__name__} defines '{attr}'", node)


# --- during ANF: calls through values ---------------------------------------------------------


def is_dynamic(scope, func: ast.expr) -> bool:
    """Whether a call of ``func`` goes through a value known only at run time."""
    match func:
        case ast.Name(id=name) if name in scope.local_names and name not in scope.lambdas and name not in scope.partials:
            return scope.resolve(func) is MISSING
        case ast.Attribute(value=receiver, attr=attr) if scope.resolve(func) is MISSING:
            return not isinstance(receiver, ast.Call) and _resolvable_receiver(scope, receiver) and not _array_method(attr)
    return is_record_class(scope.resolve(func))


def _resolvable_receiver(scope, receiver: ast.expr) -> bool:
    """``model.forward``: a local name, an attribute chain or a subscript of one (not a call's
    result, not a module's missing attribute)."""
    match receiver:
        case ast.Name(id=name):
            return name in scope.local_names
        case ast.Attribute(value=inner) | ast.Subscript(value=inner):
            return _resolvable_receiver(scope, inner)
    return False


def _array_method(attr: str) -> bool:
    from sourcegrad.rules import table

    return attr in table.METHODS


def is_record_class(obj) -> bool:
    """A namedtuple class or a dataclass whose ``__init__`` only stores its fields."""
    if not isinstance(obj, type):
        return False
    if issubclass(obj, tuple) and hasattr(obj, "_fields"):
        return True
    return dataclasses.is_dataclass(obj) and not hasattr(obj, "__post_init__")


def dynamic_call(normaliser, expr: ast.Call, hint: str, out: list, where: ast.stmt) -> ast.expr:
    """``f(a, k=b)`` as ``sg.call(f, f_args, f_kwargs)``, each operand an atom."""
    scope = normaliser.scope
    func = expr.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in scope.arrays:
        raise scope.error(
            f"method '.{func.attr}()' of an array is not supported", expr,
            "call the library function instead (np.sum(x) rather than x.sum())",
        )
    base = base_name(func)

    def named(value: ast.expr, name: str) -> ast.expr:
        if isinstance(value, ast.Name):
            return value
        name = scope.namer.fresh(name)
        normaliser.assign_to(name, value, where, out)
        return ast.Name(name, ast.Load())

    receiver = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
    f = named(func, f"{receiver}_{base}" if receiver else base)
    operands = [f, named(ast.Tuple(list(expr.args), ast.Load()), f"{base}_args")]
    if expr.keywords:
        keys = [ast.Constant(k.arg) for k in expr.keywords]
        operands.append(named(ast.Dict(keys, [k.value for k in expr.keywords]), f"{base}_kwargs"))
    scope.call_operands.update(o.id for o in operands[1:])
    sg = scope.spell(runtime, "sg")
    return ast.Call(ast.Attribute(sg, "call", ast.Load()), operands, [])


def base_name(func: ast.expr) -> str:
    match func:
        case ast.Name(id=name) | ast.Attribute(attr=name):
            return name.strip("_") or "f"
    return "f"


def names_made_by_calls(fn: ast.FunctionDef, resolve: Callable[[ast.expr], object]) -> frozenset[str]:
    """Local names bound to the result of calling a Python function (a factory's product)."""
    import inspect

    names = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = resolve(node.value.func)
            if inspect.isfunction(target) or target is MISSING and isinstance(node.value.func, ast.Call):
                names |= assigned_names([node])
    return frozenset(names)


# --- arrays: attributes and methods with no rule ------------------------------------------------


def _bindings(fn: ast.FunctionDef) -> dict[str, list[ast.expr]]:
    """Each local name's bound values; `None` stands for one not known here (a loop variable, a
    name unpacked from a tuple)."""
    made: dict[str, list[ast.expr]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            made.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, (ast.For, ast.Assign)):
            for name in assigned_names([node]) if isinstance(node, ast.Assign) else [getattr(node.target, "id", "")]:
                made.setdefault(name, []).append(ast.Constant(None))
    return made


def array_names(fn: ast.FunctionDef, resolve: Callable[[ast.expr], object]) -> frozenset[str]:
    """Local names that surely hold arrays: every binding is arithmetic or a call of a library
    function with a derivative rule."""
    from sourcegrad.rules import table

    made = _bindings(fn)

    def one(value: ast.expr) -> bool:
        match value:
            case ast.BinOp() | ast.UnaryOp():
                return True
            case ast.Call(func=func):
                target = resolve(func)
                return target is not MISSING and target is not getattr and table.lookup_adjoint(target) is not None
        return False

    return frozenset(name for name, values in made.items() if all(one(v) for v in values))


def sequence_names(fn: ast.FunctionDef, resolve: Callable[[ast.expr], object]) -> frozenset[str]:
    """Local names that surely hold tuples or lists: every binding is a display, a concatenation,
    ``list(...)``/``tuple(...)``, another such name, ``a + b`` of two such operands, or such an
    operand times an integer constant (where ``+``
    joins; of a list and an array it adds numbers, NumPy's ``__radd__``)."""
    made = _bindings(fn)
    for arg in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs:
        made.setdefault(arg.arg, []).append(ast.Constant(None))  # an argument: whatever is passed

    names = set(made)
    while True:  # the largest set whose bindings are all sequences, given the set itself
        kept = {n for n in names if all(is_sequence(v, names, resolve) for v in made[n])}
        if kept == names:
            return frozenset(names)
        names = kept


def is_sequence(value: ast.expr, names: set[str] | frozenset[str], resolve: Callable[[ast.expr], object]) -> bool:
    """Whether ``value`` surely makes a tuple or a list, given the ``names`` that surely hold one."""
    match value:
        case ast.Tuple() | ast.List():
            return True
        case ast.Name(id=name):
            return name in names
        case ast.BinOp(left=left, op=ast.Add(), right=right):
            return is_sequence(left, names, resolve) and is_sequence(right, names, resolve)
        case ast.BinOp(left=left, op=ast.Mult(), right=right):  # `[w] * 3`; `[1.0, 2.0] * x` multiplies
            return any(
                is_sequence(a, names, resolve) and isinstance(b, ast.Constant) and type(b.value) is int
                for a, b in ((left, right), (right, left))
            )
        case ast.Call(func=func):
            return resolve(func) in (operator.concat, list, tuple)
    return False


def check_array_attributes(fn: ast.FunctionDef, scope) -> None:
    """``y.real`` where ``y`` surely holds an array: an attribute with no derivative rule, refused
    now rather than at run time."""
    from sourcegrad.rules import table

    arrays = scope.arrays
    called = {id(node.func) for node in ast.walk(fn) if isinstance(node, ast.Call)}  # methods: dynamic_call
    for node in ast.walk(fn):
        match node:
            case ast.Attribute(value=ast.Name(id=name), attr=attr, ctx=ast.Load()) if (
                name in arrays and hasattr(np.ndarray, attr) and id(node) not in called
                and attr not in table.ATTRIBUTES and attr not in table.ARRAY_ONLY_ATTRIBUTES
                and attr not in table.METHODS
            ):
                raise scope.error(
                    f"'{name}.{attr}': the attribute '.{attr}' of an array has no derivative rule", node,
                    f"use the library function instead (np.{attr}({name}) where NumPy has one)",
                )


def function_tables(fn: ast.FunctionDef, resolve) -> dict[str, ast.expr]:
    """Local names bound once, to a dict display with constant keys or a list or tuple display,
    whose every value is a function known at transformation time (``acts = {"tanh": np.tanh}``):
    ``acts["tanh"](x)`` calls that function (``anf.Normaliser._table_entry``)."""
    bound: dict[str, list[ast.expr]] = {}
    stores: dict[str, int] = {}
    for node in ast.walk(fn):
        match node:
            case ast.Assign(targets=[ast.Name(id=name)], value=value):
                bound.setdefault(name, []).append(value)
            case ast.Name(id=name, ctx=ast.Store()):
                stores[name] = stores.get(name, 0) + 1
    tables = {}
    for name, values in bound.items():
        if stores.get(name) != 1:
            continue
        match values:
            case [ast.Dict(keys=keys, values=items) as value] if all(isinstance(k, ast.Constant) for k in keys):
                pass
            case [ast.List(elts=items) | ast.Tuple(elts=items) as value]:
                pass
            case _:
                continue
        if items and all(isinstance(v, (ast.Name, ast.Attribute)) and callable(resolve(v)) for v in items):
            tables[name] = value
    return tables
