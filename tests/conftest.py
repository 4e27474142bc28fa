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
