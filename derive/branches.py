"""Prune the branches of a piecewise result: an equality-preserving tidy, cheap and bounded.

A backward pass through several kinks and ``np.where`` leaves conditions that cannot
hold (``x > 1`` after ``x > 0`` was taken), conjuncts the earlier branches already
decide (``x <= 0 & t > 1`` after ``x > 0``), masks inside a branch that the branch
decides (``dout*(x > 0)`` where ``x > 0`` holds) and adjacent branches with one value.
:func:`prune_branches` removes them with exact interval reasoning on each linear form
of the conditions: a comparison ``f op 0`` is read as ``g ∈ I`` where ``g`` is ``f``
without its constant, scaled to a leading coefficient 1, and ``I`` an interval with
rational ends. Nothing is simplified: the values and the remaining conditions are
kept as they were written, so a tidy result reads like the original.

>>> import sympy as sp
>>> x, t = sp.symbols("x t", real=True)
>>> prune_branches(sp.Piecewise((x, x > 0), (2*x, x > 1), (0, True)))
Piecewise((x, x > 0), (0, True))
>>> prune_branches(sp.Piecewise((x, x > 0), (x * sp.Piecewise((1, x > 0), (t, True)), True)))
Piecewise((x, x > 0), (t*x, True))
>>> prune_branches(sp.Piecewise((1, x > 0), (2, x < -1), (3, True)))     # nothing to prune
Piecewise((1, x > 0), (2, x < -1), (3, True))
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, Boolean, BooleanFalse, BooleanTrue, Not, Or

from .sizes import tree_size

__all__ = ["prune_branches"]

#: beyond this many tree nodes an expression is returned as it is (the tidy stays cheap)
MAX_NODES = 4000
#: two values are compared after ``expand`` only when each has at most this many nodes
MAX_EXPAND_NODES = 40
#: functions finite wherever their arguments are (a factor of these may be changed where
#: a mask beside it is 0: 0 times a finite value is 0 either way)
_ENTIRE = (sp.exp, sp.sin, sp.cos, sp.tanh, sp.sinh, sp.cosh, sp.erf, sp.Abs, sp.sign,
           sp.Max, sp.Min, sp.atan, sp.asinh, sp.floor, sp.ceiling)


@dataclass(frozen=True)
class _Interval:
    """``lo < g < hi`` (or ``<=`` at a closed end); ends are SymPy numbers or ±oo."""

    lo: sp.Expr = -sp.oo
    lo_open: bool = True
    hi: sp.Expr = sp.oo
    hi_open: bool = True

    def meet(self, other: _Interval) -> _Interval:
        # the higher lower end and the lower upper end; at a tie the open end is tighter
        lo, lo_open = max((self.lo, self.lo_open), (other.lo, other.lo_open))
        hi, hi_open = min((self.hi, not self.hi_open), (other.hi, not other.hi_open))
        return _Interval(lo, lo_open, hi, not hi_open)

    @property
    def empty(self) -> bool:
        return bool(self.lo > self.hi) or (self.lo == self.hi and (self.lo_open or self.hi_open))

    def within(self, other: _Interval) -> bool:
        """Every point of ``self`` lies in ``other`` (an empty ``self`` lies anywhere)."""
        if self.empty:
            return True
        lo_ok = other.lo < self.lo or (other.lo == self.lo and (not other.lo_open or self.lo_open))
        hi_ok = self.hi < other.hi or (other.hi == self.hi and (not other.hi_open or self.hi_open))
        return bool(lo_ok) and bool(hi_ok)


def _leading(rest: sp.Expr) -> sp.Expr:
    """The rational coefficient of ``rest``'s first term in a fixed order of monomials
    (the same term for ``f`` and ``-f``, so both scale to one form)."""
    terms = sp.Add.make_args(rest)
    pairs = [t.as_coeff_Mul() for t in terms]
    return min(pairs, key=lambda cm: sp.default_sort_key(cm[1]))[0]


def _linear(rel) -> tuple | None:
    """``(g, interval)`` with ``rel`` ⇔ ``g ∈ interval``, or None (``!=``, non-numbers)."""
    if not isinstance(rel, Relational) or rel.rel_op not in ("<", "<=", ">", ">=", "=="):
        return None
    k, rest = (rel.lhs - rel.rhs).as_coeff_Add()
    if rest == 0 or not k.is_Rational:
        return None
    c = _leading(rest)
    if not c.is_Rational or c == 0:
        return None
    g, bound, op = rest / c, -k / c, rel.rel_op
    if c < 0:
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}[op]
    return g, {">": _Interval(bound, True), ">=": _Interval(bound, False),
               "<": _Interval(hi=bound, hi_open=True), "<=": _Interval(hi=bound, hi_open=False),
               "==": _Interval(bound, False, bound, False)}[op]


@dataclass(frozen=True)
class _Facts:
    """What holds where a branch is reached: intervals per linear form, and other
    conditions known true (matched exactly)."""

    intervals: tuple = ()         # ((g, interval), ...), one entry per g
    known: frozenset = frozenset()

    def interval(self, g) -> _Interval:
        return next((i for h, i in self.intervals if h == g), _Interval())

    def add(self, cond) -> _Facts:
        """These facts and ``cond`` (a conjunction is added conjunct by conjunct)."""
        if isinstance(cond, BooleanTrue):
            return self
        if isinstance(cond, Not):
            return self.add(_negate(cond.args[0]))
        if isinstance(cond, And):
            facts = self
            for part in cond.args:
                facts = facts.add(part)
            return facts
        lin = _linear(cond)
        if lin is None:
            return _Facts(self.intervals, self.known | {cond})
        g, interval = lin
        met = self.interval(g).meet(interval)
        return _Facts(tuple((h, i) for h, i in self.intervals if h != g) + ((g, met),),
                      self.known)

    def add_not(self, cond) -> _Facts:
        """These facts and the negation of ``cond`` (an earlier branch not taken)."""
        if isinstance(cond, Or):
            facts = self
            for part in cond.args:
                facts = facts.add_not(part)
            return facts
        if isinstance(cond, Relational):
            return self.add(cond.negated)
        return _Facts(self.intervals, self.known | {_negate(cond)})

    @property
    def contradictory(self) -> bool:
        """No point satisfies the facts: an empty interval, or a known ``a | b ...`` each of
        whose parts the intervals refute."""
        return any(i.empty for _, i in self.intervals) or any(
            isinstance(k, Or) and all(self.decide(part) is False for part in k.args)
            for k in self.known)

    def decide(self, atom):
        """True or False when the facts decide ``atom`` (a comparison or other), else None."""
        if atom in self.known:
            return True
        if _negate(atom) in self.known:
            return False
        unequal = isinstance(atom, Relational) and atom.rel_op == "!="
        lin = _linear(sp.Eq(atom.lhs, atom.rhs, evaluate=False) if unequal else atom)
        if lin is None:
            return None
        g, interval = lin
        have = self.interval(g)
        if have.within(interval):
            return not unequal
        if have.meet(interval).empty:
            return unequal
        return None


def _negate(cond):
    """The negation, pushed through & and | onto the comparisons (De Morgan)."""
    if isinstance(cond, Not):
        return cond.args[0]
    if isinstance(cond, Relational):
        return cond.negated
    if isinstance(cond, And):
        return Or(*(_negate(part) for part in cond.args))
    if isinstance(cond, Or):
        return And(*(_negate(part) for part in cond.args))
    return Not(cond)


def _reduce(cond, facts: _Facts):
    """``cond`` with what ``facts`` decide taken out: sp.true, sp.false or a shorter
    condition equal to ``cond`` wherever ``facts`` hold."""
    if isinstance(cond, (BooleanTrue, BooleanFalse)):
        return cond
    if cond in facts.known or _negate(cond) in facts.known:
        return sp.true if cond in facts.known else sp.false
    if isinstance(cond, And):
        kept = list(cond.args)
        for part in cond.args:              # each conjunct against the facts and the others
            others = [p for p in kept if p is not part]
            reduced = _reduce(part, facts.add(And(*others)) if others else facts)
            if reduced == sp.false:
                return sp.false
            if reduced == sp.true:
                kept = others
            else:
                kept = [reduced if p is part else p for p in kept]
        return And(*kept) if kept else sp.true
    if isinstance(cond, Not):
        pushed = _negate(cond.args[0])
        reduced = _reduce(pushed, facts)
        return cond if reduced == pushed else reduced
    if isinstance(cond, Or):
        kept = []
        for part in cond.args:
            reduced = _reduce(part, facts)
            if reduced == sp.true:
                return sp.true
            if reduced != sp.false:
                kept.append(reduced)
        return Or(*kept) if kept else sp.false
    decided = facts.decide(cond)
    return cond if decided is None else sp.true if decided else sp.false


def _same(a, b) -> bool:
    if a == b:
        return True
    small = max(tree_size(a, MAX_EXPAND_NODES + 1), tree_size(b, MAX_EXPAND_NODES + 1)) \
        <= MAX_EXPAND_NODES
    return small and not a.has(sp.Piecewise) and not b.has(sp.Piecewise) and \
        sp.expand(a - b) == 0


def _piecewise(e: sp.Piecewise, facts: _Facts):
    pieces = []                             # (value, condition), each reachable
    reach = facts                           # where the next branch is reached
    for value, written in e.args:
        cond = _reduce(written, reach)
        taken = reach.add(cond)
        if cond == sp.false or taken.contradictory:
            if written == sp.true and pieces:   # the otherwise is never reached: the kept
                pieces[-1] = (pieces[-1][0], sp.true)   # branches cover everything, so the
                break                                   # last of them is the otherwise
            continue
        value = _prune(value, taken)
        if pieces and _same(pieces[-1][0], value):
            first, earlier = pieces.pop()   # adjacent, one value: c1 | c2
            cond = sp.true if cond == sp.true else Or(earlier, cond)
            value = first
        pieces.append((value, cond))
        if cond == sp.true:
            break
        reach = reach.add_not(cond)
    if not pieces:                          # no branch can be reached (the facts are empty)
        return e
    if pieces[-1][1] == sp.true and len(pieces) == 1:
        return pieces[0][0]
    return sp.Piecewise(*pieces)


def _finite(e, functions=None) -> bool:
    """``e`` is finite at every real point (polynomials, branches of them, and calls of
    ``functions``: by default the entire ones)."""
    functions = _ENTIRE if functions is None else functions
    if e.is_Number:
        return bool(e.is_finite)
    if e.is_Symbol:
        return True
    if isinstance(e, sp.Pow):
        return e.exp.is_Integer and e.exp >= 0 and _finite(e.base, functions)
    if isinstance(e, sp.Piecewise):
        return all(_finite(value, functions) for value, _ in e.args)
    if isinstance(e, (sp.Add, sp.Mul, *functions)):
        return all(_finite(a, functions) for a in e.args)
    return False


def _gate(f):
    """The condition ``c`` of a factor ``Piecewise((v, c), (0, True))``, else None."""
    if isinstance(f, sp.Piecewise) and len(f.args) == 2 and f.args[1] == (0, sp.true):
        return f.args[0][1]
    return None


def mask_condition(f):
    """The condition ``c`` when ``f`` is the 0/1 mask ``Piecewise((1, c), (0, True))``."""
    c = _gate(f)
    return c if c is not None and f.args[0][0] == 1 else None


def masks_as_selects(e):
    """Each product with a 0/1 mask as a select: ``mask(c)*F`` → ``Piecewise((F, c), (0,
    True))``, 0 where the mask is whatever F is there, as the generated code computes it
    (an infinite F is guarded by a select). SymPy reads 0*(1/0) as undefined, so
    ``mask(x > 0)/sqrt(max(0, x))`` and ``1/sqrt(max(0, x))`` would both be undefined at
    x < 0 and "equal"; as selects they are 0 and inf there.

    >>> x = sp.Symbol("x", real=True)
    >>> masks_as_selects(sp.Piecewise((1, x > 0), (0, True))/sp.sqrt(sp.Max(0, x)))
    Piecewise((1/sqrt(Max(0, x)), x > 0), (0, True))
    """
    def masked(t):          # 0 wherever a mask of it is
        return mask_condition(t) is not None or (
            t.is_Mul and any(mask_condition(f) is not None for f in t.args))

    def convert(q):         # top down: a sum of masked terms is seen before its terms change
        if not q.args or not isinstance(q, sp.Expr):
            return q
        if q.is_Mul:
            for f in q.args:
                c = mask_condition(f)
                if c is not None:
                    rest = sp.Mul(*[a for a in q.args if a is not f])
                    return sp.Piecewise((convert(rest), c), (0, True))
            for f in q.args:    # (mask*a + mask*b)*F: each term's mask guards F as well
                if f.is_Add and all(masked(t) for t in f.args):
                    rest = [a for a in q.args if a is not f]
                    return sp.Add(*[convert(sp.Mul(t, *rest)) for t in f.args])
        if isinstance(q, sp.Piecewise):
            return sp.Piecewise(*[(convert(v), c) for v, c in q.args])
        return q.func(*[convert(a) for a in q.args])
    return convert(e)


def _product(e: sp.Mul, facts: _Facts):
    """A product of finite factors with masks: where a mask is 0 the product is 0 whatever
    the other factors are, so each mask's condition holds for all the other factors."""
    factors = list(e.args)
    for i, f in enumerate(factors):
        if _gate(f) is not None:
            others = [_gate(g) for j, g in enumerate(factors) if j != i and _gate(g) is not None]
            factors[i] = _piecewise(f, facts.add(And(*others)))
            if factors[i] == 0:
                return sp.Integer(0)
    inside = facts.add(And(*(c for c in map(_gate, factors) if c is not None)))
    factors = [f if _gate(f) is not None else _prune(f, inside) for f in factors]
    return e.func(*factors) if any(a is not b for a, b in zip(factors, e.args)) else e


