"""Slices along one axis, and their gradients: the packed gates of LSTM and GRU.

``Slice(a, axis, start, stop)`` is NumPy's ``a[:, start:stop]`` on one axis (``start``
and ``stop`` may be symbolic: ``A[:, H:2*H]`` of an (N, 4H) array). Its vector-Jacobian
product is ``Place(G, axis, start, stop, a)``: zeros of a's shape with G written into
``[start, stop)`` along the axis. The gradients of slices that tile an axis add up to
one ``Concat`` (the book's ``np.hstack((df, dg, di, do))``).

In index form a slice reads ``a[n, j + start]``; a place is ``G[n, q − start]`` gated by
``[0 ≤ q − start < stop − start]``; SymPy's derivative of ``Σ G·a[n, j + start]`` with
respect to ``a[p, q]`` contracts ``δ(j + start, q)`` to the same gated term
(:func:`derive.index._contractible`), so each step is proven for every size.

>>> from derive.tensor import Arr, dims, shape_of
>>> N, H = dims("N H")
>>> A = Arr("A", (N, 4 * H))
>>> shape_of(Slice(A, 1, H, 2 * H)), shape_of(Place(Arr("G", (N, H)), 1, H, 2 * H, A))
((N, H), (N, 4*H))
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .errors import ShapeError
from .tensor import Structural, shape_of, show_shape

__all__ = ["Slice", "Place", "Concat", "concat_of_places"]


def _within(start, stop, size) -> None:
    for bad, what in ((start < 0, "starts before 0"), (stop > size, f"ends after {size}"),
                      (stop <= start, "is empty")):
        if bad is sp.true or bad is True:
            raise ShapeError(f"the slice [{start}:{stop}] {what}")


class Slice(Structural):
    """``a[..., start:stop, ...]`` along ``axis`` (args (a, axis, start, stop))."""

    nargs = 4

    @classmethod
    def eval(cls, a, axis, start, stop):
        shape = shape_of(a)
        if not (axis.is_Integer and 0 <= axis < len(shape)):
            raise ShapeError(f"axis {axis} is out of range for shape {show_shape(shape)}")
        _within(start, stop, shape[int(axis)])
        if start == 0 and stop == shape[int(axis)]:
            return a
        return None

    @property
    def axis(self) -> int:
        return int(self.args[1])

    def shape(self):
        s = list(shape_of(self.args[0]))
        s[self.axis] = self.args[3] - self.args[2]
        return tuple(s)


class Place(Structural):
    """Zeros shaped like ``like`` with ``G`` at ``[start, stop)`` along ``axis``
    (args (G, axis, start, stop, like); like's values are not read)."""

    nargs = 5

    def _eval_is_positive(self):
        return None

    @property
    def axis(self) -> int:
        return int(self.args[1])

    def shape(self):
        return shape_of(self.args[4])


class Concat(Structural):
    """``np.concatenate([a, b, ...], axis)`` (args (axis, a, b, ...))."""

    def _eval_is_nonnegative(self):
        return sp.And(*[a.is_nonnegative for a in self.args[1:]]) if all(
            a.is_nonnegative is not None for a in self.args[1:]) else None

    def _eval_is_positive(self):
        return None

    @property
    def axis(self) -> int:
        return int(self.args[0])

    @property
    def parts(self) -> tuple:
        return self.args[1:]

    def shape(self):
        first = list(shape_of(self.parts[0]))
        first[self.axis] = sp.Add(*[shape_of(p)[self.axis] for p in self.parts])
        return tuple(first)


def concat_of_places(e):
    """A sum of places that tile their axis, in order, as one Concat (else ``e``).

    >>> from derive.tensor import Arr, dims
    >>> N, H = dims("N H"); A = Arr("A", (N, 2 * H))
    >>> f, g = Arr("f", (N, H)), Arr("g", (N, H))
    >>> concat_of_places(Place(g, 1, H, 2 * H, A) + Place(f, 1, 0, H, A))
    Concat(1, f, g)
    """
    if not e.is_Add or not all(isinstance(t, Place) for t in e.args):
        return e
    axis, like = e.args[0].axis, e.args[0].args[4]
    if any(t.axis != axis or shape_of(t.args[4]) != shape_of(like) for t in e.args):
        return e
    parts = sorted(e.args, key=lambda t: sp.default_sort_key(t.args[2]))
    ordered, at = [], sp.Integer(0)
    remaining = list(e.args)
    while remaining:
        nxt = [t for t in remaining if sp.simplify(t.args[2] - at) == 0]
        if len(nxt) != 1:
            return e
        ordered.append(nxt[0])
        remaining.remove(nxt[0])
        at = nxt[0].args[3]
    del parts
    if sp.simplify(at - shape_of(like)[axis]) != 0:
        return e
    return Concat(axis, *[t.args[0] for t in ordered])


def as_places(e):
    """``e`` with each Concat written as the sum of its parts placed at their offsets;
    the identity is checked in index form once per layout, the parts held opaque."""
    def expand(c):
        _concat_lemma(tuple(shape_of(p) for p in c.parts), c.axis)
        return _placed(c)
    e = e.replace(lambda a: isinstance(a, Concat), expand)
    return e.replace(lambda a: isinstance(a, Place),       # like only lends its shape
                     lambda a: Place(*a.args[:4], _LIKE(a)))


def _LIKE(c):
    from .tensor import Arr
    return Arr("_concat", shape_of(c))


def _placed(c):
    """The sum of a Concat's parts, each placed at its offset along the axis."""
    at, terms = sp.Integer(0), []
    for p in c.parts:
        size = shape_of(p)[c.axis]
        terms.append(Place(p, sp.Integer(c.axis), at, at + size, _LIKE(c)))
        at += size
    return sp.Add(*terms)


@lru_cache(maxsize=256)
def _concat_lemma(shapes, axis) -> None:
    from . import index
    from .errors import ProofError
    from .indexform import element, free_indices
    from .tensor import Arr
    parts = [Arr(f"_P{k}", s) for k, s in enumerate(shapes)]
    c = Concat(sp.Integer(axis), *parts)
    idx = free_indices(shape_of(c))
    if index.difference(element(c, idx), element(_placed(c), idx)):
        raise ProofError("np.concatenate is not the sum of its placed parts")


# ---- the engine's tables -------------------------------------------------------------

def vjp_slice(v, k, G):
    a, axis, start, stop = v.args
    return Place(G, axis, start, stop, a)


def element_slice(e, idx, element):
    """``a[n, j + start]``, with the (true) gate ``[0 ≤ j < stop − start]``: it carries the
    slice's extent into a derivative, where δ(j, q) meets the wider axis of a."""
    from .windows import InRange
    a, axis, start, stop = e.args
    idx = list(idx)
    j = idx[int(axis)]
    idx[int(axis)] = j + start
    return element(a, tuple(idx)) * InRange(j, stop - start)


def element_place(e, idx, element):
    from .windows import InRange
    G, axis, start, stop, _ = e.args
    idx = list(idx)
    at = idx[int(axis)] - start
    idx[int(axis)] = at
    return element(G, tuple(idx)) * InRange(at, stop - start)


def element_concat(e, idx, element):
    from .windows import InRange
    total, at = sp.Integer(0), sp.Integer(0)
    for part in e.parts:
        size = shape_of(part)[e.axis]
        j = list(idx)
        j[e.axis] = idx[e.axis] - at
        total += element(part, tuple(j)) * InRange(idx[e.axis] - at, size)
        at += size
    return total


def evaluate_np(e, evaluate, env):
    import numpy as np

    from .evaluate import concrete
    if isinstance(e, Slice):
        a = np.asarray(evaluate(e.args[0], env))
        lo, hi = concrete(e.args[2:4], env)
        return np.take(a, np.arange(lo, hi), axis=e.axis)
    if isinstance(e, Place):            # the generated code's own helper
        from .codegen.runtime import _place
        lo, hi = concrete(e.args[2:4], env)
        return _place(np.asarray(evaluate(e.args[0], env), dtype=np.float64),
                      concrete(shape_of(e.args[4]), env), e.axis, lo, hi)
    return np.concatenate([np.asarray(evaluate(p, env)) for p in e.parts], axis=e.axis)
