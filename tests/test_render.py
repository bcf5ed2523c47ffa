"""Renderers and printers: golden strings written from the book, and every layer in every format."""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import sympy as sp

from derive import catalogue, derive
from derive.errors import DeriveError
from derive.parse import parse_formula
from derive.render import FORMATS, render
from derive.render.printers import DeriveLatexPrinter, DeriveStrPrinter, latex, text
from derive.steps import dout, out

LAYERS = catalogue.names()
x = sp.Symbol("x", real=True)
alpha = sp.Symbol("alpha", positive=True)
DL_DY = r"\frac{\partial L}{\partial y}"


@pytest.fixture(scope="module")
def derivations():
    return {name: derive(name) for name in LAYERS}


# --- the book's sigmoid, node by node ---------------------------------------------------------

def test_sigmoid_walkthrough_follows_the_book(derivations):
    d = derivations["sigmoid"]
    chain = [s for s in d.steps if s.kind == "chain"]
    # x → ×(−1) → exp → +1 → 1/· → y, walked backwards: "/" gives −y², "+" passes it on,
    # "exp" multiplies by exp(−x), "×(−1)" flips the sign
    assert [s.rule for s in chain] == ["reciprocal", "add_const", "exp", "neg"]
    assert [s.local for s in chain] == [-out**2, 1, sp.exp(-x), -1]
    assert [(s.node, s.target) for s in chain] == [("out", "c"), ("c", "b"), ("b", "a"),
                                                   ("a", "x")]
    assert chain[-1].expr == dout * out**2 * sp.exp(-x)
    assert d.result["x"] == dout * out * (1 - out)
    assert d.needs("x") == ("out",)


def test_sigmoid_text_golden(derivations):
    t = derivations["sigmoid"].to_text()
    # the text page's maths uses the book's names, y and ∂L/∂y (= dout, said once)
    assert "graph: x → ×(−1) → exp → +1 → 1/· → y" in t
    for line in ("a = -x", "b = np.exp(a)", "c = b + 1", "y = 1/c"):
        assert f"    {line}\n" in t
    assert t.count("∂L/∂y = dout") == 1
    assert "∂L/∂c = ∂L/∂y × ∂y/∂c = ∂L/∂y × (-1/c**2) = ∂L/∂y × (-y**2) = -(∂L/∂y)*y**2" in t
    assert "∂L/∂x = ∂L/∂a × ∂a/∂x = (-(∂L/∂y)*y**2*np.exp(-x)) × (-1) = (∂L/∂y)*y**2*np.exp(-x)" \
        in t
    assert t.rstrip().splitlines()[-4] == "    ∂L/∂x = (∂L/∂y)*y*(1 - y)"
    assert t.rstrip().splitlines()[-1] == ("Names you may use in derive check: x, dout, "
                                           "out (or y), a, b, c; check a node's gradient "
                                           "with --node NAME.")
    assert "reads, besides ∂L/∂y: y" in t
    assert "rule neg" in t and "rewrite: split the fraction" in t and "proof: symbolic" in t


def test_sigmoid_latex_golden(derivations):
    tex = derivations["sigmoid"].to_latex()
    assert r"x \to \times(-1) \to \exp \to +1 \to 1/\cdot \to y" in tex
    assert r"\frac{\partial L}{\partial x} &= %s y \left(1 - y\right)" % DL_DY in tex
    assert r"\frac{\partial L}{\partial c} &= %s \cdot \frac{\partial y}{\partial c}" % DL_DY in tex
    assert r"\begin{aligned}" not in tex and r"\documentclass" not in tex


# --- printers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, want_text, want_latex", [
    (dout * out * (1 - out), "dout*out*(1 - out)", DL_DY + r" y \left(1 - y\right)"),
    (sp.Piecewise((dout, out > 0), (0, True)), "dout*(out > 0)", DL_DY + r" \left[y > 0\right]"),
    (dout * sp.Piecewise((1, x > 0), (0, True)), "dout*(x > 0)", DL_DY + r" \left[x > 0\right]"),
    (sp.Piecewise((1, x >= 0), (0, True)), "(x >= 0)", r"\left[x \geq 0\right]"),
    (sp.Piecewise((dout, out > 0), (alpha * dout, True)), "np.where(out > 0, dout, alpha*dout)",
     r"\begin{cases} %s & \text{if } y > 0 \\ \alpha %s & \text{otherwise} \end{cases}"
     % (DL_DY, DL_DY)),
    (dout**2, "dout**2", r"\left(%s\right)^{2}" % DL_DY),
    (sp.Max(0, x), "np.maximum(0, x)", r"\max\left(0, x\right)"),
    (sp.sqrt(2 / sp.pi) * x, "np.sqrt(2)*x/np.sqrt(np.pi)", r"\frac{\sqrt{2} x}{\sqrt{\pi}}"),
    (sp.E * x, "np.e*x", r"e x"),
])
def test_printers_spell_the_book_way(expr, want_text, want_latex):
    assert text(expr) == want_text
    assert latex(expr) == want_latex


def test_out_is_z_when_the_layer_has_an_input_y():
    spec = catalogue.get("mul")
    assert latex(dout * out, spec) == r"\frac{\partial L}{\partial z} z"
    assert r"\frac{\partial L}{\partial z}" in derive("mul").to_latex()


