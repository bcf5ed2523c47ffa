"""The verifier core: it accepts the reference classes and catches the usual student bugs."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE, sigmoid
from numeric.verify import SHAPES, LayerCase, verify_class

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
    assert set(CASES) == set(REFERENCE)
    for name, case in CASES.items():
        assert case.name == name
        assert case.params == PARAMS.get(name, {})


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes_its_own_case_strictly(name):
    report = verify_class(REFERENCE[name], CASES[name], strict=True)
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
    report = verify_class(cls, CASES[name])
    assert not report.ok
    assert not report.backward.passed and not report.fd.passed
    assert report.forward.passed
    assert any("backward differs" in f for f in report.failures)


def test_wrong_forward_fails():
    report = verify_class(WrongForwardTanh, CASES["tanh"])
    assert not report.ok and not report.forward.passed
    assert report.backward.passed  # the backward is tanh's, as the reference's
    assert not report.fd.passed    # ...but not the derivative of its own forward


def test_book_relu_mutates_dout():
    lenient = verify_class(BookRelu, CASES["relu"])
    assert lenient.ok, lenient.render()
    assert lenient.mutated_dout and lenient.aliased_dout
    assert lenient.kink_notes == []  # same convention as the book at 0
    strict = verify_class(BookRelu, CASES["relu"], strict=True)
    assert not strict.ok
    assert any("in place" in f for f in strict.failures)


def test_naive_sigmoid_overflow_is_reported_and_located():
    lenient = verify_class(NaiveSigmoid, CASES["sigmoid"])
    assert lenient.ok  # 1/(1+inf) = 0 is still the right value
    assert any("overflow" in w and "x=-1000" in w for w in lenient.warnings), lenient.warnings
    assert not any("x=1000" in w for w in lenient.warnings)
    strict = verify_class(NaiveSigmoid, CASES["sigmoid"], strict=True)
    assert not strict.ok


def test_kink_convention_is_a_note_not_a_failure():
    report = verify_class(HeavisideRelu, CASES["relu"], strict=True)
    assert report.ok, report.render()
    assert len(report.kink_notes) == 1
    assert "x=0" in report.kink_notes[0] and "0.5" in report.kink_notes[0]
    assert report.fd.skipped > 0  # 0 and +-1e-8 are too close to the kink


def test_nonfinite_where_reference_is_finite_fails():
    report = verify_class(NaiveSoftplus, CASES["softplus"])
    assert not report.ok
    assert any("x=1000" in n for n in report.nonfinite), report.nonfinite


@pytest.mark.parametrize("cls, name, text", [
    (Crashing, "tanh", "boom in forward"),
    (OneGradMul, "mul", "expected 2"),
    (SummingSquare, "square", "shape"),
])
def test_user_errors_are_reported_not_raised(cls, name, text):
    report = verify_class(cls, CASES[name])
    assert not report.ok
    assert any(text in e for e in report.errors), report.errors


def test_constructor_errors_are_reported():
    report = verify_class(REFERENCE["relu"], CASES["relu"], ctor_kwargs={"alpha": 0.1})
    assert not report.ok and "constructor" in report.errors[0]


def test_input_and_cache_mutation_flags():
    report = verify_class(DoublingSquare, CASES["square"])
    assert report.mutated_inputs and report.mutated_cache
    assert report.ok  # the first gradient is right
    assert not verify_class(DoublingSquare, CASES["square"], strict=True).ok


def test_params_reach_the_class():
    right = verify_class(REFERENCE["leaky_relu"], CASES["leaky_relu"])
    wrong = verify_class(REFERENCE["leaky_relu"], CASES["leaky_relu"], ctor_kwargs={"alpha": 0.3})
    assert right.ok and not wrong.ok


def test_swapped_in_backward_is_used():
    def wrong_backward(dout, x):
        return (dout * 2.0 * x,)

    case = dataclasses.replace(CASES["sigmoid"], backward=wrong_backward)
    report = verify_class(REFERENCE["sigmoid"], case)
    assert not report.ok and not report.backward.passed and report.fd.passed


def test_layer_case_is_general():
    case = LayerCase(name="cube", inputs=("x",), forward=lambda x: x**3,
                     backward=lambda dout, x: (3 * x**2 * dout,), edges=(0.0, 2.0, -2.0))

    class Cube:
        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, dout):
            return 3 * self.x**2 * dout

    assert verify_class(Cube, case, strict=True).ok


def test_report_serialises_and_renders():
    report = verify_class(NaiveSoftplus, CASES["softplus"])
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["ok"] is False and data["name"] == "softplus"
    assert data["forward"]["passed"] is False
    text = report.render()
    assert text.startswith("softplus: FAIL") and "x=1000" in text
    assert verify_class(REFERENCE["mul"], CASES["mul"]).render().startswith("mul: OK")
