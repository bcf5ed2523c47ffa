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
    v = e.xreplace(point).evalf(_DIGITS)
    if not v.is_number or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    try:
        return complex(v)
    except TypeError:
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


def _kink_symbols(e: sp.Expr) -> list:
    """Real symbols whose sign decides a branch, mask, max or abs in ``e``."""
    found = set()
    for node in e.atoms(*_NONSMOOTH):
        if isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                if cond not in (sp.true, sp.false):
                    found |= cond.free_symbols
        else:
            found |= node.free_symbols
    return sorted((s for s in found if not s.is_positive), key=lambda s: s.name)


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


def _by_cases(d: sp.Expr, kinks: list):
    """Prove ``d == 0`` on every open sign region of the kink symbols.

    Returns (detail, kink_note) or None. Values on the kink set itself (e.g.
    x = 0) are reported in the note, not required to agree: that is where a
    derivative is a convention.
    """
    if len(kinks) > 2:
        return None
    regions, settled = [], False
    for signs in product((1, -1), repeat=len(kinks)):
        p = [sp.Dummy(f"p{i}", positive=True) for i in range(len(kinks))]
        case = d.subs({s: sg * pi for s, sg, pi in zip(kinks, signs, p)})
        decided = _decide_signs(case, p)
        settled |= decided != case
        case = sp.piecewise_fold(decided)
        if case.has(sp.Piecewise) or _is_zero(case) is None:
            return None
        regions.append(", ".join(f"{s} {'>' if sg > 0 else '<'} 0" for s, sg in zip(kinks, signs)))
    at_kink = sp.simplify(d.subs({s: 0 for s in kinks}))
    note = ""
    if at_kink != 0:
        where = ", ".join(f"{s} = 0" for s in kinks)
        note = f"the two sides differ only at {where}, a kink, where the derivative is a convention"
    ivt = " (a condition's truth settled by the intermediate value theorem)" if settled else ""
    return "cases " + "; ".join(regions) + ivt, note


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
