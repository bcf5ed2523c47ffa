"""``derive check LAYER --node c``: a student's own intermediate step, ∂L/∂c.

The node is one of the layer's computational graph (``derive show`` names them: ``a``,
``b``, ``c``, ``out``; a tensor layer's statements ``xc``, ``xn``, ``std``...). Its
gradient is the complete one arriving there — when the node fans out, the sum of its
branches. An elementwise layer's reference is SymPy's own: the forward with the node cut
out and replaced by a symbol V, ``dout * d(forward)/dV``, V put back; a tensor layer's is
the gradient the derivation computed at the node (each of its steps proven), and the
formula is proven against it for every size or refuted at concrete sizes. The verdicts and
exit codes are those of :func:`derive.check.check`.

>>> from derive import catalogue
>>> sigmoid = catalogue.get("sigmoid")
>>> check_node(sigmoid, "-dout*out**2", "c").verdicts[0].status
'proven'
>>> check_node(sigmoid, "dout*out**2", "c").exit_code
1
>>> check_node(sigmoid, "dout", "z")
Traceback (most recent call last):
...
derive.errors.DeriveError: --node z: sigmoid has no node z; its nodes are x, a, b, c, out
"""
from __future__ import annotations

import sympy as sp

from .backward import cut_reference
from .check import CheckReport, Verdict, check, check_gradient, read_backward
from .check_names import unfold_names
from .derivation import derive_spec
from .errors import DeriveError, FormulaShapeError
from .tensor import array

__all__ = ["check_node", "node_gradient", "graph_node"]

# the steps that leave a node's gradient complete (a fan-out's branches are not)
_COMPLETE = ("seed", "sum", "rewrite")


def graph_node(d, name: str):
    """The node of ``d``'s graph called ``name``; a clear error listing the names if none."""
    for n in d.graph.nodes:
        if n.name == name and (not n.is_leaf or n.expr in d.graph.inputs):
            return n
    listed = ", ".join(n.name for n in d.graph.nodes
                       if n.name and (not n.is_leaf or n.expr in d.graph.inputs))
    raise DeriveError(f"--node {name}: {d.name} has no node {name}; its nodes are {listed}")


def node_gradient(d, node) -> sp.Expr | None:
    """∂L/∂node as the derivation left it: the last step completing the gradient there
    (the seed, the one contribution, the sum of the branches, or its rewrite into cached
    values); None when no gradient reaches the node."""
    if node.id == d.graph.output:
        return d.spec.dout
    found = None
    for step in d.steps:
        if step.target == node.name and (step.kind in _COMPLETE or (
                step.kind == "chain" and step.complete)):
            found = step.expr
    return None if found is None else _unambiguous(d, found)


def _unambiguous(d, e: sp.Expr) -> sp.Expr:
    """``e`` with each graph node that shares its name with one of the layer's own names
    (``attention_weight``'s sum node ``a``, whose output is also called ``a``; a node ``N``
    beside the dimension N) written out as its value, so the name keeps one meaning."""
    own = d.spec.symbols()
    clash = {n.name: n for n in d.graph.op_nodes
             if n.name in own and not n.statement and n.id != d.graph.output}
    return e.xreplace({s: clash[s.name].expr for s in e.free_symbols
                       if s.name in clash and s != own[s.name]})


def check_node(spec, backward: str, name: str) -> CheckReport:
    """Check ``backward`` as ∂L/∂``name`` for the node ``name`` of ``spec``'s graph."""
    d = derive_spec(spec)
    node = graph_node(d, name)
    if node.is_leaf:                       # an input: the plain check
        return check(spec, backward, wrt=name)
    if node.id == d.graph.output and spec.output_names:
        raise DeriveError(f"--node {name}: {spec.name} has several outputs; check the "
                          f"gradient at one of them: --node {' or --node '.join(spec.output_names)}")
    symbol = array(node.name, node.shape)
    expected = node_gradient(d, node)
    report = CheckReport(spec.name, node=name)
    try:
        formula = read_backward(spec, d, backward)
    except FormulaShapeError as exc:
        report.verdicts.append(Verdict(name, "not_equal", sp.Symbol(backward),
                                       expected if expected is not None else sp.nan,
                                       reasons=(f"shape error for every size: {exc}",)))
        return report
    if isinstance(formula.expr, tuple):
        raise DeriveError(f"--node {name}: give one expression, the gradient ∂L/∂{name}; "
                          f"got {len(formula.expr)}")
    if d.tensor:
        if expected is None:
            raise DeriveError(f"--node {name}: no gradient reaches {name} (nothing "
                              "differentiated flows through it)")
        from .check_tensor import check_tensor_gradient
        report.verdicts.append(check_tensor_gradient(d, symbol, formula.expr, expected))
        return report
    unfold = unfold_names(spec, d.graph)
    reference = cut_reference(d.graph, node.id, spec.dout).xreplace(unfold)
    report.verdicts.append(check_gradient(spec, symbol, formula.expr, expected,
                                          reference=reference, unfold=unfold))
    return report
