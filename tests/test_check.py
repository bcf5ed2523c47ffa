"""derive.check: proven, refuted with a reason, or honestly unproven."""
from __future__ import annotations

import pytest
import sympy as sp

import derive.check as check_module
from derive import catalogue
from derive.check import check as check_spec
from derive.errors import DeriveError, ParseError, ProofError, UnknownLayerError
from derive.program import layer_from_text


def check(name=None, *, backward, wrt=None, expr=None):
    """The check of a catalogue layer (or of a formula given as text)."""
    spec = catalogue.get(name) if name is not None else layer_from_text(expr)
    return check_spec(spec, backward, wrt)

SINGLE = [n for n in catalogue.names() if len(catalogue.get(n).differentiable) == 1]

# hand-written from the book and from calculus, not from our output
BOOK = {
    "sigmoid": "dout * (1.0 - out) * out",
    "tanh": "dout * (1 - out**2)",
    "exp": "dout * out",
    "log": "dout / x",
    "relu": "dout * (x > 0)",
    "softplus": "dout / (1 + exp(-x))",
    "square": "2 * x * dout",
    "leaky_relu": "np.where(x > 0, dout, alpha * dout)",
    "elu": "np.where(x > 0, dout, dout * (out + alpha))",
    "silu": "dout * (out + (1 - out) / (1 + exp(-x)))",
}


@pytest.mark.parametrize("name, backward", sorted(BOOK.items()))
def test_book_formulas_are_proven(name, backward):
    report = check(name, backward=backward)
    assert report.exit_code == 0, report.to_text()
    assert report.verdicts[0].proof.method in {"identical", "symbolic", "by cases"}


@pytest.mark.parametrize("name", SINGLE)
def test_a_sign_flip_is_refuted_for_every_layer(name):
    from derive import derive
    from derive.render.printers import text
    wrt = catalogue.get(name).differentiable[0].name
    wrong = f"-({text(derive(name).result[wrt])})"   # the text printer's output parses back
    verdict = check(name, backward=wrong).verdicts[0]
    assert verdict.status == "not_equal"
    ce = verdict.counterexample
    assert ce is not None and abs(complex(ce.left) + complex(ce.right)) < 1e-9


def test_wrong_sigmoid_gives_a_point_and_both_values():
    v = check("sigmoid", backward="dout*out").verdicts[0]
    assert v.status == "not_equal"
    x, d = v.counterexample.point["x"], v.counterexample.point["dout"]
    out = 1 / (1 + sp.exp(-x))
    assert complex(v.counterexample.left) == pytest.approx(float(d * out))
    assert complex(v.counterexample.right) == pytest.approx(float(d * out * (1 - out)))
    assert v.out_value == pytest.approx(float(out))


@pytest.mark.parametrize("backward, reason", [
    ("out*(1 - out)", "your formula leaves out dout; it is correct when dout = 1"),
    ("out", "your expression does not use dout"),
    ("-dout*out*(1 - out)", "it has the wrong sign"),
    ("3*dout*out*(1 - out)", "differs by a constant factor 3"),
    ("dout**2*out*(1 - out)", "differs by a factor dout"),
    ("dout*out*(1 - out) + 1", "differs by a constant 1"),
])
def test_refutations_say_why(backward, reason):
    report = check("sigmoid", backward=backward)
    assert report.exit_code == 1
    assert any(reason in r for r in report.verdicts[0].reasons), report.verdicts[0].reasons


def test_relu_at_the_kink_states_the_book_convention():
    ge = check("relu", backward="dout*(x >= 0)")
    assert ge.exit_code == 0
    kink = ge.verdicts[0].kink
    assert kink.point == {"x": 0} and kink.convention == 0 and not kink.agrees
    assert "except at the kink" in ge.to_text() and "convention is 0" in ge.to_text()
    gt = check("relu", backward="dout*(out > 0)").verdicts[0]
    assert gt.kink.agrees and gt.kink.yours == 0


def test_multi_input_layers_take_a_tuple_in_input_order():
    assert check("mul", backward="dout*y, dout*x").exit_code == 0
    swapped = check("mul", backward="dout*x, dout*y")
    assert swapped.exit_code == 1
    assert [v.status for v in swapped.verdicts] == ["not_equal", "not_equal"]
    assert check("add", backward="dout, dout").exit_code == 0
    assert check("mul", backward="dout*x", wrt="y").exit_code == 0


