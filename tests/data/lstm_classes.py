"""Book-style LSTM cells (volume 2's API: params/grads lists) for tests/test_verify_outputs.py.

``LSTM`` is right; each other class has one bug that ``derive verify`` must name.
Written by hand from the book's TimeLSTM cell, gates packed as f, g, i, o.
"""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class LSTM:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
        f = sigmoid(A[:, :H])
        g = np.tanh(A[:, H:2 * H])
        i = sigmoid(A[:, 2 * H:3 * H])
        o = sigmoid(A[:, 3 * H:])
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tanh_c_next = np.tanh(c_next)
        ds = dc_next + (dh_next * o) * (1 - tanh_c_next ** 2)
        dc_prev = self._dc_prev(ds, dc_next, f)
        di = ds * g
        df = ds * c_prev
        do = dh_next * tanh_c_next
        dg = ds * i
        di *= i * (1 - i)
        df *= f * (1 - f)
        do *= o * (1 - o)
        dg *= (1 - g ** 2)
        dA = np.hstack((df, dg, di, do))
        self.grads[0][...] = np.dot(x.T, dA)
        self.grads[1][...] = np.dot(h_prev.T, dA)
        self.grads[2][...] = dA.sum(axis=0)
        dx = np.dot(dA, Wx.T)
        dh_prev = np.dot(dA, Wh.T)
        return dx, dh_prev, dc_prev

    def _dc_prev(self, ds, dc_next, f):
        return ds * f


class DcPrevIgnoresDcNext(LSTM):
    """dc_prev forgets the gradient arriving at c_next directly: only dh_next's share."""

    def _dc_prev(self, ds, dc_next, f):
        return (ds - dc_next) * f


class IgnoresDcNext(LSTM):
    """backward(dh_next, dc_next) as if dc_next were 0."""

    def backward(self, dh_next, dc_next):
        return super().backward(dh_next, np.zeros_like(dc_next))


class SwappedOutputs(LSTM):
    """forward returns (c_next, h_next)."""

    def forward(self, x, h_prev, c_prev):
        h_next, c_next = super().forward(x, h_prev, c_prev)
        return c_next, h_next


class OneOutput(LSTM):
    """forward returns h_next only."""

    def forward(self, x, h_prev, c_prev):
        return super().forward(x, h_prev, c_prev)[0]


class WritesIntoDcNext(LSTM):
    """Right gradients, but dc_next is overwritten in place (strict fails)."""

    def backward(self, dh_next, dc_next):
        out = super().backward(dh_next, dc_next)
        dc_next *= 0.0
        return out
