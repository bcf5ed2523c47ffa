"""Fewer operations per element where a loop's calls of one ``z = exp(-|u|)`` did the same
work twice.

These passes (run by :func:`.loop_source` after :func:`.share_exp`) replace such calls by
items of one tuple-returning kernel:

* :func:`sech_sigmoid`: mish's ``t + u*s - t**2*u*s`` (t = tanh(softplus(u)), s =
  sigmoid(u)) rewritten ``t + u*p``, ``p = sech(softplus(u))**2*s`` (proven equal with
  :func:`.prove_rewrite` before it is used), and ``(t, p)`` from ``_k_tanh_softplus_sech_z``:
  no sigmoid and no ``1 - t**2`` (it cancelled: 5.5e-15 relative at u = 18, now 7e-16);
* :func:`pair_logistic`: log_cosh's ``softplus(2v)`` and ``tanh(v)`` from
  ``_k_logistic_zm`` given ``exp(-2|v|)`` and its expm1 from one range reduction
  (``_k_tanh`` had its own).

Two divisions of one z are not made one: sigmoid's ``1/(1 + z)`` and log1p's ``z/(2 + z)``
as ``(2 + z)r`` and ``z(1 + z)r``, ``r = 1/((1 + z)(2 + z))``, need four multiplies more, and
these loops are bound by the multiply-add ports, not by the divider: softplus's forward
loop ran 1.27 ns/element with one division, 1.17 with two (AVX-512 Zen, in L2); even
with none (``r`` a product) 1.24.

>>> x, t = sp.symbols("x t", real=True)
>>> z = sp.exp(-sp.Abs(2*t - 2*x))
>>> pair_logistic([SoftplusZ(2*t - 2*x, z), sp.tanh(t - x)])[1]
Item(4, LogisticZM(2*t - 2*x, First(ExpExpm1(-Abs(2*t - 2*x))), Second(ExpExpm1(-Abs(2*t - 2*x)))))
"""
from __future__ import annotations

import sympy as sp

from ..errors import DeriveError
from .numba_printer import ExpExpm1, First, Second, SigmoidZ, SoftplusZ, TanhSoftplusZ

__all__ = ["Item", "LogisticZM", "TanhSoftplusSechZ", "pair_z_calls",
           "pair_logistic", "sech_sigmoid"]


class Item(sp.Function):
    """Item k (an Integer) of a tuple-returning kernel call."""
    nargs = 2


class LogisticZM(sp.Function):
    """(sigmoid(u), sigmoid(-u), softplus(u), softplus(-u), tanh(u/2)) given z = exp(-|u|)
    and m = expm1(-|u|)."""
    nargs = 3


class TanhSoftplusSechZ(sp.Function):
    """(tanh(softplus(u)), sech(softplus(u))**2*sigmoid(u)) given z = exp(-|u|)."""
    nargs = 2


def _calls(exprs, kinds) -> set:
    return {a for e in exprs for a in sp.preorder_traversal(e) if isinstance(a, kinds)}


def _argument(z):
    """u of z = exp(-|u|) as :func:`.share_exp` wrote it (one sign for u and -u); None for
    a z with no |u| (a constant's: softplus(1.05) is exp(-1.05), evaluated)."""
    return next((a.args[0] for a in sp.preorder_traversal(z) if isinstance(a, sp.Abs)), None)


