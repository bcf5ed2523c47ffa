"""Text, LaTeX (align*), MathML, Markdown and the graph picture for a
:class:`~.derivation.MatrixDerivation`.

>>> from derive.matrix import derive_matrix
>>> d = derive_matrix("affine", "W")
>>> "\\\\text{matmul + bias}" in latex(d)
True
>>> mathml(d).startswith('<section class="derive-walkthrough" data-layer="affine">')
True
"""
from __future__ import annotations

from html import escape as html_escape

import latex2mathml.converter

from ..render.latex import escape as tex_escape


def tex_text(text: str) -> str:
    """Prose for LaTeX, including the Unicode the layer notes use (Σ, ⊙, x̂ ...);
    anything else outside ASCII becomes ``?`` so pdflatex never stops on it."""
    out = tex_escape(text)
    for a, b in (("x̂", r"$\hat{x}$"), ("Σ", r"$\Sigma$"), ("⊙", r"$\odot$"),
                 ("ε", r"$\varepsilon$"), ("√", r"$\surd$")):
        out = out.replace(a, b)
    return out.encode("ascii", "replace").decode("ascii")


def _header(d) -> list:
    info = d.info()
    lines = [f"{info['title']} [{info['name']}]",
             "inputs: " + ", ".join(f"{k} {v}" for k, v in info["inputs"].items())]
    if info["params"]:
        lines.append("constants: " + ", ".join(f"{k} {v}" for k, v in info["params"].items()))
    lines += [f"assumption: {a}" for a in info["assumptions"]] + [f"note: {n}" for n in info["notes"]]
    return lines


def text(d) -> str:
    lines = _header(d) + [""]
    for i, s in enumerate(d.steps, 1):
        lines.append(f"{i:2d}. [{s.rule}] {s.description}")
        lines.append(f"    {s.text}")
        lines.append(f"    proof: {s.proof}")
    lines.append("")
    lines += [f"d{k} = {v}" for k, v in d.result.items()]
    return "\n".join(lines) + "\n"


def forward_rows(d) -> list:
    """(LaTeX name, LaTeX value) of every forward node, in order."""
    from .tensor import Arr
    return [(Arr(n, e.shape).latex(), e.latex()) for n, _, e in d.layer.nodes]


def latex(d, standalone: bool = False) -> str:
    rows = [s.latex.replace(" = ", " &= ", 1) + r" && \text{" + tex_text(s.rule) + "}"
            for s in d.steps]
    body = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    if not standalone:
        return body
    return ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n"
            "\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + body + "\\end{document}\n")


def latex_document(d) -> str:
    """A full walkthrough section (no preamble): title, inputs, forward nodes, steps, results."""
    info = d.info()
    out = [f"\\section*{{{tex_text(info['title'])}: layer \\texttt{{{tex_text(d.name)}}}}}", ""]
    for line in _header(d)[1:]:
        out.append(tex_text(line) + "\n")
    out += ["\\subsection*{Forward, node by node}", "\\begin{align*}",
            " \\\\\n".join(f"{a} &= {b}" for a, b in forward_rows(d)), "\\end{align*}",
            "\\subsection*{Backward, node by node}"]
    for i, s in enumerate(d.steps, 1):
        out += [f"\\paragraph{{{i}. {tex_text(s.rule)}}} {tex_text(s.description)}",
                "\\begin{align*}", s.latex.replace(" = ", " &= ", 1), "\\end{align*}",
                "{\\small proof: " + tex_text(str(s.proof)) + "}", ""]
    out += ["\\subsection*{Result}", "\\begin{align*}",
            " \\\\\n".join(r"\frac{\partial L}{\partial %s} &= %s" % (_name(k), t.latex())
                           for k, t in d.tensors.items()), "\\end{align*}", ""]
    return "\n".join(out)


def _name(k):
    from .tensor import Arr
    return Arr(k, ()).latex()


def _math(tex: str, display: bool = False) -> str:
    return latex2mathml.converter.convert(tex, display="block" if display else "inline")


def mathml(d) -> str:
    """The steps as one XHTML/MathML fragment: a section with one paragraph per step."""
    lines = [f'<section class="derive-walkthrough" data-layer="{html_escape(d.name)}">',
             f"<h2>{html_escape(d.layer.title)}: layer {html_escape(d.name)}</h2>"]
    for i, s in enumerate(d.steps, 1):
        lines.append(f"<p>{i}. <code>{html_escape(s.rule)}</code>: {html_escape(s.description)}</p>")
        lines.append(f'<div class="derive-display">{_math(s.latex, True)}</div>')
    lines.append("</section>")
    return "\n".join(lines) + "\n"


def markdown(d) -> str:
    """GitHub Markdown: every formula a ``$$`` block on its own lines, prose escaped."""
    from ..render.markdown import display, escape
    lines = ["# " + escape(d.layer.title), ""] + [f"- {escape(h)}" for h in _header(d)[1:]] + [""]
    lines += ["## Computational graph", "", display(forward_rows(d)), "",
              "## Backward, node by node", ""]
    for i, s in enumerate(d.steps, 1):
        lhs, rhs = s.latex.split(" = ", 1)
        lines += [f"**{i}.** `{s.rule}`: {escape(s.description)}", "", display([(lhs, rhs)]), "",
                  f"proof: {escape(str(s.proof))}", ""]
    lines += ["```python"] + [f"d{k} = {v}" for k, v in d.result.items()] + ["```"]
    return "\n".join(lines) + "\n"


def graph(d) -> tuple:
    """Generic nodes and edges of the forward graph: inputs and constants, then the nodes.

    Node = (key, label, kind, tooltip); edge = (src, dst, forward label, backward label).
    """
    from .tensor import show_shape
    lay = d.layer
    shapes = lay.shapes()
    nodes, edges = [], []
    for k in (*lay.inputs, *lay.constants):
        used = any(k in e.names() for _, _, e in lay.nodes)
        if used:
            what = "input" if k in lay.inputs else "constant (not differentiated)"
            nodes.append((k, k, "input", f"{k} {show_shape(shapes[k])}: {what}"))
    known = {n[0] for n in nodes}
    for name, rule, expr in lay.nodes:
        nodes.append((name, name, "op", f"{name} = {expr.numpy()}  ({rule}), shape "
                      f"{show_shape(expr.shape)}"))
        for src in sorted(expr.names() & known, key=[n[0] for n in nodes].index):
            back = ("d" + src) if src in lay.inputs or src in {n for n, _, _ in lay.nodes} else "—"
            edges.append((src, name, src, back))
        known.add(name)
    return nodes, edges


def graph_svg(d, prefix: str | None = None) -> str:
    from ..render.svg import render_nodes
    nodes, edges = graph(d)
    return render_nodes(f"Computational graph of {d.layer.title}", nodes, edges,
                        prefix or f"g-{d.name}")
