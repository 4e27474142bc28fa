"""Rows for `scipy.special` (rules/scipy_special.py), present when SciPy is importable."""

import numpy as np
from domains import ARRAY_REDUCTION, BINARY, UNARY, A, K, case, row

try:
    from scipy import special
except ImportError:  # SciPy is optional: its rules are registered only when it imports
    special = None

# fmt: off
if special is not None:
    row([special.erf, special.erfc, special.expit, special.ndtr, special.log_ndtr], *UNARY, autograd=False)
    row(special.erfinv, *UNARY, domain=(-0.9, 0.9), autograd=False)
    row([special.gamma, special.gammaln, special.digamma], *UNARY, domain=(0.5, 4.0), autograd=False)
    row(special.logit, *UNARY, domain=(0.1, 0.9), autograd=False)
    row(special.polygamma, case(K(1), A(3)), case(K(0), A(2, 3)), case(K(np.array([0, 1, 2])), A(2, 3)),
        domain=(0.5, 4.0), autograd=False)
    row(special.xlogy, *BINARY, domain=((-2.0, 2.0), (0.5, 2.0)), autograd=False)
    row(special.logsumexp, *ARRAY_REDUCTION, case(A(2, 3), axis=1, b=np.array([0.5, 1.0, 2.0])),
        case(A(2, 3), K(None), A(2, 3, low=0.5, high=2.0)), case(A(2, 3), K(1), A(3, low=0.5, high=2.0), keepdims=True),
        autograd=False)
    row([special.softmax, special.log_softmax], case(A(4)), case(A(2, 3)), case(A(2, 3), axis=1), case(A(2, 3, 4), axis=(0, 2)),
        autograd=False)
# fmt: on
