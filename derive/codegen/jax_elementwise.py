"""One elementwise layer as a ``jax.custom_vjp`` function, from its Derivation.

The forward and what it saves are the NumPy class's (:mod:`.elementwise`), each form
proven there: the stable forward (``jax.nn.sigmoid(x)`` for ``1/(1 + exp(-x))``), and
the dout-free local factor of the gradient (``plan_cache``: ``local = out*(1 - out)``, a
boolean ``mask`` for a 0/1 factor), so the backward is ``dout*local``; the values the
backward still reads (``out``, ``x``) are saved as they are. Each input also leaves a
zero-size ``_like(x)`` (its shape and dtype, no bytes), so the backward can sum a
broadcast cotangent back to the input's shape and dtype (``_fit``), unless the layer has
one input and each gradient reads ``dout``: then the gradient has ``dout``'s shape and
dtype, which are out's and so x's (three eager dispatches fewer a call). Parameters
(``alpha``) are ``nondiff_argnums``: static Python numbers.

>>> from derive.derivation import derive
>>> code = jax_layer(derive("sigmoid"))
>>> print(code.source.split("def _sigmoid_fwd")[1].split("\\n\\n")[0])
(x):
    out = jax.nn.sigmoid(x)
    local = out*(1.0 - out)
    return out, (local,)
"""
from __future__ import annotations

import sympy as sp

from ..branches import guarded
from ..render.printers import text as show
from ..steps import out as out_sym
from .elementwise import _from_inputs, plan_cache
from .jax_fewer_calls import fewer_calls, from_input_when_cheaper
from .jax_printer import JaxCodePrinter
from .printer import NumpyCodePrinter
from .runtime import HELPERS
from .share import share_work
from .stable import stable_form

__all__ = ["JaxCode", "jax_layer", "assign", "plain_elementwise"]


class JaxCode:
    """The source of one layer's functions and the helpers it calls."""

    def __init__(self, source: str, helpers=(), residuals=()):
        self.source, self.helpers = source, set(helpers)
        self.residuals = list(residuals)     # [(name, what it holds)]


def _float(v) -> str:
    return repr(float(v))


def _tuple(items) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def assign(names, exprs, printer, taken) -> list:
    """Lines computing ``exprs`` into ``names``, shared subexpressions named first."""
    def fresh():
        k = 0
        while True:
            if f"_s{k}" not in taken:
                yield sp.Symbol(f"_s{k}")
            k += 1
    # a mask times what may be inf or nan: a select (0*inf is nan)
    reps, reduced = sp.cse([guarded(e) for e in exprs], symbols=fresh(), order="none")
    taken.update(s.name for s, _ in reps)
    lines = [f"{s.name} = {printer.doprint(v)}" for s, v in reps]
    return lines + [f"{n} = {printer.doprint(e)}" for n, e in zip(names, reduced)]


def _select_mask(e):
    """``dout*mask`` (a boolean mask) as ``Piecewise((dout, mask), (0, True))``: printed as
    ``jnp.where(mask, dout, 0.0)``, one select instead of a cast and a multiply (JAX's own
    ReLU backward is that select)."""
    if not e.is_Mul:
        return e
    masks = [a for a in e.args if a.is_Symbol and not a.is_real]
    if len(masks) != 1:
        return e
    return sp.Piecewise((e.xreplace({masks[0]: sp.Integer(1)}), masks[0]), (0, True))


def _forward_lines(fwd, cached, spec, printer, taken, only_out=False) -> list:
    """Lines computing out (and the cached values unless ``only_out``): what reads out
    after it, what out reads before it, sharing work within each group."""
    syms = {s for s, _ in cached}
    reads_cached = bool(fwd.free_symbols & syms)
    before = [(s, e) for s, e in cached if reads_cached and (s in fwd.free_symbols or not only_out)]
    after = [] if only_out or reads_cached else [(s, e) for s, e in cached]
    late = [(s, e) for s, e in after if out_sym in e.free_symbols]
    early = [(s, e) for s, e in after if out_sym not in e.free_symbols]
    first = before + early
    lines = assign([s.name for s, _ in first] + ["out"], [e for _, e in first] + [fwd],
                   printer, taken)
    if late:
        lines += assign([s.name for s, _ in late], [e for _, e in late], printer, taken)
    return lines


