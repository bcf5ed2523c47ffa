"""The graph as lines of text: each node with its operands joined into it, shapes on the edges.

For a terminal, where there is no picture: the book's drawing of Affine, an operand per
line, a bracket joining them into the node, the node's result and its shape after it.
A broadcast operand passes a ``repeat`` on its way in (the book's Repeat node), to the
node's shape::

    x (N, D) ─────────────────┐
    W (D, M) ─────────────────┴→ dot → a (N, M)
    b (M,) ─ repeat → (N, M) ─┐
    a (N, M) ─────────────────┴→ + → y (N, M)

>>> from derive import derive
>>> from derive.render import edges_block, spelling
>>> d = derive("affine")
>>> print("\\n".join(draw(edges_block(d.graph, spelling(d, False)).rows)))
x (N, D) ─────────────────┐
W (D, M) ─────────────────┴→ dot → a (N, M)
b (M,) ─ repeat → (N, M) ─┐
a (N, M) ─────────────────┴→ + → y (N, M)
"""
from __future__ import annotations

from ..tensor import show_shape

__all__ = ["draw"]


def _named(name, shape) -> str:
    return f"{name} {show_shape(shape)}" if shape else name


def _operand(edge, node_shape) -> str:
    text = _named(edge.name, edge.shape)
    return f"{text} ─ repeat → {show_shape(node_shape)}" if edge.repeated else text


def draw(rows) -> list:
    """Lines of text for :class:`~derive.render.Edges` rows (operands, label, name, shape)."""
    width = max((len(_operand(e, shape)) for edges, _, _, shape in rows for e in edges),
                default=0)
    lines = []
    for edges, label, name, shape in rows:
        result = f"→ {label} → {_named(name, shape)}"
        last = len(edges) - 1
        for i, e in enumerate(edges):
            text = _operand(e, shape)
            joint = ("─" + result if last == 0 else "┐" if i == 0 else
                     "┤" if i < last else "┴" + result)
            lines.append(f"{text} " + "─" * (width - len(text) + 1) + joint)
    return lines
