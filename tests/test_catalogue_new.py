"""The activations and elementwise losses added to the catalogue (issue 9, item 8).

The expected values here come from the math (and the conventions the catalogue notes state),
never from derive's output: each is checked on the exported class (numeric/generated.py) and
on the hand-written reference class (numeric/reference.py). The losses take their target t as
a second input (the elementwise export has no scalar consts), so dL/dt is checked too.
"""
from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from derive import catalogue
from numeric import generated
from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE

ACTIVATIONS = ("relu6", "hardtanh", "hardsigmoid", "hardswish", "mish", "selu", "celu", "softsign", "logsigmoid", "tanhshrink")
LOSSES = ("bce", "bce_with_logits", "huber", "smooth_l1", "l1", "log_cosh", "hinge")
NEW = ACTIVATIONS + LOSSES

SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


def _classes(name):
    """The exported class and the reference class of a catalogue layer."""
    return [getattr(generated, catalogue.get(name).class_name), REFERENCE[name]]


def _grads(cls, inputs, dout=None, **params):
    """(out, gradients) of one forward/backward, with every NumPy warning an error."""
    inputs = [np.array(v, dtype=np.float64, ndmin=1) for v in inputs]
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise",
                                                under="ignore"):
        warnings.simplefilter("error")
        layer = cls(**params)
        out = layer.forward(*[v.copy() for v in inputs])
        grads = layer.backward(np.ones_like(inputs[0]) if dout is None else dout)
    return np.asarray(out), grads if isinstance(grads, tuple) else (grads,)


def test_the_new_layers_are_named_and_have_a_reference_and_a_case():
    names = catalogue.names()
    assert set(NEW) <= set(names)
    for name in NEW:
        spec = catalogue.get(name)
        assert name in REFERENCE and name in CASES and hasattr(generated, spec.class_name)
        assert spec.class_name == REFERENCE[name].__name__ == CASES[name].class_name
        assert spec.notes, f"{name} states its convention in a note"
    for name in LOSSES:
        assert catalogue.get(name).input_names == ("x", "t")
        assert CASES[name].inputs == ("x", "t")


@pytest.mark.parametrize("name, param, value", [
    ("celu", "alpha", 1.0), ("huber", "delta", 1.0), ("smooth_l1", "beta", 1.0)])
def test_params_and_their_defaults(name, param, value):
    assert catalogue.get(name).defaults == {param: value}
    assert PARAMS[name] == {param: value}


def test_selu_constants_are_the_exact_decimals():
    spec = catalogue.get("selu")
    numbers = {a for a in spec.forward.atoms(sp.Number) if a not in (0, 1, -1)}
    # the parser keeps the written digits (32 significant), not the nearest float64
    assert sp.Rational(SELU_SCALE) in numbers and sp.Rational(SELU_ALPHA) in numbers
    scale, alpha = float(Fraction(SELU_SCALE)), float(Fraction(SELU_ALPHA))
    big_negative = float(Fraction(SELU_SCALE) * Fraction(SELU_ALPHA))
    for cls in _classes("selu"):
        out, (dx,) = _grads(cls, [[2.0, -1000.0, 0.0]])
        assert out[0] == pytest.approx(2.0 * scale, rel=1e-15)
        assert out[1] == pytest.approx(-big_negative, rel=1e-15)
        assert out[2] == 0.0
        # the x > 0 branch is strict: at 0 the gradient is the left branch's, scale*alpha
        assert dx.tolist() == pytest.approx([scale, 0.0, scale * alpha], rel=1e-15)


# (x, out, gradient) at the kinks and around them; at a kink the gradient is the one the
# layer's note states (relu6-like: 0 at both ends, as ReLU at 0 and PyTorch)
KINK_POINTS = {
    "relu6": [(0.0, 0.0, 0.0), (6.0, 6.0, 0.0), (3.0, 3.0, 1.0), (-1.0, 0.0, 0.0),
              (7.0, 6.0, 0.0), (1e-12, 1e-12, 1.0), (6.0 - 1e-12, 6.0 - 1e-12, 1.0)],
    "hardtanh": [(-1.0, -1.0, 0.0), (1.0, 1.0, 0.0), (0.5, 0.5, 1.0), (-2.0, -1.0, 0.0),
                 (2.0, 1.0, 0.0), (-1.0 + 1e-12, -1.0 + 1e-12, 1.0)],
    "hardsigmoid": [(-3.0, 0.0, 0.0), (3.0, 1.0, 0.0), (0.0, 0.5, 1.0 / 6.0),
                    (-4.0, 0.0, 0.0), (4.0, 1.0, 0.0), (1.5, 0.75, 1.0 / 6.0)],
    # x*relu6(x + 3)/6; gradient (2x + 3)/6 inside; at -3 the left value 0, at 3 the right 1
    "hardswish": [(-3.0, 0.0, 0.0), (3.0, 3.0, 1.0), (0.0, 0.0, 0.5), (1.5, 1.125, 1.0),
                  (-1.5, -0.375, 0.0), (-4.0, 0.0, 0.0), (4.0, 4.0, 1.0),
                  (-2.0, -1.0 / 3.0, -1.0 / 6.0)],
}


