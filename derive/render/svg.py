"""The computational graph as an SVG picture in the book's style, with no Graphviz.

Nodes are circles labelled with their operation (``×(−1)``, ``exp``, ``+1``,
``1/·``); input names stand at the left; forward values ride above the arrows
going right, backward gradients below the arrows going left, in another colour.
The layout is a plain layered one: a node's column is the longest path from an
input, long edges pass through dummy points, and the order inside a column is
improved by barycentre sweeps. Every label is XML-escaped; a label too long to
fit is replaced by its node-level symbol (``∂L/∂a``) and the whole formula goes
into a ``<title>`` tooltip.

>>> from derive import derive
>>> svg = render(derive("sigmoid"))
>>> svg.startswith("<svg") and svg.count('class="node op"')
4
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import sympy as sp

from ..steps import dout
from . import printers

RADIUS = 21
ROW = 92            # vertical distance between rows
CHAR = 7.4          # estimated width of one character at FONT px
FONT = 13
MAX_LABEL = 22      # characters; longer formulas become symbols with a tooltip
PAD = 18

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


@dataclass
class Layout:
    """Positions: ``pos[key] = (x, y)`` for node ids and dummy keys ``(src, dst, k)``."""

    columns: list           # column -> keys in order
    pos: dict
    width: float
    height: float
    routes: dict            # (src, dst) -> list of keys from src to dst


def text_form(e) -> str:
    """Short Unicode text of an expression from the text printer, e.g. ``−dout·out²``."""
    s = printers.text(sp.sympify(e))
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
    if n.op == "input":
        return 8.0
    return max(float(RADIUS), len(node_label(n)) * 4.4 + 10)


def _fits(s: str) -> bool:
    return len(s) <= MAX_LABEL


IN_CHAR = 9.0          # width of one character of an input's name (600 14px)


def _width(s: str) -> float:
    return len(s) * CHAR


def layout(graph, steps=()) -> Layout:
    """Columns by longest path from an input; dummy points for edges spanning columns."""
    col = {}
    for n in graph.nodes:
        col[n.id] = 0 if n.op == "input" else 1 + max(col[a] for a in n.args)
    ncols = max(col.values()) + 1
    columns = [[] for _ in range(ncols)]
    for n in graph.nodes:
        columns[col[n.id]].append(n.id)
    routes = {}
    for src, dst in edges(graph):
        keys = [src] + [(src, dst, k) for k in range(col[src] + 1, col[dst])] + [dst]
        for k in keys[1:-1]:
            columns[k[2]].append(k)
        routes[(src, dst)] = keys
    _order(columns, routes)
    rows = _rows(columns, routes)
    height = max(rows.values())
    pos = {}
    x = PAD + max(_width(n.name) for n in graph.nodes if n.op == "input")
    gaps = _gaps(graph, steps, routes, col, {k: (0, r) for k, r in rows.items()})
    for c, keys in enumerate(columns):
        for k in keys:
            pos[k] = (x, PAD + 18 + rows[k] * ROW + RADIUS)
        x += gaps[c] if c < len(gaps) else 0
    out_gap = max(_width(_out_labels()[1]), 70) + 40
    width = x + half_width(graph.node(graph.output)) + out_gap + PAD
    return Layout(columns, pos, width, PAD * 2 + 36 + height * ROW + 2 * RADIUS, routes)


def _rows(columns, routes) -> dict:
    """A (fractional) row per key: each sits level with the median of its left neighbours,
    keeping the column's order one row apart, so chains run straight across."""
    left, right = _neighbours(routes)
    rows = {}
    for c, keys in enumerate(columns):
        _place(keys, rows, left if c else {}, start=0.0)
    _place(columns[0], rows, right, start=0.0)   # inputs level with their consumers
    low = min(rows.values())
    return {k: r - low for k, r in rows.items()}


