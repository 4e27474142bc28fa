"""Golden files: the exact source sourcegrad generates for each function in cases/.

Each `cases/<name>.py` defines `loss` and `WRT`; `cases/<name>.reverse.py` holds the text of
`sg.source(sg.grad(loss, wrt=WRT))`. A change to the generated code shows up here as a diff to
review. To accept the current output:

    pytest tests/golden --update-golden

then read the diff of the `.reverse.py` files before committing them.
"""

import difflib
import importlib.util
from pathlib import Path

import pytest

import sourcegrad as sg

CASES_DIR = Path(__file__).parent / "cases"
UPDATE_HINT = "run `pytest tests/golden --update-golden` and review the generated file"

# Case modules are `<name>.py`; golden files (`<name>.reverse.py`) have a second suffix.
CASES = sorted(
    path.stem
    for path in CASES_DIR.glob("*.py")
    if len(path.suffixes) == 1 and not path.name.startswith("_")
)


def load_case(name):
    """A fresh module object for cases/<name>.py: new code objects, so nothing cached applies."""
    path = CASES_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"golden_case_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(name):
    """The reverse-mode source for one case, ending in exactly one newline (as files do)."""
    module = load_case(name)
    text = sg.source(sg.grad(module.loss, wrt=module.WRT, optimized=True))
    return text.rstrip("\n") + "\n"


def test_there_are_cases():
    assert CASES, f"no case modules found in {CASES_DIR}"


@pytest.mark.parametrize("name", CASES)
def test_generation_is_deterministic(name):
    # Golden files are only meaningful if the same input gives byte-identical output.
    assert generate(name) == generate(name)


@pytest.mark.parametrize("name", CASES)
def test_reverse_source_matches_golden_file(name, update_golden):
    golden = CASES_DIR / f"{name}.reverse.py"
    text = generate(name)
    if update_golden:
        golden.write_text(text, encoding="utf-8")
        return
    if not golden.exists():
        where = golden.relative_to(CASES_DIR.parents[2])  # the path from the repository root
        pytest.fail(f"golden file {where} is missing: {UPDATE_HINT}", pytrace=False)
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{golden.name} (golden)",
            tofile=f"{golden.name} (generated now)",
        )
        pytest.fail(
            f"generated source for {name} differs from {golden.name}; if the change is "
            f"intended, {UPDATE_HINT}\n\n" + "".join(diff),
            pytrace=False,
        )
