"""End to end: a two-layer LSTM language model (numeric.lm.LSTMLM) built from the step
classes derive exported (numeric/matrix_generated.py: TimeEmbedding, LSTM, Affine,
SoftmaxWithLoss) checks against central differences, has the gradients of the same
model on the book-style hand-coded time layers (numeric/time_reference.py), keeps its
state across stateful calls, and learns a sequence that needs memory.

NumPy only; no sympy, no derive.  The whole file runs in a few seconds.
"""
from __future__ import annotations

import types

import numpy as np
import pytest

import numeric.matrix_generated as matrix_generated
import numeric.nlp_reference as nlp_reference
import numeric.time_reference as time_reference
from numeric.lm import PARAM_NAMES, LSTMLM, RowsLoss, TimeLoop, TimeRows, clip_grads, lm_classes
from numeric.nets import Adam

V, D, H, N, T = 7, 4, 5, 2, 4
class _Cells:
    """matrix_generated without its time classes: the exported step cells, looped here."""

    def __getattr__(self, name):
        if name.startswith("Time") and name != "TimeEmbedding":
            raise AttributeError(name)
        return getattr(matrix_generated, name)


BUILDS = {"exported": matrix_generated,
          "exported_cells": _Cells(),                            # exported cells, our loop
          "time_reference": time_reference,                       # the book's TimeLSTM etc.
          "step_reference": (nlp_reference, time_reference)}      # hand-coded cells, our loop


def tiny_params(seed=1, scale=0.5):
    """Weights and biases all nonzero (std 0.5), so every gradient entry is exercised and
    the gates sit away from saturation."""
    rng = np.random.default_rng(seed)
    shapes = {k: v.shape for k, v in LSTMLM(V, D, H).params.items()}
    return {k: scale * rng.standard_normal(s) for k, s in shapes.items()}


def tiny_batch(seed=2):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))


def differences(net, xs, ts):
    """Per parameter: (mean |numerical - backprop|, max of it, mean |backprop|)."""
    backprop = net.gradient(xs, ts)
    numerical = net.numerical_gradient(xs, ts, h=1e-5)
    assert set(backprop) == set(numerical) == set(PARAM_NAMES)
    out = {}
    for k in PARAM_NAMES:
        assert backprop[k].shape == numerical[k].shape == net.params[k].shape
        d = np.abs(numerical[k] - backprop[k])
        out[k] = (float(d.mean()), float(d.max()), float(np.abs(backprop[k]).mean()))
    return out


def test_the_builds_use_the_classes_they_name():
    exported = LSTMLM(V, D, H)          # derive exports the time layers too: every one of them
    assert type(exported.embed) is matrix_generated.TimeEmbedding
    assert [type(layer) for layer in exported.lstms] == [matrix_generated.TimeLSTM] * 2
    assert type(exported.affine) is matrix_generated.TimeAffine
    assert type(exported.loss_layer) is matrix_generated.TimeSoftmaxWithLoss
    cells = LSTMLM(V, D, H, layers=BUILDS["exported_cells"])    # the cells under our loop
    assert all(type(layer) is TimeLoop and layer.cell_cls is matrix_generated.LSTM
               for layer in cells.lstms)
    assert type(cells.affine) is TimeRows and type(cells.affine.layer) is matrix_generated.Affine
    assert type(cells.loss_layer) is RowsLoss
    assert type(cells.loss_layer.layer) is matrix_generated.SoftmaxWithLoss
    book = LSTMLM(V, D, H, layers=time_reference)
    assert [type(layer) for layer in book.lstms] == [time_reference.TimeLSTM] * 2
    assert type(book.affine) is time_reference.TimeAffine
    assert type(book.loss_layer) is time_reference.TimeSoftmaxWithLoss
    steps = LSTMLM(V, D, H, layers=BUILDS["step_reference"])
    assert steps.lstms[0].cell_cls is nlp_reference.LSTM
    assert type(steps.embed) is time_reference.TimeEmbedding     # nlp_reference has none
    with pytest.raises(AttributeError, match="TimeEmbedding"):
        lm_classes(nlp_reference)
    # the layers hold the net's arrays: an in-place update is seen by the next forward
    assert exported.embed.W is exported.params["embed_W"]
    assert cells.lstms[1].Wh is cells.params["lstm2_Wh"]
    assert book.lstms[0].params[0] is book.params["lstm1_Wx"]


