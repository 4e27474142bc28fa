"""The tape: a stack of values that the primal sweep saves for the adjoint sweep.

Generated code writes `tape = sg.Tape()`, `sg.push(tape, h)` and `h = sg.pop(tape)`. `push` and
`pop` are the list methods themselves, so a push costs one C call and no Python frame.
"""

from __future__ import annotations


class Tape(list):
    """A last-in, first-out stack of saved values (a plain list with a name of its own)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Tape({list.__repr__(self)})"


#: push(tape, x): save x on the tape.
push = list.append
#: pop(tape): take back the value saved last.
pop = list.pop
#: depth(tape): how many values the tape holds (a mark to truncate back to).
depth = list.__len__


def truncate(tape: Tape, mark: int) -> None:
    """Drop what was saved after ``mark``: a backward loop that a ``break`` in inserted gradient
    code stopped early leaves its remaining iterations' values behind."""
    del tape[mark:]


def unspent(residuals):
    """A copy of a forward sweep's `residuals` with every tape in it whole: a backward pass pops
    what it reads, so a pullback that may be called again (`sg.vjp`) runs each time on copies.
    Tapes and the tuples that hold them (a callee's residuals) are copied; arrays are shared."""
    if isinstance(residuals, Tape):
        return Tape([unspent(v) for v in residuals])
    if type(residuals) is tuple:
        return tuple([unspent(v) for v in residuals])
    return residuals
