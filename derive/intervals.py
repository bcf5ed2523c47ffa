"""Kinks in one symbol: the interval method the catalogue's proofs use.

The real zeros of every switch (closed forms from ``solveset``) cut the line into open
intervals; on each, every condition has one truth value (intermediate value theorem),
fixed at a probe point. (Kinks in two symbols were split into sign quadrants here; the
region method does that and more.) The general method for switches in several inputs is :mod:`derive.regions`; this one stays
first because it is fast and names the kink points (``x = 0``) in its note.

Every SymPy call is bounded (:func:`derive.feasible.quietly`): one that runs out only
means the method does not apply.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .crosscheck import relationals, switch_expressions
from .feasible import SYMPY_ERRORS, quietly
from .memo import also_clear
from .points import Skip, evaluate

_NONSMOOTH = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign)


@lru_cache(maxsize=1024)
def as_piecewise(e: sp.Expr) -> sp.Expr:
    """Max, Min, Abs, sign, Heaviside and DiracDelta as Piecewise, innermost first, so that
    every kink is a condition this method can settle."""
    memo: dict = {}

    def walk(node):
        if not node.args:
            return node
        done = memo.get(node)
        if done is None:
            args = tuple(walk(a) for a in node.args)
            done = node.func(*args) if args != node.args else node
            if isinstance(done, sp.Abs):     # on the real domain (else outside it anyway)
                u = done.args[0]
                done = sp.Piecewise((u, u >= 0), (-u, True))
            elif isinstance(done, sp.DiracDelta):
                done = sp.Piecewise((0, sp.Ne(done.args[0], 0)), (done, True))
            elif isinstance(done, _REWRITE):
                done = done.rewrite(sp.Piecewise)
            memo[node] = done
        return done

    return walk(sp.sympify(e))


_REWRITE = (sp.Max, sp.Min, sp.sign, sp.Heaviside)
also_clear(as_piecewise.cache_clear)


def kink_symbols(e: sp.Expr) -> list:
    """Real symbols whose value decides a branch, mask, max or abs in ``e``."""
    found = set().union(*[g.free_symbols for g in switch_expressions(e)])
    return sorted((s for s in found if not s.is_positive), key=lambda s: s.name)


def _breakpoints(e: sp.Expr, s: sp.Symbol):
    """Sorted numeric points where a switch of ``e`` changes sign in ``s``; None if unknown."""
    points = set()
    for g in switch_expressions(e):
        if s not in g.free_symbols or g.has(*_NONSMOOTH):
            continue  # a switch inside a switch: its own switches are collected too
        if g == s:
            points.add(sp.Integer(0))
            continue
        roots = _real_zeros(g, s)
        if roots is None:
            return None
        points |= set(roots)
    try:
        return sorted(points, key=lambda r: float(r))
    except (TypeError, ValueError):
        return None


def _real_zeros(g: sp.Expr, s: sp.Symbol):
    """All real zeros of g in s as numbers, or None when they cannot be pinned down.

    solveset over the reals is complete where it answers; where it cannot (x + exp(x)),
    a strictly monotone g (the sign of g' settled by SymPy's assumptions) has at most one
    zero, which ``solve`` may then name exactly (here -LambertW(1)).
    """
    roots = quietly("solveset over the reals", 2.0, sp.solveset, g, s, sp.S.Reals)
    if roots == sp.S.EmptySet:
        return []
    if isinstance(roots, sp.FiniteSet) and all(r.is_number and r.is_real for r in roots):
        return list(roots)
    slope = sp.diff(g, s)
    if not quietly("ask the sign", 1.0, lambda: slope.is_positive or slope.is_negative):
        return None
    found = quietly("solve", 2.0, sp.solve, g, s)
    if found is None:
        return None
    found = [r for r in found if r.is_number and r.is_real]
    return found if len(found) == 1 else None


def _regions(s: sp.Symbol, points: list, p: sp.Symbol) -> list:
    """(description, value of s in terms of p > 0) for each open interval between points."""
    out = [(f"{s} < {points[0]}", points[0] - p)]
    for lo, hi in zip(points, points[1:]):
        out.append((f"{lo} < {s} < {hi}", lo + (hi - lo) / (1 + p)))
    out.append((f"{s} > {points[-1]}", points[-1] + p))
    return out


def decide_signs(e: sp.Expr, region: list) -> sp.Expr:
    """Settle conditions SymPy leaves open inside one sign region (all of ``region`` > 0).

    A condition ``g > 0`` (or ``<``, ``>=``, ``<=``) on a continuous g with no zero in the
    region has one truth value throughout it (intermediate value theorem), so its value at
    one point is its value everywhere. Only one region symbol is handled; other positive
    symbols (parameters) must not change the zero set, which solveset checks symbolically.
    E.g. ELU's ``alpha*(exp(-p) - 1) > 0`` is false for every p > 0.
    """
    if len(region) != 1 or not e.has(sp.Piecewise):
        return e
    p = region[0]
    open_half = sp.Interval.open(0, sp.oo)
    decided = {}
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            if not isinstance(cond, sp.core.relational.Relational) or cond in decided:
                continue
            if isinstance(cond, (sp.Eq, sp.Ne)):
                continue
            g = cond.lhs - cond.rhs
            params = g.free_symbols - {p}
            if not all(s.is_positive for s in params):
                continue
            roots = quietly("solveset over the reals", 2.0, sp.solveset, g, p, open_half)
            smooth = quietly("continuous domain", 2.0, sp.calculus.util.continuous_domain,
                             g, p, open_half)
            if roots != sp.S.EmptySet or smooth != open_half:
                continue
            probe = {p: 1, **{s: 1 for s in params}}
            truth = cond.xreplace(probe)
            if truth in (sp.true, sp.false):
                decided[cond] = truth
    return e.xreplace(decided) if decided else e


def _settle(e: sp.Expr, x: sp.Symbol, probe: sp.Expr) -> sp.Expr:
    """Fix the truth of each condition on one interval between consecutive breakpoints.

    The breakpoints are all real zeros of every switch g (solveset over the reals), so a
    switch that is continuous on the whole line keeps one sign between two of them
    (intermediate value theorem): its sign at one probe point is its sign on the interval.
    """
    decided = {}
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in relationals(cond):
                g = rel.lhs - rel.rhs
                if rel in decided or g.free_symbols != {x} or g.has(*_NONSMOOTH):
                    continue
                line = quietly("continuous domain", 2.0, sp.calculus.util.continuous_domain,
                               g, x, sp.S.Reals)
                if line != sp.S.Reals:
                    continue
                try:
                    v = evaluate(g, {x: probe}, real=True)
                except Skip:
                    continue
                if abs(v) < 1e-20:
                    continue
                decided[rel] = rel.func(sp.Integer(1 if v > 0 else -1), 0)
    return e.xreplace(decided) if decided else e


def by_cases(d: sp.Expr, kinks: list, is_zero):
    """Prove ``d == 0`` on every open region cut out by the kinks.

    The intervals between the points where a switch of the one kink symbol changes sign.
    Returns (detail, kink_note) or None. Values on the
    kink set itself (e.g. x = 0) are reported in the note, not required to agree:
    that is where a derivative is a convention.
    """
    try:
        cases, at = _cases(d, kinks)
        if cases is None:
            return None
        settled = False
        for _, within, values, region in cases:
            case = within.subs(values)
            decided = decide_signs(case, region)
            settled |= decided != case
            case = quietly("piecewise_fold", 2.0, sp.piecewise_fold, decided)
            if case is None or case.has(sp.Piecewise) or is_zero(case) is None:
                return None
    except SYMPY_ERRORS:    # e.g. sqrt(-p) compared with 0: the method does not apply
        return None
    differ = [pt for pt in at if not _zero_at(d, pt)]
    note = ""
    if differ:
        where = "; ".join(", ".join(f"{s} = {v}" for s, v in pt.items()) for pt in differ)
        note = f"the two sides differ only at {where}, a kink, where the derivative is a convention"
    ivt = " (a condition's truth settled by the intermediate value theorem)" if settled else ""
    return "cases " + "; ".join(text for text, *_ in cases) + ivt, note


def _zero_at(d, point) -> bool:
    """d is 0 at a kink point (simplify, bounded; running out counts as 'differ')."""
    return bool(quietly("simplify at a kink", 3.0, lambda: sp.simplify(d.subs(point)) == 0,
                        default=False))


def _cases(d, kinks):
    if len(kinks) == 1:
        x = kinks[0]
        d = quietly("write the kinks as branches", 3.0, as_piecewise, d)
        if d is None:
            return None, None
        points = _breakpoints(d, x)
        if points is None:
            return None, None
        p = sp.Dummy("p", positive=True)
        if points:
            cases = [(text, _settle(d, x, value.subs(p, 1)), {x: value}, [p])
                     for text, value in _regions(x, points, p)]
        else:  # no switch ever changes sign: one region, the whole line
            cases = [(f"all real {x} (no switch changes sign)", _settle(d, x, sp.Integer(0)),
                      {}, [])]
        return cases, [{x: r} for r in points]
    return None, None