def test_gradient_check_float64(record_property):
    net = LSTMLM(V, D, H, params=tiny_params())
    xs, ts = tiny_batch()
    diffs = differences(net, xs, ts)
    record_property("gradient_check", diffs)
    print()
    for k, (mean, mx, scale) in diffs.items():
        print(f"{k}: mean |diff| {mean:.2e}  max {mx:.2e}  (mean |grad| {scale:.2e})")
    for k, (mean, mx, scale) in diffs.items():
        assert scale > 1e-4, (k, scale)           # the check below is not vacuous
        assert mean <= 1e-8, (k, mean)
        assert mean <= 1e-5 * scale, (k, mean, scale)
        assert mx <= 1e-7, (k, mx)


def test_gradient_check_catches_a_cell_that_drops_the_carry():
    """The check can fail: an LSTM cell whose backward returns dc_prev = 0 (the gradient
    through the cell state cut at every step) is caught."""
    class DroppedCarry(matrix_generated.LSTM):
        def backward(self, dh_next, dc_next):
            dx, dh_prev, dc_prev = super().backward(dh_next, dc_next)
            return dx, dh_prev, np.zeros_like(dc_prev)
    broken = types.SimpleNamespace(LSTM=DroppedCarry)
    net = LSTMLM(V, D, H, params=tiny_params(), layers=(broken, matrix_generated))
    assert net.lstms[0].cell_cls is DroppedCarry
    xs, ts = tiny_batch()
    diffs = differences(net, xs, ts)
    assert max(mean for mean, _, _ in diffs.values()) > 1e-6
    # the output layer sits after both LSTMs, so its gradients are still right
    assert diffs["affine_W"][0] <= 1e-8


def softmax_rows(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("build", ["time_reference", "step_reference"])
def test_exported_gradients_equal_the_hand_coded_models(build):
    xs, ts = tiny_batch(seed=7)
    exported = LSTMLM(V, D, H, params=tiny_params(seed=3, scale=0.8))
    hand = LSTMLM(V, D, H, params=exported.params, layers=BUILDS[build])
    for k in PARAM_NAMES:                        # same values, separate arrays
        assert hand.params[k] is not exported.params[k]
        np.testing.assert_array_equal(hand.params[k], exported.params[k])
    scores = exported.predict(xs)
    np.testing.assert_allclose(scores, hand.predict(xs), rtol=1e-12, atol=1e-13)
    # losses: the reference takes -log(y + 1e-7), derive's -log(y); the gap is
    # mean(log(y + 1e-7) - log(y)) over the label probabilities y, worked out here
    y = softmax_rows(scores)[np.arange(N)[:, None], np.arange(T), ts]
    gap = np.mean(np.log(y + 1e-7) - np.log(y))
    l_exp, l_hand = float(exported.loss(xs, ts)), float(hand.loss(xs, ts))
    assert 0 < l_exp - l_hand < 1e-5
    np.testing.assert_allclose(l_exp - l_hand, gap, rtol=1e-6)
    # the gradients: the reference's backward (y - t)/(N T) is the gradient without 1e-7
    g_exp, g_hand = exported.gradient(), hand.gradient()
    for k in PARAM_NAMES:
        a, b = g_exp[k], g_hand[k]
        assert a.shape == b.shape == exported.params[k].shape
        assert np.linalg.norm(b) > 1e-4, k
        assert np.linalg.norm(a - b) <= 1e-8 * np.linalg.norm(b), k
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8 * np.abs(b).max(), err_msg=k)


