"""``CASES``: one :class:`~numeric.verify.LayerCase` per catalogue layer, from the references.

The expected forward and backward come from :mod:`numeric.reference` here; the
symbolic side can build the same cases with generated backward functions
instead (``dataclasses.replace(CASES[name], backward=generated)``).

>>> CASES["log"].edge_values().tolist()
[1e-08, 1.0, 50.0, 1000.0]
>>> CASES["relu"].kinks
(0.0,)
"""
from __future__ import annotations

from typing import Callable

from numeric.reference import PARAMS, REFERENCE
from numeric.verify import DEFAULT_EDGES, LayerCase

__all__ = ["CASES", "case_from_class", "reference_forward", "reference_backward"]


def reference_forward(cls: type, params: dict) -> Callable:
    """forward(*inputs) -> out, through a fresh instance of ``cls(**params)``."""
    def forward(*inputs):
        return cls(**params).forward(*inputs)
    return forward


def reference_backward(cls: type, params: dict) -> Callable:
    """backward(dout, *inputs) -> tuple of gradients in input order."""
    def backward(dout, *inputs):
        layer = cls(**params)
        layer.forward(*inputs)
        grads = layer.backward(dout)
        return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    return backward


def case_from_class(name: str, cls: type, inputs: tuple[str, ...] = ("x",), **options
                    ) -> LayerCase:
    """A LayerCase whose expected answers are those of the hand-coded ``cls``."""
    params = dict(options.pop("params", PARAMS.get(name, {})))
    return LayerCase(name=name, inputs=inputs, forward=reference_forward(cls, params),
                     backward=reference_backward(cls, params), params=params, **options)


# exp(x) is inf above ~709.78, which is the true value: keep its edges below that.
_EXP_EDGES = tuple(700.0 if e == 1000.0 else e for e in DEFAULT_EDGES)

_OPTIONS: dict[str, dict] = {
    "mul": {"inputs": ("x", "y")},
    "add": {"inputs": ("x", "y")},
    "relu": {"kinks": (0.0,)},
    "leaky_relu": {"kinks": (0.0,)},
    "elu": {"kinks": (0.0,)},
    "exp": {"edges": _EXP_EDGES},
    "log": {"domain": (0.1, 5.0)},
}

CASES: dict[str, LayerCase] = {
    name: case_from_class(name, cls, **_OPTIONS.get(name, {}))
    for name, cls in REFERENCE.items()
}
