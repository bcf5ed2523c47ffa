"""The numba module's ``<layer>_vjp(dout, <inputs>)``: an elementwise layer's out and
gradients in one compiled loop, what ``jax.jit`` of ``jax.vjp`` computes in one call.

The class's forward then backward must store what backward reads (its cache, kept in
its own arrays so that the caller's later writes cannot reach it) and read it back: for
one input, forward reads x and writes out and the cache, backward reads dout and the cache
and writes the gradient, six passes over memory. Given dout with x, one loop reads both
and writes out and the gradient: four. The expressions are the class's, each cached factor
replaced by its definition (the same values; a bool mask by its condition).

>>> from derive import catalogue
>>> from derive.derivation import derive_spec
>>> from derive.codegen.numba_backend import layer_source
>>> src = layer_source(derive_spec(catalogue.get("tanh")))
>>> "def tanh_vjp(dout, x):" in src and "def _tanh_vjp_loop(x_, dout_, out_, g_):" in src
True
"""
from __future__ import annotations

import sympy as sp

from ..render.printers import text as show
from ..steps import out as out_sym
from .numba_backend import _call, _loops

__all__ = ["vjp_source"]


def vjp_source(d, fwd, new, cached, grads, defaults, streamed) -> str:
    """The loop and the function ``<layer>_vjp(dout, <inputs>)``: out and the gradients in
    one pass over the elements, what ``jax.jit`` of ``jax.vjp`` computes. Its expressions
    are the class's (``new``, in which each cached factor and ``out`` are replaced by their
    definitions: the same values, nothing stored between), so it reads the inputs and
    dout and writes out and the gradients: four passes for one input where the class's
    forward then backward makes six."""
    spec = d.spec
    name, wrt, params = spec.name, list(d.wrt), list(spec.param_names)
    inputs = list(spec.input_names)
    defs = {s: e.xreplace({out_sym: fwd}) for s, e in cached}
    conds = {s: e for s, e in defs.items() if not s.is_real}     # the bool masks
    # a mask is a Piecewise's condition (leaky_relu's value picked by it) or a 0/1 factor
    # (relu's dout*mask): there its condition, here the select of 1 or 0 by it
    fused = [e.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: sp.Piecewise(
        *((v, conds.get(c, c)) for v, c in a.args))) for e in new]
    defs.update({s: sp.Piecewise((sp.S.One, c), (sp.S.Zero, True)) for s, c in conds.items()})
    fused = [e.xreplace(defs).xreplace({out_sym: fwd}) for e in fused]
    loop = _loops(f"_{name}_vjp_loop", [*inputs, "dout"], params,
                  [("out", fwd), *zip(grads, fused)], streamed=streamed)
    doc = [f'    """{spec.title or name}: out and the gradient{"s" if len(wrt) > 1 else ""} '
           f'w.r.t. {", ".join(wrt)} in one loop (forward, then backward with dout).', "",
           f"    out = {show(spec.forward)}"]
    doc += [f"    dL/d{w} = {show(e)}" for w, e in zip(wrt, fused)]
    doc += ["    dout has out's shape" + (" (the inputs broadcast against each other, and "
                                         "each gradient is summed back to its input's shape)"
                                         if len(inputs) > 1 else "") + ";",
            "    returns (out, " + ", ".join(f"d{w}" for w in wrt) + ').', '    """']
    body = [f"    shape = _shape_of({', '.join(inputs)})",
            "    if _shape_of(dout) != shape:",
            "        raise ValueError(f\"dout has shape {np.shape(dout)}; out has shape "
            "{shape}\")",
            f"    dtype = _floating(dout, {', '.join(inputs)})", "    work = _work(dtype)"]
    body += [f"    {n}_ = _flat({n}, shape, work)" for n in [*inputs, "dout"]]
    body += ["    n = dout_.shape[0]", "    out = _empty(n, work)"]
    body += [f"    {g} = _empty(n, work)" for g in grads]
    body.append("    " + _call(f"_{name}_vjp_loop", [f"{a}_" for a in [*inputs, "dout"]]
                              + ["out", *grads] + [f"float({p})" for p in params], streamed))
    to = {w: f", np.shape({w})" for w in wrt if len(inputs) > 1}
    body.append("    return _done(out, shape, dtype), " + ", ".join(
        f"_done({g}, shape, dtype{to.get(w, '')})" for g, w in zip(grads, wrt)))
    fn = "\n".join([f"def {name}_vjp({', '.join(['dout', *inputs, *defaults])}):",
                    *doc, *body])
    return loop + "\n\n\n" + fn