def jax_layer(d) -> JaxCode:
    """The ``jax.custom_vjp`` function of one elementwise Derivation, with its fwd and bwd."""
    spec = d.spec
    name = spec.name
    wrt = list(d.wrt)
    inputs = list(spec.input_names)
    params = list(spec.param_names)
    arrays = {out_sym, *spec.inputs}
    stable, notes = [], []
    for w in wrt:
        e, applied = stable_form(d.result[w])
        stable.append(e)
        notes.append(applied)
    new, cached = plan_cache(stable, arrays)
    cached = [(sym, _from_inputs(e, spec, arrays)) for sym, e in cached]
    taken = {"out", "dout", "np", "jnp", "jax", "self", "shape", *inputs, *params,
             *HELPERS, "erf", *(s.name for s, _ in cached)}
    fwd0, fwd_notes = stable_form(spec.forward)
    fwd, cached, _, _ = share_work(fwd0, cached, spec, arrays, set(taken),
                                   NumpyCodePrinter({"allow_unknown_functions": False}))
    subs = {out_sym: fwd.xreplace({s: e for s, e in cached}),
            **{spec.symbols()[p]: spec.defaults.get(p, 1.0) for p in params}}
    rules = []
    fewer = fewer_calls([e for _, e in cached], list(spec.inputs), subs, applied=rules)
    rewritten = [s.name for (s, e), f in zip(cached, fewer) if f != e]
    cached = [(s, f) for (s, _), f in zip(cached, fewer)]
    cached = from_input_when_cheaper(cached, spec, subs[out_sym])
    # the forward beside the cached values (fwd): a call they compute anyway shared
    fwd_rules = []
    fwd_fast = fewer_calls([fwd], list(spec.inputs), {**subs, **dict(cached)},
                           also=[e for _, e in cached], applied=fwd_rules)[0]
    printer = JaxCodePrinter()
    free = {s.name for e in new for s in e.free_symbols}
    keep = [n for n in ("out", *inputs) if n in free]
    # one input, each gradient linear in dout: already x's shape and dtype, nothing to fit
    fit = len(inputs) > 1 or not all(
        any(s.name == "dout" for s in e.free_symbols) for e in new)
    likes = [f"{x}_like" for x in inputs] if fit else []
    residuals = keep + [s.name for s, _ in cached] + likes

    sig = ", ".join(inputs + [f"{p}={_float(spec.defaults.get(p, 1.0))}" for p in params])
    nondiff = tuple(range(len(inputs), len(inputs) + len(params)))
    deco = "@jax.custom_vjp" if not nondiff else \
        f"@functools.partial(jax.custom_vjp, nondiff_argnums={nondiff!r})"

    doc = [f'    """{spec.title or name}: out = {show(spec.forward)}', ""]
    if fwd_notes or fwd != spec.forward:
        doc.append(f"    forward computed as {show(fwd)} (proven equal"
                   + (f"; {', '.join(fwd_notes)})" if fwd_notes else ")"))
    for w, e, applied in zip(wrt, stable, notes):
        doc.append(f"    dL/d{w} = {show(d.result[w])}")
        if applied:
            doc.append(f"      computed as {show(e)}  (proven equal; {', '.join(applied)})")
    saved = [f"{s.name} = {show(e)}" for s, e in cached] + [n for n in keep]
    for where, what in ((", ".join(rewritten), rules),
                        ("the forward beside the saved values" if fwd_rules else "", fwd_rules)):
        if where:
            doc.append(f"    {where}: {', '.join(what)}, that call being computed anyway "
                       "(proven equal; within 1e-13 of the stable form at the edges)")
    doc.append(f"    A jax.custom_vjp: forward saves {', '.join(saved) or 'only shapes'}; "
               f"backward: {'; '.join(f'dL/d{w} = {show(e)}' for w, e in zip(wrt, new))}.")
    doc.append('    """')
    t = set(taken)
    primal = [deco, f"def {name}({sig}):", *doc,
              *(f"    {line}" for line in _forward_lines(fwd, cached, spec, printer, t, True)),
              "    return out"]
    t = set(taken)
    fwd_fn = [f"def _{name}_fwd({sig}):",
              *(f"    {line}" for line in _forward_lines(fwd_fast, cached, spec, printer, t)),
              f"    return out, {_tuple(keep + [s.name for s, _ in cached] + [f'_like({x})' for x in inputs if fit])}"]
    grads = [f"d{w}" for w in wrt]
    t = set(taken) | set(residuals) | set(grads)
    body = assign(grads, [_select_mask(e) for e in new], printer, t)  # 0: broadcast by _fit
    rets = [("_fit(d{0}, {0}_like)" if fit else "d{0}").format(x) if x in wrt else "None"
            for x in inputs]
    bwd = [f"def _{name}_bwd({''.join(p + ', ' for p in params)}res, dout):",
           *([f"    {', '.join(residuals)}, = res"] if residuals else []),
           *(f"    {line}" for line in body),
           f"    return {_tuple(rets)}"]
    source = "\n".join(primal) + "\n\n\n" + "\n".join(fwd_fn) + "\n\n\n" + "\n".join(bwd) \
        + f"\n\n\n{name}.defvjp(_{name}_fwd, _{name}_bwd)"
    held = [(n, "input" if n in inputs else "forward output") for n in keep]
    held += [(s.name, ("bool" if not s.is_real else "float") + f" = {show(e)}")
             for s, e in cached]
    return JaxCode(source, {"_like", "_fit"} if fit else set(), held)


def plain_elementwise(spec, stable: bool = False) -> str:
    """Source of ``spec.forward`` as a plain jnp function (no custom_vjp), for JAX's own
    autodiff to differentiate: as the spec states it, or (``stable``) in the stable form
    the exported forward computes (the benchmarks' reference: the same forward).

    >>> from derive import catalogue
    >>> print(plain_elementwise(catalogue.get("sigmoid"), stable=True), end="")
    def sigmoid(x):
        return jax.nn.sigmoid(x)
    """
    printer = JaxCodePrinter()
    forward = stable_form(spec.forward)[0] if stable else spec.forward
    sig = ", ".join(list(spec.input_names) + [f"{p}={_float(spec.defaults.get(p, 1.0))}"
                                             for p in spec.param_names])
    return f"def {spec.name}({sig}):\n    return {printer.doprint(forward)}\n"
