"""The shared form a lowering starts from: ``sympy.cse`` of the expressions, then passes
that change how values are shared (each proven or exact): ``c*x`` recomputed, not kept
(:func:`_inline_cheap`); a shared difference turned round where that saves a negation
(:func:`_oriented`); ``sigmoid(w)`` and ``sigmoid(-w)`` named as a pair
(:mod:`.sigmoid_pairs`); one reciprocal for several negative powers (:mod:`.reciprocal`);
a shared value known <= 0 marked so (``exp`` of it is finite).
"""
from __future__ import annotations

import sympy as sp

from .reciprocal import shared_reciprocals
from .sigmoid_pairs import paired_sigmoids

__all__ = ["shared_form"]


def shared_form(exprs, arrays, taken):
    """``(repl, reduced, pairs)``: the cse of ``exprs`` (names not in ``taken``) after the
    passes; ``pairs`` maps the name of each paired ``sigmoid(w)`` to that of ``sigmoid(-w)``."""
    names = sp.numbered_symbols("t")
    repl, reduced = sp.cse(list(exprs), symbols=(s for s in names if s.name not in taken))
    repl, reduced = _inline_cheap(repl, reduced, arrays)
    repl, reduced = _oriented(repl, reduced)
    used = set(taken) | {q.name for q, _ in repl}
    repl, reduced, pairs = paired_sigmoids(
        repl, reduced, (q for q in sp.numbered_symbols("sg", real=True) if q.name not in used))
    used |= {q.name for q, _ in repl}
    repl, reduced = shared_reciprocals(
        repl, reduced, (q for q in sp.numbered_symbols("r", real=True) if q.name not in used))
    repl, reduced = _without_aliases(repl, reduced)
    # a shared value known <= 0 (min(x, 0)) keeps that on its name: exp of it is finite
    signed = {q: sp.Symbol(q.name, nonpositive=True) for q, v in repl if v.is_nonpositive}
    repl = [(q.xreplace(signed), v.xreplace(signed)) for q, v in repl]
    reduced = [r.xreplace(signed) for r in reduced]
    pairs = {signed.get(p, p): signed.get(q, q) for p, q in pairs.items()}
    return repl, reduced, pairs


def _without_aliases(repl, reduced):
    """A shared value that is another's name (``t1 = t0``, left by :func:`_oriented` turning
    ``t1 = -t0`` round) replaced by that name: two names of one buffer would let the
    lowering write into it at one name's last reader while the other still reads it.

    >>> x, t, t0, t1 = sp.symbols("x t t0 t1", real=True)
    >>> _without_aliases([(t0, x - t), (t1, t0), (sp.Symbol("t2"), abs(t0))], [t1**2])
    ([(t0, -t + x), (t2, Abs(t0))], [t0**2])
    """
    subs, keep = {}, []
    for sym, v in repl:
        v = v.xreplace(subs)
        if v.is_Symbol and v in {q for q, _ in keep}:
            subs[sym] = v
        else:
            keep.append((sym, v))
    return keep, [e.xreplace(subs) for e in reduced]


def _inline_cheap(repl, reduced, arrays):
    """Undo sharing of ``c*x``: recomputing it costs one pass, keeping it costs a buffer and one."""
    keep, subs = [], {}
    for sym, e in repl:
        e = e.xreplace(subs)
        leaves = [a for a in sp.Mul.make_args(e) if a.free_symbols & set(arrays)]
        if e.is_Mul and len(leaves) == 1 and leaves[0].is_Symbol:
            subs[sym] = e
        else:
            keep.append((sym, e))
    return keep, [r.xreplace(subs) for r in reduced]


def _written_out(repl, e):
    """``e`` with the cse symbols of ``repl`` replaced by what they stand for."""
    for sym, sub in reversed(repl):
        e = e.xreplace({sym: sub})
    return e


def _oriented(repl, reduced):
    """A shared difference held the other way round (``x - t`` for ``t - x``) when that
    leaves fewer operations: L1's ``|t - x|`` and ``-sign(t - x)`` are ``|x - t|`` and
    ``sign(x - t)``, a negation pass fewer. Each flip is kept only when every value it
    touches is proven equal to what it was (exact in floats too: x - t is -(t - x))."""
    from ..errors import ProofError
    from ..proof import prove_rewrite

    def ops(rs, ds):
        return sum(sp.count_ops(v) for _, v in rs) + sum(sp.count_ops(d) for d in ds)
    for i, (sym, sub) in enumerate(repl):
        if not sub.is_Add or sub.is_nonpositive or sub.is_nonnegative:
            continue
        flip = {sym: -sym}
        rs = [(q, -v if q == sym else v.xreplace(flip)) for q, v in repl]
        ds = [d.xreplace(flip) for d in reduced]
        if ops(rs, ds) >= ops(repl, reduced):
            continue
        try:
            for a, b in zip(reduced, ds):
                if a != b:
                    prove_rewrite(_written_out(repl, a), _written_out(rs, b), allow_kink=False,
                                what="a shared difference the other way round")
        except ProofError:
            continue
        repl, reduced = rs, ds
    return repl, reduced
