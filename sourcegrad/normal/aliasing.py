"""Writes through aliases: the check that keeps in-place updates from changing a function's meaning.

Input: a desugared FunctionDef (after ``desugar.loops_over_range``), in which ``x[i] = v`` is still
a subscript assignment. Output: nothing; raises the scope's ``UnsupportedSyntax`` at the first
write that Python would make visible through another name the function reads afterwards.

``anf`` lowers ``x[i] = v`` to ``x = sg.setitem(x, i, v)``: only ``x`` sees the new value. In
Python every name bound to the same object, or to a view of its memory, sees it too
(``h = x; x[0] = 1`` changes ``h``; so does ``v = x[0]; v[:] = 1`` to ``x``). Such a write is
refused when another name that may share the written object is live after it. "May share" is
decided from the assignments anywhere in the function: ``a = b``, ``a = b[i]``, ``a = b.attr``,
``a = f(b)`` for any ``f`` not known to return a new object, and a container that holds ``b``
(``a = [b, c]``, ``a[i] = b``). Parameters and globals are the caller's: writes into them are not
seen by the caller (docs/python-subset.md).

A call of a user function is a write too where that function writes into its parameter
(``v /= s``, ``v[0] = 1``, ``obj.h = h``: ``parameter_writes``): Python's caller sees the change,
a derivative does not (each call's parameters are its own), so the call is refused when a name
that may share the argument is read afterwards. Calls whose target is known only when the code
runs (methods of objects) are checked then (``runtime.dispatch``), without the liveness.

An element read from a name that surely holds a list, tuple or dict (``a = xs[0]``) is not a view
of it: it shares the object of that *element* only, written ``xs[]`` in the links. Writing
``xs[0] = v`` replaces the element and leaves ``a`` alone, while writing into ``a`` is seen by
``xs``. The keys of ``sg.keys(d)`` are hashable, never written into: reading one links nothing.
"""

from __future__ import annotations

import ast
import inspect
import operator
from collections.abc import Callable

import numpy as np

from sourcegrad import runtime
from sourcegrad.frontend.resolve import MISSING
from sourcegrad.rules import table

# Functions whose result is always a new object, never a view of or a container of an argument.
_NEW = {
    np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.full_like, np.empty_like,
    np.array, np.copy, np.arange, np.linspace, np.eye, np.identity, np.sum, np.mean, np.prod, np.dot,
    np.matmul, np.outer, np.inner, np.concatenate, np.stack, np.vstack, np.hstack, np.column_stack,
    np.where, np.cumsum, np.cumprod, np.diff, np.clip, np.sort, np.tile, np.repeat, np.kron,
    np.einsum, np.tensordot, np.trace, np.max, np.min, np.amax, np.amin, np.std, np.var,
    np.linalg.inv, np.linalg.solve, np.linalg.det, np.linalg.norm, np.linalg.cholesky,
    float, int, len, range, list, dict, sorted, sum, abs, round, bool, runtime.keys, runtime.zeros_like,
}  # fmt: skip


def parameter_writes(fn: ast.FunctionDef) -> dict[str, ast.stmt]:
    """The parameters of the user function ``fn`` (its source, not desugared) that it writes into in
    place, each with the first statement that does: ``p[i] = v``, ``p.attr = v``, ``p[i] += v``,
    ``p += v`` (in place for an array or a list), unless ``p`` was rebound on an earlier line
    (``p = p.copy()``)."""
    a = fn.args
    params = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}
    rebound: dict[str, int] = {}
    writes: dict[str, ast.stmt] = {}
    for stmt in _own_statements(fn.body):
        targets = {ast.Assign: lambda s: s.targets, ast.AnnAssign: lambda s: [s.target],
                   ast.AugAssign: lambda s: [s.target], ast.Delete: lambda s: s.targets,
                   ast.For: lambda s: [s.target], ast.AsyncFor: lambda s: [s.target]}.get(type(stmt), lambda s: [])(stmt)
        for target in targets:
            for node in ast.walk(target):
                root = _root(node) if isinstance(node, (ast.Subscript, ast.Attribute)) else None
                stored = root in params and (isinstance(node.ctx, (ast.Store, ast.Del)) or node is target)
                if stored and rebound.get(root, stmt.lineno + 1) > stmt.lineno:
                    writes.setdefault(root, stmt)
            if (isinstance(stmt, ast.AugAssign) and isinstance(target, ast.Name) and target.id in params
                    and rebound.get(target.id, stmt.lineno + 1) > stmt.lineno):
                writes.setdefault(target.id, stmt)
            elif not isinstance(stmt, (ast.AugAssign, ast.Delete)):
                for name in _stores(target):
                    rebound[name] = min(rebound.get(name, stmt.lineno), stmt.lineno)
    return writes


