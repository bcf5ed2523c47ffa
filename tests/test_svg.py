"""The graph picture: well-formed XML, one element per graph node, escaped labels, layout."""
import xml.etree.ElementTree as ET

import pytest
import sympy as sp

from derive import catalogue, derive
from derive.derivation import derive_spec
from derive.spec import from_expr
from derive.render import svg

SVG = "{http://www.w3.org/2000/svg}"


def _parse(text):
    return ET.fromstring(text)


@pytest.mark.parametrize("name", catalogue.names())
def test_svg_is_xml_with_one_element_per_node(name):
    d = derive(name)
    root = _parse(svg.render(d))
    assert root.tag == f"{SVG}svg"
    nodes = [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    assert sorted(int(g.get("data-id")) for g in nodes) == [n.id for n in d.graph.nodes]
    ops = [g for g in nodes if "op" in g.get("class").split()]
    assert len(ops) == len(d.graph.op_nodes)
    # every node drawn inside the picture
    w, h = float(root.get("width")), float(root.get("height"))
    for shape in list(root.iter(f"{SVG}circle")) + list(root.iter(f"{SVG}ellipse")):
        assert 0 < float(shape.get("cx")) < w and 0 < float(shape.get("cy")) < h


def test_sigmoid_picture_is_the_books_chain():
    root = _parse(svg.render(derive("sigmoid")))
    labels = [g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g")
              if "op" in g.get("class", "").split()]
    assert labels == ["×(−1)", "exp", "+1", "1/·"]
    texts = "".join(root.itertext())
    assert "exp(−x)" in texts          # a forward value above an arrow
    assert "−(∂L/∂y)·y²" in texts      # a backward gradient below one, in the page's names
    shown = "".join((t.text or "") + "".join(c.tail or "" for c in t)      # not the tooltips
                    for t in root.iter(f"{SVG}text"))
    assert "∂L/∂y" in shown and "dout" not in shown and "out" not in shown


def test_chain_runs_left_to_right_on_one_row():
    lay = svg.layout(derive("sigmoid").graph)
    xs = [lay.pos[i][0] for i in range(5)]
    ys = {lay.pos[i][1] for i in range(5)}
    assert xs == sorted(xs) and len(set(xs)) == 5
    assert len(ys) == 1


def test_fan_out_uses_a_separate_row_for_the_long_edge():
    d = derive("silu")
    lay = svg.layout(d.graph, d.steps)
    x_to_out = lay.routes[(0, d.graph.output)]
    assert len(x_to_out) > 2     # passes dummy points
    chain_rows = {lay.pos[i][1] for i in range(1, 5)}
    assert not chain_rows & {lay.pos[k][1] for k in x_to_out[1:-1]}


def test_labels_are_escaped_for_xml():
    lt = sp.Symbol("a<b&c", real=True)
    d = derive_spec(from_expr(sp.exp(lt), [lt]))
    text = svg.render(d)
    _parse(text)
    assert "a&lt;b&amp;c" in text


def test_long_formulas_become_symbols_with_a_tooltip():
    d = derive("gelu_tanh")
    root = _parse(svg.render(d))
    for t in root.iter(f"{SVG}text"):
        shown = "".join(t.itertext()).replace(t.findtext(f"{SVG}title") or "", "", 1)
        assert len(shown) <= svg.MAX_LABEL
    assert "∂L/∂c" in "".join(root.itertext())


def test_output_is_deterministic():
    assert svg.render(derive("elu")) == svg.render(derive("elu"))


# --- readability: labels clear of each other, of the nodes and of other edges' lines ---

CHAR, IN_CHAR = svg.CHAR, svg.IN_CHAR


def _boxes(root):
    """(labels, nodes, lines): label boxes with their edge group, node boxes, edge lines."""
    labels, nodes, lines = [], [], []
    for gi, g in enumerate(root.iter(f"{SVG}g")):
        cls = g.get("class", "").split()
        if "g-e" in cls:
            for t in g.iter(f"{SVG}text"):
                s = "".join(t.itertext()).replace(t.findtext(f"{SVG}title") or "", "", 1)
                x, y, w = float(t.get("x")), float(t.get("y")), len(s) * CHAR
                assert t.get("text-anchor") == "middle"
                labels.append(((x - w / 2, y - 12, x + w / 2, y + 3), gi, s))
                # its own line, level under the label: forward 6px below, backward 17px above
                line_y = y + 6 if t.get("class") == "g-lf" else y - 17
                own = [(p, q) for pl in g.iter(f"{SVG}polyline") for p, q in _segs(pl)
                       if abs(p[1] - line_y) < 0.2 and abs(q[1] - line_y) < 0.2
                       and min(p[0], q[0]) <= x - w / 2 and max(p[0], q[0]) >= x + w / 2]
                if not own:
                    labels.append((None, gi, s))
            for pl in g.iter(f"{SVG}polyline"):
                lines += [(a, b, gi) for a, b in _segs(pl)]
        elif "node" in cls:
            for c in list(g.iter(f"{SVG}circle")) + list(g.iter(f"{SVG}ellipse")):
                x, y = float(c.get("cx")), float(c.get("cy"))
                rx, ry = float(c.get("r") or c.get("rx")), float(c.get("r") or c.get("ry"))
                nodes.append(((x - rx, y - ry, x + rx, y + ry), g.get("data-name")))
            if "input" in cls:
                t = g.find(f"{SVG}text")
                s = "".join(t.itertext()).replace(t.findtext(f"{SVG}title") or "", "", 1)
                x, y = float(t.get("x")), float(t.get("y"))
                nodes.append(((x - len(s) * IN_CHAR, y - 13, x, y + 3), s))
    return labels, nodes, lines


def _segs(polyline):
    pts = [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
    return list(zip(pts, pts[1:]))


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(box, a, b):
    """Does the segment a-b pass through the box? (sampled every pixel)"""
    n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
    return any(box[0] < a[0] + (b[0] - a[0]) * i / n < box[2] and
               box[1] < a[1] + (b[1] - a[1]) * i / n < box[3] for i in range(n + 1))


def _all_pictures():
    for name in catalogue.names():      # elementwise and tensor layers: one picture code
        yield pytest.param(lambda n=name: svg.render(derive(n)), id=name)


def _problems(text):
    labels, nodes, lines = _boxes(_parse(text))
    out = [f"label {s!r} is not on a horizontal run of its edge" for a, _, s in labels
           if a is None]
    labels = [lab for lab in labels if lab[0] is not None]
    for i, (a, ga, sa) in enumerate(labels):
        out += [f"label {sa!r} overlaps label {sb!r}" for b, _, sb in labels[i + 1:]
                if _overlap(a, b)]
        out += [f"label {sa!r} overlaps node {n!r}" for b, n in nodes if _overlap(a, b)]
        out += [f"label {sa!r} sits on another edge's line {p}-{q}" for p, q, g in lines
                if g != ga and _crosses(a, p, q)]
    return out


#: big graphs with weights shared by many nodes: the label layout still overlaps there
_CROWDED = {"lstm", "gru", "time_rnn", "time_lstm", "time_gru"}


@pytest.mark.parametrize("make", [pytest.param(*p.values, marks=pytest.mark.xfail(
    strict=True, reason="label layout overlaps on crowded graphs (shared packed weights)"),
    id=p.id) if p.id in _CROWDED else p for p in _all_pictures()])
def test_labels_clear_labels_nodes_and_other_edges(make):
    assert _problems(make()) == []


def test_the_readability_check_sees_overlaps():
    # the same picture with a label moved onto a node, or onto its partner label, fails
    text = svg.render(derive("silu"))
    root = _parse(text)
    circle = next(root.iter(f"{SVG}circle"))
    fwd = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "g-lf")
    bwd = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "g-lb")
    on_node = text.replace(f'<text x="{fwd.get("x")}" y="{fwd.get("y")}"',
                           f'<text x="{circle.get("cx")}" y="{circle.get("cy")}"', 1)
    assert any("overlaps node" in p for p in _problems(on_node))
    on_label = text.replace(f'<text x="{bwd.get("x")}" y="{bwd.get("y")}"',
                            f'<text x="{fwd.get("x")}" y="{fwd.get("y")}"', 1)
    assert any("overlaps label" in p for p in _problems(on_label))
