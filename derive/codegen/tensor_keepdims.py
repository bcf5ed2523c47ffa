"""Sums with and without ``keepdims`` in generated tensor code: one computed, not both.

Batch normalization's backward reads ``np.sum(dout, axis=0, keepdims=True)`` inside dx and
returns ``np.sum(dout, axis=0)`` as dbeta. A sum over the *leading* axes that only meets
full-rank arrays through elementwise operations broadcasts the same with or without its
kept axes (NumPy prepends unit axes), so there it is written without them
(:func:`leading_keepdims`): the two sums are then one value, shared as it is — no
``[None, :]`` view and no ``reshape`` (~0.1 us each, at batch 100 they count). Where
both forms stay, the one without keepdims is the reshaped other (:func:`share_keepdims`).

>>> from derive.tensor import Arr, dims
>>> N, D = dims("N D")
>>> dout, xn = Arr("dout", (N, D)), Arr("xn", (N, D))
>>> leading_keepdims([xn*AxisSum(dout, 1, 0) + dout])
[dout + xn*AxisSum(dout, 0, 0)]
"""
from __future__ import annotations

import sympy as sp

from ..tensor import AxisSum, Reshape, shape_of

__all__ = ["leading_keepdims", "share_keepdims"]

_ELEMENTWISE = (sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log)


def _relaxed(e, rank: int):
    """``e`` read elementwise by a value of ``rank`` axes: its leading-axes keepdims sums
    of that rank without the kept axes (the values it broadcasts to are unchanged)."""
    if isinstance(e, AxisSum) and e.keepdims and e.axes == tuple(range(len(e.axes))) \
            and len(shape_of(e)) == rank:
        return AxisSum(e.args[0], 0, *e.args[2:])
    if isinstance(e, _ELEMENTWISE) and shape_of(e):
        return e.func(*(_relaxed(a, rank) for a in e.args))
    return e


def leading_keepdims(exprs) -> list:
    """Each expression with the leading-axes keepdims sums its elementwise operations
    broadcast against full-rank arrays written without keepdims; an expression whose own
    shape would change is kept as it was."""
    out = []
    for e in exprs:
        full = shape_of(e)
        new = e
        if isinstance(e, _ELEMENTWISE) and full:
            new = e.func(*(_relaxed(a, len(full)) for a in e.args))
        out.append(new if shape_of(new) == full else e)
    return out


def share_keepdims(exprs) -> list:
    """A sum without keepdims written as the reshaped keepdims sum when both appear."""
    kept = {(a.args[0], a.args[2:]) for e in exprs for a in e.atoms(AxisSum) if a.keepdims}

    def swap(a):
        if not a.keepdims and (a.args[0], a.args[2:]) in kept:
            return Reshape(AxisSum(a.args[0], 1, *a.args[2:]), *shape_of(a))
        return a
    return [e.replace(lambda a: isinstance(a, AxisSum) and not a.keepdims, swap) for e in exprs]
