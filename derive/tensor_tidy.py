"""Matrix-form tidying: equal, cheaper spellings of a tensor gradient (each proven by the caller).

* a broadcast that NumPy's own broadcasting makes redundant is dropped
  (``np.broadcast_to(s, (N, C)) + dout/S`` is ``s + dout/S``);
* a factor that is constant along the summed axes leaves the sum
  (``Σ_j (c·A)`` is ``c·Σ_j A`` for ``c`` of shape (N, 1)), and a number enters it;
* the elementwise part is simplified with every structural value held as a number.

>>> from derive.render.printers import text
>>> from derive.tensor import Arr, AxisSum, BroadcastTo, dims
>>> N, C = dims("N C")
>>> s, S, dout = Arr("s", (N, 1)), Arr("S", (N, 1)), Arr("dout", (N, C))
>>> text(drop_broadcasts(BroadcastTo(s, N, C) + dout / S))
'dout/S + s'
>>> text(pull_out(AxisSum(dout / S, 1, 1)))
'np.sum(dout, axis=1, keepdims=True)/S'
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .slices import Place
from .tensor import (AxisMean, AxisSum, BroadcastTo, ExpandDims, Reshape, Structural,
                     Transposed, shape_of)

__all__ = ["drop_broadcasts", "fold_reshapes", "pull_out", "push_numbers_in", "tidy_forms"]


def _rebuild(e, f):
    if e.is_Atom or not e.args:
        return e
    return e.func(*[f(a) for a in e.args])


def drop_broadcasts(e):
    """Remove broadcasts whose operand NumPy broadcasts to the same shape anyway."""
    def walk(node):
        node = _rebuild(node, walk)
        if isinstance(node, Structural) or not (node.is_Add or node.is_Mul):
            return node
        shape = shape_of(node)
        args = list(node.args)
        for i, a in enumerate(args):
            if isinstance(a, BroadcastTo) or (isinstance(a, ExpandDims) and a.axes == tuple(
                    range(len(a.axes)))):      # new leading axes: NumPy adds them itself
                trial = args[:i] + [a.args[0]] + args[i + 1:]
                try:
                    if shape_of(node.func(*trial)) == shape:
                        args = trial
                except Exception:    # shapes that no longer broadcast: keep the broadcast
                    continue
        return node.func(*args)
    return walk(e)


def fold_reshapes(e):
    """A reshape that only drops the kept axes of a sum is the sum without keepdims:
    ``np.reshape(np.sum(a, axis=2, keepdims=True), (N, T))`` is ``np.sum(a, axis=2)``.

    >>> from derive.render.printers import text
    >>> from derive.tensor import Arr, AxisSum, Reshape, dims
    >>> N, T, H = dims("N T H")
    >>> text(fold_reshapes(Reshape(AxisSum(Arr("a", (N, T, H)), 1, 2), N, T)))
    'np.sum(a, axis=2)'
    """
    def walk(node):
        node = _rebuild(node, walk)
        if isinstance(node, Reshape) and isinstance(node.args[0], (AxisSum, AxisMean)):
            inner = node.args[0]
            if inner.keepdims:
                plain = type(inner)(inner.args[0], 0, *inner.axes)
                if shape_of(plain) == shape_of(node):
                    return plain
        return node
    return walk(e)


def _constant_along(factor, axes, full_rank) -> bool:
    s = shape_of(factor)
    lead = full_rank - len(s)
    return all(ax < lead or s[ax - lead] == 1 for ax in axes)


def pull_out(e):
    """Factors constant along the summed axes moved in front of the sum."""
    def walk(node):
        node = _rebuild(node, walk)
        if not isinstance(node, (AxisSum, AxisMean)) or not node.args[0].is_Mul:
            return node
        body, keep, axes = node.args[0], node.args[1], node.axes
        rank = len(shape_of(body))
        out, inside = [], []
        for f in body.args:
            ok = _constant_along(f, axes, rank) and (
                bool(keep) or len(shape_of(f)) <= rank - max(axes) - 1 or not shape_of(f))
            (out if ok else inside).append(f)
        if not out or not inside:
            return node
        return sp.Mul(*out) * type(node)(sp.Mul(*inside), keep, *node.args[2:])
    return walk(e)


def numbers_out(e):
    """A number leaves a linear structural value: ``expand_dims(-x/2)`` is ``-expand_dims(x)/2``."""
    linear = (AxisSum, AxisMean, BroadcastTo, ExpandDims, Reshape, Transposed)

    def walk(node):
        node = _rebuild(node, walk)
        if isinstance(node, linear) and node.args[0].is_Mul:
            c, rest = node.args[0].as_coeff_Mul()
            if c != 1:
                return c * type(node)(rest, *node.args[1:])
        return node
    return walk(e)


def push_numbers_in(e):
    """``-Σ(X)`` as ``Σ(-X)``: a number joins the sum (which then may simplify)."""
    def walk(node):
        node = _rebuild(node, walk)
        if node.is_Mul:
            nums = [a for a in node.args if a.is_Number]
            sums = [a for a in node.args if isinstance(a, AxisSum)]
            if nums and len(sums) == 1 and len(node.args) == 2:
                s = sums[0]
                return AxisSum(nums[0] * s.args[0], *s.args[1:])
        return node
    return walk(e)


@lru_cache(maxsize=4096)
def _simplified(e):
    """The elementwise part simplified, structural values held as numbers."""
    from .cached import tidy
    held, back = {}, {}

    def hold(node):
        if isinstance(node, Structural):
            inner = type(node)(_simplified(node.args[0]), *node.args[1:]) if isinstance(
                node, (AxisSum, AxisMean)) else node
            if inner not in held:
                held[inner] = sp.Dummy(f"H{len(held)}", real=True)
                back[held[inner]] = inner
            return held[inner]
        return _rebuild(node, hold)
    if sp.count_ops(e) > 40:
        return e
    return drop_broadcasts(tidy(hold(e)).xreplace(back))    # simplifying may leave new ones


@lru_cache(maxsize=4096)
def _tidy_forms(e) -> tuple:
    return tuple(_forms(e))


def tidy_forms(e) -> list:
    """Equal spellings of ``e`` worth costing, the cheap transformations first."""
    return list(_tidy_forms(e))


def _concats(e):
    """Sums of places that tile an axis as one np.concatenate (the book's np.hstack)."""
    from .slices import concat_of_places
    if e.is_Atom or not e.args:
        return e
    e = e.func(*[_concats(a) for a in e.args])
    return concat_of_places(e) if e.is_Add else e


def _forms(e) -> list:
    e = _concats(e) if e.has(Place) else e
    dropped = drop_broadcasts(fold_reshapes(e))
    pulled = pull_out(dropped)
    simple = _simplified(pulled)
    forms = [e, dropped, pulled, simple, _simplified(numbers_out(pulled)),
             _simplified(push_numbers_in(simple))]
    return list(dict.fromkeys(forms))


def _constant_terms(arg, axes, rank):
    terms = sp.Add.make_args(arg)
    const = [t for t in terms if _constant_along(t, axes, rank)]
    return sp.Add(*const), sp.Add(*[t for t in terms if t not in const])


def shift_sums(e):
    """``Σ exp(a + c)`` as ``exp(c)·Σ exp(a)`` for ``c`` constant along the summed axes.

    (The lemma behind a stable softmax; :func:`derive.tensorproof.prove_shift` proves it
    in index form for each shape it is used at.)

    >>> from derive.render.printers import text
    >>> from derive.tensor import Arr, AxisMax, AxisSum, dims
    >>> N, C = dims("N C")
    >>> u = Arr("u", (N, C))
    >>> sorted(text(f) for f in shift_sums(AxisSum(sp.exp(u - AxisMax(u, 1, 1)), 1, 1)).args)
    ['np.exp(-np.max(u, axis=1, keepdims=True))', 'np.sum(np.exp(u), axis=1, keepdims=True)']
    """
    def walk(node):
        node = _rebuild(node, walk)
        if not isinstance(node, AxisSum) or not isinstance(node.args[0], sp.exp):
            return node
        rank = len(shape_of(node.args[0]))
        const, rest = _constant_terms(node.args[0].args[0], node.axes, rank)
        if const == 0 or rest == 0 or (not node.keepdims and shape_of(const)):
            return node
        from .tensorproof import prove_shift
        prove_shift(shape_of(node.args[0]), shape_of(const), node.axes, node.keepdims)
        return sp.exp(const) * AxisSum(sp.exp(rest), *node.args[1:])
    return walk(e)
