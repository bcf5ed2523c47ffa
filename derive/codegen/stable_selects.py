"""Selects written without a branch, for :mod:`.stable` (each candidate is kept only if
:func:`derive.proof.prove_rewrite` proves it): a select on a random mask is a mispredicted
branch per element (~4 ns in NumPy's putmask and where, bench/numpy_bench.py), a clip one
pass.

* ``Piecewise((c, s >= c), (v, True))`` → ``Min(v, c)`` (:func:`_clip`);
* a branch ``k*sign(w)`` against ``a`` → ``clip(a, -|k|, |k|)`` (:func:`_sign_clip`);
* a continuous select at ``s = k`` → ``g(min(s, k)) + h1*max(s - k, 0)``
  (:func:`_clipped_select`);
* an ``exp`` inside the otherwise-branch of ``Piecewise((a, s > 0), (b, True))`` only
  matters where ``s <= 0``: ``s`` is clamped to ``min(s, 0)`` there (:func:`_clamp_branches`);
* branches that vanish at 0 → their sum at ``max(s, 0)``, ``min(s, 0)`` (:func:`_branch_sum`);
* a constant branch that the other branch equals on its region → that branch
  (:func:`_redundant_select`).
"""
from __future__ import annotations

import sympy as sp

__all__ = ["_branch_sum", "_clamp_branches", "_clip", "_clipped_select", "_redundant_select",
           "_sign_clip"]

# bounded for every real argument (NaN aside): a factor of these cannot be inf
_BOUNDED = (sp.tanh, sp.sin, sp.cos, sp.atan, sp.erf, sp.erfc, sp.sign, sp.Heaviside)


def _finite_by_form(e) -> bool:
    """Whether ``e`` is finite, not NaN, at every finite point by its form alone: sums and
    products of numbers, symbols, bounded functions and clips of such, non-negative
    integer powers (negative ones of a positive parameter). Not ``exp(y)`` (inf at 1000), ``1/y**2`` (inf at 1e-300), ``log`` or a
    fractional power (NaN below 0). A select that drops a branch drops its inf; a sum or
    product that multiplies it by 0 makes NaN, so the rules below that turn a select into
    arithmetic multiply only such factors by the clamped 0.

    >>> x, y = sp.symbols("x y", real=True)
    >>> _finite_by_form(x**2*sp.tanh(y) + sp.Max(0, x)), _finite_by_form(x*sp.exp(y))
    (True, False)
    """
    from .stable_functions import sigmoid
    if e.is_Number:
        return bool(e.is_finite)
    if e.is_Symbol:
        return True
    if e.is_Pow:        # 1/alpha for a positive parameter, not 1/y
        return bool(e.exp.is_Integer and (e.exp >= 0 or e.base.is_Symbol and e.base.is_positive)
                    ) and _finite_by_form(e.base)
    if e.is_Add or e.is_Mul or isinstance(e, (sp.Min, sp.Max, sp.Abs, sigmoid, *_BOUNDED)):
        return all(_finite_by_form(a) for a in e.args)
    return False


def _finite_apart_from(e, s) -> bool:
    """Whether every largest part of ``e`` free of ``s`` is :func:`_finite_by_form`: what
    multiplies a term of s that a clamp makes 0 (``exp(y)`` in ``x*exp(y)`` at x = 0)."""
    if not e.has(s):
        return _finite_by_form(e)
    return all(_finite_apart_from(a, s) for a in e.args)


def _clip(e: sp.Expr) -> sp.Expr:
    """``Piecewise((c, s >= c), (v, True))`` → ``Min(v, c)`` and ``(c, s <= c)`` → ``Max(v, c)``
    for a number c (kept only if proven): a clip is one pass, a select a branch per element.

    >>> x = sp.Symbol("x", real=True)
    >>> _clip(sp.Piecewise((-1, x <= -1), (sp.Piecewise((1, x >= 1), (x, True)), True)))
    Max(-1, Min(1, x))
    """
    def candidate(p):
        (c, cond), rest = p.args[0], p.args[1:]
        if not (c.is_number and isinstance(cond, sp.core.relational.Relational)
                and cond.rhs == c):
            return p
        other = rest[0][0] if len(rest) == 1 and rest[0][1] == sp.true else sp.Piecewise(*rest)
        if isinstance(cond, (sp.GreaterThan, sp.StrictGreaterThan)):
            return sp.Min(other, c)
        if isinstance(cond, (sp.LessThan, sp.StrictLessThan)):
            return sp.Max(other, c)
        return p
    return e.replace(lambda q: isinstance(q, sp.Piecewise), candidate)


