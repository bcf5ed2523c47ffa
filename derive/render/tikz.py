r"""The computational graph as a TikZ figure for the LaTeX pages, drawn from the SVG picture's
own layout (:func:`derive.render.svg.layout`), so the two pictures agree point for point.

Nodes are circles (ellipses for long operations) labelled as the walkthrough spells them
(:meth:`~derive.render.spelling.Spelling.label`); input names stand at the left; forward
values ride above the arrows going right, backward gradients below the arrows going left, in
red. An edge label the SVG shortens to a symbol (its formula is too long) is the symbol here
too (:math:`b`, :math:`\partial L/\partial b`). The picture is drawn at its natural size and
shrunk, never enlarged, to the line width; a graph so wide that it would be shrunk below
half size (lstm, gru, batchnorm) is cut, between its nodes and labels, into strips set one
under the other, as a long line of text is broken, and those are shrunk to the line width.

A document that includes the figure needs :data:`PREAMBLE` (the standalone page and
``derivations.tex`` carry it).

>>> from derive import derive
>>> fig = figure(derive("sigmoid"))
>>> fig.startswith(r"\begin{figure}"), fig.count(r"\node[g op"), fig.count(r"\node[g in")
(True, 4, 1)
>>> r"{$\exp$}" in fig and r"{$\frac{\partial L}{\partial y}$}" in fig
True
"""
from __future__ import annotations

from . import spelling
from .latex import escape
from .svg import (CHAR, IN_CHAR, RADIUS, _carries_gradient, _gradient_of, edge_labels,
                  half_width, layout)

#: what a document needs for :func:`figure` (the box holds a picture cut into strips)
PREAMBLE = ("\\usepackage{graphicx}\n\\usepackage{tikz}\n"
            "\\usetikzlibrary{arrows.meta,shapes.geometric}\n\\newsavebox{\\derivegraph}\n")

UNIT = 0.6              # pt per SVG pixel: the SVG's 13 px labels come out at \footnotesize
PAGE = (345.0, 550.0)   # article's \linewidth and \textheight in pt
SMALL = 0.5             # a picture shrunk below this is cut into strips, one under another
MAX_STRIPS = 4
ROOM = 0.75             # share of the text height the strips may take (the caption: the rest)

_STYLES = ("g fwd/.style={draw={rgb,255:red,34;green,34;blue,34},line width=0.8pt,"
           "-{Latex[length=4pt]}}",
           "g bwd/.style={draw={rgb,255:red,192;green,57;blue,43},line width=0.8pt,"
           "-{Latex[length=4pt]}}",
           "g op/.style={draw,ellipse,line width=0.9pt,fill=white,inner sep=0pt,"
           "font=\\small}",
           "g in/.style={anchor=base east,inner sep=1pt,font=\\small}",
           "g lf/.style={anchor=base,inner sep=1pt,font=\\footnotesize}",
           "g lb/.style={anchor=base,inner sep=1pt,font=\\footnotesize,"
           "text={rgb,255:red,192;green,57;blue,43}}")


def _pt(v: float) -> str:
    return f"{v * UNIT:.1f}pt"


def _xy(x: float, y: float) -> str:
    return f"({x:.1f},{y:.1f})"


def _line(style: str, pts, dy: float) -> str:
    return f"\\draw[{style}] " + " -- ".join(_xy(x, y + dy) for x, y in pts) + ";"


def _label(style: str, x: float, y: float, math: str) -> str:
    return f"\\node[{style}] at {_xy(x, y)} {{${math}$}};"


def _edge_math(d, s) -> dict:
    """(src, dst) -> (forward, backward) in LaTeX: the SVG's formula, or its symbol where the
    SVG shows the symbol."""
    graph = d.graph
    grads = _gradient_of(graph, d.steps)
    out = {}
    for e, ((fwd, _), (bwd, _)) in edge_labels(graph, d.steps).items():
        n = graph.node(e[0])
        shown_fwd = s.name(n.name) if n.is_leaf or fwd == n.name else s.expr(n.expr)
        g = grads.get(e)
        shown_bwd = s.grad(n.name) if g is None or bwd == f"∂L/∂{n.name}" else s.expr(g)
        out[e] = (shown_fwd, shown_bwd)
    return out


def picture(d, lay=None) -> str:
    """The graph of the derivation ``d`` as a ``tikzpicture`` (coordinates in SVG pixels);
    ``lay``: its layout, if already made."""
    graph, s = d.graph, spelling(d, latex=True)
    lay = lay or layout(graph, d.steps)
    lines = [f"\\begin{{tikzpicture}}[x={UNIT}pt,y=-{UNIT}pt,", ",\n  ".join(_STYLES) + "]",
             # the box is the layout's canvas exactly, so that strips can be cut from it
             f"\\useasboundingbox (0,0) rectangle {_xy(lay.width, lay.height)};"]
    for e, (fwd, bwd) in _edge_math(d, s).items():
        pts, (mx, my) = lay.lines[e], lay.labels[e]
        lines.append(_line("g fwd", pts, -4))
        if _carries_gradient(graph, *e):
            lines += [_line("g bwd", pts[::-1], 4), _label("g lb", mx, my + 21, bwd)]
        lines.append(_label("g lf", mx, my - 10, fwd))
    (x0, y), (x1, _) = lay.out_line
    lines += [_line("g fwd", [(x0, y), (x1, y)], -4), _line("g bwd", [(x1, y), (x0, y)], 4),
              _label("g lf", (x0 + x1) / 2, y - 10, s.name("out")),
              _label("g lb", (x0 + x1) / 2, y + 21, s.grad("out"))]
    for n in graph.nodes:
        x, y = lay.pos[n.id]
        if n.is_leaf:
            lines.append(f"\\node[g in] (n{n.id}) at {_xy(x, y + 5)} {{${s.name(n.name)}$}};")
        else:
            size = f"minimum width={_pt(2 * half_width(n))},minimum height={_pt(2 * RADIUS)}"
            lines.append(f"\\node[g op,{size}] (n{n.id}) at {_xy(x, y)} {{${s.label(n)}$}};")
    lines.append("\\end{tikzpicture}")
    return "\n".join(lines)


