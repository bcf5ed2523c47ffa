"""Book-style reference layers: the hand-coded answers derivations are checked against.

Each class follows chapter 5 of "Deep Learning from Scratch": ``forward(*inputs)``
caches what the backward pass needs on the instance and returns ``out``;
``backward(dout)`` returns the input gradient, one array for a one-input layer
and a tuple in input order otherwise. All arithmetic is float64.

>>> layer = MulLayer()
>>> float(layer.forward(np.array(100.0), np.array(2.0)))
200.0
>>> [float(g) for g in layer.backward(np.array(1.0))]  # (dout*y, dout*x)
[2.0, 100.0]

Where we differ from the book
-----------------------------
* **No in-place writes, ever.** The book's ``Relu.backward`` zeroes entries of
  the caller's ``dout`` and returns that same array; ours builds a new array, and
  no layer here returns the caller's ``dout`` object (``AddLayer`` returns two
  fresh copies). Forward inputs are copied into the cache, so changing them after
  ``forward`` does not change ``backward``.
* **Stable at large inputs.** The book's ``Sigmoid`` evaluates ``exp(-x)``, which
  overflows (with a RuntimeWarning) below x ~ -709. Here sigmoid, softplus, SiLU,
  GELU and ELU are written so that inputs up to +-1000 give finite results and no
  overflow/invalid/divide warnings. Quiet underflow to 0 (e.g. ``exp(-1000)``)
  is the correct float64 answer and is not treated as a problem.
* **Exp overflows on purpose.** ``Exp.forward`` returns ``inf`` above x ~ 709.78:
  that is the true float64 value, not a bug to hide; check ``exp`` at <= 700.
* **Broadcasting.** ``MulLayer`` and ``AddLayer`` sum gradients back to each
  input's shape when the inputs were broadcast (the book assumes equal shapes).
* Conventions at kinks are the book's: the gradient of ``relu`` at 0 is 0 and the
  positive branch is strict (``x > 0``) for ``leaky_relu`` and ``elu`` too.
"""
from __future__ import annotations

import math

import numpy as np

from numeric.special import erfc

__all__ = [
    "MulLayer", "AddLayer", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Softplus",
    "LeakyRelu", "Elu", "Silu", "Gelu", "GeluTanh", "Square",
    "REFERENCE", "PARAMS", "sigmoid",
]


def _as_float(x) -> np.ndarray:
    """A float64 copy of x, so the cache never aliases the caller's array."""
    return np.array(x, dtype=np.float64)


def sigmoid(x) -> np.ndarray:
    """1/(1+exp(-x)) without overflow: exp is only taken of -|x|.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum grad over the axes along which an input of `shape` was broadcast."""
    grad = np.asarray(grad, dtype=np.float64)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return np.array(grad, dtype=np.float64).reshape(shape)


class MulLayer:
    """out = x*y; the gradients swap the inputs: (dout*y, dout*x)."""

    def forward(self, x, y):
        self.x, self.y = _as_float(x), _as_float(y)
        return self.x * self.y

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return (_unbroadcast(dout * self.y, self.x.shape),
                _unbroadcast(dout * self.x, self.y.shape))


class AddLayer:
    """out = x+y; the gradient passes through unchanged, as two new arrays."""

    def forward(self, x, y):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self.x_shape, self.y_shape = x.shape, y.shape
        return x + y

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return _unbroadcast(dout, self.x_shape), _unbroadcast(dout, self.y_shape)


class Relu:
    """out = max(0, x); gradient 0 where x <= 0 (so 0 at the kink, as in the book)."""

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, np.asarray(dout, dtype=np.float64))


class Sigmoid:
    """out = 1/(1+exp(-x)) computed stably; backward dout*out*(1-out)."""

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out.copy()

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * self.out * (1.0 - self.out)


class Tanh:
    """out = tanh(x); backward dout*(1-out**2)."""

    def forward(self, x):
        self.out = np.tanh(np.asarray(x, dtype=np.float64))
        return self.out.copy()

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * (1.0 - self.out**2)


class Exp:
    """out = exp(x); backward dout*out. Overflows to inf above x ~ 709.78 (the true value)."""

    def forward(self, x):
        self.out = np.exp(np.asarray(x, dtype=np.float64))
        return self.out.copy()

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * self.out


