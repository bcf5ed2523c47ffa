"""Elementwise functions NumPy has and SymPy does not: ``np.cbrt`` and ``np.rint``.

Each is a SymPy ``Function`` with its derivative (``fdiff``), its value at numbers
(``_eval_evalf``) and its spellings in the printers (LaTeX, NumPy code, the text a user
can type back), so the rule table (:mod:`derive.rules`) can list it like ``tanh``.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> cbrt(-8), sp.diff(cbrt(x), x)
(-2, 1/(3*np.cbrt(x)**2))
>>> rint(sp.Rational(5, 2)), rint(sp.Rational(7, 2)), rint(sp.Rational(7, 3)), sp.diff(rint(x), x)
(2, 4, 2, 0)
"""
from __future__ import annotations

import sympy as sp


class _NumpyFunction(sp.Function):
    """A real function of one real argument, printed ``np.<numpy>(...)`` as text and code."""

    nargs = 1
    numpy = ""

    def _eval_is_real(self):
        return self.args[0].is_real

    def _sympystr(self, printer):
        return f"np.{self.numpy}({printer._print(self.args[0])})"

    def _numpycode(self, printer):
        return f"np.{self.numpy}({printer._print(self.args[0])})"


class cbrt(_NumpyFunction):
    """The real cube root, ``np.cbrt``: cbrt(-8) = -2 (SymPy's ``x**(1/3)`` is complex there)."""

    numpy = "cbrt"

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return sp.real_root(u, 3) if u.is_real else None
        if isinstance(u, sp.Pow) and u.exp == 3 and u.base.is_real:
            return u.base

    def fdiff(self, argindex=1):
        return 1 / (3 * cbrt(self.args[0]) ** 2)

    def _eval_rewrite_as_Pow(self, u, **kwargs):
        return sp.sign(u) * sp.Abs(u) ** sp.Rational(1, 3)

    def _eval_evalf(self, prec):
        u = self.args[0].evalf(prec)
        if not u.is_number or not u.is_real:
            return None
        return (sp.sign(u) * sp.Abs(u) ** sp.Rational(1, 3)).evalf(prec)

    def _eval_is_positive(self):
        return self.args[0].is_positive

    def _eval_is_negative(self):
        return self.args[0].is_negative

    def _mpmathcode(self, printer):
        u, fmt = printer._print(self.args[0]), printer._module_format
        return f"({fmt('mpmath.sign')}({u})*{fmt('mpmath.cbrt')}(abs({u})))"

    def _latex(self, printer, exp=None):
        body = r"\sqrt[3]{%s}" % printer._print(self.args[0])
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class rint(_NumpyFunction):
    """Round to the nearest integer, halves to even (``np.rint``); its derivative is 0 off
    the half-integers, where it jumps."""

    numpy = "rint"

    @classmethod
    def eval(cls, u):
        if u.is_Rational:
            q, r = divmod(u, 1)                 # q integer, 0 <= r < 1
            if r != sp.Rational(1, 2):
                return sp.Integer(q + (1 if r > sp.Rational(1, 2) else 0))
            return sp.Integer(q + (q % 2))      # a half: to the even neighbour
        if u.is_integer:
            return u

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    def _eval_evalf(self, prec):
        u = self.args[0].evalf(prec)
        if not u.is_number or not u.is_real:
            return None
        q = sp.floor(u)
        r = u - q
        half = sp.Rational(1, 2)
        up = r > half or (r == half and q % 2 == 1)
        return sp.Float(q + (1 if up else 0), prec)

    def _mpmathcode(self, printer):
        return f"{printer._module_format('mpmath.nint')}({printer._print(self.args[0])})"

    def _latex(self, printer, exp=None):
        body = r"\operatorname{rint}\left(%s\right)" % printer._print(self.args[0])
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)
