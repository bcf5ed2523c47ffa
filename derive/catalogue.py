"""The layer catalogue: each layer is its NumPy forward, as text, read by the same front door
as a user's layer (:func:`derive.program.layer_from_def`: parsed, never executed).

A spec is a ``def``: its annotations give shapes and roles, its docstring the title and
optional ``note:``, ``class:``, ``assume:`` and class-feature lines (see
:mod:`derive.program`).

>>> get("sigmoid").forward
1/(1 + exp(-x))
>>> get("affine").weight_names
('W', 'b')
>>> get("sigmod")
Traceback (most recent call last):
...
derive.errors.UnknownLayerError: unknown layer 'sigmod'; did you mean: sigmoid, logsigmoid, hardsigmoid?
"""
from __future__ import annotations

import difflib
from functools import lru_cache

from .catalogue_book2 import VOLUME2
from .errors import UnknownLayerError
from .spec import LayerSpec

_KINK = "is not differentiable at x = 0; as in the book, the gradient there is"

SPECS: dict[str, str] = {
    "mul": '''
def mul(x, y):
    """Multiply (MulLayer)

    note: the inputs swap: dL/dx = dout·y, dL/dy = dout·x
    """
    return x * y
''',
    "add": '''
def add(x, y):
    """Add (AddLayer)

    note: the gradient passes unchanged
    """
    return x + y
''',
    "relu": f'''
def relu(x):
    """ReLU

    note: ReLU {_KINK} 0
    """
    return np.maximum(0, x)
''',
    "sigmoid": '''
def sigmoid(x):
    """Sigmoid"""
    return 1 / (1 + np.exp(-x))
''',
    "tanh": '''
def tanh(x):
    """Tanh"""
    return np.tanh(x)
''',
    "exp": '''
def exp(x):
    """Exponential"""
    return np.exp(x)
''',
    "log": '''
def log(x: positive):
    """Natural logarithm

    note: defined for x > 0
    """
    return np.log(x)
''',
    "softplus": '''
def softplus(x):
    """Softplus"""
    return np.log(1 + np.exp(x))
''',
    "leaky_relu": '''
def leaky_relu(x, alpha: param(positive=True) = 0.01):
    """Leaky ReLU

    note: at x = 0 the gradient is alpha (the x > 0 branch is strict, as ReLU's)
    """
    return np.where(x > 0, x, alpha * x)
''',
    "elu": '''
def elu(x, alpha: param(positive=True) = 1.0):
    """ELU

    note: at x = 0 the gradient is alpha (the x > 0 branch is strict)
    """
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))
''',
    "silu": '''
def silu(x):
    """SiLU (swish)"""
    return x / (1 + np.exp(-x))
''',
    "gelu": '''
def gelu(x):
    """GELU (erf form)"""
    return x * (1 + erf(x / np.sqrt(2))) / 2
''',
    "gelu_tanh": '''
def gelu_tanh(x):
    """GELU (tanh approximation)"""
    return x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))) / 2
''',
    "square": '''
def square(x):
    """Square"""
    return x**2
''',
    "relu6": '''
def relu6(x):
    """ReLU6: min(max(0, x), 6)

    class: Relu6
    note: not differentiable at x = 0 and x = 6; the gradient is 1 only for 0 < x < 6 and 0 at both kinks (0 at 0 as the book's ReLU; at 6 np.minimum's tie goes to its first argument, the constant 6), as PyTorch's ReLU6
    """
    return np.minimum(6, np.maximum(0, x))
''',
    "hardtanh": '''
def hardtanh(x):
    """Hardtanh: x clipped to [−1, 1]

    note: not differentiable at x = ±1; the gradient is 1 only for −1 < x < 1 and 0 at both ends, as PyTorch's Hardtanh and ReLU6 (np.clip(x, -1, 1) would give 1 at the ends, torch.clamp's convention)
    """
    return np.where(x <= -1, -1, np.where(x >= 1, 1, x))
''',
    "hardsigmoid": '''
def hardsigmoid(x):
    """Hard sigmoid: relu6(x + 3) / 6 (PyTorch's)

    note: not differentiable at x = ±3; the gradient is 1/6 only for −3 < x < 3 and 0 at both ends (relu6's convention), as PyTorch's Hardsigmoid
    """
    return np.minimum(6, np.maximum(0, x + 3)) / 6
''',
    "hardswish": '''
def hardswish(x):
    """Hard swish: x·relu6(x + 3) / 6 (PyTorch's)

    note: the gradient is 0 for x < −3, (2x + 3)/6 for −3 < x < 3 and 1 for x > 3; not differentiable at x = −3 (left 0, right −1/2), where it is 0, and at x = 3 (left 3/2, right 1), where it is 1: relu6's gradient is 0 at its kinks and the product rule gives relu6(x + 3)/6 there (PyTorch uses (2x + 3)/6 at both)
    """
    return x * np.minimum(6, np.maximum(0, x + 3)) / 6
''',
    "mish": '''
def mish(x):
    """Mish: x·tanh(softplus(x))

    note: smooth everywhere, so no convention at a kink is needed
    """
    return x * np.tanh(np.log(1 + np.exp(x)))
''',
    "selu": '''
def selu(x):
    """SELU: scale·x for x > 0, scale·alpha·(exp(x) − 1) otherwise

    note: alpha = 1.6732632423543772848170429916717 and scale = 1.0507009873554804934193349852946 (Klambauer et al., as PyTorch and JAX)
    note: not differentiable at x = 0; the x > 0 branch is strict, so the gradient there is scale·alpha (the left branch's, as PyTorch's)
    """
    return 1.0507009873554804934193349852946 * np.where(
        x > 0, x, 1.6732632423543772848170429916717 * (np.exp(x) - 1))
''',
    "celu": '''
def celu(x, alpha: param(positive=True) = 1.0):
    """CELU: x for x > 0, alpha·(exp(x/alpha) − 1) otherwise

    note: continuously differentiable: both branches have gradient 1 at x = 0 (the x > 0 branch is strict; the left one gives exp(0) = 1 there)
    """
    return np.where(x > 0, x, alpha * (np.exp(x / alpha) - 1))
''',
    "softsign": '''
def softsign(x):
    """Softsign: x / (1 + |x|)

    note: |x| has a kink at 0 but softsign does not: its gradient 1/(1 + |x|)² is 1 there (sign(0) = 0 in the steps)
    """
    return x / (1 + np.abs(x))
''',
    "logsigmoid": '''
def logsigmoid(x):
    """Log-sigmoid: log(1 / (1 + exp(−x)))

    class: LogSigmoid
    note: smooth everywhere; the gradient is sigmoid(−x) = 1 − exp(out)
    """
    return -np.log(1 + np.exp(-x))
''',
    "tanhshrink": '''
def tanhshrink(x):
    """Tanhshrink: x − tanh(x)

    note: smooth everywhere; the gradient tanh(x)² is 0 at x = 0 and tends to 1 as |x| grows
    """
    return x - np.tanh(x)
''',
    "bce": '''
def bce(x, t):
    """Binary cross-entropy of probabilities (elementwise, no reduction)

    note: x is a probability, 0 < x < 1 (the loss is infinite at 0 and 1: no clamping, unlike PyTorch's log ≥ −100); t is the target in [0, 1], an input here, so dL/dt is derived too
    note: dL/dx = (x − t)/(x·(1 − x)); dL/dt = log(1 − x) − log(x)
    """
    return -(t * np.log(x) + (1 - t) * np.log(1 - x))
''',
    "bce_with_logits": '''
def bce_with_logits(x, t):
    """Binary cross-entropy with logits (elementwise, no reduction)

    note: x is a logit (any real), t the target in [0, 1], an input here (dL/dt = −x)
    note: written as (1 − t)·x + softplus(−x) (TensorFlow's form), equal to −(t·log sigmoid(x) + (1 − t)·log(1 − sigmoid(x))); smooth in x, so no convention at x = 0: the gradient is sigmoid(x) − t everywhere
    """
    return (1 - t) * x + np.log(1 + np.exp(-x))
''',
    "huber": '''
def huber(x, t, delta: param(positive=True) = 1.0):
    """Huber loss (elementwise, no reduction)

    note: ½(x − t)² where |x − t| < delta, delta·(|x − t| − ½·delta) elsewhere; t is the target, an input here (dL/dt = −dL/dx)
    note: continuously differentiable: at |x − t| = delta both branches give the gradient x − t = delta·sign(x − t); at x = t it is 0
    """
    return np.where(np.abs(x - t) < delta, 0.5 * (x - t)**2,
                    delta * (np.abs(x - t) - 0.5 * delta))
''',
    "smooth_l1": '''
def smooth_l1(x, t, beta: param(positive=True) = 1.0):
    """Smooth L1 loss (elementwise, no reduction)

    note: ½(x − t)²/beta where |x − t| < beta, |x − t| − ½·beta elsewhere (PyTorch's, beta > 0); t is the target, an input here (dL/dt = −dL/dx)
    note: continuously differentiable: at |x − t| = beta both branches give the gradient (x − t)/beta = sign(x − t); at x = t it is 0
    """
    return np.where(np.abs(x - t) < beta, 0.5 * (x - t)**2 / beta,
                    np.abs(x - t) - 0.5 * beta)
''',
    "l1": '''
def l1(x, t):
    """L1 loss (elementwise, no reduction): |x − t|

    note: not differentiable at x = t; the gradient there is sign(0) = 0 (as PyTorch's l1_loss); t is the target, an input here (dL/dt = −dL/dx)
    """
    return np.abs(x - t)
''',
    "log_cosh": '''
def log_cosh(x, t):
    """Log-cosh loss (elementwise, no reduction): log(cosh(x − t))

    note: written as (x − t) + softplus(−2·(x − t)) − log 2, which equals log(cosh(x − t)), because cosh overflows beyond |x − t| ≈ 710 and the exported code must not
    note: smooth everywhere, gradient tanh(x − t) = 1 − 2·sigmoid(−2·(x − t)); t is the target, an input here (dL/dt = −dL/dx)
    """
    return (x - t) + np.log(1 + np.exp(-2 * (x - t))) - np.log(2)
''',
    "hinge": '''
def hinge(x, t):
    """Hinge loss (elementwise, no reduction): max(0, 1 − t·x)

    note: t is the label, −1 or 1 (any real works), an input here: dL/dx = −t and dL/dt = −x where t·x < 1, 0 elsewhere
    note: not differentiable where t·x = 1; as the book's ReLU at 0, the gradient there is 0
    """
    return np.maximum(0, 1 - t * x)
''',
    "affine": '''
def affine(x: input("N", "D"), W: weight("D", "M"), b: weight("M")):
    """Affine (fully connected): y = x·W + b

    class: Affine
    flatten: x
    note: x of higher rank is flattened to (N, D) first, as the book does, and dx is reshaped back
    """
    return x @ W + b
''',
    "softmax": '''
def softmax(x: input("N", "C")):
    """Softmax over each row

    class: Softmax
    """
    e = np.exp(x)
    S = np.sum(e, axis=1, keepdims=True)
    y = e / S
    return y
''',
    "softmax_with_loss": '''
def softmax_with_loss(x: input("N", "C"), t: const("N", "C")):
    """Softmax with cross-entropy loss (mean over the batch)

    class: SoftmaxWithLoss
    labels: t
    assume: np.sum(t, axis=1) == 1
    note: L = −(1/N) Σ_n Σ_k t[n,k]·log y[n,k]; dout is the scalar upstream gradient (1 when L is the final loss)
    note: code also accepts label indices t (shape (N,)), read as one-hot rows
    """
    e = np.exp(x)
    S = np.sum(e, axis=1, keepdims=True)
    y = e / S
    return -np.sum(t * np.log(y)) / x.shape[0]
''',
    "mse": '''
def mse(x: input("N", "D"), t: const("N", "D")):
    """Mean squared error: L = (1/(2N))·Σ (x − t)²

    class: MSE
    note: normalisation: half the sum of squares, averaged over the batch (the book's 0.5·Σ(y − t)² per example, / N like its cross-entropy)
    """
    return 0.5 * np.sum((x - t)**2) / x.shape[0]
''',
    "batchnorm": '''
def batchnorm(x: input("N", "D"), gamma: weight("D"), beta: weight("D"),
              eps: param(positive=True) = 1e-6):
    """Batch normalization (training mode, per feature)

    class: BatchNormalization
    flatten: x
    running: mu, var (momentum 0.9)
    note: statistics of each feature over the batch (axis 0); std = sqrt(var + eps), the book's eps = 1e-6 in code
    """
    mu = np.mean(x, axis=0, keepdims=True)
    xc = x - mu
    var = np.mean(xc**2, axis=0, keepdims=True)
    std = np.sqrt(var + eps)
    xn = xc / std
    return gamma * xn + beta
''',
    "layernorm": '''
def layernorm(x: input("N", "D"), gamma: weight("D"), beta: weight("D"),
              eps: param(positive=True) = 1e-6):
    """Layer normalization (per row)

    class: LayerNorm
    note: statistics of each row over its features (axis 1); std = sqrt(var + eps), the book's eps = 1e-6 in code
    """
    mu = np.mean(x, axis=1, keepdims=True)
    xc = x - mu
    var = np.mean(xc**2, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xn = xc / std
    return gamma * xn + beta
''',
    "dropout": '''
def dropout(x: input("N", "D"), mask: const("N", "D")):
    """Dropout (training): y = x ⊙ mask

    class: Dropout
    dropout: mask (ratio 0.5)
    note: mask is cached from forward (1 keeps a unit, 0 drops it); at test time out = x·(1 − ratio)
    """
    return x * mask
''',
    "convolution": '''
def convolution(x: input("N", "C", "H", "Wd"), W: weight("FN", "C", "FH", "FW"), b: weight("FN"),
                stride: param(integer=True, positive=True) = 1, pad: param(integer=True) = 0):
    """Convolution (the book's im2col form): y[n, f, i, j] = Σ_c,p,q x[n, c, i·stride + p − pad, j·stride + q − pad]·W[f, c, p, q] + b[f]

    class: Convolution
    note: x is (N, C, H, Wd) (Wd, the width, keeps the name W for the filters), W is (FN, C, FH, FW), out is (N, FN, OH, OW) with OH = 1 + (H + 2·pad − FH)//stride and OW = 1 + (Wd + 2·pad − FW)//stride; x reads 0 outside its range (zero padding)
    note: windows(x, FH, FW, stride, pad) is the book's im2col before its reshape, shape (N, C, FH, FW, OH, OW); fold is col2im, its vector-Jacobian product: overlapping windows add up
    note: stride and pad stay symbols in the index-form proofs, so every step holds for every stride ≥ 1 and pad ≥ 0 as for every size; the numeric cross-checks run at stride 2, pad 1 and at stride 1, pad 0
    """
    col = windows(x, FH, FW, stride, pad)
    return np.einsum("ncpqij,fcpq->nfij", col, W) + b.reshape(FN, 1, 1)
''',
    "pooling": '''
def pooling(x: input("N", "C", "H", "Wd"), pool_h: param(integer=True, positive=True) = 2,
            pool_w: param(integer=True, positive=True) = 2,
            stride: param(integer=True, positive=True) = 2, pad: param(integer=True) = 0):
    """Max pooling: y[n, c, i, j] = max_p,q x[n, c, i·stride + p − pad, j·stride + q − pad]

    class: Pooling
    note: x is (N, C, H, Wd), out is (N, C, OH, OW) with OH = 1 + (H + 2·pad − pool_h)//stride; padding reads 0 and takes part in the maximum, as the book's im2col
    note: the gradient of each window goes to its maximum; at a tie, to the first maximum in window order (row by row, np.argmax's convention), which takes the whole gradient, as the book's Pooling
    note: proven: the index form of the step with the first-maximum mask held as an array that is locally constant in x (true away from ties, where the maximum is a fixed entry) for every size, window, stride and pad; central differences at random points (ties have probability 0)
    """
    return np.max(windows(x, pool_h, pool_w, stride, pad), axis=(2, 3))
''',
}


SPECS.update(VOLUME2)


def names() -> list:
    """Every catalogue layer, in catalogue order."""
    return list(SPECS)


def is_catalogue(spec) -> bool:
    """True when ``spec`` is the catalogue's own layer (not a user's of the same name)."""
    return spec.name in SPECS and spec is get(spec.name)


@lru_cache(maxsize=None)
def get(name: str) -> LayerSpec:
    """The spec of a catalogue layer; an unknown name suggests close matches."""
    if name not in SPECS:
        close = difflib.get_close_matches(name, list(SPECS), n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else f"; known: {', '.join(SPECS)}"
        raise UnknownLayerError(f"unknown layer {name!r}{hint}")
    from .program import layer_from_def
    return layer_from_def(SPECS[name].strip() + "\n", name=name)
