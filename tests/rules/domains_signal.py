"""Rows for NumPy's sequence functions (rules/numpy_signal.py): polynomials, convolution,
interpolation, differences, and elementwise functions with two results."""

from dataclasses import dataclass

import numpy as np
from domains import UNARY, A, F, K, beyond_autograd, case, row
from domains_stats import Nan

from sourcegrad.runtime.signal import bin_sum

XP = np.array([-1.5, -0.5, 0.2, 1.0, 1.8])  # increasing sample points


@dataclass(frozen=True)
class Increasing:
    """`n` increasing random points in (-2, 2), at least 0.3 apart (np.interp's xp)."""

    n: int

    @property
    def value(self):  # how Case.__repr__ shows it
        return f"increasing({self.n})"

    def sample(self, rng):
        return -2.0 + np.cumsum(rng.uniform(0.3, 4.0 / self.n, size=self.n))

    def direction(self, value, rng):
        return rng.normal(size=np.shape(value))


# fmt: off
row(np.polyder, case(A(4)), case(A(5), K(2)), case(A(3), m=1), autograd=False)
row(np.polyint, case(A(3)), case(A(4), K(2)), autograd=False)
row(np.polyval, case(A(3), A(4)), case(A(4), F), case(A(1), A(2, 3)), case(K(np.array([1.0, -2.0, 0.5])), A(3)),
    autograd=False)
row([np.polyadd, np.polysub], case(A(3), A(3)), case(A(2), A(4)), case(A(4), A(2)), autograd=False)
row(np.polymul, case(A(3), A(2)), case(A(2), A(4)), autograd=False)
row(np.vander, case(A(3)), case(A(4), K(3)), case(A(3), N=5, increasing=True), case(A(3), increasing=True),
    autograd=False)
row([np.convolve, np.correlate], case(A(5), A(3)), case(A(3), A(5)), case(A(4), A(4), K("same")),
    case(A(6), A(2), K("same")), case(A(2), A(6), K("same")), case(A(2), A(5), K("same")),
    case(A(5), A(3), K("valid")), case(A(3), A(5), K("full")), case(A(2), A(4), mode="same"), autograd=False)
row(np.interp, case(A(6), K(XP), A(5)), case(A(2, 3), Increasing(5), A(5)), case(A(6, low=-3.0, high=3.0), Increasing(4), A(4), A(), A()),
    case(A(7, low=-3.0, high=3.0), K(XP), A(5)), case(A(7, low=-3.0, high=3.0), K(XP), A(5), A(), A()),
    case(F, K(XP), A(5)), case(A(4, low=-3.0, high=3.0), K(XP), A(5), left=0.5, right=-1.0),
    beyond_autograd(case(A(4), K(XP), K(np.arange(5.0)))),
    case(A(6, low=-6.0, high=6.0), A(5), A(5), K(None), K(None), A(low=4.0, high=5.0)),
    case(A(2, 3, low=-6.0, high=6.0), Increasing(5), A(5), period=4.5), case(F, A(4), A(4), period=-3.5),
    case(A(5, low=-6.0, high=6.0), A(4), A(4), A(), A(), A(low=-5.0, high=-4.0)),
    case(A(3), K(XP), A(5), period=2.5), autograd=False)
row(np.gradient, case(A(5)), case(A(6), F), case(A(6), K(0.5), edge_order=2), case(A(3), edge_order=2), case(A(3, 4)),
    case(A(3, 4), axis=1), case(A(3, 4), axis=0, edge_order=2), case(A(3, 4), F, F), case(A(5), Increasing(5)),
    case(A(4, 5), Increasing(4), Increasing(5), edge_order=2), case(A(2, 3, 4), K(1.0), Increasing(3), F),
    case(A(2, 3, 4), axis=(0, 2)), case(A(3, 5), Increasing(5), axis=-1), case(A(3, 4), F, axis=(1, 0)),
    case(A(3, 4), K(np.array([0.0, 0.5, 1.5])), F), autograd=False)
row(np.ediff1d, case(A(5)), case(A(2, 3)), case(A(4), A(2), A()), case(A(4), to_begin=1.0),
    case(A(4), K(None), A(3)), case(A(3), F), autograd=False)
row(np.frexp, *UNARY, autograd=False)
row(np.modf, *UNARY, case(A(3, low=-5.0, high=5.0)), autograd=False)
row(np.divmod, case(A(3), A(3)), case(A(2, 3), A(3)), case(F, A(2)), domain=((0.1, 4.0), (0.6, 1.4)),
    autograd=False)
row(np.nan_to_num, *UNARY, case(Nan((6,))), case(Nan((2, 3)), nan=2.0), autograd=False)
row(np.unwrap, case(A(6)), case(A(2, 5), axis=0), case(A(2, 5), period=4.0), case(A(6), discont=4.0),
    domain=(-6.0, 6.0), autograd=False)
row(np.real_if_close, *UNARY, autograd=False)
# fmt: on

# fmt: off
# runtime helpers of the rules above that have rules of their own (rules/runtime_second_order.py)
row(bin_sum, case(A(5), K(np.array([0, 2, 2, 1, 0])), K(3)), case(A(2, 3), K(np.array([[0, 3, 3], [1, 1, 0]])), K(5)),
    autograd=False)
# fmt: on