class Log:
    """out = log(x) on x > 0; backward dout/x."""

    def forward(self, x):
        self.x = _as_float(x)
        return np.log(self.x)

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) / self.x


class Softplus:
    """out = log(1+exp(x)) via logaddexp(0, x); backward dout*sigmoid(x)."""

    def forward(self, x):
        self.x = _as_float(x)
        return np.logaddexp(0.0, self.x)

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * sigmoid(self.x)


class LeakyRelu:
    """out = x if x > 0 else alpha*x; gradient alpha at 0 (strict positive branch)."""

    def __init__(self, alpha: float = 0.01):
        self.alpha = float(alpha)

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.positive = x > 0
        return np.where(self.positive, x, self.alpha * x)

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return np.where(self.positive, dout, self.alpha * dout)


class Elu:
    """out = x if x > 0 else alpha*(exp(x)-1); gradient 1 if x > 0 else alpha*exp(x).

    exp is only evaluated on min(x, 0), so x = +1000 cannot overflow.
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.positive = x > 0
        self.exp_neg = np.exp(np.minimum(x, 0.0))
        return np.where(self.positive, x, self.alpha * np.expm1(np.minimum(x, 0.0)))

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return np.where(self.positive, dout, self.alpha * self.exp_neg * dout)


class Silu:
    """out = x*sigmoid(x); gradient s*(1 + x*(1-s)) with 1-s = sigmoid(-x) (no cancellation)."""

    def forward(self, x):
        self.x = _as_float(x)
        self.s = sigmoid(self.x)
        return self.x * self.s

    def backward(self, dout):
        grad = self.s * (1.0 + self.x * sigmoid(-self.x))
        return np.asarray(dout, dtype=np.float64) * grad


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Gelu:
    """out = 0.5*x*(1+erf(x/sqrt(2))) = x*Phi(x); gradient Phi(x) + x*phi(x).

    Phi(x) is computed as 0.5*erfc(-x/sqrt(2)), so it keeps its relative accuracy
    for negative x where 1+erf(...) would cancel.
    """

    def forward(self, x):
        self.x = _as_float(x)
        self.cdf = 0.5 * erfc(-self.x * _INV_SQRT2)
        return self.x * self.cdf

    def backward(self, dout):
        # exp(-x**2/2) is 0 (quiet underflow) for |x| > ~38; x**2 is finite up to 1e154.
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * self.x * self.x)
        return np.asarray(dout, dtype=np.float64) * (self.cdf + self.x * pdf)


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


class GeluTanh:
    """out = 0.5*x*(1+tanh(u)), u = sqrt(2/pi)*(x+0.044715*x**3).

    Written with 0.5*(1+tanh(u)) = sigmoid(2u), which avoids the cancellation in
    1+tanh(u) for negative x. Chain rule:
    d out/dx = s + x*s*(1-s)*2*u'(x), s = sigmoid(2u), u' = sqrt(2/pi)*(1+3*0.044715*x**2).
    """

    def forward(self, x):
        self.x = _as_float(x)
        self.two_u = 2.0 * _GELU_C * (self.x + _GELU_K * self.x**3)
        self.s = sigmoid(self.two_u)
        return self.x * self.s

    def backward(self, dout):
        du = _GELU_C * (1.0 + 3.0 * _GELU_K * self.x**2)
        grad = self.s + self.x * self.s * sigmoid(-self.two_u) * 2.0 * du
        return np.asarray(dout, dtype=np.float64) * grad


class Square:
    """out = x**2; backward 2*x*dout."""

    def forward(self, x):
        self.x = _as_float(x)
        return self.x**2

    def backward(self, dout):
        return 2.0 * self.x * np.asarray(dout, dtype=np.float64)


REFERENCE: dict[str, type] = {
    "mul": MulLayer,
    "add": AddLayer,
    "relu": Relu,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "exp": Exp,
    "log": Log,
    "softplus": Softplus,
    "leaky_relu": LeakyRelu,
    "elu": Elu,
    "silu": Silu,
    "gelu": Gelu,
    "gelu_tanh": GeluTanh,
    "square": Square,
}

PARAMS: dict[str, dict[str, float]] = {
    "leaky_relu": {"alpha": 0.01},
    "elu": {"alpha": 1.0},
}
