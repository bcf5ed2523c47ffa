"""The book-style class of a generated layer, and what its ``forward`` caches.

The module-level ``<layer>_backward`` computes everything from the cached values
the derivation names. The class can do better at no cost in memory: the parts of
the backward that do not depend on ``dout`` — a condition such as ``out > 0``, or
a product of transcendental factors such as GELU's
``(x·φ(x)·√2 + erf(x/√2) + 1)/2`` — are computed once in ``forward`` and cached
(a boolean ``mask`` as the book's ReLU keeps, or a float array ``local``), so
``backward(dout)`` is left with the few operations that involve ``dout``. The
cached values replace what they are computed from when nothing else needs it.
"""
from __future__ import annotations

import re

import sympy as sp

from .steps import dout as dout_sym, out as out_sym

_DEAR = (sp.exp, sp.log, sp.tanh, sp.erf, sp.Function)  # transcendental, or a helper call


def _dear(e) -> bool:
    return any(isinstance(a, _DEAR) for a in sp.preorder_traversal(e))


def _dout_factor(e):
    """F with ``e = dout*F`` read off the expression (each Piecewise branch), or None."""
    def factor(v):
        if v == dout_sym:
            return sp.Integer(1)
        if v == 0:
            return sp.Integer(0)
        if v.is_Mul:
            part, rest = v.as_independent(dout_sym, as_Add=False)
            if rest == dout_sym:
                return part
        return None
    if isinstance(e, sp.Piecewise):
        pairs = [(factor(v), c) for v, c in e.args]
        if any(f is None for f, _ in pairs):
            return None
        return sp.Piecewise(*pairs)
    return factor(e)


def _worth_caching(f, arrays) -> bool:
    """A factor is cached whole unless it is a single cached array, its reciprocal or a constant.

    (``dout*out`` and ``dout/x`` are already one pass; caching ``1/x`` would only move a
    divide into forward and round twice.)
    """
    if not (f.free_symbols & arrays) or f.is_Symbol:
        return False
    return not (f.is_Pow and f.base.is_Symbol and f.exp == -1)


def local_factor(e, arrays):
    """``(F, proof)`` when ``e = dout*F`` (proven) and caching F makes backward one multiply."""
    from .errors import ProofError
    from .proof import prove_equal
    f = _dout_factor(e)
    if f is None or dout_sym in f.free_symbols or not _worth_caching(f, arrays):
        return None
    try:
        proof = prove_equal(e, dout_sym * f, what="backward as dout times a cached factor")
    except ProofError:
        return None
    return f, proof


def _indicator(f):
    """The condition c when f is Piecewise((1, c), (0, True)) (a 0/1 mask), else None."""
    if isinstance(f, sp.Piecewise) and len(f.args) == 2 and f.args[1][1] == sp.true:
        (a, c), (b, _) = f.args
        if a == 1 and b == 0:
            return c
    return None


def plan_cache(exprs, arrays):
    """(exprs with dout-free parts replaced by symbols, [(symbol, expr)] to compute in forward).

    First choice: the whole local factor. A gradient ``dout*F`` (``F`` per branch for a
    Piecewise) is rewritten to ``dout*local`` with ``F`` computed in forward, once
    ``dout*F`` is proven equal to the gradient; a 0/1 ``F`` is cached as a boolean
    ``mask`` (1 byte per element), so backward is one ``np.multiply``. Otherwise the
    conditions and transcendental dout-free factors are cached, as before.
    """
    cached: dict = {}

    def name_for(e, boolean):
        if e not in cached:
            stem = "mask" if boolean else "local"
            k = sum(1 for s in cached.values() if s.name.startswith(stem))
            cached[e] = sp.Symbol(stem if k == 0 else f"{stem}{k}", real=not boolean)
        return cached[e]

    def free_of_dout(e):
        return dout_sym not in e.free_symbols and bool(e.free_symbols & arrays)

    def walk(e):
        whole = local_factor(e, arrays)
        if whole is not None:
            f = whole[0]
            cond = _indicator(f)
            return dout_sym * (name_for(cond, True) if cond is not None else name_for(f, False))
        if isinstance(e, sp.Piecewise):
            pairs = []
            for val, cond in e.args:
                if cond != sp.true and free_of_dout(cond):
                    cond = name_for(cond, True)
                pairs.append((walk(val), cond))
            return sp.Piecewise(*pairs)
        if e.is_Mul and dout_sym in e.free_symbols:
            part = sp.Mul(*[a for a in e.args if dout_sym not in a.free_symbols])
            rest = [walk(a) for a in e.args if dout_sym in a.free_symbols]
            if free_of_dout(part) and _dear(part):
                return sp.Mul(name_for(part, False), *rest)
            return sp.Mul(part, *rest)
        if free_of_dout(e) and _dear(e):
            return name_for(e, False)
        return e
    new = [walk(e) for e in exprs]
    return new, [(sym, e) for e, sym in cached.items()]