def new_value(write: ast.stmt, param: str) -> str:
    """How the function that makes ``write`` into ``param`` would make a new value instead."""
    if isinstance(write, ast.AugAssign) and isinstance(write.target, ast.Name):
        op = _OPS.get(type(write.op), "op")
        return f"`{param} = {param} {op} ...` rather than `{param} {op}= ...`"
    return f"copy it first: `{param} = {param}.copy()` (or `list(...)`, `dict(...)`, a new object)"


def refusal(fn_name: str, param: str, write: ast.stmt) -> tuple[str, str]:
    """The message and hint for a call, resolved when the code runs, of a function that writes into
    its parameter (``runtime.dispatch`` raises it: no liveness there)."""
    message = (f"{fn_name} changes its argument `{param}` in place (`{ast.unparse(write).splitlines()[0]}`), and it "
               "is called through a value (a method or a layer): Python's caller sees the change, which sourcegrad "
               "does not follow (a differentiated call's parameters are its own)")
    return (message,
            f"let {fn_name} return the new value ({new_value(write, param)}) and assign it where it is called")


def _own_statements(stmts: list[ast.stmt]):
    """Every statement of a body, in order, without those of nested functions and classes."""
    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield stmt
        for field in ("body", "orelse", "finalbody"):
            yield from _own_statements(getattr(stmt, field, []))
        for handler in getattr(stmt, "handlers", []):
            yield from _own_statements(handler.body)
        for case in getattr(stmt, "cases", []):
            yield from _own_statements(case.body)


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None




