"""Frontend, step 1: from a live function object to its `ast.FunctionDef`.

Input: a Python function (plain, nested, method, static/class method, `functools.wraps`-decorated,
or a lambda). Output: a `FunctionSource` whose `node` is an `ast.FunctionDef` without decorators
in which every node's `lineno`/`end_lineno` is the true line in `filename` and every
`col_offset`/`end_col_offset` the true column in that line (UTF-8 bytes, as `ast` counts).
A lambda becomes a `def f_lambda(<its args>): return <its body>` with the lambda's positions.

Source comes from `linecache` (what `inspect` reads: files, zip imports, notebook cells, and code
made by `exec_source`), located by the code object's `co_firstlineno`, and for lambdas sharing a
line by `co_positions` (3.11+) or by comparing compiled code (3.10).
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import itertools
import linecache
import sys
import types
from dataclasses import dataclass

from sourcegrad.errors import SourceUnavailable, qualified_name

LAMBDA_NAME = "f_lambda"

_exec_counter = itertools.count(1)


@dataclass(frozen=True)
class FunctionSource:
    """The parsed source of one function, with true positions in `filename`."""

    node: ast.FunctionDef
    filename: str
    name: str
    qualname: str


def function_source(fn: object) -> FunctionSource:
    """Find and parse the source of `fn`; raise `SourceUnavailable` saying what to do if none."""
    fn = _python_function(fn)
    code = fn.__code__
    text = _source_text(fn)
    tree = _parse_file(text, code.co_filename)
    if code.co_name == "<lambda>":
        node = _lambda_as_def(_find_lambda(tree, fn))
        name = LAMBDA_NAME
    else:
        node = copy.deepcopy(_find_def(tree, fn))
        node.decorator_list = []
        name = fn.__name__
    return FunctionSource(node, code.co_filename, name, fn.__qualname__)


def exec_source(src: str, namespace: dict | None = None, filename: str | None = None) -> dict:
    """Execute `src` like `exec`, but keep its source so sourcegrad (and tracebacks) can read it.

    The text is registered in `linecache` under `filename`, by default a fresh, deterministic
    pseudo-filename `<sourcegrad-exec-N>`. Returns `namespace` (a new module-like dict if None).
    """
    if namespace is None:
        namespace = {"__name__": "__sourcegrad_exec__"}
    if filename is None:
        filename = f"<sourcegrad-exec-{next(_exec_counter)}>"
    lines = src.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # mtime None: `linecache.checkcache` keeps the entry instead of looking for a file.
    linecache.cache[filename] = (len(src), None, lines, filename)
    exec(compile(src, filename, "exec"), namespace)  # noqa: S102  (that is its job)
    return namespace


# --- finding the function object ------------------------------------------------------------


def _python_function(fn: object) -> types.FunctionType:
    """Unwrap methods, static/class methods and `functools.wraps` layers to a plain function."""
    seen = set()
    while id(fn) not in seen:
        seen.add(id(fn))
        if isinstance(fn, (staticmethod, classmethod, types.MethodType)):
            fn = fn.__func__
        elif not inspect.isclass(fn) and hasattr(fn, "__wrapped__"):  # wraps, lru_cache
            fn = fn.__wrapped__
    if not isinstance(fn, types.FunctionType):
        raise _no_python_source(fn)
    return fn


def _no_python_source(fn: object) -> SourceUnavailable:
    name = qualified_name(fn)
    if inspect.isclass(fn):
        kind = "a class"
    elif isinstance(fn, functools.partial):
        kind = "a functools.partial object"
    elif inspect.isbuiltin(fn) or type(fn).__name__ == "ufunc":
        kind = "a built-in or compiled function"
    else:
        kind = f"a {type(fn).__name__} object, not a Python function"
    return SourceUnavailable(
        f"Expected a Python function to transform, got `{name}`, which is {kind} and has no "
        "Python source.",
        hint=(
            f"if `{name}` is called inside the function you differentiate, register a derivative "
            f"rule with `@sourcegrad.adjoint({name})` or mark it "
            f"`sourcegrad.nondifferentiable({name})`; to differentiate it directly, wrap it in a "
            f"`def` that calls it."
        ),
    )


# --- reading and parsing the source ---------------------------------------------------------


def _source_text(fn: types.FunctionType) -> str:
    """The whole text of the file (or cell, or exec_source string) that defines `fn`."""
    filename = fn.__code__.co_filename
    linecache.checkcache(filename)
    lines = linecache.getlines(filename, fn.__globals__)
    if lines:
        return "".join(lines)
    generated = getattr(fn, "__sourcegrad_source__", None)
    if isinstance(generated, str) and filename.startswith("<sourcegrad "):
        # a generated function whose text linecache dropped (linecache.clearcache()): it keeps its own
        lines = generated.splitlines(keepends=True)
        linecache.cache[filename] = (len(generated), None, lines, filename)
        return generated
    raise SourceUnavailable(
        f"Cannot read the source of `{fn.__qualname__}`: it was compiled from `{filename}`, and "
        "Python keeps no source text for it (code run by `exec`/`eval`, typed at a plain "
        "interactive prompt, or loaded from a file that has since been removed).",
        hint=(
            f"define `{fn.__name__}` in a .py file or a notebook cell, or create it with "
            "`namespace = sourcegrad.exec_source(src, namespace)` instead of `exec(src, "
            f"namespace)`; `exec_source` keeps the source so that `namespace['{fn.__name__}']` "
            "can be transformed."
        ),
    )


@functools.lru_cache(maxsize=32)
def _parse_file(text: str, filename: str) -> ast.Module:
    """Parse a whole source file once; callers deep-copy what they take from the tree."""
    try:
        return ast.parse(text, filename)
    except SyntaxError as err:
        raise SourceUnavailable(
            f"Cannot parse `{filename}` to find a function in it: {err.msg} (line {err.lineno}).",
            hint="the file has probably changed since it was imported: fix it, then reload it.",
        ) from None


def _stale(fn: types.FunctionType, what: str) -> SourceUnavailable:
    code = fn.__code__
    return SourceUnavailable(
        f"Cannot find the source of `{fn.__qualname__}`: expected {what} at line "
        f"{code.co_firstlineno} of `{code.co_filename}`, but that line holds none.",
        hint="the file has probably changed since it was imported: reload the module "
        "(`importlib.reload`) or restart the interpreter.",
    )


def _find_def(tree: ast.Module, fn: types.FunctionType) -> ast.FunctionDef:
    """The def of `fn`: its name, and its first line (decorators included) is co_firstlineno."""
    code = fn.__code__
    defs = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        if isinstance(node, defs) and node.name == code.co_name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == code.co_firstlineno:
                return node
    raise _stale(fn, f"`def {code.co_name}`")


# --- lambdas --------------------------------------------------------------------------------


def _find_lambda(tree: ast.Module, fn: types.FunctionType) -> ast.Lambda:
    """The Lambda node of `fn`, told apart from other lambdas on its line."""
    code = fn.__code__
    line = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
    line = [n for n in line if n.lineno == code.co_firstlineno]
    found = [n for n in line if _arg_names(n.args) == _code_arg_names(code)]
    if len(found) > 1 and sys.version_info >= (3, 11):
        found = [n for n in found if _span(n.body) in set(code.co_positions())] or found
    if len(found) > 1:
        found = [n for n in found if _code_signature(_compile_alone(n)) == _code_signature(code)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise _stale(fn, "a lambda with parameters " + repr(_code_arg_names(code)))
    raise SourceUnavailable(
        f"Cannot tell which of the {len(found)} lambdas on line {code.co_firstlineno} of "
        f"`{code.co_filename}` is the one to transform: they compile to the same code.",
        hint="put the lambda on its own line, or define it with `def`.",
    )


def _arg_names(args: ast.arguments) -> tuple[str, ...]:
    """Parameter names in the order the code object lists them in co_varnames."""
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return tuple(names)


def _code_arg_names(code: types.CodeType) -> tuple[str, ...]:
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    return code.co_varnames[:count]


def _span(node: ast.AST) -> tuple:
    return (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)


def _compile_alone(node: ast.Lambda) -> types.CodeType:
    """The code object of one lambda compiled on its own (free variables become globals)."""
    module = ast.Expression(body=copy.deepcopy(node))
    code = compile(ast.fix_missing_locations(module), "<sourcegrad>", "eval")
    return next(c for c in code.co_consts if isinstance(c, types.CodeType))


def _code_signature(code: types.CodeType) -> tuple:
    """What a lambda's code shows of its text, whether or not its names are closure cells."""
    names = set(code.co_names) | set(code.co_varnames) | set(code.co_freevars)
    names |= set(code.co_cellvars)
    consts = [c for c in code.co_consts if not isinstance(c, types.CodeType)]
    return tuple(sorted(names)), tuple(repr(c) for c in consts if c is not None)


def _lambda_as_def(node: ast.Lambda) -> ast.FunctionDef:
    """`lambda args: body` as `def f_lambda(args): return body`, at the lambda's position."""
    node = copy.deepcopy(node)
    ret = ast.copy_location(ast.Return(value=node.body), node.body)
    fields = {"name": LAMBDA_NAME, "args": node.args, "body": [ret], "decorator_list": []}
    if sys.version_info >= (3, 12):
        fields["type_params"] = []
    return ast.copy_location(ast.FunctionDef(**fields, returns=None), node)
