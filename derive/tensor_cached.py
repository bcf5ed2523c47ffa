"""The cached-form rewrite for tensor layers, and the proof of a tensor result.

Two kinds of candidates, every one proven equal to the chain-rule result:

* **elementwise**: where everything between a value A and the output is elementwise,
  out = f(A) per element, and the scalar rewrite of :mod:`derive.cached` applies with A
  (and every structural value) held as a real number;
* **index**: the gradient in index form, rewritten through the layer's named values —
  each definition ``v = f(a, ...)`` solved for an operand with the rule table's inverses
  (``out = e/S`` gives ``e = out·S``, ``xn = xc/std`` gives ``xc = xn·std``) — and the
  facts about sums of named values (``Σ_n xn = 0``, proven from the definitions), then
  put back into matrix form by :mod:`derive.translate`.
"""
from __future__ import annotations

from itertools import combinations

import sympy as sp

from . import index
from .backward import _elementwise_above
from .cached import Candidate, _record_moves, candidates, choose, invert
from .rules import cost
from .errors import DeriveError, ProofError
from .indexform import IndexFormError, element, expand_definitions, free_indices, fresh
from .proof import Proof
from .tensor import Structural, array, shape_of
from .tensor_tidy import tidy_forms
from .tensorproof import numeric_compare, prove_tensor


def _hold(exprs):
    """Atomize structural values; return (held exprs, back-substitution)."""
    found = {}

    def hold(e):
        if isinstance(e, Structural):
            if e not in found:
                found[e] = sp.Dummy(f"A{len(found)}", real=True)
            return found[e]
        if e.is_Atom or not e.args:
            return e
        return e.func(*[hold(a) for a in e.args])
    held = [hold(e) for e in exprs]
    return held, {v: k for k, v in found.items()}


def elementwise_candidates(g, spec, graph, node) -> list:
    """Cached forms of ∂L/∂node through the elementwise part between node and the output."""
    if node.id not in _elementwise_above(graph) or node.id == graph.output:
        return []
    A = sp.Dummy("A", real=True)
    f = graph.value({node.id: A})
    display = node.expr
    named = {v: array(n, shape_of(v)) for n, v in spec.statements}
    folded = display.xreplace(named) if named else display
    g_a = g.xreplace({folded: A, display: A})
    out = spec.out
    (f_h, g_h), back = _hold([f, g_a])
    found = candidates(g_h, f_h, A, [A], out=out)
    undo = {**back, A: folded}
    kept = []
    for cand in found:
        moves = tuple((rule, expr.xreplace(undo), note) for rule, expr, note in cand.moves)
        kept.append(Candidate(cand.cache, moves, cand.proof))
    return kept


def layer_symbols(spec) -> dict:
    """name -> symbol of every name a gradient may read (statements with their signs)."""
    symbols = dict(spec.symbols())
    return {n: v for n, v in symbols.items() if isinstance(v, sp.Symbol) and not (
        v.is_integer and v.is_positive and not isinstance(v, sp.Dummy) and n not in
        {s.name for s in (*spec.differentiable, *spec.consts, *spec.params)})}


def _solutions(spec) -> dict:
    """operand symbol -> its value solved from a statement's definition (e = out·S).

    Each statement ``v = f(a, ...)`` written in the earlier names is solved for each of
    its named operands with the rule table's inverses; the output counts as a statement.
    """
    program = list(spec.program)
    if spec.output is not None:
        program.append((spec.out, spec.output))
    named = {s for s, _ in program}
    solved = {}
    for symbol, value in program:
        for operand in sorted(value.free_symbols & named, key=lambda q: q.name):
            if operand in solved or operand == symbol:
                continue
            inv = invert(value, operand, symbol)
            if inv is not None and operand not in inv.free_symbols:
                solved[operand] = inv
    return solved


