"""The computational graph as an SVG picture in the book's style, with no Graphviz.

Nodes are circles labelled with their operation (``×(−1)``, ``exp``, ``+1``,
``1/·``); input names stand at the left; forward values ride above the arrows
going right, backward gradients below the arrows going left, in another colour.
The layout is a layered one (see :func:`_plan`): a node's column is the longest path
from an input (an input stands just left of its first consumer), long edges pass
through dummy points, the order inside a column is improved by barycentre sweeps,
edges run horizontally and bend near one end, and their labels sit on a horizontal
run clear of nodes, other labels and other edges. Every label is XML-escaped; a label too long to
fit is replaced by its node-level symbol (``∂L/∂a``) and the whole formula goes
into a ``<title>`` tooltip.

>>> from derive import derive
>>> svg = render(derive("sigmoid"))
>>> svg.startswith("<svg") and svg.count('class="node op g-node"')
4
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

import sympy as sp

from ..shapeargs import broadcast_axes
from ..tensor import show_shape
from . import printers
from .lang import t, title
from .svg_layout import RADIUS, Layout, _plan

CHAR = 7.4          # estimated width of one character at FONT px
FONT = 13
MAX_LABEL = 22      # characters; longer formulas become symbols with a tooltip

_STYLE = """
.g-edge{fill:none;stroke-width:1.4}
.g-fwd{stroke:#222}.g-bwd{stroke:#c0392b}
.g-fwd-head{fill:#222}.g-bwd-head{fill:#c0392b}
.g-node circle,.g-node ellipse{fill:#fff;stroke:#222;stroke-width:1.5}
.g-node text,.g-in{fill:#111;font:600 14px system-ui,sans-serif}
.g-lf,.g-lb{font:13px system-ui,sans-serif;paint-order:stroke;stroke:#fff;stroke-width:4px;
stroke-linejoin:round}
.g-lf{fill:#222}.g-lb{fill:#c0392b}
@media (prefers-color-scheme:dark){
.g-fwd{stroke:#ddd}.g-fwd-head{fill:#ddd}
.g-bwd{stroke:#ff8a75}.g-bwd-head{fill:#ff8a75}.g-lb{fill:#ff8a75}
.g-node circle,.g-node ellipse{fill:#1e1f22;stroke:#ddd}.g-node text,.g-in,.g-lf{fill:#eee}
.g-lf,.g-lb{stroke:#1e1f22}}
"""


def spelled(d) -> dict:
    """The text printer's settings for the picture: the walkthrough's names, y and ∂L/∂y."""
    from ..backward import gradient_names
    from .spelling import layer_names, out_name_for
    y = out_name_for(d.spec, layer_names(d))
    return {"out_name": y, "dout_name": f"∂L/∂{y}", "gradients": gradient_names(d.graph)}


def text_form(e, names=None) -> str:
    """Short Unicode text of an expression from the text printer, e.g. ``−(∂L/∂y)·y²``
    (``names``: the printer's settings, :func:`spelled`; none: the code names)."""
    s = printers.text(sp.sympify(e), **(names or {}))
    for a, b in (("**2", "²"), ("**3", "³"), ("**", "^"), ("*", "·"), (" - ", " − "),
                 ("-", "−")):
        s = s.replace(a, b)
    return s.replace(" ", "")


def node_label(n) -> str:
    """The node's operation label, with √ and π for readability."""
    label = re.sub(r"sqrt\((\w+)\)", r"√\1", n.label())
    return re.sub(r"\bpi\b", "π", label)


def half_width(n) -> float:
    """Horizontal radius: a circle, widened to an ellipse for long labels."""
    if n.is_leaf:
        return 8.0
    return max(float(RADIUS), len(node_label(n)) * 4.4 + 10)


def _fits(s: str) -> bool:
    return len(s) <= MAX_LABEL


IN_CHAR = 9.0          # width of one character of an input's name (600 14px)


def _width(s: str) -> float:
    return len(s) * CHAR


def layout(graph, steps=(), names=None) -> Layout:
    """Columns, order, rows and routed edges of ``graph`` (see :func:`_plan`)."""
    labels = edge_labels(graph, steps, names)
    nodes = {n.id: n for n in graph.nodes}
    return _plan([n.id for n in graph.nodes],
                 {n.id: n.is_leaf for n in graph.nodes},
                 {n.id: half_width(n) for n in graph.nodes},
                 {n.id: len(n.name) * IN_CHAR for n in graph.nodes},
                 [((s, d), tuple(_width(t) for t, _ in labels[(s, d)]))
                  for s, d in edges(graph)],
                 graph.output, tuple(_width(s) for s in _out_labels(graph, names)), nodes)


def edges(graph) -> list:
    """Distinct (source id, consumer id) pairs in a stable order."""
    seen = []
    for n in graph.nodes:
        for a in n.args:
            if (a, n.id) not in seen:
                seen.append((a, n.id))
    return seen


def _gradient_of(graph, steps) -> dict:
    """(source id, consumer id) -> the branch gradient flowing back along that edge."""
    by_name = {n.name: n.id for n in graph.nodes}
    grads = {}
    for s in steps:
        if s.kind == "chain" and s.node in by_name and s.target in by_name:
            grads.setdefault((by_name[s.target], by_name[s.node]), s.expr)
    return grads


def _out_labels(graph, names=None) -> tuple:
    """The output edge's labels: the output's name (with its shape) and its gradient's."""
    names = names or {}
    y = names.get("out_name", "out")
    top = graph.node(graph.output)
    return (f"{y} {show_shape(top.shape)}" if top.shape and top.op != "outputs" else y,
            names.get("dout_name", "dout"))


def edge_labels(graph, steps=(), names=None) -> dict:
    """(src, dst) -> ((forward text, tooltip), (backward text, tooltip))."""
    grads = _gradient_of(graph, steps)
    labels = {}
    for src, dst in edges(graph):
        n = graph.node(src)
        fwd = text_form(n.expr, names) if not n.is_leaf else n.name
        fwd_label, fwd_tip = _forward_label(n, graph.node(dst), fwd)
        g = grads.get((src, dst))
        symbol = f"∂L/∂{n.name}"
        bwd = text_form(g, names) if g is not None else symbol
        labels[(src, dst)] = ((fwd_label, fwd_tip),
                              (bwd if _fits(bwd) else symbol, f"{symbol} (from this branch) = {bwd}"))
    return labels


def _forward_label(n, dst, fwd) -> tuple:
    """(label, tooltip) of the value ``n`` flowing into ``dst``: the formula, or its name
    when too long; for an array its shape after it (``x (N, D)``), as the book writes the
    shapes on the edges. An operand broadcast into ``dst`` says so in the tooltip."""
    tip = f"{n.name} = {fwd}" if fwd != n.name else n.name
    if not n.shape:
        return (fwd if _fits(fwd) else n.name), tip
    shape = show_shape(n.shape)
    tip += f", shape {shape}"
    axes = broadcast_axes(dst.shape, n.shape) if not dst.rule.structural else ()
    if axes:
        tip += (f"; repeated along axis {', '.join(map(str, axes))} to {show_shape(dst.shape)}"
                ", so its gradient is the sum of the copies")
    for label in (f"{fwd} {shape}", f"{n.name} {shape}"):
        if _fits(label):
            return label, tip
    return (fwd if _fits(fwd) else n.name), tip


def render(derivation, *, prefix: str | None = None, lang: str = "en") -> str:
    """The graph of ``derivation`` as a standalone ``<svg>`` element (also valid as a file)."""
    graph, steps = derivation.graph, derivation.steps
    pid = prefix or f"g-{derivation.spec.name}"
    names = spelled(derivation)
    lay = layout(graph, steps, names)
    labels = edge_labels(graph, steps, names)
    w, h = round(lay.width), round(lay.height)
    name = title(derivation.spec, lang) if derivation.spec.title else derivation.spec.name
    caption = t("Computational graph of {0}", lang, name)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-labelledby="{pid}-t" class="graph">',
             f'<title id="{pid}-t">{escape(caption)}</title>',
             f"<style>{_STYLE}</style>",
             "<defs>",
             _marker(f"{pid}-fh", "g-fwd-head"), _marker(f"{pid}-bh", "g-bwd-head"),
             "</defs>"]
    for (src, dst), keys in lay.routes.items():
        parts.append(_edge(graph, lay, keys, labels[(src, dst)], pid))
    parts.append(_output_edge(graph, lay, names, pid))
    for n in graph.nodes:
        parts.append(_node(n, lay.pos[n.id], names))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _marker(mid, cls) -> str:
    return (f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
            f'class="{cls}"/></marker>')


def _path(pts, dy) -> str:
    return " ".join(f"{x:.1f},{y + dy:.1f}" for x, y in pts)


def _edge_svg(src_name, dst_name, pts, spot, fwd, fwd_tip, bwd, bwd_tip, pid,
              backward=True) -> str:
    """One edge: the forward line (above) and the backward line (below), and their labels
    centred on ``spot``, a point of one of the edge's horizontal runs. ``backward`` False:
    a constant operand, into which no gradient flows (forward line only)."""
    mx, my = spot
    back = [f'<polyline class="g-edge g-bwd" points="{_path(pts[::-1], 4)}" '
            f'marker-end="url(#{pid}-bh)"/>',
            _text(mx, my + 21, bwd, bwd_tip, "g-lb")] if backward else []
    return "\n".join([
        f'<g class="g-e" data-src={quoteattr(src_name)} data-dst={quoteattr(dst_name)}>',
        f'<polyline class="g-edge g-fwd" points="{_path(pts, -4)}" marker-end="url(#{pid}-fh)"/>',
        *back[:1],
        _text(mx, my - 10, fwd, fwd_tip, "g-lf"),
        *back[1:],
        "</g>"])


def _edge(graph, lay, keys, labels, pid) -> str:
    (fwd, fwd_tip), (bwd, bwd_tip) = labels
    e = (keys[0], keys[-1])
    return _edge_svg(graph.node(e[0]).name, graph.node(e[1]).name, lay.lines[e], lay.labels[e],
                     fwd, fwd_tip, bwd, bwd_tip, pid,
                     backward=_carries_gradient(graph, *e))


def _carries_gradient(graph, src, dst) -> bool:
    """A backward line only where a gradient flows: not from a constant, not into a
    condition or a mask."""
    n = graph.node(dst)
    return graph.node(src).op != "const" and any(
        n.passes_gradient(k) for k, a in enumerate(n.args) if a == src)


def _out_svg(lay, fwd, fwd_tip, bwd, bwd_tip, pid) -> str:
    (x0, y), (x1, _) = lay.out_line
    return "\n".join([
        '<g class="g-e g-out">',
        f'<polyline class="g-edge g-fwd" points="{x0:.1f},{y - 4:.1f} {x1:.1f},{y - 4:.1f}" '
        f'marker-end="url(#{pid}-fh)"/>',
        f'<polyline class="g-edge g-bwd" points="{x1:.1f},{y + 4:.1f} {x0:.1f},{y + 4:.1f}" '
        f'marker-end="url(#{pid}-bh)"/>',
        _text((x0 + x1) / 2, y - 10, fwd, fwd_tip, "g-lf"),
        _text((x0 + x1) / 2, y + 21, bwd, bwd_tip, "g-lb"),
        "</g>"])


def _output_edge(graph, lay, names, pid) -> str:
    fwd, bwd = _out_labels(graph, names)
    y = (names or {}).get("out_name", "out")
    return _out_svg(lay, fwd, f"{y} = {text_form(graph.node(graph.output).expr, names)}",
                    bwd, f"{bwd}, the upstream gradient (dout in the exported code)", pid)


def _text(x, y, s, tip, cls, anchor="middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">'
            f"<title>{escape(tip)}</title>{escape(s)}</text>")


def _node(n, p, names=None) -> str:
    x, y = p
    if n.is_leaf:
        return (f'<g class="node input" data-id="{n.id}"><text x="{x:.1f}" y="{y + 5:.1f}" '
                f'text-anchor="end" class="g-in"><title>input {escape(n.name)}</title>'
                f"{escape(n.name)}</text></g>")
    label = node_label(n)
    rx = half_width(n)
    size = 14 if len(label) <= 4 else 13
    name = (names or {}).get("out_name", "out") if n.name == "out" else n.name
    tip = f"{name} = {text_form(n.expr, names)} ({n.op})"
    return "\n".join([
        f'<g class="node op g-node" data-id="{n.id}" data-name={quoteattr(n.name)}>',
        f"<title>{escape(tip)}</title>",
        (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS}"/>' if rx == RADIUS else
         f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{rx:.1f}" ry="{RADIUS}"/>'),
        f'<text x="{x:.1f}" y="{y + size / 3:.1f}" text-anchor="middle" '
        f'style="font-size:{size}px">{escape(label)}</text>',
        "</g>"])


__all__ = ["render", "layout", "edges", "edge_labels", "text_form", "Layout"]
