"""The names a student may write in ``derive check``, and the hint when one is unknown.

Besides the layer's own names (inputs, weights, consts, params, dimensions, ``dout``,
``out`` and the statements), a formula may read every value the forward computes by its
node name in the graph (``a``, ``b``, ``c``... as ``derive show`` lists them), and ``y``
for the output as the book writes it — unless the layer has a ``y`` of its own (``mul``'s
second input, ``softmax_with_loss``'s probabilities), which then means that.

>>> from derive import derive
>>> check_names(derive("sigmoid"))
['x', 'dout', 'out', 'y', 'a', 'b', 'c']
>>> names_text(derive("sigmoid"))
'x, dout, out (or y), a, b, c'
>>> check_names(derive("mul"))
['x', 'y', 'dout', 'out']
"""
from __future__ import annotations

import difflib

from .errors import ParseError
from .tensor import array

__all__ = ["check_names", "names_text", "student_names", "node_values", "unfold_names", "with_hint"]


def _nodes(spec, graph) -> dict:
    """name -> node, for the graph's nodes the layer does not already name."""
    own = spec.symbols()
    return {} if graph is None else {
        n.name: n for n in graph.op_nodes
        if n.name and n.name not in own and n.id != graph.output}


def student_names(spec, graph=None) -> dict:
    """name -> Symbol of every name a ``--backward`` formula may use, in the order a page
    lists them: inputs, weights, consts, params, dimensions, the upstream gradient, ``out``
    and its aliases, statements, then the graph's other nodes. A name the layer has is its
    own; ``y`` is out when neither the layer nor its graph has a ``y``."""
    own = spec.symbols()
    extra = {n: array(n, node.shape) for n, node in _nodes(spec, graph).items()}
    if "y" not in own and "y" not in extra:
        extra["y"] = own["out"]
    every = {**extra, **own}
    order = [s.name for s in (*spec.differentiable, *spec.consts, *spec.params)]
    order += [d.name for d in spec.dims()]
    order += [u.name for u in spec.dout.args] if spec.output_names else ["dout"]
    order += ["out", *_out_aliases(every)]
    order += [s.name for s, _ in spec.program]
    names = {n: every[n] for n in dict.fromkeys(order) if n in every}
    names.update({n: v for n, v in own.items() if n not in names})
    names.update({n: v for n, v in extra.items() if n not in names})
    return names


def _out_aliases(names) -> list:
    return [n for n, s in names.items() if n != "out" and s == names["out"]]


def node_values(spec, graph) -> dict:
    """node name -> value in the layer's inputs, for each graph node a formula may read
    that the layer does not already name (``a`` = -x, ``b`` = exp(-x), ...)."""
    named = spec.named()
    values = {}
    for name, n in _nodes(spec, graph).items():
        e = n.expr
        values[name] = e.xreplace({s: named[s.name] for s in e.free_symbols if s.name in named})
    return values


def unfold_names(spec, graph=None) -> dict:
    """Symbol -> value in the inputs, for every name of :func:`student_names` that stands
    for a computed value (out and its aliases, statements, graph nodes)."""
    names = student_names(spec, graph)
    values = dict(spec.named())       # y, when it is out's alias, is out's own Symbol
    if graph is not None:
        values.update(node_values(spec, graph))
    return {names[n]: v for n, v in values.items() if n in names}


def check_names(d) -> list:
    """Every name a student may write in ``derive check`` for the derivation ``d``'s layer."""
    return list(student_names(d.spec, d.graph))


def names_text(d=None, *, spec=None, graph=None) -> str:
    """The names as one line, aliases of out in brackets: ``x, dout, out (or y), a, b, c``."""
    spec = spec if d is None else d.spec
    graph = graph if d is None else d.graph
    names = student_names(spec, graph)
    aliases = _out_aliases(names)
    shown = [f"out (or {', '.join(aliases)})" if n == "out" and aliases else n
             for n in names if n not in aliases]
    return ", ".join(shown)


def with_hint(exc: ParseError, names: dict, listed: str) -> ParseError:
    """``exc`` again, its unknown name followed by the names one may use (and close ones)."""
    name = exc.name
    if name is None:
        return exc
    close = difflib.get_close_matches(name, list(names), n=3)
    message = f"unknown name '{name}'; names you may use: {listed}" + (
        f"; did you mean {', '.join(close)}?" if close else "")
    return ParseError(message, column=exc.column, text=exc.text, line=exc.line, name=name)