def _place(keys, rows, nbrs, start) -> None:
    prev = None
    for i, k in enumerate(keys):
        ps = sorted(rows[p] for p in nbrs.get(k, []) if p in rows)
        want = (ps[(len(ps) - 1) // 2] + ps[len(ps) // 2]) / 2 if ps else start + i
        rows[k] = want if prev is None else max(want, prev + 1)
        prev = rows[k]


def _neighbours(routes) -> tuple:
    left, right = {}, {}
    for keys in routes.values():
        for a, b in zip(keys, keys[1:]):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    return left, right


def edges(graph) -> list:
    """Distinct (source id, consumer id) pairs in a stable order."""
    seen = []
    for n in graph.nodes:
        for a in n.args:
            if (a, n.id) not in seen:
                seen.append((a, n.id))
    return seen


def _key_sort(k) -> tuple:
    return (k, 0, 0) if isinstance(k, int) else k


def _order(columns, routes, sweeps: int = 4) -> None:
    """Barycentre ordering inside columns (left-to-right, then right-to-left)."""
    left, right = _neighbours(routes)
    for sweep in range(sweeps):
        rng = range(1, len(columns)) if sweep % 2 == 0 else range(len(columns) - 2, -1, -1)
        nbrs = left if sweep % 2 == 0 else right
        for c in rng:
            ref = columns[c - 1] if sweep % 2 == 0 else columns[c + 1]
            where = {k: i for i, k in enumerate(ref)}
            cur = {k: i for i, k in enumerate(columns[c])}

            def bary(k):
                ps = [where[p] for p in nbrs.get(k, []) if p in where]
                return (sum(ps) / len(ps) if ps else cur[k], cur[k])
            columns[c].sort(key=bary)


def _label_segment(route, pos=None) -> int:
    """Index of the segment of a route that carries its labels: the last level one, if any."""
    if pos is not None:
        for i in range(len(route) - 2, -1, -1):
            if abs(pos[route[i]][1] - pos[route[i + 1]][1]) < 1:
                return i
    return len(route) - 2


def _gaps(graph, steps, routes, col, level) -> list:
    """Width of each gap between columns: wide enough for the labels placed in it."""
    labels = edge_labels(graph, steps)
    gaps = [2 * RADIUS + 60 for _ in range(max(col.values()))]
    for (src, dst), keys in routes.items():
        gap = col[src] + _label_segment(keys, level)
        fwd, bwd = labels[(src, dst)]
        need = (max(_width(fwd[0]), _width(bwd[0])) + 24 + half_width(graph.node(src))
                + half_width(graph.node(dst)))
        gaps[gap] = max(gaps[gap], need)
    return gaps


def _gradient_of(graph, steps) -> dict:
    """(source id, consumer id) -> the branch gradient flowing back along that edge."""
    by_name = {n.name: n.id for n in graph.nodes}
    grads = {}
    for s in steps:
        if s.kind == "chain" and s.node in by_name and s.target in by_name:
            grads.setdefault((by_name[s.target], by_name[s.node]), s.expr)
    return grads


def _out_labels() -> tuple:
    return ("out", "∂L/∂out")


def edge_labels(graph, steps=()) -> dict:
    """(src, dst) -> ((forward text, tooltip), (backward text, tooltip))."""
    grads = _gradient_of(graph, steps)
    labels = {}
    for src, dst in edges(graph):
        n = graph.node(src)
        fwd = text_form(n.expr) if n.op != "input" else n.name
        fwd_label = fwd if _fits(fwd) else n.name
        g = grads.get((src, dst))
        symbol = f"∂L/∂{n.name}"
        bwd = text_form(g) if g is not None else symbol
        labels[(src, dst)] = ((fwd_label, f"{n.name} = {fwd}"),
                              (bwd if _fits(bwd) else symbol, f"{symbol} (from this branch) = {bwd}"))
    return labels


def render(derivation, *, prefix: str | None = None) -> str:
    """The graph of ``derivation`` as a standalone ``<svg>`` element (also valid as a file)."""
    graph, steps = derivation.graph, derivation.steps
    pid = prefix or f"g-{derivation.spec.name}"
    lay = layout(graph, steps)
    labels = edge_labels(graph, steps)
    w, h = round(lay.width), round(lay.height)
    title = f"Computational graph of {derivation.spec.title or derivation.spec.name}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-labelledby="{pid}-t" class="graph">',
             f'<title id="{pid}-t">{escape(title)}</title>',
             f"<style>{_STYLE}</style>",
             "<defs>",
             _marker(f"{pid}-fh", "g-fwd-head"), _marker(f"{pid}-bh", "g-bwd-head"),
             "</defs>"]
    for (src, dst), keys in lay.routes.items():
        parts.append(_edge(graph, lay, keys, labels[(src, dst)], pid))
    parts.append(_output_edge(graph, lay, steps, pid))
    for n in graph.nodes:
        parts.append(_node(n, lay.pos[n.id]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _marker(mid, cls) -> str:
    return (f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
            f'class="{cls}"/></marker>')


def _points(lay, keys, graph) -> list:
    pts = [list(lay.pos[k]) for k in keys]
    # leave the source circle (or the input's name) and stop at the consumer's circle
    pts[0] = _leave(pts[0], pts[1], graph.node(keys[0]))
    pts[-1] = _leave(pts[-1], pts[-2], graph.node(keys[-1]))
    return pts


def _leave(p, toward, n) -> list:
    """The point where the segment from ``p`` toward ``toward`` leaves node ``n``'s outline."""
    dx, dy = toward[0] - p[0], toward[1] - p[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    if n.op == "input":
        return [p[0] + ux * 8, p[1] + uy * 8]
    rx, ry = half_width(n) + 3, RADIUS + 3
    t = 1 / ((ux / rx) ** 2 + (uy / ry) ** 2) ** 0.5
    return [p[0] + ux * t, p[1] + uy * t]


def _path(pts, dy) -> str:
    return " ".join(f"{x:.1f},{y + dy:.1f}" for x, y in pts)


def _edge(graph, lay, keys, labels, pid) -> str:
    pts = _points(lay, keys, graph)
    (fwd, fwd_tip), (bwd, bwd_tip) = labels
    i = _label_segment(keys, lay.pos)
    (x0, y0), (x1, y1) = pts[i], pts[i + 1]
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    src, dst = graph.node(keys[0]), graph.node(keys[-1])
    return "\n".join([
        f'<g class="g-e" data-src="{escape(src.name)}" data-dst="{escape(dst.name)}">',
        f'<polyline class="g-edge g-fwd" points="{_path(pts, -4)}" marker-end="url(#{pid}-fh)"/>',
        f'<polyline class="g-edge g-bwd" points="{_path(pts[::-1], 4)}" '
        f'marker-end="url(#{pid}-bh)"/>',
        _text(mx, my - 10, fwd, fwd_tip, "g-lf"),
        _text(mx, my + 21, bwd, bwd_tip, "g-lb"),
        "</g>"])


def _output_edge(graph, lay, steps, pid) -> str:
    x, y = lay.pos[graph.output]
    x0, x1 = x + half_width(graph.node(graph.output)) + 3, lay.width - PAD
    fwd, bwd = _out_labels()
    return "\n".join([
        '<g class="g-e g-out">',
        f'<polyline class="g-edge g-fwd" points="{x0:.1f},{y - 4:.1f} {x1:.1f},{y - 4:.1f}" '
        f'marker-end="url(#{pid}-fh)"/>',
        f'<polyline class="g-edge g-bwd" points="{x1:.1f},{y + 4:.1f} {x0:.1f},{y + 4:.1f}" '
        f'marker-end="url(#{pid}-bh)"/>',
        _text((x0 + x1) / 2, y - 10, fwd, f"out = {text_form(graph.node(graph.output).expr)}",
              "g-lf"),
        _text((x0 + x1) / 2, y + 21, bwd, f"∂L/∂out = {dout}, the upstream gradient", "g-lb"),
        "</g>"])


def _text(x, y, s, tip, cls, anchor="middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">'
            f"<title>{escape(tip)}</title>{escape(s)}</text>")


def _node(n, p) -> str:
    x, y = p
    if n.op == "input":
        return (f'<g class="node input" data-id="{n.id}"><text x="{x:.1f}" y="{y + 5:.1f}" '
                f'text-anchor="end" class="g-in"><title>input {escape(n.name)}</title>'
                f"{escape(n.name)}</text></g>")
    label = node_label(n)
    rx = half_width(n)
    size = 14 if len(label) <= 4 else 13
    tip = f"{n.name} = {text_form(n.expr)} ({n.op})"
    return "\n".join([
        f'<g class="node op g-node" data-id="{n.id}" data-name={quoteattr(n.name)}>',
        f"<title>{escape(tip)}</title>",
        (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS}"/>' if rx == RADIUS else
         f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{rx:.1f}" ry="{RADIUS}"/>'),
        f'<text x="{x:.1f}" y="{y + size / 3:.1f}" text-anchor="middle" '
        f'style="font-size:{size}px">{escape(label)}</text>',
        "</g>"])


__all__ = ["render", "layout", "edges", "edge_labels", "text_form", "Layout"]


# --- a generic node/edge picture (the matrix layers have no elementwise Graph) ---

def render_nodes(title: str, nodes, edges_, pid: str) -> str:
    """A layered picture of generic nodes and edges, in the same style as :func:`render`.

    ``nodes``: (key, label, kind, tooltip) with kind "input" or "op", in topological
    order; ``edges_``: (src, dst, forward label, backward label). Columns are the longest
    path from an input; the last node gets an output arrow (``out``/``dout``).

    >>> svg = render_nodes("t", [("x", "x", "input", "x"), ("y", "exp", "op", "y = exp(x)")],
    ...                    [("x", "y", "x", "dx")], "t")
    >>> svg.startswith("<svg") and svg.count('class="node op g-node"')
    1
    """
    kinds = {k: kind for k, _, kind, _ in nodes}
    col = {}
    for k, _, kind, _ in nodes:
        srcs = [s for s, d, _, _ in edges_ if d == k and s in col]
        col[k] = 0 if kind == "input" or not srcs else 1 + max(col[s] for s in srcs)
    ncols = max(col.values()) + 1
    columns = [[k for k, *_ in nodes if col[k] == c] for c in range(ncols)]
    labels = {k: lab for k, lab, _, _ in nodes}

    def hw(k):
        return 8.0 if kinds[k] == "input" else max(float(RADIUS), len(labels[k]) * 4.4 + 10)

    longest = max((max(_width(f), _width(b)) for _, _, f, b in edges_), default=40)
    gap = max(150.0, longest + 60)
    # input names are bold 14px, wider than the 11px edge labels _width measures
    x0 = PAD + max((len(labels[k]) * IN_CHAR for k in columns[0]), default=0)
    height_rows = max(len(c) for c in columns)
    pos = {}
    for c, keys in enumerate(columns):
        offset = (height_rows - len(keys)) / 2
        for r, k in enumerate(keys):
            pos[k] = (x0 + c * gap, PAD + 18 + (r + offset) * ROW + RADIUS)
    last = nodes[-1][0]
    out_gap = 110
    w = round(x0 + (ncols - 1) * gap + hw(last) + out_gap + PAD)
    h = round(PAD * 2 + 36 + (height_rows - 1) * ROW + 2 * RADIUS + 10)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-labelledby="{pid}-t" class="graph">',
             f'<title id="{pid}-t">{escape(title)}</title>', f"<style>{_STYLE}</style>",
             "<defs>", _marker(f"{pid}-fh", "g-fwd-head"), _marker(f"{pid}-bh", "g-bwd-head"),
             "</defs>"]

    def leave(k, toward):
        p = pos[k]
        dx, dy = toward[0] - p[0], toward[1] - p[1]
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / length, dy / length
        if kinds[k] == "input":
            return [p[0] + ux * 8, p[1] + uy * 8]
        rx, ry = hw(k) + 3, RADIUS + 3
        t = 1 / ((ux / rx) ** 2 + (uy / ry) ** 2) ** 0.5
        return [p[0] + ux * t, p[1] + uy * t]

    for src, dst, fwd, bwd in edges_:
        pts = [leave(src, pos[dst]), leave(dst, pos[src])]
        (ax, ay), (bx, by) = pts
        mx, my = (ax + bx) / 2, (ay + by) / 2
        parts += [f'<g class="g-e" data-src={quoteattr(src)} data-dst={quoteattr(dst)}>',
                  f'<polyline class="g-edge g-fwd" points="{_path(pts, -4)}" '
                  f'marker-end="url(#{pid}-fh)"/>',
                  f'<polyline class="g-edge g-bwd" points="{_path(pts[::-1], 4)}" '
                  f'marker-end="url(#{pid}-bh)"/>',
                  _text(mx, my - 10, fwd, f"forward: {fwd}", "g-lf"),
                  _text(mx, my + 21, bwd, f"backward: {bwd}", "g-lb"), "</g>"]
    x, y = pos[last]
    xa, xb = x + hw(last) + 3, w - PAD
    parts += ['<g class="g-e g-out">',
              f'<polyline class="g-edge g-fwd" points="{xa:.1f},{y - 4:.1f} {xb:.1f},{y - 4:.1f}" '
              f'marker-end="url(#{pid}-fh)"/>',
              f'<polyline class="g-edge g-bwd" points="{xb:.1f},{y + 4:.1f} {xa:.1f},{y + 4:.1f}" '
              f'marker-end="url(#{pid}-bh)"/>',
              _text((xa + xb) / 2, y - 10, last, f"the layer's output {last}", "g-lf"),
              _text((xa + xb) / 2, y + 21, "dout", "the upstream gradient", "g-lb"), "</g>"]
    for k, label, kind, tip in nodes:
        px, py = pos[k]
        if kind == "input":
            parts.append(f'<g class="node input" data-name={quoteattr(k)}><text x="{px:.1f}" '
                         f'y="{py + 5:.1f}" text-anchor="end" class="g-in"><title>{escape(tip)}'
                         f"</title>{escape(label)}</text></g>")
            continue
        rx = hw(k)
        size = 14 if len(label) <= 4 else 13
        parts += [f'<g class="node op g-node" data-name={quoteattr(k)}>',
                  f"<title>{escape(tip)}</title>",
                  (f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{RADIUS}"/>' if rx == RADIUS else
                   f'<ellipse cx="{px:.1f}" cy="{py:.1f}" rx="{rx:.1f}" ry="{RADIUS}"/>'),
                  f'<text x="{px:.1f}" y="{py + size / 3:.1f}" text-anchor="middle" '
                  f'style="font-size:{size}px">{escape(label)}</text>', "</g>"]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


__all__.append("render_nodes")
