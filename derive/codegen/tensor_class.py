"""A tensor layer's book-style class, volume 1 (``api="book1"``) or volume 2 (``"book2"``).

Volume 1: weights go to the constructor (``Affine(W, b)``) and their gradients become
attributes (``dW``, ``db``). Volume 2: the constructor keeps the weights in
``self.params = [W, b]`` and zero arrays of their shapes in ``self.grads``; backward
writes each gradient into its array in place (``self.grads[0][...] = dW``), so an
optimizer holding the lists sees it; no input is flattened.

Both: data consts follow the inputs in ``forward`` (``SoftmaxWithLoss.forward(x, t)``);
a scalar output is a loss, ``backward(dout=1)``. Spec features add the book's extras:
``flatten`` (volume 1: a 4-D input is reshaped to rows and dx back), ``labels`` (label
indices read as one-hot rows), ``running`` (running averages for inference,
``train_flg``), ``dropout`` (the mask drawn in forward, scaled at test time).
"""
from __future__ import annotations

import sympy as sp

from ..tensor import shape_of
from .stable_tensor import tensor_stable
from .tensor import _bind_dims, _default, _float, _grads, _program_lines, labels_handled

__all__ = ["class_source", "API"]

API = ("book1", "book2")


_BOOK_RUNNING = {"mu": "mean"}     # the book's BatchNormalization keeps running_mean, running_var


def _running(spec) -> list:
    """(statement name, attribute) of the running averages a class keeps for inference."""
    return [(n, "running_" + _BOOK_RUNNING.get(n, n)) for n in spec.features.get("running", ())]


def _unpack(weights) -> str:
    """``W, b = self.params`` (``W, = self.params`` for one weight)."""
    return f"{', '.join(weights)}{',' if len(weights) == 1 else ''} = self.params"


def class_source(d, printer, fname, needs, params, api="book1", shapes=()) -> tuple:
    """(source of the class, [(attribute, what it holds)])."""
    if api not in API:
        from ..errors import DeriveError
        raise DeriveError(f"unknown API {api!r}: choose from {', '.join(API)}")
    book2 = api == "book2"
    spec = d.layer
    f = spec.features
    weights = list(spec.weight_names)
    dropout = f.get("dropout")
    consts = [c for c in spec.const_names if c != dropout]
    running = _running(spec)
    train = bool(running or dropout)
    flatten = [] if book2 else [x for x in f.get("flatten", ()) if x in spec.input_names]
    cached = [n for n in needs if n not in weights and n not in spec.param_names]
    ctor = list(weights)
    if running:
        ctor += [f"momentum={f.get('momentum', 0.9)!r}"] + [f"{a}=None" for _, a in running]
    if dropout:
        ctor += [f"dropout_ratio={f.get('ratio', 0.5)!r}", "seed=None"]
    ctor += [f"{p}={_default(spec, p)}" for p in spec.param_names]
    from ..render.printers import text
    program = [f"{sym.name} = {text(v)}" for sym, v in spec.program]
    program.append(f"out = {text(spec.output_in_names)}")
    doc = [f'    """{spec.title}.', "", *(f"    {line}" for line in program), ""]
    doc.append(f"    forward caches {', '.join(cached) or 'nothing'}; backward returns "
               + (", ".join(f"d{n}" for n in spec.input_names) or "None")
               + ((f" and writes {', '.join('d' + w for w in weights)} into self.grads in place"
                   if book2 else f" and stores {', '.join('d' + w for w in weights)}")
                  if weights else "")
               + f"; as :func:`{fname}`.")
    doc.append('    """')
    lines = [f"class {spec.class_name}:", *doc, ""]
    if book2:       # volume 2: the lists an optimizer holds
        init = [f"        self.params = [{', '.join(weights)}]",
                f"        self.grads = [{', '.join(f'np.zeros_like({w})' for w in weights)}]"]
    else:
        init = [f"        self.{w} = {w}" for w in weights]
    init += [f"        self.{p} = {p}" for p in spec.param_names]
    if running:
        init.append("        self.momentum = momentum")
        init += [f"        self.{a} = {a}" for _, a in running]
    if dropout:
        init += ["        self.dropout_ratio = dropout_ratio",
                 "        self.rng = np.random.default_rng(seed)"]
    holders = [] if book2 else [f"self.d{w}" for w in weights]
    holders += [f"self.{n}" for n in cached]
    holders += [f"self.original_{x}_shape" for x in flatten]
    holders += [f"self.{x}_shape" for x in shapes]
    if holders:
        init.append(f"        {' = '.join(holders)} = None")
    lines += [f"    def __init__(self{''.join(', ' + a for a in ctor)}):", *(init or ["        pass"]), ""]
    args = [*spec.input_names] + [f"{c}={_float(spec.defaults[c])}" if c in spec.defaults else c
                                  for c in consts]
    if train:
        args.append("train_flg=True")
    lines.append(f"    def forward(self, {', '.join(args)}):")
    body = _forward_body(d, printer, cached, flatten, running, dropout, book2)
    body[-1:-1] = [f"self.{x}_shape = np.shape({x})" for x in shapes]
    lines += [f"        {line}" if line else "" for line in body]
    lines.append("")
    default = "=1.0" if spec.is_loss else ""
    from .tensor import upstream_names
    upstream = upstream_names(spec)
    head = f"    def backward(self, {', '.join(upstream)}{default}):"
    lines.append(head)
    grads = _grads(d)
    if book2 and any(n in weights for n in needs):
        lines.append(f"        {_unpack(weights)}")
    call = ", ".join([*upstream, *(n if book2 and n in weights else f"self.{n}" for n in needs
                                if n not in params),
                      *(f"self.{x}_shape" for x in shapes), *(f"self.{p}" for p in params)])
    lines.append(f"        {', '.join(grads)} = {fname}({call})")
    for i, w in enumerate(weights):
        lines.append(f"        self.grads[{i}][...] = d{w}" if book2 else f"        self.d{w} = d{w}")
    for x in flatten:
        lines.append(f"        d{x} = {reshaped_back(f'd{x}', x)}")
    if flatten and _same_shape_out(spec, flatten):
        lines.insert(lines.index(head) + 1,
                     "        dout = _rows(dout)")
    outs = [f"d{n}" for n in spec.input_names]
    lines.append(f"        return {', '.join(outs) or 'None'}")
    held = [(n, "forward value") for n in cached]
    return "\n".join(lines), held


