"""The `--update-golden` option for the golden-file tests in this folder.

pytest reads options only from conftest files it finds before collection, so pass this folder:

    pytest tests/golden --update-golden
"""

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/cases/*.reverse.py from the current generator (review the diff)",
    )


@pytest.fixture
def update_golden(request):
    """True when the run should write golden files instead of comparing with them."""
    # getoption's default covers runs where this conftest was found after options were parsed.
    return request.config.getoption("--update-golden", default=False)
