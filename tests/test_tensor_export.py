"""Exported tensor classes vs the book-style references vs finite differences; stability;
the committed module is what the exporter writes now."""
import pathlib
import warnings

import numpy as np
import pytest

from derive.cli import main
from numeric import matrix_generated as gen
from numeric import matrix_reference as ref

from helpers import fd


def test_generated_module_is_fresh(tmp_path):
    target = tmp_path / "m.py"
    assert main(["export", "--all", "--tensor", "-o", str(target)]) == 0
    path = pathlib.Path(gen.__file__)
    assert path.read_text() == target.read_text(), \
        "regenerate: derive export --all --tensor -o numeric/matrix_generated.py --force"


@pytest.mark.parametrize("shape", [(1, 3), (4, 3), (2, 2, 3, 2)])
def test_affine(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    D = int(np.prod(shape[1:]))
    W, b = rng.standard_normal((D, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((shape[0], 5))
    a, r = gen.Affine(W, b), ref.Affine(W, b)
    assert np.allclose(a.forward(x), r.forward(x))
    dx = a.backward(dout)
    assert dx.shape == x.shape
    assert np.allclose(dx, r.backward(dout)) and np.allclose(a.dW, r.dW) and np.allclose(a.db, r.db)
    assert np.allclose(dx, fd(lambda: np.sum(dout * gen.Affine(W, b).forward(x)), x), atol=1e-6)
    assert np.allclose(a.dW, fd(lambda: np.sum(dout * gen.Affine(W, b).forward(x)), W), atol=1e-6)


@pytest.mark.parametrize("n", [1, 5])
def test_softmax_with_loss_one_hot_and_indices(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 4))
    labels = rng.integers(0, 4, n)
    onehot = np.eye(4)[labels]
    a, b, r = gen.SoftmaxWithLoss(), gen.SoftmaxWithLoss(), ref.SoftmaxWithLoss()
    la, lb, lr = a.forward(x, onehot), b.forward(x, labels), r.forward(x, onehot)
    assert np.isclose(la, lb) and np.isclose(la, lr, atol=1e-6)
    assert np.allclose(a.backward(0.5), b.backward(0.5))
    assert np.allclose(a.backward(1.0), r.backward(1.0))
    g = fd(lambda: gen.SoftmaxWithLoss().forward(x, labels), x)
    assert np.allclose(b.backward(1.0), g, atol=1e-6)


def test_labels_never_become_a_one_hot_array():
    """Label indices stay indices: the backward picks the labels' entries instead."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    layer = gen.SoftmaxWithLoss()
    layer.forward(x, np.array([0, 3, 1]))
    assert layer.t.shape == (3,)
    dx = layer.backward()
    assert np.allclose(dx.sum(axis=1), 0.0) and dx.shape == (3, 4)


def test_softmax_with_loss_extreme_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    t = np.array([1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = gen.SoftmaxWithLoss()
        loss = layer.forward(x, t)
        dx = layer.backward()
    assert np.isfinite(loss) and loss > 1000 and np.all(np.isfinite(dx))


def test_softmax_extreme_logits_and_finite_differences():
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    a, r = gen.Softmax(), ref.Softmax()
    a.forward(x), r.forward(x)
    assert np.allclose(a.backward(dout), r.backward(dout))
    assert np.allclose(a.backward(dout), fd(lambda: np.sum(dout * gen.Softmax().forward(x)), x),
                       atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = gen.Softmax().forward(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.allclose(y, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("shape", [(1, 4), (6, 4), (3, 2, 2, 2)])
def test_batchnorm(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    D = int(np.prod(shape[1:]))
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    dout = rng.standard_normal(shape)
    a, r = gen.BatchNormalization(gamma, beta), ref.BatchNormalization(gamma, beta)
    assert np.allclose(a.forward(x), r.forward(x))
    dx = a.backward(dout)
    assert dx.shape == x.shape
    assert np.allclose(dx, r.backward(dout), atol=1e-6)
    assert np.allclose(a.dgamma, r.dgamma) and np.allclose(a.dbeta, r.dbeta)
    if shape[0] > 1:
        g = fd(lambda: np.sum(dout * gen.BatchNormalization(gamma, beta).forward(x)), x)
        assert np.allclose(dx, g, rtol=1e-4, atol=1e-5)
    assert np.allclose(a.forward(x, train_flg=False), r.forward(x, train_flg=False))


def test_layernorm_and_mse_and_dropout():
    rng = np.random.default_rng(2)
    x, dout, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    a, r = gen.LayerNorm(gamma, beta), ref.LayerNorm(gamma, beta)
    a.forward(x), r.forward(x)
    dx = a.backward(dout)
    assert np.allclose(dx, r.backward(dout)) and np.allclose(a.dgamma, r.dgamma)
    assert np.allclose(dx, fd(lambda: np.sum(dout * gen.LayerNorm(gamma, beta).forward(x)), x), atol=1e-5)
    m = gen.MSE()
    m.forward(x, t)
    assert np.allclose(m.backward(2.0), fd(lambda: 2.0 * gen.MSE().forward(x, t), x), atol=1e-6)
    d1, d2 = gen.Dropout(0.3, seed=5), gen.Dropout(0.3, seed=5)
    assert np.array_equal(d1.forward(x), d2.forward(x))
    assert np.array_equal(d1.backward(dout), dout * d1.mask)
    assert np.allclose(d1.forward(x, train_flg=False), 0.7 * x)


def test_backward_functions_take_the_cached_values():
    import inspect
    assert list(inspect.signature(gen.batchnorm_backward).parameters)[:1] == ["dout"]
    assert set(inspect.signature(gen.batchnorm_backward).parameters) == {"dout", "std", "xn", "gamma"}
    rng = np.random.default_rng(4)
    dout, x, W = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
    dx, dW, db = gen.affine_backward(dout, W, x)
    assert np.allclose(dx, dout @ W.T) and np.allclose(dW, x.T @ dout) and np.allclose(db, dout.sum(0))


def test_reductions_are_the_ufuncs_reduce_with_the_same_floats():
    """The tensor module sums and maxes with np.add.reduce / np.maximum.reduce, not the
    np.sum / np.mean / np.max wrappers, and LayerNorm's mean is np.mean's float."""
    import inspect
    import numpy as np
    from numeric import matrix_generated as mg
    src = inspect.getsource(mg.LayerNorm.forward) + inspect.getsource(mg.batchnorm_backward)
    src = "\n".join(ln for ln in src.splitlines() if "dL/d" not in ln)    # code, not the doc
    assert "np.mean(" not in src and "np.sum(" not in src and "np.add.reduce(" in src, src
    x = np.random.default_rng(5).normal(size=(7, 33))
    layer = mg.LayerNorm(np.ones(33), np.zeros(33))
    layer.forward(x)
    xc = x - np.mean(x, axis=1, keepdims=True)
    assert np.array_equal(layer.std, np.sqrt(np.einsum("ij,ij->i", xc, xc)[:, None] / 33 + 1e-6))
