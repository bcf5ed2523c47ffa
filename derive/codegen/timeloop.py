"""Time layers: an exported cell (RNN, LSTM, GRU) run over T steps, as the book's TimeRNN.

A catalogue layer with ``loop: <cell>`` is exported as the cell's own code (its proven
backward function and class) and a ``Time<Cell>`` class that runs one cell per step:
forward takes xs (N, T, D) and returns the first output over time, hs (N, T, H), carrying
the states (h, and c for an LSTM) from step t to t + 1 (and across calls when
``stateful``); backward runs t = T − 1 … 0, adds each step's weight gradients (the
weights are shared by every step) and passes the state gradients back from step t to
t − 1, ending in ``dh`` (and ``dc``), the gradient to the initial state. This is the
derivation the time layer's page shows for a few steps, unrolled.
"""
from __future__ import annotations

from .elementwise import LayerCode

__all__ = ["time_layer_code", "cell_of"]


def cell_of(spec) -> str | None:
    return spec.features.get("loop")


def _class(spec, cell, api) -> str:
    """The source of the Time class for the cell derivation ``cell``."""
    c = cell.layer
    name = spec.class_name
    weights = list(c.weight_names)
    x, *states = c.input_names
    outs = list(c.output_names) or ["out"]
    book2 = api == "book2"
    w_list = ", ".join(weights)
    lines = [f"class {name}:",
             f'    """{spec.title}.',
             "",
             f"    forward(xs (N, T, ·)) runs one {c.class_name} per step, carrying "
             f"{', '.join(states)} from step t to t + 1",
             "    (and across calls when stateful); backward(dhs) runs t = T − 1 … 0, adds the",
             "    steps' weight gradients and passes the state gradients back; dh "
             + ("and dc hold" if len(states) > 1 else "holds") + " the gradient to the",
             "    initial state.",
             '    """',
             "",
             f"    def __init__(self, {w_list}, stateful=False):"]
    if book2:
        lines += [f"        self.params = [{w_list}]",
                  f"        self.grads = [{', '.join(f'np.zeros_like({w})' for w in weights)}]"]
    else:
        lines += [f"        self.{w} = {w}" for w in weights]
        lines.append(f"        {' = '.join(f'self.d{w}' for w in weights)} = None")
    state_attrs = ["h", "c"][:len(states)]
    lines += ["        self.stateful = stateful",
              f"        self.layers = {' = '.join(f'self.{s}' for s in state_attrs)} = None",
              f"        {' = '.join(f'self.d{s}' for s in state_attrs)} = None", ""]
    lines += [f"    def set_state(self, {', '.join(s + ('=None' if k else '') for k, s in enumerate(state_attrs))}):"]
    lines += [f"        self.{s} = {s}" for s in state_attrs]
    lines += ["", "    def reset_state(self):",
              f"        {' = '.join(f'self.{s}' for s in state_attrs)} = None", ""]
    get = (f"        {w_list}{',' if len(weights) == 1 else ''} = self.params" if book2 else
           "".join(f"        {w} = self.{w}\n" for w in weights).rstrip("\n"))
    lines += ["    def forward(self, xs):", get,
              "        N, T, _ = xs.shape",
              f"        H = {weights[1]}.shape[0]",
              "        dtype = np.result_type(xs, np.float16)"]
    for s in state_attrs:
        lines += [f"        if not self.stateful or self.{s} is None:",
                  f"            self.{s} = np.zeros((N, H), dtype=dtype)"]
    lines += ["        hs = np.empty((N, T, H), dtype=dtype)", "        self.layers = []",
              "        for t in range(T):",
              f"            layer = {c.class_name}({w_list})"]
    state_now = ", ".join(f"self.{s}" for s in state_attrs)
    if len(outs) > 1:
        lines.append(f"            {state_now} = layer.forward(xs[:, t, :], {state_now})")
    else:
        lines.append(f"            self.h = layer.forward(xs[:, t, :], self.h)")
    lines += ["            hs[:, t, :] = self.h", "            self.layers.append(layer)",
              "        return hs", "",
              "    def backward(self, dhs):",
              "        N, T, _ = dhs.shape",
              "        dxs = None",
              f"        {', '.join('d' + s for s in state_attrs)} = "
              + ", ".join("0.0" for _ in state_attrs),
              f"        grads = [0.0] * {len(weights)}",
              "        for t in reversed(range(T)):",
              "            layer = self.layers[t]"]
    upstream = ["dhs[:, t, :] + dh"] + [f"d{s}" for s in state_attrs[1:]]
    lines.append(f"            dx, {', '.join('d' + s for s in state_attrs)} = "
                 f"layer.backward({', '.join(upstream)})")
    lines += ["            if dxs is None:",
              "                dxs = np.empty((N, T) + dx.shape[1:], dtype=dx.dtype)",
              "            dxs[:, t, :] = dx"]
    for k, w in enumerate(weights):
        got = f"layer.grads[{k}]" if book2 else f"layer.d{w}"
        lines.append(f"            grads[{k}] = grads[{k}] + {got}")
    for k, w in enumerate(weights):
        lines.append(f"        self.grads[{k}][...] = grads[{k}]" if book2 else
                     f"        self.d{w} = grads[{k}]")
    lines += [f"        self.d{s} = d{s}" for s in state_attrs]
    lines.append("        return dxs")
    return "\n".join(lines)


def time_layer_code(d, api: str = "book1") -> LayerCode:
    """The cell's code, and the time class looping over it."""
    from .. import budget
    from ..derivation import derive
    from .tensor import tensor_layer_code
    budget.restart()                    # the cell is a derivation of its own, bounded alike
    cell = derive(cell_of(d.spec))
    code = tensor_layer_code(cell, api)
    return LayerCode(code.function, code.cls + "\n\n\n" + _class(d.spec, cell, api),
                     code.helpers, code.caches)
