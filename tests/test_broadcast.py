"""Two-input layers of the exported NumPy module broadcast their inputs as NumPy does,
and give each input's gradient in that input's shape (summed over the axes it was
broadcast along), as the numba module and JAX do.

The oracle: the same class on explicitly materialised full-shape copies of the inputs
(no broadcasting inside), its gradients then summed over the broadcast axes by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

from numeric import generated
from numeric.bench import exported_class
from numeric.cases import CASES
from numeric.reference import PARAMS

PAIRS = sorted(n for n, c in CASES.items() if len(c.inputs) == 2 and hasattr(
    generated, f"{n}_backward"))

# (shape of x, shape of the second input, the axes the second one's gradient sums over)
SHAPES = [((3, 4), (4,), {"axis": 0}), ((3, 4), (3, 1), {"axis": 1, "keepdims": True}),
          ((2, 3, 4), (1, 4), {"axis": (0, 1)}), ((5,), (1,), {"axis": 0, "keepdims": True})]


def _inputs(name, sx, sy, seed=0):
    lo, hi = CASES[name].domain
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, sx), rng.uniform(lo, hi, sy)


def _sum(g, how, shape):
    g = g.sum(**how)
    return g.reshape(shape)


def test_the_two_input_layers_are_there():
    assert {"mul", "add", "l1", "huber", "bce"} <= set(PAIRS)


@pytest.mark.parametrize("sx, sy, how", SHAPES)
@pytest.mark.parametrize("name", PAIRS)
def test_class_broadcasts_and_sums_each_gradient_back(name, sx, sy, how):
    x, y = _inputs(name, sx, sy)
    full = np.broadcast_to(y, sx).copy()
    params = PARAMS.get(name, {})
    cls = exported_class(name, generated)
    dout = np.random.default_rng(1).uniform(-1, 1, sx)
    want_layer = cls(**params)
    want_out = want_layer.forward(x, full)
    want_dx, want_dy = want_layer.backward(dout)
    layer = cls(**params)
    out = layer.forward(x, y)
    dx, dy = layer.backward(dout)
    np.testing.assert_allclose(out, want_out, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-13, atol=1e-15)
    assert dy.shape == y.shape
    np.testing.assert_allclose(dy, _sum(want_dy, how, sy), rtol=1e-12, atol=1e-14)
    # the same layer object then takes inputs of one shape again: nothing broadcast is kept
    again = layer.forward(x, full)
    assert [g.shape for g in layer.backward(dout)] == [sx, sx]
    np.testing.assert_array_equal(again, want_out)


@pytest.mark.parametrize("name", PAIRS)
def test_broadcast_first_input_too(name):
    """x of shape (4,) against t of shape (3, 4): dx is summed over the rows."""
    t, x = _inputs(name, (3, 4), (4,))
    layer = exported_class(name, generated)(**PARAMS.get(name, {}))
    full = exported_class(name, generated)(**PARAMS.get(name, {}))
    dout = np.ones((3, 4))
    layer.forward(x, t)
    full.forward(np.broadcast_to(x, (3, 4)).copy(), t)
    (dx, dt), (fx, ft) = layer.backward(dout), full.backward(dout)
    assert dx.shape == (4,) and dt.shape == (3, 4)
    np.testing.assert_allclose(dx, fx.sum(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dt, ft, rtol=1e-13, atol=1e-15)


def test_backward_function_sums_the_gradients_of_the_inputs_it_is_given():
    x, y = _inputs("mul", (3, 4), (4,))
    dout = np.random.default_rng(2).uniform(-1, 1, (3, 4))
    dx, dy = generated.mul_backward(dout, x, y)
    assert dx.shape == (3, 4) and dy.shape == (4,)
    np.testing.assert_allclose(dx, dout * y)
    np.testing.assert_allclose(dy, np.einsum("ij,ij->j", dout, x))


def test_shapes_that_do_not_broadcast_are_refused_by_numpy():
    layer = generated.MulLayer()
    with pytest.raises(ValueError, match="broadcast"):
        layer.forward(np.ones((3, 4)), np.ones(3))
