"""Layers with several outputs (LSTM's h_next and c_next): one upstream gradient each.

A forward that returns ``h_next, c_next`` has the value ``Outputs(h_next, c_next)``: the
outputs stacked along a new leading axis (they have one shape), so the layer stays one
value for the graph, the prover and the code generator. Its upstream gradient is
``Outputs(dh_next, dc_next)`` — one array per output, named ``d<output>`` — and the
vector-Jacobian product of ``Outputs`` to its k-th operand is ``Part(G, k)``, which for
that seed is the k-th upstream array itself: the walkthrough starts with
∂L/∂h_next = dh_next and ∂L/∂c_next = dc_next, and L = Σ dh_next·h_next + Σ dc_next·c_next
is what every result is proven against.

>>> from derive.tensor import Arr, dims, shape_of
>>> N, H = dims("N H")
>>> h, c = Arr("h", (N, H)), Arr("c", (N, H))
>>> shape_of(Outputs(h, c)), Part(Outputs(h, c), 1)
((2, N, H), c)
"""
from __future__ import annotations

import sympy as sp

from .errors import ShapeError
from .tensor import Structural, shape_of, show_shape

__all__ = ["Outputs", "Part", "vjp_outputs"]


class Outputs(Structural):
    """The outputs of a layer, stacked along a new axis 0 (``np.stack``)."""

    @classmethod
    def eval(cls, *values):
        shapes = {shape_of(v) for v in values}
        if len(values) < 2:
            raise ShapeError("a layer with several outputs returns at least two values")
        if len(shapes) != 1:
            raise ShapeError("the outputs of a layer must have one shape, got "
                             + ", ".join(show_shape(shape_of(v)) for v in values))
        return None

    def _eval_is_nonnegative(self):
        return None

    _eval_is_positive = _eval_is_nonnegative

    def shape(self):
        return (sp.Integer(len(self.args)),) + shape_of(self.args[0])


class Part(Structural):
    """Output ``k`` of stacked outputs (args (a, k)): ``a[k]``."""

    nargs = 2

    @classmethod
    def eval(cls, a, k):
        if isinstance(a, Outputs):
            return a.args[int(k)]
        return None

    def _eval_is_nonnegative(self):
        return None

    _eval_is_positive = _eval_is_nonnegative

    def shape(self):
        return shape_of(self.args[0])[1:]


def vjp_outputs(v, k, G):
    return Part(G, sp.Integer(k))


def element_outputs(e, idx, element):
    o, rest = idx[0], tuple(idx[1:])
    if getattr(o, "is_Integer", False):
        return element(e.args[int(o)], rest)
    return sp.Add(*[sp.KroneckerDelta(o, k) * element(v, rest) for k, v in enumerate(e.args)])


def element_part(e, idx, element):
    return element(e.args[0], (e.args[1],) + tuple(idx))


def evaluate_np(e, evaluate, env):
    import numpy as np
    if isinstance(e, Outputs):
        return np.stack([np.asarray(evaluate(v, env)) for v in e.args])
    return np.asarray(evaluate(e.args[0], env))[int(e.args[1])]
