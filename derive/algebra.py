"""The algebra between a chain-rule gradient and its cached form, as a student writes it.

The cached-form search (:mod:`derive.cached`) knows *where* a gradient goes
(``dout*out**2*exp(-x)`` → ``dout*out*(1 - out)``); this module writes the way there in
small steps that stay in the forward's own subexpressions, each a move
``(rule, expr, note, using)`` that the recorder proves against the line before:

* :func:`book_route` — the book's factorisation for a cached form ``dout·yᵏ·O(y)``:
  put the forward formula F for y, split the fraction into Fᵏ and what remains,
  write the rest as O(F), recognise y;
* :func:`small_steps` — a "simplify" broken into multiplying out and factoring.

Parts of a line that must keep their shape on the page (``1/(1+e^{-x})`` times
``e^{-x}/(1+e^{-x})``) are held in :class:`sympy.UnevaluatedExpr`; :func:`plain` takes the
holds off before anything is proven or computed.

>>> import sympy as sp
>>> x, y, dout = sp.symbols("x out dout", real=True)
>>> route = book_route(dout*y**2*sp.exp(-x), dout*y*(1 - y), 1/(1 + sp.exp(-x)), y)
>>> [rule for rule, *_ in route]
['substitute', 'split the fraction', 'what remains', 'recognise y']
>>> plain(route[1][1]) == plain(route[0][1])
True
"""
from __future__ import annotations

import sympy as sp

_HELD = sp.UnevaluatedExpr


def hold(e: sp.Expr) -> sp.Expr:
    """``e`` kept as written (a factor shown on its own)."""
    return e if e.is_Atom else _HELD(e)


def plain(e: sp.Expr) -> sp.Expr:
    """``e`` with every hold taken off."""
    if not e.has(_HELD):
        return e
    return e.replace(lambda a: isinstance(a, _HELD), lambda a: a.args[0])


def _power_of(f, out) -> int:
    if f == out:
        return 1
    if f.is_Pow and f.base == out and f.exp.is_Integer and f.exp > 0:
        return int(f.exp)
    return 0


def book_route(g0: sp.Expr, target: sp.Expr, forward: sp.Expr, out: sp.Symbol):
    """The moves from the chain-rule gradient ``g0`` to the cached form ``target`` (in
    ``out`` and upstream names only) through the forward formula; None when the cached form
    is not a power of ``out`` times other factors in ``out``, or a move would not simplify.
    """
    factors = sp.Mul.make_args(target)
    k = sum(_power_of(f, out) for f in factors)
    rest = [f for f in factors if f.has(out) and not _power_of(f, out)]
    scale = sp.Mul(*[f for f in factors if not f.has(out)])
    if not k or not rest or forward.is_Atom:
        return None
    unfolded = g0.xreplace({out: forward})
    remaining = unfolded / (scale * forward ** k)   # in the forward's own terms (e^{-x})
    if sp.count_ops(remaining) > sp.count_ops(sp.together(remaining)) + 4:
        remaining = sp.together(remaining)
    rest_f = sp.Mul(*rest).xreplace({out: forward})
    if remaining.has(out) or sp.count_ops(remaining) > 3 * sp.count_ops(rest_f) + 8:
        return None
    shown = [hold(forward)] * k
    moves = []
    if g0.has(out):
        moves.append(("substitute", unfolded, "put in the forward formula", (out, forward)))
    moves.append(("split the fraction", sp.Mul(scale, *shown, hold(remaining)),
                  "the forward formula once for each y of the cached form, times what "
                  "remains", ()))
    moves.append(("what remains", sp.Mul(scale, *shown, hold(rest_f)),
                  "written with the forward formula", (remaining, rest_f)))
    moves.append(("recognise y", target, "the forward formula is the output",
                  (forward, out)))
    return moves


def small_steps(prev: sp.Expr, final: sp.Expr, limit: int = 60) -> list:
    """A "simplify" from ``prev`` to ``final`` as multiplying out, then factoring, when the
    multiplied-out form is small and differs from both ends; else the one move."""
    expanded = sp.expand(plain(prev))
    if expanded in (plain(prev), final) or sp.count_ops(expanded) > limit:
        return [("simplify", final, "", ())]
    last = "factor" if sp.factor(expanded) == final else "simplify"
    return [("multiply out", expanded, "", ()), (last, final, "", ())]

