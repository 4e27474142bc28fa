"""Rules of in-place updates: ``x[idx] = v`` is ``x = sg.setitem(x, idx, v)`` in the normal form.

The update is linear in the array and the value together. Its adjoint sends the output's
cotangent back to ``x`` with the overwritten positions zeroed (what was there no longer reaches the
output) and to ``v`` through the written positions (unbroadcast to ``v``'s shape). Neither reads
the array's old value, so an update saves nothing on the tape by itself. The two transposes,
``clear_written`` and ``written``, and ``written``'s transpose ``unwritten``, have rules of their own, so that generated code can be
differentiated again.
"""

from sourcegrad import runtime as sg
from sourcegrad.rules.table import adjoint, d, tangent


@adjoint(sg.setitem)  # d[v] first: then d[y] can be cleared in place to give d[x]
def _(y, x, idx, v):
    d[v] = sg.unbroadcast(sg.written(d[y], idx), v)
    d[x] = sg.clear_written(d[y], idx)


@tangent(sg.setitem)
def _(y, x, idx, v):
    d[y] = sg.setitem(d[x], idx, d[v])


@adjoint(sg.clear_written)  # a projection: its own transpose
def _(y, g, idx):
    d[g] = sg.clear_written(d[y], idx)


@tangent(sg.clear_written)
def _(y, g, idx):
    d[y] = sg.clear_written(d[g], idx)


@adjoint(sg.written)  # the transpose of picking the surviving writes is writing them
def _(y, g, idx):
    d[g] = sg.unwritten(d[y], g, idx)


@tangent(sg.written)
def _(y, g, idx):
    d[y] = sg.written(d[g], idx)


@adjoint(sg.unwritten)  # linear in h; g gives only a structure
def _(y, h, g, idx):
    d[h] = sg.written(d[y], idx)
    d[g] = 0.0


@tangent(sg.unwritten)
def _(y, h, g, idx):
    d[y] = sg.unwritten(d[h], g, idx)
