"""Index notation for the expression language: one element of any value, as SymPy.

``element(e, idx)`` writes element ``idx`` of ``e`` with ``IndexedBase`` arrays, ``Sum``
over symbolic sizes and NumPy's broadcasting made explicit (an axis of size 1 reads
index 0). :mod:`derive.index` puts such expressions into a canonical form, which is how
structural steps are proven for every size.

>>> from derive.tensor import Arr, MatProd, dims
>>> N, D, M = dims("N D M")
>>> n, m = sp.symbols("n m", integer=True)
>>> e = element(MatProd(Arr("x", (N, D)), Arr("W", (D, M))), (n, m))
>>> e.limits[0][1:], sorted(str(a.base) for a in e.atoms(sp.Indexed))
((0, D - 1), ['W', 'x'])
"""
from __future__ import annotations

import itertools

import sympy as sp
from sympy.tensor.indexed import Indexed

from .gather import Gather, ScatterAdd, element_gather, element_scatter
from . import outputs, slices, windows
from .index import IndexFormError
from .tensor import (Arr, AxisMax, AxisMean, AxisSum, BroadcastTo, ExpandDims, MatProd,
                     Reshape, Transposed, array, shape_of)

__all__ = ["element", "free_indices", "fresh", "expand_definitions", "vjp_reference",
           "IndexFormError"]

_counter = itertools.count()
_AXIS_LETTERS = ("n", "j", "k", "l")


def fresh(letter: str = "k") -> sp.Dummy:
    return sp.Dummy(f"{letter}{next(_counter)}", integer=True)


def free_indices(shape) -> tuple:
    """Index symbols p, q, ... for a result of ``shape`` (0 on an axis of size 1)."""
    letters = sp.symbols("p q r s t u", integer=True)[:len(shape)]
    return tuple(sp.Integer(0) if s == 1 else i for s, i in zip(shape, letters))


def _align(idx, full, part) -> tuple:
    """Indices of an operand of shape ``part`` broadcast to ``full``."""
    lead = len(full) - len(part)
    return tuple(sp.Integer(0) if part[j] == 1 else idx[lead + j] for j in range(len(part)))


def element(e, idx) -> sp.Expr:
    """Element ``idx`` of ``e`` (a tuple as long as ``e``'s shape)."""
    shape = shape_of(e)
    idx = tuple(idx)
    if len(idx) != len(shape):
        raise IndexFormError(f"{len(idx)} indices for a value of rank {len(shape)}")
    if isinstance(e, Arr):
        return sp.IndexedBase(e.name)[_align(idx, shape, shape)]
    if not isinstance(e, sp.Basic) or e.is_Atom:
        return e
    handler = _STRUCTURAL.get(type(e))
    if handler is not None:
        return handler(e, idx)
    if isinstance(e, AxisMax):
        return _held_max(e, idx)
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(element_of(v, idx, shape), element_of(c, idx, shape))
                              for v, c in e.args])
    return e.func(*[element_of(a, idx, shape) for a in e.args])


def element_of(a, idx, full) -> sp.Expr:
    """Element of operand ``a`` at the result's indices ``idx`` (shape ``full``)."""
    if not isinstance(a, sp.Basic) or a in (sp.true, sp.false):
        return a
    return element(a, _align(idx, full, shape_of(a)))


def _held_max(e, idx):
    """A maximum over an axis, held as an unknown array of the kept axes: what is proven
    with it held holds for any values, the maximum's among them. (Its derivative is not
    taken here: :func:`vjp_reference` refuses a value whose maximum depends on ``wrt``.)"""
    kept = tuple(i for ax, i in enumerate(idx) if ax not in e.axes) if e.keepdims else idx
    return sp.IndexedBase(sp.Symbol(f"max⟨{e.args[0]}; {tuple(e.axes)}⟩"))[kept] if kept else \
        sp.Symbol(f"max⟨{e.args[0]}; {tuple(e.axes)}⟩", real=True)


def _matprod(e, idx):
    a, b = e.args
    sa = shape_of(a)
    k = fresh("k")
    left = idx[:len(sa) - 1] + (k,)
    right = (k,) + idx[len(sa) - 1:]
    return sp.Sum(element(a, left) * element(b, right), (k, 0, sa[-1] - 1))


