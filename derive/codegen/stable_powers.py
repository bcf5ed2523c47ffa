"""Stable forms for products of powers: one power of a base, and the log of a product
split into a sum (each rewrite proven by :func:`derive.codegen.stable.stable_form`).
"""
from __future__ import annotations

import sympy as sp

__all__ = ["_combined_powers", "_log_product"]


def _combined_powers(e: sp.Expr) -> sp.Expr:
    """Powers of one base multiplied together as one power, ``x**x*x**(-x - 1)`` → ``1/x``
    and ``exp(u)*exp(-u - 1)`` → ``exp(-1)``: at x = 1000 the factors are inf and 0, their
    product nan, the one power finite.

    >>> x = sp.Symbol("x", real=True)
    >>> _combined_powers(x**2*x**x*x**(-x - 1)*sp.log(x))
    x*log(x)
    """
    def symbolic(q):
        return (q.is_Pow and q.exp.free_symbols) or isinstance(q, sp.exp)

    def combine(m):
        if sum(1 for f in m.args if symbolic(f)) < 2 and not any(
                f.is_Pow and symbolic(f.base) for f in m.args):
            return m
        return sp.powsimp(m, combine="exp")
    return e.replace(lambda q: q.is_Mul, combine)


def _log_product(e: sp.Expr) -> sp.Expr:
    """``log(u*c**v)`` → ``log(u) + v*log(c)`` and ``log(u*exp(v))`` → ``log(u) + v`` for a
    positive number c: ``log(0.01/3**t)`` at t = 1000 is log(0) = -inf where it is -1103.2.

    >>> t, y = sp.symbols("t y", real=True)
    >>> _log_product(sp.log(y/3**t))
    -t*log(3) + log(y)
    """
    def exponent(f):
        if isinstance(f, sp.exp):
            return f.args[0]
        if f.is_Pow and f.base.is_Number and f.base > 0 and f.exp.free_symbols:
            return f.exp * sp.log(f.base)
        return None

    def split(a):
        factors = sp.Mul.make_args(a.args[0])
        moved = [exponent(f) for f in factors]
        if all(m is None for m in moved):
            return a
        rest = sp.Mul(*[f for f, m in zip(factors, moved) if m is None])
        return sp.Add(*[m for m in moved if m is not None]) + (sp.log(rest) if rest != 1 else 0)
    return e.replace(lambda q: isinstance(q, sp.log) and q.args[0].is_Mul, split)
