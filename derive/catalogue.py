"""The layer catalogue: each layer is a declarative spec (forward formula, inputs, params).

>>> get("sigmoid").forward
1/(1 + exp(-x))
>>> get("sigmod")
Traceback (most recent call last):
...
derive.errors.UnknownLayerError: unknown layer 'sigmod'; did you mean: sigmoid?
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import sympy as sp

from .errors import UnknownLayerError

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
x_pos = sp.Symbol("x", positive=True)
alpha = sp.Symbol("alpha", positive=True)


@dataclass(frozen=True)
class LayerSpec:
    """A layer: forward formula over its inputs; params are constants (not differentiated)."""

    name: str
    forward: sp.Expr
    inputs: tuple
    params: tuple = ()
    defaults: dict = field(default_factory=dict)   # param name -> default value for code
    title: str = ""
    class_name: str = ""
    notes: tuple = ()

    @property
    def input_names(self) -> tuple:
        return tuple(s.name for s in self.inputs)

    @property
    def param_names(self) -> tuple:
        return tuple(s.name for s in self.params)

    def symbols(self) -> dict:
        """Names a user may write about this layer: inputs, params, dout, out."""
        from .steps import dout, out
        names = {s.name: s for s in (*self.inputs, *self.params)}
        names.update(dout=dout, out=out)
        return names


def _camel(name: str) -> str:
    special = {"mul": "MulLayer", "add": "AddLayer"}
    return special.get(name, "".join(w.capitalize() for w in name.split("_")))


def _spec(name, forward, inputs=(x,), params=(), defaults=None, title="", notes=()):
    return LayerSpec(name, forward, tuple(inputs), tuple(params), dict(defaults or {}),
                     title or name, _camel(name), tuple(notes))


_GELU_C = sp.sqrt(2 / sp.pi)

LAYERS: dict[str, LayerSpec] = {s.name: s for s in [
    _spec("mul", x * y, (x, y), title="Multiply (MulLayer)",
          notes=("the inputs swap: dL/dx = dout·y, dL/dy = dout·x",)),
    _spec("add", x + y, (x, y), title="Add (AddLayer)", notes=("the gradient passes unchanged",)),
    _spec("relu", sp.Max(0, x), title="ReLU",
          notes=("ReLU is not differentiable at x = 0; as in the book, the gradient there is 0",)),
    _spec("sigmoid", 1 / (1 + sp.exp(-x)), title="Sigmoid"),
    _spec("tanh", sp.tanh(x), title="Tanh"),
    _spec("exp", sp.exp(x), title="Exponential"),
    _spec("log", sp.log(x_pos), (x_pos,), title="Natural logarithm",
          notes=("defined for x > 0",)),
    _spec("softplus", sp.log(1 + sp.exp(x)), title="Softplus"),
    _spec("leaky_relu", sp.Piecewise((x, x > 0), (alpha * x, True)), params=(alpha,),
          defaults={"alpha": 0.01}, title="Leaky ReLU",
          notes=("at x = 0 the gradient is alpha (the x > 0 branch is strict, as ReLU's)",)),
    _spec("elu", sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)), params=(alpha,),
          defaults={"alpha": 1.0}, title="ELU",
          notes=("at x = 0 the gradient is alpha (the x > 0 branch is strict)",)),
    _spec("silu", x / (1 + sp.exp(-x)), title="SiLU (swish)"),
    _spec("gelu", x * (1 + sp.erf(x / sp.sqrt(2))) / 2, title="GELU (erf form)"),
    _spec("gelu_tanh", x * (1 + sp.tanh(_GELU_C * (x + sp.Rational("0.044715") * x**3))) / 2,
          title="GELU (tanh approximation)"),
    _spec("square", x**2, title="Square"),
]}


def names() -> list:
    return list(LAYERS)


def matrix_names() -> list:
    """The matrix layers (:mod:`derive.matrix`), derived by ``derive_matrix``."""
    from .matrix import LAYERS as MATRIX
    return list(MATRIX)


def all_names() -> list:
    """Every layer name: the elementwise catalogue, then the matrix layers."""
    return names() + [n for n in matrix_names() if n not in LAYERS]


def is_matrix(name) -> bool:
    return isinstance(name, str) and name not in LAYERS and name in matrix_names()


def get(name: str) -> LayerSpec:
    """The spec of an elementwise catalogue layer; an unknown name suggests close matches
    from both catalogues (elementwise and matrix)."""
    try:
        return LAYERS[name]
    except KeyError:
        if is_matrix(name):
            raise UnknownLayerError(f"{name!r} is a matrix layer, not an elementwise one "
                                    "(derive show/check/docs handle it)") from None
        known = all_names()
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else f"; known: {', '.join(known)}"
        raise UnknownLayerError(f"unknown layer {name!r}{hint}") from None


def from_expr(forward: sp.Expr, inputs=None, name: str = "expr") -> LayerSpec:
    """A spec for a custom formula; inputs default to its free symbols, sorted by name."""
    if inputs is None:
        inputs = sorted(forward.free_symbols, key=lambda s: s.name)
    return LayerSpec(name, forward, tuple(inputs), (), {}, "custom formula", "CustomLayer")