def _split_gate(term):
    """``(rest, c)`` when ``term`` is ``rest * [c]`` (one mask factor), else None."""
    factors = sp.Mul.make_args(term)
    gates = [f for f in factors if _gate(f) is not None]
    if len(gates) != 1:
        return None
    rest = sp.Mul(gates[0].args[0][0], *(f for f in factors if f is not gates[0]))
    return rest, _gate(gates[0])


def _complementary(c1, c2) -> bool:
    """Exactly one of ``c1``, ``c2`` holds at every point."""
    return _Facts().add(c1).decide(c2) is False and _Facts().add_not(c1).decide(c2) is True


def _sum(e: sp.Add, facts: _Facts):
    """A sum with ``r*[c] + r*[not c]`` merged to ``r``, its terms pruned."""
    terms = [_prune(a, facts) for a in e.args]
    merged, used = [], set()
    for i, a in enumerate(terms):
        if i in used:
            continue
        split = _split_gate(a)
        for j in range(i + 1, len(terms)) if split else ():
            other = _split_gate(terms[j]) if j not in used else None
            if other and other[0] == split[0] and _complementary(split[1], other[1]):
                used.add(j)
                a = split[0]
                break
        merged.append(a)
    changed = len(merged) != len(e.args) or any(a is not b for a, b in zip(merged, e.args))
    return sp.Add(*merged) if changed else e


