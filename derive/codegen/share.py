"""Forward and cached factor written to share work, each choice proven and costed.

The cost of a form is the cost of the lines it emits, each weighted by the call it
makes (a plain arithmetic ufunc is 1, a transcendental dearer).
"""
from __future__ import annotations

import re
from itertools import product

import sympy as sp

from ..errors import ProofError
from ..proof import prove_rewrite
from ..rules import diff as rules_diff
from ..steps import out as out_sym
from .lower import lower, rename
from .stable import stable_form

__all__ = ["share_work", "emit_forward", "calls"]


def calls(e) -> int:
    return sum(1 for a in sp.preorder_traversal(e) if isinstance(a, sp.Function))


def _named(lines, results, names):
    """Rename result buffers to their names (they are fresh, so the names are free)."""
    for r, n in zip(results, names):
        if r != n:
            lines = rename(lines, r, n) if r.startswith(("tmp", "mask")) else lines + [f"{n} = {r}"]
    return lines


def emit_forward(fwd, cached, spec, arrays, taken, printer):
    """(lines, helpers) computing ``out`` and the cached values in forward.

    Cached values that read ``out`` are computed after it; a forward that reads a cached
    value (``out = x*local``) after them; otherwise all together, sharing subexpressions
    through one ``cse`` (GELU's erf, tanh-GELU's tanh).
    """
    names = ["out", *[sym.name for sym, _ in cached]]
    exprs = [fwd, *[e for _, e in cached]]
    syms = {sym for sym, _ in cached}
    inputs = set(spec.inputs)
    if any(out_sym in e.free_symbols for e in exprs[1:]):  # cached parts read out: after it
        groups = [([0], inputs)] + [([i], arrays) for i in range(1, len(exprs))]
    elif fwd.free_symbols & syms:  # out reads the cached parts: before it
        groups = [(list(range(1, len(exprs))), inputs), ([0], inputs | syms)]
    else:
        groups = [(list(range(len(exprs))), inputs)]
    flines, helpers, taken = [], set(), set(taken)
    for idx, known in groups:
        lines, res, h = lower([exprs[i] for i in idx], known, taken, printer,
                              like=spec.input_names[0])
        flines += _named(lines, res, [names[i] for i in idx])
        helpers |= h
        taken |= {n for line in lines for n in re.findall(r"^(\w+) = ", line)}
    return [line for line in flines if line], helpers




# relative cost of one emitted line, by the call it makes (a plain arithmetic ufunc is 1; a
# select on a random mask is a mispredicted branch per element, measured ~4-10x)
_COST = {"tanh": 6, "exp": 5, "expm1": 5, "log": 5, "log1p": 5, "logaddexp": 8, "power": 8,
         "erf": 25, "_sigmoid": 8, "_sigmoid2": 13, "_softplus": 9, "where": 4, "copyto": 4, "putmask": 4}


def _cost(lines) -> float:
    total = 0.0
    for line in lines:
        call = re.search(r"(?:np\.)?(\w+)\(", line)
        if call is None:
            total += 1.0 if re.search(r"[<>=]=?|[-+*/]", line.split("=", 1)[-1]) else 0.0
            continue
        total += _COST.get(call.group(1), 1.0)
    return total


def _cheapest_form(e):
    """Of a polynomial-times-constant and its Horner form, the one with fewer powers."""
    cands = [e]
    for x in e.free_symbols:
        try:
            if e.is_polynomial(x) and sp.degree(e, x) >= 3:
                cands.append(sp.horner(sp.expand(e), x))
        except (sp.PolynomialError, ValueError):
            pass
    return min(cands, key=lambda q: (sum(1 for a in sp.preorder_traversal(q)
                                         if a.is_Pow and a.base.free_symbols
                                         and a.exp not in (2, -1)), sp.count_ops(q)))


def _shared_calls(exprs):
    """Exprs with equal arguments of the same function call written one way (proven).

    The derivative of ``tanh(c*(k*x**3 + x))`` reads ``tanh(c*x*(k*x**2 + 1))``: one
    value, two spellings, so ``cse`` would compute it twice. Each call's argument is
    replaced by one spelling of its expanded form (the one without general powers, or
    its Horner form), and each rewritten expression is proven equal to the original.
    """
    calls = {a for e in exprs for a in sp.preorder_traversal(e)
             if isinstance(a, sp.Function) and len(a.args) == 1 and a.args[0].free_symbols}
    groups: dict = {}
    for c in calls:
        groups.setdefault((type(c), sp.expand(c.args[0])), []).append(c)
    repl = {}
    for (fn, _), members in groups.items():
        best = _cheapest_form(min((m.args[0] for m in members),
                                  key=lambda q: (sp.count_ops(q), sp.default_sort_key(q))))
        for m in members:
            if m.args[0] != best:
                repl[m] = fn(best)
    if not repl:
        return exprs
    new = [e.xreplace(repl) for e in exprs]
    try:
        for a, b in zip(exprs, new):
            if a != b:
                prove_rewrite(a, b, what="one spelling of a shared function argument")
    except ProofError:
        return exprs
    return new


