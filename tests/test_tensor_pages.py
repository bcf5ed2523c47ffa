"""Tensor pages in the book's style: the dot and + nodes, shapes on the edges, the shape
argument of each structural step, --wrt showing only the path, proofs naming only the
layer's own dimensions, a graph section in the text format.

Expected shapes are built here from the shapes the layer declares (``spec.symbols()``),
written the way the book writes them, never read back from the renderers.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from derive import catalogue, derive
from derive.render import render, svg
from derive.shapeargs import shape_argument

SVG = "{http://www.w3.org/2000/svg}"


def _dims(layer, name) -> tuple:
    """The declared shape of ``name`` as the dimension names, e.g. ('N', 'D')."""
    return tuple(str(d) for d in catalogue.get(layer).symbols()[name].shape)


def _shape(*dims) -> str:
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _step_text(text, target) -> str:
    """The lines of the first backward step to ``target``: from its 'node' line to its proof."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("node ") and f"the gradient to {target}," in line)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("proof:"))
    return "\n".join(lines[start:end + 1])


# --- 1. the book's nodes ------------------------------------------------------------------------

def test_affine_has_the_books_dot_and_plus_nodes():
    d = derive("affine")
    ops = {n.op: n.label() for n in d.graph.op_nodes}
    assert ops == {"matmul": "dot", "add": "+"}
    root = ET.fromstring(svg.render(d))
    drawn = [g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g")
             if "op" in g.get("class", "").split()]
    assert sorted(drawn) == ["+", "dot"]
    assert "node a (dot), rule matmul" in d.to_text()


def test_the_broadcast_bias_is_repeated_and_its_gradient_sums_the_copies():
    n, m = _dims("affine", "x")[0], _dims("affine", "W")[1]
    step = _step_text(derive("affine").to_text(), "b")
    assert f"of shape {_shape(m)}" in step
    assert f"b is repeated along axis 0 ({n} copies) to the shape {_shape(n, m)} of y" in step
    assert "its gradient is the sum of the copies" in step
    assert f"shapes: {_shape(n, m)} → {_shape(m)} (sum)" in step
    # the + node passes dout on to the matrix product unchanged
    assert "∂L/∂a = ∂L/∂y × ∂y/∂a = ∂L/∂y × 1 = ∂L/∂y" in derive("affine").to_text()


def test_softmax_row_sum_is_repeated_along_the_class_axis():
    n, c = _dims("softmax", "x")
    text = derive("softmax").to_text()
    assert f"is repeated along axis 1 ({c} copies) to the shape {_shape(n, c)}" in text


# --- 2. shapes on the SVG edges -----------------------------------------------------------------

def test_svg_edges_carry_the_declared_shapes():
    root = ET.fromstring(svg.render(derive("affine")))
    shown, tips = [], []
    for t in root.iter(f"{SVG}text"):
        if t.get("class") == "g-lf":
            tip = t.findtext(f"{SVG}title")
            shown.append("".join(t.itertext()).replace(tip, "", 1))
            tips.append(tip)
    x, w, b = (_shape(*_dims("affine", k)) for k in ("x", "W", "b"))
    assert {f"x {x}", f"W {w}", f"b {b}"} <= set(shown)
    n, m = _dims("affine", "x")[0], _dims("affine", "W")[1]
    assert f"y {_shape(n, m)}" in shown          # the output as the maths names it
    (b_tip,) = [t for t in tips if t.startswith("b,")]
    assert f"repeated along axis 0 to {_shape(n, m)}" in b_tip


# --- 3. the shape argument of each structural step ---------------------------------------------

def _matmul_expected(layer, w_name="W"):
    (n, d), (_, m) = _dims(layer, "x"), _dims(layer, w_name)
    dx = f"{_shape(n, m)}·{_shape(m, d)} = {_shape(n, d)}"
    dw = f"{_shape(d, n)}·{_shape(n, m)} = {_shape(d, m)}"
    return dx, dw


@pytest.mark.parametrize("layer", ["affine", "matmul"])
def test_matrix_product_steps_argue_by_shapes(layer):
    dx, dw = _matmul_expected(layer)
    text = derive(layer).to_text()
    assert f"shapes: {dx}" in _step_text(text, "x")
    assert f"shapes: {dw}" in _step_text(text, "W")
    tex = render(derive(layer), "latex")
    assert "shapes: $" + dx.replace("·", r" \cdot ") + "$" in tex
    md = render(derive(layer), "markdown")
    assert "shapes: $`" + dw.replace("·", r" \cdot ") + "`$" in md
    data = json.loads(render(derive(layer), "json"))
    by_target = {s["target"]: s.get("shape_argument") for s in data["steps"]
                 if s["kind"] == "chain" and s["rule"] == "matmul"}
    assert by_target == {"x": dx, "W": dw}


