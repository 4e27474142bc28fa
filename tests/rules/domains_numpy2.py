"""Rows for NumPy 2's array-API names (rules/numpy2.py), present when NumPy has them."""

import numpy as np
from domains import ARRAY_REDUCTION, A, K, beyond_autograd, case, row

# fmt: off
if int(np.__version__.split(".")[0]) >= 2:
    row([np.matrix_transpose, np.linalg.matrix_transpose], case(A(2, 3)), case(A(4, 2, 3)))
    row(np.linalg.diagonal, case(A(3, 3)), case(A(2, 3, 4), offset=1), case(A(3, 4), offset=-1))
    row(np.linalg.trace, case(A(3, 3)), case(A(2, 3, 4), offset=1), case(A(3, 4), offset=-1))
    row(np.linalg.matmul, case(A(2, 3), A(3, 4)), case(A(3), A(3, 4)), case(A(5, 2, 3), A(3)),
        case(A(5, 1, 2, 3), A(4, 3, 2)))
    row(np.linalg.outer, case(A(3), A(4)))
    row(np.linalg.tensordot, case(A(2, 3), A(3, 4), axes=1), case(A(2, 3, 4), A(3, 4, 5)),
        case(A(2, 3, 4), A(4, 3, 5), axes=((1, 2), (1, 0))))
    row(np.linalg.cross, case(A(3), A(3)), case(A(4, 3), A(3)), case(A(3, 4), A(3, 4), axis=0))
    row([np.vecdot, np.linalg.vecdot], case(A(3), A(3)), case(A(2, 3), A(3)), case(A(2, 3), A(4, 1, 3)),
        case(A(3, 4), A(3, 4), axis=0), case(A(2, 3, 4), A(3, 4), axis=-2))
    row(np.linalg.matrix_norm, case(A(2, 3)), case(A(4, 2, 3), keepdims=True), case(A(3, 3), ord="nuc"),
        case(A(2, 3, 4), ord=2), case(A(3, 4), ord=-2), case(A(3, 4), ord=1), case(A(3, 4), ord=-1),
        case(A(2, 3, 4), ord=np.inf, keepdims=True), case(A(3, 4), ord=-np.inf))
    row(np.linalg.vector_norm, *ARRAY_REDUCTION, case(A(2, 3), ord=1), case(A(2, 3), axis=1, ord=np.inf),
        case(A(2, 3), axis=0, ord=-np.inf), case(A(2, 3, 4), axis=(0, 2), ord=3), case(A(4), ord=0.5))
    row(np.linalg.svdvals, case(A(4, 3)), case(A(3, 4)), case(A(2, 3, 3)))

if hasattr(np, "matvec"):
    row(np.unstack, case(A(3)), case(A(2, 3)), case(A(2, 3, 4), axis=1), case(A(2, 3), axis=-1))
    row(np.cumulative_sum, case(A(3)), case(A(2, 3), axis=0), case(A(2, 3), axis=-1, include_initial=True),
        case(A(4), include_initial=True), case(A(2, 3), axis=1, dtype=np.float64))
    row(np.cumulative_prod, case(A(3)), case(A(2, 3), axis=0), case(A(2, 3), axis=-1, include_initial=True),
        case(A(2, 3, 4), axis=1), domain=(0.5, 1.5))
    row(np.astype, case(A(3), K(np.float64)), beyond_autograd(case(A(2, 3), K(np.int64))),
        case(A(3), K(np.float64), copy=False))
    row(np.matvec, case(A(2, 3), A(3)), case(A(4, 2, 3), A(3)), case(A(2, 3), A(4, 3)),
        case(A(5, 1, 2, 3), A(4, 3)))
    row(np.vecmat, case(A(3), A(3, 2)), case(A(4, 3), A(3, 2)), case(A(3), A(4, 3, 2)))
# fmt: on
