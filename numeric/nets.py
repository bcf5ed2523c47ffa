"""A small convolutional network in the book's style (volume 1, chapter 7), NumPy only.

    conv - relu - pool - affine - relu - affine - softmax_with_loss

The network does not define any layer itself: it takes its layer classes
(``Convolution``, ``Relu``, ``Pooling``, ``Affine``, ``SoftmaxWithLoss``) from the
module(s) given as ``layers``.  By default those are the classes exported by derive
(numeric.matrix_generated for the tensor layers, numeric.generated for Relu); the
same network built with ``layers=numeric.conv_reference`` uses the hand-coded
reference classes instead, so the two can be compared weight for weight.

Every layer keeps a reference to its weight array in ``net.params``, so changing a
parameter in place (an optimizer's update, a finite-difference step) is seen by the
next forward pass.  Parameters are named as in the book: W1, b1 (convolution),
W2, b2 (hidden affine), W3, b3 (output affine).

>>> net = SimpleConvNet(input_dim=(1, 6, 6), hidden_size=4, output_size=3,
...                     conv_param=dict(filter_num=2, filter_size=3, pad=1, stride=1))
>>> sorted((k, v.shape) for k, v in net.params.items())
[('W1', (2, 1, 3, 3)), ('W2', (18, 4)), ('W3', (4, 3)), ('b1', (2,)), ('b2', (4,)), ('b3', (3,))]
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

import numeric.generated
import numeric.matrix_generated

DEFAULT_LAYERS = (numeric.matrix_generated, numeric.generated)
LAYER_NAMES = ("Convolution", "Relu", "Pooling", "Affine", "SoftmaxWithLoss")
PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")

__all__ = ["SimpleConvNet", "SGD", "Adam", "layer_classes", "DEFAULT_LAYERS"]


def layer_classes(layers=None) -> dict:
    """The five layer classes the network needs, each taken from the first of the
    given modules (one module or a sequence of them) that defines it."""
    modules = DEFAULT_LAYERS if layers is None else layers
    if not isinstance(modules, (list, tuple)):
        modules = (modules,)
    found = {}
    for name in LAYER_NAMES:
        for module in modules:
            if hasattr(module, name):
                found[name] = getattr(module, name)
                break
        else:
            names = ", ".join(getattr(m, "__name__", repr(m)) for m in modules)
            raise AttributeError(f"no layer class {name!r} in {names}")
    return found


def _window_count(size: int, window: int, stride: int, pad: int) -> int:
    out = (size + 2 * pad - window) // stride + 1
    if out < 1:
        raise ValueError(f"a {window}-wide window does not fit {size} + 2*{pad}")
    return out


class SimpleConvNet:
    """conv - relu - pool(2x2, stride 2) - affine - relu - affine - softmax_with_loss.

    ``input_dim`` is (C, H, W); ``conv_param`` has filter_num, filter_size, pad,
    stride.  Weights are ``weight_init_std`` times standard normals drawn from
    ``np.random.default_rng(seed)``, biases are 0, all in ``dtype``; or ``params``
    (a dict W1, b1, ... of arrays) gives the weights, copied into ``dtype``.
    """

    POOL = dict(pool_h=2, pool_w=2, stride=2, pad=0)

    def __init__(self, input_dim=(1, 10, 10), conv_param=None, hidden_size=10,
                 output_size=3, weight_init_std=0.01, layers=None, dtype=np.float64,
                 seed=0, params=None):
        conv_param = dict(dict(filter_num=30, filter_size=5, pad=0, stride=1), **(conv_param or {}))
        self.conv_param = conv_param
        self.input_dim = tuple(input_dim)
        self.classes = layer_classes(layers)
        self.dtype = np.dtype(dtype)

        C, H, W = self.input_dim
        FN, FS = conv_param["filter_num"], conv_param["filter_size"]
        pad, stride = conv_param["pad"], conv_param["stride"]
        conv_h = _window_count(H, FS, stride, pad)
        conv_w = _window_count(W, FS, stride, pad)
        P = self.POOL
        pool_h = _window_count(conv_h, P["pool_h"], P["stride"], P["pad"])
        pool_w = _window_count(conv_w, P["pool_w"], P["stride"], P["pad"])
        shapes = {"W1": (FN, C, FS, FS), "b1": (FN,),
                  "W2": (FN * pool_h * pool_w, hidden_size), "b2": (hidden_size,),
                  "W3": (hidden_size, output_size), "b3": (output_size,)}

        if params is None:
            rng = np.random.default_rng(seed)
            params = {k: (weight_init_std * rng.standard_normal(s) if k[0] == "W"
                          else np.zeros(s)) for k, s in shapes.items()}
        self.params = {}
        for k in PARAM_NAMES:
            value = np.array(params[k], dtype=self.dtype)     # a copy, owned by the net
            if value.shape != shapes[k]:
                raise ValueError(f"{k} has shape {value.shape}, the net needs {shapes[k]}")
            self.params[k] = value
        self._build()

    def _build(self):
        """(Re)create the layers around the current arrays of self.params."""
        L, p, cp = self.classes, self.params, self.conv_param
        self.layers = OrderedDict()
        self.layers["Conv1"] = L["Convolution"](p["W1"], p["b1"], stride=cp["stride"], pad=cp["pad"])
        self.layers["Relu1"] = L["Relu"]()
        self.layers["Pool1"] = L["Pooling"](**self.POOL)
        self.layers["Affine1"] = L["Affine"](p["W2"], p["b2"])
        self.layers["Relu2"] = L["Relu"]()
        self.layers["Affine2"] = L["Affine"](p["W3"], p["b3"])
        self.last_layer = L["SoftmaxWithLoss"]()

    def predict(self, x):
        """The scores (N, output_size), before the softmax."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Mean cross-entropy of softmax(scores) against t (label indices or one-hot rows)."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        """The fraction of x whose highest score is at its label."""
        labels = np.argmax(t, axis=1) if np.ndim(t) != 1 else np.asarray(t)
        hits = 0
        for i in range(0, len(x), batch_size):
            scores = self.predict(x[i:i + batch_size])
            hits += int(np.sum(np.argmax(scores, axis=1) == labels[i:i + batch_size]))
        return hits / len(x)

    def gradient(self, x, t):
        """Backpropagation: a dict W1, b1, ... of the loss's gradients (the layers' dW, db)."""
        self.loss(x, t)
        dout = self.last_layer.backward()
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        names = (("W1", "Conv1"), ("W2", "Affine1"), ("W3", "Affine2"))
        grads = {}
        for w, layer in names:
            grads[w] = self.layers[layer].dW
            grads["b" + w[1:]] = self.layers[layer].db
        return grads

    def numerical_gradient(self, x, t, h=1e-4):
        """Central differences (L(p + h) - L(p - h)) / 2h for every parameter entry.

        Computed in float64 whatever the net's dtype (h = 1e-4 is too fine for
        float32): the parameters and x are copied to float64 for the duration, the
        net's own arrays are left as they were.  Returns a dict of float64 arrays.
        """
        saved = self.params
        self.params = {k: np.array(v, dtype=np.float64) for k, v in saved.items()}
        self._build()
        try:
            x = np.asarray(x, dtype=np.float64)
            grads = {}
            for key, p in self.params.items():
                g = np.zeros_like(p)
                for idx in np.ndindex(p.shape):
                    old = p[idx]
                    p[idx] = old + h
                    plus = float(self.loss(x, t))
                    p[idx] = old - h
                    minus = float(self.loss(x, t))
                    p[idx] = old
                    g[idx] = (plus - minus) / (2 * h)
                grads[key] = g
            return grads
        finally:
            self.params = saved
            self._build()


class SGD:
    """Plain gradient descent: p -= lr * g, in place (the layers hold the arrays)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Adam:
    """Adam (Kingma and Ba) with bias correction folded into the step size; in place."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter = 0
        self.m = self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        step = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            g = grads[key]
            self.m[key] += (1 - self.beta1) * (g - self.m[key])
            self.v[key] += (1 - self.beta2) * (g * g - self.v[key])
            params[key] -= step * self.m[key] / (np.sqrt(self.v[key]) + self.eps)