def flatten_lines(flatten) -> list:
    """A forward's first lines: each input in ``flatten`` kept as rows, its shape kept
    (an array's own ``.shape``, not ``np.shape``'s dispatch: 0.14 against 0.27 us)."""
    return [line for x in flatten
            for line in (f"self.original_{x}_shape = {x}.shape if type({x}) is np.ndarray "
                         f"else np.shape({x})", f"{x} = _rows({x})")]


def reshaped_back(value: str, x: str) -> str:
    """``value`` in the shape ``x`` had before it was made rows (no call when it has it)."""
    return (f"{value} if {value}.shape == self.original_{x}_shape else "
            f"{value}.reshape(self.original_{x}_shape)")


def weight_lines(spec, book2: bool) -> list:
    """The weights (``self.params`` in volume 2's API) and params as local names."""
    lines = [_unpack(spec.weight_names)] if book2 and spec.weight_names else \
        [f"{w} = self.{w}" for w in spec.weight_names]
    return lines + [f"{p} = self.{p}" for p in spec.param_names]


def running_update(running) -> list:
    """The running averages' update after a training forward (zeros the first time)."""
    update = [f"if self.{running[0][1]} is None:"]
    update += [f"    self.{a} = np.zeros_like({n})" for n, a in running]
    return update + [f"self.{a} = self.momentum * self.{a} + (1 - self.momentum) * {n}"
                     for n, a in running]


def _forward_body(d, printer, cached, flatten, running, dropout, book2=False) -> list:
    spec = d.layer
    body = []
    body += flatten_lines(flatten)
    from .labels import labels_of
    table = spec.symbols()
    labels = next((table[t] for t in labels_of(spec)), None)
    full = spec.named()
    wanted_values = [tensor_stable(full[n]) for n in ["out", *cached] if n in full]
    if labels is not None and not labels_handled(wanted_values, labels):
        body.append(f"{labels.name} = _onehot({labels.name}, {spec.input_names[0]})")
        labels = None
    for t in spec.features.get("labels", ()):      # one-hot over the last axis of (N, T, V)
        if t in table and len(shape_of(table[t])) > 2:
            body.append(f"{t} = _onehot({t}, {spec.input_names[0]})")
    body += weight_lines(spec, book2)
    if dropout and spec.features.get("inverted"):     # inverted dropout: test time is x
        x = spec.input_names[0]
        body += ["if not train_flg:", f"    return {x}",
                 f"{dropout} = (self.rng.random(np.shape({x})) > self.dropout_ratio).astype("
                 f"np.result_type({x}, np.float16)) / (1.0 - self.dropout_ratio)"]
    elif dropout:
        x = spec.input_names[0]
        body += ["if not train_flg:", f"    return {x} * (1.0 - self.dropout_ratio)",
                 f"{dropout} = self.rng.random(np.shape({x})) > self.dropout_ratio"]
    wanted = ["out", *[n for n in cached if n in dict(spec.statements)]]
    taken = set(spec.symbols()) | {"np", "self"}
    lines = _program_lines(spec, wanted, printer, taken, labels=labels,
                           keep=[n for n, _ in running])
    if running:
        test = _program_lines(spec, ["out"], printer, set(taken),
                              substitute={n: sp.Symbol(f"self.{a}") for n, a in running})
        update = running_update(running)
        body += ["if not train_flg:"] + [f"    {line}" for line in _with_dims(spec, test)]
        body += [f"    return {reshaped_back('out', flatten[0])}" if flatten and
                 _same_shape_out(spec, flatten) else "    return out"]
        lines = _with_dims(spec, lines)
        body += lines + update
    else:
        body += _with_dims(spec, lines)
    body += [f"self.{n} = {n}" for n in cached]
    if flatten and _same_shape_out(spec, flatten):   # the book's BatchNormalization
        body.append(f"return {reshaped_back('out', flatten[0])}")
    else:
        body.append("return out")
    return body


def _same_shape_out(spec, flatten) -> bool:
    """True when the output has the flattened input's shape (it is reshaped back)."""
    return spec.out_shape == shape_of(spec.symbols()[flatten[0]])


def _with_dims(spec, lines) -> list:
    table = spec.symbols()
    labels = set(spec.features.get("labels", ()))
    sources = [(n, shape_of(table[n])) for n in (*spec.input_names, *spec.const_names,
                                                 *spec.weight_names) if n not in labels]
    return _bind_dims(lines, sources) + lines
