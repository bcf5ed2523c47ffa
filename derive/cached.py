"""Cached-form rewrite: the final gradient in terms of what a layer caches.

Candidates are built generally, never looked up per layer:

* **out**: invert ``out = f(x)`` with the rule table's inverses (branch by branch
  for piecewise layers) and substitute, or, for masks and branches, read the
  condition on ``out`` instead of ``x`` (right when f keeps the sign);
* **x**: substitute ``out = f(x)`` and simplify;
* **mixed**: simplify the chain-rule result as it stands.

Every candidate must be proven equal to the chain-rule result; the cheapest
proven one wins, ``out`` winning ties (backward then runs on the cache alone).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .errors import ProofError
from .graph import _FUNCTIONS
from .proof import Proof, compare
from .rules import RULES
from .steps import out

_WEIGHTS = {"ADD": 1, "SUB": 1, "MUL": 1, "NEG": 1, "DIV": 2, "POW": 2, "EXP": 8, "LOG": 8,
            "TANH": 8, "ERF": 12, "ABS": 1, "SIGN": 1, "MAX": 1, "PIECEWISE": 2, "GT": 1,
            "GE": 1, "LT": 1, "LE": 1, "SQRT": 4, "ATANH": 10, "COSH": 8, "SINH": 8}


_SIMPLIFY_BUDGET = 24


def cost(e: sp.Expr) -> int:
    """A rough price of evaluating ``e`` elementwise (transcendentals are dear)."""
    ops = sp.count_ops(e, visual=True)
    if ops == 0:
        return 0
    return int(ops.xreplace({s: _WEIGHTS.get(s.name, 4) for s in ops.free_symbols}))


def invert(f: sp.Expr, x: sp.Symbol, target: sp.Expr):
    """Solve ``target = f(x)`` for x by walking f with the rule table's inverses; None if stuck.

    >>> x, y = sp.symbols("x y", real=True)
    >>> invert(1/(1 + sp.exp(-x)), x, y)
    -log(-1 + 1/y)
    """
    while f != x:
        if f.is_Add or f.is_Mul:
            const = f.func(*[a for a in f.args if x not in a.free_symbols])
            rest = f.func(*[a for a in f.args if x in a.free_symbols])
            if const == (0 if f.is_Add else 1):
                return None
            target = target - const if f.is_Add else target / const
            f = rest
        elif f.is_Pow and x not in f.exp.free_symbols:
            rule = "reciprocal" if f.exp == -1 else "pow"
            target, f = RULES[rule].inverse_at(target, f.exp), f.base
        elif f.is_Pow and x not in f.base.free_symbols:
            target, f = RULES["cpow"].inverse_at(target, f.base), f.exp
        elif type(f) in _FUNCTIONS and RULES[_FUNCTIONS[type(f)]].inverse is not None:
            target, f = RULES[_FUNCTIONS[type(f)]].inverse_at(target), f.args[0]
        else:
            return None
    return target


def tidy(e: sp.Expr) -> sp.Expr:
    """The cheapest of a few standard simplifications of ``e``."""
    e = sp.piecewise_fold(e) if e.has(sp.Piecewise) else e
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(tidy(v), cnd) for v, cnd in e.args])
    if e.is_Mul and any(isinstance(a, sp.Piecewise) for a in e.args):
        return sp.piecewise_fold(sp.Mul(*[tidy(a) for a in e.args]))
    options = [e, sp.factor(e)]
    if sp.count_ops(e) <= _SIMPLIFY_BUDGET:  # simplify is slow on big trees, and gains little
        options.append(sp.simplify(e))
        options.append(sp.factor(options[-1]))
    known = _functions(e)
    options = [o for o in options if _functions(o) <= known]  # no cosh out of exp
    return min(options, key=lambda o: (cost(o), len(str(o))))


def _functions(e) -> set:
    return {type(f) for f in e.atoms(sp.Function)}


@dataclass(frozen=True)
class Candidate:
    """A route from the chain-rule result to a cached form, as (rule, expr, note) moves."""

    cache: str        # "out", "x" (the inputs) or "mixed"
    moves: tuple
    proof: Proof

    @property
    def expr(self) -> sp.Expr:
        return self.moves[-1][1]


def candidates(g0: sp.Expr, forward: sp.Expr, x: sp.Symbol, inputs) -> list:
    """All proven routes for the gradient ``g0`` of input ``x``."""
    unfolded = g0.xreplace({out: forward})
    routes = []
    if x in forward.free_symbols and len(inputs) == 1:
        routes += _out_routes(g0, unfolded, forward, x)
    via = [("substitute out", unfolded, "out = " + str(forward))] if g0.has(out) else []
    routes.append(("x", via + [("simplify", tidy(unfolded), "")]))
    if g0.has(out):
        routes.append(("mixed", [("simplify", tidy(g0), "")]))
    kept = []
    for cache, moves in routes:
        final = moves[-1][1]
        if cache == "out" and final.free_symbols & set(inputs):
            continue
        proof = compare(final.xreplace({out: forward}), unfolded)
        if isinstance(proof, Proof) and not proof.kink_note:
            kept.append(Candidate(cache, tuple(_drop_repeats(g0, moves)), proof))
    return kept


def _drop_repeats(start, moves):
    prev, kept = start, []
    for m in moves:
        if m[1] != prev:
            kept.append(m)
            prev = m[1]
    return kept or [moves[-1]]


def _out_routes(g0, unfolded, forward, x):
    routes = []
    g = invert(forward, x, out)
    if g is not None:
        moved = g0.xreplace({x: g})
        routes.append(("out", [("invert", moved, f"{x} = {g}, from out = {forward}"),
                               ("simplify", tidy(moved), "")]))
    folded = tidy(unfolded)
    if isinstance(folded, sp.Piecewise):
        branchwise = _branchwise(folded, forward, x)
        if branchwise is not None:
            routes.append(("out", [("invert branches", branchwise,
                                    "each branch inverted; conditions read on out"),
                                   ("simplify", tidy(branchwise), "")]))
    swapped = folded.xreplace({x: out})
    routes.append(("out", [("read on out", swapped,
                            f"out > 0 exactly where {x} > 0, so the condition can be read on out")]))
    return routes


def _branchwise(g: sp.Piecewise, forward: sp.Expr, x):
    """Invert each branch of a piecewise layer where the gradient needs x there."""
    if not isinstance(forward, sp.Piecewise):
        return None
    by_cond = {cnd: val for val, cnd in forward.args}
    pieces = []
    for val, cnd in g.args:
        if x in val.free_symbols:
            fval = by_cond.get(cnd) if cnd != sp.true else forward.args[-1][0]
            inv = invert(fval, x, out) if fval is not None else None
            if inv is None:
                return None
            val = val.xreplace({x: inv})
        pieces.append((val, cnd.xreplace({x: out})))
    return sp.Piecewise(*pieces)


def choose(cands: list) -> Candidate:
    """The cheapest proven candidate; a cache-only (out) form wins ties."""
    rank = {"out": 0, "x": 1, "mixed": 2}
    if not cands:      # every route was refuted or ran out of the prover's budget
        raise ProofError("could not prove any cached form equal to the chain-rule gradient")
    return min(cands, key=lambda k: (cost(k.expr), rank[k.cache], len(str(k.expr))))
