"""The verifier core (numeric/verify.py): it accepts the reference classes, catches the usual
student bugs, is strict about numbers (0.1 % off fails; float32 gets float32's tolerance) and
turns every misbehaviour of the class into a report line."""
from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

from numeric import generated
from numeric.cases import CASES, ELEMENTWISE, HAND_CODED
from numeric.layercase import CaseError, LayerCase
from numeric.reference import PARAMS, REFERENCE, sigmoid
from numeric.verify import SHAPES, verify_class


def check(cls, name, **kwargs):
    """``cls`` against the hand-coded reference class of catalogue layer ``name``."""
    return verify_class(cls, CASES[name], REFERENCE[name], **kwargs)

# --- classes written the way students (and the book) write them ------------------------


class SwappedMul:
    """MulLayer with the gradients not swapped: (dout*x, dout*y)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.x, dout * self.y


class SignErrorSigmoid:
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (self.out - 1.0)


class NoDoutSigmoid(SignErrorSigmoid):
    def backward(self, dout):
        return self.out * (1.0 - self.out)


class BookRelu:
    """The book's Relu: zeroes the caller's dout in place and returns it."""

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class NaiveSigmoid:
    """The book's Sigmoid: exp(-x) overflows (with a warning) at x = -1000."""

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class HeavisideRelu(BookRelu):
    """Gradient 1/2 at 0 (SymPy's Heaviside(0)), otherwise right and not in place."""

    def forward(self, x):
        self.x = x.copy()
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return dout * np.where(self.x > 0, 1.0, np.where(self.x == 0, 0.5, 0.0))


class NaiveSoftplus:
    """log(1+exp(x)): inf at x = 1000 where the true value is 1000."""

    def forward(self, x):
        self.x = x
        return np.log(1.0 + np.exp(x))

    def backward(self, dout):
        return dout * sigmoid(self.x)


class Crashing:
    def forward(self, x):
        raise ValueError("boom in forward")

    def backward(self, dout):
        return dout


class OneGradMul(SwappedMul):
    def backward(self, dout):
        return dout * self.y


class SummingSquare:
    def forward(self, x):
        self.x = x
        return x**2

    def backward(self, dout):
        return np.sum(2 * self.x * dout)


class WrongForwardTanh:
    """Right backward for tanh, but the forward is sigmoid."""

    def forward(self, x):
        self.out = np.tanh(x)
        return sigmoid(x)

    def backward(self, dout):
        return dout * (1.0 - self.out**2)


class DoublingSquare:
    """Keeps a reference to x and doubles it in backward: mutates input and cache."""

    def forward(self, x):
        self.x = x
        return x**2

    def backward(self, dout):
        self.x *= 1.5
        return 2 * self.x * dout / 1.5


# --- the reference classes pass their own cases ------------------------------------


def test_every_catalogue_layer_has_a_case():
    assert set(ELEMENTWISE) == set(REFERENCE) and set(CASES) == set(HAND_CODED)
    for name, case in CASES.items():
        assert case.name == name and case.class_name == HAND_CODED[name].__name__
        if name in REFERENCE:
            assert case.params == PARAMS.get(name, {}) and case.elementwise


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes_against_the_exported_code_strictly(name):
    exported = getattr(generated, CASES[name].class_name)
    report = verify_class(REFERENCE[name], CASES[name], exported, strict=True)
    assert report.ok, report.render()
    assert not (report.mutated_dout or report.aliased_dout or report.mutated_inputs
                or report.mutated_cache)
    assert report.warnings == [] and report.kink_notes == [] and report.errors == []
    assert report.forward.compared > 0 and report.backward.compared > 0
    assert report.fd.compared > 0 and report.fd.passed
    assert [s for s in report.shapes if s in SHAPES] == list(SHAPES)


def test_edge_values_follow_the_domain():
    log_edges = CASES["log"].edge_values()
    assert np.all(log_edges > 0) and 1000.0 in log_edges
    assert CASES["exp"].edge_values().max() <= 700.0
    assert {-1000.0, 0.0, 1000.0} <= set(CASES["sigmoid"].edge_values().tolist())
    case = dataclasses.replace(CASES["square"], domain=(0.0, 5.0))
    assert 0.0 in case.edge_values() and np.all(case.edge_values() >= 0)


# --- wrong classes fail ----------------------------------------------------------