def check_writes(fn: ast.FunctionDef, resolve: Callable[[ast.expr], object], error, augmented: bool = True,
                 user_names: frozenset[str] | None = None) -> None:
    """Raise ``error(message, node, hint)`` for a write into an object another live name shares.

    ``x += e`` (``augmented``) writes into ``x``'s object when it is an array (NumPy's ``__iadd__``)
    and rebinds ``x`` when it is a number: it counts as a write where ``x`` or the name it may
    share surely holds an array (``_Arrays``), else as an assignment; ``augmented=False`` skips
    those (generated code, whose in-place sums go only into buffers it owns). ``user_names``: the
    names of the user's own code; a name the desugaring made is described, never named."""
    arrays = _Arrays(fn, resolve)
    writes = [s for s in ast.walk(fn) if _written(s) or (augmented and _augmented(s))]
    calls = _writing_calls(fn, resolve) if augmented else []
    if not writes and not calls:
        return
    links = _Links(resolve, _Containers(fn, resolve))
    lists = _Lists(fn, resolve)
    for stmt in ast.walk(fn):
        if isinstance(stmt, ast.Assign):
            links.assignment(stmt)
    live_after: dict[int, set[str]] = {}
    _live(fn.body, set(), live_after)
    for stmt, call, callee, param, arg, inner in calls:
        rebound = _stores(stmt.targets[0]) if isinstance(stmt, ast.Assign) else set()
        for name in links.shared(arg):
            others = ([] if name in rebound else [(name, None)]) + links.observers(name)
            for other, where in others:
                if other in live_after.get(id(stmt), set()):
                    via = "" if where is None else f" (it may share it: line {where.lineno}, `{ast.unparse(where)}`)"
                    if callee is None:
                        raise error(
                            f"`{ast.unparse(call)}` is called for what it changes in `{name}` (its result is not used), "
                            f"and `{other}` is read afterwards{via}: sourcegrad differentiates the values a function "
                            "returns, not the changes a call makes in place",
                            call,
                            f"let the method return the new value and assign it (`h = {ast.unparse(call)}`, with "
                            "`return h` rather than `self.h = h` alone)",
                        )
                    raise error(
                        f"`{ast.unparse(call)}` changes `{ast.unparse(arg)}` in place (line {inner.lineno} of {callee.__name__}: "
                        f"`{ast.unparse(inner).splitlines()[0]}`), and `{other}` is read afterwards{via}: Python's caller "
                        "sees the change, which sourcegrad does not follow (a differentiated call's parameters are its own)",
                        call,
                        f"let {callee.__name__} return the new value ({new_value(inner, param)}, then `return {param}`) "
                        f"and assign it: `{ast.unparse(arg)} = {ast.unparse(call)}`",
                    )
    for stmt in writes:
        if _augmented(stmt):
            name = stmt.targets[0].id
            others = links.observers(name)
            listed = lists.extends(stmt) or (
                isinstance(stmt.value.op, (ast.Add, ast.Mult)) and (lists.surely(name) or any(lists.surely(o) for o, _ in others)))
            if not (listed or arrays.surely(name) or any(arrays.surely(o) for o, _ in others)):
                continue
            for other, where in others:
                if other in live_after.get(id(stmt), set()):
                    op = _OPS.get(type(stmt.value.op), "op")
                    kind = "list" if listed else "array"
                    raise error(
                        f"`{name} {op}= ...` changes the {kind} `{name}` in place, and {_other(other, where, user_names, ' it')} "
                        f"is read afterwards: Python would change it too, which sourcegrad does not follow",
                        stmt,
                        f"for a new {kind} write `{name} = {name} {op} ...`; if the other value should change too, "
                        f"update it itself",
                    )
            continue
        name = stmt.targets[0].value.id
        for other, where in links.observers(name):
            if other in live_after.get(id(stmt), set()):
                named = user_names is None or other in user_names
                raise error(
                    f"`{ast.unparse(stmt.targets[0])} = ...` writes into an object that "
                    f"{_other(other, where, user_names)} is read afterwards: Python would change "
                    f"{f'`{other}`' if named else 'it'} too, which sourcegrad does not follow",
                    stmt,
                    f"if {f'`{other}`' if named else 'that value'} should keep its value, copy before writing "
                    f"(`{name} = {name}.copy()`, `np.copy(...)`, `list(...)`, `dict(...)`); if it should change, "
                    f"write into {f'`{other}`' if named else 'it'} itself, or read it before the write",
                )


def _writing_calls(fn: ast.FunctionDef, resolve) -> list[tuple]:
    """(statement, call, callee, parameter, argument, the callee's write) for each argument passed
    to a parameter that the called user function writes into (``parameter_writes``)."""
    found = []
    for stmt in ast.walk(fn):
        if not isinstance(stmt, (ast.Assign, ast.Expr)):
            continue
        bare = stmt.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else None
        if bare is not None and _method_of_value(bare, resolve):  # `c.step(x)`: called for what it changes
            found.append((stmt, bare, None, None, bare.func.value, None))
            continue
        for call in (n for n in ast.walk(stmt.value) if isinstance(n, ast.Call)):
            callee = resolve(call.func)
            writes = _callee_writes(callee) if inspect.isfunction(callee) else None
            if not writes:
                continue
            params = list(inspect.signature(callee).parameters.values())
            passed = {}
            for p, arg in zip(params, call.args):
                if isinstance(arg, ast.Starred) or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                    break
                passed[p.name] = arg
            passed.update({k.arg: k.value for k in call.keywords if k.arg is not None})
            found += [(stmt, call, callee, p, passed[p], w) for p, w in writes.items() if p in passed]
    return found


def _method_of_value(call: ast.Call, resolve) -> bool:
    """``c.step(x)`` where ``c`` is a value of the function (not a module or a global) and ``step``
    no array method: its target is known only when the code runs."""
    func = call.func
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and resolve(func) is MISSING
            and resolve(func.value) is MISSING and func.attr not in table.METHODS)


