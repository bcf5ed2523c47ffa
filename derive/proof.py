"""Proving two expressions equal, with a numeric cross-check.

:func:`compare` never raises: it returns a :class:`Proof` or a
:class:`Counterexample` (or ``None`` when it can neither prove nor refute).
:func:`prove_equal` is what the derivation uses: anything short of a proof is a
:class:`~derive.errors.ProofError`.

The numeric cross-check runs first (it is cheap and refutes quickly) and again
stands behind every symbolic proof as a second line of defence.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> prove_equal(sp.exp(2*x), sp.exp(x)**2).method
'symbolic'
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import product

import sympy as sp

from .errors import ProofError

_DIGITS = 30
_NONSMOOTH = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign)


@dataclass(frozen=True)
class Proof:
    """How two expressions were shown equal."""

    method: str           # "identical" | "symbolic" | "by cases"
    detail: str           # the tactic that closed it, e.g. "cancel(a - b) = 0"
    points: int           # random points of the numeric cross-check that agreed
    kink_note: str = ""   # where the two differ on a measure-zero set (a kink)

    def __str__(self) -> str:
        text = f"{self.method}: {self.detail}; numeric cross-check at {self.points} points"
        return f"{text}; {self.kink_note}" if self.kink_note else text

    def to_dict(self) -> dict:
        return {"method": self.method, "detail": self.detail, "points": self.points,
                "kink_note": self.kink_note}


@dataclass(frozen=True)
class Counterexample:
    """A point where two expressions differ, with both values."""

    point: dict = field(default_factory=dict)
    left: object = None
    right: object = None

    def __str__(self) -> str:
        at = ", ".join(f"{k} = {_short(v)}" for k, v in self.point.items())
        return f"at {at}: {_short(self.left)} vs {_short(self.right)}"


def _short(v) -> str:
    try:
        return f"{complex(v).real:.10g}" if complex(v).imag == 0 else f"{complex(v):.6g}"
    except (TypeError, ValueError):
        return str(v)


def sample_value(sym: sp.Symbol, rng: random.Random) -> sp.Float:
    """A random value for ``sym`` respecting its assumptions, away from 0 (kinks)."""
    mag = rng.uniform(0.15, 2.5)
    if sym.is_positive or sym.is_nonnegative:
        return sp.Float(mag, _DIGITS)
    if sym.is_negative:
        return sp.Float(-mag, _DIGITS)
    return sp.Float(mag if rng.random() < 0.5 else -mag, _DIGITS)


def _value(e: sp.Expr, point: dict):
    """e at a point as a complex number; None where it is undefined or beyond float range."""
    try:
        v = e.xreplace(point).evalf(_DIGITS)
        if not v.is_number or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        return complex(v)
    except (TypeError, OverflowError, MemoryError, ValueError):
        return None


def numeric_compare(a, b, *, points: int = 6, seed: int = 0, rtol: float = 1e-12):
    """Evaluate at random points; return (agreeing point count, Counterexample or None)."""
    syms = sorted((a - b).free_symbols | a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(seed)
    agreed = 0
    for _ in range(points * 3):
        point = {s: sample_value(s, rng) for s in syms}
        va, vb = _value(a, point), _value(b, point)
        if va is None or vb is None:
            continue
        if abs(va - vb) > 1e-25 + rtol * max(abs(va), abs(vb)):
            return agreed, Counterexample({s.name: float(v) for s, v in point.items()}, va, vb)
        agreed += 1
        if agreed >= points:
            break
    return agreed, None


_TACTICS = (
    ("expand(a - b) = 0", sp.expand),
    ("cancel(a - b) = 0", lambda d: sp.cancel(sp.together(d))),
    ("cancel(rewrite(a - b, exp)) = 0", lambda d: sp.cancel(sp.expand(d.rewrite(sp.exp)))),
    ("simplify(a - b) = 0", sp.simplify),
)


def _is_zero(d: sp.Expr):
    """The name of the first tactic that reduces ``d`` to 0, or None."""
    for name, tactic in _TACTICS:
        try:
            if tactic(d) == 0:
                return name
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
    return None


def _relationals(cond) -> list:
    if isinstance(cond, sp.core.relational.Relational):
        return [cond]
    if cond in (sp.true, sp.false) or not isinstance(cond, sp.logic.boolalg.Boolean):
        return []
    return [r for a in cond.args for r in _relationals(a)]


def _switches(e: sp.Expr) -> list:
    """Expressions whose sign switches a branch, mask, max or abs in ``e``."""
    found = []
    for node in e.atoms(*_NONSMOOTH):
        if isinstance(node, sp.Piecewise):
            found += [r.lhs - r.rhs for _, cond in node.args for r in _relationals(cond)]
        elif isinstance(node, (sp.Max, sp.Min)):
            a = node.args
            found += [a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a))]
        else:
            found.append(node.args[0])
    return found


def _kink_symbols(e: sp.Expr) -> list:
    """Real symbols whose value decides a branch, mask, max or abs in ``e``."""
    found = set().union(*[g.free_symbols for g in _switches(e)])
    return sorted((s for s in found if not s.is_positive), key=lambda s: s.name)


def _breakpoints(e: sp.Expr, s: sp.Symbol):
    """Sorted numeric points where a switch of ``e`` changes sign in ``s``; None if unknown."""
    points = set()
    for g in _switches(e):
        if s not in g.free_symbols or g.has(*_NONSMOOTH):
            continue  # a switch inside a switch: its own switches are collected too
        if g == s:
            points.add(sp.Integer(0))
            continue
        roots = _real_zeros(g, s)
        if roots is None:
            return None
        points |= set(roots)
    return sorted(points, key=lambda r: float(r))


def _real_zeros(g: sp.Expr, s: sp.Symbol):
    """All real zeros of g in s as numbers, or None when they cannot be pinned down.

    solveset over the reals is complete where it answers; where it cannot (x + exp(x)),
    a strictly monotone g (the sign of g' settled by SymPy's assumptions) has at most one
    zero, which ``solve`` may then name exactly (here -LambertW(1)).
    """
    try:
        roots = sp.solveset(g, s, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        roots = None
    if roots == sp.S.EmptySet:
        return []
    if isinstance(roots, sp.FiniteSet) and all(r.is_number and r.is_real for r in roots):
        return list(roots)
    slope = sp.diff(g, s)
    if not (slope.is_positive or slope.is_negative):
        return None
    try:
        found = [r for r in sp.solve(g, s) if r.is_number and r.is_real]
    except (NotImplementedError, ValueError, TypeError):
        return None
    return found if len(found) == 1 else None


def _regions(s: sp.Symbol, points: list, p: sp.Symbol) -> list:
    """(description, value of s in terms of p > 0) for each open interval between points."""
    out = [(f"{s} < {points[0]}", points[0] - p)]
    for lo, hi in zip(points, points[1:]):
        out.append((f"{lo} < {s} < {hi}", lo + (hi - lo) / (1 + p)))
    out.append((f"{s} > {points[-1]}", points[-1] + p))
    return out


def _decide_signs(e: sp.Expr, region: list) -> sp.Expr:
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
            try:
                roots = sp.solveset(g, p, open_half)
                smooth = sp.calculus.util.continuous_domain(g, p, open_half)
            except (NotImplementedError, ValueError, TypeError):
                continue
            if roots != sp.S.EmptySet or smooth != open_half:
                continue
            probe = {p: 1, **{s: 1 for s in params}}
            truth = cond.xreplace(probe)
            if truth in (sp.true, sp.false):
                decided[cond] = truth
    return e.xreplace(decided) if decided else e


def _as_piecewise(e: sp.Expr) -> sp.Expr:
    """Max, Min, Abs, sign and Heaviside as Piecewise, so every switch is a condition."""
    atoms = [a for a in e.atoms(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)]
    return e.xreplace({a: a.rewrite(sp.Piecewise) for a in atoms}) if atoms else e


def _settle(e: sp.Expr, x: sp.Symbol, probe: sp.Expr) -> sp.Expr:
    """Fix the truth of each condition on one interval between consecutive breakpoints.

    The breakpoints are all real zeros of every switch g (solveset over the reals), so a
    switch that is continuous on the whole line keeps one sign between two of them
    (intermediate value theorem): its sign at one probe point is its sign on the interval.
    """
    decided = {}
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in _relationals(cond):
                g = rel.lhs - rel.rhs
                if rel in decided or g.free_symbols != {x} or g.has(*_NONSMOOTH):
                    continue
                if sp.calculus.util.continuous_domain(g, x, sp.S.Reals) != sp.S.Reals:
                    continue
                v = g.xreplace({x: probe}).evalf(_DIGITS)
                if not v.is_real or abs(v) < 1e-20:
                    continue
                decided[rel] = rel.func(v, 0)
    return e.xreplace(decided) if decided else e


def _by_cases(d: sp.Expr, kinks: list):
    """Prove ``d == 0`` on every open region cut out by the kinks.

    One kink symbol: the intervals between the points where a switch changes sign.
    Two: the four sign quadrants. Returns (detail, kink_note) or None. Values on the
    kink set itself (e.g. x = 0) are reported in the note, not required to agree:
    that is where a derivative is a convention.
    """
    if len(kinks) == 1:
        x = kinks[0]
        d = _as_piecewise(d)
        points = _breakpoints(d, x)
        if points is None:
            return None
        p = sp.Dummy("p", positive=True)
        if points:
            cases = [(text, _settle(d, x, value.subs(p, 1)), {x: value}, [p])
                     for text, value in _regions(x, points, p)]
        else:  # no switch ever changes sign: one region, the whole line
            cases = [(f"all real {x} (no switch changes sign)", _settle(d, x, sp.Integer(0)),
                      {}, [])]
        at = [{x: r} for r in points]
    elif len(kinks) == 2:
        ps = [sp.Dummy(f"p{i}", positive=True) for i in range(2)]
        cases = [(", ".join(f"{s} {'>' if sg > 0 else '<'} 0" for s, sg in zip(kinks, signs)),
                  d, {s: sg * pi for s, sg, pi in zip(kinks, signs, ps)}, ps)
                 for signs in product((1, -1), repeat=2)]
        at = [{s: 0 for s in kinks}]
    else:
        return None
    settled = False
    for _, within, values, region in cases:
        case = within.subs(values)
        decided = _decide_signs(case, region)
        settled |= decided != case
        case = sp.piecewise_fold(decided)
        if case.has(sp.Piecewise) or _is_zero(case) is None:
            return None
    differ = [pt for pt in at if sp.simplify(d.subs(pt)) != 0]
    note = ""
    if differ:
        where = "; ".join(", ".join(f"{s} = {v}" for s, v in pt.items()) for pt in differ)
        note = f"the two sides differ only at {where}, a kink, where the derivative is a convention"
    ivt = " (a condition's truth settled by the intermediate value theorem)" if settled else ""
    return "cases " + "; ".join(text for text, *_ in cases) + ivt, note


def compare(a: sp.Expr, b: sp.Expr, *, points: int = 6, seed: int = 0):
    """Prove ``a == b`` or refute it; ``None`` when neither works."""
    a, b = sp.sympify(a), sp.sympify(b)
    if a == b:
        agreed, bad = numeric_compare(a, b, points=points, seed=seed)
        return Proof("identical", "the same expression", agreed)
    agreed, bad = numeric_compare(a, b, points=points, seed=seed)
    if bad is not None:
        return bad
    d = a - b
    kinks = _kink_symbols(d) if d.has(*_NONSMOOTH) else []
    if kinks:
        split = _by_cases(d, kinks)
        if split is None:
            return None
        detail, note = split
        return Proof("by cases", detail, agreed, note)
    tactic = _is_zero(d)
    if tactic is None:
        return None
    return Proof("symbolic", tactic, agreed)


def prove_equal(a, b, *, what: str = "step", allow_kink: bool = True, points: int = 6) -> Proof:
    """A :class:`Proof` that ``a == b``, or a :class:`ProofError` saying why not."""
    result = compare(a, b, points=points)
    if isinstance(result, Proof):
        if result.kink_note and not allow_kink:
            raise ProofError(f"{what}: {result.kink_note}")
        if result.points == 0:
            raise ProofError(f"{what}: no point where the numeric cross-check could evaluate both sides")
        return result
    if isinstance(result, Counterexample):
        raise ProofError(f"{what}: not equal, {result}")
    raise ProofError(f"{what}: could not prove {a} == {b}")
