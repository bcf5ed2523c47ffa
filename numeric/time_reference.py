"""Book-style time layers of volume 2 ("Deep Learning from Scratch 2"), written for this project.

Same API as numeric.nlp_reference (``params``/``grads`` lists written in place,
dtypes following the inputs), over batches of sequences (N, T, ...).

* TimeRNN, TimeLSTM, TimeGRU loop their step layer over t = 0..T-1.  With
  ``stateful=True`` the last h (and c) is kept for the next ``forward`` call
  (truncated BPTT over a long sequence); otherwise every call starts from zeros.
  ``set_state`` / ``reset_state`` set or drop the kept state.  ``backward(dhs)``
  runs t = T-1..0, feeding each step dhs[:, t] plus the dh coming back from step
  t+1, adds the steps' weight gradients, and leaves the gradient with respect to
  the initial h in ``self.dh`` (TimeLSTM does not propagate into the initial c,
  as in the book).
* TimeSoftmaxWithLoss averages the cross-entropy (1e-7 inside the log, as the
  step layer) over all N*T positions; labels (N, T) or one-hot (N, T, V).  The
  book's ignore_label masking is not implemented.
* TimeDropout is inverted dropout: in training (``train_flg = True``) the kept
  mask (rand > ratio) is scaled by 1/(1 - ratio) and stored in ``self.mask``,
  so at test time x passes through unchanged (and so does dout).  Randomness is
  ``np.random.rand`` as in the book, or the ``rng`` Generator if one is given.

>>> layer = TimeAffine(np.eye(2, dtype=np.float32), np.zeros(2, dtype=np.float32))
>>> out = layer.forward(np.ones((1, 3, 2), dtype=np.float32))
>>> out.shape, out.dtype
((1, 3, 2), dtype('float32'))
"""
from __future__ import annotations

import numpy as np

from numeric.matrix_reference import softmax
from numeric.nlp_reference import GRU, LSTM, RNN, Attention, Embedding

__all__ = ["TimeAffine", "TimeAttention", "TimeDropout", "TimeEmbedding", "TimeGRU",
           "TimeLSTM", "TimeRNN", "TimeSoftmaxWithLoss"]


def _add_grads(total, layer):
    for acc, g in zip(total, layer.grads):
        acc += g


class TimeEmbedding:
    """xs (N, T) indices -> W[xs] (N, T, D); backward accumulates dW over steps, returns None."""

    def __init__(self, W):
        self.params, self.grads = [W], [np.zeros_like(W)]
        self.layers = None

    def forward(self, xs):
        W, = self.params
        N, T = xs.shape
        out = np.empty((N, T, W.shape[1]), dtype=W.dtype)
        self.layers = []
        for t in range(T):
            layer = Embedding(W)
            out[:, t] = layer.forward(xs[:, t])
            self.layers.append(layer)
        return out

    def backward(self, dout):
        total = [np.zeros_like(self.params[0])]
        for t, layer in enumerate(self.layers):
            layer.backward(dout[:, t])
            _add_grads(total, layer)
        self.grads[0][...] = total[0]