def _sign_clip(e: sp.Expr) -> sp.Expr:
    """``Piecewise((a, cond), (k*sign(w), True))`` (either order, a common factor such as
    ``dout`` taken out, k free of arrays) → ``Max(-|k|, Min(a, |k|))``, kept only if proven:
    the branches meet where ``a`` reaches ±k (smooth L1's gradient ``clip((x - t)/beta, -1,
    1)``, Huber's ``clip(x - t, -delta, delta)``). A clip is one pass where a select on a
    random mask is a mispredicted branch per element (~4 ns, bench/numpy_bench.py).

    >>> x, t, b = sp.Symbol("x", real=True), sp.Symbol("t", real=True), sp.Symbol("beta", positive=True)
    >>> _sign_clip(sp.Piecewise((-sp.sign(t - x), b <= sp.Abs(t - x)), ((x - t)/b, True)))
    Max(-beta, Min(beta, -t + x))/beta
    """
    def candidate(p):
        if len(p.args) != 2 or p.args[1][1] != sp.true:
            return p
        (a, _), (b, _) = p.args
        common = [q for q in sp.Mul.make_args(a) if not q.is_number and q in sp.Mul.make_args(b)]
        f = sp.Mul(*common)
        a, b = sp.cancel(a / f) if common else a, sp.cancel(b / f) if common else b
        for s, other in ((b, a), (a, b)):
            signs = [q for q in sp.Mul.make_args(s) if isinstance(q, sp.sign)]
            if len(signs) != 1:
                continue
            k = s / signs[0]
            if k.has(sp.sign) or not (k.is_positive or k.is_negative) or other.has(sp.Piecewise):
                continue
            big = -k if k.is_negative else k
            # a positive factor of a free of w's arrays goes outside the clip (1/beta: the
            # bounds are then beta, the form the prover takes): exact at the bounds too
            arrays = signs[0].args[0].free_symbols
            c = sp.Mul(*[q for q in sp.Mul.make_args(other)
                         if not q.free_symbols & arrays and q.is_positive])
            return f * c * sp.Max(-big / c, sp.Min(sp.cancel(other / c), big / c))
        return p
    return e.replace(lambda q: isinstance(q, sp.Piecewise), candidate)


def _clipped_select(e: sp.Expr) -> sp.Expr:
    """``Piecewise((g(s), s < k), (h(s), True))`` → ``g(min(s, k)) + h1*max(s - k, 0)``, kept
    only if proven (it holds where the branches meet at s = k: Huber's and smooth L1's
    losses): a bound k free of arrays, g a polynomial of degree <= 2 in s, non-negative,
    h = h0 + h1*s with h1 > 0 (``w**2`` read as ``|w|**2`` for ``s = |w|``). Both terms are
    >= 0, so the sum does not cancel, and below k the second is exactly 0 (``s - min(s, k)``
    would cancel against ``s``). Two clips and a few passes where a select on a random mask
    is a mispredicted branch per element.

    >>> x, t, d = sp.Symbol("x", real=True), sp.Symbol("t", real=True), sp.Symbol("delta", positive=True)
    >>> a = sp.Abs(x - t)
    >>> _clipped_select(sp.Piecewise(((x - t)**2/2, d > a), (d*(a - d/2), True)))
    delta*Max(0, -delta + Abs(t - x)) + Min(delta, Abs(t - x))**2/2
    """
    def fold(p):
        if len(p.args) != 2 or p.args[1][1] != sp.true:
            return p
        (g, cond), (h, _) = p.args
        if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
            k, s = cond.lhs, cond.rhs
        elif isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
            s, k = cond.lhs, cond.rhs
        else:
            return p
        if not (k.is_number or (k.is_Symbol and k.is_positive)) or s.is_number:
            return p
        u = sp.Dummy("s", nonnegative=True) if s.is_nonnegative else sp.Dummy("s", real=True)
        if isinstance(s, sp.Abs):      # |w|**2 is w**2 to SymPy: w**2 -> u**2 directly
            w = s.args[0]
            even = {w**2: u**2, (-w)**2: u**2}
            g, h = g.xreplace(even), h.xreplace(even)
        gu, hu = g.xreplace({s: u}), h.xreplace({s: u})
        if s.free_symbols & (gu.free_symbols | hu.free_symbols):
            return p        # the branches read the arrays other than through s
        try:
            pg, ph = sp.Poly(gu, u), sp.Poly(hu, u)
        except sp.PolynomialError:
            return p
        h1 = ph.coeff_monomial(u)
        if pg.degree() > 2 or ph.degree() != 1 or not h1.is_positive or not gu.is_nonnegative:
            return p
        if not (_finite_apart_from(gu, u) and _finite_apart_from(hu, u)):
            return p        # exp(y)*max(x, 0) is inf*0 = nan at x < 0, y = 1000
        return gu.xreplace({u: sp.Min(s, k)}) + h1 * sp.Max(s - k, 0)
    return e.replace(lambda q: isinstance(q, sp.Piecewise), fold)


