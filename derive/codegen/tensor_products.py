"""A product of two arrays shared by several products, for :func:`.tensor.tensor_cse`.

SymPy flattens products, so ``dout*gamma`` inside ``D*dout*gamma`` and inside
``sum(dout*gamma*xn)`` is no subexpression of either, and a search for repeated
subexpressions never names it. Layer normalization's backward reads it three times:

    (D*dout*gamma - xn*sum(dout*gamma*xn) - sum(dout*gamma)) / (D*std)

Printed as it stands that is a pass for ``D*dout*gamma``, a three-operand einsum (NumPy's
generic loop) and a two-operand one. With ``g = dout*gamma`` named it is one pass for g, a
plain sum and a two-operand einsum of g and xn.

:func:`shared_pair` picks the pair; :func:`name_pair` rewrites every product holding both
factors to hold the name instead (re-association of a product: an identity).

>>> from derive.tensor import array
>>> dout, xn = array("dout", (4, 3)), array("xn", (4, 3))
>>> gamma = array("gamma", (3,))
>>> shared_pair([3*dout*gamma - xn*dout*gamma])
(dout, gamma)
>>> shared_pair([dout*gamma]) is None
True
"""
from __future__ import annotations

from collections import Counter

import sympy as sp

from ..tensor import AxisSum, shape_of

__all__ = ["name_pair", "shared_pair"]


def _products(e, inside=False):
    """(product, whether it is inside a sum) for every product in ``e``."""
    if e.is_Mul:
        yield e, inside
    inner = inside or isinstance(e, AxisSum)
    for a in e.args:
        yield from _products(a, inner)


def _arrays(m) -> list:
    """The distinct array factors of the product ``m`` (numbers and sizes left out)."""
    return sorted({f for f in m.args if shape_of(f)}, key=sp.default_sort_key)


def shared_pair(exprs):
    """The pair of array factors found together in the most products (at least two, one
    of them outside every sum, so that its product is made anyway), or None."""
    counts, made = Counter(), set()
    for e in exprs:
        for m, inside in _products(e):
            fs = _arrays(m)
            pairs = [(a, b) for i, a in enumerate(fs) for b in fs[i + 1:]]
            counts.update(pairs)
            if not inside:
                made.update(pairs)
    best = [(c, p) for p, c in counts.items() if c >= 2 and p in made]
    if not best:
        return None
    top = max(c for c, _ in best)
    return min((p for c, p in best if c == top), key=sp.default_sort_key)


def name_pair(e, pair, sym):
    """``e`` with each product holding both factors of ``pair`` holding ``sym`` instead."""
    a, b = pair

    def swap(m):
        rest = list(m.args)
        rest.remove(a)
        rest.remove(b)
        return sp.Mul(sym, *rest)
    return e.replace(lambda m: m.is_Mul and a in m.args and b in m.args, swap)
