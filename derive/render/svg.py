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
    lines: dict = None      # (src, dst) -> the edge's centre line, a list of (x, y)
    labels: dict = None     # (src, dst) -> (x, y): the labels' centre on a horizontal run
    out_line: list = None   # the output arrow


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
    """Columns, order, rows and routed edges of ``graph`` (see :func:`_plan`)."""
    labels = edge_labels(graph, steps)
    nodes = {n.id: n for n in graph.nodes}
    return _plan([n.id for n in graph.nodes],
                 {n.id: n.op == "input" for n in graph.nodes},
                 {n.id: half_width(n) for n in graph.nodes},
                 {n.id: len(n.name) * IN_CHAR for n in graph.nodes},
                 [((s, d), tuple(_width(t) for t, _ in labels[(s, d)]))
                  for s, d in edges(graph)],
                 graph.output, _width(_out_labels()[1]), nodes)


# ---------------------------------------------------------------- the layout engine
# Shared by the elementwise graphs and the matrix graphs (render_nodes).
#  1. columns: an operation sits one column right of its latest argument; an input sits
#     just left of its first consumer (so gamma, beta, eps do not run across the page);
#  2. an edge spanning several columns passes through dummy points, one per column;
#  3. the order inside each column: barycentre sweeps, keeping the order with fewest
#     crossings;
#  4. rows: each point goes level with the median of its neighbours, alternately on the
#     left and on the right, the column's points kept at least one row apart (isotonic
#     regression), so chains run straight and a fan-in sits between its sources;
#  5. edges run horizontally and bend close to one end (a short diagonal), and the labels
#     of an edge go on one of its horizontal runs, the first candidate that clears every
#     node, every other label and every other edge's line.

BEND = 34           # horizontal extent of the diagonal part of a bent edge
LABEL_UP = (-23.0, -6.0)    # vertical extent of a forward label around its run's y
LABEL_DOWN = (9.0, 26.0)    # ... of a backward label


def _plan(keys, is_input, hw, name_w, edge_widths, out_key, out_w, nodes=None) -> Layout:
    edge_list = [e for e, _ in edge_widths]
    widths = dict(edge_widths)
    args = {k: [s for s, d in edge_list if d == k] for k in keys}
    col = {}
    for k in keys:
        col[k] = 0 if is_input[k] or not args[k] else 1 + max(col[a] for a in args[k])
    for k in keys:
        users = [col[d] for s, d in edge_list if s == k]
        if is_input[k] and users:
            col[k] = min(users) - 1
    ncols = max(col.values()) + 1
    columns = [[k for k in keys if col[k] == c] for c in range(ncols)]
    routes = {}
    for src, dst in edge_list:
        path = [src] + [(src, dst, c) for c in range(col[src] + 1, col[dst])] + [dst]
        for k in path[1:-1]:
            columns[k[2]].append(k)
        routes[(src, dst)] = path
        col.update({k: k[2] for k in path[1:-1]})
    _order(columns, routes)
    rows = _rows(columns, routes)

    def right(k):           # extent of a point to the right of its centre
        return 0.0 if isinstance(k, tuple) else (8.0 if is_input[k] else hw[k])

    def left(k):
        return 0.0 if isinstance(k, tuple) else (name_w[k] + 10 if is_input[k] else hw[k])

    which = {e: _label_segment(path, rows) for e, path in routes.items()}
    gaps = [50.0] * (ncols - 1)
    for c in range(ncols - 1):
        gaps[c] = max([50.0] + [right(a) + left(b) + 50 for a in columns[c]
                                for b in columns[c + 1]])
    for e, path in routes.items():
        i = which[e]
        a, b = path[i], path[i + 1]
        bend = BEND if abs(rows[a] - rows[b]) > 1e-6 else 0
        need = right(a) + left(b) + max(widths[e]) + 24 + bend + (6 if bend else 0)
        gaps[col[a]] = max(gaps[col[a]], need)
    xs, x = [], PAD + max([left(k) for k in columns[0]] + [0])
    for c in range(ncols):
        xs.append(x)
        x += gaps[c] if c < ncols - 1 else 0
    top = PAD + 18 + RADIUS
    pos = {k: (xs[col[k]], top + rows[k] * ROW)
           for c in columns for k in c}
    out_gap = max(out_w, 70) + 40
    width = xs[-1] + max(right(k) for k in columns[-1]) + out_gap + PAD
    height = top + max(rows.values()) * ROW + RADIUS + 18 + PAD
    lines = {e: _route(path, pos, is_input, right, left, routes) for e, path in routes.items()}
    ox, oy = pos[out_key]
    out_line = [(ox + right(out_key) + 3, oy), (width - PAD, oy)]
    boxes = []
    for k, (x, y) in pos.items():
        if isinstance(k, tuple):
            continue
        if is_input[k]:
            boxes.append((x - name_w[k] - 4, y - 14, x + 4, y + 6))
        else:
            boxes.append((x - hw[k] - 2, y - RADIUS - 2, x + hw[k] + 2, y + RADIUS + 2))
    mx = (out_line[0][0] + out_line[1][0]) / 2
    for (lo, hi), w in zip((LABEL_UP, LABEL_DOWN), (_width("out"), out_w)):
        boxes.append((mx - w / 2, oy + lo, mx + w / 2, oy + hi))
    spots = {}
    order = sorted(routes, key=lambda e: (-max(widths[e]), edge_list.index(e)))
    for e in order:
        spots[e] = _place_labels(e, lines, widths[e], boxes, out_line)
        (x, y), (wf, wb) = spots[e], widths[e]
        boxes.append((x - wf / 2, y + LABEL_UP[0], x + wf / 2, y + LABEL_UP[1]))
        boxes.append((x - wb / 2, y + LABEL_DOWN[0], x + wb / 2, y + LABEL_DOWN[1]))
    return Layout(columns, pos, width, height, routes, lines, spots, out_line)


