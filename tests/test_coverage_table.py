"""docs/numpy-coverage.md is generated from the rule registries and must be up to date."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "coverage_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("coverage_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_coverage_table_is_up_to_date():
    script = _script()
    assert script.OUTPUT.read_text() == script.render(), (
        "docs/numpy-coverage.md is stale: run .venv/bin/python scripts/coverage_table.py"
    )


def test_the_table_counts_callables_with_both_rules():
    script = _script()
    body = script.rows()
    both = [n for n, r, f, _ in body if r == f == "yes"]
    assert len(both) >= 200
    assert "np.linalg.cholesky" in both and "np.einsum" in both
    assert all(r != "**no**" and f != "**no**" for _, r, f, _ in body)
