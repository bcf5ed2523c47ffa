"""derive check --node: a student's gradient at an intermediate node of the graph.

Expected values are worked out by hand from the book and from calculus, not taken from
the tool: sigmoid is x → a = −x → b = exp(a) → c = b + 1 → out = 1/c, so
∂L/∂c = −dout·y², ∂L/∂b = ∂L/∂c, ∂L/∂a = ∂L/∂b·exp(a) = −dout·y²·b; Affine's a = x·W
gets dout; BatchNorm's xn gets dout·γ and xc (which fans out into xn and into the
variance) gets γ·(dout − xn·mean(dout·xn))/std, the sum of both branches.
"""
from __future__ import annotations

import json
import math

import pytest

import derive.check_node as check_node_module
import derive.check_tensor as check_tensor_module
from derive import catalogue, derive
from derive.check import check
from derive.check_names import check_names
from derive.cli import main
from derive.errors import DeriveError
from derive.program import layer_from_text


def node(layer, backward, name):
    return check(catalogue.get(layer), backward, node=name)


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


# --- elementwise: sigmoid's chain, node by node ----------------------------------------------

@pytest.mark.parametrize("name, backward", [
    ("c", "-dout*out**2"),          # the book: the "/" node passes back −dout·y²
    ("c", "-dout/c**2"),            # the same, as d(1/c)/dc
    ("b", "-dout*y**2"),            # "+1" passes the gradient on unchanged
    ("a", "-dout*out**2*b"),        # "exp" multiplies by exp(a) = b
    ("a", "-dout*out**2*np.exp(a)"),
    ("out", "dout"),
])
def test_sigmoid_node_gradients_are_proven(name, backward):
    report = node("sigmoid", backward, name)
    assert report.exit_code == 0, report.to_text()
    assert report.verdicts[0].status == "proven"
    assert f"sigmoid, ∂L/∂{name}: proven equal" in report.to_text()


def test_a_wrong_sign_at_c_is_refuted_at_a_point():
    v = node("sigmoid", "dout*out**2", "c").verdicts[0]
    assert v.status == "not_equal" and v.input == "c"
    x, d = float(v.counterexample.point["x"]), float(v.counterexample.point["dout"])
    assert complex(v.counterexample.left) == pytest.approx(d * sigmoid(x) ** 2, rel=1e-5)
    assert complex(v.counterexample.right) == pytest.approx(-d * sigmoid(x) ** 2, rel=1e-5)
    assert any("wrong sign" in r for r in v.reasons)


@pytest.mark.parametrize("name, backward", [
    ("b", "-dout*y**2*b"),          # multiplied by exp once too early
    ("a", "dout*out*(1 - out)"),    # that is ∂L/∂x: a = −x flips the sign
    ("out", "out"),
])
def test_wrong_node_gradients_are_refuted(name, backward):
    report = node("sigmoid", backward, name)
    assert report.exit_code == 1 and report.verdicts[0].status == "not_equal"
    assert report.verdicts[0].counterexample is not None


def test_node_names_may_be_used_in_the_plain_check_too():
    # ∂L/∂x = dout·y²·exp(−x), and b = exp(−x)
    assert check(catalogue.get("sigmoid"), "dout*out**2*b").exit_code == 0
    assert check(catalogue.get("sigmoid"), "-dout*out**2*b").exit_code == 1


def test_node_x_is_the_plain_check():
    for backward, code in (("dout*y*(1 - y)", 0), ("dout*y", 1)):
        by_node = node("sigmoid", backward, "x")
        plain = check(catalogue.get("sigmoid"), backward)
        assert by_node.exit_code == plain.exit_code == code
        assert by_node.verdicts[0].expected == plain.verdicts[0].expected


# --- a node that fans out: its gradient is the sum of the branches -----------------------------

def test_fan_out_node_needs_every_branch():
    # out = a/(1 + a) with a = exp(x): a feeds the product and the sum, and
    # d/da [a/(1 + a)] = 1/(1 + a)²
    spec = layer_from_text("np.exp(x)/(1 + np.exp(x))")
    assert check(spec, "dout/(1 + a)**2", node="a").exit_code == 0
    one_branch = check(spec, "dout/(1 + a)", node="a")     # through the product only
    assert one_branch.exit_code == 1 and one_branch.verdicts[0].status == "not_equal"


def test_tensor_fan_out_xc_of_batchnorm():
    proven = node("batchnorm",
                  "gamma*(dout - xn*np.mean(dout*xn, axis=0, keepdims=True))/std", "xc")
    assert proven.exit_code == 0 and proven.verdicts[0].every_size
    one_branch = node("batchnorm", "dout*gamma/std", "xc")   # through xn = xc/std only
    assert one_branch.exit_code == 1 and one_branch.verdicts[0].counterexample is not None
    dx = node("batchnorm", "gamma*(dout - np.mean(dout, axis=0, keepdims=True)"
              " - xn*np.mean(dout*xn, axis=0, keepdims=True))/std", "xc")
    assert dx.exit_code == 1          # that is ∂L/∂x, with the mean's branch as well


