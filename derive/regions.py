"""Piecewise identities with switches in several inputs, proven region by region.

A *switch* is an expression whose sign picks a branch: ``x - t`` in ``|x - t|``,
``t*x - 1`` in ``t*x < 1``, ``y - x`` in ``np.where(y > x, x, y)`` or ``Min(x, y)``
(:mod:`derive.switches`). :func:`prove_by_regions` proves ``d == 0`` by a case tree:

1. take a switch ``g`` that is *evaluated* wherever ``d`` is (the first condition of a
   Piecewise not inside another's branch, an argument of Max/Min/Abs/sign/Heaviside/
   DiracDelta; innermost first), normalised (``x - t``, ``2*t - 2*x`` and ``t - x`` are
   one switch, up to a constant factor); a polynomial switch is split on its factors;
2. if its sign is settled in the current region -- by SymPy's assumptions (``delta > 0``),
   or because the opposite sign is infeasible together with the facts of the region
   (:func:`~derive.feasible.infeasible`) -- collapse with that sign; otherwise split into
   ``g > 0`` and ``g < 0``, after certifying that ``g = 0`` is a set of measure zero
   (:func:`~derive.feasible.thin`);
3. when no switch is left, ``d`` is smooth in the region: it must be proven 0 by the
   smooth tactics (as an identity; or after writing the region's facts with positive
   parameters, ``x = t + p``), or the region shown infeasible, or outside the real
   domain (a ``log``/``sqrt``/``asin`` argument whose required sign is infeasible there,
   or a side that is undefined there).

**What is proven**: at every real point where both sides (and the ``domain``
expressions) are real and finite -- every evaluated sub-term real, NumPy's view -- and
that is off the zero sets of the switches split on, ``a == b``. Those zero sets have
measure zero (certified, step 2): there the derivative is only a convention, and whether
the sides also agree there is settled separately (:mod:`derive.proof` proves them equal on
each set, :func:`on_switching_set`) and said in the kink note. A region is never dropped on numeric evidence; a region that cannot be
settled fails the proof (``None``), and a point inside it where the sides differ, when
one is found, refutes it.

>>> import sympy as sp
>>> x, y, dout = sp.symbols("x y dout", real=True)
>>> r = prove_by_regions(sp.Piecewise((dout, x < y), (0, True)) - dout * sp.Heaviside(y - x),
...                      lambda e: "expand" if sp.expand(e) == 0 else None)
>>> r.ok, [str(g) for g in r.switches]
(True, ['x - y'])
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

from . import budget
from .crosscheck import Counterexample, as_list, judge, sample_value
from .feasible import Fact, fractional, infeasible, key, known_sign, quietly, thin
from .points import Skip, evaluate
from .sizes import tree_size
from .switches import collapse, exposed, undefined

MAX_REGIONS = 256


@dataclass
class RegionProof:
    """The outcome: ``ok``, the switches split on, and how each region was settled."""

    ok: bool = False
    switches: list = field(default_factory=list)   # normalised g, where the cases change
    regions: int = 0
    empty: int = 0              # shown infeasible
    outside: int = 0            # outside the real domain of a side or of ``domain``
    failed: tuple = ()          # (facts, d) of the region that could not be settled
    why: str = ""

    @property
    def detail(self) -> str:
        cut = ", ".join(f"{g}" for g in self.switches) or "no switch changes sign"
        extra = [f"{self.empty} empty" if self.empty else "",
                 f"{self.outside} outside the real domain" if self.outside else ""]
        extra = "; ".join(e for e in extra if e)
        return (f"{self.regions} regions cut by the sign of {cut}"
                + (f" ({extra})" if extra else ""))


def prove_by_regions(d, is_zero, *, sides=(), domain=(), limit: int = MAX_REGIONS):
    """Prove ``d == 0`` region by region (see the module text); a :class:`RegionProof`.

    ``is_zero(e)`` is the smooth prover (a tactic name or None); ``sides`` are ``a`` and
    ``b`` (their real domain bounds the claim), ``domain`` more such expressions.
    """
    run = _Run(is_zero, limit)
    run.ok = run.prove(tuple(sp.sympify(e) for e in (d, *sides, *domain)), ())
    return run.result()


def on_switching_set(d, p):
    """``d`` with every atom on the switch ``p`` decided as it is where ``p = 0``."""
    run = _Run(None, MAX_REGIONS)
    return collapse(sp.sympify(d), run.key(p)[0], 0, run.key)


class _Run:
    def __init__(self, is_zero, limit):
        self.is_zero, self.limit = is_zero, limit
        self.out = RegionProof()
        self.keys: dict = {}
        self.factors: dict = {}
        self.ok = False

    def result(self) -> RegionProof:
        self.out.ok = self.ok
        return self.out

    def fail(self, facts, d, why) -> bool:
        self.out.failed, self.out.why = (facts, d), why
        return False

    def key(self, g):
        k = self.keys.get(g)
        if k is None:
            k = self.keys[g] = key(g)
        return k

    def prove(self, exprs, facts) -> bool:
        budget.check("proving region by region")
        g = exposed(exprs[0])
        if g is None:
            return self.leaf(exprs, facts)
        p, _ = self.key(g)
        sign = known_sign(p, facts)
        if sign is None:
            sign, factor = self.sign_from_factors(p, facts)
            if factor is not None:          # split on a factor; p is decided further down
                return self.split(exprs, facts, self.key(factor)[0])
        if sign is not None:
            return self.prove(self.collapse(exprs, p, sign), facts)
        return self.split(exprs, facts, p)

    def sign_from_factors(self, p, facts):
        """(sign of p, None) from the signs of its polynomial factors, or (None, a factor
        whose sign is open), or (None, None) when p is not a product.

        Off the zero sets of the factors (thin: nonzero polynomials, recorded as switching
        sets), sign(p) is the product of the signs of its odd-power factors; an even power
        is positive there."""
        parts = self.factors.get(p)
        if parts is None:
            parts = self.factors[p] = _factor(p) or False
        if not parts:
            return None, None
        coeff, factors = parts
        sign = 1 if coeff > 0 else -1
        for f, k in factors:
            if k % 2 == 0:
                if self.key(f)[0] not in self.out.switches:
                    self.out.switches.append(self.key(f)[0])
                continue
            s = known_sign(f, facts)
            if s is None:
                return None, f
            sign *= s
        return sign, None

    def split(self, exprs, facts, p) -> bool:
        """Both signs of the switch p, each proven (or shown empty)."""
        if not thin(p):
            return self.fail(facts, exprs[0], f"cannot show that {p} = 0 has measure zero")
        if p not in self.out.switches:
            self.out.switches.append(p)
        for s in (1, -1):
            more = facts + (Fact(s * p, True),)
            if infeasible(more):
                self.out.regions += 1
                self.out.empty += 1
                continue
            if not self.prove(self.collapse(exprs, p, s), more):
                return False
        return True

    def collapse(self, exprs, p, sign):
        """Every atom on the switch ``p`` decided, for ``p`` of the given sign (or 0)."""
        return tuple(collapse(e, p, sign, self.key) for e in exprs)

    def leaf(self, exprs, facts) -> bool:
        self.out.regions += 1
        if self.out.regions > self.limit:
            raise budget.exceeded(f"more than {self.limit} regions")
        if any(undefined(e) for e in exprs[1:]):
            self.out.outside += 1      # a side is undefined in the whole region
            return True
        return self.settle(exprs, facts)

    def settle(self, exprs, facts) -> bool:
        """A smooth region: d is 0 there, or the region is empty or outside the domain."""
        d = exprs[0]
        if d == 0 or self.is_zero(d) or self._zero_with(d, facts):
            return True
        if infeasible(facts):
            self.out.empty += 1
            return True
        needs = domain_needs(exprs[1:])
        if any(infeasible(facts + (need,)) for need in needs):
            self.out.outside += 1
            return True
        for need in needs:     # split off where a side leaves its real domain
            if known_sign(need.g, facts) is not None or not thin(need.g):
                continue
            if need.g not in self.out.switches:
                self.out.switches.append(need.g)
            self.out.outside += 1
            return self.settle(exprs, facts + (Fact(need.g, True),))
        return self.fail(facts, d, "not shown to be 0 in this region")

    def _zero_with(self, d, facts) -> bool:
        subs = parametrise(facts)
        return bool(subs) and bool(self.is_zero(d.xreplace(subs)))


def _factor(p):
    """(coefficient, [(factor, power)]) of a polynomial switch with several factors or an
    even power; None otherwise (or when factoring runs out of its bound)."""
    syms = sorted(p.free_symbols, key=lambda s: s.name)
    if not syms or tree_size(p) > 300 or not p.is_polynomial(*syms):
        return None
    found = quietly("factor a switch", 1.0, sp.factor_list, p)
    if not found:
        return None
    coeff, factors = found
    if not coeff.is_number or (len(factors) < 2 and all(k == 1 for _, k in factors)):
        return None
    return coeff, factors


def domain_needs(exprs) -> list:
    """Facts every real point of the expressions satisfies (outside their branches)."""
    needs: list = []
    seen: set = set()
    for e in exprs:
        _needs(e, needs, seen)
    return needs


def new_needs(after: sp.Expr, before: sp.Expr) -> list:
    """The conditions ``after`` needs to be real (a log's argument > 0, a root's >= 0, ...)
    that ``before`` does not state and SymPy cannot see hold: the prover compares two sides
    where both are defined, so a rewrite that is undefined where ``before`` is defined
    would pass it. ``where(x < 0, out*log(x), 0)`` as ``out*log(min(x, 0))`` is -inf for
    every x > 0, where the select is 0: refused here.

    >>> x, out = sp.symbols("x out", real=True)
    >>> [str(n) for n in new_needs(out*sp.log(sp.Min(0, x)), sp.Piecewise((out*sp.log(x), x < 0), (0, True)))]
    ['Min(0, x) > 0']
    >>> new_needs(sp.sqrt(sp.Max(0, x)), sp.Piecewise((sp.sqrt(x), x > 0), (0, True)))
    []
    """
    known = domain_needs([before])

    def implied(n):
        if n in known or n.g.is_positive or (not n.strict and n.g.is_nonnegative):
            return True
        # log(a/3**t) needs a/3**t > 0, log(a) a > 0: the same sign, by a positive ratio
        return any(k.strict == n.strict and _ratio(k.g, n.g).is_positive for k in known)
    return [n for n in domain_needs([after]) if not implied(n)]


def _ratio(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``a/b`` cancelled with each select held as a symbol (SymPy does not cancel them)."""
    held = {p: sp.Dummy("s") for p in (a.atoms(sp.Piecewise) | b.atoms(sp.Piecewise))}
    return sp.cancel(a.xreplace(held) / b.xreplace(held))


