"""The import rule: a stage imports only earlier stages and the leaves; nothing imports api."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sourcegrad"
# checking (check_grads) is a client of the public API, above it.
STAGES = ["frontend", "normal", "analyse", "transform", "optimise", "emit", "api", "checking"]
# custom and surgery: the markers user code holds (custom_vjp objects, insert_grad_of).
# inputs: the check that differentiated arguments are not integers, called by api and generated code.
LEAVES = {"rules", "runtime", "errors", "naming", "custom", "surgery", "inputs"}
LEAF_MAY_IMPORT = {"rules": {"runtime", "errors", "surgery"}, "runtime": set(), "errors": set(), "naming": set(),
                   "custom": {"errors"}, "surgery": set(), "inputs": {"errors"}}


def _part(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(module: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sourcegrad"):
            parts = node.module.split(".")
            names.add(parts[1] if len(parts) > 1 else node.names[0].name)
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("sourcegrad.")}
    return names


MODULES = [m for m in sorted(PACKAGE.rglob("*.py")) if m.name != "__init__.py" or m.parent != PACKAGE]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(PACKAGE)))
def test_imports_follow_the_stage_order(module):
    part = _part(module)
    for imported in _imports(module) - {part}:
        if part in LEAVES:
            assert imported in LEAF_MAY_IMPORT[part], f"leaf {part} imports {imported}"
        elif imported not in LEAVES:
            assert imported in STAGES, f"{part} imports unknown part {imported}"
            assert STAGES.index(imported) < STAGES.index(part), f"{part} imports the later stage {imported}"
