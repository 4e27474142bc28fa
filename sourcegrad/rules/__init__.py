"""Derivative rules: the registries (`table`) and one rule file per library.

Importing this package registers the built-in rules of Python's operators, `math`, NumPy and
sourcegrad's own runtime helpers (so generated code can be differentiated again).
A leaf of the package: it imports `runtime` and `errors`, never the pipeline.
"""

from sourcegrad.rules import math, numpy, numpy_arrays, numpy_linalg, operators, runtime, table  # noqa: F401 - registration on import

__all__ = ["table"]
