"""Fixtures shared by the whole suite."""

import os
import sys

import numpy as np
import pytest

# tests/ has no __init__.py: make `from helpers import ...` work from every subfolder.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed: every test sees the same inputs on every run."""
    return np.random.default_rng(20261123)


@pytest.fixture
def restore_rules():
    """Rules a test registers are gone after it: the rule tables are as they were before."""
    from sourcegrad.rules import table

    saved = dict(table.ADJOINTS), dict(table.TANGENTS), set(table.NONDIFFERENTIABLE)
    yield
    for registry, before in zip((table.ADJOINTS, table.TANGENTS, table.NONDIFFERENTIABLE), saved):
        registry.clear()
        registry.update(before)
