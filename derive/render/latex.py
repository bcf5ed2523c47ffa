r"""LaTeX walkthrough: a fragment, or with ``standalone=True`` a full amsmath document.

Only environments latex2mathml also converts cleanly are used (``align*``,
``cases``); never ``aligned``.

>>> from derive import derive
>>> tex = render(derive("sigmoid"))
>>> r"\frac{\partial L}{\partial x} &= \frac{\partial L}{\partial y} y \left(1 - y\right)" in tex
True
>>> render(derive("sigmoid"), standalone=True).startswith(r"\documentclass{article}")
True
"""
from __future__ import annotations

from . import Display, Heading, Para, document, join_parts, spelling

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}"}
# prose from notes may carry a little mathematics in Unicode
_UNICODE = {"·": r"$\cdot$", "×": r"$\times$", "−": "-", "∂": r"$\partial$", "→": r"$\to$",
            "≥": r"$\geq$", "≤": r"$\leq$", "α": r"$\alpha$", "²": r"$^2$", "—": "---",
            "Σ": r"$\Sigma$", "⊙": r"$\odot$", "ε": r"$\varepsilon$", "√": r"$\surd$",
            "ᵀ": r"$^\top$", "δ": r"$\delta$", "γ": r"$\gamma$", "β": r"$\beta$",
            "σ": r"$\sigma$", "μ": r"$\mu$", "’": "'", "–": "--"}

_PREAMBLE = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
%s\begin{document}
"""
# Korean and Japanese prose needs a CJK package (the mathematics does not)
CJK = {"ko": "\\usepackage{kotex}\n",
       "ja": "% compile with lualatex\n\\usepackage{luatexja}\n"}


def escape(text: str, lang: str = "en") -> str:
    """Prose → LaTeX: specials escaped, a few Unicode symbols spelled; any other character
    outside ASCII becomes ``?`` so pdflatex never stops on it (in Korean or Japanese
    prose it is kept, for the CJK package of :data:`CJK`).

    >>> escape("add_const: 50% of x·y")
    'add\\\\_const: 50\\\\% of x$\\\\cdot$y'
    """
    out = "".join(_SPECIAL.get(ch) or _UNICODE.get(ch) or ch for ch in text)
    out = out.replace("x\u0302", r"$\hat{x}$")
    return out if lang in CJK else out.encode("ascii", "replace").decode("ascii")


def preamble(lang: str = "en") -> str:
    """The standalone document's preamble, up to ``\\begin{document}``."""
    from . import tikz
    return _PREAMBLE % (tikz.PREAMBLE + CJK.get(lang, ""))


def _para(parts, lang) -> str:
    return join_parts(parts, lambda m: f"${m}$", lambda c: r"\texttt{%s}" % escape(c),
                      lambda p: escape(p, lang))


def display(rows) -> str:
    """Rows (lhs, rhs) as one ``align*`` (a held mask's ⟨ ⟩ spelled for pdflatex)."""
    body = " \\\\\n".join(f"  {lhs} &= {rhs}" for lhs, rhs in rows)
    body = body.replace("⟨", r"\langle ").replace("⟩", r"\rangle ")
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def render(d, standalone: bool = False, lang: str = "en") -> str:
    """The walkthrough of ``d`` as LaTeX (a fragment unless ``standalone``); the graph's
    figure is TikZ (a fragment's document needs :data:`derive.render.tikz.PREAMBLE`)."""
    from . import tikz  # tikz spells its caption with this module's escape
    chunks = []
    for block in document(d, spelling(d, latex=True), lang):
        if isinstance(block, Heading):
            command = "section" if block.level == 1 else "subsection"
            chunks.append("\\%s*{%s}" % (command, escape(block.text, lang)))
            if block.kind == "graph":
                chunks.append(tikz.figure(d, lang))
        elif isinstance(block, Para):
            chunks.append(_para(block.parts, lang))
        elif isinstance(block, Display):
            chunks.append(display(block.rows))
    body = "\n\n".join(chunks) + "\n"
    return preamble(lang) + "\n" + body + "\n\\end{document}\n" if standalone else body
