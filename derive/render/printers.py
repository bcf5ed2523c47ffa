"""The one place where symbols are spelled: SymPy printers by dispatch.

:class:`DeriveLatexPrinter` spells our symbols the book's way (``dout`` as
∂L/∂y, ``out`` as y, or z when the layer has an input named ``y``), and 0/1
masks as Iverson brackets; :class:`DeriveStrPrinter` prints NumPy's syntax and masks
NumPy-style, with the code names (``dout``, ``out``) by default, so what it prints can
be typed back into ``derive check``; the text walkthrough gives it the mathematics'
names (y, ∂L/∂y: settings ``out_name``, ``dout_name``). One notation on every page: the
output is y and its gradient ∂L/∂y in the mathematics, ``out`` and ``dout`` only in code.
:class:`~derive.render.spelling.Spelling` bundles a printer with the few non-expression
spellings a walkthrough needs (∂L/∂a, arrows).

>>> import sympy as sp
>>> from derive.steps import dout, out
>>> x = sp.Symbol("x", real=True)
>>> latex(dout * out * (1 - out))
'\\\\frac{\\\\partial L}{\\\\partial y} y \\\\left(1 - y\\\\right)'
>>> text(sp.Piecewise((dout, out > 0), (0, True)))
'dout*(out > 0)'
>>> text(sp.exp(-x) * sp.Rational(10507009873554805, 10**16))
'1.0507009873554805*np.exp(-x)'
>>> latex(dout * sp.Piecewise((1, x > 0), (0, True)))
'\\\\frac{\\\\partial L}{\\\\partial y} \\\\left[x > 0\\\\right]'
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from ..branches import float_safe, masked_product
from ..tensor import shape_of
from .numpy_syntax import NumpySyntax
from .spelling import (
    NUMPY_CONSTANTS,
    decimal,
    decimal_coefficient,
    numpy_name,
    out_name_for,
)

from .latex_printer import DeriveLatexPrinter  # noqa: F401  (the module's second printer)
from .printers_common import (
    STR_DEFAULTS,
    _check_settings,
    _mask_parts,
    _own_precedence,
    _positive_first,
    _scalars_first,
)

class DeriveStrPrinter(NumpySyntax, StrPrinter):
    """SymPy's str printer speaking the parser's NumPy: ``np.exp``, ``np.abs``,
    ``np.maximum``, masks as comparisons ``dout*(x > 0)``, other branches as ``np.where``,
    ``np.pi``, ``np.e`` and decimals as decimals.

    Its output parses back with :func:`derive.parse.parse_formula` to the same expression.

    >>> x, t = sp.symbols("x t", real=True)
    >>> text(sp.Piecewise((x, (x > 0) & (t < 1)), (-x, x < -1), (0, True)))
    'np.where((x > 0) & (t < 1), x, np.where(x < -1, -x, 0))'
    >>> text(sp.Abs(x) / sp.sqrt(x) + sp.Max(x, t, 0) + sp.pi)
    'np.maximum(0, np.maximum(t, x)) + np.pi + np.abs(x)/np.sqrt(x)'
    """

    printmethod = "_sympystr"
    _default_settings = {**StrPrinter._default_settings, **STR_DEFAULTS}

    def __init__(self, settings=None):
        _check_settings(type(self), settings or {}, STR_DEFAULTS)
        super().__init__(settings)

    def parenthesize(self, item, level, strict=False):
        prec = PRECEDENCE["Relational"] if isinstance(item, (sp.Eq, sp.Ne)) else \
            PRECEDENCE["Add"] if self._spelled_as_quotient(item) else \
            _own_precedence(item, precedence)
        if prec < level or (not strict and prec <= level):
            return "(%s)" % self._print(item)
        return self._print(item)

    def grad(self, name: str) -> str:
        return f"∂L/∂{self.name(name)}"

    def partial(self, of: str, wrt: str) -> str:
        return f"∂{self.name(of)}/∂{self.name(wrt)}"

    def name(self, name: str) -> str:
        return self._settings["out_name"] if name == "out" else name

    def _spelled_as_quotient(self, item) -> bool:
        """A gradient spelled ∂L/∂h is bracketed as a factor: ``(∂L/∂y)*y``, ``-(∂L/∂y)*y``,
        not ``∂L/∂y*y`` (SymPy asks a negative product's factors for Add's precedence)."""
        return isinstance(item, sp.Symbol) and "/" in self._print_Symbol(item)

    def _print_Symbol(self, expr):
        if expr.name == "out":
            return self._settings["out_name"]
        if expr.name == "dout":
            return self._settings["dout_name"]
        if expr.name in self._settings["gradients"]:
            return f"∂L/∂{self.name(self._settings['gradients'][expr.name])}"
        return super()._print_Symbol(expr)

    def _print_constant(self, expr):
        return NUMPY_CONSTANTS[type(expr).__name__]

    _print_Exp1 = _print_Pi = _print_Infinity = _print_NegativeInfinity = _print_NaN = \
        _print_constant

    def _print_Rational(self, expr):
        shown = decimal(expr)
        return shown if shown is not None else super()._print_Rational(expr)

    def _print_Add(self, expr, order=None):
        return super()._print_Add(sp.Add(*_positive_first(expr.as_ordered_terms()),
                                         evaluate=False), order="none")

    def _print_Mul(self, expr):
        scaled = decimal_coefficient(expr)
        if scaled is not None:                  # 0.044715*x**3, not 8943*x**3/200000
            sign, shown, rest = scaled
            num, den = sp.fraction(rest, exact=True)
            if num == 1:
                return f"{sign}{shown}/{self.parenthesize(den, PRECEDENCE['Mul'])}"
            return f"{sign}{shown}*{self.parenthesize(rest, PRECEDENCE['Mul'], strict=True)}"
        masked = masked_product(expr)
        if masked is not None:       # nan*0 is nan: np.where(c, 1/np.sqrt(x), 0), not a product
            return self._print(masked)
        if not any(shape_of(a) for a in expr.args):
            return super()._print_Mul(expr)
        coeff, rest = expr.as_coeff_Mul()
        factors = _scalars_first(sp.Mul.make_args(rest))
        ordered = sp.Mul(*([coeff] if coeff != 1 else []), *factors, evaluate=False)
        saved, self._settings["order"] = self._settings["order"], "none"
        try:
            return super()._print_Mul(ordered)
        finally:
            self._settings["order"] = saved

    def _print_UnevaluatedExpr(self, expr):     # a factor shown on its own (derive.algebra)
        arg = expr.args[0]          # products and sums come parenthesised by the product
        inner = self._print(arg)
        return f"({inner})" if arg.is_Pow and arg.exp.is_negative else inner

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Indexed):    # its own _sympystr would win over _print_Indexed
            return self._print_Indexed(expr)
        return super()._print(expr, **kwargs)

    def _print_Indexed(self, expr):
        """``(∂L/∂h)[n, j]``: a gradient's entry, its name bracketed before the index."""
        label = self._print_Symbol(sp.Symbol(str(expr.base.label)))
        if "/" in label:
            label = f"({label})"
        return f"{label}[{', '.join(self._print(i) for i in expr.indices)}]"

    def _print_Sum(self, expr):
        letters = ",".join(self._print(lim[0]) for lim in expr.limits)
        return f"Σ_{letters} {self.parenthesize(expr.function, PRECEDENCE['Mul'], strict=True)}"

    def _print_Dummy(self, expr):
        return expr.name

    def _print_KroneckerDelta(self, expr):
        return f"δ({', '.join(self._print(a) for a in expr.args)})"

    def _print_Pow(self, expr, rational=False):
        if expr.exp is sp.S.Half or -expr.exp is sp.S.Half:
            root = f"np.sqrt({self._print(expr.base)})"
            return root if expr.exp is sp.S.Half else "1/" + root
        return super()._print_Pow(expr, rational=rational)

    def _print_Function(self, expr):
        return f"{numpy_name(expr.func)}({self.stringify(expr.args, ', ')})"

    def _lattice(self, fn, args) -> str:
        if len(args) == 1:
            return self._print(args[0])
        return f"{fn}({self._print(args[0])}, {self._lattice(fn, args[1:])})"

    def _print_Max(self, expr):
        return self._lattice("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._lattice("np.minimum", expr.args)

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"np.heaviside({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_Relational(self, expr):
        if expr.rel_op in ("==", "!="):         # SymPy spells them Eq(a, b), Ne(a, b)
            lhs, rhs = (self.parenthesize(a, PRECEDENCE["Relational"]) for a in expr.args)
            return f"{lhs} {expr.rel_op} {rhs}"
        return super()._print_Relational(expr)

    def _print_ITE(self, expr):        # SymPy's if-then-else of conditions, as & | ~
        a, b, c = expr.args
        return self._print(sp.Or(sp.And(a, b), sp.And(sp.Not(a), c), evaluate=False))

    def _print_Piecewise(self, expr):
        parts = _mask_parts(expr)
        if parts is not None:
            value, cond = parts
            bracket = f"({self._print(cond)})"
            if value == 1:
                return bracket
            if float_safe(value):
                return f"{self.parenthesize(value, PRECEDENCE['Mul'], strict=True)}*{bracket}"
            return f"np.where({self._print(cond)}, {self._print(value)}, 0)"
        pieces = list(expr.args)
        value, cond = pieces.pop()
        shown = self._print(value) if cond == sp.true else (
            f"np.where({self._print(cond)}, {self._print(value)}, np.nan)")
        for value, cond in reversed(pieces):
            shown = f"np.where({self._print(cond)}, {self._print(value)}, {shown})"
        return shown


def latex(expr, spec=None, **settings) -> str:
    """LaTeX for ``expr`` with the book's spellings (``out_name`` chosen from ``spec``)."""
    settings.setdefault("out_name", out_name_for(spec))
    return DeriveLatexPrinter(settings).doprint(expr)


def text(expr, **settings) -> str:
    """Plain text for ``expr``: code names, NumPy-style masks.

    >>> text(sp.Piecewise((sp.Symbol("x"), sp.Symbol("x") > 0), (0, True)))
    'x*(x > 0)'
    """
    return DeriveStrPrinter(settings).doprint(expr)
