"""MathML walkthrough: an HTML fragment, each formula converted by latex2mathml.

The LaTeX comes from the same printers as the LaTeX renderer, so a symbol is
spelled in one place only.

>>> from derive import derive
>>> html = render(derive("sigmoid"))
>>> html.startswith('<section class="derive-walkthrough"') and "<math" in html
True
"""
from __future__ import annotations

import re
from html import escape

from latex2mathml.converter import convert

from . import Display, Heading, Para, document, join_parts, spelling

#: latex2mathml's \hat: a stretchy U+005E over an mrow, which Chromium draws as a wide hat
#: standing above the letter; the accent MathML Core draws on the letter is U+02C6, not
#: stretched, over the bare <mi>
_HAT = re.compile(r'<mover accent="true"><mrow>(<mi>[^<]*</mi>)</mrow><mo>&#x0005E;</mo></mover>')
_SET_HAT = r'<mover accent="true">\1<mo stretchy="false">&#x002C6;</mo></mover>'


def math(source: str, block: bool = False) -> str:
    r"""One LaTeX formula as a ``<math>`` element (``\hat{x}`` with its accent on the x).

    >>> math(r"\hat{x}")
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><mover accent="true"><mi>x</mi><mo stretchy="false">&#x002C6;</mo></mover></mrow></math>'
    """
    return _HAT.sub(_SET_HAT, convert(source, display="block" if block else "inline"))


def _para(parts) -> str:
    return "<p>" + join_parts(parts, math, lambda c: f"<code>{escape(c)}</code>", escape) + "</p>"


def display(rows) -> str:
    body = r" \\ ".join(f"{lhs} &= {rhs}" for lhs, rhs in rows)
    return math(r"\begin{align*} " + body + r" \end{align*}", block=True)


def render(d, lang: str = "en") -> str:
    """The walkthrough of ``d`` as an HTML fragment with MathML formulas."""
    attr = f' lang="{lang}"' if lang != "en" else ""
    parts = [f'<section class="derive-walkthrough" data-layer="{escape(d.spec.name)}"{attr}>']
    for block in document(d, spelling(d, latex=True), lang):
        if isinstance(block, Heading):
            level = 2 if block.level == 1 else 3
            parts.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Para):
            parts.append(_para(block.parts))
        elif isinstance(block, Display):
            parts.append(f'<div class="derive-display">{display(block.rows)}</div>')
    parts.append("</section>")
    return "\n".join(parts) + "\n"
