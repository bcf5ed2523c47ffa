"""Book-style one-step layers of volume 2 ("Deep Learning from Scratch 2"), written for this project.

Volume 2's API: every layer has ``self.params`` (a list of its weight arrays, the
caller's own arrays, not copies) and ``self.grads`` (a list of ``zeros_like``
arrays of the same shapes); ``backward`` writes into them in place
(``self.grads[0][...] = dW``), so an optimizer holding the lists sees the new
gradients.  ``backward`` returns the input gradient(s), in input order.

Dtypes follow the inputs and weights: float32 in gives float32 out, float32
input gradients and float32 grads (no float64 constant arrays are created;
integer labels are cast to the scores' dtype before they are subtracted).

Numerics: softmax subtracts the row max; sigmoid is 1/(1 + exp(-x)) as in the
book (it warns about overflow below x ~ -88 in float32, -709 in float64); the
cross-entropies put 1e-7 inside the log, as the book does, so their backward
(y - t)/N is the exact derivative of the loss without that 1e-7 (the two differ
by a relative ~1e-7/y).  The loss layers' backward multiplies by ``dout``.
The time layers are in numeric.time_reference.

>>> W = np.arange(6, dtype=np.float32).reshape(3, 2)
>>> layer = MatMul(W)
>>> layer.forward(np.ones((1, 3), dtype=np.float32)).tolist()
[[6.0, 9.0]]
>>> dx = layer.backward(np.ones((1, 2), dtype=np.float32))
>>> dx.dtype, layer.grads[0].dtype, layer.grads[0].tolist()
(dtype('float32'), dtype('float32'), [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
"""
from __future__ import annotations

import numpy as np

from numeric.matrix_reference import cross_entropy_error, softmax

__all__ = ["GRU", "LSTM", "RNN", "Affine", "Attention", "AttentionWeight", "Embedding",
           "MatMul", "Sigmoid", "SigmoidWithLoss", "Softmax", "SoftmaxWithLoss", "WeightSum",
           "cross_entropy_error", "sigmoid", "softmax"]


def sigmoid(x):
    """1/(1 + exp(-x)), the book's formula; keeps x's dtype."""
    return 1 / (1 + np.exp(-x))


def _as_labels(t, y):
    """Label indices from one-hot t (same size as y), else t itself."""
    t = np.asarray(t)
    return t.argmax(axis=-1) if t.size == y.size else t


def _scaled(dx, dout):
    """dx * dout without letting a float64 dout change dx's dtype."""
    return dx * np.asarray(dout, dtype=dx.dtype)


