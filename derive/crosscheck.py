"""The numeric cross-check: two expressions at sample points, domain-aware and bounded.

A point counts only where both sides evaluate (see :mod:`derive.points`: bounded
precision, values beyond float range skipped, not a crash) and, when a ``domain`` is
given (e.g. the forward formula), where every domain expression is real and finite. A
:class:`Counterexample` is only reported at a point where both sides are real (no
complex branch-cut artefacts), off every switching set, and confirmed at 60 digits.

Points: first the classic draw (magnitudes 0.15..2.5, signs from the symbols'
assumptions), then probes that refute what the classic draw misses: next to the
switching sets (10**-3 and 10**-6 away from where a branch changes), and at other
magnitudes (0.01, 10, 100).

>>> import sympy as sp
>>> x, t, dout = sp.symbols("x t dout", real=True)
>>> agreed, bad = numeric_compare(sp.Piecewise((-t*dout, t > 0), (0, True)), -t*dout)
>>> bad is not None        # refuted at some t < 0 ...
True
>>> numeric_compare(sp.Piecewise((-t*dout, t > 0), (0, True)), -t*dout,
...                 domain=t*(sp.log(t) - x))[1] is None     # ... where log(t) is undefined
True
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from . import budget
from .feasible import SYMPY_ERRORS
from .points import NotReal, Skip, Undefined, evaluate
from .sizes import dag_size

DIGITS = 30
_SECONDS = 5.0              # at most this long for one cross-check (and within the deadline)
_NODES = 20_000             # distinct sub-expressions beyond which no point is evaluated
_PROBE_SCALES = (0.01, 10.0, 100.0)
_NONSMOOTH = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.DiracDelta,
              sp.floor, sp.ceiling)


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


def sample_value(sym: sp.Symbol, rng: random.Random, scale: float = 1.0) -> sp.Float:
    """A random value for ``sym`` respecting its assumptions, away from 0 (kinks)."""
    return sp.Float(_draw(sym, rng, scale), DIGITS)


def _draw(sym: sp.Symbol, rng: random.Random, scale: float = 1.0):
    """:func:`sample_value` as an mpmath number (the same draw)."""
    mag = rng.uniform(0.15, 2.5) * scale
    if not (sym.is_positive or sym.is_nonnegative or sym.is_negative):
        mag = mag if rng.random() < 0.5 else -mag
    elif sym.is_negative:
        mag = -mag
    return mpmath.mpf(mag)


def as_list(domain) -> list:
    """``domain`` as a list of expressions (None: no restriction)."""
    if domain is None:
        return []
    if isinstance(domain, (list, tuple, set, frozenset)):
        return [sp.sympify(d) for d in domain]
    return [sp.sympify(domain)]


def numeric_compare(a, b, *, points: int = 6, seed: int = 0, rtol: float = 1e-12,
                    domain=None):
    """Evaluate at sample points; return (agreeing point count, Counterexample or None).

    At most ``points`` agreements are counted; the probes after them only refute.
    """
    run = cross_check(a, b, points=points, seed=seed, rtol=rtol, domain=domain)
    return run.agreed, run.counterexample


@dataclass
class CrossCheck:
    """What the numeric cross-check found, and why the points that did not count did not."""

    agreed: int = 0
    counterexample: Counterexample | None = None
    skipped: Counter = field(default_factory=Counter)

    def why_no_point(self) -> str:
        """E.g. 'outside float range at 12 of 12 points'."""
        total = sum(self.skipped.values())
        if not total:
            return "no sample point"
        reason, count = self.skipped.most_common(1)[0]
        return f"{reason} at {count} of {total} points"


def cross_check(a, b, *, points: int = 6, seed: int = 0, rtol: float = 1e-12,
                domain=None) -> CrossCheck:
    """:func:`numeric_compare` with the reasons points were skipped."""
    a, b = sp.sympify(a), sp.sympify(b)
    domain = as_list(domain)
    syms = sorted(set().union(a.free_symbols, b.free_symbols,
                              *[d.free_symbols for d in domain]), key=lambda s: s.name)
    run = CrossCheck()
    size = max(dag_size(e) for e in (a, b, *domain))
    if size > _NODES:
        run.skipped[f"too large to evaluate ({size} distinct nodes > {_NODES})"] += 1
        return run
    rng = random.Random(seed)
    try:
        with budget.bounded(_SECONDS, "numeric cross-check"):
            for _ in range(points * 3):
                if run.agreed >= points or _consider(run, a, b, domain, rtol, points,
                                                     {s: _draw(s, rng) for s in syms}):
                    break
            if run.counterexample is None:
                for point in _probes(syms, rng, a - b):
                    if _consider(run, a, b, domain, rtol, points, point):
                        break
    except budget.TacticTimeout:
        run.skipped["the cross-check's time bound"] += 1
    return run


def _consider(run, a, b, domain, rtol, points, point) -> bool:
    """Judge one point into ``run``; True when it refutes (stop)."""
    outcome = judge(a, b, domain, point, rtol)
    if isinstance(outcome, Counterexample):
        run.counterexample = outcome
        return True
    if isinstance(outcome, str):
        run.skipped[outcome] += 1
    elif run.agreed < points:
        run.agreed += 1
    return False


def judge(a, b, domain, point, rtol):
    """True (agree), a reason (the point does not count) or a confirmed Counterexample."""
    try:
        for d in domain:
            evaluate(d, point, real=True)
    except Skip as why:
        return f"the forward formula is {why}"
    try:
        va, vb = evaluate(a, point, real=True), evaluate(b, point, real=True)
    except NotReal as why:
        try:   # complex values may agree (SymPy's view), but never refute
            va, vb = evaluate(a, point), evaluate(b, point)
        except Skip as other:
            return str(other)
        return True if _inside(va, vb) and _close(va, vb, rtol) else str(why)
    except Skip as why:
        return _one_sided(a, b, point) or str(why)
    if not _inside(va, vb):
        return "outside float range"
    if _close(va, vb, rtol):
        return True
    return _confirmed(a, b, point, va, vb, rtol) or "not confirmed at 60 digits"


def _one_sided(a, b, point):
    """A Counterexample when one side has no value at the point (a division by zero, a log
    of 0) and the other a real one, both again at 60 digits: ``1/max(0, x)`` for
    ``where(x >= 0, 1/x, 0)`` at x < 0. Not a point that does not count: a random point is
    off the measure-zero sets where removable singularities sit (x/x at 0), so this is a
    region where the two differ. None otherwise."""
    sides = []
    for e in (a, b):
        try:
            sides.append(evaluate(e, point, real=True, digits=60))
        except Undefined as why:
            sides.append(why)
        except Skip:
            return None
    left, right = sides
    if isinstance(left, Undefined) == isinstance(right, Undefined):
        return None
    undefined, defined = (a, right) if isinstance(left, Undefined) else (b, left)
    if isinstance(defined, mpmath.mpc) or abs(defined) > 1e300:
        return None
    # exactly, in SymPy's rational arithmetic: 1 - 1/(1 + exp(-x)) at x = 1000 is 0 only
    # at 60 digits (a log of 0 there is rounding, not a pole); 1/max(0, x) is 1/0 exactly
    try:
        exact = sp.sympify(undefined).xreplace(
            {s: sp.Rational(sp.Float(v, 60)) for s, v in point.items()})
    except SYMPY_ERRORS:        # arccos(2) < 0 in a condition: SymPy will not compare it
        return None
    if not exact.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    return Counterexample({s.name: float(v) for s, v in point.items()},
                          *(str(v) if isinstance(v, Undefined) else complex(v) for v in sides))


def real_lost(before, after, *, points: int = 12, seed: int = 0):
    """A point where ``before`` is real and ``after`` is not real or has no value (NumPy's
    nan or inf), or None: complex values never refute in :func:`judge` (SymPy's view),
    but a rewrite in code must not turn a real value into nan. ``where((x > 0) & (x < 3),
    1/sqrt(x), 0)`` as ``where(x < 3, 1/sqrt(x), 0)`` is nan at every x < 0."""
    syms = sorted(set().union(before.free_symbols, after.free_symbols), key=lambda s: s.name)
    rng = random.Random(seed)
    for scale in (1.0,) * points + _PROBE_SCALES:
        point = {s: _draw(s, rng, scale) for s in syms}
        try:
            evaluate(before, point, real=True)
        except Skip:
            continue
        try:
            evaluate(after, point, real=True)
        except (NotReal, Undefined) as why:
            return Counterexample({s.name: float(v) for s, v in point.items()}, str(why),
                                  "real")
        except Skip:
            continue
    return None


def _inside(va, vb) -> bool:
    return max(abs(va), abs(vb)) <= 1e300      # beyond: outside float range, skipped


def _close(va, vb, rtol) -> bool:
    return abs(va - vb) <= 1e-25 + rtol * max(abs(va), abs(vb))


def _confirmed(a, b, point, va, vb, rtol):
    """The difference again at 60 digits, consistent with the 30-digit values."""
    try:
        wa, wb = evaluate(a, point, real=True, digits=60), evaluate(b, point, real=True,
                                                                     digits=60)
    except Skip:
        return None
    steady = all(abs(u - w) <= 1e-8 * max(1, abs(w)) for u, w in ((va, wa), (vb, wb)))
    if not steady or _close(wa, wb, rtol):
        return None
    return Counterexample({s.name: float(v) for s, v in point.items()},
                          complex(wa), complex(wb))


def _probes(syms, rng, d):
    """Points at other magnitudes, then next to the switching sets of ``d``."""
    for scale in _PROBE_SCALES:
        yield {s: _draw(s, rng, scale) for s in syms}
    yield from _near_switches(syms, rng, d)


def _near_switches(syms, rng, d, limit: int = 2):
    """Points 1e-3 and 1e-6 from where a switch of ``d`` is 0, found along one symbol by
    a secant step (exact for a switch linear in that symbol; otherwise checked, or not used)."""
    switches = []
    for g in switch_expressions(d):
        if g.free_symbols & set(syms) and g not in switches:
            switches.append(g)
    for g in switches[:limit]:
        s = min(g.free_symbols & set(syms), key=lambda v: (bool(v.is_positive), v.name))
        for gap in (1e-3, -1e-6):
            point = {v: _draw(v, rng) for v in syms}
            root = _secant_root(g, s, point)
            if root is None:
                continue
            value = root + gap * max(1, abs(root))
            if (s.is_positive and value <= 0) or (s.is_negative and value >= 0):
                continue
            point[s] = mpmath.mpf(value)
            yield point


def _secant_root(g, s, point):
    try:
        g0 = evaluate(g, point, real=True)
        g1 = evaluate(g, {**point, s: point[s] + 1}, real=True)
        if g1 == g0:
            return None
        root = point[s] - g0 / (g1 - g0)
        if abs(evaluate(g, {**point, s: root}, real=True)) > 1e-12 * (1 + abs(g0) + abs(g1)):
            return None
    except Skip:
        return None
    return root


def switch_expressions(e) -> list:
    """Expressions whose sign switches a branch, mask, max/min, abs, sign or step in ``e``."""
    found = []
    for node in e.atoms(*_NONSMOOTH):
        if isinstance(node, sp.Piecewise):
            found += [r.lhs - r.rhs for _, cond in node.args for r in relationals(cond)]
        elif isinstance(node, (sp.Max, sp.Min)):
            a = node.args
            found += [a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a))]
        else:
            found.append(node.args[0])
    return list(dict.fromkeys(found))     # each once, in order


def relationals(cond) -> list:
    """The relations inside a condition (through And, Or, Not)."""
    if isinstance(cond, sp.core.relational.Relational):
        return [cond]
    if cond in (sp.true, sp.false) or not isinstance(cond, sp.logic.boolalg.Boolean):
        return []
    return [r for a in cond.args for r in relationals(a)]
