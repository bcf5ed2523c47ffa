"""One tensor layer as a ``jax.custom_vjp`` function, from its Derivation.

The forward is the layer's program statement by statement, as the NumPy export writes
it (:func:`derive.codegen.tensor._program_lines`: only what out and the backward need,
softmax and log-softmax with the maximum subtracted, proven equal), printed in ``jnp``.
It saves what the derivation's results read (the named values ``y``, ``xn``, ``std``,
an LSTM's gates, the inputs and weights they name) and a zero-size shape carrier per
differentiated argument; the backward is the derivation's results in cached form
(:func:`derive.codegen.tensor.lower_tensor`: shared sums and products named once).

Arguments: inputs, weights, consts (labels, masks, indices: no cotangent), then the
hyper-parameters (``eps``, ``stride``, ``pad``...) as ``nondiff_argnums``:
``affine(x, W, b)``, ``softmax_with_loss(x, t)``, ``convolution(x, W, b, stride=1, pad=0)``.
A one-hot label may also come as label indices (one axis fewer): it is made one-hot.

>>> from derive.derivation import derive
>>> code = jax_tensor_layer(derive("affine"))
>>> print(code.source.split("def _affine_bwd")[1].split("\\n\\n")[0])
(res, dout):
    W, x, x_like, W_like, b_like, = res
    dx = dout @ W.T
    dW = x.T @ dout
    db = jnp.sum(dout, axis=0)
    return (_fit(dx, x_like), _fit(dW, W_like), _fit(db, b_like))
"""
from __future__ import annotations

from ..render.printers import text as show
from ..tensor import shape_of
from .jax_printer import JaxCodePrinter
from .jax_elementwise import JaxCode, _tuple
from .tensor import _bind_dims, _default, _program_lines, lower_tensor, upstream_names
from .tensor_class import _with_dims

__all__ = ["jax_tensor_layer", "plain_tensor"]

_WINDOW_HELPERS = ("_windows", "_fold", "_first_max", "_window_max", "_window_first_max",
                   "_scatter_add", "_place")


def _arguments(spec):
    """(differentiated arrays, consts, params) in call order."""
    return list(spec.input_names) + list(spec.weight_names), list(spec.const_names), \
        list(spec.param_names)


def _onehot_lines(spec) -> list:
    """Lines making label indices one-hot rows over the first input's last axis."""
    from .labels import labels_of
    x = spec.input_names[0] if spec.input_names else None
    lines = []
    for t in labels_of(spec):
        lines += [f"if jnp.ndim({t}) == jnp.ndim({x}) - 1:     # label indices, not one-hot",
                  f"    {t} = jax.nn.one_hot({t}, jnp.shape({x})[-1], dtype=jnp.result_type({x}))"]
    return lines


def _check(spec) -> None:
    if spec.features.get("loop"):
        raise NotImplementedError("a time loop over a cell: see time_loop_source")


def time_loop_source(spec, cell) -> str:
    """A time layer (``loop: <cell>``): the cell's custom_vjp function run over T steps by
    ``jax.lax.scan``, as the book's TimeRNN/TimeLSTM/TimeGRU (xs (N, T, D) -> hs (N, T, H),
    the states from zeros unless given). Not a custom_vjp itself: its backward is the
    cell's derivation at each step, chained by scan's transpose (the unrolled derivation
    the time layer's page shows, for any T).
    """
    c = cell.layer
    x, *states = c.input_names
    weights = list(c.weight_names)
    names = ["h0", "c0"][:len(states)]
    sig = ", ".join(["xs", *weights] + [f"{n}=None" for n in names])
    carry = ", ".join(names[:len(states)])
    call = f"{c.name}(x, {', '.join(names)}, {', '.join(weights)})"
    multi = bool(c.output_names)
    lines = [f"def {spec.name}({sig}):",
             f'    """{spec.title or spec.name}.',
             "",
             f"    {c.name} (a jax.custom_vjp: the derivation's backward) over the T steps of "
             "xs (N, T, D) with",
             f"    jax.lax.scan; returns hs (N, T, H). {', '.join(names)}: the initial state "
             "(zeros when None).",
             '    """',
             f"    N, H = xs.shape[0], {weights[1]}.shape[0]",
             "    dtype = jnp.result_type(xs, " + ", ".join(weights) + ")"]
    lines += [f"    {n} = jnp.zeros((N, H), dtype) if {n} is None else {n}" for n in names]
    lines += ["", "    def step(carry, x):",
              f"        {carry}{',' if len(names) == 1 else ''} = carry"]
    if multi:
        lines += [f"        {carry} = {call}", f"        return ({carry}), {names[0]}"]
    else:
        lines += [f"        {names[0]} = {call}", f"        return ({names[0]},), {names[0]}"]
    lines += ["", f"    _, hs = jax.lax.scan(step, ({carry}{',' if len(names) == 1 else ''}), "
              "jnp.swapaxes(xs, 0, 1))",
              "    return jnp.swapaxes(hs, 0, 1)"]
    return "\n".join(lines)