def _needs(e, out, seen) -> None:
    if e in seen or isinstance(e, sp.Piecewise) or not isinstance(e, sp.Basic) or not e.args:
        return
    seen.add(e)
    u = e.args[0]
    found = []
    if isinstance(e, sp.log):
        found = [Fact(u, True)]
    elif e.is_Pow and fractional(e.exp):
        found = [Fact(e.base, bool(e.exp.is_negative))]
    elif isinstance(e, (sp.asin, sp.acos)):
        found = [Fact(1 - u, False), Fact(1 + u, False)]
    elif isinstance(e, sp.atanh):
        found = [Fact(1 - u, True), Fact(1 + u, True)]
    elif isinstance(e, sp.acosh):
        found = [Fact(u - 1, False)]
    out.extend(f for f in found if f not in out)
    for arg in e.args:
        _needs(arg, out, seen)


def parametrise(facts) -> dict:
    """Each fact ``c*s + r > 0`` (c a number) solved for a symbol: ``s = (p - r)/c``, p > 0.

    Every point of the region is the image of some positive ``p``s, so an identity in the
    ``p``s (which the tactics may prove using p > 0) holds on the whole region.
    """
    subs: dict = {}
    for f in facts:
        g = f.g.xreplace(subs)
        for s in sorted(g.free_symbols - set(subs), key=lambda v: v.name):
            if isinstance(s, sp.Dummy):
                continue
            poly = quietly("read a fact", 1.0, sp.Poly, g, s)
            if poly is None or poly.degree() != 1 or not poly.all_coeffs()[0].is_number:
                continue
            c, r = poly.all_coeffs()
            p = sp.Dummy("p", positive=True) if f.strict else sp.Dummy("p", nonnegative=True)
            value = (p - r) / c
            subs = {k: v.xreplace({s: value}) for k, v in subs.items()}
            subs[s] = value
            break
    return subs


