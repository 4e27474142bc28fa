"""Derivative rules: the registries (`table`) and one rule file per library.

Importing this package registers the built-in rules of Python's operators, `math`, NumPy and
sourcegrad's own runtime helpers (so generated code can be differentiated again).
A leaf of the package: it imports `runtime` and `errors`, never the pipeline.
"""

import numpy as _np

from sourcegrad.rules import (  # noqa: F401 - registration on import
    inplace,
    math,
    numpy,
    numpy_arrays,
    numpy_linalg,
    numpy_signal,
    numpy_stats,
    operators,
    runtime,
    runtime_second_order,
    surgery,
    table,
)

if int(_np.__version__.split(".")[0]) >= 2:
    from sourcegrad.rules import numpy2  # noqa: F401 - NumPy 2's array-API names

try:  # SciPy is optional: its rules are registered when it is there
    import scipy.special  # noqa: F401
except ImportError:
    pass
else:
    from sourcegrad.rules import scipy_special  # noqa: F401

__all__ = ["table"]