def _route(path, pos, is_input, right, left, routes) -> list:
    """The centre line of an edge: horizontal runs joined by short diagonals."""
    pts = [pos[path[0]]]
    for a, b in zip(path, path[1:]):
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if abs(ya - yb) < 1e-6:
            pts.append((xb, yb))
            continue
        outs = sum(1 for p in _segments(routes) if p[0] == a)
        ins = sum(1 for p in _segments(routes) if p[1] == b)
        # bend near the end that has company: a fan-out splits at its source, a fan-in
        # joins at its target, and the run in between is the edge's own
        early = isinstance(b, tuple) or (outs > 1 and ins == 1 and not isinstance(a, tuple))
        if isinstance(a, tuple) and isinstance(b, tuple):
            mid = (xa + xb) / 2
            pts += [(mid - BEND / 2, ya), (mid + BEND / 2, yb), (xb, yb)]
        elif early:
            pts += [(xa + right(a) + 6 + BEND, yb), (xb, yb)]
        else:
            pts += [(xb - left(b) - 6 - BEND, ya), (xb, yb)]
    # clip the ends at the nodes' outlines
    pts[0] = (pts[0][0] + right(path[0]) + 3, pts[0][1]) if pts[1][1] == pts[0][1] else \
        _clip(pts[0], pts[1], right(path[0]) + 3)
    pts[-1] = (pts[-1][0] - left(path[-1]) - 3, pts[-1][1]) if pts[-2][1] == pts[-1][1] else \
        _clip(pts[-1], pts[-2], (left(path[-1]) if not is_input.get(path[-1]) else 8) + 3)
    out = [pts[0]]
    for p in pts[1:]:
        if abs(p[0] - out[-1][0]) > 1e-6 or abs(p[1] - out[-1][1]) > 1e-6:
            out.append(p)
    # drop middle points of straight horizontal stretches
    keep = [out[0]]
    for i in range(1, len(out) - 1):
        if not (abs(out[i - 1][1] - out[i][1]) < 1e-6 and abs(out[i][1] - out[i + 1][1]) < 1e-6):
            keep.append(out[i])
    return keep + [out[-1]]


