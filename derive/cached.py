"""Cached-form rewrite: a gradient in terms of what a layer caches.

Candidates are built generally, never looked up per layer:

* **out**: invert ``out = f(x)`` with the rule table's inverses (branch by branch
  for piecewise layers) and substitute, or, for masks and branches, read the
  condition on ``out`` instead of ``x`` (right when f keeps the sign);
* **x**: substitute ``out = f(x)`` and simplify;
* **mixed**: simplify the chain-rule result as it stands;
* **index** (tensor layers): the gradient in index form, rewritten through the layer's
  named values (``xc = xn·std``, ``e = out·S``) and stated facts, back in matrix form
  (:mod:`derive.tensor_cached`).

Every candidate must be proven equal to the chain-rule result; the cheapest proven one
wins, ``out`` winning ties (backward then runs on the cache alone). In a tensor layer
the elementwise part above a structural node is rewritten the same way before the
gradient passes through it (``tanh(x @ W + b)`` gives ``dout*(1 - out**2)`` first).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .branches import prune_branches
from .errors import ProofError
from .proof import Proof, compare
from .regions import new_needs
from .rules import RULES, UNARY, cost
from .rules import diff as rules_diff
from .sizes import hold_big_exponents
from .steps import dout as dout_scalar
from .steps import out as out_scalar

_SIMPLIFY_BUDGET = 24
_FOLD_LIMIT = 4         # Piecewise nodes beyond which tidy leaves the branches as they are


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
            if f.is_Mul and not const.is_nonzero:     # dividing by it would not be an identity
                return None
            target = target - const if f.is_Add else target / const
            f = rest
        elif f.is_Pow and x not in f.exp.free_symbols:
            rule = "reciprocal" if f.exp == -1 else "pow"
            target, f = RULES[rule].inverse_at(target, f.exp), f.base
        elif f.is_Pow and x not in f.base.free_symbols:
            target, f = RULES["cpow"].inverse_at(target, f.base), f.exp
        elif type(f) in UNARY and RULES[UNARY[type(f)]].inverse is not None:
            target, f = RULES[UNARY[type(f)]].inverse_at(target), f.args[0]
        else:
            return None
    return target


@lru_cache(maxsize=8192)
def tidy(e: sp.Expr) -> sp.Expr:
    """The cheapest of a few standard simplifications of ``e`` (memoised: a pure function)."""
    if e.count(sp.Piecewise) > _FOLD_LIMIT:
        return e            # folding nested branches costs exponentially in their number
    e = sp.piecewise_fold(e) if e.has(sp.Piecewise) else e
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(tidy(v), cnd) for v, cnd in e.args])
    if e.is_Mul and any(isinstance(a, sp.Piecewise) for a in e.args):
        return sp.piecewise_fold(sp.Mul(*[tidy(a) for a in e.args]))
    held, back = hold_big_exponents(e)      # exp(p/q*u) with 30-digit q: no polynomials
    options = [held, sp.factor(held)]
    if sp.count_ops(held) <= _SIMPLIFY_BUDGET:  # simplify is slow on big trees, gains little
        options.append(sp.simplify(held))
        options.append(sp.factor(options[-1]))
    options = [o.xreplace(back) for o in options]
    known = _functions(e)
    options = [o for o in options if _functions(o) <= known]  # no cosh out of exp
    if not _opposed_exps(e):        # exp(u)*exp(-u): inf*0 = nan where u > 709 in floats
        options = [o for o in options if not _opposed_exps(o)]
    return min(options, key=lambda o: (cost(o), len(str(o))))


def _functions(e) -> set:
    return {type(f) for f in e.atoms(sp.Function)}


def _opposed_exps(e) -> bool:
    """``e`` has ``exp(u)`` and ``exp(v)`` with ``u + v`` a number: a form that overflows
    and underflows at once (simplify's ``(sqrt(pi)*x*exp(x**2) + 2*erf(x))*exp(-x**2)``).

    >>> x = sp.Symbol("x", real=True)
    >>> _opposed_exps((x*sp.exp(x**2) + 1)*sp.exp(1 - x**2)), _opposed_exps(sp.exp(-x**2))
    (True, False)
    """
    args = [f.args[0] for f in e.atoms(sp.exp)]
    return any((u + v).is_number for i, u in enumerate(args) for v in args[:i])


@dataclass(frozen=True)
class Candidate:
    """A route from the chain-rule result to a cached form, as (rule, expr, note) moves."""

    cache: str        # "out", "x" (the inputs), "mixed" or "index"
    moves: tuple
    proof: Proof

    @property
    def expr(self) -> sp.Expr:
        return self.moves[-1][1]


def candidates(g0: sp.Expr, forward: sp.Expr, x: sp.Symbol, inputs, out=out_scalar) -> list:
    """The cheapest proven route for the gradient ``g0`` of input ``x`` (``out`` is the
    output), as a list of at most one: the routes are ranked as :func:`choose` ranks them
    and proven in that order, so the dearer ones are never proven."""
    unfolded = g0.xreplace({out: forward})
    routes = []
    if x in forward.free_symbols and len(inputs) == 1 and \
            unfolded.count(sp.Piecewise) <= _FOLD_LIMIT:
        routes += _out_routes(g0, unfolded, forward, x, out)
    via = [("substitute", unfolded, "put in the forward formula", (out, forward))] \
        if g0.has(out) else []
    routes.append(("x", via + [("simplify", tidy(unfolded), "")]))
    if g0.has(out):
        routes.append(("mixed", [("simplify", tidy(g0), "")]))
    ranked = []
    for cache, moves in routes:
        final = moves[-1][1]
        pruned = prune_branches(final)
        if pruned != final:
            moves = [*moves, ("prune branches", pruned,
                              "branches that cannot be taken and conditions already decided "
                              "removed")]
            final = pruned
        if cache == "out" and final.free_symbols & set(inputs):
            continue
        ranked.append(((cost(final), _RANK[cache], len(str(final))), cache, moves, final))
    for _, cache, moves, final in sorted(ranked, key=lambda r: r[0]):
        try:
            written = final.xreplace({out: forward})
            if new_needs(written, unfolded):
                continue    # undefined where the gradient is defined: the prover cannot see it
            proof = compare(written, unfolded)
        except TypeError:   # SymPy cannot compare a value that is not real (arccos(2) < 0)
            continue
        if isinstance(proof, Proof) and not proof.kink_note:
            return [Candidate(cache, tuple(_drop_repeats(g0, moves)), proof)]
    return []


def _show(e) -> str:
    from .render.printers import text
    return text(e)


def _drop_repeats(start, moves):
    prev, kept = start, []
    for m in moves:
        if m[1] != prev:
            kept.append(m)
            prev = m[1]
    return kept or [moves[-1]]


def _out_routes(g0, unfolded, forward, x, out):
    routes = []
    g = invert(forward, x, out)
    if g is not None:
        moved = g0.xreplace({x: g})
        routes.append(("out", [("invert", moved, "solve the forward formula for the input",
                                (x, g)), ("simplify", tidy(moved), "")]))
    folded = tidy(unfolded)
    if isinstance(folded, sp.Piecewise):
        branchwise = _branchwise(folded, forward, x, out)
        if branchwise is not None:
            routes.append(("out", [("invert branches", branchwise,
                                    "each branch solved for the input; conditions read on y"),
                                   ("simplify", tidy(branchwise), "")]))
    swapped = folded.xreplace({x: out})
    routes.append(("out", [("read on out", swapped,
                            f"y > 0 exactly where {x} > 0, so the condition can be read on y")]))
    return routes


def _branchwise(g: sp.Piecewise, forward: sp.Expr, x, out):
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


_RANK = {"out": 0, "index": 1, "x": 2, "mixed": 3}


def choose(cands: list) -> Candidate:
    """The cheapest proven candidate; a cache-only (out) form wins ties."""
    if not cands:      # every route was refuted or ran out of the prover's budget
        raise ProofError("could not prove any cached form equal to the chain-rule gradient")
    return min(cands, key=lambda k: (cost(k.expr), _RANK[k.cache], len(str(k.expr))))


# ---- applying it: a layer's result, and the gradient above a structural node ---------------

def _record_moves(rec, moves, target, prev):
    """Record each (rule, expr, note[, using]) move against the line before; the last expr."""
    for rule, expr, note, *using in moves:
        rec.record("rewrite", rule, "out", target, expr, reference=prev, note=note,
                   against="the previous line", allow_kink=False,
                   what=f"rewriting ∂L/∂{target} ({rule})", using=using[0] if using else ())
        prev = expr
    return prev


def _student_moves(best, g0, forward):
    """The chosen route written in small steps (:mod:`derive.algebra`): the book's
    factorisation when the cached form is in out, each "simplify" multiplied out and
    factored otherwise; every move checked before it is used, else the route as found."""
    from .algebra import book_route, plain, small_steps
    route = book_route(g0, best.expr, forward, out_scalar) if best.cache == "out" else None
    if route is None:
        route, prev = [], g0
        for rule, expr, note, *using in best.moves:
            if plain(expr) == plain(prev):
                continue
            route += small_steps(prev, expr) if rule == "simplify" else \
                [(rule, expr, note, *using)]
            prev = expr
    start = g0.xreplace({out_scalar: forward})
    for _, expr, *_ in route:
        if not isinstance(compare(plain(expr).xreplace({out_scalar: forward}), start), Proof):
            return best.moves
    return route


def rewrite_result(rec, spec, graph, x, g0):
    """Record the moves to the chosen cached form of ∂L/∂x, then prove it against the whole
    forward; return (result, which form)."""
    if rec.context is not None:
        from .tensor_cached import tensor_result
        return tensor_result(rec, spec, graph, x, g0)
    reference = dout_scalar * rules_diff(spec.forward, x)
    named = {s: v for s, v in rec.definitions.items() if g0.has(s)}
    if named:        # the exported code caches inputs and out: the statements are written out
        from .render.printers import text
        g1 = g0.xreplace(rec.definitions)
        rec.record("rewrite", "substitute", "out", x.name, g1, reference=g0,
                   note=", ".join(f"{s} = {text(v)}" for s, v in named.items()),
                   against="the previous line", what=f"rewriting ∂L/∂{x.name} (substitute)")
        g0 = g1
    cands = candidates(g0, spec.forward, x, spec.inputs) if g0 != 0 else []
    # no form proven equal everywhere but at no kink: the chain-rule result stays as it is
    best = choose(cands) if cands else None
    prev = g0 if best is None else _record_moves(
        rec, _student_moves(best, g0, spec.forward), x.name, g0)
    rec.record("result", "result", "out", x.name, prev, reference=reference,
               against="sympy.diff of the forward formula",
               what=f"∂L/∂{x.name} against sympy.diff of the forward formula",
               note="; ".join(spec.notes))
    return prev, (best.cache if best else "x")


def boundary_rewrite(rec, spec, graph, node, g):
    """∂L/∂node in cached form before it passes through the structural ``node``: through
    the elementwise part above it, or (when the gradient holds sums) in index form."""
    from .tensor_cached import boundary_form, elementwise_candidates
    cands = elementwise_candidates(g, spec, graph, node)
    if cands:
        best = choose(cands)
        if best.expr != g and cost(best.expr) < cost(g):
            return _record_moves(rec, best.moves, node.name, g)
    moved = boundary_form(rec, spec, graph, node, g)
    return g if moved is None else moved
