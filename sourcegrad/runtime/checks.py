"""``check_finite``: what ``grad(f, check_nan=True)`` calls after each adjoint assignment."""

from __future__ import annotations

import numpy as np


class NonFiniteGradient(FloatingPointError):
    """A gradient became NaN or infinite; the message names the user's line it belongs to."""


def check_finite(value, name: str, where: str):
    """Raise ``NonFiniteGradient`` if ``value`` (an array, a number, or a tuple/list/dict of them)
    holds a NaN or an infinity; ``where`` is the user's ``file:line: statement``."""
    bad = _count_bad(value)
    if bad:
        raise NonFiniteGradient(
            f"the gradient '{name}' holds {bad} non-finite value(s) (nan or inf) after the "
            f"backward step of\n  {where}\n"
            "What to do: look at the inputs of that statement in the forward pass (a log or sqrt "
            "at 0, a division by 0, an overflowing exp); sourcegrad.source(df) shows the step"
        )
    return value


def _count_bad(value) -> int:
    if isinstance(value, dict):
        return sum(_count_bad(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(_count_bad(v) for v in value)
    if value is None:
        return 0
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.inexact):
        return 0
    return int(array.size - np.count_nonzero(np.isfinite(array)))
