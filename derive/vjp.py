"""Vector-Jacobian products of the structural primitives, in matrix form.

For a node ``v = op(a, b, ...)`` and the gradient ``G = ∂L/∂v`` arriving at it,
:func:`structural_vjp` is the gradient the node passes to operand k — ``G @ b.T`` for
a matrix product, ``G`` broadcast back for a sum over an axis, the summed copies for a
broadcast operand of an elementwise node. The same expression is printed on the page
and emitted as code; :func:`derive.tensorproof.prove_vjp` proves it against SymPy's
derivative of the node's index form, for every size.

>>> from derive.tensor import Arr, MatProd, dims
>>> N, D, M = dims("N D M")
>>> x, W, G = Arr("x", (N, D)), Arr("W", (D, M)), Arr("G", (N, M))
>>> structural_vjp(MatProd(x, W), 0, G), structural_vjp(MatProd(x, W), 1, G)
(MatProd(G, Transposed(W)), MatProd(Transposed(x), G))
"""
from __future__ import annotations

import sympy as sp

from . import windows
from .errors import MissingRuleError
from .gather import Gather, vjp_gather
from .outputs import Outputs, vjp_outputs
from .slices import Slice, vjp_slice
from .tensor import (AxisMax, AxisMean, AxisSum, BroadcastTo, ExpandDims, MatProd, Reshape,
                     Transposed, shape_of, unbroadcast)

__all__ = ["structural_vjp", "elementwise_vjp"]


def _matprod(v, k, G):
    a, b = v.args
    ra, rb = len(shape_of(a)), len(shape_of(b))
    if k == 0:
        if rb == 2:
            return MatProd(G, Transposed(b)) if ra == 2 else MatProd(b, G)
        return ExpandDims(G, 1) * b if ra == 2 else G * b
    if ra == 2:
        return MatProd(Transposed(a), G)
    return ExpandDims(a, 1) * G if rb == 2 else G * a


def _transposed(v, k, G):
    return Transposed(G)


def _reduction(v, k, G):
    a = v.args[0]
    spread = G if v.keepdims else ExpandDims(G, *v.axes)
    spread = BroadcastTo(spread, *shape_of(a))
    return spread / v.count() if isinstance(v, AxisMean) else spread


def _broadcast_to(v, k, G):
    return unbroadcast(G, shape_of(v.args[0]))


def _reshape(v, k, G):
    return Reshape(G, *shape_of(v.args[0]))


_VJP = {MatProd: _matprod, Transposed: _transposed, AxisSum: _reduction, AxisMean: _reduction,
        BroadcastTo: _broadcast_to, ExpandDims: _reshape, Reshape: _reshape, Gather: vjp_gather, Slice: vjp_slice, Outputs: vjp_outputs,
        windows.Windows: windows.vjp_windows, windows.Fold: windows.vjp_fold,
        windows.Einsum: windows.vjp_einsum, AxisMax: windows.vjp_max}


def structural_vjp(v: sp.Expr, k: int, G: sp.Expr) -> sp.Expr:
    """The gradient node value ``v`` (a structural expression) passes to its operand ``k``."""
    fn = _VJP.get(type(v))
    if fn is None:      # np.max: only as a shift, see derive.backward._shift_by_max
        raise MissingRuleError(f"no vector-Jacobian product for {type(v).__name__}")
    return fn(v, k, G)


def elementwise_vjp(G: sp.Expr, local: sp.Expr, operand_shape) -> sp.Expr:
    """``G ⊙ local``, summed over the axes along which the operand was broadcast."""
    return unbroadcast(G * local, operand_shape)