def _named(lines, results, names):
    """Rename result buffers to their names (they are fresh, so the names are free)."""
    from .codegen import _rename
    for r, n in zip(results, names):
        if r != n:
            lines = _rename(lines, r, n) if r.startswith(("tmp", "mask")) else lines + [f"{n} = {r}"]
    return lines


def _calls(e) -> int:
    return sum(1 for a in sp.preorder_traversal(e) if isinstance(a, sp.Function))


def _from_inputs(f, spec, arrays):
    """A local factor written in ``out`` that cancels (``alpha + out`` where out -> -alpha)
    is computed in forward from the input instead, when that form (the derivative, made
    stable and proven equal) needs no sum and no more function calls than the forward.

    ELU: ``alpha + out`` loses every digit of ``alpha*exp(x)`` for x << 0;
    ``alpha*exp(min(x, 0))`` keeps them at the same cost.
    """
    from .codegen_stable import stable_form
    from .errors import ProofError
    from .proof import prove_equal
    if len(spec.inputs) != 1 or out_sym not in f.free_symbols:
        return f
    adds = [a for a in sp.preorder_traversal(f) if a.is_Add and a.has(out_sym)]
    if not adds:
        return f
    (x,) = spec.inputs
    fx, _ = stable_form(sp.diff(spec.forward, x))
    branches = [v for v, _ in fx.args] if isinstance(fx, sp.Piecewise) else [fx]
    if any(a.is_Add for b in branches for a in sp.preorder_traversal(b)):
        return f
    if _calls(fx) > _calls(spec.forward) or not (fx.free_symbols & arrays):
        return f
    try:
        prove_equal(fx, f.xreplace({out_sym: spec.forward}),
                    what="local factor computed from the input")
    except ProofError:
        return f
    return fx


def emit_class(d, stable, needs, fname, printer):
    """Source of the class of ``d.spec`` and the helpers its code calls."""
    from .codegen import _HELPERS, _float, _lower, _rename, _targets
    from .codegen_stable import stable_form
    spec = d.spec
    params = list(spec.param_names)
    wrt = list(d.wrt)
    arrays = {out_sym, *spec.inputs}
    new, cached = plan_cache(stable, arrays)
    cached = [(sym, _from_inputs(e, spec, arrays)) for sym, e in cached]
    keep = [n for n in needs if any(n in {s.name for s in e.free_symbols} for e in new)]
    cache_names = [s.name for s, _ in cached]
    taken = {"out", "dout", "np", "self", "shape", *spec.input_names, *params, *_HELPERS, "erf",
             *cache_names}

    fwd, fwd_notes = stable_form(spec.forward)
    fwd, cached, flines, helpers = share_work(fwd, cached, spec, arrays, taken, printer)

    doc = f'    """{spec.title or spec.name}: out = {spec.forward}'
    if fwd_notes:
        doc += f"\n\n    forward computed as {fwd} (proven equal; {', '.join(fwd_notes)})"
    for sym, e in cached:
        doc += f"\n    forward caches {sym.name} = {e}"
    doc += f'\n    backward: as :func:`{fname}`."""'
    cls = [f"class {spec.class_name}:", doc, ""]
    if params:
        cls.append(f"    def __init__(self, "
                   f"{', '.join(p + '=' + _float(spec.defaults.get(p, 1.0)) for p in params)}):")
        cls += [f"        self.{p} = float({p})" for p in params]
        cls.append("")
    ins = ", ".join(spec.input_names)
    cls.append(f"    def forward(self, {ins}):")
    cls.append(f"        shape = np.shape({spec.input_names[0]})")
    cls.append(f"        {_targets(spec.input_names)} = _as_arrays({ins})")
    cls += [f"        {p} = self.{p}" for p in params]
    cls += [f"        {line}" for line in flines]
    stored = keep + cache_names
    if stored:
        cls.append("        # the cache holds its own arrays, in the input's shape: later changes to the")
        cls.append("        # caller's arrays (or to the returned out) cannot reach backward")
    for n in stored:
        cls.append(f"        self.{n} = {n}.reshape(shape).copy()" if n in spec.input_names else
                   f"        self.{n} = {n}.reshape(shape)")
    cls.append("        return out.reshape(shape)" + (".copy()" if "out" in keep else ""))
    cls.append("")
    cls.append("    def backward(self, dout):")
    for w, e in zip(wrt, new):
        cls.append(f"        # dL/d{w} = {e}")
    barrays = {dout_sym, *[s for s, _ in cached], *[sp.Symbol(n, real=True) for n in keep],
               out_sym, *spec.inputs}
    # every buffer is allocated in dout's shape, float64: no reshape, no _as_arrays
    blines, results, h = _lower(new, barrays, taken, printer, alloc=_ALLOC)
    helpers |= h
    grads = ["g"] if len(wrt) == 1 else [f"d{w}" for w in wrt]
    for r, g in zip(results, grads):
        if r != g:
            blines = _rename(blines, r, g)
    reads = [n for n in stored + params
             if any(re.search(rf"\b{n}\b", line) for line in blines)]
    if any(not _INTO_BUFFER.match(line) for line in blines):
        # a step that does not write into a float64 buffer (np.where, a helper) needs a
        # float64 dout; ufuncs with out= cast on the fly
        cls.append("        dout = np.asarray(dout, dtype=np.float64)")
    if len(blines) == 1 and len(grads) == 1 and blines[0].startswith("g = "):
        line = blines[0][len("g = "):]
        for n in reads:
            line = re.sub(rf"(?<![\w.]){n}\b(?!=)", f"self.{n}", line)
        cls.append(f"        return {line}")
    else:
        cls += [f"        {n} = self.{n}" for n in reads]
        cls += [f"        {line}" for line in blines]
        cls.append(f"        return {', '.join(grads)}")
    caches = [(n, "input copy" if n in spec.input_names else "forward output") for n in keep]
    caches += [(sym.name, f"{'bool' if not sym.is_real else 'float64'}"
                          + (f" = {e}" if len(str(e)) <= 60 else ", see the class docstring"))
               for sym, e in cached]
    return "\n".join(cls), helpers, caches


