"""The shape argument of a tensor step, and the graph's edges with their shapes, as data.

The book justifies ∂L/∂X = ∂L/∂Y·Wᵀ by its shapes: (N, 3)·(3, 2) = (N, 2). Here that
one line is computed from the step's own expression, never typed per layer: the shapes
of a matrix product's factors and of its result, the shape a sum reduces to, the shape
a repeat (broadcast) fills. :class:`ShapeArg` is pure data; the renderers spell it.

>>> from derive import derive
>>> d = derive("affine")
>>> dx = next(s for s in d.steps if s.target == "x")
>>> print(shape_argument(d.graph, dx))
(N, M)·(M, D) = (N, D)
>>> db = next(s for s in d.steps if s.target == "b")
>>> print(shape_argument(d.graph, db))
(N, M) → (M,)
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .tensor import (AxisMax, AxisMean, AxisSum, BroadcastTo, ExpandDims, MatProd, Reshape,
                     Structural, Transposed, shape_of, show_shape)

__all__ = ["ShapeArg", "shape_argument", "broadcast_axes", "Edge", "graph_edges"]


@dataclass(frozen=True)
class ShapeArg:
    """``kind`` 'product': ``shapes`` are the factors' shapes, multiplied to ``result``;
    'einsum': the same with ``subscripts``; 'steps': ``shapes`` is a sequence of shapes,
    each the previous one after the operation ``ops[i]`` (sum, repeat, reshape,
    expand, transpose, or 'map' for any other primitive: gather, place, windows...)."""

    kind: str
    shapes: tuple
    result: tuple
    ops: tuple = ()
    subscripts: str = ""

    def __str__(self) -> str:
        shown = [show_shape(s) for s in self.shapes]
        if self.kind == "product":
            return "·".join(shown) + " = " + show_shape(self.result)
        if self.kind == "einsum":
            return f"{self.subscripts}: " + ", ".join(shown) + " → " + show_shape(self.result)
        return " → ".join(shown + [show_shape(self.result)])


#: unary structural operations a shape passes through, and what the reader calls them
_UNARY = {AxisSum: "sum", AxisMean: "mean", AxisMax: "max", BroadcastTo: "repeat",
          ExpandDims: "expand", Reshape: "reshape", Transposed: "transpose"}


def _unary_chain(e) -> ShapeArg | None:
    """Nested unary structural operations, innermost operand first."""
    ops, shapes = [], []
    while type(e) in _UNARY:
        ops.append(_UNARY[type(e)])
        shapes.append(shape_of(e))
        e = e.args[0]
    if not ops:
        return None
    chain = [shape_of(e)] + shapes[::-1][:-1]
    return ShapeArg("steps", tuple(chain), shapes[0], tuple(ops[::-1]))


def _of_expression(e) -> ShapeArg | None:
    if isinstance(e, MatProd):
        return ShapeArg("product", tuple(shape_of(a) for a in e.args), shape_of(e))
    if type(e).__name__ == "Einsum":
        return ShapeArg("einsum", tuple(shape_of(a) for a in e.args[:2]), shape_of(e),
                        subscripts=e.subscripts.replace("->", "→"))
    chain = _unary_chain(e)
    if chain is not None:
        return chain
    if isinstance(e, Structural):       # gather, place, windows...: the gradient's shape
        arrays = [shape_of(a) for a in e.args if isinstance(a, sp.Basic) and shape_of(a)]
        return ShapeArg("steps", (arrays[0],), shape_of(e), ("map",)) if arrays else None
    return None


def broadcast_axes(full, shape) -> tuple:
    """The axes of ``full`` along which a value of ``shape`` is repeated (NumPy's rules).

    >>> from derive.tensor import dims
    >>> N, M = dims("N M")
    >>> broadcast_axes((N, M), (M,)), broadcast_axes((N, M), (N, 1)), broadcast_axes((N,), (N,))
    ((0,), (1,), ())
    """
    full, shape = tuple(full), tuple(shape)
    lead = len(full) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and full[lead + i] != 1)


def shape_argument(graph, step) -> ShapeArg | None:
    """The one-line shape argument of a tensor ``step`` of ``graph``: a structural node's
    vector-Jacobian product by its factors' shapes, a broadcast operand's gradient as the
    sum from the node's shape down to the operand's; None for a step that keeps its shape."""
    if step.kind != "chain" or not step.shape:
        return None
    node = next(n for n in graph.nodes if n.name == step.node)
    if node.op == "outputs":        # it only hands each output its own upstream gradient
        return None
    if node.rule.structural:
        return _of_expression(step.local)
    arg = next(graph.node(a) for a in node.args if graph.node(a).name == step.target)
    if broadcast_axes(node.shape, arg.shape):
        return ShapeArg("steps", (tuple(node.shape),), tuple(arg.shape), ("sum",))
    return None


@dataclass(frozen=True)
class Edge:
    """One operand going into a node: its name and shape, and the axes of the node's
    shape along which it is repeated (empty unless broadcast)."""

    name: str
    shape: tuple
    repeated: tuple = ()


def graph_edges(graph) -> list:
    """[(node, [Edge per operand])] for every operation node, in topological order."""
    rows = []
    for n in graph.op_nodes:
        edges = []
        for a in n.args:
            arg = graph.node(a)
            rep = broadcast_axes(n.shape, arg.shape) if (
                arg.shape and not n.rule.structural) else ()
            edges.append(Edge(arg.name, tuple(arg.shape), rep))
        rows.append((n, edges))
    return rows
