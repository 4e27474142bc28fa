"""What a normal-form statement applies, and to what: shared by the reverse and forward transforms.

Input: the value of a normal-form assignment (one primitive applied to atoms). Output: the callable
it applies (``operator.mul`` for ``a * b``), its operands, and for calls of user functions the
arguments bound to every parameter in order.
"""

from __future__ import annotations

import ast
import inspect
import operator
from typing import Any

from sourcegrad.errors import NoRule, SourcegradError, TransformError, location_of
from sourcegrad.frontend.resolve import MISSING

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.MatMult: operator.matmul, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}  # fmt: skip
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


def callee(value: ast.expr, scope) -> Any:
    """The callable a primitive applies, or MISSING (copies, constants, displays)."""
    match value:
        case ast.BinOp(op=op):
            return BINARY[type(op)]
        case ast.UnaryOp(op=op) if type(op) in UNARY:
            return UNARY[type(op)]
        case ast.Subscript():
            return operator.getitem
        case ast.Attribute(value=ast.Name() as owner) if scope.resolve(owner) is MISSING:
            return getattr  # obj.W of a runtime object; np.pi and the like are constants
        case ast.Call(func=func):
            return scope.resolve(func)
    return MISSING


def no_rule(fn: Any, value: ast.expr, stmt: ast.stmt, scope) -> SourcegradError:
    """The error for an active assignment of `value` that no rule covers."""
    where = location_of(stmt, scope.filename)
    if isinstance(value, ast.Lambda):
        # Local lambdas are inlined where they are called; one kept as a value (passed to a
        # function, stored) would carry the variables it reads out of sight of the derivative.
        return TransformError(
            "a lambda that reads a differentiated variable is used as a value; sourcegrad "
            "differentiates a local lambda only where it is called directly",
            where,
            hint="call it directly, or pass the variable it reads as an argument to a function "
            "defined at module level",
        )
    return NoRule(fn, where)


def operands(value: ast.expr) -> tuple[list[ast.expr], dict[str, ast.expr]]:
    """Positional and keyword operands of a primitive."""
    match value:
        case ast.BinOp(left=left, right=right):
            return [left, right], {}
        case ast.UnaryOp(operand=operand):
            return [operand], {}
        case ast.Subscript(value=array, slice=index):
            return [array, index], {}
        case ast.Attribute(value=owner, attr=attr):
            return [owner, ast.Constant(attr)], {}
        case ast.Call(args=args, keywords=keywords):
            return list(args), {k.arg: k.value for k in keywords}
    raise AssertionError(f"not a primitive: {ast.unparse(value)}")


def index_value(node: ast.expr, scope) -> ast.expr:
    """An index as a value: slices need ``np.s_[...]`` outside a subscript."""
    if any(isinstance(n, ast.Slice) for n in ast.walk(node)):
        import numpy

        return ast.Subscript(ast.Attribute(scope.spell(numpy, "np"), "s_", ast.Load()), node, ast.Load())
    return node


def bind_call(fn: Any, call: ast.Call, stmt: ast.stmt, scope) -> list[ast.expr]:
    """The call's arguments for every parameter of the user function ``fn``, in order. A ``*args``
    parameter gets the name of the tuple the normal form packs (``g(x, *g_args)``), or ``()``; a
    ``**kwargs`` parameter the dict's name (``g(x, **g_kwargs)``), or ``{}``."""
    signature = inspect.signature(fn)
    where = location_of(stmt, scope.filename)
    args = [a for a in call.args if not isinstance(a, ast.Starred)]
    star = next((a.value for a in call.args if isinstance(a, ast.Starred)), None)
    double_star = next((k.value for k in call.keywords if k.arg is None), None)
    try:
        bound = signature.bind(*args, **{k.arg: k.value for k in call.keywords if k.arg is not None})
    except TypeError as err:
        raise TransformError(f"call of {fn.__qualname__} does not match its signature: {err}", where, hint=f"call it with the parameters of {fn.__qualname__}{signature}") from None
    out = []
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_POSITIONAL:
            out.append(star or ast.Tuple([], ast.Load()))
        elif param.kind is param.VAR_KEYWORD:
            out.append(double_star or ast.Dict([], []))
        elif name in bound.arguments:
            out.append(bound.arguments[name])
        elif isinstance(param.default, (int, float, bool, str, type(None))):
            out.append(ast.Constant(param.default))
        else:
            out.append(scope.spell(param.default, f"{name}_default"))
    return out


