"""Administrative normal form: one primitive per statement, applied to atoms.

Input: a desugared FunctionDef (see ``desugar``). Output: the core language of ``grammar``. Nested
expressions get temporaries named after their target and operation (``h_matmul``, ``h_add``), the
names the optimiser re-inlines unless the backward sweep reads them. Method calls and attributes of
arrays (``x.sum(axis=0)``, ``x.T``) become calls of the library function from the rule tables.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import operator
import types
from dataclasses import dataclass, field
from typing import Any

from sourcegrad import runtime
from sourcegrad.errors import UnsupportedSyntax, location_of
from sourcegrad.frontend.resolve import MISSING, Resolver
from sourcegrad.naming import Namer
from sourcegrad.normal import desugar, objects, surgery
from sourcegrad.normal.grammar import is_atom, is_test
from sourcegrad.rules import table

OP_NAMES = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv",
    ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul", ast.USub: "neg", ast.UAdd: "pos",
    ast.Invert: "invert", ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor",
    ast.LShift: "lshift", ast.RShift: "rshift",
}  # fmt: skip


@dataclass
class Scope:
    """What the normal form needs to know about names: resolved objects and extra bindings."""

    resolver: Resolver
    namer: Namer
    filename: str
    local_names: frozenset[str]
    bindings: dict[str, Any] = field(default_factory=dict)  # names the transform introduced
    lambdas: dict[str, ast.Lambda] = field(default_factory=dict)  # local lambdas, inlined at calls
    function_tables: dict[str, ast.expr] = field(default_factory=dict)  # `acts = {"tanh": np.tanh}`: objects.function_tables
    partials: dict[str, ast.Call] = field(default_factory=dict)  # local functools.partial: its call
    made_by_calls: frozenset[str] = frozenset()  # locals a user function returned (objects.py)
    arrays: frozenset[str] = frozenset()  # locals that surely hold arrays (objects.py)
    sequences: frozenset[str] = frozenset()  # locals that surely hold tuples or lists (objects.py)
    # Parameters assumed to hold no user object where their .T/.shape/... are read (sourcegrad/plain.py),
    # and those of them whose attributes were read so.
    plain_params: frozenset[str] = frozenset()
    assumed_plain: set[str] = field(default_factory=set)
    # The argument tuples and dicts packed for `sg.call` (objects.py): their entries may be objects,
    # whose adjoints accumulate with `sg.add` (transform/reverse.py).
    call_operands: set[str] = field(default_factory=set)

    def resolve(self, node: ast.expr) -> Any:
        """The object a name or dotted name denotes, the transform's own bindings (``sg``) first."""
        match node:
            case ast.Name(id=name) if name in self.bindings:
                return self.bindings[name]
            case ast.Attribute(value=base, attr=attr) if isinstance(base, (ast.Name, ast.Attribute)):
                owner = self.resolve(base)
                return MISSING if owner is MISSING else getattr(owner, attr, MISSING)
        return self.resolver.resolve(node, self.local_names)

    def spell(self, obj: Any, preferred: str | None = None) -> ast.expr:
        """An expression for ``obj`` in generated code, in the user's own spelling if possible."""
        if isinstance(obj, types.ModuleType):
            name = self.resolver.spelling_of(obj) or self._bind(preferred or obj.__name__.split(".")[-1], obj)
            return ast.Name(name, ast.Load())
        name = getattr(obj, "__name__", None)
        if isinstance(name, str) and getattr(builtins, name, None) is obj and self.resolve(ast.Name(name)) is obj:
            return ast.Name(name, ast.Load())  # len, range, min: by their own names where not shadowed
        own = self.resolver.spelling_of(obj)
        if own is not None and own not in self.local_names:  # the user's own name for it
            return ast.Name(own, ast.Load())
        module = _module_of(obj)
        if module is not None:
            return ast.Attribute(self.spell(module, module.__name__.split(".")[0]), obj.__name__, ast.Load())
        name = self.resolver.spelling_of(obj) or self._bind(preferred or getattr(obj, "__name__", "fn"), obj)
        return ast.Name(name, ast.Load())

    def bind(self, base: str, obj: Any) -> str:
        """A name for ``obj`` in generated code (reused if it is bound already)."""
        return self._bind(base, obj)

    def _bind(self, base: str, obj: Any) -> str:
        for name, value in self.bindings.items():
            if value is obj:
                return name
        name = self.namer.fresh(base)
        self.bindings[name] = obj
        return name

    def error(self, message: str, node: ast.AST, hint: str | None = None) -> UnsupportedSyntax:
        return UnsupportedSyntax(message, location_of(node, self.filename), hint=hint)


def _method_of_type(scope, func: ast.expr) -> bool:
    """``type(m).sum``: a method read from an object's class (the remedy for a user method named
    like an array method), not an array method of the value ``type(m)``."""
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
            and scope.resolve(func.value.func) is type and len(func.value.args) == 1)


