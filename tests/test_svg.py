"""The graph picture: well-formed XML, one element per graph node, escaped labels, layout."""
import xml.etree.ElementTree as ET

import pytest
import sympy as sp

from derive import catalogue, derive
from derive.catalogue import from_expr
from derive.derivation import derive_spec
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
    assert "−dout·out²" in texts       # a backward gradient below one


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