@pytest.mark.parametrize("build", ["exported", "time_reference"])
def test_stateful_halves_equal_one_call(build):
    rng = np.random.default_rng(5)
    xs = rng.integers(0, V, (3, 10))
    params = tiny_params(seed=4)
    whole = LSTMLM(V, D, H, params=params, layers=BUILDS[build], stateful=False).predict(xs)
    net = LSTMLM(V, D, H, params=params, layers=BUILDS[build], stateful=True)
    first, second = net.predict(xs[:, :6]), net.predict(xs[:, 6:])
    assert first.shape == (3, 6, V) and second.shape == (3, 4, V)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole,
                               rtol=1e-12, atol=1e-14)
    # not vacuous: started from zeros, the second half comes out otherwise
    fresh = LSTMLM(V, D, H, params=params, layers=BUILDS[build]).predict(xs[:, 6:])
    assert np.abs(fresh - second).max() > 1e-3
    # reset_state drops the kept h and c: the next call starts from zeros
    net.reset_state()
    np.testing.assert_allclose(net.predict(xs[:, 6:]), fresh, rtol=1e-12, atol=1e-14)
    # a stateless net does not carry anything over between calls
    stateless = LSTMLM(V, D, H, params=params, layers=BUILDS[build])
    stateless.predict(xs[:, :6])
    np.testing.assert_allclose(stateless.predict(xs[:, 6:]), fresh, rtol=1e-12, atol=1e-14)


