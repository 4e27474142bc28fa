"""Rows for NumPy's statistics (rules/numpy_stats.py): NaN-ignoring reductions, quantiles, order
statistics, covariance, integration."""

from dataclasses import dataclass

import numpy as np
from domains import ARRAY_REDUCTION, A, F, K, beyond_autograd, case, row


@dataclass(frozen=True)
class Nan:
    """A random array of `shape` in (low, high) with NaN at every third entry (flattened, from
    the second): NaN-ignoring functions must give those entries no cotangent."""

    shape: tuple
    low: float = -2.0
    high: float = 2.0

    @property
    def value(self):  # how Case.__repr__ shows it
        return f"nan{self.shape}"

    def sample(self, rng):
        x = rng.uniform(self.low, self.high, size=self.shape)
        x.reshape(-1)[1::3] = np.nan
        return x

    def direction(self, value, rng):
        return rng.normal(size=np.shape(value))


NAN_REDUCTION = [case(Nan((5,))), case(Nan((3, 4))), case(Nan((3, 4)), axis=0), case(Nan((3, 4)), axis=1, keepdims=True),
                 case(Nan((2, 3, 4)), axis=(0, 2))]
Q = ((-2.0, 2.0), (0.05, 0.95))
P = ((-2.0, 2.0), (5.0, 95.0))
FW = np.array([1, 3, 2, 1, 4])  # np.cov's frequency weights, one per observation

# fmt: off
row([np.nanvar, np.nanstd], *ARRAY_REDUCTION, *NAN_REDUCTION, case(Nan((3, 4)), axis=1, ddof=1),
    case(A(2, 3), axis=1, dtype=np.float64), autograd=False)
row(np.nanprod, *ARRAY_REDUCTION, case(Nan((3, 4), 0.5, 1.5)), case(Nan((3, 4), 0.5, 1.5), axis=1),
    case(Nan((2, 3, 4), 0.5, 1.5), axis=(0, 2), keepdims=True), domain=(0.5, 1.5), autograd=False)
row(np.nancumsum, case(A(3)), case(Nan((2, 3))), case(Nan((2, 3)), axis=0), case(Nan((2, 3, 4)), axis=-1),
    autograd=False)
row(np.nancumprod, case(A(3)), case(Nan((2, 3), 0.5, 1.5)), case(Nan((2, 3), 0.5, 1.5), axis=1),
    case(A(2, 3, 4), axis=0), domain=(0.5, 1.5), autograd=False)
row(np.nanmedian, case(A(5)), case(A(4)), *NAN_REDUCTION, autograd=False)
row([np.quantile, np.nanquantile], case(A(5), A()), case(A(4), A(3)), case(A(3, 4), A(2), axis=1),
    case(A(3, 4), K(0.3), axis=0, keepdims=True), case(A(2, 3, 4), A(), axis=(0, 2)),
    case(A(6), A(2), method="lower"), case(A(6), A(2), method="higher"), case(A(6), A(2), method="nearest"),
    case(A(6), A(2), method="midpoint"), case(A(3, 4), A(2), axis=-1, keepdims=True, method="linear"),
    domain=Q, autograd=False)
row(np.nanquantile, case(Nan((3, 4)), A(2), axis=1), case(Nan((7,)), A()), case(Nan((2, 3, 4)), K(0.4), axis=(0, 2)),
    case(A(5), A()), case(A(3, 4), A(2), axis=1), case(A(6), A(2), method="midpoint"), domain=Q, autograd=False)
row([np.percentile, np.nanpercentile], case(A(5), A()), case(A(3, 4), A(2), axis=1),
    case(A(3, 4), K(30.0), axis=0, keepdims=True), case(A(6), A(2), method="lower"), domain=P, autograd=False)
row(np.partition, case(A(5), K(2)), case(A(3, 4), K(1)), case(A(3, 4), K((0, 2)), axis=0), case(A(3, 4), K(3), axis=None),
    autograd=False)
row(np.cov, case(A(3, 5)), case(A(5)), case(A(5, 3), rowvar=False), case(A(2, 5), A(5)), case(A(3, 5), bias=True),
    case(A(3, 5), ddof=2), case(A(4, 2), A(4, 3), rowvar=False), case(A(1, 4), rowvar=False, bias=True),
    case(A(3, 5), fweights=FW), case(A(2, 5), K(None), K(True), K(False), K(None), K(FW), A(5, low=0.5, high=2.0)),
    case(A(2, 5), A(5), K(True), K(True), K(None), K(None), A(5, low=0.5, high=2.0)),
    case(A(5, 2), K(None), K(False), K(False), K(2), K(FW), A(5, low=0.5, high=2.0)),
    case(A(5), K(None), K(True), K(False), K(0), K(None), A(5, low=0.5, high=2.0)),
    case(A(3, 5), fweights=FW, bias=True), case(A(3, 5), fweights=FW, ddof=0),
    case(A(3, 5), aweights=np.array([0.5, 1.0, 2.0, 0.0, 1.5]), ddof=2), autograd=False)
row(np.corrcoef, case(A(3, 5)), case(A(5), A(5)), case(A(5, 3), rowvar=False), case(A(2, 5), A(5)), autograd=False)
row(np.trapezoid, case(A(5)), case(A(3, 4)), case(A(3, 4), axis=0), case(A(5), A(5)), case(A(3, 4), A(4)),
    case(A(3, 4), A(3), axis=0), case(A(3, 4), A(3, 4), axis=-1), case(A(5), K(None), A()),
    case(A(3, 4), K(None), F, K(0)), beyond_autograd(case(A(5), dx=0.5)), autograd=False)
# fmt: on
