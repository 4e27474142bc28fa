"""Frontend, step 2: the fence around the differentiable subset of Python.

Input: a `FunctionSource` (true positions). Output: nothing; raises `UnsupportedSyntax`, pointing
at the user's line with a caret, for the first construct (in source order) that sourcegrad does
not support yet. What is unsupported is data: `UNSUPPORTED` maps a node type to (message, hint);
a few shape checks cover what the node type alone does not decide (`x[i] = v`, `f(*a)`, ...).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sourcegrad.errors import UnsupportedSyntax, location_of
from sourcegrad.frontend.source import FunctionSource

_MOVE_OUT = "move it out of the differentiated function, into its caller"

# fmt: off
UNSUPPORTED: dict[type, tuple[str, str]] = {
    ast.Yield:            ("a `yield` (generator function)", "return a list or array of the values instead"),
    ast.YieldFrom:        ("a `yield from` (generator function)", "return a list or array of the values instead"),
    ast.Await:            ("an `await` expression", "differentiate a synchronous function and await in its caller"),
    ast.AsyncFunctionDef: ("an `async def` function", "differentiate a synchronous `def`; await in its caller"),
    ast.AsyncFor:         ("an `async for` loop", "use a plain `for` loop over values collected beforehand"),
    ast.AsyncWith:        ("an `async with` statement", _MOVE_OUT),
    ast.Global:           ("a `global` declaration", "pass the value in as an argument and return the new value"),
    ast.Nonlocal:         ("a `nonlocal` declaration", "pass the value in as an argument and return the new value"),
    ast.Try:              ("a `try` statement", "move the try/except outside the differentiated function, around the call"),
    ast.With:             ("a `with` statement", _MOVE_OUT + "; the body can stay in a differentiated function"),
    ast.Raise:            ("a `raise` statement", "check inputs in the caller, or use `assert`, which sourcegrad keeps"),
    ast.Delete:           ("a `del` statement", "drop the `del`, or rebind the name to a new value"),
    ast.Import:           ("an `import` statement", "import at module level; the function can use the module by name"),
    ast.ImportFrom:       ("an `import` statement", "import at module level; the function can use the names directly"),
    ast.ClassDef:         ("a class definition", "define the class at module level"),
    ast.SetComp:          ("a set comprehension", "use a list comprehension, or array operations"),
    ast.Set:              ("a set display (`{a, b}`)", "use a tuple or list"),
    ast.Match:            ("a `match` statement", "use `if`/`elif` on the value instead"),
}
if hasattr(ast, "TryStar"):  # 3.11+
    UNSUPPORTED[ast.TryStar] = ("a `try`/`except*` statement", UNSUPPORTED[ast.Try][1])

IN_PLACE = "in-place updates are planned; for now build a new value (`x = x + v`, `np.where`, ...)"
NESTED_ITEM = ("an assignment into a subscript of a subscript, an attribute or a tuple target "
               "(`x[i][j] = ...`, `obj.a[i] = ...`, `a[0], b = ...`)")
ITEMS = ("write `x[i, j] = v` (one subscript of a local name, as a statement of its own); for a list of "
         "lists replace the row: `row = list(rows[i]); row[j] = v; rows[i] = row`")
FLAT_WRITE = ("write into the array by its own index: `x[np.unravel_index(i, x.shape)] = v`, or "
              "`y = x.ravel(); y[i] = v; x = y.reshape(x.shape)`; reading `x.flat[i]` is supported")
STORE = {
    ast.Subscript: (NESTED_ITEM, ITEMS),
    ast.Attribute: ("assignment to an attribute (`obj.a = ...`)", "assign to a local name and return it; " + IN_PLACE),
    ast.Starred:   ("a starred target in a comprehension (`[... for a, *b in rows]`)",
                    "write the loop as a `for` statement, where `a, *b = row` works"),
}
# fmt: on


def check_supported(src: FunctionSource, var_params: bool = False) -> None:
    """Raise `UnsupportedSyntax` at the first construct of `src.node` outside the subset.

    ``var_params``: `*args`/`**kwargs` parameters are allowed (a function called from the
    differentiated one; `normal` makes them a tuple and a dict parameter)."""
    for node, what, hint in _walk_problems(src.node, var_params):
        location = location_of(node, src.filename)
        message = f"Expected code in sourcegrad's differentiable subset, got {what} in "
        message += f"`{src.qualname}`: sourcegrad does not support it yet."
        raise UnsupportedSyntax(message, location, hint=hint)


def _walk_problems(root: ast.FunctionDef, var_params: bool = False) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, what, hint) for every problem under `root`, in source order."""
    if type(root) in UNSUPPORTED:  # async def
        yield root, *UNSUPPORTED[type(root)]
    hint = ("give the function explicit parameters (a tuple or dict argument is fine); "
            "functions it calls may take *args and **kwargs")
    if root.args.vararg is not None and not var_params:
        yield root.args.vararg, "a `*args` parameter of the differentiated function", hint
    if root.args.kwarg is not None and not var_params:
        yield root.args.kwarg, "a `**kwargs` parameter of the differentiated function", hint
    passed_on = _passed_on(root)
    stack = list(reversed(list(ast.iter_child_nodes(root))))
    while stack:  # pre-order in field order: the first problem found is the first in the text
        node = stack.pop()
        if id(node) not in passed_on:
            yield from _node_problems(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _passed_on(root: ast.AST) -> set[int]:
    """`f(x, *args)` and `f(**kwargs)` with a name: passed on to a function that takes `*args` or
    `**kwargs` (`normal.anf` checks the callee and refuses any other)."""
    ids = set()
    for node in ast.walk(root):
        if isinstance(node, ast.Call):
            ids |= {id(a) for a in node.args if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name)}
            ids |= {id(k) for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name)}
    return ids