def _transposed(e, idx):
    return element(e.args[0], tuple(reversed(idx)))


def _reduction(e, idx):
    a = e.args[0]
    sa = shape_of(a)
    full, it, limits = [], iter(idx), []
    for ax in range(len(sa)):
        if ax in e.axes:
            d = fresh(_AXIS_LETTERS[ax] if ax < len(_AXIS_LETTERS) else "k")
            full.append(d)
            limits.append((d, 0, sa[ax] - 1))
            if e.keepdims:
                next(it)
        else:
            full.append(next(it))
    total = sp.Sum(element(a, tuple(full)), *limits)
    return total / e.count() if isinstance(e, AxisMean) else total


def _broadcast_to(e, idx):
    a = e.args[0]
    return element(a, _align(idx, shape_of(e), shape_of(a)))


def _expand_dims(e, idx):
    keep = [i for ax, i in enumerate(idx) if ax not in e.axes]
    return element(e.args[0], tuple(keep))


def _reshape(e, idx):
    a = e.args[0]
    sizes = [i for i, d in zip(idx, shape_of(e)) if d != 1]
    it = iter(sizes)
    return element(a, tuple(sp.Integer(0) if d == 1 else next(it) for d in shape_of(a)))


_STRUCTURAL = {MatProd: _matprod, Transposed: _transposed, AxisSum: _reduction,
               AxisMean: _reduction, BroadcastTo: _broadcast_to, ExpandDims: _expand_dims,
               Reshape: _reshape, Gather: element_gather, ScatterAdd: element_scatter,
               slices.Slice: lambda e, idx: slices.element_slice(e, idx, element),
               outputs.Outputs: lambda e, idx: outputs.element_outputs(e, idx, element),
               outputs.Part: lambda e, idx: outputs.element_part(e, idx, element),
               slices.Place: lambda e, idx: slices.element_place(e, idx, element),
               slices.Concat: lambda e, idx: slices.element_concat(e, idx, element),
               windows.Windows: lambda e, idx: windows.element_windows(e, idx, element),
               windows.Fold: lambda e, idx: windows.element_fold(e, idx, element, fresh),
               windows.Einsum: lambda e, idx: windows.element_einsum(e, idx, element, fresh),
               windows.FirstMax: lambda e, idx: windows.element_first_max(e, idx, element)}


def expand_definitions(e: sp.Expr, definitions: dict, rounds: int = 12) -> sp.Expr:
    """Replace named values (``name -> expression``) by their definitions, in index form."""
    for _ in range(rounds):
        hit = False

        def indexed(a):
            return isinstance(a, Indexed) and a.base.label.name in definitions

        if any(indexed(a) for a in e.atoms(Indexed)):
            e = e.replace(indexed, lambda a: element(definitions[a.base.label.name],
                                                     tuple(a.indices)))
            hit = True
        scalars = {s: definitions[s.name] for s in e.atoms(sp.Symbol)
                   if s.name in definitions and not shape_of(definitions[s.name])
                   and not isinstance(s, sp.Dummy)}
        if scalars:
            e = e.xreplace(scalars)
            hit = True
        if not hit:
            return e
    raise IndexFormError("named values refer to each other in a cycle")


def vjp_reference(value: sp.Expr, wrt, upstream_name: str = "G") -> tuple:
    """SymPy's derivative of ``Σ_o G[o]·value[o]`` with respect to ``wrt[idx]``.

    This is the independent witness of a vector-Jacobian product: the gradient a node
    passes to its operand ``wrt`` (an Arr or scalar Symbol) when ``G`` arrives at it.
    Returns (idx, the derivative in index form, G as an array).
    """
    if any(isinstance(m, AxisMax) and m.args[0].has(wrt) for m in sp.preorder_traversal(value)):
        raise IndexFormError("the derivative through np.max has no index form")
    shape = shape_of(value)
    up = array(upstream_name, shape)
    out = tuple(fresh("i") for _ in shape)
    body = element(up, out) * element(value, out)
    limits = [(i, 0, s - 1) for i, s in zip(out, shape) if s != 1]
    body = body.xreplace({i: 0 for i, s in zip(out, shape) if s == 1})
    total = sp.Sum(body, *limits) if limits else body
    idx = free_indices(shape_of(wrt))
    return idx, total.diff(element(wrt, idx)), up