def _module_of(obj: Any):
    import sys

    name = getattr(obj, "__name__", None)
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    if module is not None and module.__name__.startswith("_"):  # operator.concat, not _operator.concat
        public = sys.modules.get(module.__name__.lstrip("_"))
        module = public if public is not None and getattr(public, name or "", None) is obj else module
    if module is None and type(obj).__name__ == "ufunc":
        module = sys.modules["numpy"]
    if module is None or name is None or getattr(module, name, None) is not obj:
        return None
    return module


class Normaliser:
    """Flattens statements; ``block`` is the entry point for a statement list."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            out.extend(self.stmt(stmt))
        return out

    def stmt(self, stmt: ast.stmt) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        match stmt:
            case ast.Assign(targets=[ast.Name(id=name)], value=ast.Lambda() as lam):
                self.scope.lambdas[name] = lam
                out.append(stmt)
            case ast.Assign(targets=[ast.Name(id=name)], value=ast.Call() as call) if (
                self.scope.resolve(call.func) is functools.partial and call.args
            ):
                self.partial(name, call, stmt, out)
            case ast.Assign(targets=[ast.Name(id=name)], value=value):
                self.assign_to(name, value, stmt, out)
            case ast.Assign(targets=[ast.Tuple() | ast.List() as target], value=value):
                self.unpack(target, value, stmt, out)
            case ast.Assign(targets=[ast.Subscript(value=ast.Name(id=name)) as target], value=value):
                self.store_item(name, target.slice, value, stmt, out)
            case ast.If(test=ast.Name(), body=[ast.Break()], orelse=[]):
                out.append(stmt)
            case ast.If(test=test, body=body, orelse=orelse):
                cond = self.scope.namer.fresh("cond")
                out.append(self._at(_assign(cond, test), stmt))
                out.append(self._at(ast.If(ast.Name(cond, ast.Load()), self.block(body), self.block(orelse)), stmt))
            case ast.For(target=ast.Name() as target, iter=iterable, body=body):
                loop = ast.For(target, self.range_expression(iterable, out, stmt), self.block(body), [])
                out.append(self._at(loop, stmt))
            case ast.While(test=test, body=body):
                out.append(self._at(ast.While(test, self.block(body), []), stmt))
            case ast.Return(value=None):
                out.append(self._at(ast.Return(ast.Constant(None)), stmt))
            case ast.Return(value=value) if is_atom(value) or self._is_global(value):
                out.append(self._at(ast.Return(value), stmt))
            case ast.Return(value=value):
                name = self.scope.namer.fresh("out")
                self.assign_to(name, value, stmt, out)
                out.append(self._at(ast.Return(ast.Name(name, ast.Load())), stmt))
            case ast.FunctionDef():
                raise self.scope.error(
                    "a function defined inside the differentiated function is not supported yet",
                    stmt, "define it at module level, or as a lambda assigned to a name",
                )
            case ast.Expr(value=ast.Call() as call) if self.scope.resolve(call.func) is not MISSING:
                # sg.push(tape, dx * 2) in a generated gradient: the pushed value must be a name
                out.append(self._at(ast.Expr(self.call(call, "arg", out, stmt)), stmt))
            case ast.Expr() | ast.Assert() | ast.Pass() | ast.Break():
                out.append(stmt)
            case surgery.Inserted():
                out.append(stmt)
            case _:
                raise self.scope.error(f"{type(stmt).__name__} statement is not supported here", stmt, "write it as a plain assignment, `if`, `for`, `while` or `return` (an annotated `y: float = v` as `y = v`)")
        return out

    def range_expression(self, node: ast.expr, out: list, where: ast.stmt) -> ast.expr:
        """``range(a, b)`` or a slice of one, its bounds as atoms."""
        match node:
            case ast.Call(func=func, args=args):
                return ast.Call(func, [self.atom(a, "stop", out, where) for a in args], [])
            case ast.Subscript(value=inner, slice=ast.Slice() as piece):
                return ast.Subscript(self.range_expression(inner, out, where), self.index(piece, "range", out, where), ast.Load())
        raise AssertionError("desugar leaves only ranges to iterate over")

    # --- assignments ----------------------------------------------------------------------------

    def assign_to(self, name: str, value: ast.expr, where: ast.stmt, out: list, hint: str | None = None) -> None:
        if is_test(value):
            out.append(self._at(_assign(name, value), where))
            return
        if isinstance(value, ast.IfExp):
            self.if_expression(name, value, where, out)
            return
        if isinstance(value, ast.BoolOp):  # `a or b` is `a if a else b`; `a and b`, `b if a else a`
            first = self.atom(value.values[0], hint or name, out, where)
            rest = value.values[1] if len(value.values) == 2 else ast.BoolOp(value.op, value.values[1:])
            pick = (first, rest) if isinstance(value.op, ast.Or) else (rest, first)
            self.if_expression(name, self._at(ast.IfExp(first, *pick), where), where, out)
            return
        prim = self.primitive(value, hint or name, out, where)
        if name in _names_in(prim) and not is_atom(prim):
            temp = self.scope.namer.fresh(f"{name}_{_expr_op_name(prim)}")
            out.append(self._at(_assign(temp, prim), where))
            prim = ast.Name(temp, ast.Load())
        out.append(self._at(_assign(name, prim), where))

    def store_item(self, name: str, index: ast.expr, value: ast.expr, where: ast.stmt, out: list) -> None:
        """``x[index] = value`` -> ``x = sg.setitem(x, index, value)``: an in-place update as a
        rebinding, which the transforms save and restore like any other (runtime/inplace.py)."""
        from sourcegrad import runtime

        if any(isinstance(n, ast.Slice) for n in ast.walk(index)):  # a slice as a value: np.s_[a:b]
            import numpy

            index = ast.Subscript(ast.Attribute(self.scope.spell(numpy, "np"), "s_", ast.Load()), index, ast.Load())
        setitem = ast.Attribute(self.scope.spell(runtime, "sg"), "setitem", ast.Load())
        self.assign_to(name, ast.Call(setitem, [ast.Name(name, ast.Load()), index, value], []), where, out)

    def if_expression(self, name: str, node: ast.IfExp, where: ast.stmt, out: list) -> None:
        cond = self.scope.namer.fresh("cond")
        out.append(self._at(_assign(cond, node.test), where))
        then, other = [], []
        self.assign_to(name, node.body, where, then)
        self.assign_to(name, node.orelse, where, other)
        out.append(self._at(ast.If(ast.Name(cond, ast.Load()), then, other), where))

    def unpack(self, target: ast.Tuple | ast.List, value: ast.expr, where, out: list) -> None:
        names = [t.id for t in target.elts if isinstance(t, ast.Name)]
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            # Parallel assignment: evaluate every right-hand side before binding any target.
            clash = set(names) & {n for v in value.elts for n in _names_in(v)}
            values = []
            for t, v in zip(target.elts, value.elts):
                hint = t.id if isinstance(t, ast.Name) else "item"
                values.append(self.atom(v, hint + "_new", out, where) if clash else v)
            for t, v in zip(target.elts, values):
                out.extend(self.stmt(self._at(ast.Assign(targets=[t], value=v), where)))
            return
        source = self.atom(value, "_".join(names) or "items", out, where)
        if not isinstance(source, ast.Name):
            raise self.scope.error("cannot unpack a constant", where, "unpack a tuple, list or array, or assign the names one by one")
        flat = []
        for t in target.elts:
            if isinstance(t, ast.Name):
                flat.append(ast.Name(t.id, ast.Store()))
            else:  # nested target: unpack into a temporary, then unpack that
                inner = self.scope.namer.fresh("items")
                flat.append(ast.Name(inner, ast.Store()))
        out.append(self._at(ast.Assign(targets=[ast.Tuple(flat, ast.Store())], value=source), where))
        for t, f in zip(target.elts, flat):
            if not isinstance(t, ast.Name):
                self.unpack(t, ast.Name(f.id, ast.Load()), where, out)

    # --- expressions ----------------------------------------------------------------------------

    def atom(self, expr: ast.expr, hint: str, out: list, where: ast.stmt) -> ast.expr:
        """``expr`` as an atom, emitting statements for anything compound."""
        if is_atom(expr) or self._is_global(expr):
            return expr
        match expr:
            case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=v)) if isinstance(v, (int, float)):
                return ast.Constant(-v)
        name = self.scope.namer.fresh(f"{hint}_{_expr_op_name(expr)}")
        self.assign_to(name, expr, where, out, hint)
        return ast.Name(name, ast.Load())

    def primitive(self, expr: ast.expr, hint: str, out: list, where) -> ast.expr:
        """``expr`` as one primitive applied to atoms."""
        at = lambda e, h=hint: self.atom(e, h, out, where)
        match expr:
            case ast.Name() | ast.Constant():
                return expr
            case ast.Attribute(value=receiver, attr=attr) if not self._is_global(expr):
                sure_array = isinstance(receiver, ast.Name) and receiver.id in self.scope.arrays
                fn = table.ATTRIBUTES.get(attr) if sure_array else None
                if fn is None and isinstance(receiver, ast.Name) and receiver.id in self.scope.plain_params:
                    fn = table.ATTRIBUTES.get(attr)  # NumPy's meaning, guarded when the code runs
                    if fn is not None:
                        self.scope.assumed_plain.add(receiver.id)
                if fn is None and sure_array:
                    fn = table.ARRAY_ONLY_ATTRIBUTES.get(attr)
                if fn is None and attr in table.ATTRIBUTES:  # `c.size` of a dataclass, or an array's
                    from sourcegrad import runtime

                    get = ast.Attribute(self.scope.spell(runtime, "sg"), "array_attribute", ast.Load())
                    return ast.Call(get, [at(receiver), ast.Constant(attr)], [])
                if fn is None:  # an object's attribute (self.scale): a primitive of its own
                    return ast.Attribute(at(receiver), attr, ast.Load())
                return ast.Call(self.scope.spell(fn), [at(receiver)], [])
            case ast.Attribute():
                return expr
            case ast.BinOp(left=left, op=ast.Add(), right=right) if objects.is_sequence(
                expr, self.scope.sequences, self.scope.resolve
            ):  # `xs + [v]` joins: a concatenation, whose rules split the cotangent again
                return ast.Call(self.scope.spell(operator.concat), [at(left), at(right)], [])
            case ast.BinOp(left=left, op=ast.Mult(), right=right) if objects.is_sequence(
                left, self.scope.sequences, self.scope.resolve
            ) or objects.is_sequence(right, self.scope.sequences, self.scope.resolve):
                # `[w] * 3`, `2 * (a, b)`: a repetition, whose rules sum the copies' cotangents
                from sourcegrad import runtime

                xs, n = (left, right) if objects.is_sequence(left, self.scope.sequences, self.scope.resolve) else (right, left)
                repeat = ast.Attribute(self.scope.spell(runtime, "sg"), "repeat_sequence", ast.Load())
                return ast.Call(repeat, [at(xs), at(n)], [])
            case ast.BinOp(left=left, op=op, right=right):
                return ast.BinOp(at(left), op, at(right))
            case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=v)) if isinstance(v, (int, float)):
                return ast.Constant(-v)
            case ast.UnaryOp(op=op, operand=operand):
                return ast.UnaryOp(op, at(operand))
            case ast.Call():
                return self.call(expr, hint, out, where)
            case ast.Subscript(value=value, slice=index):
                return ast.Subscript(at(value), self.index(index, hint, out, where), ast.Load())
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                return type(expr)([at(e) for e in elts], ast.Load())
            case ast.Dict(keys=keys, values=values) if all(isinstance(k, ast.Constant) for k in keys):
                return ast.Dict(keys, [at(v) for v in values])
            case ast.IfExp() | ast.Compare() | ast.BoolOp():
                return at(expr)
        raise self.scope.error(f"{type(expr).__name__} expression is not supported here", expr, "compute it outside the differentiated function and pass it in, or write it with arithmetic, calls, subscripts, tuples and lists")

    def index(self, index: ast.expr, hint: str, out: list, where) -> ast.expr:
        match index:
            case ast.Slice(lower=lo, upper=up, step=st):
                parts = [None if p is None else self.atom(p, hint + "_bound", out, where) for p in (lo, up, st)]
                return ast.Slice(*parts)
            case ast.Tuple(elts=elts):
                return ast.Tuple([self.index(e, hint, out, where) for e in elts], ast.Load())
        return self.atom(index, hint + "_index", out, where)

    def partial(self, name: str, call: ast.Call, where: ast.stmt, out: list) -> None:
        """``g = functools.partial(f, a, k=b)``: later calls ``g(x)`` become ``f(a, x, k=b)``, with
        ``a`` and ``b`` as they were here (Python evaluates them once, when the partial is made)."""

        def kept(value: ast.expr, base: str) -> ast.expr:
            value = self.atom(value, base, out, where)
            if isinstance(value, ast.Name) and value.id in self.scope.local_names:
                copy_name = self.scope.namer.fresh(base)
                out.append(self._at(_assign(copy_name, value), where))
                return ast.Name(copy_name, ast.Load())
            return value

        target, *args = call.args
        args = [kept(a, f"{name}_arg") for a in args]
        keywords = [ast.keyword(k.arg, kept(k.value, f"{name}_{k.arg}")) for k in call.keywords]
        self.scope.partials[name] = ast.Call(target, args, keywords)

    def _through_partial(self, expr: ast.Call) -> ast.Call | None:
        """A call of a ``functools.partial`` as a call of its function, arguments filled in."""
        func = expr.func
        if isinstance(func, ast.Name) and func.id in self.scope.partials:
            made = self.scope.partials[func.id]
            target, args, keywords = made.func, made.args, made.keywords
        else:
            obj = self.scope.resolve(func)
            if not isinstance(obj, functools.partial):
                return None
            target = self.scope.spell(obj.func)
            args = [self._value(v, "arg") for v in obj.args]
            keywords = [ast.keyword(k, self._value(v, k)) for k, v in obj.keywords.items()]
        given = {k.arg for k in expr.keywords}
        keywords = [_copy(k) for k in keywords if k.arg not in given] + list(expr.keywords)
        return ast.copy_location(ast.Call(_copy(target), [_copy(a) for a in args] + list(expr.args), keywords), expr)

    def _value(self, value: Any, base: str) -> ast.expr:
        if type(value) in (int, float, bool, str, type(None)):
            return ast.Constant(value)
        return ast.Name(self.scope.bind(base, value), ast.Load())

    def call(self, expr: ast.Call, hint: str, out: list, where) -> ast.expr:
        at = lambda e: self.atom(e, hint, out, where)
        through = self._through_partial(expr)
        if through is not None:
            return self.call(through, hint, out, where)
        if isinstance(expr.func, ast.Subscript) and (known := self._table_entry(expr.func)) is not None:
            return self.call(ast.copy_location(ast.Call(known, expr.args, expr.keywords), expr), hint, out, where)
        if (read := desugar.dict_method(expr, self.scope.resolve, self.scope.spell)) is not None:
            return self.primitive(read, hint, out, where)  # d.get(k, default): d[k] or default
        func, args = expr.func, list(expr.args)
        target = self.scope.resolve(func)
        if (chosen := self._chosen(expr, target, hint, out, where)) is not None:
            return chosen
        if (replaced := self._replaced(expr, target, hint, out, where)) is not None:
            return replaced
        if _bound_user_method(target):  # Cls.make(r) of a classmethod: make's function, Cls passed as cls
            receiver = self.scope.spell(target.__self__, objects.base_name(func.value) if isinstance(func, ast.Attribute) else None)
            plain = ast.Call(self.scope.spell(target.__func__), [receiver, *expr.args], expr.keywords)
            return self.call(ast.copy_location(plain, expr), hint, out, where)
        if _takes_variadics(target):
            expr = self._packed(expr, target, hint, out, where)
            func, args = expr.func, list(expr.args)
        elif _unpacks(expr):
            raise self.scope.error(
                f"unpacking with `*` or `**` in a call of '{ast.unparse(func)}', which takes no *args or **kwargs",
                expr, "pass the arguments one by one")
        if isinstance(func, ast.Name) and func.id in self.scope.lambdas:
            return self.primitive(self._inline_lambda(self.scope.lambdas[func.id], expr), hint, out, where)
        if isinstance(func, ast.Call) and not _unpacks(expr):  # make_model(W)(x): the made function is a value
            made = self._named(func, f"{objects.base_name(func.func)}_made", out, where)
            return objects.dynamic_call(self, ast.Call(made, expr.args, expr.keywords), hint, out, where)
        if objects.is_dynamic(self.scope, func) or _method_of_type(self.scope, func):  # layer(h), model.forward(x),
            return objects.dynamic_call(self, expr, hint, out, where)  # type(m).sum(m): sg.call(f, args)
        if isinstance(func, ast.Attribute) and isinstance(self.scope.resolve(func.value), types.ModuleType) and (
            self.scope.resolve(func) is MISSING
        ):
            module = self.scope.resolve(func.value).__name__
            raise self.scope.error(f"'{ast.unparse(func)}' does not exist: module {module} has no attribute "
                                   f"'{func.attr}'", expr, "check the spelling")
        if isinstance(func, ast.Attribute) and not self._is_global(func):
            method = table.METHODS.get(func.attr)
            if method is None:
                raise self.scope.error(
                    f"method '.{func.attr}()' of a runtime value is not supported", expr,
                    "call the library function instead (np.sum(x) rather than x.sum())",
                )
            fn, pack = method
            if not self._plain_receiver(func.value):  # a user object's own `sum`, or NumPy's
                return self._either_method(expr, fn, pack, hint, out, where)
            if pack and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            args = [func.value] + args
            func = self.scope.spell(fn)
        elif self.scope.resolve(func) is MISSING:
            raise self.scope.error(
                f"cannot tell what '{ast.unparse(func)}' calls at transformation time", expr,
                "call a module-level function, a library function, a functools.partial, a lambda or def "
                "of this function, or a function held in a local name (made by a factory, kept in an object)",
            )
        chooses = any(target is f for f in (runtime.max_index, runtime.min_index, runtime.sort_order))
        keywords = [ast.keyword(k.arg, self._key(k.value, out, where) if chooses else at(k.value)) for k in expr.keywords]
        args = [ast.Starred(at(a.value), ast.Load()) if isinstance(a, ast.Starred) else at(a) for a in args]
        return ast.Call(self._functional(func), args, keywords)

    def _table_entry(self, func: ast.Subscript) -> ast.expr | None:
        """``acts["tanh"]`` of a table of functions indexed by a constant: a dict, list or tuple held
        by a global, or a display of functions known at transformation time bound once to a local
        name (``acts = {"tanh": np.tanh, "sq": square}``): the function it holds, called directly."""
        match func.slice:
            case ast.Constant(value=key):
                pass
            case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int() as count)):  # layers[-1]
                key = -count
            case _:
                return None
        if isinstance(func.value, ast.Name) and func.value.id in self.scope.function_tables:
            table_ = self.scope.function_tables[func.value.id]
            if isinstance(table_, ast.Dict):
                found = [v for k, v in zip(table_.keys, table_.values) if k.value == key]
                return _copy(found[-1]) if found else None
            return _copy(table_.elts[key]) if isinstance(key, int) and -len(table_.elts) <= key < len(table_.elts) else None
        held = self.scope.resolve(func.value)
        if isinstance(held, (dict, list, tuple)):
            try:
                item = held[key]
            except (KeyError, IndexError, TypeError):
                return None
            return self.scope.spell(item) if callable(item) else None
        return None

    def _chosen(self, expr: ast.Call, target, hint: str, out: list, where) -> ast.expr | None:
        """Python's ``max(a, b)``, ``min(xs, key=k)``: ``items[sg.max_index(items, key=k)]``, the item
        Python picks (the first of equals), so its derivative is the chosen item's. ``sorted(xs, key=k,
        reverse=r)``: ``sg.permuted(xs, sg.sort_order(xs, key=k, reverse=r))``, a permutation
        whose cotangent goes back to the places the items came from (runtime/choices.py)."""
        from sourcegrad import runtime

        args, keywords = expr.args, expr.keywords
        if target is sorted:
            pick, allowed = runtime.sort_order, {"key", "reverse"}
        elif target is max or target is min:
            pick, allowed = (runtime.max_index if target is max else runtime.min_index), {"key"}
        else:
            return None
        if target is not sorted and len(args) == 1 and isinstance(args[0], ast.Starred):  # min(*xs): min(xs)
            args = [args[0].value]
        if not args or (target is sorted and len(args) != 1) or any(isinstance(a, ast.Starred) for a in args) or any(k.arg not in allowed for k in keywords):
            return None  # max(xs, default=d): no rule, refused as before
        if all(self._count(a) for a in args):  # min(len(xs), len(ys)) of a zip: integers, no derivative
            return None
        items = args[0] if len(args) == 1 else ast.Tuple(list(args), ast.Load())
        seq = self._named(items, f"{hint}_items", out, where)
        given = [ast.keyword(k.arg, self._key(k.value, out, where)) for k in keywords]
        order = ast.Call(ast.Attribute(self.scope.spell(runtime, "sg"), pick.__name__, ast.Load()), [seq], given)
        at = self.atom(order, f"{hint}_{'order' if target is sorted else 'at'}", out, where)
        if target is not sorted:
            return ast.Subscript(seq, at, ast.Load())
        return ast.Call(ast.Attribute(self.scope.spell(runtime, "sg"), "permuted", ast.Load()), [seq, at], [])

    def _replaced(self, expr: ast.Call, target, hint: str, out: list, where) -> ast.expr | None:
        """``p._replace(x=v, y=w)`` of a namedtuple and ``dataclasses.replace(obj, x=v)``: a copy with
        fields replaced, one ``sg.replace_field(obj, 'x', v)`` per field after all are evaluated,
        whose rules send the result's cotangent to the kept fields and to the new values."""
        import dataclasses

        from sourcegrad import runtime

        if target is dataclasses.replace and len(expr.args) == 1:
            obj = expr.args[0]
        elif (isinstance(expr.func, ast.Attribute) and expr.func.attr == "_replace" and not expr.args
              and (target is MISSING or getattr(target, "__name__", None) == "_replace")):
            obj = expr.func.value
        else:
            return None
        if isinstance(obj, ast.Starred) or any(k.arg is None for k in expr.keywords):
            raise self.scope.error(f"unpacking with `*` or `**` in '{ast.unparse(expr.func)}'", expr,
                                   "name the replaced fields one by one")
        if not expr.keywords:
            return None
        current = self.atom(obj, f"{hint}_replaced", out, where)
        values = [(k.arg, self.atom(k.value, hint, out, where)) for k in expr.keywords]
        fn = ast.Attribute(self.scope.spell(runtime, "sg"), "replace_field", ast.Load())
        for i, (name, value) in enumerate(values):
            call = ast.Call(_copy(fn), [current, ast.Constant(name), value], [])
            if i == len(values) - 1:
                return call
            current = self._named(call, f"{hint}_replaced", out, where)
        return None

    def _count(self, expr: ast.expr) -> bool:
        """``len(xs)`` or an integer constant: a count, which has no derivative."""
        match expr:
            case ast.Constant(value=int()):
                return True
            case ast.Call(func=func, args=[_], keywords=[]):
                return self.scope.resolve(func) is len
        return False

    def _key(self, value: ast.expr, out: list, where) -> ast.expr:
        """A ``key=`` (or ``reverse=``) argument: a lambda stays where it is (it only orders the items,
        in a call without derivative; ``call`` leaves it there when the generated code is read again)."""
        return value if isinstance(value, ast.Lambda) else self.atom(value, "key", out, where)

    def _plain_receiver(self, receiver: ast.expr) -> bool:
        """Whether ``receiver.sum(...)`` surely means NumPy's method: a name that surely holds an
        array, arithmetic, a library call with a rule, or a parameter assumed to hold no user
        object (``sourcegrad.plain``'s guard sends a user object to the general version)."""
        match receiver:
            case ast.Name(id=name) if name in self.scope.arrays:
                return True
            case ast.Name(id=name) if name in self.scope.plain_params:
                self.scope.assumed_plain.add(name)
                return True
            case ast.BinOp() | ast.UnaryOp():
                return True
            case ast.Call(func=func):
                target = self.scope.resolve(func)
                return target is not MISSING and target is not getattr and table.lookup_adjoint(target) is not None
        return False

    def _either_method(self, expr: ast.Call, fn, pack: bool, hint: str, out: list, where) -> ast.Name:
        """``m.sum(*args)`` where ``m`` is not surely an array: decided when the code runs, as
        ``type(m).sum(m, *args)`` (through ``sg.call``) where ``m`` is a user object that defines
        ``sum`` (``sg.own_method``), ``np.sum(m, *args)`` otherwise."""
        from sourcegrad import runtime

        attr = expr.func.attr
        m = self.atom(expr.func.value, f"{hint}_receiver", out, where)
        args = [self.atom(a, hint, out, where) for a in expr.args]
        keywords = [ast.keyword(k.arg, self.atom(k.value, hint, out, where)) for k in expr.keywords]
        own = ast.Call(ast.Attribute(self.scope.spell(runtime, "sg"), "own_method", ast.Load()), [m, ast.Constant(attr)], [])
        through = ast.Attribute(ast.Call(self.scope.spell(type, "type"), [m], []), attr, ast.Load())
        packed = [ast.Tuple(args, ast.Load())] if pack and len(args) > 1 else args
        name = self.scope.namer.fresh(f"{hint}_{attr}")
        choice = ast.If(own, [_assign(name, ast.Call(through, [m, *args], keywords))],
                        [_assign(name, ast.Call(self.scope.spell(fn), [m, *packed], [_copy(k) for k in keywords]))])
        out.extend(self.stmt(self._at(choice, where)))
        return ast.Name(name, ast.Load())

    def _packed(self, call: ast.Call, fn, hint: str, out: list, where) -> ast.Call:
        """A call of a user function that takes ``*args``/``**kwargs``, its extra arguments packed:
        ``g(x, a, b, k=c)`` as ``g(x, *g_args, **g_kwargs)`` after ``g_args = (a, b)`` and
        ``g_kwargs = {'k': c}``. ``g(x, *rest)`` passes on a tuple that must fill ``*args`` exactly."""
        at = lambda e, h=hint: self.atom(e, h, out, where)
        params = list(inspect.signature(fn).parameters.values())
        n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        star = next((p for p in params if p.kind is p.VAR_POSITIONAL), None)
        double_star = next((p for p in params if p.kind is p.VAR_KEYWORD), None)
        by_name = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        args, keywords = list(call.args), list(call.keywords)
        starred = [i for i, a in enumerate(args) if isinstance(a, ast.Starred)]
        if starred and (star is None or starred != [len(args) - 1] or starred[0] != n_positional):
            raise self.scope.error(
                f"cannot tell which parameters of {fn.__qualname__} the unpacked '{ast.unparse(args[starred[0]])}' fills",
                args[starred[0]],
                f"pass {fn.__qualname__}'s {n_positional} parameter(s) before *{star.name if star else 'args'} one by "
                "one, then the tuple with *" if star else "pass the arguments one by one")
        if star is not None and not starred and len(args) > n_positional:
            head = [at(a) for a in args[:n_positional]]
            extra = ast.Tuple(args[n_positional:], ast.Load())
            args = head + [ast.Starred(self._named(extra, f"{fn.__name__}_{star.name}", out, where), ast.Load())]
        unpacked = [k for k in keywords if k.arg is None]
        extra = [k for k in keywords if k.arg is not None and k.arg not in by_name]
        if unpacked and (double_star is None or len(unpacked) > 1 or extra):
            raise self.scope.error(
                f"cannot tell which parameters of {fn.__qualname__} '**{ast.unparse(unpacked[0].value)}' fills",
                unpacked[0].value, "pass keyword arguments one by one, or one dict with ** and nothing else")
        filled = {p.name for p in params[:len([a for a in args if not isinstance(a, ast.Starred)])]}
        open_names = sorted(by_name - filled - {k.arg for k in keywords if k.arg is not None})
        if unpacked and open_names:  # the dict may hold them: Python would route them at run time
            raise self.scope.error(
                f"'**{ast.unparse(unpacked[0].value)}' may hold parameters of {fn.__qualname__} "
                f"({', '.join(open_names)}), which sourcegrad cannot route before the code runs",
                unpacked[0].value,
                f"take {', '.join(open_names)} as parameters of this function too and pass them by name "
                f"(`{fn.__name__}(..., {open_names[0]}={open_names[0]}, **{ast.unparse(unpacked[0].value)})`), so "
                f"that the dict holds only what **{double_star.name} takes")
        if double_star is not None and extra:
            packed = ast.Dict([ast.Constant(k.arg) for k in extra], [k.value for k in extra])
            named = [ast.keyword(k.arg, at(k.value)) for k in keywords if k not in extra]
            keywords = named + [ast.keyword(None, self._named(packed, f"{fn.__name__}_{double_star.name}", out, where))]
        return ast.copy_location(ast.Call(call.func, args, keywords), call)

    def _named(self, expr: ast.expr, hint: str, out: list, where) -> ast.Name:
        name = self.scope.namer.fresh(hint)
        self.assign_to(name, expr, where, out, hint)
        return ast.Name(name, ast.Load())

    def _functional(self, func: ast.expr) -> ast.expr:
        """Generated code's in-place helpers (``sg.update``, ``sg.clear``) as the functional ones
        they stand for: ``transform/inplace.py`` claims buffers again after each transform."""
        from sourcegrad import runtime

        fn = self.scope.resolve(func)
        name = "setitem" if fn is runtime.update else "clear_written" if fn is runtime.clear else None
        return ast.Attribute(self.scope.spell(runtime, "sg"), name, ast.Load()) if name else func

    def _inline_lambda(self, lam: ast.Lambda, call: ast.Call) -> ast.expr:
        params = [a.arg for a in lam.args.args]
        defaults = dict(zip(params[len(params) - len(lam.args.defaults) :], lam.args.defaults))
        given = dict(zip(params, call.args)) | {k.arg: k.value for k in call.keywords}
        missing = [p for p in params if p not in given and p not in defaults]
        if missing or len(call.args) > len(params) or lam.args.vararg or lam.args.kwarg:
            raise self.scope.error("this call does not match the lambda's parameters", call, "pass one value per parameter of the lambda (no *args or **kwargs)")
        values = {p: given.get(p, defaults.get(p)) for p in params}

        class Substitute(ast.NodeTransformer):
            def visit_Name(self, node: ast.Name):
                return values.get(node.id, node) if isinstance(node.ctx, ast.Load) else node

        return Substitute().visit(_copy(lam.body))

    def _is_global(self, expr: ast.expr) -> bool:
        return isinstance(expr, (ast.Name, ast.Attribute)) and self.scope.resolve(expr) is not MISSING

    @staticmethod
    def _at(node: ast.AST, where: ast.AST) -> ast.AST:
        for sub in ast.walk(node):
            if "lineno" in sub._attributes and not hasattr(sub, "lineno"):
                ast.copy_location(sub, where)
        return ast.copy_location(node, where)


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def _names_in(expr: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _copy(node: ast.AST) -> ast.AST:
    if isinstance(node, ast.keyword):
        return ast.keyword(node.arg, _copy(node.value))
    return ast.parse(ast.unparse(node), mode="eval").body if isinstance(node, ast.expr) else node


def _expr_op_name(expr: ast.expr) -> str:
    match expr:
        case ast.BinOp(op=op) | ast.UnaryOp(op=op):
            return OP_NAMES.get(type(op), "op")
        case ast.Call(func=ast.Attribute(attr=name)) | ast.Call(func=ast.Name(id=name)):
            return name
        case ast.Subscript():
            return "item"
        case ast.Compare() | ast.BoolOp():
            return "mask"
        case ast.IfExp():
            return "select"
        case ast.Tuple():
            return "tuple"
        case ast.List():
            return "list"
        case ast.Attribute(attr=attr):
            return attr
    return "value"


def _bound_user_method(fn: Any) -> bool:
    """A user's method bound to an object the code names at module level: a classmethod read from
    its class (``Pt.polar``), or a method of a module-level object. Called as its function with the
    object first, it is a call of a user function like any other (a constant receiver, as globals
    are)."""
    return (isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType)
            and not table.lookup_adjoint(fn.__func__) and not table.lookup_tangent(fn.__func__))


def _takes_variadics(fn: Any) -> bool:
    """A user's Python function with ``*args`` or ``**kwargs`` (called through its generated
    derivative, which takes them as a tuple and a dict: see ``normal._variadics_as_keywords``)."""
    if not isinstance(fn, types.FunctionType) or table.lookup_adjoint(fn) or table.lookup_tangent(fn):
        return False
    kinds = {p.kind for p in inspect.signature(fn).parameters.values()}
    return bool(kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD})


def _unpacks(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)

