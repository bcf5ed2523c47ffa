"""Proving two expressions equal, with a numeric cross-check, within a budget.

:func:`compare` returns a :class:`Proof` or a :class:`Counterexample` (or ``None`` when
it can neither prove nor refute); it raises only :class:`~derive.errors.BudgetExceeded`,
when the process-wide deadline (:mod:`derive.budget`) has passed. :func:`prove_equal` is
what the derivation uses: anything short of a proof is a
:class:`~derive.errors.ProofError` (exit 3), "within the time budget" when a bound was
what stopped it.

The numeric cross-check (:mod:`derive.crosscheck`) runs first -- it is cheap and refutes
quickly -- and stands behind every symbolic proof as a second line of defence. Then:

* smooth differences: exact tactics (expand, cancel, rewrite in exp, simplify), each
  skipped on a tree too large for it and stopped when it runs past its time bound;
* kinks in one symbol: the interval method (:mod:`derive.intervals`);
* anything else piecewise -- switches in several inputs (``|x - t| < delta``,
  ``t*x < 1``, ``x < y``), DiracDelta, a domain to respect -- the region method
  (:mod:`derive.regions`), which proves equality wherever both sides are real, off
  switching sets of measure zero; whether the sides agree on those sets too is proven
  on the sets themselves, and when it is not, the kink note says so.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> prove_equal(sp.exp(2*x), sp.exp(x)**2).method   # SymPy writes both as exp(2*x)
'identical'
>>> prove_equal(sp.tanh(x), 1 - 2/(sp.exp(2*x) + 1)).method
'symbolic'
>>> y, dout = sp.symbols("y dout", real=True)
>>> p = prove_equal(sp.Piecewise((dout, x < y), (0, True)), dout*sp.diff(sp.Min(x, y), x))
>>> p.method
'by regions'
>>> print(p.kink_note)     # SymPy's diff gives Heaviside(0) = 1/2 at the tie, this side 0
the two sides may differ only where x - y = 0 (a switching set of measure zero), where the derivative is a convention
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import budget
from .branches import mask_condition, masks_as_selects
from .crosscheck import (Counterexample, as_list, cross_check, numeric_compare, real_lost,
                         sample_value)
from .errors import BudgetExceeded, ProofError
from .feasible import SYMPY_ERRORS
from .intervals import by_cases, decide_signs as _decide_signs, kink_symbols
from .memo import remember, table
from .regions import domain_needs, new_needs, on_switching_set, prove_by_regions, witness
from .sizes import has_any, hold_big_exponents, tree_size
from .switches import kink_point, show_switch, zero_set

__all__ = ["Proof", "Counterexample", "compare", "prove_equal", "numeric_compare",
           "sample_value", "kink_point", "_kink_symbols", "_decide_signs"]

_NONSMOOTH = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.DiracDelta)
_PIECEWISE_NODES = 20_000    # the interval and region methods walk trees: larger ones skip
_kink_symbols = kink_symbols


@dataclass(frozen=True)
class Proof:
    """How two expressions were shown equal."""

    method: str           # "identical" | "symbolic" | "by cases" | "by regions"
    detail: str           # the tactic that closed it, e.g. "the difference cancels to 0"
    points: int           # random points of the numeric cross-check that agreed
    kink_note: str = ""   # where the two differ on a measure-zero set (a kink)
    uses: tuple = ()      # stated facts the proof relied on, as (array name, axis)

    def __str__(self) -> str:
        text = f"{self.method}: {self.detail}; numeric cross-check at {self.points} points"
        return f"{text}; {self.kink_note}" if self.kink_note else text

    def to_dict(self) -> dict:
        return {"method": self.method, "detail": self.detail, "points": self.points,
                "kink_note": self.kink_note}


_INVERSE = {sp.atanh: sp.tanh, sp.asinh: sp.sinh, sp.log: sp.exp}


def _uninvert(d: sp.Expr) -> sp.Expr:
    """``atanh(tanh(u))``, ``asinh(sinh(u))``, ``log(exp(u))`` as ``u``, for real ``u``,
    innermost first (so ``atanh(atanh(tanh(tanh(v))))`` is ``v``).

    Each is an identity for every real u (tanh, sinh and exp are injective on the reals and
    the outer function is their inverse there); SymPy leaves the first two alone.
    """
    if not has_any(d, tuple(_INVERSE)):
        return d
    memo: dict = {}

    def walk(e):
        if not e.args:
            return e
        done = memo.get(e)
        if done is None:
            args = tuple(walk(a) for a in e.args)
            done = e.func(*args) if args != e.args else e
            inner = done.args[0] if done.args else None
            if (type(done) in _INVERSE and isinstance(inner, _INVERSE[type(done)])
                    and inner.args[0].is_extended_real):
                done = inner.args[0]
            memo[e] = done
        return done
    return walk(d)


def _expand_uninverted(d):
    u = _uninvert(d)
    return sp.expand(u) if u != d else d      # nothing to undo: not this tactic's case


# the proof's detail (for a reader: the step's names a, b, ... are not the two sides), a short
# name, the tactic, largest tree it is tried on, seconds it may run
_TACTICS = (
    ("the difference of the two sides expands to 0", "expand", sp.expand, 20_000, 2.0),
    ("the difference of the two sides expands to 0 once f⁻¹(f(u)) is u",
     "expand with f⁻¹(f(u)) = u", _expand_uninverted, 20_000, 2.0),
    ("the difference of the two sides cancels to 0", "cancel",
     lambda d: sp.cancel(sp.together(d)), 3_000, 2.0),
    ("the difference of the two sides, written with exp, cancels to 0",
     "rewrite in exp and cancel", lambda d: sp.cancel(sp.expand(d.rewrite(sp.exp))), 1_500, 3.0),
    ("the difference of the two sides simplifies to 0", "simplify", sp.simplify, 400, 4.0),
)


@dataclass
class _Limits:
    """What a bound stopped (for the message when nothing proved it)."""

    hit: list = field(default_factory=list)
    gave_up: list = field(default_factory=list)   # SymPy errors (not a budget matter)
    no_point: str = ""        # why the cross-check found no point, when it found none

    def add(self, text: str) -> None:
        if text not in self.hit:
            self.hit.append(text)


def _is_zero(d: sp.Expr, limits: _Limits | None = None):
    """The name of the first tactic that reduces ``d`` to 0, or None.

    Two rounds: each tactic first gets a quarter of its time, so that one that blows up
    (expand on a product of many sums) does not hold back a cheaper one that closes it
    (cancel); the tactics that ran out then get their full time, in order.
    """
    limits = limits if limits is not None else _Limits()
    d, _ = hold_big_exponents(d)     # polynomial tactics on exp(p/q*u), huge q: no
    size = tree_size(d)
    slow = []
    for tactic in _TACTICS:
        name, short, _, cap, seconds = tactic
        if size > cap:
            limits.add(f"{short} skipped on {size} nodes > {cap}")
            continue
        outcome = _attempt(d, tactic, seconds / 4)
        if outcome is True:
            return name
        if outcome == "slow":
            slow.append(tactic)
    for tactic in slow:
        outcome = _attempt(d, tactic, tactic[4])
        if outcome is True:
            return tactic[0]
        if outcome == "slow":
            limits.add(f"{tactic[1]} stopped after {tactic[4]:g} s")
    return None


def _is_zero_quick(d):
    """Like :func:`_is_zero` with expand and cancel only, briefly: a cheap first try."""
    if tree_size(d) > 3_000:
        return None
    for tactic in (_TACTICS[0], _TACTICS[2]):
        if _attempt(d, tactic, 0.25) is True:
            return tactic[0]
    return None


def _attempt(d, tactic, seconds):
    """True (proven 0), False (not 0, or SymPy gave up) or 'slow' (ran out of time)."""
    _, short, run, _, _ = tactic
    try:
        with budget.bounded(seconds, short):
            return run(d) == 0
    except budget.TacticTimeout:
        return "slow"
    except SYMPY_ERRORS:
        return False


_WITNESS_SECONDS = 3.0    # a refutation search on a huge tree would eat the whole budget


def _witness(failed, a, b, domain, seed, limits):
    """:func:`~derive.regions.witness`, for at most ``_WITNESS_SECONDS``: on a tree every
    tactic skipped, evaluating 80 points in mpmath took 12 s of a 20 s budget."""
    try:
        with budget.bounded(_WITNESS_SECONDS, "looking for a counterexample"):
            return witness(failed, a, b, domain, seed)
    except budget.TacticTimeout:
        limits.add(f"the counterexample search stopped after {_WITNESS_SECONDS:g} s")
        return None


def compare(a: sp.Expr, b: sp.Expr, *, points: int = 6, seed: int = 0, domain=None):
    """Prove ``a == b`` or refute it; ``None`` when neither works.

    ``domain``: an expression or list of expressions (e.g. the forward formula) that must
    be real and finite at a point for it to count -- the check and the region method then
    say nothing about points outside it. None (the default): no restriction.
    """
    return _compare(a, b, points, seed, domain, _Limits())


_DECIDED = table()    # (a, b, points, seed, domain, depth) -> Proof or Counterexample


def _compare(a, b, points, seed, domain, limits, depth=0):
    """:func:`compare`, remembering what it decided (not what the budget left open)."""
    budget.check("comparing two expressions")
    try:
        key = (a, b, points, seed, tuple(as_list(domain)), depth)
        hash(key)
    except (TypeError, sp.SympifyError):
        key = None
    known = _DECIDED.get(key) if key is not None else None
    if known is not None:
        return known
    result = _compare_once(a, b, points, seed, domain, limits, depth)
    if key is not None and result is not None and getattr(result, "points", 1):
        remember(_DECIDED, key, result)     # never None (undecided), nor a pointless proof
    return result


def _compare_once(a, b, points, seed, domain, limits, depth):
    with budget.ensure_deadline():
        budget.check("comparing two expressions")
        try:
            a, b = sp.sympify(a), sp.sympify(b)
        except (sp.SympifyError, *SYMPY_ERRORS):
            return None
        run = cross_check(a, b, points=points, seed=seed, domain=domain)
        if not run.agreed and depth == 0:
            limits.no_point = run.why_no_point()
        if a == b:
            return Proof("identical", "the same expression", run.agreed)
        if run.counterexample is not None:
            return run.counterexample
        try:
            result = _symbolic(a, b, run.agreed, points, seed, domain, limits, depth)
        except SYMPY_ERRORS as exc:
            limits.gave_up.append(f"SymPy gave up: {type(exc).__name__}: {str(exc)[:120]}")
            result = None
        if result is None and depth == 0 and not budget.expired():
            result = _witness((), a, b, domain, seed + 7, limits)  # unproven: look wider
        return result


def _symbolic(a, b, agreed, points, seed, domain, limits, depth):
    d = a - b
    smooth = not has_any(d, _NONSMOOTH)
    size = tree_size(d)
    if size > _PIECEWISE_NODES and not smooth:
        limits.add(f"the piecewise methods skipped on {size} nodes > {_PIECEWISE_NODES}")
        return None
    if not smooth:      # equal with every switch held as an atom: equal (and cheap)
        held = _hold_switches(d)
        tactic = _is_zero_quick(held) if not has_any(held, _NONSMOOTH) else None
        if tactic is not None:
            return Proof("symbolic", f"{tactic}, each switch held as an atom", agreed)
    if not smooth and depth == 0:
        kinks = kink_symbols(d)
        if len(kinks) == 1:
            split = by_cases(d, kinks, lambda e: _is_zero(e, limits))
            if split is not None:
                detail, note = split
                return Proof("by cases", detail, agreed, _delta_note(d, note))
    tactic = _is_zero(d, limits) if smooth else None
    if tactic is not None:
        return Proof("symbolic", tactic, agreed)
    if smooth and (size > _PIECEWISE_NODES or not domain_needs((a, b, *as_list(domain)))):
        return None      # no switch and no domain to split on: the regions would add nothing
    tried = {d} if smooth else set()
    regions = prove_by_regions(d, lambda e: None if e in tried else _is_zero(e, limits),
                               sides=(a, b), domain=as_list(domain))
    if regions.ok:
        note = _on_switching_sets((a, b), regions.switches, points, seed, domain, limits,
                                  depth)
        return Proof("by regions", regions.detail, agreed, _delta_note(d, note))
    return _witness(regions.failed, a, b, domain, seed, limits)


def _hold_switches(e):
    """``e`` with each outermost switch (Piecewise, Max, Abs, sign ...) a fresh symbol, the
    same one for equal switches: an identity in those symbols holds whatever they are."""
    held: dict = {}

    def walk(x):
        if isinstance(x, sp.Piecewise) and len(x.args) == 2 and x.args[1][1] == sp.true and \
                (x.args[0][0], x.args[1][0]) != (1, 0):
            (v, c), (w, _) = x.args    # v where c, else w: v·[c] + w·[not c], masks as atoms
            masks = [walk(sp.Piecewise((1, k), (0, True))) for k in (c, sp.Not(c))]
            return walk(v) * masks[0] + (walk(w) * masks[1] if w != 0 else 0)
        if mask_condition(x) is not None:    # a mask: one atom per condition, however written
            x = sp.Piecewise((1, _canonical(mask_condition(x))), (0, True))
        if isinstance(x, _NONSMOOTH):
            return held.setdefault(x, sp.Dummy("switch", real=True))
        if not x.args or not isinstance(x, sp.Expr):
            return x
        return x.func(*[walk(a) for a in x.args])
    return walk(e)


def _canonical(c):
    """``a < b`` as ``b - a > 0`` (expanded), so ``x + x**x <= 0`` and ``x <= -x**x`` meet."""
    if isinstance(c, (sp.StrictGreaterThan, sp.GreaterThan)):
        return c.func(sp.expand(c.lhs - c.rhs), 0)
    if isinstance(c, sp.StrictLessThan):
        return sp.StrictGreaterThan(sp.expand(c.rhs - c.lhs), 0)
    if isinstance(c, sp.LessThan):
        return sp.GreaterThan(sp.expand(c.rhs - c.lhs), 0)
    return c


def _delta_note(d, note: str) -> str:
    if note and has_any(d, sp.DiracDelta):
        return note + "; DiracDelta and its derivatives are 0 off that set"
    return note


def _on_switching_sets(sides, switches, points, seed, domain, limits, depth) -> str:
    """'' when the sides are proven equal on every switching set too, else the note."""
    open_sets = [g for g in switches
                 if depth >= 2 or not _equal_on(sides, g, points, seed, domain, limits, depth)]
    if not open_sets:
        return ""
    where = " or ".join(f"{show_switch(g)} = 0" for g in open_sets)
    return (f"the two sides may differ only where {where} (a switching set of measure "
            "zero), where the derivative is a convention")


def _equal_on(sides, g, points, seed, domain, limits, depth) -> bool:
    """The two sides are proven equal on the whole set g = 0 (no exception left there).

    Either g = 0 is solved for a symbol and substituted, or every condition on g is
    decided as it is on the set (g = 0) -- expressions equal to the sides there; either
    proven equal (with no kink of their own) suffices.
    """
    on = zero_set(g)
    tries = [([e.xreplace({on[0]: on[1]}) for e in sides], _on_set(domain, *on))] if on else []
    tries.append(([on_switching_set(e, g) for e in sides], domain))
    for (a0, b0), dom in tries:
        result = _compare(a0, b0, points, seed, dom, limits, depth + 1)
        if isinstance(result, Proof) and not result.kink_note:
            return True
    return False


def _on_set(domain, s, value):
    return [e.xreplace({s: value}) for e in as_list(domain)] or None


def prove_equal(a, b, *, what: str = "step", allow_kink: bool = True, points: int = 6,
                domain=None) -> Proof:
    """A :class:`Proof` that ``a == b``, or a :class:`ProofError` saying why not."""
    limits = _Limits()
    try:
        result = _compare(a, b, points, 0, domain, limits)
    except BudgetExceeded as exc:
        raise BudgetExceeded(f"{what}: {exc}") from None
    if isinstance(result, Proof):
        if result.kink_note and not allow_kink:
            raise ProofError(f"{what}: {result.kink_note}")
        if result.points == 0:
            raise ProofError(f"{what}: no point where the numeric cross-check could "
                             f"evaluate both sides ({limits.no_point})")
        return result
    if isinstance(result, Counterexample):
        raise ProofError(f"{what}: not equal, {result}")
    if limits.hit:
        raise BudgetExceeded(f"{what}: could not prove within the time budget "
                             f"({'; '.join(limits.hit[:3])})")
    why = f" ({limits.gave_up[0]})" if limits.gave_up else ""
    raise ProofError(f"{what}: could not prove {_brief(a)} == {_brief(b)}{why}")


def prove_rewrite(before, after, *, what: str = "rewrite", allow_kink: bool = True) -> Proof:
    """:func:`prove_equal` for ``after`` replacing ``before`` in code: also refuses an
    ``after`` that needs more to be real than ``before`` does (a log's argument > 0, a
    root's >= 0; :func:`derive.regions.new_needs`), since the prover compares two sides
    only where both are defined. A product with a mask is read as the select it is in the
    code (:func:`derive.branches.masks_as_selects`).

    >>> x = sp.Symbol("x", real=True)
    >>> prove_rewrite(sp.Piecewise((0, x < 0), (x*sp.log(x), True)), x*sp.log(x))
    Traceback (most recent call last):
    ...
    derive.errors.ProofError: rewrite: needs x > 0, which the form it replaces does not
    """
    before, after = masks_as_selects(before), masks_as_selects(after)
    needs = new_needs(after, before)
    if needs:
        raise ProofError(f"{what}: needs {', '.join(map(str, needs))}, which the form it "
                         "replaces does not")
    lost = real_lost(sp.sympify(before), sp.sympify(after))
    if lost is not None:
        raise ProofError(f"{what}: not real {lost.point}, where the form it replaces is")
    return prove_equal(before, after, what=what, allow_kink=allow_kink)


def _brief(e) -> str:
    size = tree_size(e, cap=5000)
    if size >= 2000:
        return f"<an expression of {size}{'+' if size >= 5000 else ''} nodes>"
    text = str(e)
    return text if len(text) <= 400 else text[:400] + "…"