def _index_candidates(g0, spec, rules) -> list:
    """Candidates through the statements' inverses: substituted per element and in index
    form (with the facts about sums), back in matrix form."""
    from .translate import TranslateError, to_matrix
    idx = free_indices(shape_of(g0))
    symbols = layer_symbols(spec)
    solved = _solutions(spec)
    options = [()] + [(k,) for k in solved] + list(combinations(solved, 2))
    out = []
    for chosen in options:
        subs = {k: solved[k] for k in chosen}
        note = "; ".join(f"{k} = {_show(v)}" for k, v in subs.items())
        moved = g0.xreplace(subs) if subs else g0
        if subs:
            out.append(("index", [("in cached values", moved, note)]))
        try:
            norm = index.canonical(element(moved, idx), rules)
            matrix = to_matrix(norm, idx, symbols, len(idx))
        except (IndexFormError, TranslateError, DeriveError):
            continue
        out.append(("index", [("in cached values", matrix, note or "canonical form")]))
    return out


def _show(e) -> str:
    from .render.printers import text
    return text(e)


def _facts(spec) -> dict:
    """{(name, axis): value} for named values whose sum over an axis is a constant."""
    found = {}
    named = dict(spec.statements)
    named["out"] = spec.forward
    for name, value in named.items():
        shape = shape_of(value)
        for axis, size in enumerate(shape):
            if size == 1:
                continue
            k = fresh("k")
            rest = list(free_indices(shape))
            rest[axis] = k
            try:
                total = sp.Sum(element(value, tuple(rest)), (k, 0, size - 1))
                norm = index.canonical(total)
            except (IndexFormError, DeriveError):
                continue
            if not norm:
                found[(name, axis)] = 0
            elif len(norm) == 1:
                (coeff, free, rep), = norm.values()
                if not rep.factors and not rep.bounds and coeff.is_number:
                    found[(name, axis)] = coeff
    return found


def tensor_result(rec, spec, graph, x, g0):
    """Choose, record and prove the cached form of ∂L/∂x of a tensor layer.

    The candidates are ranked by cost first and proven in that order, so only the
    winner (and the cheaper candidates that fail) is proven.
    """
    facts = _facts(spec)
    ctx = _with_rules(rec.context, {**rec.context.rules, **facts})
    node = next(n for n in graph.nodes if n.op == "input" and n.expr == x)
    proven = list(elementwise_candidates(g0, spec, graph, node))
    routes = _index_candidates(g0, spec, ctx.rules)
    routes += [("mixed", [("tidy", form, "")]) for form in tidy_forms(g0)[1:]]
    pending, seen = [], {g0}
    for cache, moves in routes:
        for form in tidy_forms(moves[-1][1]):
            if form not in seen:
                seen.add(form)
                pending.append((cache, tuple(moves[:-1]) + ((moves[-1][0], form, moves[-1][2]),)))
    best = choose(proven) if proven else None
    chain = Candidate("mixed", (("chain rule", g0, ""),), Proof("identical", "", 1))
    limit = min(cost(best.expr), cost(g0)) if best else cost(g0)
    for cache, moves in sorted(pending, key=lambda cm: (cost(cm[1][-1][1]), len(str(cm[1][-1][1])))):
        if cost(moves[-1][1]) >= limit:
            break
        try:
            proof = prove_tensor(moves[-1][1], g0, ctx, what="cached form")
        except ProofError:
            continue
        best = Candidate(cache, moves, proof)
        break
    if best is None or cost(best.expr) >= cost(g0):
        best = chain
    for fact in _facts_used(best.expr, g0, ctx, facts):
        _record_fact(rec, spec, fact, facts[fact])
    prev = g0
    if best.expr != g0:
        prev = _record_moves_tensor(rec, best, x.name, g0, ctx)
    _record_result(rec, spec, x, prev)
    return prev, best.cache