def _log_scale(s, rng):
    """A value of magnitude 10**-120 .. 10**2, of either sign (positive for a positive s)."""
    value = sp.Float(10 ** rng.uniform(-120, 2), 30)
    return value if s.is_positive or s.is_nonnegative or rng.random() < 0.5 else -value


def _beside_switches(a, b) -> list:
    """Points at r ± 1e-6, 1e-3, 0.1 for each comparison in a or b that is linear in one
    symbol with its zero at r (a thin region between two switches lies next to one)."""
    points = []
    for rel in sorted(set().union(a.atoms(sp.core.relational.Relational),
                                  b.atoms(sp.core.relational.Relational)), key=sp.default_sort_key):
        g = rel.lhs - rel.rhs
        if len(g.free_symbols) != 1:
            continue
        (s,) = g.free_symbols
        try:
            poly = sp.Poly(g, s)
        except sp.PolynomialError:
            continue
        if poly.degree() != 1:
            continue
        r = (-poly.all_coeffs()[1] / poly.all_coeffs()[0]).evalf(30)   # e.g. y = np.e
        if not (r.is_Number and r.is_real and r.is_finite):
            continue
        for step in (sp.Rational(1, 10**6), sp.Rational(1, 1000), sp.Rational(1, 10)):
            points += [{s: sp.Float(r + step, 30)}, {s: sp.Float(r - step, 30)}]
    return points[:60]


