"""Plain-text walkthrough: the page's names (y, ∂L/∂y), NumPy's syntax and masks.

>>> from derive import derive
>>> text = render(derive("sigmoid"))
>>> "∂L/∂x = (∂L/∂y)*y*(1 - y)" in text
True
"""
from __future__ import annotations

import unicodedata

from . import Code, Display, Edges, Heading, Math, Para, document, spelling
from .edges_text import draw


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a wide (CJK) character takes two.

    >>> width("계산 그래프"), width("graph")
    (11, 5)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _line(parts) -> str:
    return "".join(p.source if isinstance(p, (Math, Code)) else p for p in parts)


def render(d, lang: str = "en") -> str:
    """The walkthrough of ``d`` as plain text."""
    lines = []
    for block in document(d, spelling(d, latex=False), lang):
        if isinstance(block, Heading):
            if lines:
                lines.append("")
            lines.append(block.text)
            lines.append(("=" if block.level == 1 else "-") * width(block.text))
        elif isinstance(block, Para):
            lines.append(_line(block.parts))
        elif isinstance(block, Display):
            lines += [f"    {lhs} = {rhs}" for lhs, rhs in block.rows]
        elif isinstance(block, Edges):
            lines.append(_line(block.caption))
            lines += ["    " + line for line in draw(block.rows)]
    return "\n".join(lines) + "\n"