def _prune(e, facts: _Facts):
    if not isinstance(e, sp.Basic) or e.is_Atom or isinstance(e, Boolean) or \
            not e.has(sp.Piecewise):
        return e
    if isinstance(e, sp.Piecewise):
        return _piecewise(e, facts)
    if isinstance(e, sp.Mul) and any(_gate(f) is not None for f in e.args) and _finite(e):
        return _product(e, facts)
    if isinstance(e, sp.Add):
        return _sum(e, facts)
    args = [_prune(a, facts) for a in e.args]
    return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e


def prune_branches(expr):
    """``expr`` with unreachable branches, decided conjuncts and repeated values removed.

    Equal to ``expr`` everywhere (each change holds exactly where its branch is reached);
    bounded: an expression of more than :data:`MAX_NODES` nodes comes back unchanged.

    >>> import sympy as sp
    >>> x, t = sp.symbols("x t", real=True)
    >>> prune_branches(sp.Piecewise((t, x > 0), (2*t, (x <= -1) & (t > 1)), (2*t, True)))
    Piecewise((t, x > 0), (2*t, True))
    >>> prune_branches(sp.Piecewise((t, t*x < 1), (0, (t*x >= 1) & (x > 0)), (0, True)))
    Piecewise((t, t*x < 1), (0, True))
    >>> prune_branches(sp.Piecewise((x, x > 0), (x, True)) + 1)
    x + 1
    """
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Piecewise):
        return expr
    if tree_size(expr, MAX_NODES + 1) > MAX_NODES:
        return expr
    return _prune(expr, _Facts())


