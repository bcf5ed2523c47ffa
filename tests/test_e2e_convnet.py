"""End to end: a SimpleConvNet (conv - relu - pool - affine - relu - affine -
softmax_with_loss) built from the classes derive exported (numeric/matrix_generated.py,
numeric/generated.py) checks against central differences, agrees with the same net
built from the hand-coded reference classes, trains, and keeps float32.

NumPy only (numeric.nets); no sympy, no derive.  The whole file runs in a few seconds.
"""
from __future__ import annotations

import types

import numpy as np
import pytest

import numeric.conv_reference as conv_reference
import numeric.generated as generated
import numeric.matrix_generated as matrix_generated
import numeric.matrix_reference as matrix_reference
import numeric.reference as reference
from numeric.nets import PARAM_NAMES, Adam, SimpleConvNet, layer_classes

EXPORTED = (matrix_generated, generated)
HAND_CODED = (conv_reference, matrix_reference, reference)
TINY = dict(input_dim=(1, 7, 7), hidden_size=5, output_size=3,
            conv_param=dict(filter_num=2, filter_size=3, pad=1, stride=1))


def tiny_batch(seed=100):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 1, 7, 7)), np.array([0, 1, 2])


def differences(net, x, t):
    """Per parameter: (mean |numerical - backprop|, max of it, mean |backprop|)."""
    numerical = net.numerical_gradient(x, t)
    backprop = net.gradient(x, t)
    assert set(numerical) == set(backprop) == set(PARAM_NAMES)
    out = {}
    for k in PARAM_NAMES:
        assert backprop[k].shape == numerical[k].shape == net.params[k].shape
        d = np.abs(numerical[k] - backprop[k])
        out[k] = (float(d.mean()), float(d.max()), float(np.abs(backprop[k]).mean()))
    return out


def test_the_default_layers_are_the_exported_classes():
    classes = layer_classes()
    assert classes["Convolution"] is matrix_generated.Convolution
    assert classes["Pooling"] is matrix_generated.Pooling
    assert classes["Affine"] is matrix_generated.Affine
    assert classes["SoftmaxWithLoss"] is matrix_generated.SoftmaxWithLoss
    assert classes["Relu"] is generated.Relu
    net = SimpleConvNet(**TINY)
    assert type(net.layers["Conv1"]) is matrix_generated.Convolution
    assert type(net.layers["Relu2"]) is generated.Relu
    with pytest.raises(AttributeError, match="Convolution"):
        layer_classes(matrix_reference)          # has no Convolution


# The hand-coded SoftmaxWithLoss takes the book's log(y + 1e-7): its backward y - t is
# the gradient of log(y) only, off by about 1e-7/y relative, ~1e-9 absolute here.
# derive's exported loss has no 1e-7, so its gradient is exact up to the differences'.
@pytest.mark.parametrize("layers, tolerance, relative",
                         [(EXPORTED, 1e-9, 1e-5), (HAND_CODED, 1e-8, 1e-4)],
                         ids=["exported", "hand_coded"])
def test_gradient_check_float64(layers, tolerance, relative, record_property):
    # weights of std 0.1 (not the book's 0.01) keep the hidden pre-activations well away
    # from ReLU's kink at the scale of h = 1e-4, and the gradients far above the tolerance
    net = SimpleConvNet(**TINY, weight_init_std=0.1, seed=0, layers=layers)
    x, t = tiny_batch()
    diffs = differences(net, x, t)
    record_property("gradient_check", diffs)
    print()
    for k, (mean, mx, scale) in diffs.items():
        print(f"{k}: mean |diff| {mean:.2e}  max {mx:.2e}  (mean |grad| {scale:.2e})")
    for k, (mean, mx, scale) in diffs.items():
        assert scale > 1e-5, (k, scale)          # the check below is not vacuous
        assert mean <= tolerance, (k, mean)
        assert mean <= relative * scale, (k, mean, scale)


def test_gradient_check_fails_for_a_wrong_backward():
    """The check can fail: a Relu whose backward forgets its mask is caught."""
    class MasklessRelu(generated.Relu):
        def backward(self, dout):
            return np.array(dout, copy=True)
    broken = types.SimpleNamespace(Relu=MasklessRelu)
    net = SimpleConvNet(**TINY, weight_init_std=0.1, seed=0, layers=(broken,) + EXPORTED)
    assert type(net.layers["Relu1"]) is MasklessRelu
    x, t = tiny_batch()
    diffs = differences(net, x, t)
    assert max(mean for mean, _, _ in diffs.values()) > 1e-6


def test_exported_backprop_equals_hand_coded():
    x, t = tiny_batch(seed=7)
    exported = SimpleConvNet(**TINY, weight_init_std=0.3, seed=3, layers=EXPORTED)
    hand = SimpleConvNet(**TINY, params=exported.params, layers=HAND_CODED)
    assert type(hand.layers["Conv1"]) is conv_reference.Convolution
    for k in PARAM_NAMES:                       # same values, separate arrays
        assert hand.params[k] is not exported.params[k]
        np.testing.assert_array_equal(hand.params[k], exported.params[k])
    np.testing.assert_allclose(exported.predict(x), hand.predict(x), rtol=1e-12, atol=1e-14)
    # the reference's cross-entropy adds 1e-7 inside the log (the book's), derive's does not
    assert abs(exported.loss(x, t) - hand.loss(x, t)) < 1e-6
    g_exp, g_hand = exported.gradient(x, t), hand.gradient(x, t)
    for k in PARAM_NAMES:
        a, b = g_exp[k], g_hand[k]
        assert a.shape == b.shape == exported.params[k].shape
        assert np.linalg.norm(b) > 1e-6, k
        assert np.linalg.norm(a - b) <= 1e-10 * np.linalg.norm(b), k
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max(), err_msg=k)


