"""Derivatives of `x ** y` that stay finite where the formula reads `0 ** negative` but the
derivative is finite: an integer exponent n in 0 .. k-1 at x = 0 (`x ** 0`, `x ** 1`).

    power_slope(x, y, k=1)   the k-th derivative of x ** y in x
    power_log(z, x)          z * log(x) (z = x ** y), 0 where x = 0 (autograd's choice)
    scaled(t, v)             t * v, 0 where the tangent t is: an integer exponent's zero tangent
                             (a loop index carried on a tape) times log(x < 0) = NaN stays 0
"""

from __future__ import annotations

import numpy as np


def _scalar(v):
    return v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v


def falling(y, k):
    """y (y - 1) ... (y - k + 1): the coefficient of the k-th derivative of x ** y."""
    out = 1.0
    for j in range(k):
        out = out * (y - j)
    return out


def falling_slope(y, k):
    """The derivative of `falling(y, k)` in y."""
    out = 0.0
    for j in range(k):
        term = 1.0
        for i in range(k):
            if i != j:
                term = term * (y - i)
        out = out + term
    return out


def power_slope(x, y, k=1):
    """y (y - 1) ... (y - k + 1) x ** (y - k), the k-th derivative of x ** y in x; exactly 0 where
    the coefficient is (an integer exponent 0 .. k-1), so that x = 0 gives no 0 * inf."""
    coef = falling(y, k)
    zero = np.equal(coef, 0)
    safe = np.where(zero, 1.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(zero, 0.0, coef * np.power(safe, np.subtract(y, k)))
    return _scalar(out)


def power_slope_dy(x, y, k=1):
    """The derivative of `power_slope(x, y, k)` in y (written in the differentiable subset: its
    source is differentiated); log x is `power_log(1.0, x)`, quiet for x < 0 (NaN) and 0 at x = 0."""
    safe = np.where(np.equal(x, 0), 1.0, x)
    nonzero = np.where(np.equal(x, 0), 0.0, 1.0)
    return falling_slope(y, k) * np.power(safe, np.subtract(y, k)) * nonzero + power_slope(
        x, y, k
    ) * power_log(1.0, x)


def power_log(z, x):
    """z * log(x) for z = x ** y: the derivative of x ** y in y, 0 where x = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(z * np.log(np.where(np.equal(x, 0), 1.0, x)))


def scaled(t, v):
    """t * v, exactly 0 where t is 0 (a zero tangent times a NaN or infinite factor is 0)."""
    return _scalar(np.where(np.equal(t, 0), 0.0, t * v))
