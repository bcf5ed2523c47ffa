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

import sympy as sp

from .steps import dout as dout_sym, out as out_sym

_DEAR = (sp.exp, sp.log, sp.tanh, sp.erf, sp.Function)  # transcendental, or a helper call


def _dear(e) -> bool:
    return any(isinstance(a, _DEAR) for a in sp.preorder_traversal(e))


def plan_cache(exprs, arrays):
    """(exprs with dout-free parts replaced by symbols, [(symbol, expr)] to compute in forward)."""
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


def emit_class(d, stable, needs, fname, printer):
    """Source of the class of ``d.spec`` and the helpers its code calls."""
    from .codegen import _HELPERS, _float, _lower, _rename, _targets
    from .codegen_stable import stable_form
    spec = d.spec
    params = list(spec.param_names)
    wrt = list(d.wrt)
    arrays = {out_sym, *spec.inputs}
    new, cached = plan_cache(stable, arrays)
    keep = [n for n in needs if any(n in {s.name for s in e.free_symbols} for e in new)]
    cache_names = [s.name for s, _ in cached]
    taken = {"out", "dout", "np", "self", "shape", *spec.input_names, *params, *_HELPERS, "erf",
             *cache_names}

    fwd, fwd_notes = stable_form(spec.forward)
    names = ["out", *[sym.name for sym, _ in cached]]
    exprs = [fwd, *[e for _, e in cached]]
    if any(out_sym in e.free_symbols for e in exprs[1:]):  # cached parts read out: after it
        flines, helpers = [], set()
        for i, e in enumerate(exprs):
            lines, res, h = _lower([e], arrays if i else set(spec.inputs), taken, printer)
            flines += _named(lines, res, names[i:i + 1])
            helpers |= h
    else:  # computed together, sharing subexpressions (GELU's erf)
        lines, res, helpers = _lower(exprs, set(spec.inputs), taken, printer)
        flines = _named(lines, res, names)
    flines = [line for line in flines if line]

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
        cls.append("        # the cache holds its own arrays: later changes to the caller's")
        cls.append("        # arrays (or to the returned out) cannot reach backward")
    for n in stored:
        cls.append(f"        self.{n} = {n}.copy()" if n in spec.input_names else
                   f"        self.{n} = {n}")
    cls.append("        return out.reshape(shape)" + (".copy()" if "out" in keep else ""))
    cls.append("")
    cls.append("    def backward(self, dout):")
    for w, e in zip(wrt, new):
        cls.append(f"        # dL/d{w} = {e}")
    cls.append("        shape = np.shape(dout)")
    cls.append("        dout, = _as_arrays(dout)")
    cls += [f"        {n} = self.{n}" for n in stored + params]
    barrays = {dout_sym, *[s for s, _ in cached], *[sp.Symbol(n, real=True) for n in keep],
               out_sym, *spec.inputs}
    blines, results, h = _lower(new, barrays, taken, printer)
    helpers |= h
    grads = ["g"] if len(wrt) == 1 else [f"d{w}" for w in wrt]
    for r, g in zip(results, grads):
        if r != g:
            blines = _rename(blines, r, g)
    cls += [f"        {line}" for line in blines]
    cls.append(f"        return {', '.join(g + '.reshape(shape)' for g in grads)}")
    return "\n".join(cls), helpers
