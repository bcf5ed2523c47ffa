"""The backward walkthrough: node by node, in reverse topological order.

For each node: the upstream gradient arriving (∂L/∂node), the node's local
derivative per input (from the rule table), and the product leaving it. When
a value fans out, its branches are added in a ``sum`` step. Every completed
gradient ∂L/∂v is proven equal to SymPy's own derivative of the forward
formula with v cut out of the graph (v replaced by a fresh symbol).
"""
from __future__ import annotations

import sympy as sp

from .graph import Graph
from .rules import c, u0, u1, u2
from .steps import Recorder, dout, out


def _display_value(graph: Graph, i: int) -> sp.Expr:
    """How node i's value appears in a step: ``out`` for the output, else its formula."""
    return out if i == graph.output else graph.node(i).expr


def cut_reference(graph: Graph, i: int) -> sp.Expr:
    """dL/dv for node i by SymPy's diff: replace v by a symbol V, differentiate, put v back."""
    V = sp.Dummy("V", real=True)
    F = graph.value({i: V})
    return dout * sp.diff(F, V).xreplace({V: graph.node(i).expr})


def _depends_on(graph: Graph, targets: set) -> set:
    """Ids of nodes whose value depends on any node in ``targets``."""
    dep = set()
    for n in graph.nodes:
        if n.id in targets or any(a in dep for a in n.args):
            dep.add(n.id)
    return dep


def backward_steps(graph: Graph, rec: Recorder, wrt) -> dict:
    """Record the backward pass for the inputs ``wrt`` (Symbols); return ∂L/∂input by name."""
    wanted = {graph.inputs.index(s) for s in wrt}
    live = _depends_on(graph, wanted)
    edges = {}  # node id -> number of nonzero edges into it from live consumers
    for n in graph.op_nodes:
        for k, a in enumerate(n.args):
            if a in live and n.rule.local[k] != 0:
                edges[a] = edges.get(a, 0) + 1
    parts: dict = {graph.output: [dout]}
    adj: dict = {}
    if graph.node(graph.output).op != "input":
        rec.record("seed", "seed", "out", "out", dout, reference=dout, against="the definition",
                   what="the seed ∂L/∂out = dout")
    for n in reversed(graph.nodes):
        if n.id not in parts:
            continue
        adj[n.id] = _complete(graph, rec, n, parts[n.id])
        if n.op == "input":
            continue
        rule = n.rule
        args = [_display_value(graph, a) for a in n.args]
        locals_ = rule.local_at(args, _display_value(graph, n.id), n.const)
        for k, (a, local) in enumerate(zip(n.args, locals_)):
            if a not in live or rule.local[k] == 0:
                continue
            arg = graph.node(a)
            contribution = adj[n.id] * local
            complete = edges[a] == 1
            if complete:
                ref = cut_reference(graph, a)
                against = f"SymPy's diff of the forward formula with respect to {arg.name}"
            else:
                ref = adj[n.id] * _reference_local(graph, n, k)
                against = f"the upstream gradient times SymPy's diff of the {n.label()} node"
            rec.record("chain", n.op, n.name, arg.name, contribution, reference=ref, against=against,
                       upstream=adj[n.id], local=local, complete=complete, note=rule.note,
                       what=f"∂L/∂{arg.name} through the {n.label()} node")
            parts.setdefault(a, []).append(contribution)
    return {str(graph.node(i).expr): adj.get(i, sp.Integer(0)) for i in sorted(wanted)}


def _reference_local(graph: Graph, n, k) -> sp.Expr:
    """SymPy's derivative of node n's own operation with respect to its k-th input."""
    placeholders = (u0, u1, u2)[: len(n.args)]
    value = n.rule.value if n.const is None else n.rule.value.xreplace({c: n.const})
    d = sp.diff(value, placeholders[k])
    return d.xreplace(dict(zip(placeholders, [graph.node(a).expr for a in n.args])))


def _complete(graph, rec, n, contributions) -> sp.Expr:
    if len(contributions) == 1:
        return contributions[0]
    total = sp.Add(*contributions)
    rec.record("sum", "sum", n.name, n.name, total, reference=cut_reference(graph, n.id),
               against=f"SymPy's diff of the forward formula with respect to {n.name}",
               what=f"∂L/∂{n.name}: the branches that fan out add up",
               note=f"{n.name} feeds {len(contributions)} nodes; their gradients add")
    return total