class TimeAffine:
    """xs (N, T, D) -> xs @ W + b (N, T, M), computed on the (N*T, D) reshape."""

    def __init__(self, W, b):
        self.params, self.grads = [W, b], [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        N, T, D = x.shape
        self.x = x
        return (x.reshape(N * T, D) @ W + b).reshape(N, T, -1)

    def backward(self, dout):
        W, _ = self.params
        N, T, D = self.x.shape
        dout = dout.reshape(N * T, -1)
        self.grads[0][...] = self.x.reshape(N * T, D).T @ dout
        self.grads[1][...] = np.sum(dout, axis=0)
        return (dout @ W.T).reshape(N, T, D)


class _TimeRecurrent:
    """The loop shared by TimeRNN and TimeGRU (one hidden state h)."""

    step = None

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.stateful = stateful
        self.layers = None
        self.h = self.dh = None

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, _ = xs.shape
        H = Wh.shape[0]
        dtype = np.result_type(xs.dtype, Wx.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dtype)
        hs = np.empty((N, T, H), dtype=dtype)
        self.layers = []
        for t in range(T):
            layer = self.step(Wx, Wh, b)
            self.h = layer.forward(xs[:, t], self.h)
            hs[:, t] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        N, T, _ = dhs.shape
        D = self.params[0].shape[0]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        dh = np.zeros_like(dhs[:, 0])
        total = [np.zeros_like(p) for p in self.params]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dxs[:, t], dh = layer.backward(dhs[:, t] + dh)
            _add_grads(total, layer)
        for g, acc in zip(self.grads, total):
            g[...] = acc
        self.dh = dh
        return dxs


class TimeRNN(_TimeRecurrent):
    """RNN over T steps: xs (N, T, D) -> hs (N, T, H); backward(dhs) -> dxs, self.dh."""

    step = RNN


class TimeGRU(_TimeRecurrent):
    """GRU over T steps: xs (N, T, D) -> hs (N, T, H); backward(dhs) -> dxs, self.dh."""

    step = GRU


class TimeLSTM:
    """LSTM over T steps: xs (N, T, D) -> hs (N, T, H), keeping h and c when stateful.

    backward(dhs) -> dxs; each step gets dhs[:, t] + dh and the dc of the step after it.
    """

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.stateful = stateful
        self.layers = None
        self.h = self.c = self.dh = None

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, _ = xs.shape
        H = Wh.shape[0]
        dtype = np.result_type(xs.dtype, Wx.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dtype)
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype=dtype)
        hs = np.empty((N, T, H), dtype=dtype)
        self.layers = []
        for t in range(T):
            layer = LSTM(Wx, Wh, b)
            self.h, self.c = layer.forward(xs[:, t], self.h, self.c)
            hs[:, t] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        N, T, _ = dhs.shape
        D = self.params[0].shape[0]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        dh = np.zeros_like(dhs[:, 0])
        dc = np.zeros_like(dh)
        total = [np.zeros_like(p) for p in self.params]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dxs[:, t], dh, dc = layer.backward(dhs[:, t] + dh, dc)
            _add_grads(total, layer)
        for g, acc in zip(self.grads, total):
            g[...] = acc
        self.dh = dh
        return dxs


class TimeSoftmaxWithLoss:
    """Mean over N*T of -log(softmax(xs)[label] + 1e-7): xs (N, T, V), ts (N, T) or one-hot.

    backward(dout=1) -> (ys - onehot(ts)) * dout / (N*T), shaped (N, T, V).
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.ys = self.ts = self.shape = None

    def forward(self, xs, ts):
        N, T, V = self.shape = xs.shape
        ts = np.asarray(ts)
        if ts.ndim == 3:
            ts = ts.argmax(axis=2)
        self.ys = softmax(xs.reshape(N * T, V))
        self.ts = ts.reshape(N * T)
        picked = self.ys[np.arange(N * T), self.ts]
        return -np.sum(np.log(picked + 1e-7)) / (N * T)

    def backward(self, dout=1):
        n = self.ts.shape[0]
        dx = self.ys.copy()
        dx[np.arange(n), self.ts] -= 1
        dx = dx * np.asarray(dout, dtype=dx.dtype) / n
        return dx.reshape(self.shape)


class TimeDropout:
    """Inverted dropout: train -> xs * mask with mask = (rand > ratio) / (1 - ratio); test -> xs."""

    def __init__(self, dropout_ratio=0.5, rng=None):
        self.params, self.grads = [], []
        self.dropout_ratio, self.rng = dropout_ratio, rng
        self.train_flg = True
        self.mask = None

    def forward(self, xs):
        if not self.train_flg:
            self.mask = None
            return xs
        rand = np.random.rand(*xs.shape) if self.rng is None else self.rng.random(xs.shape)
        keep = (rand > self.dropout_ratio).astype(xs.dtype)
        self.mask = keep * (1 / (1 - self.dropout_ratio))
        return xs * self.mask

    def backward(self, dout):
        return dout if self.mask is None else dout * self.mask


class TimeAttention:
    """One Attention per decoder step: (hs_enc (N, T, H), hs_dec (N, T2, H)) -> (N, T2, H).

    backward(dout) -> (dhs_enc, dhs_dec); dhs_enc sums over the decoder steps.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.layers = None
        self.attention_weights = None

    def forward(self, hs_enc, hs_dec):
        T2 = hs_dec.shape[1]
        out = np.empty(hs_dec.shape, dtype=np.result_type(hs_enc.dtype, hs_dec.dtype))
        self.layers, self.attention_weights = [], []
        for t in range(T2):
            layer = Attention()
            out[:, t] = layer.forward(hs_enc, hs_dec[:, t])
            self.layers.append(layer)
            self.attention_weights.append(layer.attention_weight)
        return out

    def backward(self, dout):
        dhs_dec = np.empty_like(dout)
        dhs_enc = 0
        for t, layer in enumerate(self.layers):
            dhs, dh = layer.backward(dout[:, t])
            dhs_enc = dhs_enc + dhs
            dhs_dec[:, t] = dh
        return dhs_enc, dhs_dec