def _emit_forward(fwd, cached, spec, arrays, taken, printer):
    """(lines, helpers) computing ``out`` and the cached values in forward.

    Cached values that read ``out`` are computed after it; a forward that reads a cached
    value (``out = x*local``) after them; otherwise all together, sharing subexpressions
    through one ``cse`` (GELU's erf, tanh-GELU's tanh).
    """
    from .codegen import _lower
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
        lines, res, h = _lower([exprs[i] for i in idx], known, taken, printer)
        flines += _named(lines, res, [names[i] for i in idx])
        helpers |= h
        taken |= {n for line in lines for n in re.findall(r"^(\w+) = ", line)}
    return [line for line in flines if line], helpers


# relative cost of one emitted line, by the call it makes (a plain arithmetic ufunc is 1)
_COST = {"tanh": 6, "exp": 5, "expm1": 5, "log": 5, "log1p": 5, "logaddexp": 8, "power": 8,
         "erf": 25, "_sigmoid": 10, "where": 2, "copyto": 1.5}


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
    from .errors import ProofError
    from .proof import prove_equal
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
                prove_equal(a, b, what="one spelling of a shared function argument")
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
    from itertools import product

    from .codegen_stable import stable_form
    from .errors import ProofError
    from .proof import prove_equal
    x = spec.inputs[0] if len(spec.inputs) == 1 else None
    options = []
    for sym, e in cached:
        opts = [e]
        if sym.is_real and x is not None:
            if out_sym in e.free_symbols:
                fx, _ = stable_form(sp.diff(spec.forward, x))
                if fx.free_symbols & arrays and _calls(fx) <= _calls(e):
                    opts.append(fx)
            opts = [f for o in opts for f in _local_forms(o, x)]
        options.append(list(dict.fromkeys(opts)))
    best = None
    for choice in product(*options):
        cands = [fwd]
        if x is not None:
            for (sym, _), c in zip(cached, choice):
                if sym.is_real and not (c.free_symbols & arrays) - {x}:
                    try:
                        prove_equal(fwd, x * c, what="forward as the input times the cached factor")
                    except ProofError:
                        continue
                    cands.append(x * sym)
        for f in cands:
            exprs = _shared_calls([f, *choice])
            trial = [(sym, c) for (sym, _), c in zip(cached, exprs[1:])]
            try:
                lines, helpers = _emit_forward(exprs[0], trial, spec, arrays, taken, printer)
            except Exception:  # a form the lowering cannot spell: not a candidate
                continue
            key = (_cost(lines), f is not fwd, [c is not e for c, (_, e) in zip(choice, cached)])
            if best is None or key[0] < best[0][0]:
                best = (key, exprs, lines, helpers, f)
    _, exprs, lines, helpers, f = best
    # every choice is proven equal to what it replaces before it is used
    subs = {sym: c for sym, c in zip([s for s, _ in cached], exprs[1:])}
    try:
        for (sym, e), c in zip(cached, exprs[1:]):
            if c != e:
                prove_equal(e.xreplace({out_sym: spec.forward}), c.xreplace({out_sym: spec.forward}),
                            what="cached local factor in a cheaper form")
        if exprs[0] != fwd:
            prove_equal(fwd, exprs[0].xreplace(subs), what="forward written with the cached factor")
    except ProofError:
        lines, helpers = _emit_forward(fwd, cached, spec, arrays, taken, printer)
        return fwd, cached, lines, helpers
    return exprs[0], [(sym, c) for (sym, _), c in zip(cached, exprs[1:])], lines, helpers


_ALLOC = "np.empty_like(dout, dtype=np.float64)"
# a lowered line that only writes into a float64 buffer: a ufunc with out=, or copyto
_INTO_BUFFER = re.compile(r"^(\w+ = )?np\.\w+\(.*out=[\w.(), =]+\)$|^np\.copyto\("
                          r"|^\w+ = np\.array\(\w+, dtype=np\.float64\)$"
                          r"|^\w+ = np\.empty_like\(dout, dtype=np\.float64\)$|^\w+\.fill\(")
