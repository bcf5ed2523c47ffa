"""One division for several negative powers of one value.

Softsign's forward ``x/(|x| + 1)`` and its cached factor ``(|x| + 1)**-2`` share
``u = |x| + 1``; written as they are, each divides by it (NumPy: ``x/u`` and ``1/u**2``, two
division passes; a compiled loop: two divisions per element, each the time of several
multiplies). With ``r = 1/u`` computed once they are ``x*r`` and ``r**2``: as many passes,
one division. Rounding: ``x*(1/u)`` may differ from ``x/u`` in the last bit (relative
1.1e-16), far inside every backend's 1e-12; the rewrite is exact in the reals and each
changed expression is proven equal to the one it replaces.

>>> import sympy as sp
>>> x, t0, r = sp.symbols("x t0 r", real=True)
>>> repl, reduced = [(t0, sp.Abs(x) + 1)], [x / t0, t0**-2]
>>> shared_reciprocals(repl, reduced, iter([r]))
([(t0, Abs(x) + 1), (r, 1/t0)], [r*x, r**2])
"""
from __future__ import annotations

import sympy as sp

__all__ = ["shared_reciprocals"]


def _negative_powers(exprs) -> dict:
    """{base symbol: {k, ...}} for every ``base**-k`` (k a positive integer) in ``exprs``."""
    found: dict = {}
    for e in exprs:
        for a in sp.preorder_traversal(e):
            if a.is_Pow and a.base.is_Symbol and a.exp.is_Integer and a.exp < 0:
                found.setdefault(a.base, set()).add(int(-a.exp))
    return found


def shared_reciprocals(repl, reduced, names):
    """``(repl, reduced)`` of a ``sympy.cse``, with ``r = 1/s`` added (a new name from
    ``names``) for each symbol ``s`` raised to two or more different negative integer
    powers, and each ``s**-k`` written ``r**k``; unchanged when there is none, or when a
    rewritten expression is not proven equal to the one it replaces."""
    from ..errors import ProofError
    from ..proof import prove_rewrite
    from .cse_passes import _written_out      # here: cse_passes imports this module
    exprs = [v for _, v in repl] + list(reduced)
    bases = {s: ks for s, ks in _negative_powers(exprs).items() if len(ks) >= 2}
    if not bases:
        return repl, reduced
    inverse = {s: next(names) for s in sorted(bases, key=sp.default_sort_key)}
    subs = {s**-k: inverse[s]**k for s, ks in bases.items() for k in ks}
    defined = {q for q, _ in repl}
    new = [(r, 1 / s) for s, r in inverse.items() if s not in defined]   # an array's: first
    for q, v in repl:
        new.append((q, v.xreplace(subs)))
        if q in inverse:
            new.append((inverse[q], 1 / q))
    out = [e.xreplace(subs) for e in reduced]
    try:
        for a, b in zip(reduced, out):
            if a != b:
                prove_rewrite(_written_out(repl, a), _written_out(new, b), allow_kink=False,
                            what="a shared reciprocal")
    except ProofError:
        return repl, reduced
    return new, out
