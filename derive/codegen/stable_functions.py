"""The functions the stable forms introduce, as SymPy functions: ``sigmoid``, ``softplus``
and ``logaddexp`` (each printed as a helper or NumPy call that cannot overflow), their
unfolding into exp/log for the proofs, and the identities that the helpers' NumPy code
is proven by (:func:`prove_helpers`).
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ..proof import prove_equal

__all__ = ["logaddexp", "sigmoid", "softplus", "helper_identities", "prove_helpers"]


class sigmoid(sp.Function):
    """The logistic function 1/(1 + exp(-u)), evaluated without overflow in generated code."""

    nargs = 1

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sp.exp(-u))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def fdiff(self, argindex=1):
        u = self.args[0]
        return sigmoid(u) * sigmoid(-u)


class softplus(sp.Function):
    """log(1 + exp(u)), printed as np.logaddexp(0.0, u)."""

    nargs = 1

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.log(1 + sp.exp(u))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class logaddexp(sp.Function):
    """log(exp(a) + exp(b)), printed as np.logaddexp(a, b)."""

    nargs = 2

    def _eval_rewrite_as_exp(self, a, b, **kwargs):
        return sp.log(sp.exp(a) + sp.exp(b))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real and self.args[1].is_real


def _unfold(e: sp.Expr) -> sp.Expr:
    """The expression with the helper functions written out, for the proof: each function
    call rewritten in exp by itself (``deep=False``, bottom up), never a power: SymPy's
    ``(x**2).rewrite(exp)`` is ``exp(2*log(x))``, real for x > 0 only, so a proof over
    the unfolded forms saw half the line (``sqrt(x**2 + erf(x >= 0)**2)`` was "proven"
    equal to ``sqrt(x**2 + erf(1)**2)``).

    >>> x = sp.Symbol("x", real=True)
    >>> _unfold(x**2 + sp.tanh(x**2))
    x**2 + (exp(x**2) - exp(-x**2))/(exp(x**2) + exp(-x**2))
    """
    e = e.replace(lambda a: isinstance(a, sp.Function) and not isinstance(a, (expm1, log1p)),
                  lambda a: a.rewrite(sp.exp, deep=False))
    return e.replace(
        lambda a: isinstance(a, (expm1, log1p)), lambda a: a.rewrite(sp.exp, deep=False) if
        isinstance(a, expm1) else sp.log(1 + a.args[0]))


def helper_identities() -> list:
    """(helper, what it computes, the formula its NumPy code evaluates), for the helpers
    whose code is not the definition written out: :func:`prove_helpers` proves each."""
    u = sp.Symbol("u", real=True)
    return [("_softplus", sp.log(1 + sp.exp(u)), sp.Max(u, 0) + sp.log(1 + sp.exp(-sp.Abs(u)))),
            ("_sigmoid", sigmoid(u).rewrite(sp.exp), 1 / (1 + sp.exp(-u))),
            ("_sigmoid2[0]", sigmoid(u).rewrite(sp.exp), 1 / (1 + sp.exp(-u))),
            ("_sigmoid2[1]", sigmoid(-u).rewrite(sp.exp), 1 / (1 + 1 / sp.exp(-u)))]


def prove_helpers() -> dict:
    """{helper: Proof} that each helper's formula equals what it computes.

    >>> sorted(prove_helpers())
    ['_sigmoid', '_sigmoid2[0]', '_sigmoid2[1]', '_softplus']
    """
    return {name: prove_equal(code, want, what=f"helper {name}", allow_kink=False)
            for name, want, code in helper_identities()}
