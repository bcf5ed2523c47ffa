"""Gather and scatter-add: an embedding's row lookup ``W[idx]`` and its gradient.

``Gather(W, idx)`` is NumPy's ``W[idx]`` for an integer index array ``idx`` (a layer
argument of role ``index``): element ``[n, ..., d]`` is ``W[idx[n, ...], d]``. Its
vector-Jacobian product is ``ScatterAdd(G, idx, W)``: an array of W's shape,
zero except that each row ``G[n, ...]`` is added at row ``idx[n, ...]`` — so repeated
indices accumulate (``np.add.at``), which is what the book's Embedding does.

In index form the scatter is ``Σ_n δ(idx[n], v)·G[n, d]``: the Kronecker delta has an
array element as an argument, so it is never contracted, and SymPy's derivative of
``Σ G·W[idx[n], d]`` with respect to ``W[v, d]`` reaches the same canonical form —
the proof for every size and every index array.

>>> from derive.tensor import Arr, dims, shape_of
>>> N, V, D = dims("N V D")
>>> W, idx = Arr("W", (V, D)), Arr("idx", (N,), integer=True)
>>> shape_of(Gather(W, idx)), shape_of(ScatterAdd(Arr("G", (N, D)), idx, W))
((N, D), (V, D))
"""
from __future__ import annotations

import sympy as sp

from .errors import ShapeError
from .tensor import Structural, shape_of, show_shape

__all__ = ["Gather", "ScatterAdd"]


class Gather(Structural):
    """``W[idx]``: rows of ``W`` picked by the integer array ``idx`` (args (W, idx))."""

    nargs = 2

    @classmethod
    def eval(cls, W, idx):
        if not shape_of(W):
            raise ShapeError("W[idx] needs an array W with at least one axis")
        return None

    def _eval_is_nonnegative(self):
        return self.args[0].is_nonnegative

    def _eval_is_positive(self):
        return self.args[0].is_positive

    def shape(self):
        return shape_of(self.args[1]) + shape_of(self.args[0])[1:]


class ScatterAdd(Structural):
    """Rows of ``G`` added at rows ``idx`` of a zero array of W's shape (args (G, idx, W);
    W's values are not read, only its shape: the generated code needs no size names)."""

    nargs = 3

    @classmethod
    def eval(cls, G, idx, W):
        want = shape_of(idx) + shape_of(W)[1:]
        if shape_of(G) != want:
            raise ShapeError(f"scatter-add of shape {show_shape(shape_of(G))} at indices of "
                             f"shape {show_shape(shape_of(idx))}: expected {show_shape(want)}")
        return None

    def _eval_is_nonnegative(self):
        return self.args[0].is_nonnegative

    def _eval_is_positive(self):      # zero rows where no index points
        return None

    def shape(self):
        return shape_of(self.args[2])


def vjp_gather(v, k, G):
    """The gradient ``W[idx]`` passes to W: the scatter-add of G at rows idx."""
    W, idx = v.args
    return ScatterAdd(G, idx, W)


def element_gather(e, idx):
    from .indexform import element
    W, rows = e.args
    lead = len(shape_of(rows))
    return element(W, (element(rows, tuple(idx[:lead])),) + tuple(idx[lead:]))


def element_scatter(e, idx):
    from .indexform import element, fresh
    G, rows = e.args[:2]
    shape = shape_of(rows)
    ns = tuple(fresh("n") for _ in shape)
    body = sp.KroneckerDelta(element(rows, ns), idx[0]) * element(G, ns + tuple(idx[1:]))
    return sp.Sum(body, *[(n, 0, s - 1) for n, s in zip(ns, shape)])


def evaluate_np(e, evaluate, env):
    """W[idx] by NumPy's indexing (the row numbers checked), and the scatter-add by the
    generated code's own helper (np.add.at: repeated rows accumulate).

    >>> import numpy as np
    >>> from derive.evaluate import evaluate
    >>> from derive.tensor import Arr, dims
    >>> N, V, D = dims("N V D")
    >>> G, idx, W = Arr("G", (N, D)), Arr("idx", (N,), integer=True), Arr("W", (V, D))
    >>> env = {"G": np.ones((3, 2)), "idx": np.array([1.0, 0.0, 1.0]), "W": np.zeros((2, 2)),
    ...        "N": 3, "V": 2, "D": 2}
    >>> evaluate_np(ScatterAdd(G, idx, W), evaluate, env).tolist()
    [[1.0, 1.0], [2.0, 2.0]]
    """
    import numpy as np

    from .codegen.runtime import _scatter_add
    from .evaluate import concrete
    rows = np.asarray(evaluate(e.args[1], env))
    if isinstance(e, ScatterAdd):
        return _scatter_add(evaluate(e.args[0], env), rows.astype(np.intp),
                            concrete(shape_of(e.args[2]), env))
    W = evaluate(e.args[0], env)
    if not np.all(rows == np.round(rows)) or rows.min(initial=0) < 0 or \
            rows.max(initial=0) >= np.shape(W)[0]:
        raise ShapeError("an index array holds values that are not row numbers of W")
    return np.asarray(W)[rows.astype(np.intp)]
