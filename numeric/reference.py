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
  positive branch is strict (``x > 0``) for ``leaky_relu``, ``elu`` and ``selu`` too;
  ``l1`` has gradient sign(0) = 0 at x = t and ``hinge`` gradient 0 where t*x = 1.
* **Elementwise losses take the target as an input.** ``Bce``, ``Huber``, ``Hinge`` ...
  are ``forward(x, t)`` with no reduction (one loss per element, like PyTorch's
  ``reduction='none'``), and ``backward(dout)`` returns ``(dx, dt)``.
"""
from __future__ import annotations

import math

import numpy as np

from numeric.special import erfc

__all__ = [
    "MulLayer", "AddLayer", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Softplus",
    "LeakyRelu", "Elu", "Silu", "Gelu", "GeluTanh", "Square",
    "Relu6", "Hardtanh", "Hardsigmoid", "Hardswish", "Mish", "Selu", "Celu", "Softsign", "LogSigmoid", "Tanhshrink",
    "Bce", "BceWithLogits", "Huber", "SmoothL1", "L1", "LogCosh", "Hinge",
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


class Relu6:
    """out = min(max(0, x), 6); gradient 1 on 0 < x < 6 only (0 at both kinks, as ReLU at 0)."""

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.inside = (x > 0) & (x < 6)
        return np.minimum(np.maximum(x, 0.0), 6.0)

    def backward(self, dout):
        return np.where(self.inside, np.asarray(dout, dtype=np.float64), 0.0)


class Hardtanh:
    """out = x clipped to [-1, 1]; gradient 1 on -1 < x < 1 only (0 at the ends)."""

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.inside = (x > -1) & (x < 1)
        return np.minimum(np.maximum(x, -1.0), 1.0)

    def backward(self, dout):
        return np.where(self.inside, np.asarray(dout, dtype=np.float64), 0.0)


class Hardsigmoid:
    """out = relu6(x + 3)/6; gradient 1/6 on -3 < x < 3 only (0 at the ends)."""

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.inside = (x > -3) & (x < 3)
        return np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0

    def backward(self, dout):
        return np.where(self.inside, np.asarray(dout, dtype=np.float64) / 6.0, 0.0)


class Hardswish:
    """out = x*relu6(x + 3)/6; by the product rule the gradient is relu6(x + 3)/6 + x*relu6'(x + 3)/6:
    0 for x <= -3, (2x + 3)/6 for -3 < x < 3, 1 for x >= 3 (relu6' is 0 at its kinks)."""

    def forward(self, x):
        self.x = _as_float(x)
        return self.x * np.minimum(np.maximum(self.x + 3.0, 0.0), 6.0) / 6.0

    def backward(self, dout):
        x = self.x
        grad = np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, (2.0 * x + 3.0) / 6.0))
        return np.asarray(dout, dtype=np.float64) * grad


class Mish:
    """out = x*tanh(softplus(x)); gradient tanh(sp) + x*sigmoid(x)*(1 - tanh(sp)**2),
    since d softplus/dx = sigmoid(x). softplus via logaddexp, so +-1000 stays finite."""

    def forward(self, x):
        self.x = _as_float(x)
        self.th = np.tanh(np.logaddexp(0.0, self.x))
        self.s = sigmoid(self.x)
        return self.x * self.th

    def backward(self, dout):
        grad = self.th + self.x * self.s * (1.0 - self.th**2)
        return np.asarray(dout, dtype=np.float64) * grad


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Selu:
    """out = scale*x if x > 0 else scale*alpha*(exp(x)-1); gradient scale, or scale*alpha*exp(x)
    (so scale*alpha at x = 0: the positive branch is strict). exp only of min(x, 0)."""

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.positive = x > 0
        neg = np.minimum(x, 0.0)
        self.exp_neg = np.exp(neg)
        return SELU_SCALE * np.where(self.positive, x, SELU_ALPHA * np.expm1(neg))

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return np.where(self.positive, SELU_SCALE * dout,
                        SELU_SCALE * SELU_ALPHA * self.exp_neg * dout)