def call_arguments(fn: Any, args: list[ast.expr]) -> tuple[list[ast.expr], list[ast.keyword]]:
    """``bind_call``'s arguments as a call of the function generated from ``fn``: keyword-only
    parameters, and ``*args``/``**kwargs`` (a tuple and a dict there, see ``normal``), by keyword,
    the others by position."""
    params = list(inspect.signature(fn).parameters.values())
    by_keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    positional = [a for p, a in zip(params, args) if p.kind not in by_keyword]
    keywords = [ast.keyword(p.name, a) for p, a in zip(params, args) if p.kind in by_keyword]
    return positional, keywords


def differentiated_operands(value: ast.expr, scope, template) -> set[str] | None:
    """Names of the operands ``template`` gives a derivative for (not ``d[x] = 0.0``), None if all."""
    if template is None:
        return None
    args, keywords = operands(value)
    params = template.params[1:]
    bound = dict(zip(params, args)) | keywords
    names = set()
    for stmt in template.body:
        if isinstance(stmt.value, ast.Constant) and stmt.value.value == 0:
            continue
        for node in ast.walk(stmt):  # adjoints assign d[p]; tangents read d[p]
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "d":
                actual = bound.get(node.slice.id) if isinstance(node.slice, ast.Name) else None
                if isinstance(actual, ast.Name):
                    names.add(actual.id)
    return names


def tape_ops(fn: ast.FunctionDef, scope):
    """(statement, tape, value name or None, is_push) for each push and pop of a generated
    gradient's tape (``sg.push(tape, h)``, ``h = sg.pop(tape)``, a discarded ``sg.pop(tape)``)."""
    from sourcegrad import runtime
    from sourcegrad.analyse.facts import walk_simple

    for stmt in walk_simple(fn.body):
        match stmt:
            case ast.Expr(value=ast.Call(func=func, args=[ast.Name(id=tape), value])) if (
                scope.resolve(func) is runtime.push
            ):
                yield stmt, tape, value.id if isinstance(value, ast.Name) else None, True
            case ast.Assign(targets=[ast.Name(id=name)], value=ast.Call(func=func, args=[ast.Name(id=tape)])) if (
                scope.resolve(func) is runtime.pop
            ):
                yield stmt, tape, name, False
            case ast.Expr(value=ast.Call(func=func, args=[ast.Name(id=tape)])) if scope.resolve(func) is runtime.pop:
                yield stmt, tape, None, False


def tapes_handed_in(fn: ast.FunctionDef, scope) -> frozenset[str]:
    """The tapes that a generated gradient pushes or pops but does not make (``sg.Tape()``)."""
    from sourcegrad import runtime
    from sourcegrad.analyse.facts import walk_simple

    made = {
        stmt.targets[0].id
        for stmt in walk_simple(fn.body)
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Call) and scope.resolve(stmt.value.func) is runtime.Tape
    }
    return frozenset(tape for _, tape, _, _ in tape_ops(fn, scope)) - made


def tape_edges(fn: ast.FunctionDef, scope) -> list[tuple[set[str], list[str]]]:
    """Dataflow through tapes for activity: a pushed value flows into the tape, the tape into
    whatever is popped from it."""
    edges = []
    for _, tape, name, is_push in tape_ops(fn, scope):
        if name:
            edges.append(({name}, [tape]) if is_push else ({tape}, [name]))
    return edges