def pair_logistic(exprs) -> list:
    """The expressions with sigmoid(±u) and softplus(±u) of one z and a ``tanh(v)``,
    ``2v = ±u`` (log_cosh's softplus(2t - 2x) and tanh(t - x)), read from one
    ``LogisticZM(u, z, m)``, z and m = expm1(-|u|) from one ``ExpExpm1``: one exp range
    reduction where ``_k_tanh`` had its own (log_cosh's forward loop 1.86 -> 1.56
    ns/element in L2)."""
    exprs = list(exprs)
    groups = {}
    for call in _calls(exprs, (SigmoidZ, SoftplusZ)):
        groups.setdefault(call.args[1], set()).add(call)
    tanhs = _calls(exprs, sp.tanh)
    for z, calls in groups.items():
        arg = _argument(z)
        if arg is None:
            continue
        u = sp.expand(arg)
        half = {t: s for t in tanhs for s in (1, -1) if sp.expand(2 * t.args[0]) == s * u}
        if not half:
            continue
        pair = ExpExpm1(sp.expand(-sp.Abs(arg)))
        kernel = LogisticZM(arg, First(pair), Second(pair))
        swap = {t: s * Item(sp.Integer(4), kernel) for t, s in half.items()}
        for c in calls:
            v = sp.expand(c.args[0])
            sign = 0 if v == u else 1 if v == -u else None
            if sign is None:
                raise DeriveError(f"{c}: its z is not exp(-|{c.args[0]}|)")
            swap[c] = Item(sp.Integer((0 if isinstance(c, SigmoidZ) else 2) + sign), kernel)
        exprs = [e.xreplace(swap).xreplace({z: First(pair)}) for e in exprs]
    return exprs


def _as_math(e, t, s, p, u):
    from .stable import sigmoid, softplus
    tanh_sp = sp.tanh(softplus(u))
    return e.xreplace({t: tanh_sp, s: sigmoid(u), p: (1 - tanh_sp ** 2) * sigmoid(u)})


def _rewrite(e, t, s, h, p):
    """e, a polynomial in t and s, with ``t**2 = 1 - h`` and ``h*s = p``; None where an h
    or an s is left (sigmoid still computed then)."""
    poly = sp.Poly(sp.expand(e), t, s)
    g = sp.expand(sum(c * t ** (a % 2) * (1 - h) ** (a // 2) * s ** b
                      for (a, b), c in poly.terms()))
    out = []
    for (a, b, k), c in sp.Poly(g, t, s, h).terms():
        if k != b:
            return None
        out.append(c * t ** a * p ** k)
    return sp.factor_terms(sp.Add(*out))      # dout*(t + u*p), not dout*t + dout*u*p


def sech_sigmoid(exprs) -> list:
    """The expressions in which ``tanh(softplus(u))`` and ``sigmoid(u)`` of one z appear
    only as ``t`` and ``(1 - t**2)*s`` (mish's local factor ``t + u*s - t**2*u*s``), written
    with ``p = sech(softplus(u))**2*sigmoid(u)``, proven equal, and (t, p) read from one
    ``TanhSoftplusSechZ``; an expression it does not fit is left as it is.

    >>> from derive.codegen.numba_printer import share_exp
    >>> from derive.codegen.stable import sigmoid, softplus
    >>> x = sp.Symbol("x", real=True)
    >>> t, s = sp.tanh(softplus(x)), x*sigmoid(x)
    >>> sech_sigmoid(share_exp([t*x, -t**2*s + t + s]))[1]
    x*Item(1, TanhSoftplusSechZ(x, exp(-Abs(x)))) + Item(0, TanhSoftplusSechZ(x, exp(-Abs(x))))
    """
    from ..proof import prove_rewrite
    exprs = list(exprs)
    for t in _calls(exprs, TanhSoftplusZ):
        u, z = t.args
        s = SigmoidZ(u, z)
        if not any(e.has(s) for e in exprs):
            continue
        kernel = TanhSoftplusSechZ(u, z)
        ts, ss, h, p = sp.symbols("t_ s_ h_ p_", cls=sp.Dummy)
        new, done = [], False
        for e in exprs:
            f = e.xreplace({t: ts, s: ss})
            g = _rewrite(f, ts, ss, h, p) if f.has(ss) else None
            if g is not None:
                prove_rewrite(_as_math(f, ts, ss, p, u), _as_math(g, ts, ss, p, u),
                            what="tanh(softplus)**2*sigmoid as sigmoid - sech**2*sigmoid")
                e, done = g.xreplace({ts: t, p: Item(sp.Integer(1), kernel)}), True
            new.append(e)
        # every t from the pair then (mish's out too), not also from _k_tanh_softplus_z
        exprs = [e.xreplace({t: Item(sp.Integer(0), kernel)}) for e in new] if done else new
    return exprs


def pair_z_calls(exprs) -> list:
    """:func:`sech_sigmoid`, then :func:`pair_logistic`."""
    return pair_logistic(sech_sigmoid(exprs))
