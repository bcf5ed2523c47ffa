"""The book-style reference classes of chapter 7 (volume 1) and of volume 2.

numeric.conv_reference, numeric.nlp_reference and numeric.time_reference are
checked independently of themselves:

* every gradient (every input, every weight) against central finite differences
  (numeric.fd.numerical_grad) of the layer's own forward, in float64, with one
  random upstream gradient per output (loss = sum_k <dout_k, out_k>);
* forwards against plainly written formulas (loops, separate gate matrices);
* float32 in -> float32 out, float32 input gradients and grads for volume 2;
* the conventions: arg-max ties in pooling, repeated indices in Embedding,
  statefulness of the time layers, the scaling of TimeDropout's mask.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from numeric import conv_reference as cv
from numeric import nlp_reference as nl
from numeric import time_reference as tm
from numeric.fd import numerical_grad

RTOL = 1e-7
# The cross-entropies put 1e-7 inside the log, so their backward (y - t)/N is off
# from the derivative of their own forward by a relative ~1e-7/y (y >= 0.05 here).
LOSS_RTOL = 1e-5


def rel_err(analytic, numeric) -> float:
    """max |analytic - numeric|, relative to max(1, max |numeric|)."""
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric)
    assert analytic.shape == numeric.shape
    return float(np.max(np.abs(analytic - numeric), initial=0.0)
                 / max(1.0, float(np.max(np.abs(numeric), initial=0.0))))


def _tuple(value):
    return value if isinstance(value, tuple) else (value,)


@dataclass
class Spec:
    """A layer under test: its differentiable arrays, how to run it forward and backward."""

    arrays: list                      # inputs then weights
    forward: Callable                 # (*arrays) -> (layer, tuple of outputs)
    backward: Callable                # (layer, douts) -> one gradient per array
    rtol: float = RTOL
    loss: bool = False                # scalar output; dout = 1.7 checks the scaling


def vol2(make, n_inputs, arrays, extra=(), **kw):
    """A volume-2 layer make(*weights); forward(*inputs, *extra); grads from layer.grads."""
    def forward(*a):
        layer = make(*a[n_inputs:])
        return layer, _tuple(layer.forward(*a[:n_inputs], *extra))

    def backward(layer, douts):
        got = [g for g in _tuple(layer.backward(*douts)) if g is not None]
        return got + [g.copy() for g in layer.grads]
    return Spec(list(arrays), forward, backward, **kw)


def recurrent_with_h0(cls, xs, h0, weights, c0=None):
    """A stateful time layer started from set_state(h0[, c0]); dh is the gradient of h0."""
    def forward(xs, h0, *w):
        layer = cls(*w, stateful=True)
        layer.set_state(h0) if c0 is None else layer.set_state(h0, c0.copy())
        return layer, (layer.forward(xs),)

    def backward(layer, douts):
        return [layer.backward(douts[0]), layer.dh] + [g.copy() for g in layer.grads]
    return Spec([xs, h0, *weights], forward, backward)


# ---------------------------------------------------------------- the layers under test
def _distinct(rng, shape, dt):
    """Values 0.1 apart (and 0.05 away from 0), so no max flips under a 1e-6 step."""
    n = math.prod(shape)
    return ((rng.permutation(n) + 0.5) * 0.1 - 0.1 * (n // 2)).reshape(shape).astype(dt)


def conv(N, C, H, W, FN, FH, FW, stride, pad):
    def build(rng, dt):
        arrays = [rng.standard_normal(s).astype(dt) for s in
                  [(N, C, H, W), (FN, C, FH, FW), (FN,)]]

        def forward(x, w, b):
            layer = cv.Convolution(w, b, stride=stride, pad=pad)
            return layer, (layer.forward(x),)
        return Spec(arrays, forward, lambda layer, d: [layer.backward(d[0]), layer.dW, layer.db])
    return build


def pool(N, C, H, W, ph, pw, stride, pad):
    def build(rng, dt):
        def forward(x):
            layer = cv.Pooling(ph, pw, stride=stride, pad=pad)
            return layer, (layer.forward(x),)
        return Spec([_distinct(rng, (N, C, H, W), dt)], forward,
                    lambda layer, d: [layer.backward(d[0])])
    return build


def R(rng, dt, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dt)


def _recurrent(cls, N, D, H, gates, time=None, h0=False):
    def build(rng, dt):
        w = [R(rng, dt, D, gates * H, scale=0.7), R(rng, dt, H, gates * H, scale=0.7),
             R(rng, dt, gates * H, scale=0.5)]
        if time is None:                                    # one step
            states = [R(rng, dt, N, H)] * (2 if cls is nl.LSTM else 1)
            return vol2(cls, 1 + len(states), [R(rng, dt, N, D), *states, *w])
        xs = R(rng, dt, N, time, D)
        if h0:
            c0 = R(rng, dt, N, H) if cls is tm.TimeLSTM else None
            return recurrent_with_h0(cls, xs, R(rng, dt, N, H), w, c0)
        return vol2(cls, 1, [xs, *w])
    return build


def _labels(rng, N, V, shape):
    t = rng.integers(0, V, shape)
    t.ravel()[:2] = [0, 0]                                  # a repeated label
    return t


def _one_hot(labels, V, dt):
    return np.eye(V, dtype=dt)[labels]


VOL1 = {
    "conv_s1_p0": conv(2, 2, 4, 4, 3, 3, 3, 1, 0),
    "conv_s2_p1": conv(2, 2, 5, 5, 3, 3, 3, 2, 1),
    "conv_s2_uneven": conv(2, 1, 6, 7, 2, 3, 3, 2, 0),      # last row/column unread
    "conv_n1_rect": conv(1, 3, 4, 5, 2, 2, 3, 1, 1),
    "pool_2x2": pool(2, 2, 4, 4, 2, 2, 2, 0),
    "pool_overlap_s1": pool(1, 2, 4, 4, 2, 2, 1, 0),
    "pool_3x3_s2_p1": pool(2, 1, 5, 5, 3, 3, 2, 1),
}

VOL2 = {
    "matmul": lambda rng, dt: vol2(nl.MatMul, 1, [R(rng, dt, 3, 4), R(rng, dt, 4, 2)]),
    "matmul_n1": lambda rng, dt: vol2(nl.MatMul, 1, [R(rng, dt, 1, 4), R(rng, dt, 4, 2)]),
    "affine": lambda rng, dt: vol2(nl.Affine, 1,
                                   [R(rng, dt, 3, 4), R(rng, dt, 4, 2), R(rng, dt, 2)]),
    "sigmoid": lambda rng, dt: vol2(nl.Sigmoid, 1, [R(rng, dt, 3, 4, scale=2.0)]),
    "softmax": lambda rng, dt: vol2(nl.Softmax, 1, [R(rng, dt, 3, 4)]),
    "sigmoid_with_loss": lambda rng, dt: vol2(
        nl.SigmoidWithLoss, 1, [R(rng, dt, 5)], extra=(np.array([0, 1, 1, 0, 1]),),
        rtol=LOSS_RTOL, loss=True),
    "softmax_with_loss_labels": lambda rng, dt: vol2(
        nl.SoftmaxWithLoss, 1, [R(rng, dt, 4, 3, scale=0.5)], extra=(np.array([2, 0, 0, 1]),),
        rtol=LOSS_RTOL, loss=True),
    "softmax_with_loss_onehot": lambda rng, dt: vol2(
        nl.SoftmaxWithLoss, 1, [R(rng, dt, 4, 3, scale=0.5)],
        extra=(_one_hot(np.array([2, 0, 0, 1]), 3, dt),), rtol=LOSS_RTOL, loss=True),
    "softmax_with_loss_n1": lambda rng, dt: vol2(
        nl.SoftmaxWithLoss, 1, [R(rng, dt, 1, 3, scale=0.5)], extra=(np.array([1]),),
        rtol=LOSS_RTOL, loss=True),
    "embedding_repeats": lambda rng, dt: vol2(nl.Embedding, 0, [R(rng, dt, 5, 3)],
                                              extra=(np.array([3, 0, 3, 3, 1]),)),
    "rnn": _recurrent(nl.RNN, 3, 4, 2, 1),
    "rnn_n1": _recurrent(nl.RNN, 1, 2, 3, 1),
    "lstm": _recurrent(nl.LSTM, 3, 4, 2, 4),
    "lstm_n1": _recurrent(nl.LSTM, 1, 2, 3, 4),
    "gru": _recurrent(nl.GRU, 3, 4, 2, 3),
    "gru_n1": _recurrent(nl.GRU, 1, 2, 3, 3),
    "weight_sum": lambda rng, dt: vol2(nl.WeightSum, 2,
                                       [R(rng, dt, 2, 3, 4), R(rng, dt, 2, 3)]),
    "attention_weight": lambda rng, dt: vol2(nl.AttentionWeight, 2,
                                             [R(rng, dt, 2, 3, 4), R(rng, dt, 2, 4)]),
    "attention": lambda rng, dt: vol2(nl.Attention, 2, [R(rng, dt, 2, 3, 4), R(rng, dt, 2, 4)]),
    "attention_n1": lambda rng, dt: vol2(nl.Attention, 2,
                                         [R(rng, dt, 1, 4, 2), R(rng, dt, 1, 2)]),
    "time_embedding": lambda rng, dt: vol2(tm.TimeEmbedding, 0, [R(rng, dt, 4, 3)],
                                           extra=(np.array([[1, 3, 1], [0, 1, 2]]),)),
    "time_affine": lambda rng, dt: vol2(tm.TimeAffine, 1,
                                        [R(rng, dt, 2, 3, 4), R(rng, dt, 4, 5), R(rng, dt, 5)]),
    "time_rnn": _recurrent(tm.TimeRNN, 2, 3, 2, 1, time=3),
    "time_rnn_h0": _recurrent(tm.TimeRNN, 2, 3, 2, 1, time=3, h0=True),
    "time_lstm": _recurrent(tm.TimeLSTM, 2, 3, 2, 4, time=3),
    "time_lstm_h0_c0": _recurrent(tm.TimeLSTM, 2, 3, 2, 4, time=3, h0=True),
    "time_lstm_n1": _recurrent(tm.TimeLSTM, 1, 2, 3, 4, time=2),
    "time_gru": _recurrent(tm.TimeGRU, 2, 3, 2, 3, time=3),
    "time_gru_h0": _recurrent(tm.TimeGRU, 2, 3, 2, 3, time=3, h0=True),
    "time_softmax_with_loss": lambda rng, dt: vol2(
        tm.TimeSoftmaxWithLoss, 1, [R(rng, dt, 2, 3, 4, scale=0.5)],
        extra=(_labels(rng, 2, 4, (2, 3)),), rtol=LOSS_RTOL, loss=True),
    "time_softmax_with_loss_onehot": lambda rng, dt: vol2(
        tm.TimeSoftmaxWithLoss, 1, [R(rng, dt, 2, 3, 4, scale=0.5)],
        extra=(_one_hot(_labels(rng, 2, 4, (2, 3)), 4, dt),), rtol=LOSS_RTOL, loss=True),
    "time_dropout": lambda rng, dt: vol2(
        lambda: tm.TimeDropout(0.4, rng=np.random.default_rng(7)), 1, [R(rng, dt, 2, 3, 4)]),
    "time_attention": lambda rng, dt: vol2(tm.TimeAttention, 2,
                                           [R(rng, dt, 2, 3, 2), R(rng, dt, 2, 2, 2)]),
}

ALL = {**VOL1, **VOL2}


def _douts(spec, outs, seed=1):
    rng = np.random.default_rng(seed)
    if spec.loss:
        return [np.asarray(1.7, dtype=outs[0].dtype)]
    return [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]


def analytic_and_numeric(spec):
    layer, outs = spec.forward(*[a.copy() for a in spec.arrays])
    douts = _douts(spec, outs)
    analytic = spec.backward(layer, douts)

    def flat(*arrays):
        return np.concatenate([np.ravel(o) for o in spec.forward(*arrays)[1]])
    numeric = numerical_grad(flat, spec.arrays, np.concatenate([d.ravel() for d in douts]))
    return analytic, numeric


# ---------------------------------------------------------------- finite differences
@pytest.mark.parametrize("name", sorted(ALL))
def test_every_gradient_matches_finite_differences(name):
    spec = ALL[name](np.random.default_rng(0), np.float64)
    analytic, numeric = analytic_and_numeric(spec)
    assert len(analytic) == len(spec.arrays)
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        assert np.any(n != 0), f"{name}: array {k} has no gradient at all"
        assert rel_err(a, n) <= spec.rtol, f"{name}: array {k}, error {rel_err(a, n):.2e}"


def test_the_check_rejects_a_slightly_wrong_gradient():
    spec = VOL2["lstm"](np.random.default_rng(0), np.float64)
    analytic, numeric = analytic_and_numeric(spec)
    wrong = analytic[2].copy()                 # dWx
    wrong.flat[5] += 1e-5 * max(1.0, np.max(np.abs(numeric[2])))
    assert rel_err(analytic[2], numeric[2]) <= RTOL < rel_err(wrong, numeric[2])
    # and a backward that forgets dout on a loss layer
    spec = VOL2["softmax_with_loss_labels"](np.random.default_rng(0), np.float64)
    layer, _ = spec.forward(*spec.arrays)
    assert rel_err(layer.backward(1.0), analytic_and_numeric(spec)[1][0]) > 0.1


# ---------------------------------------------------------------- volume 1: conv, pool
def naive_im2col(x, FH, FW, stride, pad):
    N, _, H, W = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    OH, OW = (H + 2 * pad - FH) // stride + 1, (W + 2 * pad - FW) // stride + 1
    return np.array([xp[n, :, i * stride:i * stride + FH, j * stride:j * stride + FW].ravel()
                     for n in range(N) for i in range(OH) for j in range(OW)])


CONFIGS = [(3, 3, 1, 0), (3, 3, 2, 1), (2, 3, 2, 0), (3, 2, 3, 2), (1, 1, 1, 0)]


@pytest.mark.parametrize("FH,FW,stride,pad", CONFIGS)
def test_im2col_matches_a_loop_and_col2im_is_its_adjoint(FH, FW, stride, pad):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 7))
    col = cv.im2col(x, FH, FW, stride, pad)
    assert np.array_equal(col, naive_im2col(x, FH, FW, stride, pad))
    Y = rng.standard_normal(col.shape)
    back = cv.col2im(Y, x.shape, FH, FW, stride, pad)
    assert back.shape == x.shape
    assert math.isclose(np.sum(col * Y), np.sum(x * back), rel_tol=1e-12)


def test_output_size_rejects_a_window_that_does_not_fit():
    assert cv.output_size(7, 3, stride=2) == 3
    with pytest.raises(ValueError):
        cv.output_size(2, 3)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (2, 0)])
def test_convolution_forward_is_the_direct_sum(stride, pad):
    rng = np.random.default_rng(4)
    x, W, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 2)), \
        rng.standard_normal(3)
    out = cv.Convolution(W, b, stride, pad).forward(x)
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    OH, OW = (5 + 2 * pad - 3) // stride + 1, (6 + 2 * pad - 2) // stride + 1
    assert out.shape == (2, 3, OH, OW)
    for n, f, i, j in np.ndindex(out.shape):
        window = xp[n, :, i * stride:i * stride + 3, j * stride:j * stride + 2]
        assert math.isclose(out[n, f, i, j], float(np.sum(window * W[f]) + b[f]),
                            rel_tol=1e-12, abs_tol=1e-12)


def test_pooling_forward_is_the_window_max_with_zero_padding():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 5)) - 1.0            # mostly negative: padding shows
    out = cv.Pooling(3, 3, stride=2, pad=1).forward(x)
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    expect = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(3)]
                         for i in range(3)] for c in range(3)] for n in range(2)])
    assert np.array_equal(out, expect)


def test_pooling_tie_sends_everything_to_the_first_maximum():
    x = np.array([[[[1.0, 3.0, 5.0, 5.0],
                    [3.0, 2.0, 5.0, 5.0]]]])
    layer = cv.Pooling(2, 2, stride=2)
    assert layer.forward(x).tolist() == [[[[3.0, 5.0]]]]
    dx = layer.backward(np.array([[[[2.0, 7.0]]]]))
    assert dx.tolist() == [[[[0.0, 2.0, 7.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0]]]]


def test_pooling_overlapping_windows_add_at_a_shared_maximum():
    x = np.array([[[[0.0, 1.0, 0.0], [2.0, 9.0, 3.0], [0.0, 4.0, 0.0]]]])
    layer = cv.Pooling(2, 2, stride=1)
    assert layer.forward(x).tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert dx[0, 0, 1, 1] == 10.0 and np.count_nonzero(dx) == 1


def test_reexported_layers_build_a_small_cnn():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 1, 6, 6))
    conv_layer = cv.Convolution(rng.standard_normal((2, 1, 3, 3)), np.zeros(2), pad=1)
    layers = [conv_layer, cv.Relu(), cv.Pooling(2, 2),
              cv.Affine(rng.standard_normal((18, 3)), np.zeros(3))]
    h = x
    for layer in layers:
        h = layer.forward(h)
    loss_layer = cv.SoftmaxWithLoss()
    assert np.isfinite(loss_layer.forward(h, np.array([0, 2])))
    d = loss_layer.backward(1.0)
    for layer in reversed(layers):
        d = layer.backward(d)
    assert d.shape == x.shape and conv_layer.dW.shape == (2, 1, 3, 3)


# ---------------------------------------------------------------- volume 2: forwards
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def test_lstm_packs_its_gates_f_g_i_o():
    rng = np.random.default_rng(7)
    N, D, H = 2, 3, 2
    Wx = {k: rng.standard_normal((D, H)) for k in "fgio"}
    Wh = {k: rng.standard_normal((H, H)) for k in "fgio"}
    b = {k: rng.standard_normal(H) for k in "fgio"}
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    gate = {k: x @ Wx[k] + h @ Wh[k] + b[k] for k in "fgio"}
    c_expect = _sig(gate["f"]) * c + np.tanh(gate["g"]) * _sig(gate["i"])
    h_expect = _sig(gate["o"]) * np.tanh(c_expect)
    layer = nl.LSTM(*(np.hstack([m[k] for k in "fgio"]) for m in (Wx, Wh)),
                    np.concatenate([b[k] for k in "fgio"]))
    h_next, c_next = layer.forward(x, h, c)
    assert np.allclose(h_next, h_expect, rtol=1e-12) and np.allclose(c_next, c_expect, rtol=1e-12)


def test_gru_packs_z_r_candidate():
    rng = np.random.default_rng(8)
    N, D, H = 2, 3, 2
    Wx = {k: rng.standard_normal((D, H)) for k in "zrh"}
    Wh = {k: rng.standard_normal((H, H)) for k in "zrh"}
    b = {k: rng.standard_normal(H) for k in "zrh"}
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    z = _sig(x @ Wx["z"] + h @ Wh["z"] + b["z"])
    r = _sig(x @ Wx["r"] + h @ Wh["r"] + b["r"])
    cand = np.tanh(x @ Wx["h"] + (r * h) @ Wh["h"] + b["h"])
    layer = nl.GRU(*(np.hstack([m[k] for k in "zrh"]) for m in (Wx, Wh)),
                   np.concatenate([b[k] for k in "zrh"]))
    assert np.allclose(layer.forward(x, h), (1 - z) * h + z * cand, rtol=1e-12)


def test_attention_forward_by_hand():
    rng = np.random.default_rng(9)
    hs, h = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3))
    layer = nl.Attention()
    c = layer.forward(hs, h)
    for n in range(2):
        scores = [math.exp(sum(hs[n, t, k] * h[n, k] for k in range(3))) for t in range(4)]
        a = [s / sum(scores) for s in scores]
        assert np.allclose(layer.attention_weight[n], a, rtol=1e-12)
        assert np.allclose(c[n], sum(a[t] * hs[n, t] for t in range(4)), rtol=1e-12)


def test_time_attention_is_one_attention_per_decoder_step():
    rng = np.random.default_rng(10)
    hs_enc, hs_dec = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3, 3))
    out = tm.TimeAttention().forward(hs_enc, hs_dec)
    assert out.shape == (2, 3, 3)
    for t in range(3):
        assert np.allclose(out[:, t], nl.Attention().forward(hs_enc, hs_dec[:, t]), rtol=1e-12)


def test_losses_by_hand():
    x, t = np.array([0.3, -1.2, 2.0]), np.array([1, 0, 0])
    expect = -(math.log(_sig(0.3)) + math.log(1 - _sig(-1.2)) + math.log(1 - _sig(2.0))) / 3
    assert math.isclose(nl.SigmoidWithLoss().forward(x, t), expect, rel_tol=1e-6)
    rng = np.random.default_rng(11)
    xs, ts = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3))
    total = 0.0
    for n, t_ in np.ndindex(2, 3):
        row = xs[n, t_]
        total -= row[ts[n, t_]] - math.log(sum(math.exp(v) for v in row))
    assert math.isclose(tm.TimeSoftmaxWithLoss().forward(xs, ts), total / 6, rel_tol=1e-6)


def test_embedding_accumulates_repeated_indices_and_zeroes_old_gradients():
    W = np.arange(8.0).reshape(4, 2)
    layer = nl.Embedding(W)
    assert layer.forward(np.array([1, 1, 3])).tolist() == [[2.0, 3.0], [2.0, 3.0], [6.0, 7.0]]
    layer.grads[0][...] = 99.0
    assert layer.backward(np.array([[1.0, 2.0], [10.0, 20.0], [5.0, 5.0]])) is None
    assert layer.grads[0].tolist() == [[0.0, 0.0], [11.0, 22.0], [0.0, 0.0], [5.0, 5.0]]


# ---------------------------------------------------------------- state and dropout
def _state(layer):
    return (layer.h.copy(), layer.c.copy()) if isinstance(layer, tm.TimeLSTM) else \
        (layer.h.copy(),)


@pytest.mark.parametrize("cls,gates", [(tm.TimeRNN, 1), (tm.TimeLSTM, 4), (tm.TimeGRU, 3)])
def test_stateful_layers_continue_where_they_stopped(cls, gates):
    rng = np.random.default_rng(12)
    N, T, D, H = 2, 5, 3, 4
    w = [rng.standard_normal(s) * 0.5 for s in [(D, gates * H), (H, gates * H), (gates * H,)]]
    xs = rng.standard_normal((N, T, D))
    full = cls(*w).forward(xs)
    stateful = cls(*w, stateful=True)
    first = stateful.forward(xs[:, :2])
    kept = _state(stateful)
    second = stateful.forward(xs[:, 2:])
    assert np.allclose(np.concatenate([first, second], axis=1), full, rtol=1e-12, atol=1e-14)
    stateless = cls(*w)
    stateless.forward(xs[:, :2])
    fresh = stateless.forward(xs[:, 2:])
    assert not np.allclose(fresh, full[:, 2:], atol=1e-3)
    stateful.reset_state()
    assert np.allclose(stateful.forward(xs[:, 2:]), fresh, rtol=1e-12, atol=1e-14)
    stateful.set_state(*kept)
    assert np.allclose(stateful.forward(xs[:, 2:]), full[:, 2:], rtol=1e-12, atol=1e-14)


def test_time_dropout_scales_its_mask():
    p = 0.3
    layer = tm.TimeDropout(p, rng=np.random.default_rng(13))
    xs = np.random.default_rng(14).standard_normal((40, 50, 10))
    out = layer.forward(xs)
    values = set(np.unique(layer.mask).tolist())
    assert values == {0.0, 1 / (1 - p)}
    assert abs(layer.mask.mean() - 1.0) < 0.02
    assert abs(np.mean(layer.mask == 0) - p) < 0.02
    assert np.array_equal(out, xs * layer.mask)
    dout = np.ones_like(xs)
    assert np.array_equal(layer.backward(dout), layer.mask)
    layer.train_flg = False
    assert np.array_equal(layer.forward(xs), xs) and np.array_equal(layer.backward(dout), dout)


def test_time_dropout_default_uses_the_global_generator():
    layer = tm.TimeDropout(0.5)
    layer.forward(np.ones((200, 10, 3), dtype=np.float32))
    assert set(np.unique(layer.mask).tolist()) == {0.0, 2.0}
    assert layer.mask.dtype == np.float32


# ---------------------------------------------------------------- volume 2: the API
@pytest.mark.parametrize("name", sorted(VOL2))
def test_float32_in_float32_out(name):
    spec32 = VOL2[name](np.random.default_rng(0), np.float32)
    spec64 = VOL2[name](np.random.default_rng(0), np.float64)
    assert all(a.dtype == np.float32 for a in spec32.arrays)
    layer, outs = spec32.forward(*spec32.arrays)
    grads = spec32.backward(layer, _douts(spec32, outs))
    layer64, outs64 = spec64.forward(*spec64.arrays)
    grads64 = spec64.backward(layer64, _douts(spec64, outs64))
    for got, ref in zip([*outs, *grads], [*outs64, *grads64]):
        got = np.asarray(got)
        assert got.dtype == np.float32, f"{name}: {got.dtype}"
        assert rel_err(got, ref) < 1e-4
    assert all(g.dtype == np.float32 for g in layer.grads)
    assert all(p.dtype == np.float32 for p in layer.params)


@pytest.mark.parametrize("name", sorted(VOL2))
def test_params_are_the_callers_and_grads_are_written_in_place(name):
    spec = VOL2[name](np.random.default_rng(0), np.float64)
    layer, outs = spec.forward(*spec.arrays)
    if not layer.params:
        assert layer.grads == []
        return
    held = list(layer.grads)
    assert len(layer.params) == len(held)
    for p, g in zip(layer.params, held):
        assert g.shape == p.shape and not np.any(g)
    before = [p.copy() for p in layer.params]
    spec.backward(layer, _douts(spec, outs))
    assert all(g is h for g, h in zip(layer.grads, held)) and all(np.any(g) for g in held)
    assert all(np.array_equal(p, q) for p, q in zip(layer.params, before))
    weights = spec.arrays[len(spec.arrays) - len(layer.params):]
    assert all(p is w for p, w in zip(layer.params, weights))
