"""The matrix layers: each a forward graph of matrix nodes with symbolic shapes.

A node is ``(name, rule, expression)``; the expression uses :class:`~.tensor.Arr`
for inputs, constants and earlier nodes.  The last node is the layer's output
(``out``, or the scalar loss ``L``).  ``rewrite`` says how to put the chain
rule's result into the cached values the book keeps (e.g. ``xc = xn·std``);
``rules`` are facts or assumptions about sums (proven, or stated on the page).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import sympy as sp

from ..errors import UnknownLayerError
from .tensor import Arr, dims, exp, log, mean, sqrt, sum_

N, D, M, C = dims("N D M C")


@dataclass(frozen=True)
class Rule:
    """A stated sum: Σ over ``axis`` of array ``name`` equals ``value``."""

    name: str
    axis: int
    value: int
    kind: str          # "fact" (proven from the definitions) | "assumption" (stated)
    text: str


@dataclass
class MatrixLayer:
    name: str
    title: str
    class_name: str
    inputs: dict                     # differentiated: name -> shape
    constants: dict                  # not differentiated: name -> shape (t, mask, eps)
    nodes: list                      # (name, rule, Tensor)
    rewrite: dict = field(default_factory=dict)   # node name -> Tensor in cached names
    rules: tuple = ()
    aliases: dict = field(default_factory=dict)   # extra user spellings: alias -> name
    notes: tuple = ()
    dims: tuple = ()

    @property
    def output(self):
        return self.nodes[-1][0]

    def shapes(self) -> dict:
        s = {**self.inputs, **self.constants}
        s.update({n: e.shape for n, _, e in self.nodes})
        return s

    def definitions(self) -> dict:
        return {n: e for n, _, e in self.nodes}

    def arrays(self) -> dict:
        return {n: Arr(n, s) for n, s in self.shapes().items()}

    def rule_table(self, kinds=("fact", "assumption")) -> dict:
        return {(r.name, r.axis): r.value for r in self.rules if r.kind in kinds}


def _affine():
    x, W, b = Arr("x", (N, D)), Arr("W", (D, M)), Arr("b", (M,))
    return MatrixLayer("affine", "Affine (fully connected): out = x·W + b", "Affine",
                       {"x": (N, D), "W": (D, M), "b": (M,)}, {},
                       [("out", "matmul + bias", x @ W + b)],
                       notes=("x of higher rank is flattened to (N, D) first, as the book does, "
                              "and dx is reshaped back",), dims=(N, D, M))


def _softmax():
    x = Arr("x", (N, C))
    e = exp(x)
    S = sum_(Arr("e", (N, C)), axis=1, keepdims=True)
    out = Arr("e", (N, C)) / Arr("S", (N, 1))
    return MatrixLayer("softmax", "Softmax over each row", "Softmax", {"x": (N, C)}, {},
                       [("e", "exp", e), ("S", "sum over a row", S), ("out", "divide", out)],
                       rewrite={"e": Arr("out", (N, C)) * Arr("S", (N, 1))},
                       aliases={"y": "out"}, dims=(N, C))


def _softmax_with_loss():
    x, t = Arr("x", (N, C)), Arr("t", (N, C))
    e, S, r = Arr("e", (N, C)), Arr("S", (N, 1)), Arr("r", (N, 1))
    y, l, m = Arr("y", (N, C)), Arr("l", (N, C)), Arr("m", (N, C))
    s, z = Arr("s", (N, 1)), Arr("z", (N, 1))
    nodes = [("e", "exp", exp(x)), ("S", "+ (sum of the exp nodes)", sum_(e, axis=1, keepdims=True)),
             ("r", "/ (reciprocal)", 1 / S), ("y", "× (exp times 1/S)", e * r),
             ("l", "log", log(y)), ("m", "× t_k", t * l), ("s", "+ (sum over k)", sum_(m, axis=1, keepdims=True)),
             ("z", "× (−1)", -s), ("L", "mean over the batch", mean(z))]
    return MatrixLayer(
        "softmax_with_loss", "Softmax with cross-entropy loss (mean over the batch)", "SoftmaxWithLoss",
        {"x": (N, C)}, {"t": (N, C)}, nodes,
        rewrite={"e": y * S, "r": 1 / S},
        rules=(Rule("t", 1, 1, "assumption", "each row of t sums to 1 (one-hot labels): Σ_k t_k = 1"),),
        aliases={"out": "y"},
        notes=("L = −(1/N) Σ_n Σ_k t[n,k]·log y[n,k]; dout is the scalar upstream gradient "
               "(1 when L is the final loss)",
               "code also accepts label indices t (shape (N,)), read as one-hot rows"), dims=(N, C))


def _mse():
    x, t = Arr("x", (N, D)), Arr("t", (N, D))
    d = Arr("d", (N, D))
    return MatrixLayer("mse", "Mean squared error: L = (1/(2N))·Σ (x − t)²", "MSE",
                       {"x": (N, D)}, {"t": (N, D)},
                       [("d", "subtract", x - t), ("L", "square, sum, / 2N", sum_(d ** 2) / (2 * N))],
                       rewrite={"d": x - t},
                       notes=("normalisation: half the sum of squares, averaged over the batch "
                              "(the book's 0.5·Σ(y − t)² per example, / N like its cross-entropy)",),
                       dims=(N, D))


def _norm(name, title, cls, axis, stat_shape):
    x, gamma, beta, eps = Arr("x", (N, D)), Arr("gamma", (D,)), Arr("beta", (D,)), Arr("eps")
    mu, xc, var = Arr("mu", stat_shape), Arr("xc", (N, D)), Arr("var", stat_shape)
    std, xn = Arr("std", stat_shape), Arr("xn", (N, D))
    nodes = [("mu", "mean", mean(x, axis=axis, keepdims=True)), ("xc", "subtract", x - mu),
             ("var", "square, mean", mean(xc ** 2, axis=axis, keepdims=True)),
             ("std", "sqrt(· + eps)", sqrt(var + eps)), ("xn", "divide", xc / std),
             ("out", "scale and shift", gamma * xn + beta)]
    which = "each feature over the batch (axis 0)" if axis == 0 else "each row over its features (axis 1)"
    return MatrixLayer(name, title, cls, {"x": (N, D), "gamma": (D,), "beta": (D,)}, {"eps": ()},
                       nodes, rewrite={"xc": xn * std},
                       rules=(Rule("xn", axis, 0, "fact", f"x̂ has mean 0 over {which}: Σ x̂ = 0"),),
                       notes=(f"statistics of {which}; std = sqrt(var + eps), "
                              "the book's eps = 1e-6 in code",), dims=(N, D))


def _dropout():
    x, mask = Arr("x", (N, D)), Arr("mask", (N, D))
    return MatrixLayer("dropout", "Dropout (training): out = x ⊙ mask", "Dropout",
                       {"x": (N, D)}, {"mask": (N, D)}, [("out", "multiply by the mask", x * mask)],
                       notes=("mask is cached from forward (1 keeps a unit, 0 drops it); "
                              "at test time out = x·(1 − ratio)",), dims=(N, D))


_BUILDERS = {
    "affine": _affine, "softmax": _softmax, "softmax_with_loss": _softmax_with_loss, "mse": _mse,
    "batchnorm": lambda: _norm("batchnorm", "Batch normalization (training mode, per feature)",
                               "BatchNormalization", 0, (1, D)),
    "layernorm": lambda: _norm("layernorm", "Layer normalization (per row)", "LayerNorm", 1, (N, 1)),
    "dropout": _dropout,
}
LAYERS = tuple(_BUILDERS)


def get(name: str) -> MatrixLayer:
    if name not in _BUILDERS:
        hint = difflib.get_close_matches(name, LAYERS, n=3)
        raise UnknownLayerError(f"unknown matrix layer {name!r}"
                                + (f"; did you mean: {', '.join(hint)}?" if hint else
                                   f" (known: {', '.join(LAYERS)})"))
    return _BUILDERS[name]()


SYMBOLS = {"N": N, "D": D, "M": M, "C": C}
_ = sp