def _at_zero(p):
    """``(a, cond, b, s, a_side, b_side)`` for ``Piecewise((a, s op 0), (b, True))`` with s
    a symbol and op one of ``> >= < <=``: ``b_side(s, 0)`` is s clamped into the region
    where b is used (``Min`` for ``s > 0``, ``Max`` for ``s < 0``), ``a_side(s, 0)`` into
    a's. None for any other select. The rules below that split a select at 0 share it."""
    if len(p.args) != 2 or p.args[1][1] != sp.true:
        return None
    (a, cond), (b, _) = p.args
    if not isinstance(cond, sp.core.relational.Relational) or cond.rhs != 0 \
            or not cond.lhs.is_Symbol:
        return None
    if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
        return a, cond, b, cond.lhs, sp.Max, sp.Min
    if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
        return a, cond, b, cond.lhs, sp.Min, sp.Max
    return None


def _clamp_branches(e: sp.Expr) -> sp.Expr:
    """In Piecewise((a, s > 0), (b, True)) evaluate b's exp at min(s, 0): b is only used
    there; with ``s < 0`` (or ``<=``) at max(s, 0). So the branch the select drops cannot
    overflow (``where(x <= 0, x, 1 - exp(-x))`` at x = -1000 computed exp(1000)).

    >>> x = sp.Symbol("x", real=True)
    >>> _clamp_branches(sp.Piecewise((x, x <= 0), (1 - sp.exp(-x), True)))
    Piecewise((x, x <= 0), (1 - exp(-Max(0, x)), True))
    """
    def clamp(p):
        parts = _at_zero(p)
        if parts is None or not parts[2].has(sp.exp):
            return p
        a, cond, b, s, _, b_side = parts
        b2 = b.replace(lambda q: isinstance(q, sp.exp) and q.args[0].has(s),
                       lambda q: sp.exp(q.args[0].xreplace({s: b_side(s, 0)})))
        return sp.Piecewise((a, cond), (b2, True))
    return e.replace(lambda q: isinstance(q, sp.Piecewise), clamp)


def _branch_sum(e: sp.Expr) -> sp.Expr:
    """``Piecewise((a, s > 0), (b, True))`` → ``a(max(s, 0)) + b(min(s, 0))``, kept when proven
    (both branches vanish at s = 0: ELU's ``max(x, 0) + alpha*expm1(min(x, 0))``): two
    clips and an add, where a select is a mispredicted branch per element.

    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("alpha", positive=True)
    >>> _branch_sum(sp.Piecewise((x, x > 0), (a*x, True)))
    alpha*Min(0, x) + Max(0, x)
    >>> _branch_sum(sp.Piecewise((a*x, x <= 0), (x, True)))
    alpha*Min(0, x) + Max(0, x)
    """
    def split(p):
        parts = _at_zero(p)
        if parts is None:
            return p
        a, _, b, s, a_side, b_side = parts
        if not (_finite_apart_from(a, s) and _finite_apart_from(b, s)):
            return p        # a(0) = 0*exp(y) is nan at y = 1000, where the select drops it
        return a.xreplace({s: a_side(s, 0)}) + b.xreplace({s: b_side(s, 0)})
    return e.replace(lambda q: isinstance(q, sp.Piecewise), split)