def central(f, a, h=1e-6):
    """Central differences of the scalar f() with respect to the array a, changed in place."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + h
        plus = f()
        a[idx] = old - h
        minus = f()
        a[idx] = old
        g[idx] = (plus - minus) / (2 * h)
    return g


def test_time_loop_dh_and_dc_are_the_gradients_of_the_initial_state():
    rng = np.random.default_rng(8)
    Wx, Wh, b = rng.standard_normal((3, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    xs, R = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, H))
    h0, c0 = rng.standard_normal((2, H)), rng.standard_normal((2, H))
    loop = TimeLoop(matrix_generated.LSTM, Wx, Wh, b, stateful=True)

    def loss():                                   # L = sum(hs * R), so dL/dhs = R
        loop.set_state(h0.copy(), c0.copy())
        return float(np.sum(loop.forward(xs) * R))
    loss()
    dxs = loop.backward(R)
    np.testing.assert_allclose(loop.dh, central(loss, h0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(loop.dc, central(loss, c0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dxs, central(loss, xs), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(loop.dWh, central(loss, Wh), rtol=1e-6, atol=1e-9)
    assert np.abs(loop.dh).max() > 1e-3 and np.abs(loop.dc).max() > 1e-3
    # the book's TimeLSTM gives the same dh from the same start
    book = time_reference.TimeLSTM(Wx, Wh, b, stateful=True)
    book.set_state(h0.copy(), c0.copy())
    book.forward(xs)
    np.testing.assert_allclose(book.backward(R), dxs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(book.dh, loop.dh, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell, book, gates",
                         [(matrix_generated.RNN, time_reference.TimeRNN, 1),
                          (matrix_generated.GRU, time_reference.TimeGRU, 3)], ids=["rnn", "gru"])
def test_time_loop_runs_one_state_cells_as_the_book_does(cell, book, gates):
    rng = np.random.default_rng(9)
    Wx, Wh = rng.standard_normal((3, gates * H)), rng.standard_normal((H, gates * H))
    b = rng.standard_normal(gates * H)
    xs, dhs = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, H))
    loop, ref = TimeLoop(cell, Wx, Wh, b), book(Wx, Wh, b)
    assert loop.states == 1
    np.testing.assert_allclose(loop.forward(xs), ref.forward(xs), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(loop.backward(dhs), ref.backward(dhs), rtol=1e-12, atol=1e-14)
    for mine, theirs in zip((loop.dWx, loop.dWh, loop.db), ref.grads):
        assert np.abs(theirs).max() > 1e-3
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(loop.dh, ref.dh, rtol=1e-12, atol=1e-14)


def test_stateful_gradient_check_and_numerical_gradient_restores_the_net():
    """A stateful net's numerical gradient starts every evaluation from the kept state
    (else it would not match backprop) and leaves arrays, values and state as they were."""
    rng = np.random.default_rng(10)
    net = LSTMLM(V, D, H, params=tiny_params(seed=6), stateful=True)
    net.predict(rng.integers(0, V, (N, 3)))       # now h, c are nonzero
    states = [(h.copy(), c.copy()) for h, c in net.states()]
    assert all(np.abs(h).max() > 1e-2 for h, _ in states)
    arrays = dict(net.params)
    copies = {k: v.copy() for k, v in net.params.items()}
    xs, ts = tiny_batch(seed=11)
    numerical = net.numerical_gradient(xs, ts)
    for k in PARAM_NAMES:
        assert net.params[k] is arrays[k]
        np.testing.assert_array_equal(net.params[k], copies[k])
    for (h, c), (h0, c0) in zip(net.states(), states):
        np.testing.assert_array_equal(h, h0)
        np.testing.assert_array_equal(c, c0)
    assert net.lstms[0].Wx is net.params["lstm1_Wx"]
    backprop = net.gradient(xs, ts)               # from the same kept state
    for k in PARAM_NAMES:
        assert np.abs(numerical[k] - backprop[k]).mean() <= 1e-8, k


PATTERN = np.array([0, 1, 2, 3, 4, 5, 4, 3, 2, 1])    # up and down: 1..4 come both ways


def pattern_batch(rng, n=8, steps=8):
    """Windows of the repeating PATTERN at random offsets: inputs and next tokens (n, steps)."""
    start = rng.integers(0, len(PATTERN), n)
    seq = PATTERN[(start[:, None] + np.arange(steps + 1)) % len(PATTERN)]
    return seq[:, :-1], seq[:, 1:]


def test_trains_on_a_pattern_that_needs_memory(record_property):
    """After 1, 2, 3 or 4 the next token depends on the direction, which only the token
    before tells: from position 1 on the pattern is deterministic, but a model without
    memory could get at most 0.2 + 0.8/2 = 0.6 of those positions right."""
    rng = np.random.default_rng(0)
    x_eval, t_eval = pattern_batch(np.random.default_rng(1), n=200)
    net = LSTMLM(6, 8, 16, seed=0)
    before = float(net.loss(x_eval, t_eval))
    acc_before = float(np.mean(net.predict(x_eval).argmax(axis=2)[:, 1:] == t_eval[:, 1:]))
    optimizer = Adam(lr=0.01)
    for _ in range(300):
        xs, ts = pattern_batch(rng)
        grads = net.gradient(xs, ts)
        clip_grads(grads, 5.0)
        optimizer.update(net.params, grads)
    after = float(net.loss(x_eval, t_eval))
    hits = net.predict(x_eval).argmax(axis=2) == t_eval
    acc, acc_all = float(hits[:, 1:].mean()), float(hits.mean())
    record_property("training", dict(before=before, after=after, acc=acc, acc_all=acc_all))
    print(f"\nloss {before:.4f} -> {after:.4f}; accuracy from position 1 {acc_before:.3f} -> "
          f"{acc:.3f}; over all positions {acc_all:.3f}")
    assert after < 0.5 * before
    assert acc > 0.9


def test_clip_grads_bounds_the_joint_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert clip_grads(grads, 10.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])        # under the bound: untouched
    clip_grads(grads, 1.0)
    norm = np.sqrt(np.sum(grads["a"] ** 2) + np.sum(grads["b"] ** 2))
    assert norm == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(grads["a"] / grads["b"][0, 0], [0.75, 0.0])


def test_float32_is_kept():
    net = LSTMLM(V, D, H, params=tiny_params(), dtype=np.float32)
    xs, ts = tiny_batch()
    assert net.predict(xs).dtype == np.float32
    grads = net.gradient(xs, ts)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    g64 = LSTMLM(V, D, H, params=tiny_params()).gradient(xs, ts)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(grads[k], g64[k], rtol=1e-3, atol=1e-5 * np.abs(g64[k]).max(),
                                   err_msg=k)
