"""A layer as the engine sees it: the forward program, typed (names, shapes, roles).

Every layer reaches the engine as a :class:`LayerSpec`, whether it comes from the
catalogue or from a user's ``--expr``/``--file`` (:mod:`derive.program` builds it from
the text). The roles are the book's:

* **inputs** — the forward's arguments, differentiated; ``backward(dout)`` returns their
  gradients (a tuple in input order when there are several);
* **weights** — differentiated parameters the class takes in its constructor
  (``Affine(W, b)``) and whose gradients it stores as ``dW``, ``db``;
* **consts** — data that is not differentiated (targets ``t``, masks): ``forward`` takes
  them after the inputs (``SoftmaxWithLoss.forward(x, t)``), a value makes a default;
* **params** — hyper-parameters, not differentiated (``alpha``, ``eps``): constructor
  keywords with defaults (``LeakyRelu(alpha=0.01)``).

>>> from derive.program import layer_from_text
>>> spec = layer_from_text("ms = np.mean(x**2, axis=1, keepdims=True); out = x * g / np.sqrt(ms + eps)",
...                        shapes={"x": "N,D", "g": "D"}, weights=["g"], consts={"eps": 1e-6})
>>> spec.input_names, spec.weight_names, spec.const_names, spec.defaults
(('x',), ('g',), ('eps',), {'eps': 1e-06})
>>> [name for name, _ in spec.statements], spec.out_shape
(['ms'], (N, D))
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .tensor import Arr, array, shape_of, show_shape

__all__ = ["LayerSpec", "camel"]


def camel(name: str) -> str:
    """A class name for a layer name, the book's for mul and add."""
    special = {"mul": "MulLayer", "add": "AddLayer"}
    return special.get(name, "".join(w[:1].upper() + w[1:] for w in name.split("_")) or "Layer")


@dataclass(frozen=True)
class LayerSpec:
    """A typed forward program: the output in the layer's names, and each name's role."""

    name: str
    forward: sp.Expr                       # the output, statements substituted
    inputs: tuple = ()                     # differentiated forward inputs (Symbols / Arr)
    params: tuple = ()                     # hyper-parameters (constructor keywords)
    defaults: dict = field(default_factory=dict)   # param/const name -> default value
    title: str = ""
    class_name: str = ""
    notes: tuple = ()
    weights: tuple = ()                    # differentiated constructor arrays
    consts: tuple = ()                     # not differentiated forward data
    statements: tuple = ()                 # ((name, value), ...) named intermediates
    assume: tuple = ()                     # ((array, axis, value, text), ...) stated facts
    features: dict = field(default_factory=dict)   # class features (flatten, running, ...)
    aliases: dict = field(default_factory=dict)    # extra names for cached values (y -> out)
    source: str = ""                       # the text the layer was read from
    program: tuple = ()                    # ((name symbol, value in earlier names), ...)
    output: sp.Expr | None = None          # the output in the statements' names

    # -- names ------------------------------------------------------------------------
    @property
    def differentiable(self) -> tuple:
        return tuple(self.inputs) + tuple(self.weights)

    @property
    def input_names(self) -> tuple:
        return tuple(s.name for s in self.inputs)

    @property
    def weight_names(self) -> tuple:
        return tuple(s.name for s in self.weights)

    @property
    def const_names(self) -> tuple:
        return tuple(s.name for s in self.consts)

    @property
    def param_names(self) -> tuple:
        return tuple(s.name for s in self.params)

    @property
    def out_shape(self) -> tuple:
        return shape_of(self.forward)

    @property
    def is_loss(self) -> bool:
        """A scalar output of array inputs: the book's loss layers, ``backward(dout=1)``."""
        return not self.out_shape and any(shape_of(s) for s in self.differentiable)

    @property
    def is_elementwise(self) -> bool:
        """Every value a scalar: the elementwise catalogue (code works on any shape)."""
        return not any(isinstance(s, Arr) for s in self.forward.free_symbols) and not self.weights

    @property
    def out(self) -> sp.Symbol:
        return array("out", self.out_shape)

    @property
    def output_in_names(self) -> sp.Expr:
        """The output written in the statements' names (``e/S``); the forward itself for a
        layer without statements."""
        return self.output if self.output is not None else self.forward

    @property
    def output_names(self) -> tuple:
        """The names of a layer's outputs when it has several (``("h_next", "c_next")``)."""
        return tuple(self.features.get("outputs", ()))

    @property
    def dout(self) -> sp.Expr:
        """The upstream gradient: ``dout``, or one array ``d<name>`` per output, stacked."""
        if self.output_names:
            from .outputs import Outputs
            return Outputs(*[array("d" + n, self.out_shape[1:]) for n in self.output_names])
        return array("dout", self.out_shape)

    def dims(self) -> tuple:
        found = []
        for s in (*self.differentiable, *self.consts, *self.params):
            for d in shape_of(s):
                for sym in sorted(d.free_symbols, key=lambda q: q.name):
                    if sym not in found:
                        found.append(sym)
        return tuple(found)

    def definitions(self) -> tuple:
        """((name symbol, value in earlier names), ...): the statements as the graph sees them."""
        return tuple(self.program)

    def named(self) -> dict:
        """name -> value of every cached value a gradient may read: statements and out (also
        under its aliases, ``y`` for a layer whose last statement is ``y = ...``)."""
        values = dict(self.statements)
        values["out"] = self.forward
        for alias, target in self.aliases.items():
            if target in values:
                values.setdefault(alias, values[target])
        return values

    def symbols(self) -> dict:
        """Every name a user may write about this layer (``derive check --backward``)."""
        names = {s.name: s for s in (*self.differentiable, *self.consts, *self.params)}
        names.update({d.name: d for d in self.dims()})
        for symbol, _ in self.program:
            names[symbol.name] = symbol
        if self.output_names:        # dh_next, dc_next: each output's upstream gradient
            names.update({d.name: d for d in self.dout.args})
            names.update(out=self.out)
        else:
            names.update(dout=self.dout, out=self.out)
        for alias, target in self.aliases.items():
            names.setdefault(alias, names[target])
        return names

    def describe(self) -> list:
        """One line per name: role and shape (for pages and ``derive list``)."""
        lines = []
        for role, group in (("input", self.inputs), ("weight", self.weights),
                            ("const", self.consts), ("param", self.params)):
            for s in group:
                shape = show_shape(shape_of(s)) if shape_of(s) else "scalar"
                default = f" = {self.defaults[s.name]}" if s.name in self.defaults else ""
                lines.append(f"{role} {s.name}: {shape}{default}")
        return lines


def from_expr(forward, inputs=None, name: str = "expr", params=(), defaults=None) -> LayerSpec:
    """A spec for a SymPy formula built in Python (inputs default to its free symbols by
    name); text from a user goes through :mod:`derive.program` instead.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> from_expr(sp.tanh(x)).input_names
    ('x',)
    """
    if inputs is None:
        inputs = sorted(forward.free_symbols - set(params), key=lambda s: s.name)
    return LayerSpec(name, forward, tuple(inputs), tuple(params), dict(defaults or {}),
                     "custom formula", camel(name))
