"""Where a layer class keeps its weight gradients: volume 1's attributes or volume 2's lists.

* **book1** (*Deep Learning from Scratch*, volume 1): after ``backward`` the gradient of
  weight ``W`` is the attribute ``layer.dW``.
* **book2** (volume 2): the constructor keeps the weights in ``layer.params`` and zero
  arrays of their shapes in ``layer.grads``; ``backward`` writes into those arrays in
  place (``self.grads[0][...] = dW``). A model collects them once
  (``model.grads += layer.grads``) and its optimizer reads them there, so a backward that
  *replaces* the list or an array in it (``self.grads = [dW, db]``) trains nothing: the
  verifier reports that as a failure (:attr:`numeric.report.Report.replaced_grads`).

:func:`detect` decides which, from the constructed layer: ``params`` and ``grads`` lists
of the weights' count mean book2, otherwise book1. Each constructor weight is matched to
its place in ``params`` by identity (the array passed in is kept), else by shape (one
place of that shape left), else by order.

>>> import numpy as np
>>> class Vol2:
...     def __init__(self, W, b):
...         self.params, self.grads = [W, b], [np.zeros_like(W), np.zeros_like(b)]
>>> W, b = np.ones((3, 2)), np.ones(2)
>>> api = detect(Vol2(W, b), ("W", "b"), [W, b])
>>> api.name, api.order, api.matched
('book2', (0, 1), 'identity')
>>> api.where(1)
'self.grads[1]'
>>> detect(object(), ("W",), [W]).where(0)
'self.dW'
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numeric.watch import UserError, as_array

__all__ = ["GradAPI", "detect", "collect", "DESCRIBE"]

DESCRIBE = {"book1": "volume 1 (weight gradients as attributes d<name>)",
            "book2": "volume 2 (params/grads lists, written in place)"}


def _get(layer, name):
    """``layer.name``, or None when it is missing or its property raises (user code)."""
    try:
        return getattr(layer, name, None)
    except Exception:  # noqa: BLE001 - the class under test may raise anything
        return None


def _has(layer, name) -> bool:
    try:
        return hasattr(layer, name)
    except Exception:  # noqa: BLE001
        return False


class APIError(Exception):
    """The class has params/grads lists that cannot hold the case's weights."""


@dataclass
class GradAPI:
    """How one layer object keeps its weight gradients (see the module docstring)."""

    name: str = "book1"
    names: tuple = ()          # the case's weight names, in constructor order
    order: tuple = ()          # book2: each weight's index in params/grads
    matched: str = ""          # book2: how params were matched: identity, shape or order
    held: tuple = ()           # book2: the grads list and its arrays as constructed

    def where(self, i: int) -> str:
        return f"self.grads[{self.order[i]}]" if self.name == "book2" else f"self.d{self.names[i]}"

    def gradient(self, layer, i: int):
        """The gradient of weight ``i`` as the layer holds it now (None when missing)."""
        if self.name == "book1":
            return _get(layer, f"d{self.names[i]}")
        grads = _get(layer, "grads")
        try:
            return grads[self.order[i]]
        except Exception:  # noqa: BLE001 - a user's list-like may raise anything
            return None

    def replaced(self, layer) -> str:
        """How the grads list, or an array in it, is not the one constructed ('' if it is)."""
        if self.name != "book2":
            return ""
        lst, arrays = self.held
        now = _get(layer, "grads")
        if now is not lst:
            return "self.grads is a new list after backward"
        if len(now) != len(arrays):
            return f"self.grads has {len(now)} entries after backward, {len(arrays)} before"
        new = [f"self.grads[{j}]" for j, (a, b) in enumerate(zip(now, arrays)) if a is not b]
        return f"{', '.join(new)} {'is a new array' if len(new) == 1 else 'are new arrays'}" \
            if new else ""

    def describe(self) -> str:
        text = DESCRIBE[self.name]
        if self.name == "book2" and self.names:
            text += f"; params matched to {', '.join(self.names)} by {self.matched}"
        return text


