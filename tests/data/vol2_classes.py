"""Volume 2 style layer classes ("Deep Learning from Scratch 2"), written for the tests.

Every layer keeps ``self.params`` and ``self.grads`` (lists); backward writes the weight
gradients into ``self.grads`` in place. Read as text and imported from a temporary folder
by tests/test_api_styles.py (they are user classes to the verifier).
"""
import numpy as np


class Affine:                      # volume 2's: no flattening of a 4-D input
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return np.dot(x, W) + b

    def backward(self, dout):
        W, b = self.params
        dx = np.dot(dout, W.T)
        self.grads[0][...] = np.dot(self.x.T, dout)
        self.grads[1][...] = np.sum(dout, axis=0)
        return dx


class WrongDWAffine(Affine):       # dW averaged over the batch: a factor 1/N too small
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads[0][...] /= len(dout)
        return dx


class ReplacedGradsAffine(Affine):  # right values, but a new list: an optimizer never sees it
    def backward(self, dout):
        W, b = self.params
        self.grads = [np.dot(self.x.T, dout), np.sum(dout, axis=0)]
        return np.dot(dout, W.T)


class ReplacedArrayAffine(Affine):  # a new array in the old list: the model's copy is stale
    def backward(self, dout):
        W, b = self.params
        self.grads[0] = np.dot(self.x.T, dout)
        self.grads[1][...] = np.sum(dout, axis=0)
        return np.dot(dout, W.T)


class Float32Affine:               # volume 2's default dtype: everything in float32
    def __init__(self, W, b):
        self.params = [W.astype(np.float32), b.astype(np.float32)]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = np.asarray(x, dtype=np.float32)
        return self.x @ W + b

    def backward(self, dout):
        W, b = self.params
        dout = np.asarray(dout, dtype=np.float32)
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ W.T


class Float32WrongAffine(Float32Affine):   # db off by 0.1 %: float32 tolerance still sees it
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads[1][...] *= np.float32(1.001)
        return dx


class Sigmoid:
    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class RNN:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        h_next = np.tanh(np.dot(h_prev, Wh) + np.dot(x, Wx) + b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        self.grads[0][...] = np.dot(x.T, dt)
        self.grads[1][...] = np.dot(h_prev.T, dt)
        self.grads[2][...] = np.sum(dt, axis=0)
        return np.dot(dt, Wx.T), np.dot(dt, Wh.T)


class SwappedRNN(RNN):             # dWx and dWh exchanged (same shape when D == H)
    def backward(self, dh_next):
        dx, dh = super().backward(dh_next)
        self.grads[0][...], self.grads[1][...] = self.grads[1].copy(), self.grads[0].copy()
        return dx, dh


class TimeScale:                   # x (N, T, D) times g (D,)
    def __init__(self, g):
        self.params, self.grads = [g], [np.zeros_like(g)]

    def forward(self, x):
        self.x = x
        return x * self.params[0]

    def backward(self, dout):
        self.grads[0][...] = np.sum(dout * self.x, axis=(0, 1))
        return dout * self.params[0]


class ChannelScale:                # x (N, C, H, W) times g (C, 1, 1)
    def __init__(self, g):
        self.params, self.grads = [g], [np.zeros_like(g)]

    def forward(self, x):
        self.x = x
        return x * self.params[0]

    def backward(self, dout):
        self.grads[0][...] = np.sum(dout * self.x, axis=0).sum(axis=(1, 2), keepdims=True)
        return dout * self.params[0]


class InvertedDropout:             # volume 2's TimeDropout: the mask holds 0 and 1/(1 - p)
    def __init__(self, dropout_ratio=0.5, seed=None):
        self.params, self.grads = [], []
        self.dropout_ratio = dropout_ratio
        self.rng = np.random.default_rng(seed)
        self.mask = None

    def forward(self, x, train_flg=True):
        if not train_flg:
            return x
        keep = self.rng.random(np.shape(x)) > self.dropout_ratio
        self.mask = keep.astype(np.float32) * (1.0 / (1.0 - self.dropout_ratio))
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class ScaledInForwardDropout(InvertedDropout):   # a 0/1 mask, the scale applied separately
    def forward(self, x, train_flg=True):
        self.mask = self.rng.random(np.shape(x)) > self.dropout_ratio
        return x * self.mask / (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask / (1.0 - self.dropout_ratio)


class UnscaledBackwardDropout(InvertedDropout):  # forgets the scale in backward
    def backward(self, dout):
        return dout * (self.mask != 0)
