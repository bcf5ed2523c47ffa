"""One notation on every page: the output is y and its gradient ∂L/∂y in the mathematics of
every format, ``out``/``dout`` only in code; no SymPy-internal name reaches a reader; every
displayed equation of batchnorm's forward is true as spelled; decimals stay decimals."""
from __future__ import annotations

import json
import re

import pytest

from derive import catalogue, derive, notebook
from derive.render import html, render, svg
from derive.render.spelling import out_name_for

LAYERS = catalogue.names()

#: what a reader must never see: SymPy's class names and reprs, its infinities, the prover's
#: own words (a - b, where a and b are also node names), the cached form's internal labels
LEAKS = [r"Piecewise", r"\bMax\(", r"\bMin\(", r"\bAbs\(", r"\bzoo\b", r"Heaviside\(",
         r"KroneckerDelta", r"Symbol\(", r"Dummy", r"\bMul\(", r"\bAdd\(", r"\bPow\(",
         r"Rational\(", r"cancel\(", r"expand\(", r"simplify\(", r"a - b", r"cached form: ",
         r"\bnan\b", r"(?<![.\w])oo\b"]


def pages(d) -> dict:
    out = {f: render(d, f) for f in ("text", "latex", "mathml", "markdown", "json")}
    out["html"] = html.render(d)
    out["svg"] = svg.render(d)
    out["notebook"] = notebook.latex(d) + notebook.html(d)
    return out


@pytest.fixture(scope="module")
def rendered():
    return {name: pages(derive(name)) for name in LAYERS}


@pytest.mark.parametrize("name", LAYERS)
def test_no_internal_name_reaches_a_reader(rendered, name):
    for fmt, page in rendered[name].items():
        for leak in LEAKS:
            m = re.search(leak, page)
            assert m is None, (name, fmt, page[max(0, m.start() - 80):m.end() + 40])


def _maths_letter(d) -> str:
    return out_name_for(d.spec, {n.name for n in d.graph.nodes})


@pytest.mark.parametrize("name", LAYERS)
def test_the_output_is_one_letter_in_the_maths_and_out_in_the_code(rendered, name):
    d = derive(name)
    y = _maths_letter(d)
    assert y != "out" and y not in set(d.spec.symbols()) | {n.name for n in d.graph.nodes}
    got = rendered[name]
    tex = r"\frac{\partial L}{\partial %s}" % (y if y != "out" else r"\mathrm{out}")
    for fmt in ("latex", "markdown"):
        assert tex in got[fmt], fmt
        assert r"\partial \mathrm{out}" not in got[fmt] or y == "out"
        assert r"\mathrm{dout}" not in got[fmt]
    text = got["text"]
    assert text.count(f"∂L/∂{y} = dout") == 1       # the code name said once
    maths = [ln for ln in text.splitlines() if ln.startswith("    ")]
    if y != "out":
        assert not any(re.search(r"(?<![\w.'])(d?out)\b", ln) for ln in maths), name
        svg_labels = re.sub(r"<title[^>]*>[^<]*</title>", "", got["svg"])
        assert not re.search(r">[^<]*\b(dout|out)\b[^<]*<", svg_labels), name
    # the code and the data keep the code names
    data = json.loads(got["json"])
    assert "∂L/∂" not in json.dumps(data["result"]) + json.dumps(data["cache"])
    assert "dout" in json.dumps(data["result"]) or d.graph.node(d.graph.output).op == "outputs"


@pytest.mark.parametrize("name, letter", [("mul", "z"), ("add", "z"), ("sigmoid", "y"),
                                          ("softmax_with_loss", "z"),
                                          ("sigmoid_with_loss", "z"), ("gru", "y")])
def test_a_layer_with_its_own_y_spells_its_output_otherwise(rendered, name, letter):
    d = derive(name)
    assert _maths_letter(d) == letter
    if letter != "y":       # y is the layer's own value: its gradient is not the arriving one
        assert f"∂L/∂{letter} = dout" in rendered[name]["text"]
        assert "∂L/∂y = dout" not in rendered[name]["text"]


def test_out_name_for_skips_every_taken_letter():
    assert out_name_for(None, {"y", "z"}) == "out"
    assert out_name_for(catalogue.get("mul"), {"z"}) == "out"


def _forward_rows(tex: str) -> list:
    body = tex.split(r"\begin{align*}")[1].split(r"\end{align*}")[0]
    return [tuple(side.strip() for side in row.split("&=")) for row in body.split(r"\\")]


@pytest.mark.parametrize("name", ["batchnorm", "layernorm"])
def test_normalization_forward_reads_true_as_spelled(rendered, name):
    rows = dict(_forward_rows(rendered[name]["latex"]))
    # every row names a different value, and no value is defined in terms of its own name
    assert len(rows) == 6
    for lhs, rhs in rows.items():
        assert lhs not in rhs.replace("^{2}", "") or lhs == r"\sigma_{\epsilon}" and \
            r"\sigma_{\epsilon}" not in rhs, (lhs, rhs)
    std = [(lhs, rhs) for lhs, rhs in rows.items() if r"\sqrt" in rhs]
    assert std == [(r"\sigma_{\epsilon}", r"\sqrt{\sigma^{2} + \epsilon}")]
    assert r"\sigma^{2}" in rows and r"\sigma" not in rows     # σ² is var; no bare σ


def test_a_layer_with_its_own_sigma_keeps_var_and_std():
    d = derive(source="""\
def scaled(x: input("N", "D"), sigma: param(positive=True) = 2.0, eps: param(positive=True) = 1e-6):
    var = np.mean(x**2, axis=0, keepdims=True)
    std = np.sqrt(var + eps)
    return sigma * x / std
""", fn="scaled")
    tex = d.to_latex()
    assert r"\mathrm{std} &= \sqrt{\mathrm{var} + \epsilon}" in tex
    assert r"\sigma^{2}" not in tex


def test_gelu_tanh_keeps_its_decimal_everywhere(rendered):
    from derive.codegen.module import emit_module
    for fmt, page in rendered["gelu_tanh"].items():
        assert "8943" not in page and "200000" not in page, fmt
        if fmt != "svg":        # the picture shows labels short enough to fit
            assert "0.044715" in page, fmt
    index = html.index([(derive("gelu_tanh"), {"html": "gelu_tanh.html"})])
    assert "0.044715" in index and "8943" not in index
    code = emit_module([derive("gelu_tanh")])
    assert "8943" not in code and "0.044715" in code


def test_the_index_wraps_a_long_gradient_at_its_terms():
    page = html.index([(derive("gelu_tanh"), {"html": "gelu_tanh.html"})])
    gradient = page.split("<td>")[3]
    assert gradient.count("<math") == 3          # three terms, three formulas that wrap
    assert ".t{" in page and "white-space:normal" in page


def test_hat_sits_on_its_letter_in_mathml(rendered):
    for fmt in ("mathml", "html"):
        page = rendered["batchnorm"][fmt]
        assert '<mover accent="true"><mi>x</mi><mo stretchy="false">&#x002C6;</mo></mover>' \
            in page, fmt
        assert "&#x0005E;" not in page, fmt


def test_a_derivation_prints_short():
    shown = str(derive("affine"))
    assert shown.startswith("<Derivation affine(x, W, b): ")
    assert "dW = x.T @ dout" in shown and len(shown) < 200
