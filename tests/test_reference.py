"""The hand-coded reference layers, numeric.special.erf and numeric.fd, checked independently.

Gradients are checked against central finite differences, forwards against plainly
written formulas (math / naive NumPy) where those are accurate, and erf against
the standard library and mpmath.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numeric.fd import directional_check, numerical_grad
from numeric.reference import PARAMS, REFERENCE, AddLayer, Elu, Exp, LeakyRelu, MulLayer
from numeric.special import erf, erfc

TWO_INPUTS = {"mul", "add", "bce", "bce_with_logits", "huber", "smooth_l1", "l1", "log_cosh",
              "hinge"}
KINKED = {"relu": (0.0,), "leaky_relu": (0.0,), "elu": (0.0,), "selu": (0.0,),
          "relu6": (0.0, 6.0), "hardtanh": (-1.0, 1.0), "hardsigmoid": (-3.0, 3.0),
          "hardswish": (-3.0, 3.0)}
POSITIVE = {"log"}
PROBABILITY = {"bce"}          # 0 < x < 1


def n_inputs(name):
    return 2 if name in TWO_INPUTS else 1


def draw(name, rng, shape, low=-5.0, high=5.0):
    """Random inputs in the layer's domain, kept 0.05 away from kinks."""
    if name in POSITIVE:
        low, high = 0.1, high
    if name in PROBABILITY:
        low, high = 0.01, 0.99
    x = rng.uniform(low, high, shape)
    for kink in KINKED.get(name, ()):
        x = np.where(np.abs(x - kink) < 0.05, kink + 0.5, x)
    return x


def run(cls, inputs, dout, **params):
    layer = cls(**params)
    out = layer.forward(*inputs)
    grads = layer.backward(dout)
    return out, grads if isinstance(grads, tuple) else (grads,)