def witness(failed, a, b, domain, seed):
    """A point inside the region that could not be settled where a and b differ, or None."""
    facts = failed[0] if failed else ()     # no region known: search the whole space
    rng = random.Random(seed + 1)
    subs = parametrise(facts)
    syms = sorted(set().union(a.free_symbols, b.free_symbols,
                              *[f.g.free_symbols for f in facts],
                              *[d.free_symbols for d in as_list(domain)]), key=lambda s: s.name)
    params = sorted({p for v in subs.values() for p in v.free_symbols} - set(syms), key=str)
    near = _beside_switches(a, b) if not facts else []
    for point in near:          # just either side of each switch of one input: 2.5 < x < 3
        point = {s: point.get(s, sample_value(s, rng)) for s in syms}
        found = judge(a, b, as_list(domain), point, 1e-12)
        if isinstance(found, Counterexample):
            return found
    for k in range(80):
        budget.check("looking for a counterexample")
        # every other point has some coordinates on a log scale: a region may be thin
        # near 0 (1e-44 < x < 1e-12); the others as usual, so a tiny dout does not shrink
        # a difference below the tolerance
        def draw(s):
            if k % 2 == 1 and s.name != "dout" and rng.random() < 0.5:
                return _log_scale(s, rng)
            return sample_value(s, rng)
        free = {s: draw(s) for s in syms}
        free.update({p: draw(p) for p in params})
        try:
            point = {s: sp.Float(evaluate(subs[s], free, real=True), 30) if s in subs
                     else free[s] for s in syms}
            if not all(evaluate(f.g, point, real=True) > 0 for f in facts):
                continue
        except (Skip, TypeError, ValueError):
            continue
        found = judge(a, b, as_list(domain), point, 1e-12)
        if isinstance(found, Counterexample):
            return found
    return None
