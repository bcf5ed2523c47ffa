"""The command line: list, show, check; exit codes 0/1/2 and one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from derive import catalogue
from derive.cli import main
from derive.render import FORMATS


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err):
    lines = [line for line in err.splitlines() if line.startswith("derive: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err


# --- check ----------------------------------------------------------------------------------------

def test_check_right_sigmoid(capsys):
    code, out, err = run(capsys, "check", "sigmoid", "--backward", "dout * (1.0 - out) * out")
    assert code == 0 and err == ""
    assert "proven equal" in out and "symbolic" in out


def test_check_wrong_sigmoid(capsys):
    code, out, _ = run(capsys, "check", "sigmoid", "--backward", "dout*out")
    assert code == 1
    assert "NOT equal" in out and "yours" in out and "expected" in out and "at dout = " in out


def test_check_missing_dout(capsys):
    code, out, _ = run(capsys, "check", "sigmoid", "--backward", "out*(1-out)")
    assert code == 1 and "leaves out dout; it is correct when dout = 1" in out
    code, out, _ = run(capsys, "check", "sigmoid", "--backward", "out")
    assert code == 1 and "does not use dout" in out and "correct when dout = 1" not in out


def test_check_mul_tuple_and_single(capsys):
    code, out, _ = run(capsys, "check", "mul", "--backward", "dout*y, dout*x")
    assert code == 0 and out.count("proven equal") == 2
    code, out, err = run(capsys, "check", "mul", "--backward", "dout*y")
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert "dout*y, dout*x" in err
    code, _, _ = run(capsys, "check", "mul", "--wrt", "y", "--backward", "dout*x")
    assert code == 0


def test_check_relu_kink(capsys):
    code, out, _ = run(capsys, "check", "relu", "--backward", "dout*(x >= 0)")
    assert code == 0
    assert "except at the kink" in out and "convention is 0" in out


def test_check_json(capsys):
    code, out, _ = run(capsys, "check", "sigmoid", "--backward", "dout*out", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["results"][0]["status"] == "not_equal"


def test_check_custom_formula(capsys):
    code, out, _ = run(capsys, "check", "--expr", "x*y", "--backward", "dout*y, dout*x")
    assert code == 0
    # sinh is one entry of the rule table: derived, and the check proves it
    code, out, _ = run(capsys, "check", "--expr", "sinh(x)", "--backward", "dout*cosh(x)")
    assert code == 0 and "proven equal" in out


@pytest.mark.parametrize("argv, needle", [
    (["check", "sigmod", "--backward", "dout"], "did you mean: sigmoid"),
    (["check", "sigmoid", "--backward", "dout*z"], "unknown name 'z'"),
    (["check", "sigmoid", "--backward", "__import__('os')"], "not allowed"),
    (["check", "sigmoid", "--backward", "().__class__.__bases__"], ""),
    (["check", "sigmoid", "--backward", "lambda: 0"], ""),
    (["check", "sigmoid", "--backward", "9**9**9**9"], ""),
    (["check", "sigmoid", "--backward", "dout; import os"], ""),
    (["check", "sigmoid", "--backward", "x" * 5000], "too long"),
    (["check", "sigmoid", "--backward", "dout*("], "syntax error"),
    (["check", "sigmoid"], "--backward"),
    (["check", "--backward", "dout"], "layer name"),
    (["check", "--expr", "x*", "--backward", "dout"], ""),
    (["show", "sigmod"], "did you mean: sigmoid"),
    (["show", "sigmoid", "--format", "pdf"], "invalid choice"),
    (["show", "mul", "--wrt", "t"], "--wrt t"),
    (["show", "--expr", "open('x')"], ""),
    (["show"], "layer name"),
    (["show", "relu", "--standalone"], "only applies to --format latex"),
    (["show", "--expr", "np.gamma(x)"], "unknown function 'np.gamma'"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert_one_line_error(err)
    assert needle in err


# --- list and show --------------------------------------------------------------------------------

def test_list_text(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == catalogue.names()
    sigmoid = next(line for line in lines if line.startswith("sigmoid "))
    assert "out = 1/(1 + np.exp(-x))" in sigmoid
    assert "alpha=0.01" in next(line for line in lines if line.startswith("leaky_relu "))


def test_list_json(capsys):
    code, out, _ = run(capsys, "list", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [r["name"] for r in data] == catalogue.names()
    mul = data[0]
    assert mul["inputs"] == ["x", "y"] and mul["forward"] == "out = x*y" and mul["params"] == {}


@pytest.mark.parametrize("fmt", FORMATS)
def test_show_sigmoid_every_format(capsys, fmt):
    code, out, err = run(capsys, "show", "sigmoid", "--format", fmt)
    assert code == 0 and err == ""
    if fmt == "json":
        assert json.loads(out)["result"] == {"x": "dout*out*(1 - out)"}
    elif fmt == "text":
        assert "x → ×(−1) → exp → +1 → 1/· → y" in out      # the page's maths; JSON keeps the code names
    else:
        assert r"\frac{\partial L}{\partial y}" in out or "<math" in out


def test_show_standalone_latex(capsys):
    code, out, _ = run(capsys, "show", "relu", "--format", "latex", "--standalone")
    assert code == 0 and out.startswith(r"\documentclass{article}") and r"\end{document}" in out


def test_show_custom_formula_with_var_and_wrt(capsys):
    code, out, _ = run(capsys, "show", "--expr", "x*y + y", "--var", "x,y", "--wrt", "y")
    assert code == 0
    assert "gradient to y" in out and "Cached form of the gradient to x" not in out


def test_console_script_runs():
    done = subprocess.run([sys.executable, "-m", "derive", "show", "sigmoid"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "∂L/∂x = (∂L/∂y)*y*(1 - y)" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "derive", "check", "sigmoid", "--backward",
                          "__import__('os').system('echo hi')"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


# --- tensor layers --------------------------------------------------------------------------------

import xml.etree.ElementTree as ET  # noqa: E402

TENSOR = [n for n in catalogue.names() if catalogue.get(n).weights or any(
    getattr(s, "shape", ()) for s in catalogue.get(n).differentiable)]


def test_list_marks_the_tensor_layers(capsys):
    code, out, _ = run(capsys, "list")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0 and set(TENSOR) <= set(lines) and "affine" in TENSOR
    assert lines["sigmoid"].split()[1] == "elementwise"
    for name in TENSOR:
        assert lines[name].split()[1] == "tensor", lines[name]
    assert "W (D, M)" in lines["affine"] and "out = x @ W + b" in lines["affine"]
    assert "consts: t (N, C)" in lines["softmax_with_loss"]
    code, out, _ = run(capsys, "list", "--format", "json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["affine"]["kind"] == "tensor" and rows["sigmoid"]["kind"] == "elementwise"
    assert rows["affine"]["shapes"] == {"x": "(N, D)", "W": "(D, M)", "b": "(M,)"}
    assert rows["affine"]["weights"] == ["W", "b"] and rows["batchnorm"]["params"] == {"eps": 1e-06}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", TENSOR)
def test_show_every_tensor_layer_in_every_format(capsys, layer, fmt):
    code, out, err = run(capsys, "show", layer, "--format", fmt)
    assert code == 0 and err == "", err
    if fmt == "json":
        data = json.loads(out)
        spec = catalogue.get(layer)
        assert data["layer"] == layer and set(data["result"]) == {
            s.name for s in spec.differentiable}
    elif fmt == "latex":
        assert r"\begin{align*}" in out and r"\frac{\partial L}" in out
    elif fmt == "mathml":
        root = ET.fromstring(out)           # one well-formed fragment
        assert root.tag == "section" and root.get("data-layer") == layer
        maths = root.findall(".//{http://www.w3.org/1998/Math/MathML}math")
        assert len(maths) >= 2
        assert "<mi>&amp;</mi>" not in out and "&amp;" not in out
    elif fmt == "markdown":
        assert out.startswith("# ") and "\n$$\n" in out
    else:
        assert out.splitlines()[0].endswith(f"layer {layer}") and "proof:" in out


def test_show_tensor_wrt_and_standalone(capsys):
    code, out, _ = run(capsys, "show", "affine", "--wrt", "W", "--format", "json")
    assert code == 0 and json.loads(out)["result"] == {"W": "x.T @ dout"}
    code, out, _ = run(capsys, "show", "affine", "--format", "latex", "--standalone")
    assert code == 0 and out.startswith(r"\documentclass{article}") and r"\end{document}" in out
    code, out, err = run(capsys, "show", "affine", "--wrt", "Q")
    assert code == 2 and "affine has inputs x, W, b" in err
    assert_one_line_error(err)


def test_unknown_layer_suggests_a_tensor_layer(capsys):
    code, _, err = run(capsys, "show", "affin")
    assert code == 2 and "did you mean: affine" in err
    assert_one_line_error(err)


@pytest.mark.parametrize("layer, wrt, line, exit_code, needle", [
    ("affine", "W", "np.dot(x.T, dout)", 0, "for every size of every dimension"),
    ("affine", "W", "x.T @ dout", 0, "for every size of every dimension"),
    ("affine", "b", "np.sum(dout, axis=0)", 0, "for every size of every dimension"),
    ("affine", "x", "np.matmul(dout, W.T)", 0, "for every size of every dimension"),
    ("affine", "W", "np.dot(dout.T, x)", 1, "shape"),
    ("affine", "W", "2 * np.dot(x.T, dout)", 1, "it is 2 times the expected gradient"),
    ("softmax_with_loss", None, "dout*(y - t)/N", 0, "for every size of every dimension"),
    ("softmax_with_loss", None, "dout*(y - t)", 1, "NOT equal"),
    ("batchnorm", "beta", "dout.sum(axis=0)", 0, "for every size of every dimension"),
])
def test_check_tensor_lines(capsys, layer, wrt, line, exit_code, needle):
    argv = ["check", layer, "--backward", line] + (["--wrt", wrt] if wrt else [])
    code, out, err = run(capsys, *argv)
    assert code == exit_code, (out, err)
    assert needle in out


def test_check_tensor_json(capsys):
    code, out, _ = run(capsys, "check", "affine", "--wrt", "W", "--backward",
                       "np.dot(dout.T, x)", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["exit_code"] == 1 and not data["ok"]
    assert data["results"][0]["status"] == "not_equal"
    assert data["results"][0]["reasons"][0].startswith("shape")


@pytest.mark.parametrize("argv, needle", [
    (["check", "affine", "--backward", "np.dot(x.T, dout)"], "one gradient per input"),
    (["check", "affine", "--wrt", "W", "--backward", "__import__('os')"], "not allowed"),
    (["check", "affine", "--wrt", "W", "--backward", "np.dot(x.T, dout"], "syntax"),
    (["check", "affine", "--wrt", "Q", "--backward", "x"], "affine has inputs"),
])
def test_check_tensor_bad_input_exits_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert_one_line_error(err)
    assert needle in err