def _clamp_select(e: sp.Expr) -> sp.Expr:
    """``Piecewise((a, s > 0), (b(s), True))`` → ``b(min(s, 0))`` (``s < 0``: ``b(max(s, 0))``,
    and the same for ``>=``, ``<=``) when ``a`` (free of s) is
    ``b(0)``, checked here symbolically (so the two agree at s = 0 as well), and kept only
    when :func:`derive.codegen.stable.stable_form` proves the whole rewrite. CELU's
    ``where(out > 0, dout, dout*(1 + out/alpha))`` is ``dout*(1 + min(out, 0)/alpha)``: a
    clip where the select took a compare and a ``putmask`` on a random mask (on s > 0 it
    computes b(0): ``dout*(1 + 0)``, dout exactly here).

    >>> out, d = sp.Symbol("out", real=True), sp.Symbol("dout", real=True)
    >>> a = sp.Symbol("alpha", positive=True)
    >>> _clamp_select(sp.Piecewise((d, out > 0), (d*(1 + out/a), True)))
    dout*(1 + Min(0, out)/alpha)
    >>> _clamp_select(sp.Piecewise((d, out > 0), (d*(a + out), True)))   # b(0) is not a
    Piecewise((dout, out > 0), (dout*(alpha + out), True))
    >>> _clamp_select(sp.Piecewise((d, out <= 0), (d*sp.exp(-out), True)))  # mirrored
    dout*exp(-Max(0, out))
    """
    def clamp(p):
        parts = _at_zero(p)
        if parts is None:
            return p
        a, _, b, s, _, b_side = parts
        if a.has(s) or not b.has(s) or b.has(sp.Piecewise) \
                or sp.expand(b.xreplace({s: 0}) - a) != 0 or not _finite_apart_from(b, s):
            return p
        return b.xreplace({s: b_side(s, 0)})
    return e.replace(lambda q: isinstance(q, sp.Piecewise), clamp)


def _redundant_select(e: sp.Expr) -> sp.Expr:
    """``Piecewise((c, cond), (b, True))`` (c a number) → ``b`` where b is c wherever cond
    holds, proven with no kink allowed (so at the boundary too); tried only when b is c at
    sample points of cond's region. CELU's cached factor ``where(x > 0, 1, exp(min(x, 0)/alpha))``
    is ``exp(min(x, 0)/alpha)``: one exp pass where the select took four more.

    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("alpha", positive=True)
    >>> _redundant_select(sp.Piecewise((1, x > 0), (sp.exp(sp.Min(x, 0)/a), True)))
    exp(Min(0, x)/alpha)
    >>> _redundant_select(sp.Piecewise((1, x > 0), (sp.exp(x/a), True)))
    Piecewise((1, x > 0), (exp(x/alpha), True))
    """
    from ..errors import ProofError
    from ..proof import prove_rewrite
    from .stable_functions import _unfold

    def holds_at_samples(c, cond, b):
        import random
        rng = random.Random(0)
        syms = sorted(b.free_symbols | cond.free_symbols, key=lambda q: q.name)
        seen = 0
        for _ in range(40):
            point = {q: sp.Float(rng.uniform(0.1, 4) if q.is_positive else rng.uniform(-4, 4))
                     for q in syms}
            try:
                if cond.subs(point) != sp.true:
                    continue
            except TypeError:       # arccos(x) < t at x = 2: not real, no sample here
                continue
            seen += 1
            if abs(complex(b.subs(point).evalf(30)) - complex(c)) > 1e-20:
                return False
        return seen >= 3

    def drop(p):
        if len(p.args) != 2 or p.args[1][1] != sp.true:
            return p
        (c, cond), (b, _) = p.args
        if not c.is_number or b.has(sp.Piecewise) or not holds_at_samples(c, cond, b):
            return p
        try:
            prove_rewrite(_unfold(p), _unfold(b), allow_kink=False, what="a select whose branch holds everywhere")
        except ProofError:
            return p
        return b
    return e.replace(lambda q: isinstance(q, sp.Piecewise), drop)