@pytest.mark.parametrize("name", sorted(KINK_POINTS))
def test_clipped_activations_at_and_around_their_kinks(name):
    x, out, grad = (np.array(col, dtype=np.float64) for col in zip(*KINK_POINTS[name]))
    for cls in _classes(name):
        got, (dx,) = _grads(cls, [x])
        np.testing.assert_allclose(got, out, rtol=1e-14, atol=1e-15, err_msg=f"{cls} out")
        np.testing.assert_allclose(dx, grad, rtol=1e-14, atol=1e-15, err_msg=f"{cls} dx")
    assert set(CASES[name].kinks) == {v for v, _, g in KINK_POINTS[name][:2]}


@pytest.mark.parametrize("name, x, grad", [
    ("celu", 0.0, 1.0),            # both branches have gradient 1 at 0
    ("softsign", 0.0, 1.0),        # 1/(1+|x|)**2
    ("tanhshrink", 0.0, 0.0),      # tanh(0)**2
    ("mish", 0.0, math.tanh(math.log(2.0))),   # tanh(softplus(0)) + 0
    ("logsigmoid", 0.0, 0.5),      # sigmoid(-0)
])
def test_gradient_at_zero(name, x, grad):
    for cls in _classes(name):
        _, (dx,) = _grads(cls, [x], **PARAMS.get(name, {}))
        assert dx[0] == pytest.approx(grad, rel=1e-15, abs=1e-300), cls


@pytest.mark.parametrize("name, x, out, grad", [
    ("mish", 1000.0, 1000.0, 1.0), ("mish", -1000.0, 0.0, 0.0),
    ("logsigmoid", -1000.0, -1000.0, 1.0), ("logsigmoid", 1000.0, 0.0, 0.0),
    ("softsign", 1000.0, 1000.0 / 1001.0, 1.0 / 1001.0**2),
    ("tanhshrink", 1000.0, 999.0, 1.0),
    ("selu", 1000.0, 1000.0 * float(Fraction(SELU_SCALE)), float(Fraction(SELU_SCALE))),
    ("celu", -1000.0, -1.0, 0.0),
])
def test_activations_saturate_without_overflow(name, x, out, grad):
    for cls in _classes(name):
        got, (dx,) = _grads(cls, [x], **PARAMS.get(name, {}))
        assert got[0] == pytest.approx(out, rel=1e-14, abs=1e-300), cls
        assert dx[0] == pytest.approx(grad, rel=1e-14, abs=1e-300), cls