def _lists(layer):
    params, grads = _get(layer, "params"), _get(layer, "grads")
    if isinstance(params, (list, tuple)) and isinstance(grads, (list, tuple)):
        return params, grads
    return None


def detect(layer, names, weights) -> GradAPI:
    """The API of ``layer``, built from ``weights`` (named ``names``); raises
    :class:`APIError` when its lists are of the wrong length."""
    names = tuple(names)
    lists = _lists(layer)
    if lists is None:
        return GradAPI("book1", names)
    params, grads = lists
    if len(params) != len(names) or len(grads) != len(names):
        if names and all(_has(layer, f"d{n}") for n in names):
            return GradAPI("book1", names)
        raise APIError(f"self.params has {len(params)} and self.grads {len(grads)} entries, "
                       f"expected {len(names)} ({', '.join(names) or 'no weights'})")
    order = _match(params, weights)
    how = ("identity" if all(params[j] is w for j, w in zip(order[0], weights)) else order[1])
    return GradAPI("book2", names, tuple(order[0]), how, (grads, tuple(grads)))


def _match(params, weights) -> tuple:
    """(index in params of each weight, 'shape' or 'order')."""
    free = list(range(len(params)))
    chosen: list = [None] * len(weights)
    for i, w in enumerate(weights):          # the array passed in, kept as it is
        for j in free:
            if params[j] is w:
                chosen[i] = j
                free.remove(j)
                break
    how = "identity"
    for i, w in enumerate(weights):          # copied or cast: the one place of its shape
        if chosen[i] is None:
            same = [j for j in free if np.shape(params[j]) == np.shape(w)]
            if len(same) == 1 and sum(np.shape(v) == np.shape(w) for k, v in
                                      enumerate(weights) if chosen[k] is None) == 1:
                chosen[i] = same[0]
                free.remove(same[0])
                how = "shape"
    if any(c is None for c in chosen):       # else the constructor's order
        return list(range(len(weights))), "order"
    return chosen, how


def collect(phase, raw, layer, case, inputs, weights, api=None) -> list:
    """[(name, array)]: what ``backward`` returned (``raw``) for the case's differentiated
    inputs, then the weight gradients where ``api`` reads them (copies: volume 2 writes
    the next backward into the same arrays); a :class:`UserError` says what is wrong."""
    names = case.differentiated
    if len(names) == 1 and not isinstance(raw, (tuple, list)):
        raw = (raw,)
    elif not names and raw is None:          # only index inputs: the book returns None
        raw = ()
    if not isinstance(raw, (tuple, list)) or len(raw) != len(names):
        want = ", ".join(f"d{n}" for n in names)
        got = f"{len(raw)} values" if isinstance(raw, (tuple, list)) else \
            f"a {type(raw).__name__}"
        why = ""
        if case.weights and isinstance(raw, (tuple, list)):
            why = (f": the book's {case.class_name} returns {want} and stores "
                   + ", ".join(f"d{w}" for w in case.weights) + " as attributes (volume 2: "
                   "in self.grads)")
        expect = f"{len(names)} ({want}){why}" if names else \
            f"None ({' and '.join(case.inputs)}: row numbers, no gradient)"
        raise UserError(f"{phase} returned {got}, expected {expect}")
    out = []
    for name, g, x in zip(names, raw, inputs):
        a = as_array(phase, g, f"d{name}")
        if a.shape != x.shape:
            raise UserError(f"d{name} has shape {a.shape} but {name} has shape {x.shape}")
        out.append((f"d{name}", a))
    for i, (name, w) in enumerate(zip(case.weights, weights)):
        where = api.where(i)
        a = as_array(phase, api.gradient(layer, i), where)
        if a.shape != w.shape:
            raise UserError(f"{where} has shape {a.shape}, expected {w.shape} (like {name})")
        out.append((f"d{name}", a.copy()))
    return out