def _scale(lay, n: int) -> float:
    """How much n stacked strips of the picture are shrunk to fit the page."""
    w, h = lay.width * UNIT, lay.height * UNIT
    return min(1.0, PAGE[0] * n / w, ROOM * PAGE[1] / (n * h))


def strip_count(lay) -> int:
    """1, or more strips when one would be shrunk below :data:`SMALL` (lstm, gru, batchnorm):
    the count that shows the picture largest."""
    if _scale(lay, 1) >= SMALL:
        return 1
    return max(range(1, MAX_STRIPS + 1), key=lambda n: (_scale(lay, n), -n))


def _blocked(lay, d) -> list:
    """(x0, x1) spans a cut must not pass through: nodes, input names and edge labels."""
    spans = []
    for n in d.graph.nodes:
        x = lay.pos[n.id][0]
        spans.append((x - len(n.name) * IN_CHAR - 6, x + 10) if n.is_leaf else
                     (x - half_width(n) - 4, x + half_width(n) + 4))
    for e, texts in edge_labels(d.graph, d.steps).items():
        w = max(len(t) for t, _ in texts) * CHAR / 2 + 6
        spans.append((lay.labels[e][0] - w, lay.labels[e][0] + w))
    (x0, _), (x1, _) = lay.out_line
    spans.append(((x0 + x1) / 2 - 40, (x0 + x1) / 2 + 40))
    return spans


def cuts(lay, d, n: int) -> list:
    """Where to cut the picture into ``n`` strips of about equal width: the clear x nearest
    each even share (through edges only, never a node or a label)."""
    spans = _blocked(lay, d)
    out = []
    for k in range(1, n):
        want = lay.width * k / n
        reach = lay.width / (2 * n)
        clear = [x for x in range(int(want - reach), int(want + reach))
                 if not any(a <= x <= b for a, b in spans)]
        out.append(min(clear, key=lambda x: abs(x - want)) if clear else want)
    return out


def _strip(x0: float, x1: float, height: float, first: bool, last: bool) -> str:
    """One strip: the saved picture clipped to x0..x1, dotted where it continues."""
    marks = [f"\\draw[densely dotted,gray] ({x:.1f},0) -- ({x:.1f},{height:.1f});"
             for x, cut in ((x0, not first), (x1, not last)) if cut]
    return "\n".join([
        f"\\begin{{tikzpicture}}[x={UNIT}pt,y=-{UNIT}pt]",
        f"\\useasboundingbox ({x0:.1f},0) rectangle ({x1:.1f},{height:.1f});",
        "\\begin{scope}",
        f"\\clip ({x0:.1f},0) rectangle ({x1:.1f},{height:.1f});",
        f"\\node[inner sep=0pt,anchor=south west] at (0,{height:.1f}) {{\\usebox{{\\derivegraph}}}};",
        "\\end{scope}", *marks, "\\end{tikzpicture}"])


def figure(d, lang: str = "en") -> str:
    """The graph of ``d`` as a LaTeX float: the picture shrunk to the line width (in strips,
    one under the other, when it is much wider than the line), and a caption."""
    lay = layout(d.graph, d.steps)
    n = strip_count(lay)
    # shrink (never enlarge) to the line width, then to ROOM of the text height
    high = f"{ROOM}\\textheight"
    fit = (f"\\resizebox*{{!}}{{\\ifdim\\totalheight>{high} {high}\\else\\totalheight\\fi}}{{%\n"
           "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%")
    if n == 1:
        body = [fit, picture(d, lay) + "}}"]
    else:
        xs = [0.0] + cuts(lay, d, n) + [lay.width]
        strips = [_strip(a, b, lay.height, k == 0, k == n - 1)
                  for k, (a, b) in enumerate(zip(xs, xs[1:]))]
        body = ["\\sbox{\\derivegraph}{%", picture(d, lay) + "}%", fit,
                "\\begin{tabular}{@{}l@{}}", "\\\\[4pt]\n".join(strips), "\\end{tabular}}}"]
    from .lang import t, title
    key = ("Computational graph of {0} (in strips: each continues in the next, at the dotted "
           "lines): forward values above the arrows (going right), backward gradients below "
           "them (going left, in red)." if n > 1 else
           "Computational graph of {0}: forward values above the arrows (going right), "
           "backward gradients below them (going left, in red).")
    caption = escape(t(key, lang, title(d.spec, lang)), lang)
    return "\n".join(["\\begin{figure}[htbp]", "\\centering", *body,
                      f"\\caption{{{caption}}}", "\\end{figure}"]) + "\n"


__all__ = ["PREAMBLE", "cuts", "figure", "picture", "strip_count"]