_WRITES_OF: dict[object, dict[str, ast.stmt]] = {}


def _callee_writes(fn) -> dict[str, ast.stmt]:
    """``parameter_writes`` of a user function's source, memoised by code object; none for a
    generated function or one whose source cannot be read (the transform reports that itself)."""
    code = fn.__code__
    if code not in _WRITES_OF:
        from sourcegrad.errors import SourcegradError
        from sourcegrad.frontend.source import function_source

        try:
            node = None if code.co_filename.startswith("<sourcegrad ") else function_source(fn).node
        except (SourcegradError, OSError, TypeError):
            node = None
        _WRITES_OF[code] = parameter_writes(node) if node is not None else {}
    return _WRITES_OF[code]


def _other(other: str, where: ast.stmt, user_names: frozenset[str] | None, it: str = "") -> str:
    """``other`` and the line that linked it, for a message; a name the desugaring made (the list
    a ``for`` loop runs over) is described by its line instead."""
    if user_names is None or other in user_names:
        return f"`{other}` may share{it} (line {where.lineno}: `{ast.unparse(where)}`), and `{other}`"
    return (f"a value sourcegrad keeps for line {where.lineno} (the list a loop runs over, or a part of "
            f"an expression) may share{it}, and that value")


_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
        ast.LShift: "<<", ast.RShift: ">>"}


def _augmented(stmt: ast.AST) -> bool:
    return isinstance(stmt, ast.Assign) and getattr(stmt, "augmented", False) and isinstance(stmt.targets[0], ast.Name)


class _Arrays:
    """Names that surely hold arrays: every binding is arithmetic, a NumPy call, a slice of such
    a name, or such a name (a number from `t = 0.0` makes `t += dt` a rebinding, not a write)."""

    def __init__(self, fn: ast.FunctionDef, resolve):
        self.resolve = resolve
        self.bindings: dict[str, list[ast.expr | None]] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                if isinstance(node.targets[0], ast.Name):
                    self.bindings.setdefault(node.targets[0].id, []).append(node.value)
                elif not _written(node):
                    for name in _stores(node.targets[0]):
                        self.bindings.setdefault(name, []).append(None)
            elif isinstance(node, ast.For):
                for name in _stores(node.target):
                    self.bindings.setdefault(name, []).append(None)
        self.memo: dict[str, bool] = {}

    def surely(self, name: str) -> bool:
        if name not in self.memo:
            self.memo[name] = True  # a cycle (x = x + 1) decides nothing by itself
            values = self.bindings.get(name)
            self.memo[name] = bool(values) and all(self._array(v) for v in values)
        return self.memo[name]

    def _array(self, value: ast.expr | None) -> bool:
        match value:
            case ast.BinOp() | ast.UnaryOp():
                return True
            case ast.Name(id=name):
                return self.surely(name)
            case ast.Subscript(value=ast.Name(id=name)):
                return self.surely(name)
            case ast.Call(func=func):
                fn = self.resolve(func)
                return fn is not MISSING and (getattr(fn, "__module__", None) or "").startswith("numpy")
        return False


def _written(stmt: ast.AST) -> bool:
    return isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript) and isinstance(stmt.targets[0].value, ast.Name)


class _Containers:
    """Names that surely hold a list, tuple or dict (every binding is a display, ``list(...)``,
    ``tuple(...)``, ``dict(...)``, ``sg.keys(...)``, a concatenation, a slice of such a name, or
    such a name), and those that hold the keys of a dict (``sg.keys(d)``)."""

    _MAKERS = (list, tuple, dict, sorted, runtime.keys, operator.concat)

    def __init__(self, fn: ast.FunctionDef, resolve):
        self.resolve = resolve
        self.bindings = _Arrays(fn, resolve).bindings
        self.memo: dict[str, bool] = {}

    def surely(self, name: str) -> bool:
        if name not in self.memo:
            self.memo[name] = True  # a cycle (xs = xs + [v]) decides nothing by itself
            values = self.bindings.get(name)
            self.memo[name] = bool(values) and all(self._container(v) for v in values)
        return self.memo[name]

    def keys(self, name: str) -> bool:
        values = self.bindings.get(name)
        return bool(values) and all(
            isinstance(v, ast.Call) and self.resolve(v.func) is runtime.keys for v in values
        )

    def _container(self, value: ast.expr | None) -> bool:
        match value:
            case ast.List() | ast.Tuple() | ast.Dict():
                return True
            case ast.Name(id=name):
                return self.surely(name)
            case ast.Subscript(value=ast.Name(id=name), slice=ast.Slice()):
                return self.surely(name)
            case ast.BinOp(left=left, op=ast.Add(), right=right):
                return self._container(left) and self._container(right)
            case ast.Call(func=func):
                fn = self.resolve(func)
                return any(fn is maker for maker in self._MAKERS)
        return False


