"""One division per element where a loop's calls of one ``z = exp(-|u|)`` took two.

In a vectorized loop a division costs about ten multiply-adds, and each of
``_k_sigmoid_z`` (``1/(1 + z)``), ``_k_softplus_z`` (``z/(2 + z)``, inside its log1p) and
``_k_tanh_softplus_z`` (``num/den``) has its own. These passes (run by
:func:`.loop_source` after :func:`.share_exp`) replace calls of the same z by items of one
tuple-returning kernel that divides once:

* :func:`pair_logistic`: sigmoid and softplus of ``±u`` (softplus, logsigmoid,
  bce_with_logits), and ``tanh(u/2)`` too when there is one (log_cosh), from
  ``_k_logistic_z`` / ``_k_logistic_zm``: one reciprocal of ``(1 + z)(2 + z)``;
* :func:`sech_sigmoid`: mish's ``t + u*s - t**2*u*s`` (t = tanh(softplus(u)), s =
  sigmoid(u)) rewritten ``t + u*p``, ``p = sech(softplus(u))**2*s`` (proven equal with
  :func:`.prove_equal` before it is used), and ``(t, p)`` from ``_k_tanh_softplus_sech_z``.

>>> x = sp.Symbol("x", real=True)
>>> z = sp.exp(-sp.Abs(x))
>>> pair_logistic([SoftplusZ(x, z), SigmoidZ(-x, z)])
[Item(2, LogisticZ(x, exp(-Abs(x)))), Item(1, LogisticZ(x, exp(-Abs(x))))]
"""
from __future__ import annotations

import sympy as sp

from ..errors import DeriveError
from .numba_printer import ExpExpm1, First, Second, SigmoidZ, SoftplusZ, TanhSoftplusZ

__all__ = ["Item", "LogisticZ", "LogisticZM", "TanhSoftplusSechZ", "pair_divisions",
           "pair_logistic", "sech_sigmoid"]


class Item(sp.Function):
    """Item k (an Integer) of a tuple-returning kernel call."""
    nargs = 2


class LogisticZ(sp.Function):
    """(sigmoid(u), sigmoid(-u), softplus(u), softplus(-u)) given z = exp(-|u|)."""
    nargs = 2


class LogisticZM(sp.Function):
    """LogisticZ's items and tanh(u/2), given z = exp(-|u|) and m = expm1(-|u|)."""
    nargs = 3


class TanhSoftplusSechZ(sp.Function):
    """(tanh(softplus(u)), sech(softplus(u))**2*sigmoid(u)) given z = exp(-|u|)."""
    nargs = 2


def _calls(exprs, kinds) -> set:
    return {a for e in exprs for a in sp.preorder_traversal(e) if isinstance(a, kinds)}


def _argument(z):
    """u of z = exp(-|u|) as :func:`.share_exp` wrote it (one sign for u and -u)."""
    return next(a for a in sp.preorder_traversal(z) if isinstance(a, sp.Abs)).args[0]


def pair_logistic(exprs) -> list:
    """The expressions with sigmoid(±u) and softplus(±u) of one z read from one
    ``LogisticZ(u, z)`` when both kinds are there (only sigmoids share their 1/(1 + z)
    already: LLVM computes it once); with a ``tanh(v)``, ``2v = ±u``, there (log_cosh's
    softplus(2t - 2x) and tanh(t - x)), from
    ``LogisticZM(u, z, m)`` with z and m = expm1(-|u|) from one ``ExpExpm1``: one exp
    and one division where ``_k_tanh`` had its own of each."""
    exprs = list(exprs)
    groups = {}
    for call in _calls(exprs, (SigmoidZ, SoftplusZ)):
        groups.setdefault(call.args[1], set()).add(call)
    tanhs = _calls(exprs, sp.tanh)
    for z, calls in groups.items():
        u = sp.expand(_argument(z))
        half = {t: s for t in tanhs for s in (1, -1) if sp.expand(2 * t.args[0]) == s * u}
        if {type(c) for c in calls} != {SigmoidZ, SoftplusZ} and not half:
            continue
        if half:
            pair = ExpExpm1(sp.expand(-sp.Abs(_argument(z))))
            kernel = LogisticZM(_argument(z), First(pair), Second(pair))
        else:
            kernel = LogisticZ(_argument(z), z)
        swap = {}
        for c in calls:
            v = sp.expand(c.args[0])
            sign = 0 if v == u else 1 if v == -u else None
            if sign is None:
                raise DeriveError(f"{c}: its z is not exp(-|{c.args[0]}|)")
            swap[c] = Item(sp.Integer((0 if isinstance(c, SigmoidZ) else 2) + sign), kernel)
        swap.update({t: s * Item(sp.Integer(4), kernel) for t, s in half.items()})
        exprs = [e.xreplace(swap) for e in exprs]
        if half:
            exprs = [e.xreplace({z: First(pair)}) for e in exprs]
    return exprs


def _as_math(e, t, s, p, u):
    from .stable import sigmoid, softplus
    tanh_sp = sp.tanh(softplus(u))
    return e.xreplace({t: tanh_sp, s: sigmoid(u), p: (1 - tanh_sp ** 2) * sigmoid(u)})


def _rewrite(e, t, s, h, p):
    """e, a polynomial in t and s, with ``t**2 = 1 - h`` and ``h*s = p``; None where an h
    or an s is left (no division less then)."""
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
    from ..proof import prove_equal
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
                prove_equal(_as_math(f, ts, ss, p, u), _as_math(g, ts, ss, p, u),
                            what="tanh(softplus)**2*sigmoid as sigmoid - sech**2*sigmoid")
                e, done = g.xreplace({ts: t, p: Item(sp.Integer(1), kernel)}), True
            new.append(e)
        # every t from the pair then (mish's out too): num/den and 1/den are two divisions
        exprs = [e.xreplace({t: Item(sp.Integer(0), kernel)}) for e in new] if done else new
    return exprs


def pair_divisions(exprs) -> list:
    """:func:`sech_sigmoid`, then :func:`pair_logistic`."""
    return pair_logistic(sech_sigmoid(exprs))