_UNPACK = "pass the arguments one by one"


def _node_problems(node: ast.AST) -> Iterator[tuple[ast.AST, str, str]]:
    """What is wrong with one node: its type, or its shape."""
    if type(node) in UNSUPPORTED and not _inserts_gradient_code(node):
        yield node, *UNSUPPORTED[type(node)]
    match node:
        case ast.Assign(targets=[*targets]):
            yield from _target_problems(targets, items=True)
        case ast.AugAssign(target=target):
            yield from _target_problems([target], items=True)
        case ast.For(target=target) | ast.AnnAssign(target=target):
            yield from _target_problems([target])
        case ast.comprehension(target=target):
            yield from _target_problems([target], stars=False)
        case ast.Starred(ctx=ast.Load()):
            yield node, "unpacking with `*` (`f(*a)`, `[*a, *b]`)", _UNPACK
        case ast.keyword(arg=None):
            yield node, "unpacking with `**` in a call (`f(**kw)`)", _UNPACK
        case ast.Dict(keys=keys) if None in keys:
            value = node.values[keys.index(None)]
            yield value, "unpacking with `**` in a dict display (`{**d}`)", _UNPACK
        case ast.FunctionDef(decorator_list=[first, *_]):
            yield first, "a decorator on a nested function", "apply it after the def: `g = deco(g)`"


def _inserts_gradient_code(node: ast.AST) -> bool:
    """``with insert_grad_of(x) as dx:`` (checked further, names resolved, in ``normal.surgery``)."""
    match node:
        case ast.With(items=[ast.withitem(context_expr=ast.Call(func=ast.Name(id=name) | ast.Attribute(attr=name)))]):
            return name == "insert_grad_of"
    return False


def _target_problems(targets: list[ast.expr], items: bool = False, stars: bool = True) -> Iterator[tuple[ast.AST, str, str]]:
    """Assignment targets that write into something (`obj.a`, `x[i][j]`), or use `*` where not
    `stars` (a statement's `a, *rest = xs` is lowered by `normal/desugar.py`; a comprehension's is not).

    With `items`, a whole target `x[...]` of a name is an in-place update, which `normal/anf.py`
    lowers to `x = sg.setitem(x, ..., v)` (docs/python-subset.md, "In-place updates")."""
    for target in targets:
        for node in ast.walk(target):
            if items and node is target and isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                continue
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and (
                isinstance(node.value, ast.Attribute) and node.value.attr == "flat"
            ):
                yield node, "a write through `.flat` (`x.flat[i] = v`)", FLAT_WRITE
            elif isinstance(node, ast.Starred) and stars:
                continue
            elif type(node) in STORE and isinstance(getattr(node, "ctx", None), ast.Store):
                yield node, *STORE[type(node)]