def bars(n, rng, size=8, noise=0.3):
    """Three classes of size x size images: a bright horizontal bar (0), vertical bar (1)
    or diagonal bar (2) at a random offset, plus Gaussian noise."""
    t = rng.integers(0, 3, n)
    x = noise * rng.standard_normal((n, 1, size, size))
    rows = np.arange(size)
    for i, c in enumerate(t):
        k = rng.integers(1, size - 1)
        if c == 0:
            x[i, 0, k, :] += 1.0
        elif c == 1:
            x[i, 0, :, k] += 1.0
        else:
            cols = rows + rng.integers(-2, 3)
            ok = (cols >= 0) & (cols < size)
            x[i, 0, rows[ok], cols[ok]] += 1.0
    return x, t


def test_trains_on_bars(record_property):
    rng = np.random.default_rng(0)
    x, t = bars(240, rng)
    x_test, t_test = bars(240, np.random.default_rng(1))
    net = SimpleConvNet(input_dim=(1, 8, 8), hidden_size=16, output_size=3, seed=1,
                        conv_param=dict(filter_num=4, filter_size=3, pad=1, stride=1))
    before, acc_before = float(net.loss(x, t)), net.accuracy(x, t)
    optimizer = Adam(lr=0.01)
    for _ in range(300):
        batch = rng.integers(0, len(x), 16)
        optimizer.update(net.params, net.gradient(x[batch], t[batch]))
    after = float(net.loss(x, t))
    acc, acc_test = net.accuracy(x, t), net.accuracy(x_test, t_test)
    record_property("training", dict(before=before, after=after, acc=acc, acc_test=acc_test))
    print(f"\nloss {before:.4f} -> {after:.4f}; train accuracy {acc_before:.3f} -> {acc:.3f}; "
          f"held-out {acc_test:.3f}")
    assert after < 0.5 * before
    assert acc > 0.9
    assert acc_test > 0.9


def test_float32_gradients_match_float64():
    """Whatever the dtypes inside, a float32 net's gradients are float64's to float32 accuracy."""
    x, t = tiny_batch(seed=11)
    net64 = SimpleConvNet(**TINY, weight_init_std=0.3, seed=5)
    net32 = SimpleConvNet(**TINY, params=net64.params, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in net32.params.values())
    g64, g32 = net64.gradient(x, t), net32.gradient(x.astype(np.float32), t)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(g32[k], g64[k], rtol=2e-3, atol=2e-5 * np.abs(g64[k]).max(),
                                   err_msg=k)


def test_numerical_gradient_restores_the_net():
    x, t = tiny_batch()
    net = SimpleConvNet(**TINY, weight_init_std=0.1, dtype=np.float32)
    arrays = {k: v for k, v in net.params.items()}
    copies = {k: v.copy() for k, v in net.params.items()}
    grads = net.numerical_gradient(x, t)
    assert all(g.dtype == np.float64 for g in grads.values())
    for k in PARAM_NAMES:
        assert net.params[k] is arrays[k]
        np.testing.assert_array_equal(net.params[k], copies[k])
    assert net.layers["Conv1"].W is net.params["W1"]
    assert net.layers["Affine2"].b is net.params["b3"]


def test_float32_kept_through_forward_and_backward():
    x, t = tiny_batch(seed=13)
    net = SimpleConvNet(**TINY, weight_init_std=0.1, dtype=np.float32)
    x = x.astype(np.float32)
    upcast = []
    # each layer on its own, fed float32 in both directions
    h = x
    for name, layer in net.layers.items():
        out = layer.forward(h.astype(np.float32))
        if out.dtype != np.float32:
            upcast.append(f"{name}.forward -> {out.dtype}")
        dx = layer.backward(np.ones(out.shape, dtype=np.float32))
        if dx.dtype != np.float32:
            upcast.append(f"{name}.backward -> {dx.dtype}")
        for attr in ("dW", "db"):
            if hasattr(layer, attr) and getattr(layer, attr).dtype != np.float32:
                upcast.append(f"{name}.{attr} -> {getattr(layer, attr).dtype}")
        h = out
    loss = net.loss(x, t)
    if np.asarray(loss).dtype != np.float32:
        upcast.append(f"loss -> {np.asarray(loss).dtype}")
    upcast += [f"grad {k} -> {g.dtype}" for k, g in net.gradient(x, t).items()
               if g.dtype != np.float32]
    assert not upcast, "; ".join(upcast)


def test_nets_doctests():
    import doctest

    import numeric.nets
    result = doctest.testmod(numeric.nets)
    assert result.attempted > 0 and result.failed == 0