def _facts_used(mine, g0, ctx, facts) -> list:
    """The facts without which ``mine == g0`` has no index proof."""
    if not facts or mine == g0:
        return []
    idx = free_indices(shape_of(g0))
    try:
        a = expand_definitions(element(mine, idx), {})
        b = element(g0, idx)
        base = {k: v for k, v in ctx.rules.items() if k not in facts}
        if not index.difference(a, b, base):
            return []
        return [f for f in facts
                if index.difference(a, b, {k: v for k, v in ctx.rules.items() if k != f})]
    except (IndexFormError, DeriveError):
        return []


def _with_rules(ctx, rules):
    from dataclasses import replace
    return replace(ctx, rules=dict(rules))


def _record_moves_tensor(rec, best, target, prev, ctx):
    saved = rec.context
    rec.context = ctx
    try:
        return _record_moves(rec, best, target, prev, target)
    finally:
        rec.context = saved


def _record_fact(rec, spec, fact, value):
    name, axis = fact
    shape = shape_of(dict(spec.statements).get(name, spec.forward))
    from .tensor import AxisSum
    total = AxisSum(array(name, shape), 0, axis)
    rec.record("fact", "fact", name, name, sp.Integer(value), reference=total,
               against=f"the definition of {name}", what=f"Σ {name} over axis {axis}",
               note=f"Σ {name} over axis {axis} = {value}", shape=shape_of(total))


def whole_forward_reference(spec, x):
    """SymPy's derivative of Σ dout·forward with respect to x[idx], in index form."""
    from .indexform import vjp_reference
    idx, reference, _ = vjp_reference(spec.forward, x, upstream_name="dout")
    return idx, reference


def _record_result(rec, spec, x, result):
    """The result against SymPy's derivative of the whole forward, in index form; where the
    canonical form cannot decide (an elementwise identity such as σ·e^(−h) = 1 − σ under a
    sum, or a kink), the steps above prove it and finite differences cross-check it."""
    ctx = rec.context
    what = f"∂L/∂{x.name} against the derivative of the whole forward"
    used = ("; assuming " + "; ".join(t for *_, t in spec.assume)) if spec.assume else ""
    try:
        idx, reference = whole_forward_reference(spec, x)
        mine = expand_definitions(element(result, idx), ctx.definitions)
        same = not index.difference(mine, reference, dict(ctx.rules))
    except (IndexFormError, DeriveError):
        same = False
    if same:
        points, _ = numeric_compare(result, result, ctx)
        proof = Proof("index form (all sizes)", "same canonical form as SymPy's derivative of "
                      f"Σ dout·out with respect to {x.name}{used}", points)
    else:
        points = _fd_points(spec, x, result, ctx)
        proof = Proof("by the steps above", "each step above is proven; central finite "
                      f"differences of the whole forward agree{used}", points)
    rec.record("result", "result", "out", x.name, result, proof=proof,
               against="the whole forward", what=what, note="; ".join(spec.notes),
               shape=shape_of(x))


def _fd_points(spec, x, result, ctx) -> int:
    import numpy as np

    from .evaluate import evaluate, names_of, random_env
    from .tensorproof import _dims, check_sizes
    names = names_of(spec.forward, ctx.unfold(result), spec.dout)
    rng = np.random.default_rng(3)
    checked = 0
    for sizes in check_sizes(_dims(spec.forward, x)):
        env = random_env(names, sizes, rng, positive=ctx.positive)
        full = {**env}
        got = np.broadcast_to(evaluate(ctx.unfold(result), full), np.shape(env[x.name]))
        base = np.array(env[x.name], dtype=np.float64)
        h = 1e-6
        for i in list(np.ndindex(base.shape))[:12]:
            up, down = base.copy(), base.copy()
            up[i] += h
            down[i] -= h
            f = [float(np.sum(env["dout"] * evaluate(spec.forward, {**env, x.name: v})))
                 for v in (up, down)]
            fd = (f[0] - f[1]) / (2 * h)
            if abs(fd - got[i]) > 1e-5 * (1 + abs(fd)):
                raise ProofError(f"∂L/∂{x.name}: finite differences disagree at {sizes}, "
                                 f"index {i}: {got[i]} vs {fd}")
            checked += 1
    return checked