# --- tensor layers ----------------------------------------------------------------------------

def test_affine_a_and_batchnorm_xn():
    assert node("affine", "dout", "a").exit_code == 0
    assert node("batchnorm", "dout*gamma", "xn").exit_code == 0
    wrong = node("batchnorm", "dout", "xn").verdicts[0]
    assert wrong.status == "not_equal" and {"N", "D", "index"} <= set(wrong.counterexample.point)
    shape = node("affine", "dout @ W", "a")
    assert shape.exit_code == 1 and "inner sizes" in shape.verdicts[0].reasons[0]
    twice = node("affine", "2*dout", "a").verdicts[0]
    assert twice.status == "not_equal" and "2 times" in " ".join(twice.reasons)


def test_cli_text_and_json(capsys):
    code, out, _ = run(capsys, "check", "sigmoid", "--node", "c", "--backward", "-dout*out**2")
    assert code == 0 and "∂L/∂c: proven equal" in out
    code, out, _ = run(capsys, "check", "sigmoid", "--node", "c", "--backward", "dout*out**2",
                       "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["node"] == "c" and data["exit_code"] == 1
    r = data["results"][0]
    assert r["input"] == "c" and r["status"] == "not_equal" and "point" in r["counterexample"]


# --- y, names, hints --------------------------------------------------------------------------

def test_y_is_out_unless_the_layer_has_its_own_y():
    assert check(catalogue.get("sigmoid"), "dout*(1 - y)*y").exit_code == 0
    # mul's y is its second input: ∂L/∂x = dout·y (with y = out = x·y it would be wrong)
    assert check(catalogue.get("mul"), "dout*y", wrt="x").exit_code == 0
    assert check(catalogue.get("mul"), "dout*x*y", wrt="x").exit_code == 1


def test_check_names():
    assert check_names(derive("sigmoid")) == ["x", "dout", "out", "y", "a", "b", "c"]
    assert "y" in check_names(derive("mul")) and "out" in check_names(derive("mul"))
    bn = check_names(derive("batchnorm"))
    assert {"x", "gamma", "beta", "dout", "out", "y", "xc", "xn", "std", "N"} <= set(bn)


def test_unknown_name_lists_the_names_one_may_use(capsys):
    with pytest.raises(DeriveError, match=r"unknown name 'z'; names you may use: "
                       r"x, dout, out \(or y\), a, b, c") as info:
        check(catalogue.get("sigmoid"), "dout*z")
    assert info.value.exit_code == 2
    code, _, err = run(capsys, "check", "batchnorm", "--node", "xn", "--backward", "dout*gama")
    assert code == 2 and "unknown name 'gama'" in err and "did you mean gamma" in err
    assert "xc" in err and "out (or y)" in err


def test_unknown_node_lists_the_nodes(capsys):
    code, _, err = run(capsys, "check", "sigmoid", "--node", "q", "--backward", "dout")
    assert code == 2 and "no node q" in err and "x, a, b, c, out" in err
    code, _, err = run(capsys, "check", "sigmoid", "--node", "c", "--wrt", "x",
                       "--backward", "dout")
    assert code == 2 and "not both" in err


def test_several_expressions_for_one_node_are_refused():
    with pytest.raises(DeriveError, match="one expression") as info:
        node("sigmoid", "dout, dout", "c")
    assert info.value.exit_code == 2


@pytest.mark.parametrize("backward", [
    "__import__('os').system('touch {probe}')",
    "dout.__class__",
    "x+" * 3000 + "x",
])
def test_hostile_input_is_refused_and_nothing_runs(capsys, monkeypatch, tmp_path, backward):
    def never(*args, **kwargs):
        raise AssertionError("a prover ran on refused input")
    monkeypatch.setattr(check_node_module, "check_gradient", never)
    monkeypatch.setattr(check_tensor_module, "prove_tensor", never)
    probe = tmp_path / "probe"
    for layer, name in (("sigmoid", "c"), ("affine", "a")):
        code, _, err = run(capsys, "check", layer, "--node", name,
                           "--backward", backward.format(probe=probe))
        assert code == 2 and err
    assert not probe.exists()


def test_the_softmax_denominator_node_is_checked_by_its_own_name():
    # attention_weight's output is called a (an alias), so the graph's node for the softmax
    # denominator S = Σ_t e may not be named a; out = e/S, so ∂L/∂S = −Σ_t dout·out / S
    from derive import derive
    g = derive("attention_weight").graph
    S = next(n for n in g.op_nodes if n.op == "sum" and any(
        m.op == "reciprocal" and m.args == (n.id,) for m in g.op_nodes))
    assert S.name != "a"
    right = ("-np.sum(dout*out, axis=1, keepdims=True)"
             "/np.sum(e, axis=1, keepdims=True)")
    assert node("attention_weight", right, S.name).exit_code == 0
    assert node("attention_weight", right.replace("-", "", 1), S.name).exit_code == 1