class MatMul:
    """out = x @ W; dx = dout @ W.T, dW = x.T @ dout."""

    def __init__(self, W):
        self.params, self.grads = [W], [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        self.x = x
        return x @ self.params[0]

    def backward(self, dout):
        W, = self.params
        self.grads[0][...] = self.x.T @ dout
        return dout @ W.T


class Affine:
    """out = x @ W + b for 2-D x (volume 2 does not flatten); db sums over rows."""

    def __init__(self, W, b):
        self.params, self.grads = [W, b], [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return x @ W + b

    def backward(self, dout):
        W, _ = self.params
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = np.sum(dout, axis=0)
        return dout @ W.T


class Sigmoid:
    """out = sigmoid(x); dx = dout * (1 - out) * out."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out) * self.out


class Softmax:
    """out = softmax over the last axis; dx = out * (dout - sum(out * dout))."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        self.out = softmax(x)
        return self.out

    def backward(self, dout):
        dx = self.out * dout
        return dx - self.out * np.sum(dx, axis=-1, keepdims=True)


class SoftmaxWithLoss:
    """Mean cross-entropy of softmax(x) (N, C) against labels (N,) or one-hot t (N, C).

    backward(dout=1) = (y - onehot(t)) * dout / N.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.y = self.t = None

    def forward(self, x, t):
        self.y = softmax(x)
        self.t = _as_labels(t, self.y)
        return cross_entropy_error(self.y, self.t)

    def backward(self, dout=1):
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return _scaled(dx, dout) / n


class SigmoidWithLoss:
    """Binary cross-entropy of y = sigmoid(x) against 0/1 labels t, both (N,), mean over N.

    loss = -mean(t log(y + 1e-7) + (1 - t) log(1 - y + 1e-7));
    backward(dout=1) = (y - t) * dout / N.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.y = self.t = None

    def forward(self, x, t):
        self.y = sigmoid(x)
        self.t = np.asarray(t).astype(self.y.dtype)
        t, y = self.t, self.y
        return -np.sum(t * np.log(y + 1e-7) + (1 - t) * np.log(1 - y + 1e-7)) / y.shape[0]

    def backward(self, dout=1):
        return _scaled(self.y - self.t, dout) / self.t.shape[0]


class Embedding:
    """out = W[idx]; backward zeroes dW and adds dout at rows idx (repeats accumulate).

    backward returns None: indices have no gradient.

    >>> emb = Embedding(np.zeros((3, 2)))
    >>> _ = emb.forward(np.array([2, 0, 2]))
    >>> emb.backward(np.ones((3, 2))) is None, emb.grads[0].tolist()
    (True, [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    """

    def __init__(self, W):
        self.params, self.grads = [W], [np.zeros_like(W)]
        self.idx = None

    def forward(self, idx):
        self.idx = idx
        return self.params[0][idx]

    def backward(self, dout):
        dW, = self.grads
        dW[...] = 0
        np.add.at(dW, self.idx, dout)


class RNN:
    """h_next = tanh(h_prev @ Wh + x @ Wx + b); backward(dh_next) -> (dx, dh_prev)."""

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        h_next = np.tanh(h_prev @ Wh + x @ Wx + b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, _ = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        self.grads[0][...] = x.T @ dt
        self.grads[1][...] = h_prev.T @ dt
        self.grads[2][...] = np.sum(dt, axis=0)
        return dt @ Wx.T, dt @ Wh.T


class LSTM:
    """One LSTM step; the gates are packed in Wx (D, 4H), Wh (H, 4H), b (4H,) as f, g, i, o.

    A = x @ Wx + h_prev @ Wh + b; f, i, o = sigmoid of their blocks, g = tanh;
    c_next = f * c_prev + g * i; h_next = o * tanh(c_next).
    backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev), with dA stacked f, g, i, o.
    """

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        A = x @ Wx + h_prev @ Wh + b
        f = sigmoid(A[:, :H])
        g = np.tanh(A[:, H:2 * H])
        i = sigmoid(A[:, 2 * H:3 * H])
        o = sigmoid(A[:, 3 * H:])
        c_next = f * c_prev + g * i
        tanh_c = np.tanh(c_next)
        h_next = o * tanh_c
        self.cache = (x, h_prev, c_prev, f, g, i, o, tanh_c)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, _ = self.params
        x, h_prev, c_prev, f, g, i, o, tanh_c = self.cache
        ds = dc_next + dh_next * o * (1 - tanh_c ** 2)       # total gradient reaching c_next
        dc_prev = ds * f
        df = ds * c_prev * f * (1 - f)
        dg = ds * i * (1 - g ** 2)
        di = ds * g * i * (1 - i)
        do = dh_next * tanh_c * o * (1 - o)
        dA = np.hstack((df, dg, di, do))
        self.grads[0][...] = x.T @ dA
        self.grads[1][...] = h_prev.T @ dA
        self.grads[2][...] = np.sum(dA, axis=0)
        return dA @ Wx.T, dA @ Wh.T, dc_prev


class GRU:
    """One GRU step; Wx (D, 3H), Wh (H, 3H), b (3H,) packed as z, r, candidate.

    z = sigmoid(x Wxz + h Whz + bz), r = sigmoid(x Wxr + h Whr + br),
    h~ = tanh(x Wxh + (r * h) Whh + bh), h_next = (1 - z) * h + z * h~.
    backward(dh_next) -> (dx, dh_prev).
    """

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        z = sigmoid(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])
        r = sigmoid(x @ Wx[:, H:2 * H] + h_prev @ Wh[:, H:2 * H] + b[H:2 * H])
        h_hat = np.tanh(x @ Wx[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:] + b[2 * H:])
        self.cache = (x, h_prev, z, r, h_hat)
        return (1 - z) * h_prev + z * h_hat

    def backward(self, dh_next):
        Wx, Wh, _ = self.params
        H = Wh.shape[0]
        x, h_prev, z, r, h_hat = self.cache
        dt_h = dh_next * z * (1 - h_hat ** 2)                  # candidate pre-activation
        drh = dt_h @ Wh[:, 2 * H:].T                           # gradient of r * h_prev
        dt_z = dh_next * (h_hat - h_prev) * z * (1 - z)
        dt_r = drh * h_prev * r * (1 - r)
        dh_prev = (dh_next * (1 - z) + drh * r + dt_z @ Wh[:, :H].T
                   + dt_r @ Wh[:, H:2 * H].T)
        dx = dt_z @ Wx[:, :H].T + dt_r @ Wx[:, H:2 * H].T + dt_h @ Wx[:, 2 * H:].T
        self.grads[0][...] = x.T @ np.hstack((dt_z, dt_r, dt_h))
        self.grads[1][...] = np.hstack((h_prev.T @ dt_z, h_prev.T @ dt_r, (r * h_prev).T @ dt_h))
        self.grads[2][...] = np.hstack((dt_z.sum(axis=0), dt_r.sum(axis=0), dt_h.sum(axis=0)))
        return dx, dh_prev


class WeightSum:
    """c[n] = sum over t of a[n, t] * hs[n, t]: hs (N, T, H), a (N, T) -> c (N, H).

    backward(dc) -> (dhs, da) with dhs = a * dc and da = sum over H of hs * dc.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None

    def forward(self, hs, a):
        self.cache = (hs, a)
        return np.sum(hs * a[:, :, None], axis=1)

    def backward(self, dc):
        hs, a = self.cache
        dc = dc[:, None, :]
        return dc * a[:, :, None], np.sum(dc * hs, axis=2)


class AttentionWeight:
    """a = softmax over T of s, s[n, t] = hs[n, t] . h[n]: hs (N, T, H), h (N, H) -> a (N, T).

    backward(da) -> (dhs, dh) through the softmax: dhs = ds * h, dh = sum over T of ds * hs.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.softmax = Softmax()
        self.cache = None

    def forward(self, hs, h):
        self.cache = (hs, h)
        return self.softmax.forward(np.sum(hs * h[:, None, :], axis=2))

    def backward(self, da):
        hs, h = self.cache
        ds = self.softmax.backward(da)[:, :, None]
        return ds * h[:, None, :], np.sum(ds * hs, axis=1)


class Attention:
    """AttentionWeight then WeightSum: c = sum_t a_t hs_t with a = softmax(hs . h).

    backward(dc) -> (dhs, dh); dhs adds the WeightSum and the AttentionWeight branches.
    The weights of the last forward are kept in ``attention_weight``.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.attention_weight_layer = AttentionWeight()
        self.weight_sum_layer = WeightSum()
        self.attention_weight = None

    def forward(self, hs, h):
        a = self.attention_weight_layer.forward(hs, h)
        self.attention_weight = a
        return self.weight_sum_layer.forward(hs, a)

    def backward(self, dc):
        dhs_sum, da = self.weight_sum_layer.backward(dc)
        dhs_weight, dh = self.attention_weight_layer.backward(da)
        return dhs_sum + dhs_weight, dh