@pytest.mark.parametrize("cls, name", [(SwappedMul, "mul"), (SignErrorSigmoid, "sigmoid"),
                                       (NoDoutSigmoid, "sigmoid")])
def test_wrong_gradients_fail(cls, name):
    report = check(cls, name)
    assert not report.ok
    assert not report.backward.passed and not report.fd.passed
    assert report.forward.passed
    assert any("backward differs" in f for f in report.failures)


class SlightlyOffTanh:
    """0.1 % too large: within finite differences' tolerance, not within the derivation's."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return 1.001 * dout * (1.0 - self.out**2)


def test_a_gradient_one_in_a_thousand_off_fails():
    report = check(SlightlyOffTanh, "tanh")
    assert not report.ok and not report.backward.passed
    assert report.fd.passed          # the third witness alone would have let it through
    worst = report.backward.worst
    assert worst["what"] == "dx" and worst["rel"] == pytest.approx(1e-3, rel=1e-6)
    assert isinstance(worst["index"], list) and worst["rtol"] == 1e-9
    assert "worst dx[" in report.render()


class Float32Tanh:
    def forward(self, x):
        self.out = np.tanh(np.asarray(x, dtype=np.float32))
        return self.out

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float32) * (1 - self.out**2)


class Float32OffTanh(Float32Tanh):
    def backward(self, dout):
        return np.float32(1.001) * super().backward(dout)


def test_float32_gets_float32_tolerance_and_still_catches_0_1_percent():
    right = check(Float32Tanh, "tanh")
    assert right.backward.passed and right.dtypes == ["float32"], right.render()
    assert right.backward.worst["rtol"] == 1e-4
    wrong = check(Float32OffTanh, "tanh")
    assert not wrong.backward.passed


def test_wrong_forward_fails():
    report = check(WrongForwardTanh, "tanh")
    assert not report.ok and not report.forward.passed
    assert report.backward.passed  # the backward is tanh's, as the reference's
    assert not report.fd.passed    # ...but not the derivative of its own forward


def test_book_relu_mutates_dout():
    lenient = check(BookRelu, "relu")
    assert lenient.ok, lenient.render()
    assert lenient.mutated_dout and lenient.aliased_dout
    assert lenient.kink_notes == []  # same convention as the book at 0
    strict = check(BookRelu, "relu", strict=True)
    assert not strict.ok
    assert any("in place" in f for f in strict.failures)


def test_naive_sigmoid_overflow_is_reported_and_located():
    lenient = check(NaiveSigmoid, "sigmoid")
    assert lenient.ok  # 1/(1+inf) = 0 is still the right value
    assert any("overflow" in w and "x=-1000" in w for w in lenient.warnings), lenient.warnings
    assert not any("x=1000" in w for w in lenient.warnings)
    strict = check(NaiveSigmoid, "sigmoid", strict=True)
    assert not strict.ok


def test_kink_convention_is_a_note_not_a_failure():
    report = check(HeavisideRelu, "relu", strict=True)
    assert report.ok, report.render()
    assert len(report.kink_notes) == 1
    assert "x=0" in report.kink_notes[0] and "0.5" in report.kink_notes[0]
    assert report.fd.skipped > 0  # 0 and +-1e-8 are too close to the kink


def test_nonfinite_where_reference_is_finite_fails():
    report = check(NaiveSoftplus, "softplus")
    assert not report.ok
    assert any("x=1000" in n for n in report.nonfinite), report.nonfinite


class DictSigmoid(SignErrorSigmoid):
    def backward(self, dout):
        return {"dx": dout}


class StrForward(SignErrorSigmoid):
    def forward(self, x):
        return "out"


class NoneBackward(SignErrorSigmoid):
    def backward(self, dout):
        dout * self.out


class ExitingBackward(SignErrorSigmoid):
    def backward(self, dout):
        raise SystemExit(0)


@pytest.mark.parametrize("cls, name, text", [
    (Crashing, "tanh", "boom in forward"),
    (OneGradMul, "mul", "expected 2"),
    (SummingSquare, "square", "shape"),
    (DictSigmoid, "sigmoid", "dx is a dict, not an array"),
    (StrForward, "sigmoid", "the output is a str, not an array"),
    (NoneBackward, "sigmoid", "dx is None"),
    (ExitingBackward, "sigmoid", "backward called sys.exit(0)"),
])
def test_user_errors_are_reported_not_raised(cls, name, text):
    report = check(cls, name)
    assert not report.ok
    assert any(text in e for e in report.errors), report.errors
    assert all("\n" not in e for e in report.errors)


def test_constructor_errors_are_reported():
    report = check(REFERENCE["relu"], "leaky_relu")     # Relu() takes no alpha
    assert not report.ok and "constructor" in report.errors[0]


def test_input_and_cache_mutation_flags():
    report = check(DoublingSquare, "square")
    assert report.mutated_inputs and report.mutated_cache
    assert report.ok  # the first gradient is right
    assert not check(DoublingSquare, "square", strict=True).ok


class TwiceAsMuchTheSecondTime(SignErrorSigmoid):
    calls = 0

    def backward(self, dout):
        self.calls += 1
        return self.calls * dout * self.out * (1.0 - self.out)


def test_a_second_backward_that_doubles_is_reported_and_fails_strict():
    lenient = check(TwiceAsMuchTheSecondTime, "sigmoid")
    assert lenient.ok and lenient.mutated_cache
    assert "2 times the first" in lenient.second_call[0]
    assert "second backward:" in lenient.render()
    strict = check(TwiceAsMuchTheSecondTime, "sigmoid", strict=True)
    assert not strict.ok
    assert any("twice" in f and "2 times the first" in f for f in strict.failures)


class FloodingSigmoid(SignErrorSigmoid):
    def forward(self, x):
        for i in range(2000):
            warnings.warn(f"distinct warning {i}")
        return super().forward(x)

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


def test_a_flood_of_warnings_is_one_failure_line():
    report = check(FloodingSigmoid, "sigmoid")
    assert not report.ok
    flood = [e for e in report.errors if "flood" in e]
    assert len(flood) == 1 and "distinct warnings" in flood[0]
    assert len(report.warnings) <= 10


class LeakyReluFixedAlpha:
    """Ignores the alpha it is given."""

    def __init__(self, alpha):
        self.alpha = 0.3

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.x > 0, dout, self.alpha * dout)


def test_params_reach_the_class():
    assert check(REFERENCE["leaky_relu"], "leaky_relu").ok
    assert not check(LeakyReluFixedAlpha, "leaky_relu").ok


def test_the_reference_class_is_what_is_compared_with():
    class WrongReference(REFERENCE["sigmoid"]):
        def backward(self, dout):
            return dout * 2.0 * self.out

    report = verify_class(REFERENCE["sigmoid"], CASES["sigmoid"], WrongReference)
    assert not report.ok and not report.backward.passed and report.fd.passed


def test_layer_case_is_general():
    case = LayerCase(name="cube", class_name="Cube", edges=(0.0, 2.0, -2.0))

    class Cube:
        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, dout):
            return 3 * self.x**2 * dout

    assert verify_class(Cube, case, Cube, strict=True).ok


def test_layer_case_round_trips_through_json_and_is_checked():
    for case in CASES.values():
        again = LayerCase.from_dict(json.loads(json.dumps(case.to_dict())))
        assert again == case
    with pytest.raises(CaseError, match="no shape for b"):
        LayerCase("affine", "Affine", shapes={"x": ("N", "D"), "W": ("D", "M")},
                  weights=("W", "b"), sizes=({"N": 2, "D": 3, "M": 2},))
    with pytest.raises(CaseError, match="leave out M"):
        LayerCase("affine", "Affine", shapes={"x": ("N", "D"), "W": ("D", "M"), "b": ("M",)},
                  weights=("W", "b"), sizes=({"N": 2, "D": 3},))
    with pytest.raises(CaseError, match="unknown kind"):
        LayerCase("x", "X", kinds={"x": "gaussian"})
    with pytest.raises(CaseError, match="unknown case fields"):
        LayerCase.from_dict({"name": "x", "class_name": "X", "forward": "x"})


def test_size_sets_always_include_a_batch_of_one():
    assert [s["N"] for s in CASES["softmax"].size_sets()] == [1, 5]
    case = dataclasses.replace(CASES["softmax"], sizes=({"N": 3, "D": 4},))
    assert [s["N"] for s in case.size_sets()] == [1, 3]


def test_report_serialises_and_renders():
    report = check(NaiveSoftplus, "softplus")
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["ok"] is False and data["name"] == "softplus"
    assert data["forward"]["passed"] is False
    text = report.render()
    assert text.startswith("softplus: FAIL") and "x=1000" in text
    assert check(REFERENCE["mul"], "mul").render().startswith("mul: OK")
