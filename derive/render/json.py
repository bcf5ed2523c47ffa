"""JSON: the derivation as data, for tools (the docs site, editors, CI).

``result`` maps each differentiated name to its gradient as a NumPy expression in the
parser's own syntax (``derive check --backward "<result>"`` accepts it), reading
``dout``, the inputs and the cached values; ``cache`` maps each cached value a result
reads (``out``, a statement's name) to its NumPy expression in the inputs, so a script
can evaluate any gradient from the inputs alone. ``latex`` fields come from the same
printer as the LaTeX walkthrough.

>>> from derive import derive
>>> data = to_dict(derive("sigmoid"))
>>> data["result"], data["cache"], data["needs"]
({'x': 'dout*out*(1 - out)'}, {'out': '1/(1 + np.exp(-x))'}, {'x': ['out']})
>>> [s["rule"] for s in data["steps"] if s["kind"] == "chain"]
['reciprocal', 'add_const', 'exp', 'neg']
"""
from __future__ import annotations

import json

from ..shapeargs import shape_argument
from ..tensor import shape_of
from . import spelling
from .printers import text


def _step(step, printer, graph) -> dict:
    """The step's own data (Step.to_dict) plus its LaTeX and, for a step that changes
    shape, its shape argument (``(N, M)·(M, D) = (N, D)``)."""
    data = {**step.to_dict(), "latex": printer.doprint(step.expr)}
    argument = shape_argument(graph, step)
    if argument is not None:
        data["shape_argument"] = str(argument)
    return data


def _shapes(spec) -> dict:
    return {s.name: [str(d) for d in shape_of(s)]
            for s in (*spec.differentiable, *spec.consts, *spec.params)}


def to_dict(d) -> dict:
    """The derivation as plain data (see the module docstring for the names)."""
    spec = d.spec
    printer = spelling(d, latex=True).printer
    return {
        "layer": spec.name,
        "title": spec.title,
        "inputs": list(spec.input_names),
        "weights": list(spec.weight_names),
        "consts": {c: spec.defaults.get(c) for c in spec.const_names},
        "params": {p: spec.defaults.get(p) for p in spec.param_names},
        "shapes": _shapes(spec),
        "forward": text(spec.forward),
        "statements": {s.name: text(v) for s, v in spec.program},
        "forward_latex": printer.doprint(spec.forward),
        "graph": d.graph.to_dict(),
        "steps": [_step(s, printer, d.graph) for s in d.steps],
        "result": {name: text(e) for name, e in d.result.items()},
        "cache": {name: text(v) for name, v in d.cached().items()},
        "result_latex": {name: printer.doprint(e) for name, e in d.result.items()},
        "form": dict(d.form),
        "needs": {name: list(d.needs(name)) for name in d.result},
        "assume": [t for *_, t in spec.assume],
        "notes": list(spec.notes),
    }


def render(d, indent: int = 2, lang: str = "en") -> str:
    """:func:`to_dict` as a JSON string. JSON is data: its keys and notes stay English in
    every ``lang``."""
    return json.dumps(to_dict(d), indent=indent, ensure_ascii=False) + "\n"