class _Lists(_Containers):
    """Names that surely hold a list (a list's ``+=`` and ``*=`` extend it in place, a tuple's
    rebind), and augmented assignments that surely extend a list: ``xs += [v]`` (a list's right
    operand: of a number or a tuple Python raises, of an array it adds in place)."""

    _MAKERS = (list, sorted)

    def _container(self, value: ast.expr | None) -> bool:
        match value:
            case ast.Tuple() | ast.Dict():
                return False
            case ast.BinOp(left=left, op=ast.Mult(), right=right):  # `xs * 2`
                return self._container(left) or self._container(right)
        return super()._container(value)

    def extends(self, stmt: ast.Assign) -> bool:
        return isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add) and self._container(stmt.value.right)


class _Links:
    """Who may share an object with whom (both ways), and which container holds which object.
    ``xs[]`` stands for the elements of the list, tuple or dict ``xs``: it leads to ``xs`` (a
    write into an element is seen by the container), ``xs`` does not lead to it."""

    def __init__(self, resolve, containers: _Containers):
        self.resolve = resolve
        self.containers = containers
        self.share: dict[str, dict[str, ast.stmt]] = {}
        self.holders: dict[str, dict[str, ast.stmt]] = {}  # object -> containers holding it

    def _link(self, a: str, b: str, stmt: ast.stmt) -> None:
        if a != b:
            self.share.setdefault(a, {}).setdefault(b, stmt)
            self.share.setdefault(b, {}).setdefault(a, stmt)

    def _hold(self, container: str, parts: set[str], stmt: ast.stmt) -> None:
        """``container`` may hold the objects of ``parts`` from ``stmt`` on."""
        if self.containers.surely(container):
            for name in parts:
                self._link(name, container + "[]", stmt)
            self.holders.setdefault(container + "[]", {}).setdefault(container, stmt)
        else:
            for name in parts:
                if name != container:
                    self.holders.setdefault(name, {}).setdefault(container, stmt)

    def assignment(self, stmt: ast.Assign) -> None:
        target, value = stmt.targets[0], stmt.value
        if _written(stmt):  # x[i] = v: x holds v from now on
            self._hold(target.value.id, self.shared(value), stmt)
            return
        names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        unpacked = not isinstance(target, ast.Name)
        for a in names:
            for b in self.elements(value) if unpacked else self.shared(value):
                self._link(a, b, stmt)
            match value:
                case ast.Subscript(value=ast.Name(id=base), slice=ast.Slice()) if self.containers.surely(base):
                    self._link(a + "[]", base + "[]", stmt)  # a new list of the same elements
                    self.holders.setdefault(a + "[]", {}).setdefault(a, stmt)
                case ast.Call(func=func, args=[ast.Name(id=base)], keywords=[]) if self.resolve(func) in (list, tuple):
                    if self.containers.surely(base):  # a new list of the same elements
                        self._link(a + "[]", base + "[]", stmt)
                        self.holders.setdefault(a + "[]", {}).setdefault(a, stmt)
                    else:  # list(x) of an array: its items are x's rows, views of x's memory
                        self._hold(a, {base}, stmt)
            for node in ast.walk(value):
                if isinstance(node, (ast.Tuple, ast.List, ast.Dict)) and not unpacked:
                    for elt in [*getattr(node, "elts", []), *getattr(node, "values", [])]:
                        self._hold(a, self.shared(elt), stmt)

    def elements(self, expr: ast.expr) -> set[str]:
        """Names whose object an element of ``expr``'s value may be (a tuple target unpacks it)."""
        match expr:
            case ast.Name(id=name) if self.containers.surely(name):
                return {name + "[]"}
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                return set().union(*map(self.shared, elts))
        return self.shared(expr)

    def shared(self, expr: ast.expr | None) -> set[str]:
        """Names whose object ``expr``'s value may be, view, or be taken from."""
        match expr:
            case ast.Name(id=name):
                return {name}
            case ast.Subscript(value=ast.Name(id=name), slice=index) if self.containers.surely(name):
                if self.containers.keys(name):
                    return set()  # a dict's key: hashable, never written into
                if isinstance(index, ast.Slice):
                    return set()  # a new list (its elements: see `assignment`)
                return {name + "[]"}
            case ast.Subscript(value=base) | ast.Attribute(value=base) | ast.Starred(value=base):
                return self.shared(base)
            case ast.IfExp(body=a, orelse=b):
                return self.shared(a) | self.shared(b)
            case ast.BoolOp(values=values):
                return set().union(*map(self.shared, values))
            case ast.Call(func=func, args=args, keywords=keywords):
                fn = self.resolve(func)
                if fn is MISSING and isinstance(func, ast.Attribute):  # a method of a runtime value
                    method = table.METHODS.get(func.attr)
                    fn, args = (method[0] if method else MISSING), [func.value, *args]
                if _new(fn) and not any(k.arg == "copy" for k in keywords):
                    return set()
                return set().union(*map(self.shared, args), *(self.shared(k.value) for k in keywords))
        return set()

    def observers(self, name: str):
        """(other name, the assignment that links it) for everyone who may see a write into ``name``."""
        seen = {name: None}
        todo = [name]
        while todo:
            n = todo.pop()
            for other, where in [*self.share.get(n, {}).items(), *self.holders.get(n, {}).items()]:
                if other not in seen:
                    seen[other] = where
                    todo.append(other)
        return [(other, where) for other, where in seen.items() if other != name and not other.endswith("[]")]