def _local_forms(e, x):
    """Equal spellings of a float local factor worth costing (each proven when chosen).

    Function calls are held as symbols while the factor is regrouped: factored whole, or
    its terms with and without ``x`` factored apart (GELU-tanh's
    ``(1 + t)/2 + c*x*(1 - t)*(1 + t)*(1 + 3*k*x**2)``, sharing ``1 + t`` with forward).
    """
    forms = [e]
    calls = sorted({a for a in sp.preorder_traversal(e) if isinstance(a, sp.Function)},
                   key=sp.default_sort_key)
    if not calls or isinstance(e, sp.Piecewise) or x is None:
        return forms
    held = {c: sp.Dummy(f"c{i}") for i, c in enumerate(calls)}
    back = {v: k for k, v in held.items()}
    ed = sp.expand(e.xreplace(held))
    terms = sp.Add.make_args(ed)
    with_x = sp.Add(*[t for t in terms if t.has(x)])
    without = sp.Add(*[t for t in terms if not t.has(x)])
    for form in (sp.factor(ed), sp.factor(with_x) + sp.factor(without),
                 sp.collect(ed, list(held.values()))):
        forms.append(form.xreplace(back))
    return list(dict.fromkeys(forms))


def share_work(fwd, cached, spec, arrays, taken, printer):
    """(forward, cached, lines, helpers): the cheapest of equal ways to compute both.

    Forward and the cached local factor are written to share work, each choice proven
    equal to what it replaces and kept only when its emitted code costs less (by
    :func:`_cost`, weighting transcendental calls):

    * one spelling per function argument (:func:`_shared_calls`), so ``cse`` computes a
      ``tanh(u)`` needed by both once;
    * a local factor that reads ``out`` may be computed from the input instead when that
      shares more with the forward (a ``x > 0`` the forward compares anyway);
    * the local factor collected over its function calls, so ``1 - tanh(u)**2`` is
      formed once;
    * a forward equal to ``x*local`` (a piecewise-linear layer through 0: out = x*f'(x))
      is one multiply by the cached factor instead of a select.
    """
    x = spec.inputs[0] if len(spec.inputs) == 1 else None
    options = []
    for sym, e in cached:
        opts = [e]
        if sym.is_real and x is not None:
            if out_sym in e.free_symbols:
                fx, _ = stable_form(rules_diff(spec.forward, x))
                if fx.free_symbols & arrays and calls(fx) <= calls(e):
                    opts.append(fx)
            opts = [f for o in opts for f in _local_forms(o, x)]
        options.append(list(dict.fromkeys(opts)))
    best, first_error = None, None
    for choice in product(*options):
        cands = [fwd]
        if x is not None:
            for (sym, _), c in zip(cached, choice):
                if sym.is_real and not (c.free_symbols & arrays) - {x}:
                    try:
                        prove_rewrite(fwd, x * c, what="forward as the input times the cached factor")
                    except ProofError:
                        continue
                    cands.append(x * sym)
        for f in cands:
            exprs = _shared_calls([f, *choice])
            trial = [(sym, c) for (sym, _), c in zip(cached, exprs[1:])]
            try:
                lines, helpers = emit_forward(exprs[0], trial, spec, arrays, taken, printer)
            except Exception as exc:  # a form the lowering cannot spell: not a candidate
                first_error = first_error or exc
                continue
            key = (_cost(lines), f is not fwd, [c is not e for c, (_, e) in zip(choice, cached)])
            if best is None or key[0] < best[0][0]:
                best = (key, exprs, lines, helpers, f)
    if best is None:        # not even the forms as derived lower: the lowering's own error
        raise first_error
    _, exprs, lines, helpers, f = best
    # every choice is proven equal to what it replaces before it is used
    subs = {sym: c for sym, c in zip([s for s, _ in cached], exprs[1:])}
    try:
        for (sym, e), c in zip(cached, exprs[1:]):
            if c != e:
                prove_rewrite(e.xreplace({out_sym: spec.forward}),
                               c.xreplace({out_sym: spec.forward}),
                              what="cached local factor in a cheaper form")
        if exprs[0] != fwd:
            prove_rewrite(fwd, exprs[0].xreplace(subs), what="forward written with the cached factor")
    except ProofError:
        lines, helpers = emit_forward(fwd, cached, spec, arrays, taken, printer)
        return fwd, cached, lines, helpers
    return exprs[0], [(sym, c) for (sym, _), c in zip(cached, exprs[1:])], lines, helpers