def _segments(routes):
    for path in routes.values():
        yield from zip(path, path[1:])


def _clip(p, toward, rx) -> tuple:
    """Where the segment from ``p`` toward ``toward`` leaves an ellipse (rx, RADIUS + 3)."""
    dx, dy = toward[0] - p[0], toward[1] - p[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    ry = RADIUS + 3 if rx > 12 else rx
    t = 1 / ((ux / rx) ** 2 + (uy / ry) ** 2) ** 0.5
    return (p[0] + ux * t, p[1] + uy * t)


def _place_labels(e, lines, widths, boxes, out_line) -> tuple:
    """Centre of an edge's labels: on a horizontal run, clear of everything else if possible."""
    w = max(widths)
    pts = lines[e]
    others = [seg for f, ps in lines.items() if f != e for seg in zip(ps, ps[1:])]
    others.append(tuple(out_line))
    runs = [(a, b) for a, b in zip(pts, pts[1:]) if abs(a[1] - b[1]) < 1e-6]
    runs.sort(key=lambda r: -(r[1][0] - r[0][0]))
    best = None
    for i, ((x0, y), (x1, _)) in enumerate(runs):
        room = x1 - x0 - w - 16
        cands = [(x0 + x1) / 2]
        if room > 0:
            cands += [x0 + 8 + w / 2 + room * f for f in (0.25, 0.75, 0.0, 1.0)]
        for j, x in enumerate(cands):
            mine = [(x - widths[0] / 2, y + LABEL_UP[0], x + widths[0] / 2, y + LABEL_UP[1]),
                    (x - widths[1] / 2, y + LABEL_DOWN[0], x + widths[1] / 2, y + LABEL_DOWN[1])]
            bad = sum(_overlap(m, b) for m in mine for b in boxes)
            bad += sum(_hits(m, s) for m in mine for s in others)
            bad += 3 * (room < 0)
            score = (bad, i, j)
            if best is None or score < best[0]:
                best = (score, (x, y))
    return best[1]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _hits(box, seg) -> bool:
    """Does the segment (drawn as two lines 4px either side) touch the box?"""
    (x0, y0), (x1, y1) = seg
    bx = (box[0] - 5, box[1] - 5, box[2] + 5, box[3] + 5)
    n = max(2, int(max(abs(x1 - x0), abs(y1 - y0)) / 3))
    return any(bx[0] <= x0 + (x1 - x0) * t / n <= bx[2] and bx[1] <= y0 + (y1 - y0) * t / n <= bx[3]
               for t in range(n + 1))


def _rows(columns, routes, passes: int = 8) -> dict:
    """A (fractional) row per point: level with the median of its neighbours, alternately
    left and right, a column's points kept in order at least one row apart."""
    left, right = _neighbours(routes)
    rows = {k: float(i) for c in columns for i, k in enumerate(c)}
    for p in range(passes):
        nbrs = left if p % 2 == 0 else right
        cs = columns if p % 2 == 0 else columns[::-1]
        for keys in cs:
            want = []
            for k in keys:
                ps = sorted(rows[q] for q in nbrs.get(k, []))
                want.append((ps[(len(ps) - 1) // 2] + ps[len(ps) // 2]) / 2 if ps else rows[k])
            for k, r in zip(keys, _spaced(want)):
                rows[k] = r
    low = min(rows.values())
    return {k: round(r - low, 6) for k, r in rows.items()}


def _spaced(want) -> list:
    """Closest rows (least squares) to ``want`` keeping the order, one row apart."""
    blocks = []                                   # [sum, count] of want[i] - i
    for i, w in enumerate(want):
        blocks.append([w - i, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
    out = []
    for s, n in blocks:
        out += [s / n] * n
    return [v + i for i, v in enumerate(out)]


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


def _crossings(columns, routes) -> int:
    right = _neighbours(routes)[1]
    total = 0
    for c in range(len(columns) - 1):
        where = {k: i for i, k in enumerate(columns[c + 1])}
        pairs = [(i, where[b]) for i, a in enumerate(columns[c]) for b in right.get(a, [])]
        total += sum(1 for p in pairs for q in pairs if p[0] < q[0] and p[1] > q[1])
    return total


def _order(columns, routes, sweeps: int = 12) -> None:
    """Barycentre ordering inside columns (left-to-right, then right-to-left), keeping
    the order with the fewest crossings."""
    left, right = _neighbours(routes)
    best = (_crossings(columns, routes), [list(c) for c in columns])
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
        n = _crossings(columns, routes)
        if n < best[0]:
            best = (n, [list(c) for c in columns])
    columns[:] = best[1]


def _label_segment(route, rows) -> int:
    """Index of the segment of a route planned to carry its labels: the middle level one,
    if any, else the first."""
    level = [i for i in range(len(route) - 1)
             if abs(rows[route[i]] - rows[route[i + 1]]) < 1e-6]
    return level[len(level) // 2] if level else 0


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


def _path(pts, dy) -> str:
    return " ".join(f"{x:.1f},{y + dy:.1f}" for x, y in pts)


def _edge_svg(src_name, dst_name, pts, spot, fwd, fwd_tip, bwd, bwd_tip, pid) -> str:
    """One edge: the forward line (above) and the backward line (below), and their labels
    centred on ``spot``, a point of one of the edge's horizontal runs."""
    mx, my = spot
    return "\n".join([
        f'<g class="g-e" data-src={quoteattr(src_name)} data-dst={quoteattr(dst_name)}>',
        f'<polyline class="g-edge g-fwd" points="{_path(pts, -4)}" marker-end="url(#{pid}-fh)"/>',
        f'<polyline class="g-edge g-bwd" points="{_path(pts[::-1], 4)}" '
        f'marker-end="url(#{pid}-bh)"/>',
        _text(mx, my - 10, fwd, fwd_tip, "g-lf"),
        _text(mx, my + 21, bwd, bwd_tip, "g-lb"),
        "</g>"])


def _edge(graph, lay, keys, labels, pid) -> str:
    (fwd, fwd_tip), (bwd, bwd_tip) = labels
    e = (keys[0], keys[-1])
    return _edge_svg(graph.node(e[0]).name, graph.node(e[1]).name, lay.lines[e], lay.labels[e],
                     fwd, fwd_tip, bwd, bwd_tip, pid)


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


def _output_edge(graph, lay, steps, pid) -> str:
    fwd, bwd = _out_labels()
    return _out_svg(lay, fwd, f"out = {text_form(graph.node(graph.output).expr)}",
                    bwd, f"∂L/∂out = {dout}, the upstream gradient", pid)


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
    labels = {k: lab for k, lab, _, _ in nodes}

    def hw(k):
        return 8.0 if kinds[k] == "input" else max(float(RADIUS), len(labels[k]) * 4.4 + 10)

    last = nodes[-1][0]
    lay = _plan([k for k, *_ in nodes], {k: kinds[k] == "input" for k in kinds},
                {k: hw(k) for k in kinds}, {k: len(labels[k]) * IN_CHAR for k in kinds},
                [((s, d), (_width(f), _width(b))) for s, d, f, b in edges_],
                last, _width("dout"))
    pos = lay.pos
    w, h = round(lay.width), round(lay.height)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-labelledby="{pid}-t" class="graph">',
             f'<title id="{pid}-t">{escape(title)}</title>', f"<style>{_STYLE}</style>",
             "<defs>", _marker(f"{pid}-fh", "g-fwd-head"), _marker(f"{pid}-bh", "g-bwd-head"),
             "</defs>"]
    for src, dst, fwd, bwd in edges_:
        parts.append(_edge_svg(src, dst, lay.lines[(src, dst)], lay.labels[(src, dst)],
                               fwd, f"forward: {fwd}", bwd, f"backward: {bwd}", pid))
    parts.append(_out_svg(lay, last, f"the layer's output {last}", "dout",
                          "the upstream gradient", pid))
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
