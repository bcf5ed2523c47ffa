"""np.reciprocal for surely floating values only (derive/codegen/tensor_dtypes.py): the
same IEEE division as 1/a for floats, an integer division for integers."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive import catalogue
from derive.codegen.printer import TensorCodePrinter
from derive.codegen.tensor import tensor_layer_code
from derive.codegen.tensor_dtypes import float_names, surely_float
from derive.derivation import derive_spec
from derive.tensor import AxisSum, Reshape, array, dims
from numeric import matrix_generated as mgen

N, D = dims("N D")
x, y, z = array("x", (N, D)), array("y", (N, D)), array("z", (N, 1))

FLOATING = {"exp": sp.exp(x), "x + 1": x + 1, "2*x": 2 * x, "sqrt": sp.sqrt(x),
            "log of a sum": sp.log(AxisSum(x, 1, 1)), "sum of exp": AxisSum(sp.exp(x), 1, 1),
            "x/2": x / 2, "select with exp": sp.Piecewise((x, x > 0), (sp.exp(x), True)),
            "reshape of tanh": Reshape(sp.tanh(z), N)}
KEEPS_DTYPE = {"x": x, "x*x": x * x, "-x": -x, "x*y": x * y, "x - y": x - y,
               "sum": AxisSum(x, 1, 1), "x**2": x ** 2, "reshape": Reshape(z, N),
               "select of inputs": sp.Piecewise((x, x > 0), (y, True)), "a comparison": x > 0}


@pytest.mark.parametrize("case", FLOATING)
def test_floating_values(case):
    assert surely_float(FLOATING[case])


@pytest.mark.parametrize("case", KEEPS_DTYPE)
def test_values_that_keep_an_integer_dtype(case):
    assert not surely_float(KEEPS_DTYPE[case])


def test_names_follow_their_definitions():
    t0, t1, t2 = (array(n, (N, D)) for n in ("t0", "t1", "t2"))
    assert float_names([(t0, sp.exp(x)), (t1, t0 * y), (t2, x * y)]) == {"t0", "t1"}
    assert float_names([(t2, t0 * y)], {"t0"}) == {"t0", "t2"}


def test_printer_writes_reciprocal_only_for_floating_values():
    p = TensorCodePrinter()
    assert p.doprint(1 / (x + 1)) == "np.reciprocal(x + 1.0)"
    assert p.doprint(1 / x) == "1/x"
    p.float_names = {"x"}
    assert p.doprint(1 / x) == "np.reciprocal(x)"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reciprocal_is_the_same_division(dtype):
    rng = np.random.default_rng(0)
    with np.errstate(divide="ignore", over="ignore"):
        a = np.concatenate([rng.standard_normal(10_000) * 10.0 ** rng.integers(-30, 30, 10_000),
                            [0.0, -0.0, np.inf, -np.inf, 5e-324, 1e308]]).astype(dtype)
        assert np.array_equal(np.reciprocal(a), 1 / a, equal_nan=True)
        assert np.reciprocal(a).dtype == dtype
    assert np.reciprocal(np.array([2, 3])).tolist() == [0, 0]     # why integers keep 1/a


def test_softmax_with_loss_normalizes_by_a_reciprocal():
    cls = tensor_layer_code(derive_spec(catalogue.get("softmax_with_loss"))).cls
    assert "np.reciprocal(t0)" in cls and "1/t0" not in cls


def test_labels_as_a_list_or_an_array_give_one_gradient():
    rng = np.random.default_rng(1)
    x_ = rng.standard_normal((5, 4))
    labels = [0, 3, 1, 1, 2]
    a, b = mgen.SoftmaxWithLoss(), mgen.SoftmaxWithLoss()
    assert np.isclose(a.forward(x_, np.array(labels)), b.forward(x_, np.eye(4)[labels]))
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-15)
    y_ = a.y
    np.testing.assert_array_equal(mgen.softmax_with_loss_backward(1.0, y_, labels),
                                  mgen.softmax_with_loss_backward(1.0, y_, np.array(labels)))


@pytest.mark.parametrize("name", ["batchnorm", "layernorm"])
def test_norm_layers_scale_by_the_reciprocal_of_std(name):
    cls = tensor_layer_code(derive_spec(catalogue.get(name))).cls
    assert "np.reciprocal(std)" in cls and "np.divide(1.0, std)" not in cls


def test_batchnorm_of_integers_is_batchnorm_of_their_floats():
    rng = np.random.default_rng(2)
    xi = rng.integers(-5, 6, (8, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    a, b = mgen.BatchNormalization(gamma, beta), mgen.BatchNormalization(gamma, beta)
    np.testing.assert_array_equal(a.forward(xi), b.forward(xi.astype(np.float64)))
    np.testing.assert_array_equal(a.forward(xi, train_flg=False), b.forward(xi.astype(np.float64), train_flg=False))
