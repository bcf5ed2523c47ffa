"""Markdown walkthrough, renderable on GitHub: ``$$...$$`` blocks on their own lines.

Displayed rows use ``array`` (GitHub's MathJax and KaTeX both take it inside
``$$``); inline formulas are GitHub's code-math ``$`...`$``, which the Markdown
parser leaves alone (in plain ``$...$`` two underscores, as in ``x_{1} y_{2}``,
could be read as emphasis first).

>>> from derive import derive
>>> md = render(derive("sigmoid"))
>>> md.startswith("# Sigmoid") and "\\n$$\\n" in md
True
"""
from __future__ import annotations

from . import Display, Edges, Heading, Para, document, join_parts, spelling
from .edges_text import draw

_MARKDOWN = "\\`*_[]<>#|"


def escape(text: str) -> str:
    r"""Prose → Markdown: characters Markdown would act on are backslash-escaped.

    >>> escape("add_const *x*")
    'add\\_const \\*x\\*'
    """
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text)


def inline(tex: str) -> str:
    r"""Inline math as GitHub code-math.

    >>> inline(r"x_{1} y_{2}")
    '$`x_{1} y_{2}`$'
    """
    return f"$`{tex}`$"


def _para(parts) -> str:
    return join_parts(parts, inline, lambda c: f"`{c}`", escape)


def display(rows) -> str:
    if len(rows) == 1:
        lhs, rhs = rows[0]
        body = f"{lhs} = {rhs}"
    else:
        body = "\\begin{array}{rcl}\n" + " \\\\\n".join(
            f"{lhs} & = & {rhs}" for lhs, rhs in rows) + "\n\\end{array}"
    return f"$$\n{body}\n$$"


def render(d, lang: str = "en") -> str:
    """The walkthrough of ``d`` as GitHub Markdown."""
    chunks = []
    for block in document(d, spelling(d, latex=True), lang):
        if isinstance(block, Heading):
            chunks.append("#" * block.level + " " + escape(block.text))
        elif isinstance(block, Para):
            chunks.append(_para(block.parts))
        elif isinstance(block, Display):
            chunks.append(display(block.rows))
        elif isinstance(block, Edges):
            chunks.append(_para(block.caption) + "\n\n```text\n" + "\n".join(draw(block.rows))
                          + "\n```")
    return "\n\n".join(chunks) + "\n"
