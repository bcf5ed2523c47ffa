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
from .algebra import plain
from .cached import Candidate, _record_moves, candidates, choose, invert
from .rules import cost
from .errors import DeriveError, ProofError
from .indexform import IndexFormError, element, expand_definitions, free_indices
from .proof import Proof
from .tensor import Structural, array, shape_of
from .tensor_tidy import tidy_forms
from .tensorproof import hold_structural as _hold, prove_tensor
from .facts import facts_of as _facts, record_facts as _record_facts


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
        moves = tuple((rule, expr.xreplace(undo), *rest) for rule, expr, *rest in cand.moves)
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
        (outer,), back = _hold([value])        # sums held: p = exp(x)/Σexp(x) is F/A
        calls = [f for f in outer.atoms(sp.Function) if not isinstance(f, Structural)
                 and shape_of(f.xreplace(back)) and f.xreplace(back) not in solved
                 and not f.has(symbol)]
        for f in sorted(calls, key=sp.default_sort_key):   # ... so exp(x) = p*Σexp(x)
            held = array("_F", shape_of(f.xreplace(back)))  # (exp(−A[:, :H]) = 1/f − 1)
            inv = invert(outer.xreplace({f: held}), held, symbol)
            if inv is not None and not inv.has(held) and not inv.has(f):
                solved[f.xreplace(back)] = _fold(inv.xreplace(back), spec)
    return solved


def _matrix_form(e, idx, symbols, rules):
    """``e`` in canonical index form (delta contraction, the rules and facts), back in matrix
    form; raises IndexFormError or TranslateError where it cannot."""
    from .translate import to_matrix
    return to_matrix(index.canonical(element(e, idx), rules), idx, symbols, len(idx))


def _termwise(prev, final, spec, rules, limit: int = 60):
    """``prev`` with each term multiplied out and put into canonical (cached) matrix form on
    its own — the line between a sum of branches and its compact form ``final``; None when
    it would not be a step of its own."""
    from .translate import TranslateError
    if sp.count_ops(prev) > limit:
        return None
    idx = free_indices(shape_of(prev))
    symbols = layer_symbols(spec)
    try:
        terms = sp.Add.make_args(sp.expand(plain(prev), deep=False))
        if len(terms) < 2 or len(terms) > 6:
            return None
        each = sp.Add(*[_matrix_form(t, idx, symbols, rules) for t in terms])
    except (IndexFormError, TranslateError, DeriveError):
        return None
    return None if each in (plain(prev), final) else each


def _index_candidates(g0, spec, rules) -> list:
    """Candidates through the statements' inverses: substituted per element and in index
    form (with the facts about sums), back in matrix form."""
    from .translate import TranslateError
    idx = free_indices(shape_of(g0))
    symbols = layer_symbols(spec)
    solved = _solutions(spec)
    options = [()] + [(k,) for k in solved]
    if len(solved) <= 4:            # pairs of rewrites: quadratic in the statements
        options += list(combinations(solved, 2))
    calls = tuple(k for k in solved if not isinstance(k, sp.Symbol))
    if len(calls) > 1:              # every exp(−a) = 1/σ − 1 at once (an LSTM's gates)
        options.append(calls)
    out = []
    for chosen in options:
        subs = {k: solved[k] for k in chosen}
        note = "; ".join(f"{_show(k)} = {_show(v)}" for k, v in subs.items())
        moved = g0.xreplace(subs) if subs else g0
        shown = [("substitute", moved, "", next(iter(subs.items())))] if len(subs) == 1 else \
            [("substitute", moved, note)] if subs else []
        if subs:
            out.append(("index", [*shown, ("in cached values", moved, "")]))
        try:
            matrix = _matrix_form(moved, idx, symbols, rules)
        except (IndexFormError, TranslateError, DeriveError):
            continue
        out.append(("index", [*shown, ("in cached values", matrix, "the terms collected")]))
    return out


def _show(e) -> str:
    from .render.printers import text
    return text(e)


_NAMEABLE = ("matmul", "sum", "mean", "max")


def with_node_names(spec, graph):
    """The spec with each unnamed matrix product or sum of the graph as a statement of its
    own, named as the graph names its node (``b = np.sum(e, axis=1, keepdims=True)``), so
    the cached-form search can read it; the statements stay in a valid order."""
    from dataclasses import replace

    from .program import _sign
    program, statements = list(spec.program), list(spec.statements)
    full = dict(statements)
    known = {s.name for s, _ in program} | {s.name for s in spec.forward.free_symbols}
    for n in graph.op_nodes:
        if n.op not in _NAMEABLE or n.statement or n.id == graph.output or n.name in known:
            continue
        sym = array(n.name, n.shape, **_sign(n.expr))
        deps = {q.name for q in n.expr.free_symbols}
        at = max([i + 1 for i, (q, _) in enumerate(program) if q.name in deps], default=0)
        value = n.expr.xreplace({q: full[q.name] for q, _ in program if q.name in deps})
        program.insert(at, (sym, n.expr))
        statements.insert(at, (n.name, value))
        full[n.name] = value
        known.add(n.name)
    if len(program) == len(spec.program):
        return spec
    # later statements and the output written with the new names (e/S, not e/np.sum(e))
    for i, (sym, value) in enumerate(program):
        earlier = replace(spec, program=tuple(program[:i]))
        program[i] = (sym, _fold(value, earlier))
    output = spec.output_in_names
    output = _fold(output, replace(spec, program=tuple(program)))
    return replace(spec, program=tuple(program), statements=tuple(statements), output=output)