def test_the_shape_argument_follows_any_declared_dimensions():
    # no layer-specific strings: other names and a rectangular W give other shapes
    d = derive(expr="x @ V", shapes={"x": "P,Q", "V": "Q,R"}, weights=["V"], name="odd")
    text = d.to_text()
    assert "shapes: (P, R)·(R, Q) = (P, Q)" in _step_text(text, "x")
    assert "shapes: (Q, P)·(P, R) = (Q, R)" in _step_text(text, "V")


def test_time_affine_einsum_and_bias_sum_argue_by_shapes():
    (n, t, d), (_, m) = _dims("time_affine", "x"), _dims("time_affine", "W")
    text = derive("time_affine").to_text()
    assert f"{_shape(n, t, m)}, {_shape(d, m)} → {_shape(n, t, d)}" in _step_text(text, "x")
    assert f"{_shape(n, t, m)}, {_shape(n, t, d)} → {_shape(d, m)}" in _step_text(text, "W")
    assert f"shapes: {_shape(n, t, m)} → {_shape(m)} (sum)" in _step_text(text, "b")


@pytest.mark.parametrize("layer", ["affine", "matmul", "time_affine", "softmax", "batchnorm",
                                   "weight_sum", "attention", "embedding"])
def test_every_shape_argument_ends_at_the_gradients_shape(layer):
    d = derive(layer)
    argued = 0
    for step in d.steps:
        argument = shape_argument(d.graph, step)
        if argument is None:
            continue
        argued += 1
        assert argument.result == tuple(step.shape), (step.node, step.target, str(argument))
        if argument.kind == "product":
            (a, b) = argument.shapes
            assert a[-1] == b[0] and argument.result == (a[0], b[-1])
    assert argued


# --- 4. --wrt shows only the path to that input -------------------------------------------------

def test_wrt_w_shows_only_the_path_to_w():
    d = derive("affine", wrt="W")
    targets = [s.target for s in d.steps if s.kind in ("chain", "sum")]
    assert "W" in targets
    assert not {"x", "b"} & set(targets)
    out = subprocess.run([sys.executable, "-m", "derive", "show", "affine", "--wrt", "W"],
                         capture_output=True, text=True, check=True).stdout
    backward = out.split("Backward, node by node")[1]
    assert "the gradient to W" in backward
    assert "the gradient to x" not in backward and "the gradient to b" not in backward
    assert "Cached form of the gradient to x" not in out


# --- 5. proofs name only the layer's dimensions -------------------------------------------------

def test_affine_proofs_name_no_dimension_the_layer_does_not_have():
    used = {str(d) for d in catalogue.get("affine").dims()}
    everywhere = {str(d) for name in catalogue.names() for d in catalogue.get(name).dims()}
    foreign = everywhere - used
    assert "C" in foreign           # softmax's classes: the dimension the student saw
    for fmt in ("text", "latex", "markdown"):
        page = render(derive("affine"), fmt)
        proofs = [line for line in page.splitlines() if line.startswith(("proof:", "shapes:"))]
        assert proofs
        words = {w for line in proofs for w in re.findall(r"[A-Za-z_]+", line)}
        assert not words & foreign, (fmt, words & foreign)


# --- 6. a graph section in the text format (LaTeX and HTML draw the graph), the LaTeX page ------

def test_text_format_draws_affines_edges_with_shapes():
    text = derive("affine").to_text()
    section = text.split("Computational graph")[1].split("Backward, node by node")[0]
    x, w, b = (_shape(*_dims("affine", k)) for k in ("x", "W", "b"))
    n, m = _dims("affine", "x")[0], _dims("affine", "W")[1]
    lines = [line.strip() for line in section.splitlines()]
    x_line = next(i for i, line in enumerate(lines) if line.startswith(f"x {x} ─"))
    assert lines[x_line].endswith("┐")
    assert lines[x_line + 1].startswith(f"W {w} ─")
    assert lines[x_line + 1].endswith(f"┴→ dot → a {_shape(n, m)}")
    b_line = next(line for line in lines if line.startswith(f"b {b} ─ repeat → {_shape(n, m)}"))
    plus = next(line for line in lines if line.startswith(f"a {_shape(n, m)} ─"))
    assert plus.endswith(f"→ + → y {_shape(n, m)}") and b_line.endswith("┐")


def test_text_graph_section_only_for_graphs_that_are_not_a_chain():
    assert "─┴→ × → z" in derive("mul").to_text()       # mul has its own y: the output is z
    assert "edges, each operand" not in derive("sigmoid").to_text()


def test_latex_page_has_the_walkthrough_with_its_shape_arguments():
    tex = render(derive("affine"), "latex", standalone=True)
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    for heading in ("Computational graph", "Backward, node by node",
                    "Cached form of the gradient to W"):
        assert r"\subsection*{%s}" % heading in tex
    assert r"($\mathrm{dot}$), rule \texttt{matmul}" in tex
    assert tex.count("shapes: $") == 3     # the bias sum and the two matrix products
    assert r"$b$ is repeated along axis $0$" in tex