#: bounded functions: finite in float arithmetic wherever their arguments are finite
_BOUNDED = (sp.tanh, sp.sin, sp.cos, sp.erf, sp.atan, sp.sign, sp.Abs, sp.Max, sp.Min,
            sp.floor, sp.ceiling)


def float_safe(e) -> bool:
    """``e`` gives a finite float wherever its symbols do: so ``e*mask`` is 0 where the
    mask is 0. Not so for ``1/x``, ``np.sqrt(x)``, ``np.log(x)`` (inf or nan there, and
    nan*0 is nan) nor ``np.exp(x)`` (inf above 709): those need ``np.where``.

    >>> x = sp.Symbol("x", real=True)
    >>> float_safe(3*x**2 + sp.tanh(x)), float_safe(1/x), float_safe(sp.exp(x))
    (True, False, False)
    """
    return _finite(e, _BOUNDED)


def guarded(e):
    """``e`` with each product of 0/1 masks and a factor that may be inf or nan written as
    the select :func:`masked_product` gives (for code that prints a mask as a 0/1 value:
    ``0*inf`` is nan where the select gives 0).

    >>> x = sp.Symbol("x", real=True)
    >>> guarded(1 + sp.Piecewise((1, x > 0), (0, True)) / x)
    Piecewise((1/x, x > 0), (0, True)) + 1
    """
    return e.replace(lambda q: q.is_Mul and masked_product(q) is not None, masked_product)