def _fold(e, spec):
    """``e`` with the values of the spec's statements written by their names; a power of
    the base of a nonnegative root statement by a power of its name (``(ms + eps)**(-1/2)``
    is ``1/r`` for ``r = sqrt(ms + eps)``)."""
    pairs = sorted(spec.program, key=lambda p: -sp.count_ops(p[1]))
    for sym, value in pairs:
        if not value.is_Atom:
            e = e.xreplace({value: sym})
        if value.is_Pow and value.exp.is_Rational and (sym.is_nonnegative or sym.is_positive):
            base, p = value.args

            def power(q, base=base, p=p, sym=sym):
                k = q.exp / p
                return sym**k if k.is_Integer else q
            e = e.replace(lambda q: q.is_Pow and q.base == base and q.exp.is_Rational, power)
    return e


def _held_inversions(g, spec, x) -> list:
    """``x`` solved from out = f(x, ...) with every structural value held fixed, and put into
    the gradient outside those values (equal wherever x is: an identity per element)."""
    output = spec.output_in_names
    (f_h, g_h), back = _hold([output, g])
    inv = invert(f_h, x, spec.out)
    if inv is None or x in inv.free_symbols:
        return []
    moved = _fold(g_h.xreplace({x: inv}).xreplace(back), spec)
    return [("out", [("invert", moved, f"{x.name} = {_show(inv.xreplace(back))}, from out")])]


def choose_tensor_form(g0, spec, graph, node, ctx):
    """The cheapest proven cached form of the gradient ``g0`` arriving at ``node``.

    The candidates are ranked by cost first and proven in that order, so only the
    winner (and the cheaper candidates that fail) is proven. ``spec`` may carry the
    graph's matrix products and sums as extra statements (:func:`with_node_names`).
    Returns (Candidate, the context it was proven in, the facts its proof uses).
    """
    facts = _facts(spec)
    ctx = _with_rules(ctx, {**ctx.rules, **facts})
    proven = list(elementwise_candidates(g0, spec, graph, node))
    folded = _fold(g0, spec)
    routes = _index_candidates(folded, spec, ctx.rules) if _small(folded, 40) else []
    if node.op == "input":
        routes += _held_inversions(folded, spec, node.expr)
    routes += [("mixed", [("tidy", form, "")]) for form in tidy_forms(folded)]
    if node.op == "max":     # a shift by the maximum: its gradient cancels (stable softmax)
        routes.insert(0, ("index", [("in cached values", sp.Integer(0),
                                     "the gradient arriving at the maximum cancels")]))
    pending, seen = [], {g0}
    for cache, moves in routes:
        for form in tidy_forms(moves[-1][1]):
            if form not in seen:
                seen.add(form)
                pending.append((cache, tuple(moves[:-1]) + ((moves[-1][0], form, moves[-1][2]),)))
    best = choose(proven) if proven else None
    chain = Candidate("mixed", (("chain rule", g0, ""),), Proof("identical", "", 1))

    def rank(e):
        return (cost(e), len(_show(e)))
    limit = min(rank(best.expr), rank(g0)) if best else rank(g0)
    for cache, moves in sorted(pending, key=lambda cm: rank(cm[1][-1][1])):
        if rank(moves[-1][1]) >= limit:
            break
        try:
            proof = prove_tensor(moves[-1][1], g0, ctx, what="cached form")
        except ProofError:
            continue
        best = Candidate(cache, moves, proof)
        break
    if best is None or rank(best.expr) >= rank(g0):
        return chain, ctx, []
    return best, ctx, [f for f in best.proof.uses if f in facts]


def tensor_result(rec, spec, graph, x, g0):
    """Choose, record and prove the cached form of ∂L/∂x of a tensor layer."""
    node = next(n for n in graph.nodes if n.op == "input" and n.expr == x)
    best, ctx, used = choose_tensor_form(g0, spec, graph, node, rec.context)
    _record_facts(rec, spec, used)
    prev = g0
    if best.expr != g0:
        prev = _record_moves_tensor(rec, best, x.name, g0, ctx, spec)
    _record_result(rec, spec, x, prev)
    return prev, best.cache


