"""Gradients and cached factors that are minus one another, each pair proven: the second
is computed as a negation of the first (one pass) instead of a second select or a second
cached array. A loss of ``x - t`` has dL/dt = -dL/dx; the book's Huber returns ``g, -g``."""
from __future__ import annotations

import sympy as sp

from ..errors import ProofError
from ..proof import prove_rewrite

__all__ = ["negated", "share_negations"]


_CONTINUOUS = (sp.Add, sp.Mul, sp.Min, sp.Max, sp.Abs, sp.exp, sp.tanh, sp.Symbol, sp.Number,
               sp.NumberSymbol)


def _continuous(e) -> bool:
    """Whether ``e`` is continuous everywhere by its make alone: sums, products, Min, Max,
    Abs, exp, tanh of such, and powers with a non-negative integer exponent or a base free
    of arrays (a parameter; conservative: no select, sign or division by a value).

    >>> x, b = sp.Symbol("x", real=True), sp.Symbol("beta", positive=True)
    >>> _continuous(sp.Max(-b, sp.Min(b, x))/b), _continuous(sp.sign(x)), _continuous(1/x)
    (True, False, False)
    """
    if e.is_Pow:
        base, ex = e.args
        return _continuous(base) and ex.is_number and (
            (ex.is_integer and ex >= 0) or base.is_positive is True and not base.free_symbols
            or (base.is_Symbol and base.is_positive is True))
    return isinstance(e, _CONTINUOUS) and all(_continuous(a) for a in e.args)


def _minus(a, b, what: str) -> bool:
    """Whether ``a == -b`` is proven: with no kink allowed, unless both sides are continuous
    (:func:`_continuous`): then equality off the measure-zero set a proof may leave open is
    closed by continuity (Huber's clip(x - t) and clip(t - x))."""
    from .stable import _unfold
    try:
        prove_rewrite(_unfold(a), _unfold(-b), what=what,
                      allow_kink=_continuous(a) and _continuous(b))
    except ProofError:
        return False
    return True


def negated(grads) -> dict:
    """{j: i} for each gradient j proven to be minus an earlier gradient i that is not
    already written so (Huber's and smooth L1's selects: dL/dt = -dL/dx), so that the
    lowering computes it as one negation of the other, not as a second select."""
    found: dict = {}
    for j in range(1, len(grads)):
        for i in range(j):
            if i in found or grads[j] == -grads[i] or not grads[j].has(sp.Piecewise, sp.Min, sp.Max):
                continue
            if _minus(grads[j], grads[i], "a gradient as minus another"):
                found[j] = i
                break
    return found


def share_negations(new, cached: dict):
    """A cached float factor proven to be minus another (a loss of ``x - t``: the gradient
    w.r.t. t is minus that w.r.t. x, as the book's Huber returns ``g, -g``) is not cached:
    backward negates the other's product instead, one cache and one transcendental fewer."""
    floats = [(e, s) for e, s in cached.items() if s.is_real]
    subs: dict = {}
    for i, (e2, s2) in enumerate(floats):
        for e1, s1 in floats[:i]:
            if s1 not in subs and _minus(e2, e1, "a cached factor as minus another"):
                subs[s2] = -s1
                break
    new = [e.xreplace(subs) for e in new]
    return new, [(sym, e) for e, sym in cached.items() if sym not in subs]
