"""The stable form of a tensor value, proven equal: exponentials summed along an axis
(softmax, log-softmax, logsumexp) with the maximum along it subtracted first, and the
elementwise rewrites of :mod:`derive.codegen.stable` applied to each elementwise part.
"""
from __future__ import annotations

import sympy as sp

from ..errors import ProofError
from .stable import stable_form
from .stable_functions import _unfold

__all__ = ["tensor_stable"]


def _per_element(e: sp.Expr) -> sp.Expr:
    """The elementwise rewrites (:func:`stable_form`) applied to each elementwise part of a
    tensor value, its structural values held as numbers: ``np.sum(t*np.log(y))`` with
    ``y = sigmoid(x)`` becomes a sum of softplus terms."""
    from ..tensor import Structural
    from ..tensorproof import hold_structural
    if isinstance(e, Structural):
        return e.func(_per_element(e.args[0]), *e.args[1:])
    (held,), back = hold_structural([e])
    if not held.has(sp.exp, sp.log):
        inner = {k: _per_element(v) for k, v in back.items()}
        return held.xreplace(inner)
    stable, _ = stable_form(held)
    return stable.xreplace({k: _per_element(v) for k, v in back.items()})


def tensor_stable(e: sp.Expr) -> sp.Expr:
    """A tensor value whose exponentials are summed (softmax, log-softmax, logsumexp),
    computed with the maximum along the summed axes subtracted first; proven equal.

    ``exp(u)`` is written ``E·Z`` with ``E = exp(u - m)``, ``Z = exp(m)`` and
    ``m = max(u)`` along the axes; ``Z`` leaves every sum (it is constant along it) and
    must then cancel, else the value is kept as it is.

    >>> from derive.tensor import Arr, AxisSum, dims
    >>> N, C = dims("N C")
    >>> x = Arr("x", (N, C))
    >>> tensor_stable(sp.exp(x) / AxisSum(sp.exp(x), 1, 1))
    exp(x - AxisMax(x, 1, 1))/AxisSum(exp(x - AxisMax(x, 1, 1)), 1, 1)
    """
    from ..tensor import Arr, AxisMax, AxisSum, shape_of
    from ..tensor_tidy import pull_out
    from ..tensorproof import prove_tensor
    targets = {(s.args[0], s.axes) for s in e.atoms(AxisSum)
               if isinstance(s.args[0], sp.exp) and shape_of(s.args[0].args[0])}
    result = e
    for ex, axes in sorted(targets, key=lambda t: sp.default_sort_key(t[0])):
        u = ex.args[0]
        m = AxisMax(u, 1, *axes)
        E = Arr("_E", shape_of(u), positive=True)
        Z = Arr("_Z", shape_of(m), positive=True)
        f = sp.expand_log(pull_out(result.xreplace({ex: E * Z})), force=True)
        if Z in f.free_symbols:
            continue
        result = sp.expand_log(f.xreplace({E: sp.exp(u - m)}), force=True)
    result = _per_element(result)
    if result == e:
        return e
    try:
        prove_tensor(_unfold(result), e, what="stable form")
    except ProofError:
        return e
    return result