def jax_tensor_layer(d) -> JaxCode:
    """The ``jax.custom_vjp`` function of one tensor-layer Derivation, with fwd and bwd."""
    spec = d.layer
    _check(spec)
    name = spec.name
    diff, consts, params = _arguments(spec)
    wrt = list(d.wrt)
    printer = JaxCodePrinter()
    needs = list(dict.fromkeys(n for w in wrt for n in d.needs(w)))
    needs = [n for n in needs if n not in params]
    statements = dict(spec.statements)
    cached = [n for n in needs if n in statements or n == "out"]
    args = diff + consts
    sig = ", ".join(args + [f"{p}={_default(spec, p)}" for p in params])
    nondiff = tuple(range(len(args), len(args) + len(params)))
    deco = "@jax.custom_vjp" if not nondiff else \
        f"@functools.partial(jax.custom_vjp, nondiff_argnums={nondiff!r})"
    taken = set(spec.symbols()) | {"np", "jnp", "jax", "functools", "res", "dout"}
    program = [f"{sym.name} = {show(v)}" for sym, v in spec.program]
    program.append(f"out = {show(spec.output_in_names)}")
    doc = [f'    """{spec.title or name}.', "", *(f"    {line}" for line in program), ""]
    doc += [f"    dL/d{w} = {show(d.result[w])}" for w in wrt]
    doc += ["", f"    A jax.custom_vjp: forward saves {', '.join(needs) or 'only shapes'}; "
            "backward: the derivation's results above.", '    """']

    def forward(wanted):
        lines = _program_lines(spec, wanted, printer, set(taken))
        return _onehot_lines(spec) + _with_dims(spec, lines)
    primal = [deco, f"def {name}({sig}):", *doc, *(f"    {line}" for line in forward(["out"])),
              "    return out"]
    wanted = ["out", *[n for n in cached if n in statements]]
    likes = [f"{a}_like" for a in diff]
    saved = needs
    fwd = [f"def _{name}_fwd({sig}):", *(f"    {line}" for line in forward(wanted)),
           f"    return out, {_tuple(saved + [f'_like({a})' for a in diff])}"]
    # backward: the derivation's results, the dimensions bound from the saved arrays
    upstream = upstream_names(spec)
    grads = [f"d{w}" for w in wrt]
    btaken = set(taken) | set(upstream) | set(needs) | set(grads) | set(likes)
    lines = lower_tensor([d.result[w] for w in wrt], grads, printer, btaken)
    table = spec.symbols()
    out_shape = spec.out_shape[1:] if spec.output_names else spec.out_shape
    sources = [(u, out_shape) for u in upstream]
    sources += [(n, shape_of(table[n])) for n in needs if n in table]
    sources += [(f"{a}_shape", shape_of(table[a])) for a in diff]
    bound = _bind_dims(lines, sources)
    shapes = [f"{a}_shape = {a}_like.shape[1:]" for a in diff
              if any(line.split(" = ")[1].startswith(f"{a}_shape[") for line in bound)]
    head = [f"{', '.join(upstream)} = dout"] if upstream != ["dout"] else []
    rets = [f"_fit(d{a}, {a}_like)" if a in wrt else "None" for a in diff] + ["None"] * len(consts)
    bwd = [f"def _{name}_bwd({''.join(p + ', ' for p in params)}res, dout):",
           f"    {', '.join(saved + likes)}, = res",
           *(f"    {line}" for line in head + shapes + bound + lines),
           f"    return {_tuple(rets)}"]
    source = "\n".join(primal) + "\n\n\n" + "\n".join(fwd) + "\n\n\n" + "\n".join(bwd) \
        + f"\n\n\n{name}.defvjp(_{name}_fwd, _{name}_bwd)"
    helpers = {"_like", "_fit"} | {h for h in _WINDOW_HELPERS if h + "(" in source}
    return JaxCode(source, helpers, [(n, "forward value" if n in statements or n == "out"
                                      else "argument") for n in needs])


def plain_tensor(spec, stable: bool = False) -> str:
    """The layer's program as a plain jnp function (no custom_vjp), for JAX's own autodiff
    to differentiate: each statement as the spec states it, or (``stable``) the forward the
    export computes (softmax with the maximum subtracted...: the benchmarks' reference)."""
    _check(spec)
    printer = JaxCodePrinter()
    diff, consts, params = _arguments(spec)
    sig = ", ".join(diff + consts + [f"{p}={_default(spec, p)}" for p in params])
    if stable:
        lines = _program_lines(spec, ["out"], printer, set(spec.symbols()) | {"jnp", "jax"})
    else:
        lines = [f"{sym.name} = {printer.doprint(v)}" for sym, v in spec.program]
        lines.append(f"out = {printer.doprint(spec.output_in_names)}")
    lines = _onehot_lines(spec) + _with_dims(spec, lines)
    return "\n".join([f"def {spec.name}({sig}):", *(f"    {line}" for line in lines),
                      "    return out"]) + "\n"
