"""The backward walkthrough: node by node, in reverse topological order.

For each node: the upstream gradient arriving (∂L/∂node), the node's local
derivative per input from the rule table — or, for a structural node (matrix
product, sum over an axis, transpose...), its vector-Jacobian product — and the
contribution leaving it. When a value fans out, its branches are added in a ``sum``
step. Every step is proven:

* a gradient completed at v, when everything between v and the output is elementwise:
  against SymPy's own derivative of the forward formula with v cut out of the graph;
* one branch (or any elementwise step of a tensor layer): against the upstream gradient
  times SymPy's derivative of the node's own operation, per element;
* a structural step: the rule's VJP against SymPy's derivative of the node's index form,
  for every size (:func:`derive.tensorproof.prove_vjp`);
* a broadcast operand's gradient (``db = Σ_n dout``): its copies add up, in index form.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from .graph import Graph, apply
from .indexform import element, free_indices
from .rules import c, u0, u1, u2
from .rules import diff as rules_diff
from .steps import Recorder
from .tensor import array, shape_of, unbroadcast
from .tensorproof import prove_broadcast, prove_vjp
from .vjp import elementwise_vjp, structural_vjp


@dataclass
class Names:
    """How node values appear in steps: ``out``, a statement's name, else the value
    (written in the statements' names)."""

    graph: Graph
    out: sp.Symbol
    dout: sp.Symbol
    symbols: dict           # name -> the layer's symbol for it (with its assumptions)

    def value(self, i: int) -> sp.Expr:
        n = self.graph.node(i)
        if i == self.graph.output:
            return self.out
        return self.symbols[n.name] if n.statement else n.expr


def cut_reference(graph: Graph, i: int, dout: sp.Symbol) -> sp.Expr:
    """dL/dv for node i by SymPy's diff: replace v by a symbol V, differentiate, put v back."""
    V = sp.Dummy("V", real=True)
    F = graph.value({i: V})
    return dout * rules_diff(F, V).xreplace({V: graph.node(i).expr})


def _depends_on(graph: Graph, targets: set) -> set:
    """Ids of nodes whose value depends on any node in ``targets``."""
    dep = set()
    for n in graph.nodes:
        if n.id in targets or any(a in dep for a in n.args):
            dep.add(n.id)
    return dep


def _elementwise_above(graph: Graph) -> set:
    """Ids of nodes from which every path to the output is elementwise, without broadcasting."""
    consumers: dict = {}
    for n in graph.op_nodes:
        for a in n.args:
            consumers.setdefault(a, []).append(n)
    ok = set()
    for n in reversed(graph.nodes):
        users = consumers.get(n.id, [])
        if n.id == graph.output or (users and all(
                u.id in ok and not u.rule.structural and u.shape == n.shape for u in users)):
            ok.add(n.id)
    return ok


def _boundary(graph, n) -> bool:
    """A structural node, or one with a broadcast operand: its VJP sums or mixes elements,
    so the elementwise gradient arriving is put into cached values first."""
    return n.rule.structural or any(graph.node(a).shape != n.shape for a in n.args)


def _edge_live(n, k) -> bool:
    return n.passes_gradient(k)


def backward_steps(graph: Graph, rec: Recorder, wrt, names: Names, rewrite=None) -> dict:
    """Record the backward pass for the inputs ``wrt`` (Symbols); return ∂L/∂input by name.

    ``rewrite(rec, node, gradient)`` may put a completed gradient into cached values
    before it passes through a structural node (recording its proven steps).
    """
    wanted = {graph.inputs.index(s) for s in wrt}
    live = _depends_on(graph, wanted)
    tensor = rec.context is not None
    smooth = _elementwise_above(graph) if tensor else {n.id for n in graph.nodes}
    edges: dict = {}
    for n in graph.op_nodes:
        for k, a in enumerate(n.args):
            if a in live and _edge_live(n, k):
                edges[a] = edges.get(a, 0) + 1
    parts: dict = {graph.output: [names.dout]}
    adj: dict = {}
    if not graph.node(graph.output).is_leaf:
        rec.record("seed", "seed", "out", "out", names.dout, reference=names.dout,
                   against="the definition", what="the seed ∂L/∂out = dout",
                   shape=shape_of(names.dout))
    for n in reversed(graph.nodes):
        if n.id not in parts:
            continue
        adj[n.id] = _complete(graph, rec, n, parts[n.id], names, n.id in smooth)
        if n.is_leaf:
            continue
        if rewrite is not None and tensor and n.id != graph.output and _boundary(graph, n):
            adj[n.id] = rewrite(rec, n, adj[n.id])
        for k, a in enumerate(n.args):
            if a not in live or not _edge_live(n, k):
                continue
            contribution = _chain(graph, rec, n, k, adj[n.id], names, edges[a] == 1,
                                  a in smooth, tensor)
            parts.setdefault(a, []).append(contribution)
    return {graph.node(i).expr.name: adj.get(i, sp.Integer(0)) for i in sorted(wanted)}


def _chain(graph, rec, n, k, upstream, names, complete, smooth, tensor):
    """Record the step from node n to its operand k; return the contribution."""
    arg = graph.node(n.args[k])
    rule = n.rule
    what = f"∂L/∂{arg.name} through the {n.label()} node"
    args = [names.value(a) for a in n.args]
    if n.op == "max":
        shifted = _shift_by_max(rec, n, arg, upstream, what, complete)
        if shifted is not None:
            return shifted
    if rule.structural:
        value = rule.sympy(*args, *n.params)
        contribution = structural_vjp(value, k, upstream)
        symbolic = structural_vjp(value, k, _gradient_symbol(n.name, n.shape))
        proof = prove_vjp(apply(n, [graph.node(a).expr for a in n.args]), k)
        rec.record("chain", n.op, n.name, arg.name, contribution, proof=proof,
                   against="the rule's vector-Jacobian product, proven in index form",
                   what=what, upstream=upstream, local=symbolic, complete=complete,
                   note=rule.note, index=_index_argument(n, k, names), shape=arg.shape)
        return contribution
    local = rule.local_at(args, names.value(n.id), n.const)[k]
    raw, raw_proof = _raw_local(graph, rec, n, k, local, what, names)
    contribution = elementwise_vjp(upstream, local, arg.shape)
    if complete and smooth and not tensor:
        reference = cut_reference(graph, arg.id, names.dout)
        against = f"SymPy's diff of the forward formula with respect to {arg.name}"
    else:
        reference = upstream * _reference_local(graph, n, k)
        against = f"the upstream gradient times SymPy's diff of the {n.label()} node"
    if contribution != upstream * local:       # a broadcast operand: its copies add up
        proof = rec.prove(upstream * local, reference, what)
        proof = replace(proof, detail=proof.detail + "; " + prove_broadcast(n.shape, arg.shape))
        rec.record("chain", n.op, n.name, arg.name, contribution, proof=_with(proof, raw_proof),
                   against=against, what=what, upstream=upstream, local=local,
                   complete=complete, note=rule.note, index=_broadcast_index(n, arg, names),
                   shape=arg.shape, raw=raw)
        return contribution
    proof = _with(rec.prove(contribution, reference, what), raw_proof)
    rec.record("chain", n.op, n.name, arg.name, contribution, proof=proof,
               against=against, upstream=upstream, local=local, complete=complete,
               note=rule.note, what=what, shape=arg.shape, raw=raw)
    return contribution


def _raw_local(graph, rec, n, k, local, what, names):
    """The rule's local derivative in the names of the node's operands (−1/c² for
    ``out = 1/c``), with the proof that it equals the cached ``local`` (−out²); (None, None)
    when the two are written alike or the equality is not proven."""
    from .errors import ProofError
    operands = [graph.node(a) for a in n.args]
    named = [names.value(a.id) if a.is_leaf or a.statement else array(a.name, a.shape)
             for a in operands]
    raw = _rule_derivative(n, k, named)
    if raw == local or raw.has(sp.Piecewise, sp.Heaviside) or not raw.free_symbols - \
            local.free_symbols:
        return None, None
    values = {s: a.expr for s, a in zip(named, operands) if not (a.is_leaf or a.statement)}
    try:
        proof = rec.prove(raw.xreplace(values), local, what + " (the local derivative)")
    except ProofError:
        return None, None
    return raw, proof


def _with(proof, raw_proof):
    if raw_proof is None:
        return proof
    return replace(proof, detail=f"{proof.detail}; the rule's local derivative equals its "
                                 f"cached form ({raw_proof.method})")


def _shift_by_max(rec, n, arg, upstream, what, complete):
    """np.max over an axis, where the layer only shifts by it (a stable softmax or
    logsumexp): the gradient arriving is proven 0, so nothing flows back through it.
    None otherwise: the maximum's own VJP (to the first maximum) is taken."""
    from .errors import ProofError
    try:
        proof = rec.prove(upstream, sp.Integer(0), what + " (the gradient arriving is 0)")
    except ProofError:
        return None
    rec.record("chain", n.op, n.name, arg.name, sp.Integer(0), proof=proof,
               against="zero", what=what, upstream=upstream, local=sp.Integer(0),
               complete=complete, shape=arg.shape,
               note=(f"the gradient arriving at {n.name} is 0 (proven): the layer only shifts "
                     "by the maximum, which does not change its output, so nothing flows back "
                     "through np.max"))
    return sp.Integer(0)


def _reference_local(graph: Graph, n, k) -> sp.Expr:
    """SymPy's derivative of node n's own operation with respect to its k-th input."""
    return _rule_derivative(n, k, [graph.node(a).expr for a in n.args])


def _rule_derivative(n, k, operands) -> sp.Expr:
    """SymPy's derivative of node n's rule with respect to its k-th input, at ``operands``."""
    placeholders = (u0, u1, u2)[: len(n.args)]
    value = n.rule.value if n.const is None else n.rule.value.xreplace({c: n.const})
    return rules_diff(value, placeholders[k]).xreplace(dict(zip(placeholders, operands)))


def _gradient_name(name: str) -> str:
    """``dh``: the name of the gradient ∂L/∂h arriving at node h (``dout`` for the output)."""
    return "d" + name if name != "out" else "dout"


def _gradient_symbol(name: str, shape) -> sp.Symbol:
    return array(_gradient_name(name), shape)


def gradient_names(graph: Graph) -> dict:
    """Gradient symbol name -> the node it belongs to (``dh`` -> ``h``), for the printers.
    A layer with several outputs keeps ``dh_next``, ``dc_next`` as the upstream arrays' own
    names (they are arguments of backward)."""
    top = graph.node(graph.output)
    outputs = {graph.node(a).name for a in top.args} if top.op == "outputs" else set()
    return {_gradient_name(n.name): n.name for n in graph.nodes if n.name not in outputs}


def _letters(*exprs) -> tuple:
    """The expressions with their summation indices renamed k, m, j, ... (for the page)."""
    used = {s.name for e in exprs for s in e.free_symbols}
    free = [c for c in "kmjlrsuvw" if c not in used]
    dummies = sorted({d for e in exprs for d in e.atoms(sp.Dummy)}, key=lambda d: d.name)
    names = {d: sp.Symbol(free[i] if i < len(free) else f"k{i}", integer=True)
             for i, d in enumerate(dummies)}
    return tuple(e.xreplace(names) for e in exprs)


def _index_argument(n, k, names) -> tuple:
    """(∂L/∂operand[idx], its value in index form) with the arriving gradient as ∂L/∂node."""
    operands = [array(names.graph.node(a).name, names.graph.node(a).shape) for a in n.args]
    value = n.rule.sympy(*operands, *n.params)
    G = _gradient_symbol(n.name, n.shape)
    arg = operands[k]
    idx = free_indices(shape_of(arg))
    lhs = element(_gradient_symbol(arg.name, shape_of(arg)), idx)
    return _letters(lhs, element(structural_vjp(value, k, G), idx))


def _broadcast_index(n, arg, names) -> tuple:
    full = _gradient_symbol(n.name, n.shape)
    idx = free_indices(arg.shape)
    return _letters(element(_gradient_symbol(arg.name, arg.shape), idx),
                    element(unbroadcast(full, arg.shape), idx))


def _complete(graph, rec, n, contributions, names, smooth) -> sp.Expr:
    if len(contributions) == 1:
        return contributions[0]
    total = sp.Add(*contributions)
    if smooth and rec.context is None:
        reference = cut_reference(graph, n.id, names.dout)
        against = f"SymPy's diff of the forward formula with respect to {n.name}"
    else:
        reference = total
        against = "the sum of the branches above (the multivariable chain rule)"
    rec.record("sum", "sum", n.name, n.name, total, reference=reference, against=against,
               what=f"∂L/∂{n.name}: the branches that fan out add up",
               note=f"{n.name} feeds {len(contributions)} nodes; their gradients add",
               shape=n.shape)
    return total