def _new(fn: object) -> bool:
    if isinstance(fn, np.ufunc):
        return True
    try:
        return fn in _NEW
    except TypeError:
        return False


# --- liveness on the desugared tree -----------------------------------------------------------------


def _reads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _live(stmts: list[ast.stmt], after: set[str], record: dict[int, set[str]]) -> set[str]:
    """Names live before ``stmts`` given those live after; ``record`` gets each write's live-after."""
    for stmt in reversed(stmts):
        after = _live_stmt(stmt, after, record)
    return after


def _live_stmt(stmt: ast.stmt, after: set[str], record: dict[int, set[str]]) -> set[str]:
    match stmt:
        case ast.If(test=test, body=body, orelse=orelse):
            return _reads(test) | _live(body, after, record) | _live(orelse, after, record)
        case ast.For(target=target, iter=iterable, body=body):
            return _loop(body, after, _stores(target), set(), record) | _reads(iterable)
        case ast.While(test=test, body=body):
            return _loop(body, after, set(), _reads(test), record)
        case ast.Assign(targets=[target], value=value):
            record[id(stmt)] = set(after)
            if _written(stmt) or _augmented(stmt):
                return after | _reads(target) | _reads(value)
            return (after - _stores(target)) | _reads(target) | _reads(value)
        case ast.Expr(value=value):
            record[id(stmt)] = set(after)
            return after | _reads(value)
        case ast.Return(value=value):
            return _reads(value) if value is not None else set()
    inserted = [n for s in getattr(stmt, "body_code", []) for n in _reads(s)]
    return after | _reads(stmt) | set(inserted)


def _loop(body: list[ast.stmt], after: set[str], defined: set[str], test: set[str], record) -> set[str]:
    """Live at a loop's head: a fixed point (a break falls through to the end of the body here,
    which makes more names live, never fewer)."""
    head = set(after) | test
    while True:
        new = head | (_live(body, head, record) - defined)
        if new == head:
            return head
        head = new


def _stores(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