def boundary_form(rec, spec, graph, node, g):
    """∂L/∂node in cached form before it passes through a structural node (recorded)."""
    if not any(isinstance(a, Structural) for a in sp.preorder_traversal(g)) or not _small(g):
        return None
    best, ctx, used = choose_tensor_form(g, spec, graph, node, rec.context)
    if best.expr == g:
        return None
    _record_facts(rec, spec, used)
    return _record_moves_tensor(rec, best, node.name, g, ctx, spec)


#: the index-form routes (canonical forms of the whole expression) are skipped above this
#: many operations: their cost grows much faster than their use (an LSTM's gradients are
#: then proven step by step, and by finite differences of the whole forward)
INDEX_LIMIT = 80


def _small(e, limit=INDEX_LIMIT) -> bool:
    return sp.count_ops(e) <= limit


def _with_rules(ctx, rules):
    from dataclasses import replace
    return replace(ctx, rules=dict(rules))


def _record_moves_tensor(rec, best, target, prev, ctx, spec):
    """Record the route; a jump to the canonical form goes through each term put in cached
    values on its own first, where that is a step of its own (:func:`_termwise`)."""
    saved = rec.context
    rec.context = ctx
    try:
        for move in best.moves:
            rule, expr = move[:2]
            if expr == prev:
                continue
            if rule in ("in cached values", "tidy"):
                prev = _termwise_step(rec, _termwise(prev, expr, spec, ctx.rules), target, prev)
            prev = _record_moves(rec, [move], target, prev)
        return prev
    finally:
        rec.context = saved


def _termwise_step(rec, each, target, prev):
    if each is None:
        return prev
    try:
        rec.record("rewrite", "each term", "out", target, each, reference=prev,
                   note="each term put in cached values on its own",
                   against="the previous line", allow_kink=False,
                   what=f"rewriting ∂L/∂{target} term by term")
    except ProofError:
        return prev
    return each


def whole_forward_reference(spec, x):
    """SymPy's derivative of Σ dout·forward with respect to x[idx], in index form."""
    from .indexform import vjp_reference
    idx, reference, up = vjp_reference(spec.forward, x, upstream_name="dout")
    if spec.output_names:        # dout[k, ...] is the k-th output's own upstream gradient
        from sympy.tensor.indexed import Indexed

        from .indexform import element
        stacked = spec.dout
        reference = reference.replace(
            lambda a: isinstance(a, Indexed) and a.base.label.name == "dout",
            lambda a: element(stacked, tuple(a.indices)))
    return idx, reference


def _record_result(rec, spec, x, result):
    """The result against SymPy's derivative of the whole forward, in index form; where the
    canonical form cannot decide (an elementwise identity such as σ·e^(−h) = 1 − σ under a
    sum, or a kink), the steps above prove it and finite differences cross-check it."""
    ctx = rec.context
    what = f"∂L/∂{x.name} against the derivative of the whole forward"
    used = ("; assuming " + "; ".join(t for *_, t in spec.assume)) if spec.assume else ""
    try:
        if not (_small(spec.forward, INDEX_LIMIT // 2) and _small(result)):
            raise IndexFormError("too big for the whole-forward canonical form")
        idx, reference = whole_forward_reference(spec, x)
        mine = expand_definitions(element(result, idx), ctx.definitions)
        same = not index.difference(mine, reference, dict(ctx.rules))
    except (IndexFormError, DeriveError):
        same = False
    points = _fd_points(spec, x, result, ctx)       # the numeric witness, either way
    if same:
        proof = Proof("index form (all sizes)", "same canonical form as SymPy's derivative of "
                      f"Σ dout·out with respect to {x.name}{used}; central finite differences "
                      "of the whole forward agree", points)
    else:
        proof = Proof("by the steps above", "each step above is proven; central finite "
                      f"differences of the whole forward agree{used}", points)
    rec.record("result", "result", "out", x.name, result, proof=proof,
               against="the whole forward", what=what, note="; ".join(spec.notes),
               shape=shape_of(x))


def _fd_points(spec, x, result, ctx) -> int:
    import numpy as np

    from .evaluate import evaluate, names_of
    from .tensorproof import _dims, central_differences, check_sizes, context_env
    names = names_of(spec.forward, ctx.unfold(result), spec.dout)
    rng = np.random.default_rng(3)
    checked = 0
    for sizes in check_sizes(_dims(spec.forward, x), (spec.forward, x)):
        env = context_env(names, sizes, rng, ctx)
        if not isinstance(spec.dout, sp.Symbol):       # several outputs: their douts stacked
            env["dout"] = evaluate(spec.dout, env)
        got = np.broadcast_to(evaluate(ctx.unfold(result), env), np.shape(env[x.name]))
        for i, fd in central_differences(spec.forward, x.name, "dout", env, limit=12):
            if abs(fd - got[i]) > 1e-5 * (1 + abs(fd)):
                raise ProofError(f"∂L/∂{x.name}: finite differences disagree at {sizes}, "
                                 f"index {i}: {got[i]} vs {fd}")
            checked += 1
    return checked


