"""Gradients and cached factors that are minus one another, each pair proven: the second
is computed as a negation of the first (one pass) instead of a second select or a second
cached array. A loss of ``x - t`` has dL/dt = -dL/dx; the book's Huber returns ``g, -g``."""
from __future__ import annotations

import sympy as sp

from ..errors import ProofError
from ..proof import prove_equal

__all__ = ["negated", "share_negations"]


def negated(grads) -> dict:
    """{j: i} for each gradient j proven to be minus an earlier gradient i that is not
    already written so (Huber's and smooth L1's selects: dL/dt = -dL/dx), so that the
    lowering computes it as one negation of the other, not as a second select."""
    from .stable import _unfold
    found: dict = {}
    for j in range(1, len(grads)):
        for i in range(j):
            if i in found or grads[j] == -grads[i] or not grads[j].has(sp.Piecewise):
                continue
            try:
                prove_equal(_unfold(grads[j]), _unfold(-grads[i]), allow_kink=False,
                            what="a gradient as minus another")
            except ProofError:
                continue
            found[j] = i
            break
    return found


def share_negations(new, cached: dict):
    """A cached float factor proven to be minus another (a loss of ``x - t``: the gradient
    w.r.t. t is minus that w.r.t. x, as the book's Huber returns ``g, -g``) is not cached:
    backward negates the other's product instead, one cache and one transcendental fewer."""
    from .stable import _unfold
    floats = [(e, s) for e, s in cached.items() if s.is_real]
    subs: dict = {}
    for i, (e2, s2) in enumerate(floats):
        for e1, s1 in floats[:i]:
            if s1 in subs:
                continue
            try:
                prove_equal(_unfold(e2), _unfold(-e1), what="a cached factor as minus another",
                            allow_kink=False)
            except ProofError:
                continue
            subs[s2] = -s1
            break
    new = [e.xreplace(subs) for e in new]
    return new, [(sym, e) for e, sym in cached.items() if sym not in subs]
