"""The layout of a computational-graph picture: columns, order, rows, routed edges, labels.

A layered layout (Sugiyama style), with no Graphviz:

1. columns: an operation sits one column right of its latest argument; an input sits
   just left of its first consumer (so gamma, beta, eps do not run across the page);
2. an edge spanning several columns passes through dummy points, one per column;
3. the order inside each column: barycentre sweeps, keeping the order with fewest
   crossings;
4. rows: each point goes level with the median of its neighbours, alternately on the
   left and on the right, the column's points kept at least one row apart (isotonic
   regression), so chains run straight and a fan-in sits between its sources;
5. edges run horizontally and bend close to one end (a short diagonal), and the labels
   of an edge go on one of its horizontal runs, the first candidate that clears every
   node, every other label and every other edge's line.

:mod:`derive.render.svg` draws the result.
"""
from __future__ import annotations

from dataclasses import dataclass

RADIUS = 21
ROW = 92            # vertical distance between rows
PAD = 18
CHAR = 7.4          # estimated width of one character at 13 px


def _width(s: str) -> float:
    return len(s) * CHAR


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


BEND = 34           # horizontal extent of the diagonal part of a bent edge
LABEL_UP = (-23.0, -6.0)    # vertical extent of a forward label around its run's y
LABEL_DOWN = (9.0, 26.0)    # ... of a backward label


def _plan(keys, is_input, hw, name_w, edge_widths, out_key, out_w, nodes=None) -> Layout:
    """``out_w``: the widths of the output arrow's (forward, backward) labels."""
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
    out_gap = max(*out_w, 70) + 40
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
    for (lo, hi), w in zip((LABEL_UP, LABEL_DOWN), out_w):
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
    if (max(x0, x1) < bx[0] or min(x0, x1) > bx[2] or max(y0, y1) < bx[1]
            or min(y0, y1) > bx[3]):
        return False            # every sampled point lies within the segment's bounding box
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