def masked_product(e, safe=None):
    """``Piecewise((rest, c1 & c2 ...), (0, True))`` for a product of 0/1 masks with factors
    that may be inf or nan where a mask is 0 (see :func:`float_safe`); None otherwise.
    ``safe`` decides whether the factors are finite (default :func:`float_safe`; the
    lowering's looks through its shared names).

    >>> x = sp.Symbol("x", real=True)
    >>> masked_product(sp.Piecewise((1, x > 0), (0, True)) / sp.sqrt(x))
    Piecewise((1/sqrt(x), x > 0), (0, True))
    >>> masked_product(3 * x * sp.Piecewise((1, x > 0), (0, True))) is None
    True
    """
    if not e.is_Mul:
        return None
    conds, rest = [], []
    for a in e.args:
        if mask_condition(a) is not None:
            conds.append(mask_condition(a))
        else:
            rest.append(a)
    rest = sp.Mul(*rest)
    safe = float_safe if safe is None else safe
    if safe(rest):
        return None
    if not conds:       # (masked sum)*rest: each masked term takes rest inside its select
        sums = [a for a in rest.args if a.is_Add and all(
            any(mask_condition(f) is not None for f in sp.Mul.make_args(t)) for t in a.args)] if rest.is_Mul else []
        if not sums:
            return None
        others = sp.Mul(*[a for a in rest.args if a is not sums[0]])
        return sp.Add(*[masked_product(sp.Mul(t, others), safe) or sp.Mul(t, others)
                        for t in sums[0].args])
    # the rest may be a masked sum times the non-finite part ((m1 + m2*m3)/x): each of its
    # terms a select too, or 0*inf is nan where the sum's masks are 0
    rest = masked_product(rest, safe) or rest
    return sp.Piecewise((rest, sp.And(*conds)), (0, True), evaluate=False)