# (x, t, out, dx, dt), each from the loss's formula and the note's convention
LOSS_POINTS = {
    "l1": [(2.0, 2.0, 0.0, 0.0, 0.0),           # the tie x = t: sign(0) = 0
           (3.0, 1.0, 2.0, 1.0, -1.0), (-1.0, 0.5, 1.5, -1.0, 1.0)],
    "huber": [(0.0, 0.0, 0.0, 0.0, 0.0),
              (1.5, 1.0, 0.125, 0.5, -0.5),     # inside: z**2/2, gradient z
              (2.0, 1.0, 0.5, 1.0, -1.0),       # |z| = delta: both branches give 1
              (0.0, 1.0, 0.5, -1.0, 1.0),
              (5.0, 1.0, 3.5, 1.0, -1.0)],      # outside: |z| - 1/2, gradient sign(z)
    "smooth_l1": [(1.5, 1.0, 0.125, 0.5, -0.5), (2.0, 1.0, 0.5, 1.0, -1.0),
                  (-3.0, 1.0, 3.5, -1.0, 1.0)],
    "hinge": [(1.0, 1.0, 0.0, 0.0, 0.0),         # t*x = 1: gradient 0, as ReLU at 0
              (-2.0, -0.5, 0.0, 0.0, 0.0),
              (0.5, 1.0, 0.5, -1.0, -0.5),       # t*x < 1: -t and -x
              (0.5, -1.0, 1.5, 1.0, -0.5),
              (3.0, 1.0, 0.0, 0.0, 0.0)],
    "log_cosh": [(0.0, 0.0, 0.0, 0.0, 0.0),
                 (1.5, 0.5, math.log(math.cosh(1.0)), math.tanh(1.0), -math.tanh(1.0)),
                 (1000.0, 0.0, 1000.0 - math.log(2.0), 1.0, -1.0),
                 (0.0, 1000.0, 1000.0 - math.log(2.0), -1.0, 1.0)],
    "bce": [(0.5, 1.0, math.log(2.0), -2.0, 0.0),
            (0.25, 0.0, -math.log(0.75), 1.0 / 0.75, math.log(3.0)),
            (0.8, 0.3, -(0.3 * math.log(0.8) + 0.7 * math.log(0.2)), 0.5 / 0.16,
             math.log(0.25))],
    "bce_with_logits": [(0.0, 0.3, math.log(2.0), 0.2, 0.0),   # smooth at 0: sigmoid(0) - t
                        (0.0, 1.0, math.log(2.0), -0.5, 0.0),
                        (1000.0, 0.0, 1000.0, 1.0, -1000.0),
                        (-1000.0, 1.0, 1000.0, -1.0, 1000.0),
                        # softplus(2) - 2 = log(1 + exp(-2)); sigmoid(2) - 1 = -1/(1 + e**2)
                        (2.0, 1.0, math.log1p(math.exp(-2.0)), -1.0 / (1.0 + math.exp(2.0)),
                         -2.0)],
}


@pytest.mark.parametrize("name", LOSSES)
def test_losses_at_ties_boundaries_and_far_away(name):
    points = LOSS_POINTS[name]
    x, t, out, dx, dt = (np.array(col, dtype=np.float64) for col in zip(*points))
    for cls in _classes(name):
        got, (gx, gt) = _grads(cls, [x, t], **PARAMS.get(name, {}))
        np.testing.assert_allclose(got, out, rtol=1e-13, atol=1e-15, err_msg=f"{cls} out")
        np.testing.assert_allclose(gx, dx, rtol=1e-13, atol=1e-15, err_msg=f"{cls} dx")
        np.testing.assert_allclose(gt, dt, rtol=1e-13, atol=1e-15, err_msg=f"{cls} dt")


@pytest.mark.parametrize("name, param, x, t, dx", [
    ("huber", {"delta": 2.0}, 3.0, 1.0, 2.0),        # |z| = delta = 2: gradient z = 2
    ("huber", {"delta": 2.0}, 7.0, 1.0, 2.0),        # outside: delta*sign(z)
    ("huber", {"delta": 0.5}, 1.25, 1.0, 0.25),      # inside: z
    ("smooth_l1", {"beta": 0.5}, 1.25, 1.0, 0.5),    # inside: z/beta
    ("smooth_l1", {"beta": 0.5}, 1.5, 1.0, 1.0),     # |z| = beta: z/beta = sign(z) = 1
    ("celu", {"alpha": 2.0}, -2.0, None, math.exp(-1.0)),   # exp(x/alpha)
])
def test_params_change_the_gradient(name, param, x, t, dx):
    inputs = [x] if t is None else [x, t]
    for cls in _classes(name):
        _, grads = _grads(cls, inputs, **param)
        assert grads[0][0] == pytest.approx(dx, rel=1e-14), cls
        if t is not None:
            assert grads[1][0] == pytest.approx(-dx, rel=1e-14), cls


def test_bce_case_draws_probabilities_and_hard_labels():
    case = CASES["bce"]
    edges = case.edge_values()
    assert np.all((edges > 0) & (edges < 1))
    assert case.domain[0] > 0 and case.domain[1] < 1 and case.kind("t") == "onehot"


def test_loss_gradient_scales_with_dout():
    rng = np.random.default_rng(9)
    for name in LOSSES:
        lo, hi = CASES[name].domain
        x, t = rng.uniform(lo, hi, 6), rng.uniform(max(lo, 0.0), min(hi, 1.0), 6)
        dout = rng.uniform(-2.0, 2.0, 6)
        for cls in _classes(name):
            _, (gx1, gt1) = _grads(cls, [x, t], **PARAMS.get(name, {}))
            _, (gx, gt) = _grads(cls, [x, t], dout=dout.copy(), **PARAMS.get(name, {}))
            np.testing.assert_allclose(gx, dout * gx1, rtol=1e-14, atol=1e-300)
            np.testing.assert_allclose(gt, dout * gt1, rtol=1e-14, atol=1e-300)
