"""JSON: the derivation as data, for tools (the docs site, editors, CI).

Result strings use the names ``dout``, ``out``, the inputs and params, and are
SymPy's ``str`` (parsable back); ``latex`` fields come from the same printer as
the LaTeX walkthrough.

>>> from derive import derive
>>> data = to_dict(derive("sigmoid"))
>>> data["result"], data["needs"]
({'x': 'dout*out*(1 - out)'}, {'x': ['out']})
>>> [s["rule"] for s in data["steps"] if s["kind"] == "chain"]
['reciprocal', 'add_const', 'exp', 'neg']
"""
from __future__ import annotations

import json

from .printers import DeriveLatexPrinter, out_name_for


def _step(step, printer) -> dict:
    """The step's own data (Step.to_dict) plus its LaTeX."""
    return {**step.to_dict(), "latex": printer.doprint(step.expr)}


def to_dict(d) -> dict:
    """The derivation as plain data (see the module docstring for the names)."""
    spec = d.spec
    printer = DeriveLatexPrinter({"out_name": out_name_for(spec)})
    return {
        "layer": spec.name,
        "title": spec.title,
        "inputs": list(spec.input_names),
        "params": {p: spec.defaults.get(p) for p in spec.param_names},
        "forward": str(spec.forward),
        "forward_latex": printer.doprint(spec.forward),
        "graph": d.graph.to_dict(),
        "steps": [_step(s, printer) for s in d.steps],
        "result": {name: str(e) for name, e in d.result.items()},
        "result_latex": {name: printer.doprint(e) for name, e in d.result.items()},
        "cache": dict(d.cache),
        "needs": {name: list(d.needs(name)) for name in d.result},
        "notes": list(spec.notes),
    }


def render(d, indent: int = 2) -> str:
    """:func:`to_dict` as a JSON string."""
    return json.dumps(to_dict(d), indent=indent, ensure_ascii=False) + "\n"