@pytest.fixture
def strict_numpy():
    """Turn NumPy overflow/invalid/divide into errors and any warning into a failure."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise",
                                                under="ignore"):
        warnings.simplefilter("error")
        yield


# Plain formulas, accurate on |x| <= 5, to pin the forwards down independently.
def _phi(v):
    return 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))


NAIVE = {
    "mul": lambda x, y: x * y,
    "add": lambda x, y: x + y,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    "exp": lambda x: np.e ** x,
    "log": lambda x: np.log(x),
    "softplus": lambda x: np.log(1.0 + np.exp(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1.0),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "gelu": np.vectorize(lambda v: v * _phi(v)),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "square": lambda x: x * x,
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "hardtanh": lambda x: np.clip(x, -1.0, 1.0),
    "hardsigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "hardswish": lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "mish": lambda x: x * np.tanh(np.log(1.0 + np.exp(x))),
    "selu": lambda x: 1.0507009873554804934193349852946 * np.where(
        x > 0, x, 1.6732632423543772848170429916717 * (np.exp(x) - 1.0)),
    "celu": lambda x: np.maximum(x, 0.0) + np.minimum(0.0, np.exp(x) - 1.0),
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "logsigmoid": lambda x: np.log(1.0 / (1.0 + np.exp(-x))),
    "tanhshrink": lambda x: x - (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    "bce": lambda x, t: -(t * np.log(x) + (1.0 - t) * np.log(1.0 - x)),
    "bce_with_logits": lambda x, t: -(t * np.log(1.0 / (1.0 + np.exp(-x)))
                                      + (1.0 - t) * np.log(1.0 - 1.0 / (1.0 + np.exp(-x)))),
    # Huber as quadratic up to |z| = 1, then linear: 0.5*min(|z|, 1)**2 + (|z| - min(|z|, 1))
    "huber": lambda x, t: (0.5 * np.minimum(np.abs(x - t), 1.0)**2
                           + np.abs(x - t) - np.minimum(np.abs(x - t), 1.0)),
    "smooth_l1": lambda x, t: (0.5 * np.minimum(np.abs(x - t), 1.0)**2
                               + np.abs(x - t) - np.minimum(np.abs(x - t), 1.0)),
    "l1": lambda x, t: np.abs(x - t),
    "log_cosh": lambda x, t: np.log(np.cosh(x - t)),
    "hinge": lambda x, t: np.maximum(0.0, 1.0 - t * x),
}


def test_tables_cover_the_same_layers():
    assert set(NAIVE) == set(REFERENCE)
    assert set(PARAMS) <= set(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_forward_matches_plain_formula(name, shape):
    rng = np.random.default_rng(1)
    inputs = [draw(name, rng, shape) for _ in range(n_inputs(name))]
    out = REFERENCE[name]().forward(*[x.copy() for x in inputs])
    np.testing.assert_allclose(out, NAIVE[name](*inputs), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("shape", [(), (6,), (2, 3)])
def test_backward_matches_finite_differences(name, shape):
    rng = np.random.default_rng(2)
    inputs = [draw(name, rng, shape) for _ in range(n_inputs(name))]
    dout = rng.uniform(-2.0, 2.0, np.shape(inputs[0]))
    cls = REFERENCE[name]
    _, grads = run(cls, [x.copy() for x in inputs], dout.copy())
    numeric = numerical_grad(lambda *xs: cls().forward(*xs), inputs, dout)
    assert len(grads) == len(numeric)
    for g, n, x in zip(grads, numeric, inputs):
        assert np.shape(g) == x.shape
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_no_mutation_of_inputs_or_dout(name):
    rng = np.random.default_rng(3)
    extra = [0.25, 0.5] if name in PROBABILITY else [1.0, 0.0 if name not in POSITIVE else 2.0]
    inputs = [np.concatenate([draw(name, rng, (6,)), extra])
              for _ in range(n_inputs(name))]
    dout = rng.uniform(-2.0, 2.0, inputs[0].shape)
    args, dout_arg = [x.copy() for x in inputs], dout.copy()
    layer = REFERENCE[name]()
    out = layer.forward(*args)
    grads = layer.backward(dout_arg)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for a, x in zip(args, inputs):
        np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(dout_arg, dout)
    for g in grads:
        assert not np.shares_memory(g, dout_arg)
    # the cache is the layer's own: changing the inputs afterwards changes nothing
    first = [np.array(g) for g in grads]
    out_before = np.array(out)
    for a in args:
        a += 0.25
    again = layer.backward(dout.copy())
    again = again if isinstance(again, tuple) else (again,)
    for g, h in zip(first, again):
        np.testing.assert_array_equal(g, h)
    np.testing.assert_array_equal(out, out_before)


def extreme_inputs(name):
    if name == "exp":
        return np.array([-1000.0, -700.0, 700.0])
    if name in POSITIVE:
        return np.array([1e-300, 1e-8, 1000.0, 1e300])
    if name in PROBABILITY:
        return np.array([1e-300, 1e-8, 0.5, 1.0 - 1e-8])
    return np.array([-1000.0, -50.0, -1e-8, 0.0, 1e-8, 50.0, 1000.0])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_finite_and_silent_at_extremes(name, strict_numpy):
    x = extreme_inputs(name)
    inputs = [x] + [x[::-1].copy() for _ in range(n_inputs(name) - 1)]
    out, grads = run(REFERENCE[name], inputs, np.ones_like(x))
    assert np.all(np.isfinite(out))
    for g in grads:
        assert np.all(np.isfinite(g))


def test_saturated_values_are_right():
    big = np.array([-1000.0, 1000.0])
    for name, expected_out, expected_grad in [
        ("sigmoid", [0.0, 1.0], [0.0, 0.0]),
        ("tanh", [-1.0, 1.0], [0.0, 0.0]),
        ("softplus", [0.0, 1000.0], [0.0, 1.0]),
        ("silu", [0.0, 1000.0], [0.0, 1.0]),
        ("gelu", [0.0, 1000.0], [0.0, 1.0]),
        ("gelu_tanh", [0.0, 1000.0], [0.0, 1.0]),
        ("elu", [-1.0, 1000.0], [0.0, 1.0]),
    ]:
        out, (g,) = run(REFERENCE[name], [big.copy()], np.ones(2))
        np.testing.assert_array_equal(out, expected_out, err_msg=name)
        np.testing.assert_array_equal(g, expected_grad, err_msg=name)


def test_negative_tails_keep_relative_accuracy():
    x = np.array([-10.0, -20.0, -30.0])
    gelu = REFERENCE["gelu"]().forward(x)
    expected = [v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x]
    np.testing.assert_allclose(gelu, expected, rtol=1e-13)
    softplus, (dsoft,) = run(REFERENCE["softplus"], [x], np.ones(3))
    np.testing.assert_allclose(softplus, np.log1p(np.exp(x)), rtol=1e-13)
    np.testing.assert_allclose(dsoft, np.exp(x) / (1.0 + np.exp(x)), rtol=1e-13)


def test_exp_overflows_to_the_true_value():
    with np.errstate(over="ignore"):
        assert Exp().forward(np.array([710.0]))[0] == np.inf


def test_kink_conventions_and_params():
    zero = np.array([0.0])
    assert run(REFERENCE["relu"], [zero], np.ones(1))[1][0][0] == 0.0
    assert run(LeakyRelu, [zero], np.ones(1), alpha=0.2)[1][0][0] == 0.2
    assert run(Elu, [zero], np.ones(1), alpha=0.5)[1][0][0] == 0.5
    assert LeakyRelu(alpha=0.2).forward(np.array([-1.0]))[0] == -0.2
    assert Elu(alpha=2.0).forward(np.array([-1.0]))[0] == pytest.approx(2.0 * math.expm1(-1.0))
    assert LeakyRelu().alpha == PARAMS["leaky_relu"]["alpha"] == 0.01
    assert Elu().alpha == PARAMS["elu"]["alpha"] == 1.0


def test_book_apple_example():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    apple_price = mul_apple.forward(np.array(100.0), np.array(2.0))
    price = mul_tax.forward(apple_price, np.array(1.1))
    dapple_price, dtax = mul_tax.backward(np.array(1.0))
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert float(price) == pytest.approx(220.0)
    assert (float(dapple), float(dapple_num), float(dtax)) == pytest.approx((2.2, 110.0, 200.0))


@pytest.mark.parametrize("cls", [MulLayer, AddLayer])
def test_broadcast_gradients_have_input_shapes(cls):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(3, 1)), rng.normal(size=(4,))
    dout = rng.normal(size=(3, 4))
    _, (dx, dy) = run(cls, [x, y], dout)
    nx, ny = numerical_grad(lambda a, b: cls().forward(a, b), [x, y], dout)
    np.testing.assert_allclose(dx, nx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dy, ny, rtol=1e-6, atol=1e-8)


# --- erf ---------------------------------------------------------------------------

def _max_rel(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    nz = expected != 0
    assert np.all(got[~nz] == 0)
    return float(np.max(np.abs(got[nz] - expected[nz]) / np.abs(expected[nz])))


def test_erf_matches_math_erf_over_a_wide_range():
    xs = np.concatenate([np.linspace(-40.0, 40.0, 400_001), np.geomspace(1e-300, 40.0, 20_000),
                         -np.geomspace(1e-300, 40.0, 20_000), np.arange(-64, 65) / 16.0])
    assert _max_rel(erf(xs), [math.erf(v) for v in xs]) < 1e-13
    normal = xs[xs < 26.5]  # beyond that erfc is subnormal and loses digits by itself
    assert _max_rel(erfc(normal), [math.erfc(v) for v in normal]) < 1e-13


def test_erf_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    xs = np.random.default_rng(5).uniform(-26.0, 26.0, 2000)
    assert _max_rel(erf(xs), [float(mpmath.erf(v)) for v in xs]) < 1e-14
    assert _max_rel(erfc(xs), [float(mpmath.erfc(v)) for v in xs]) < 1e-14


def test_erf_special_values_and_shapes(strict_numpy):
    assert erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]
    assert erfc(np.array([np.inf, -np.inf])).tolist() == [0.0, 2.0]
    assert np.isnan(erf(np.nan)) and np.isnan(erfc(np.nan))
    assert math.copysign(1.0, float(erf(-0.0))) == -1.0
    assert np.shape(erf(0.3)) == () and erf(np.zeros((2, 3))).shape == (2, 3)
    assert erf(np.array([1, 2])).dtype == np.float64  # integer input is fine


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-30.0, max_value=30.0, allow_nan=False))
def test_erf_property(v):
    assert float(erf(v)) == pytest.approx(math.erf(v), rel=1e-13, abs=1e-300)
    assert float(erf(-v)) == -float(erf(v))
    assert float(erf(v)) + float(erfc(v)) == pytest.approx(1.0, abs=4e-16)


def test_erf_derivative_is_the_gaussian():
    x = np.linspace(-4.0, 4.0, 101)
    (g,) = numerical_grad(erf, [x], np.ones_like(x))
    np.testing.assert_allclose(g, 2.0 / math.sqrt(math.pi) * np.exp(-x * x), rtol=1e-7, atol=1e-10)


# --- finite differences ------------------------------------------------------------

def test_numerical_grad_product_rule_and_no_mutation():
    x, y = np.array([1.5, -2.0]), np.array([[3.0], [0.5]])
    x0, y0 = x.copy(), y.copy()
    dout = np.array([[1.0, 2.0], [-1.0, 0.5]])
    gx, gy = numerical_grad(lambda a, b: a * b, [x, y], dout)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_allclose(gx, (dout * y).sum(axis=0), rtol=1e-8)
    np.testing.assert_allclose(gy, (dout * x).sum(axis=1, keepdims=True), rtol=1e-8)


def test_numerical_grad_accepts_integers_and_huge_neighbours():
    (g,) = numerical_grad(lambda a: a**3, [np.array([1, 2])], np.ones(2))
    np.testing.assert_allclose(g, [3.0, 12.0], rtol=1e-8)
    # exp(700) ~ 1e304 next to exp(0.5): the small element's derivative must survive
    (g,) = numerical_grad(np.exp, [np.array([700.0, 0.5])], np.ones(2))
    np.testing.assert_allclose(g, np.exp([700.0, 0.5]), rtol=1e-7)


def test_numerical_grad_survives_overflow_elsewhere_and_divides_by_the_real_step():
    with np.errstate(over="ignore"):
        (g,) = numerical_grad(np.exp, [np.array([710.0, 0.5])], np.ones(2))
    assert g[1] == pytest.approx(math.exp(0.5), rel=1e-8)
    # x + eps and x - eps are rounded at 1e5; f(x) = x must still give exactly 1
    (g,) = numerical_grad(lambda a: a, [np.array([1e5, -3e4, 0.1])], np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_directional_check_tells_right_from_wrong():
    x = np.random.default_rng(6).normal(size=(40, 30))
    dout = np.ones_like(x)
    assert directional_check(np.tanh, [x], dout, [1.0 - np.tanh(x) ** 2]).ok
    bad = directional_check(np.tanh, [x], dout, [1.0 + np.tanh(x) ** 2])
    assert not bad.ok and bad.abs_error > 1e-2
