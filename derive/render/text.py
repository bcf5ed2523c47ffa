"""Plain-text walkthrough: the page's names (y, ∂L/∂y), NumPy's syntax and masks.

>>> from derive import derive
>>> text = render(derive("sigmoid"))
>>> "∂L/∂x = (∂L/∂y)*y*(1 - y)" in text
True
"""
from __future__ import annotations

from . import Code, Display, Heading, Math, Para, document, spelling


def _line(parts) -> str:
    return "".join(p.source if isinstance(p, (Math, Code)) else p for p in parts)


def render(d) -> str:
    """The walkthrough of ``d`` as plain text."""
    lines = []
    for block in document(d, spelling(d, latex=False)):
        if isinstance(block, Heading):
            if lines:
                lines.append("")
            lines.append(block.text)
            lines.append(("=" if block.level == 1 else "-") * len(block.text))
        elif isinstance(block, Para):
            lines.append(_line(block.parts))
        elif isinstance(block, Display):
            lines += [f"    {lhs} = {rhs}" for lhs, rhs in block.rows]
    return "\n".join(lines) + "\n"
