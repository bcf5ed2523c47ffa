"""derive graph: node values and gradients at numbers, as in the book's figures."""
from __future__ import annotations

import json

import pytest
import sympy as sp

from derive.cli import main
from derive.errors import DeriveError
from derive.numgraph import evaluate, parse_values, show


def test_apples_from_the_book():
    r = evaluate("apple*apple_num*tax", {"apple": 100, "apple_num": 2, "tax": 1.1})
    assert show(r.value) == "220"
    assert {k: show(v) for k, v in r.grad.items()} == {"apple": "2.2", "apple_num": "110",
                                                       "tax": "200"}
    assert r.value == pytest.approx(220) and r.value == 220.00000000000003


def test_cli_text_and_json(capsys):
    argv = ["graph", "apple*apple_num*tax", "--at", "apple=100,apple_num=2,tax=1.1"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "= 220\n" in text and "d/dapple = 2.2" in text and "d/dtax = 200" in text
    assert main(argv + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"value", "grad", "nodes"}
    assert data["value"] == 220.00000000000003
    assert data["grad"]["tax"] == pytest.approx(200)
    assert [n["name"] for n in data["nodes"]][-1] == "out"
    assert all(set(n) >= {"name", "label", "value", "grad"} for n in data["nodes"])


def test_sigmoid_nodes_like_the_book():
    r = evaluate("1/(1+exp(-x))", {"x": 0.0})
    labels = [n["label"] for n in r.nodes]
    assert labels == ["x", "×(−1)", "exp", "+1", "1/·"]
    assert r.grad["x"] == pytest.approx(0.25)
    assert r.nodes[2]["grad"] == pytest.approx(-0.25)  # through exp: -dL/dy * y**2


@pytest.mark.parametrize("text,at", [
    ("x*y + exp(x)/y", {"x": 0.3, "y": -1.7}),
    ("tanh(x)*x**3 - log(y)", {"x": -0.4, "y": 2.5}),
    ("x*x*x + 2*x", {"x": 1.5}),
])
def test_gradients_match_sympy_diff(text, at):
    r = evaluate(text, at)
    syms = {n: sp.Symbol(n, real=True) for n in at}
    # the same formula written with SymPy directly, independent of the parser
    exprs = {"x*y + exp(x)/y": lambda s: s["x"] * s["y"] + sp.exp(s["x"]) / s["y"],
             "tanh(x)*x**3 - log(y)": lambda s: sp.tanh(s["x"]) * s["x"]**3 - sp.log(s["y"]),
             "x*x*x + 2*x": lambda s: s["x"]**3 + 2 * s["x"]}
    e = exprs[text](syms)
    point = {syms[k]: v for k, v in at.items()}
    assert r.value == pytest.approx(float(e.subs(point)), rel=1e-12)
    for n in at:
        assert r.grad[n] == pytest.approx(float(sp.diff(e, syms[n]).subs(point)), rel=1e-12)


@pytest.mark.parametrize("argv,needle", [
    (["graph", "x*y", "--at", "x=1"], "no value for y"),
    (["graph", "x*y", "--at", "x=1,y=abc"], "not a number"),
    (["graph", "x*y", "--at", "x=1,y=nan"], "finite"),
    (["graph", "x*y", "--at", "x=1,y=2,z=3"], "does not use"),
    (["graph", "x*y", "--at", "x"], "name=value"),
    (["graph", "log(x)", "--at", "x=0"], "undefined"),
    (["graph", "__import__('os')", "--at", "x=1"], ""),
])
def test_bad_input_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: error:") and needle in err and "Traceback" not in err


def test_parse_values():
    assert parse_values("a=1, b=-2.5e3") == {"a": 1.0, "b": -2500.0}
    with pytest.raises(DeriveError):
        parse_values("a=inf")


def test_show_rounds_for_reading():
    assert show(220.00000000000003) == "220"
    assert show(110.00000000000001) == "110"
    assert show(0.1 + 0.2) == "0.3"
    assert show(-0.0) == "0"


# --- beyond the float range: a clear message, exit 2, never a traceback ---------------------

@pytest.mark.parametrize("argv,needle", [
    (["graph", "np.exp(x)", "--at", "x=1e308"], "node out (exp) is outside the float range"),
    (["graph", "np.exp(np.exp(x))", "--at", "x=1e308"], "node a (exp) is outside the float range"),
    (["graph", "np.exp(x)", "--at", "x=710"], "outside the float range"),     # e**710 > 1.8e308
    (["graph", "x*x*y", "--at", "x=1e200,y=1"], "node a (^2) is outside the float range"),
    (["graph", "1/x", "--at", "x=1e-160"], "local derivative of node out (1/·) is outside"),
    (["graph", "np.log(x)", "--at", "x=-1"], "undefined at these values (not a real number)"),
    (["graph", "np.sqrt(x)", "--at", "x=-4"], "not a real number"),
    (["graph", "np.log(x)", "--at", "x=0"], "undefined"),
])
def test_overflow_and_undefined_exit_2_with_one_line(capsys, argv, needle):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("derive: error:") and needle in captured.err
    assert "Traceback" not in captured.err and captured.err.count("\n") == 1
    assert len(captured.err) < 300          # 10**4.34294e+307, not three hundred digits


def test_overflow_in_json_is_an_error_object(capsys):
    assert main(["graph", "np.exp(x)", "--at", "x=1e308", "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["error"]["exit_code"] == 2 and "10**4.34294e+307" in data["error"]["message"]


def test_just_inside_the_float_range_and_underflow_are_values():
    big = evaluate("np.exp(x)", {"x": 709.0})             # e**709 ≈ 8.2e307 < 1.8e308
    assert big.value == pytest.approx(8.218407461554972e307) and big.grad["x"] == big.value
    tiny = evaluate("np.exp(x)", {"x": -1e308})            # underflows to 0, as float64 does
    assert tiny.value == 0.0 and tiny.grad["x"] == 0.0
    assert evaluate("np.tan(x)", {"x": 1e308}).value == pytest.approx(-0.5086861259107568,
                                                                       rel=1e-9)