@pytest.mark.parametrize("expr", [
    sp.Piecewise((dout, out > 0), (alpha * dout, True)),
    alpha * dout * sp.Piecewise((1, x <= 0), (0, True)) + dout * sp.Piecewise((1, x > 0), (0, True)),
    sp.E * x + sp.sqrt(2 / sp.pi) * out,
    sp.Piecewise((dout * (x + 1), x >= 0), (0, True)),
])
def test_text_printer_output_parses_back(expr):
    names = {"dout": dout, "out": out, "x": x, "alpha": alpha}
    back = parse_formula(text(expr), names).expr
    assert sp.simplify(sp.piecewise_fold(back - expr)) == 0


@pytest.mark.parametrize("printer", [DeriveLatexPrinter, DeriveStrPrinter])
def test_unknown_printer_setting_is_an_error(printer):
    with pytest.raises(DeriveError, match="unknown printer setting"):
        printer({"no_such_setting": 1})
    assert printer({"out_name": "z"}).doprint(out) == "z"


# --- every layer, every format -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_renders_in_every_format(derivations, name, fmt):
    d = derivations[name]
    page = render(d, fmt)
    assert page.strip()
    if fmt != "json":
        for input_name in d.wrt:
            shown = input_name.replace("_", "\\_") if fmt in ("latex", "markdown") else input_name
            assert f"gradient to {shown}" in page or f"gradient to {input_name}" in page


def test_unknown_format_is_bad_input(derivations):
    with pytest.raises(DeriveError, match="unknown format"):
        render(derivations["relu"], "pdf")


@pytest.mark.parametrize("name", LAYERS)
def test_mathml_is_wellformed_without_ampersand_debris(derivations, name):
    html = derivations[name].to_mathml()
    root = ET.fromstring(f"<div>{html}</div>")
    assert root.findall(".//{http://www.w3.org/1998/Math/MathML}math")
    assert "<mi>&amp;</mi>" not in html and "<mi>&</mi>" not in html
    # no operator spelled out as an identifier, either
    idents = [e.text for e in root.iter("{http://www.w3.org/1998/Math/MathML}mi")]
    assert "&" not in idents and "\\" not in "".join(t or "" for t in idents)


@pytest.mark.parametrize("name", LAYERS)
def test_latex_fragment_and_standalone(derivations, name):
    d = derivations[name]
    fragment = d.to_latex()
    doc = d.to_latex(standalone=True)
    assert r"\documentclass" not in fragment and r"\begin{aligned}" not in fragment
    assert doc.startswith(r"\documentclass{article}")
    assert r"\usepackage{amsmath" in doc and r"\begin{document}" in doc
    assert doc.rstrip().endswith(r"\end{document}")
    assert doc.count(r"\begin{align*}") == doc.count(r"\end{align*}") > 0


@pytest.mark.parametrize("name", LAYERS)
def test_markdown_display_math_on_own_lines(derivations, name):
    md = derivations[name].to_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("# ")
    opening = [i for i, line in enumerate(lines) if "$$" in line]
    assert opening and all(lines[i] == "$$" for i in opening) and len(opening) % 2 == 0


@pytest.mark.parametrize("name", LAYERS)
def test_json_schema_and_results_parse_back(derivations, name):
    """The JSON contract: results and cached values in the parser's own syntax; a script
    can evaluate every gradient from the inputs alone."""
    from derive.check import check
    from derive.spec import LayerSpec
    d = derivations[name]
    data = json.loads(d.to_json())
    assert {"layer", "inputs", "weights", "params", "forward", "graph", "steps", "result",
            "cache", "needs", "shapes"} <= set(data)
    assert data["layer"] == name and data["inputs"] == list(d.spec.input_names)
    assert [n["op"] for n in data["graph"]["nodes"]] == [n.op for n in d.graph.nodes]
    for step in data["steps"]:
        assert {"rule", "node", "target", "kind", "expr", "latex", "proof"} <= set(step)
        assert step["kind"] in {"seed", "chain", "sum", "rewrite", "fact", "result"}
        assert {"method", "detail", "points"} <= set(step["proof"])
        assert ("upstream" in step) == (step["kind"] == "chain")
    names = d.spec.symbols()
    for input_name, expr_text in data["result"].items():
        back = parse_formula(expr_text, names).expr
        assert sp.simplify(back - d.result[input_name]) == 0, (expr_text, d.result[input_name])
        assert data["needs"][input_name] == list(d.needs(input_name))
        assert check(d.spec, expr_text, wrt=input_name).ok, expr_text
    # every cached name a result reads is given in the inputs alone
    read = {n for w in d.wrt for n in d.needs(w)} & set(d.spec.named())
    assert set(data["cache"]) == read
    inputs = {s.name: s for s in (*d.spec.differentiable, *d.spec.consts, *d.spec.params)}
    inputs.update({dim.name: dim for dim in d.spec.dims()})
    for cached, text_value in data["cache"].items():
        value = parse_formula(text_value, inputs).expr
        assert sp.simplify(value - d.spec.named()[cached]) == 0, cached
    assert isinstance(d.spec, LayerSpec)


def test_relu_walkthrough_states_the_kink_convention(derivations):
    t = derivations["relu"].to_text()
    assert "∂L/∂x = (∂L/∂y)*(y > 0)" in t
    assert "gradient there is 0" in t and "x = 0" in t


def test_fan_out_is_summed_in_the_walkthrough(derivations):
    t = derivations["silu"].to_text()
    assert "sum at x" in t and "one branch" in t


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ["sigmoid", "leaky_relu", "gelu_tanh", "mul"])
def test_standalone_latex_compiles(derivations, name, tmp_path):
    (tmp_path / "walk.tex").write_text(derivations[name].to_latex(standalone=True))
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "walk.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
