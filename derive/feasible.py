"""Facts about the sign of switches: which regions are empty, which zero sets are thin.

Everything here is a *sufficient* condition, so the region prover stays sound:

* :func:`infeasible` -- a set of facts ``g > 0`` / ``g >= 0`` has no real solution.
  Proven by (1) one fact contradicting SymPy's assumptions (``-delta > 0`` for a positive
  delta); (2) Fourier--Motzkin elimination over the facts read as linear forms in their
  terms (``t*x`` or ``exp(x)`` is one unknown; that only enlarges the solution set, so an
  empty one is empty), with the signs SymPy's assumptions give each term (``x**2 >= 0``,
  ``exp(x) > 0``, a square root >= 0 where it is real) and exact rational arithmetic;
  (3) for facts in one free symbol, SymPy's ``solveset`` over the reals returning an
  empty intersection.
* :func:`thin` -- the zero set of ``g`` has measure zero: ``g`` is a nonzero constant, or
  a product of such, or ``u**r``/``tanh(u)``/``log(u)``... with ``u`` (``u - 1``) such, or
  the numerator of ``g`` is a nonzero polynomial, or ``g`` is strictly monotone in one
  symbol (the sign of ``dg/ds`` settled by SymPy's assumptions), or ``g`` is real-analytic
  on the whole space (polynomials, exp, sin, cos, sinh, cosh, tanh, atan, asinh, erf) and
  nonzero at one rational point (SymPy's error-controlled evalf).

Each SymPy call is bounded (size before, time while it runs): running out only means
"not shown", never a wrong answer.

>>> import sympy as sp
>>> x, t = sp.symbols("x t", real=True)
>>> delta = sp.Symbol("delta", positive=True)
>>> infeasible((Fact(x - t, True), Fact(t - x - delta, True)))   # x > t and x < t - delta
True
>>> infeasible((Fact(x - t, True), Fact(t*x - 1, True)))
False
>>> thin(t*x - 1), thin(x - x)
(True, False)
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import budget
from .memo import remember, table
from .sizes import tree_size

SYMPY_ERRORS = (TypeError, ValueError, ArithmeticError, NotImplementedError, RecursionError,
                AttributeError, IndexError, MemoryError, sp.polys.polyerrors.BasePolynomialError)
_FM_ROWS = 300
_ENTIRE = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.tanh, sp.atan, sp.asinh, sp.erf)


@dataclass(frozen=True)
class Fact:
    """``g > 0`` (strict) or ``g >= 0``."""

    g: sp.Expr
    strict: bool = True

    def __str__(self) -> str:
        return f"{self.g} {'>' if self.strict else '>='} 0"


_timeouts = 0          # how many bounded calls ran out (a result they touched is not cached)


def quietly(what: str, seconds: float, f, *args, default=None):
    """``f(*args)`` within ``seconds``; ``default`` when it runs out or SymPy gives up."""
    global _timeouts
    try:
        with budget.bounded(seconds, what):
            return f(*args)
    except budget.TacticTimeout:
        _timeouts += 1
        return default
    except SYMPY_ERRORS:
        return default


def _remembered(f):
    """Memoise a pure decision on SymPy data, except when a time bound cut it short
    (then a later call, with more time, may decide more)."""
    cache = table()

    def wrapper(arg):
        known = cache.get(arg)
        if known is not None:
            return known
        before = _timeouts
        value = f(arg)
        if _timeouts == before:
            remember(cache, arg, value)
        return value
    wrapper.__doc__, wrapper.__name__, wrapper.__wrapped__ = f.__doc__, f.__name__, f
    return wrapper


def exact(g: sp.Expr) -> sp.Expr:
    """Floats as the exact rationals they stand for (so keys and sums are exact)."""
    floats = g.atoms(sp.Float)
    return g.xreplace({f: sp.Rational(f) for f in floats}) if floats else g


_SAME_SIGN = (sp.tanh, sp.sinh, sp.atan, sp.asinh, sp.erf, sp.asin, sp.atanh)


def key(g: sp.Expr):
    """``(p, c)``: ``g`` has the sign of ``c*p`` wherever it is real, ``c`` a nonzero
    number and ``p`` normalised -- so one switch, one key.

    ``x - t``, ``2*t - 2*x`` and ``0.5*x - 0.5*t`` share ``p`` (``g == c*p`` there); so do
    ``tanh(x - t)`` and ``(x - t)**3``, which have the sign of ``x - t`` (odd, increasing
    functions of it: tanh, sinh, atan, asinh, erf, asin, atanh, odd powers).
    """
    g = exact(sp.sympify(g))
    inner = _same_sign_as(g)
    if inner is None and tree_size(g) <= 400:
        g = quietly("expand a switch", 1.0, sp.expand, g, default=g)
        inner = _same_sign_as(g)
    if inner is not None:
        p, c = key(inner[0])
        return p, c * inner[1]
    if g.is_number:
        return g, sp.Integer(1)
    terms = [t for t in g.as_coefficients_dict() if not t.is_number]
    if not terms:
        return g, sp.Integer(1)
    lead = min(terms, key=sp.default_sort_key)
    c = g.as_coefficients_dict()[lead]
    if not c.is_Number or c == 0:
        return g, sp.Integer(1)
    return quietly("expand a switch", 1.0, sp.expand, g / c, default=g / c), c


def _same_sign_as(g):
    """``(u, s)`` when ``g = c*f(u)`` has the sign ``s*sign(u)`` (f odd and increasing),
    else None."""
    if g.is_number:
        return None
    c, e = g.as_coeff_Mul()
    if c == 0:
        return None
    if isinstance(e, _SAME_SIGN):
        return e.args[0], (1 if c > 0 else -1)
    if e.is_Pow and e.exp.is_Integer and e.exp > 0 and e.exp % 2 == 1:
        return e.base, (1 if c > 0 else -1)
    return None


def _sign_by_assumptions(g) -> int | None:
    def ask():
        if g.is_positive:
            return 1
        if g.is_negative:
            return -1
        if g.is_zero:
            return 0
        return None
    return quietly("ask the sign", 1.0, ask) if tree_size(g) <= 2000 else None


def known_sign(p, facts) -> int | None:
    """The sign of ``p`` throughout the region the facts cut out, when it is settled."""
    if p == 0:
        return 0
    sign = _sign_by_assumptions(p)
    if sign is not None:
        return sign
    if infeasible(tuple(facts) + (Fact(-p, False),)):
        return 1
    if infeasible(tuple(facts) + (Fact(p, False),)):
        return -1
    return None


def infeasible(facts) -> bool:
    """True only when the facts are proven to have no common real solution."""
    return bool(facts) and _infeasible(frozenset(facts))


@_remembered
def _infeasible(facts: frozenset) -> bool:
    facts = tuple(sorted(facts, key=lambda f: sp.default_sort_key(f.g)))
    for f in facts:
        sign = _sign_by_assumptions(f.g)
        if sign == -1 or (sign == 0 and f.strict):
            return True
    rows = [r for r in (_linear(f) for f in facts) if r is not None]
    if rows and _fourier_motzkin(rows + _term_signs(rows)):
        return True
    return _one_variable_empty(facts)


def _linear(f: Fact):
    """``(coefficients by term, constant, strict)`` for ``f``, or None if not readable."""
    g = exact(f.g)
    if tree_size(g) > 400:
        return None
    g = quietly("expand a fact", 1.0, sp.expand, g)
    if g is None:
        return None
    coeffs, const = {}, sp.Integer(0)
    for term, c in g.as_coefficients_dict().items():
        if not c.is_Rational:
            return None
        if term.is_number:
            if not term.is_Rational:
                return None
            const += c * term
        else:
            coeffs[term] = coeffs.get(term, 0) + c
    return {t: c for t, c in coeffs.items() if c != 0}, const, f.strict


def _term_signs(rows) -> list:
    """``term > 0`` / ``term >= 0`` rows from the assumptions on each term."""
    out = []
    for term in {t for coeffs, _, _ in rows for t in coeffs}:
        sign = _sign_by_assumptions(term)
        if sign in (1, -1):
            out.append(({term: sp.Integer(sign)}, sp.Integer(0), True))
        elif quietly("ask the sign", 1.0, lambda: term.is_nonnegative) or _real_root(term):
            out.append(({term: sp.Integer(1)}, sp.Integer(0), False))
        elif quietly("ask the sign", 1.0, lambda: term.is_nonpositive):
            out.append(({term: sp.Integer(-1)}, sp.Integer(0), False))
    return out


def _real_root(term) -> bool:
    """u**r, r not an integer: >= 0 wherever it is real (else outside the real domain)."""
    return term.is_Pow and fractional(term.exp)


def fractional(r) -> bool:
    """A number that is not an integer (2.0 is one; 1/2 and 0.5 are not)."""
    if r.is_Rational:
        return not r.is_Integer
    return bool(r.is_Float) and r != int(r)


def _fourier_motzkin(rows) -> bool:
    """Eliminate every term; True when a row ``0 > c`` (or ``0 >= c``, c < 0) remains."""
    while True:
        budget.check("Fourier-Motzkin elimination")
        if any(_contradiction(r) for r in rows):
            return True
        terms = {t for coeffs, _, _ in rows for t in coeffs}
        if not terms:
            return False

        def cost(t):
            pos = sum(1 for c, _, _ in rows if c.get(t, 0) > 0)
            return pos * (sum(1 for c, _, _ in rows if c.get(t, 0) < 0))
        t = min(sorted(terms, key=sp.default_sort_key), key=cost)
        pos = [r for r in rows if r[0].get(t, 0) > 0]
        neg = [r for r in rows if r[0].get(t, 0) < 0]
        rows = [r for r in rows if t not in r[0]] + [_combine(p, n, t) for p in pos for n in neg]
        if len(rows) > _FM_ROWS:
            return False


def _contradiction(row) -> bool:
    coeffs, const, strict = row
    return not coeffs and (const < 0 or (const == 0 and strict))


def _combine(p, n, t):
    a, b = p[0][t], -n[0][t]
    coeffs = {}
    for s in set(p[0]) | set(n[0]):
        c = b * p[0].get(s, 0) + a * n[0].get(s, 0)
        if c != 0:
            coeffs[s] = c
    return coeffs, b * p[1] + a * n[1], p[2] or n[2]


def _one_variable_empty(facts) -> bool:
    syms = set().union(*[f.g.free_symbols for f in facts])
    if len(syms) != 1 or any(tree_size(f.g) > 300 for f in facts):
        return False
    s = syms.pop()
    if all(f.g.is_polynomial(s) and sp.degree(f.g, s) <= 1 for f in facts):
        return False     # linear: Fourier-Motzkin has already decided it exactly

    def solve():
        region = sp.S.Reals
        for f in facts:
            rel = f.g > 0 if f.strict else f.g >= 0
            region = region & sp.solveset(rel, s, sp.S.Reals)
            if region is sp.S.EmptySet:
                return True
        return region is sp.S.EmptySet
    return bool(quietly("solveset over the reals", 2.0, solve, default=False))


_ZERO_AT_ZERO = (sp.tanh, sp.sinh, sp.atan, sp.asinh, sp.erf, sp.asin, sp.atanh)


def thin(g) -> bool:
    """True only when the zero set of ``g`` is proven to have measure zero."""
    return _thin(exact(sp.sympify(g)))


@_remembered
def _thin(g) -> bool:
    if g.is_number:
        return _sign_by_assumptions(g) in (1, -1)
    if tree_size(g) > 2000:
        return False
    if g.is_Mul:       # the zeros of a product are the zeros of its factors
        return all(_thin(f) for f in g.args)
    if g.is_Pow and g.exp.is_number:       # u**r: zero only where u is (r > 0), or never
        return bool(g.exp.is_negative) or (bool(g.exp.is_positive) and _thin(g.base))
    if isinstance(g, sp.exp):
        return True
    if isinstance(g, _ZERO_AT_ZERO):       # zero exactly where the argument is
        return _thin(g.args[0])
    if isinstance(g, sp.log):
        return _thin(g.args[0] - 1)
    syms = sorted(g.free_symbols, key=lambda s: s.name)
    num = quietly("numerator of a switch", 1.0, lambda: sp.fraction(sp.together(g))[0])
    if num is not None and num.is_polynomial(*syms):
        return quietly("expand a switch", 1.0, lambda: sp.expand(num) != 0, default=False)
    for s in syms:
        if _sign_by_assumptions(quietly("differentiate", 1.0, sp.diff, g, s, default=g)) \
                in (1, -1):
            return True
    return _entire(g) and _nonzero_somewhere(g, syms)


def _entire(g) -> bool:
    for node in _distinct(g):
        if node.is_Symbol or node.is_Number or isinstance(node, sp.NumberSymbol):
            continue
        if node.is_Add or node.is_Mul or isinstance(node, _ENTIRE):
            continue
        if node.is_Pow and node.exp.is_Integer and node.exp >= 0:
            continue
        return False
    return True


def _distinct(e) -> set:
    seen, stack = {e}, [e]
    while stack:
        for arg in getattr(stack.pop(), "args", ()):
            if arg not in seen:
                seen.add(arg)
                stack.append(arg)
    return seen


def _nonzero_somewhere(g, syms) -> bool:
    for value in (sp.Rational(1, 2), sp.Rational(3, 2)):
        point = {s: -value if s.is_negative else value for s in syms}
        v = quietly("evaluate a switch", 1.0,
                    lambda: g.xreplace(point).evalf(15, strict=True))
        if v is not None and v.is_number and v.is_real and abs(v) > 1e-10:
            return True
    return False