@pytest.mark.parametrize("name, backward, wrt, match", [
    ("mul", "dout*y", None, "one gradient per input"),
    ("sigmoid", "dout, dout", None, "expected one expression"),
    ("mul", "dout*y", "t", "--wrt t"),
    ("sigmoid", "dout*z", None, "unknown name 'z'"),
    ("sigmoid", "__import__('os')", None, "not allowed"),
    ("sigmoid", "dout*(", None, "syntax error"),
])
def test_bad_input_is_a_derive_error(name, backward, wrt, match):
    with pytest.raises(DeriveError, match=match) as info:
        check(name, backward=backward, wrt=wrt)
    assert info.value.exit_code == 2


def test_unknown_layer_suggests_close_matches():
    with pytest.raises(UnknownLayerError, match="did you mean: sigmoid"):
        check("sigmod", backward="dout")


def test_custom_formula():
    assert check(expr="x*tanh(x)", backward="dout*(tanh(x) + x*(1 - tanh(x)**2))").exit_code == 0
    with pytest.raises(ParseError):
        check(expr="x*", backward="dout")


def test_unproven_is_never_reported_as_proven(monkeypatch):
    monkeypatch.setattr(check_module, "compare", lambda a, b, **kw: None)
    report = check("sigmoid", backward="dout*out*(1 - out)")
    v = report.verdicts[0]
    assert v.status == "unproven" and report.exit_code == 1
    assert v.agreed > 0
    assert "could not prove" in report.to_text() and "proven equal" not in report.to_text()


def test_report_as_data():
    data = check("sigmoid", backward="dout*out").to_dict()
    assert data["ok"] is False and data["exit_code"] == 1
    r = data["results"][0]
    assert r["status"] == "not_equal" and set(r["counterexample"]) >= {"point", "yours", "expected"}


# --- tensor layers: proven for every size, refuted at concrete sizes ------------------------

import derive.check_tensor as check_tensor  # noqa: E402


def test_tensor_check_is_proven_for_all_sizes():
    report = check("affine", backward="np.dot(x.T, dout)", wrt="W")
    assert report.exit_code == 0 and report.verdicts[0].status == "proven"
    batch = check("batchnorm", backward="np.sum(dout * xn, axis=0)", wrt="gamma")
    assert batch.exit_code == 0 and batch.verdicts[0].proof.method.startswith(
        ("index form", "identical", "symbolic"))


def test_tensor_check_refuted_by_shape():
    report = check("affine", backward="np.dot(dout.T, x)", wrt="W")
    assert report.exit_code == 1 and report.verdicts[0].reasons[0].startswith("shape")
    assert "(M, D) but ∂L/∂W must be (D, M)" in report.to_text()


def test_tensor_check_refuted_with_an_entry():
    v = check("softmax", backward="out*(dout - np.sum(dout, axis=1, keepdims=True))").verdicts[0]
    assert v.status == "not_equal"
    ce = v.counterexample
    assert {"N", "C", "index"} <= set(ce.point) and ce.left != ce.right


def test_tensor_numeric_agreement_alone_is_not_proven(monkeypatch):
    def refuse(*args, **kwargs):
        raise ProofError("no proof")
    monkeypatch.setattr(check_tensor, "prove_tensor", refuse)
    report = check("affine", backward="np.dot(x.T, dout)", wrt="W")
    assert report.exit_code == 1 and report.verdicts[0].status == "unproven"
    assert "could not prove" in report.to_text()
    assert report.to_dict()["results"][0]["status"] == "unproven"


def test_tensor_layer_takes_one_gradient_per_name_or_wrt():
    with pytest.raises(DeriveError, match="one gradient per input"):
        check("affine", backward="np.dot(x.T, dout)")
    assert check("affine", backward="dout @ W.T, x.T @ dout, np.sum(dout, axis=0)").exit_code == 0
    assert check("softmax_with_loss", backward="dout*(y - t)/N").exit_code == 0


def test_unknown_layer_suggests():
    with pytest.raises(UnknownLayerError, match="did you mean: affine"):
        catalogue.get("affin")