class Celu:
    """out = x if x > 0 else alpha*(exp(x/alpha)-1); gradient 1, or exp(x/alpha) (1 at 0 too)."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.positive = x > 0
        neg = np.minimum(x, 0.0) / self.alpha
        self.exp_neg = np.exp(neg)
        return np.where(self.positive, x, self.alpha * np.expm1(neg))

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return np.where(self.positive, dout, self.exp_neg * dout)


class Softsign:
    """out = x/(1+|x|); gradient ((1+|x|) - x*sign(x))/(1+|x|)**2 = 1/(1+|x|)**2."""

    def forward(self, x):
        self.x = _as_float(x)
        self.denom = 1.0 + np.abs(self.x)
        return self.x / self.denom

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) / (self.denom * self.denom)


class LogSigmoid:
    """out = log(sigmoid(x)) = -softplus(-x); gradient sigmoid(-x) (1 - sigmoid(x), no cancellation)."""

    def forward(self, x):
        self.x = _as_float(x)
        return -np.logaddexp(0.0, -self.x)

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * sigmoid(-self.x)


class Tanhshrink:
    """out = x - tanh(x); gradient 1 - (1 - tanh(x)**2) = tanh(x)**2."""

    def forward(self, x):
        self.x = _as_float(x)
        self.th = np.tanh(self.x)
        return self.x - self.th

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * self.th**2


# --- elementwise losses with a target t (no reduction); t is an input, dt is returned too ---

class Bce:
    """out = -(t*log(x) + (1-t)*log(1-x)) for probabilities 0 < x < 1.

    d/dx = -t/x + (1-t)/(1-x) = (x - t)/(x*(1 - x)); d/dt = -log(x) + log(1-x).
    """

    def forward(self, x, t):
        self.x, self.t = _as_float(x), _as_float(t)
        self.log_x, self.log_1mx = np.log(self.x), np.log1p(-self.x)
        return -(self.t * self.log_x + (1.0 - self.t) * self.log_1mx)

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        dx = dout * (self.x - self.t) / (self.x * (1.0 - self.x))
        dt = dout * (self.log_1mx - self.log_x)
        return dx, dt


class BceWithLogits:
    """out = log(1+exp(x)) - t*x, i.e. -(t*log s + (1-t)*log(1-s)) with s = sigmoid(x).

    d/dx = sigmoid(x) - t (smooth, also at x = 0); d/dt = -x. softplus via logaddexp.
    """

    def forward(self, x, t):
        self.x, self.t = _as_float(x), _as_float(t)
        return np.logaddexp(0.0, self.x) - self.t * self.x

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return dout * (sigmoid(self.x) - self.t), -dout * self.x


class Huber:
    """z = x - t; out = z**2/2 where |z| < delta, else delta*(|z| - delta/2).

    d/dz = z inside, delta*sign(z) outside (equal at |z| = delta); d/dx = d/dz, d/dt = -d/dz.
    """

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)

    def forward(self, x, t):
        z = np.asarray(x, dtype=np.float64) - np.asarray(t, dtype=np.float64)
        a = np.abs(z)
        inside = a < self.delta
        self.grad = np.where(inside, z, self.delta * np.sign(z))
        return np.where(inside, 0.5 * z * z, self.delta * (a - 0.5 * self.delta))

    def backward(self, dout):
        g = np.asarray(dout, dtype=np.float64) * self.grad
        return g, -g


class SmoothL1:
    """z = x - t; out = z**2/(2*beta) where |z| < beta, else |z| - beta/2.

    d/dz = z/beta inside, sign(z) outside (equal at |z| = beta); d/dx = d/dz, d/dt = -d/dz.
    """

    def __init__(self, beta: float = 1.0):
        self.beta = float(beta)

    def forward(self, x, t):
        z = np.asarray(x, dtype=np.float64) - np.asarray(t, dtype=np.float64)
        a = np.abs(z)
        inside = a < self.beta
        self.grad = np.where(inside, z / self.beta, np.sign(z))
        return np.where(inside, 0.5 * z * z / self.beta, a - 0.5 * self.beta)

    def backward(self, dout):
        g = np.asarray(dout, dtype=np.float64) * self.grad
        return g, -g


class L1:
    """out = |x - t|; d/dx = sign(x - t) (0 at x = t), d/dt = -sign(x - t)."""

    def forward(self, x, t):
        z = np.asarray(x, dtype=np.float64) - np.asarray(t, dtype=np.float64)
        self.sign = np.sign(z)
        return np.abs(z)

    def backward(self, dout):
        g = np.asarray(dout, dtype=np.float64) * self.sign
        return g, -g


_LOG2 = math.log(2.0)


class LogCosh:
    """out = log(cosh(z)), z = x - t; d/dx = tanh(z), d/dt = -tanh(z).

    cosh overflows beyond |z| ~ 710, so for |z| >= 1 the forward is
    |z| - log 2 + log1p(exp(-2|z|)) (cosh z = e^|z| (1 + e^(-2|z|))/2); below 1 the plain
    formula keeps the relative accuracy of z**2/2.
    """

    def forward(self, x, t):
        z = np.asarray(x, dtype=np.float64) - np.asarray(t, dtype=np.float64)
        a = np.abs(z)
        self.th = np.tanh(z)
        near = np.log(np.cosh(np.minimum(a, 1.0)))
        far = a - _LOG2 + np.log1p(np.exp(-2.0 * a))
        return np.where(a < 1.0, near, far)

    def backward(self, dout):
        g = np.asarray(dout, dtype=np.float64) * self.th
        return g, -g


class Hinge:
    """out = max(0, 1 - t*x); where t*x < 1: d/dx = -t, d/dt = -x; elsewhere 0 (0 at t*x = 1,
    as the book's ReLU at 0)."""

    def forward(self, x, t):
        self.x, self.t = _as_float(x), _as_float(t)
        margin = 1.0 - self.t * self.x
        self.active = margin > 0
        return np.where(self.active, margin, 0.0)

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        return (np.where(self.active, -self.t * dout, 0.0),
                np.where(self.active, -self.x * dout, 0.0))


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
    "relu6": Relu6,
    "hardtanh": Hardtanh,
    "hardsigmoid": Hardsigmoid,
    "hardswish": Hardswish,
    "mish": Mish,
    "selu": Selu,
    "celu": Celu,
    "softsign": Softsign,
    "logsigmoid": LogSigmoid,
    "tanhshrink": Tanhshrink,
    "bce": Bce,
    "bce_with_logits": BceWithLogits,
    "huber": Huber,
    "smooth_l1": SmoothL1,
    "l1": L1,
    "log_cosh": LogCosh,
    "hinge": Hinge,
}

PARAMS: dict[str, dict[str, float]] = {
    "leaky_relu": {"alpha": 0.01},
    "elu": {"alpha": 1.0},
    "celu": {"alpha": 1.0},
    "huber": {"delta": 1.0},
    "smooth_l1": {"beta": 1.0},
}
