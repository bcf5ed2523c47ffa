"""The LaTeX printer: the book's spelling (``dout`` as ∂L/∂y, ``out`` as y, masks as
Iverson brackets), by dispatch on SymPy's :class:`~sympy.printing.latex.LatexPrinter`.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from ..tensor import Arr, shape_of
from .spelling import (
    GREEK,
    axis_letters,
    decimal,
    decimal_coefficient,
    latex_decimal,
)

from .printers_common import (
    LATEX_DEFAULTS,
    _check_settings,
    _mask_parts,
    _own_precedence,
    _positive_first,
    _powered,
    _scalars_first,
)


class DeriveLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the book's spellings.

    >>> DeriveLatexPrinter({"colour": 1})
    Traceback (most recent call last):
    ...
    derive.errors.DeriveError: unknown printer setting colour; ours are out_name, gradients, names (the rest are SymPy's)
    """

    printmethod = "_latex"      # SymPy objects that print themselves (pi, E) still do
    _default_settings = {**LatexPrinter._default_settings, **LATEX_DEFAULTS}

    def __init__(self, settings=None):
        _check_settings(type(self), settings or {}, LATEX_DEFAULTS)
        super().__init__(settings)

    def parenthesize(self, item, level, is_neg=False, strict=False):
        prec = _own_precedence(item, precedence_traditional)
        if prec < level or (not strict and prec <= level):
            return self._add_parens(self._print(item))
        return self._print(item)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        parts = _mask_parts(expr)
        if parts is not None:   # [c] is a bracket already; e*[c] is a product
            return parts[0] != 1 and parts[0].could_extract_minus_sign() and not first
        return super()._needs_mul_brackets(expr, first=first, last=last)

    def grad(self, name: str) -> str:
        """∂L/∂name, e.g. ``\\frac{\\partial L}{\\partial a}``."""
        return r"\frac{\partial L}{\partial %s}" % self.name(name)

    def partial(self, of: str, wrt: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.name(of), self.name(wrt))

    def name(self, name: str) -> str:
        """A node or input name: ``out`` is the output's book name; a gradient ∂L/∂·."""
        if name == "out":
            return self._settings["out_name"]
        if name == "dout":
            return self.grad("out")
        if name in self._settings["gradients"]:
            return self.grad(self._settings["gradients"][name])
        if name in self._settings["names"]:
            return self._settings["names"][name]
        if len(name) > 1 and "_" not in name and name not in GREEK:
            return r"\mathrm{%s}" % name
        return self._print(sp.Symbol(name))

    def _print_Symbol(self, expr, style="plain"):
        if isinstance(expr, sp.Dummy):
            return expr.name
        if expr.name in ("dout", "out") or expr.name in self._settings["gradients"] or (
                isinstance(expr, Arr) or expr.name in self._settings["names"] or (
                len(expr.name) > 1 and expr.name not in GREEK and "_" not in expr.name)):
            return self.name(expr.name)
        return super()._print_Symbol(expr, style)

    def _print_Pow(self, expr):
        if isinstance(expr.base, sp.Symbol) and expr.base.name == "dout":
            return r"\left(%s\right)^{%s}" % (self.grad("out"), self._print(expr.exp))
        return super()._print_Pow(expr)

    def _print_Add(self, expr, order=None):
        return super()._print_Add(sp.Add(*_positive_first(expr.as_ordered_terms()),
                                         evaluate=False), order="none")

    def _print_Rational(self, expr):
        shown = decimal(expr)
        return latex_decimal(shown) if shown is not None else super()._print_Rational(expr)

    def _print_Mul(self, expr):
        scaled = decimal_coefficient(expr)
        if scaled is not None:                  # 0.044715 x^{3}, not \frac{8943 x^{3}}{200000}
            sign, shown, rest = scaled
            body = self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
            return f"{sign}{latex_decimal(shown)} {body}"
        arrays = [a for a in expr.args if shape_of(a)]
        if not arrays:
            return super()._print_Mul(expr)
        num, den = sp.fraction(expr)
        if den != 1:
            return r"\frac{%s}{%s}" % (self._print(num), self._print(den))
        coeff, factors = expr.as_coeff_mul()
        factors = _scalars_first(factors)
        scalars = [f for f in factors if not shape_of(f)]
        parts = [self.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in factors
                 if shape_of(f)]
        body = r" \odot ".join(parts)         # ⊙ between arrays, as the book's matrix pages
        if scalars:
            body = " ".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False)
                            for f in scalars) + " " + body
        if coeff == -1:
            return "- " + body
        return (self._print(coeff) + " " + body) if coeff != 1 else body

    @_powered
    def _print_MatProd(self, expr):
        a, b = expr.args
        return r"%s \, %s" % (self.parenthesize(a, PRECEDENCE["Mul"], strict=False),
                               self.parenthesize(b, PRECEDENCE["Mul"], strict=False))

    @_powered
    def _print_Transposed(self, expr):
        return r"%s^{\top}" % self.parenthesize(expr.args[0], PRECEDENCE["Pow"], strict=True)

    @_powered
    def _print_AxisSum(self, expr):
        return r"\sum_{%s} %s" % (axis_letters(expr),
                                  self.parenthesize(expr.args[0], PRECEDENCE["Mul"], strict=False))

    @_powered
    def _print_AxisMean(self, expr):
        return r"\frac{1}{%s} %s" % (self._print(expr.count()), self._print_AxisSum(expr))

    @_powered
    def _print_AxisMax(self, expr):
        return r"\max_{%s} %s" % (axis_letters(expr),
                                  self.parenthesize(expr.args[0], PRECEDENCE["Mul"], strict=True))

    @_powered
    def _print_BroadcastTo(self, expr):
        return self._print(expr.args[0])

    _print_ExpandDims = _print_Reshape = _print_BroadcastTo

    def _print_Outputs(self, expr):
        return r"\left(%s\right)" % ", ".join(self._print(v) for v in expr.args)

    def _print_Part(self, expr):
        return r"%s_{%d}" % (self.parenthesize(expr.args[0], PRECEDENCE["Pow"], strict=True),
                             int(expr.args[1]))

    def _print_Slice(self, expr):
        a, axis, start, stop = expr.args
        parts = [":"] * (int(axis) + 1)
        parts[int(axis)] = "%s:%s" % (self._print(start), self._print(stop))
        return r"%s_{[%s]}" % (self.parenthesize(a, PRECEDENCE["Pow"], strict=True),
                               ", ".join(parts))

    def _print_Place(self, expr):
        G, axis, start, stop, like = expr.args
        return r"\mathrm{place}_{%s:%s}\left(%s\right)" % (
            self._print(start), self._print(stop), self._print(G))

    def _print_Concat(self, expr):
        return r"\left[\, %s \,\right]" % r" \;\; ".join(self._print(p) for p in expr.parts)

    @_powered
    def _print_Gather(self, expr):
        W, idx = expr.args
        return r"%s_{%s}" % (self.parenthesize(W, PRECEDENCE["Pow"], strict=True),
                             self._print(idx))

    @_powered
    def _print_ScatterAdd(self, expr):
        G, idx = expr.args[:2]
        return r"\mathrm{scatter}_{%s}\left(%s\right)" % (self._print(idx), self._print(G))

    @_powered
    def _print_Einsum(self, expr):
        sa, sb, so = expr.subscripts.replace("->", ",").split(",")
        summed = "".join(ch for ch in dict.fromkeys(sa + sb) if ch not in so)
        return r"\sum_{%s} {%s}_{%s} \, {%s}_{%s}" % (     # braces: hs_enc has a subscript
            summed, self.parenthesize(expr.args[0], PRECEDENCE["Atom"], strict=True), sa,
            self.parenthesize(expr.args[1], PRECEDENCE["Atom"], strict=True), sb)

    def _window_call(self, name, expr):
        return r"\mathrm{%s}\left(%s\right)" % (name, ", ".join(self._print(a) for a in expr.args))

    def _print_Windows(self, expr):
        return self._window_call("windows", expr)

    def _print_Fold(self, expr):
        return self._window_call("fold", expr)

    def _print_FirstMax(self, expr):
        return r"\mathrm{argmax}_{%s}\left(%s\right)" % (axis_letters(expr), self._print(expr.args[0]))

    def _print_InRange(self, expr):
        return r"\left[0 \le %s < %s\right]" % (self._print(expr.args[0]), self._print(expr.args[1]))

    def _print_Indexed(self, expr):
        base = self.name(str(expr.base.label))
        return "{%s}_{%s}" % (base, " ".join(self._print(i) for i in expr.indices))

    def _print_Sum(self, expr):
        letters = " ".join(self._print(lim[0]) for lim in expr.limits)
        return r"\sum_{%s} %s" % (letters, self.parenthesize(expr.function, PRECEDENCE["Mul"],
                                                                strict=True))

    def _print_Dummy(self, expr):
        return expr.name

    def _print_KroneckerDelta(self, expr, exp=None):
        return r"\delta_{%s %s}" % tuple(self._print(a) for a in expr.args)

    def _print_Piecewise(self, expr):
        parts = _mask_parts(expr)
        if parts is not None:
            value, cond = parts
            bracket = r"\left[%s\right]" % self._print(cond)
            if value == 1:
                return bracket
            return f"{self.parenthesize(value, PRECEDENCE['Mul'])} {bracket}"
        rows = []
        for value, cond in expr.args:
            when = r"\text{otherwise}" if cond == sp.true else r"\text{if } " + self._print(cond)
            rows.append(f"{self._print(value)} & {when}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"
