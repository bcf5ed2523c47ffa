"""Rich display of a :class:`~derive.derivation.Derivation` in Jupyter.

``_repr_html_`` shows MathML and the graph as SVG (no script needed);
``_repr_latex_`` and ``_repr_markdown_`` give the walkthrough for front ends
that prefer those.

>>> from derive import derive
>>> "<svg" in html(derive("sigmoid"))
True
>>> latex(derive("exp")).startswith("$$")
True
"""
from __future__ import annotations


def html(d, lang: str = "en") -> str:
    """Forward formula, graph picture and result, as an HTML fragment."""
    from .render import html as html_render
    return html_render.fragment(d, lang)


def latex(d) -> str:
    """The result as one displayed LaTeX formula (what Jupyter's LaTeX display accepts)."""
    from .render import forward_rows, spelling
    s = spelling(d, latex=True)
    rows = [f"{a} &= {b}" for a, b in forward_rows(d, s)]
    rows += [f"{s.grad(n)} &= {s.expr(d.result[n])}" for n in d.wrt]
    return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$"


def markdown(d, lang: str = "en") -> str:
    """The whole walkthrough in Markdown."""
    return d.to_markdown(lang)


class Localized:
    """A derivation displayed with its prose in another language
    (``derive("sigmoid").in_language("ko")`` in a notebook cell)."""

    def __init__(self, d, lang: str):
        from .render.lang import check_lang
        self.derivation, self.lang = d, check_lang(lang)

    def _repr_html_(self) -> str:
        return html(self.derivation, self.lang)

    def _repr_latex_(self) -> str:
        return latex(self.derivation)

    def _repr_markdown_(self) -> str:
        return markdown(self.derivation, self.lang)
