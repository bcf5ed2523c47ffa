"""The one place where symbols are spelled: SymPy printers by dispatch.

:class:`DeriveLatexPrinter` spells our symbols the book's way (``dout`` as
∂L/∂y, ``out`` as y, or z when the layer has an input named ``y``), and 0/1
masks as Iverson brackets; :class:`DeriveStrPrinter` keeps the code names
(``dout``, ``out``) and prints masks NumPy-style, so what it prints can be
typed back into ``derive check``.  :class:`Spelling` bundles a printer with
the few non-expression spellings a walkthrough needs (∂L/∂a, arrows, labels).

>>> import sympy as sp
>>> from derive.steps import dout, out
>>> x = sp.Symbol("x", real=True)
>>> latex(dout * out * (1 - out))
'\\\\frac{\\\\partial L}{\\\\partial y} y \\\\left(1 - y\\\\right)'
>>> text(sp.Piecewise((dout, out > 0), (0, True)))
'dout*(out > 0)'
>>> latex(dout * sp.Piecewise((1, x > 0), (0, True)))
'\\\\frac{\\\\partial L}{\\\\partial y} \\\\left[x > 0\\\\right]'
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence, precedence_traditional
from sympy.printing.str import StrPrinter

from ..errors import DeriveError

#: Our settings, shared by both printers; everything else is SymPy's own.
DEFAULTS = {
    "out_name": "y",        # how the layer's output ``out`` is spelled (book: y)
}


def _mask_parts(e):
    """``(value, condition)`` when ``e`` is ``Piecewise((value, cond), (0, True))``."""
    if isinstance(e, sp.Piecewise) and len(e.args) == 2:
        (value, cond), (other, last) = e.args
        if other == 0 and last == sp.true and cond != sp.true:
            return value, cond
    return None


def _own_precedence(e, fallback) -> int:
    """A mask with a value, ``e*[c]``, binds like a product, not like a function call."""
    parts = _mask_parts(e)
    if parts is not None and parts[0] != 1:
        return PRECEDENCE["Mul"]
    return fallback(e)


def _check_settings(cls, settings: dict) -> None:
    unknown = sorted(set(settings) - set(cls._default_settings))
    if unknown:
        raise DeriveError(f"unknown printer setting {', '.join(unknown)}; "
                          f"ours are {', '.join(DEFAULTS)} (the rest are SymPy's)")


class DeriveLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the book's spellings.

    >>> DeriveLatexPrinter({"colour": 1})
    Traceback (most recent call last):
    ...
    derive.errors.DeriveError: unknown printer setting colour; ours are out_name (the rest are SymPy's)
    """

    printmethod = "_latex"      # SymPy objects that print themselves (pi, E) still do
    _default_settings = {**LatexPrinter._default_settings, **DEFAULTS}

    def __init__(self, settings=None):
        _check_settings(type(self), settings or {})
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
        """A node or input name: ``out`` is the output's book name."""
        if name == "out":
            return self._settings["out_name"]
        return self._print(sp.Symbol(name))

    def _print_Symbol(self, expr, style="plain"):
        if expr.name == "dout":
            return self.grad("out")
        if expr.name == "out":
            return self._settings["out_name"]
        return super()._print_Symbol(expr, style)

    def _print_Pow(self, expr):
        if isinstance(expr.base, sp.Symbol) and expr.base.name == "dout":
            return r"\left(%s\right)^{%s}" % (self.grad("out"), self._print(expr.exp))
        return super()._print_Pow(expr)

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


class DeriveStrPrinter(StrPrinter):
    """SymPy's str printer with masks as NumPy comparisons and other branches as ``where``.

    Its output stays parsable by :func:`derive.parse.parse_formula`.
    """

    printmethod = "_sympystr"
    _default_settings = {**StrPrinter._default_settings, **DEFAULTS, "out_name": "out"}

    def __init__(self, settings=None):
        _check_settings(type(self), settings or {})
        super().__init__(settings)

    def parenthesize(self, item, level, strict=False):
        prec = _own_precedence(item, precedence)
        if prec < level or (not strict and prec <= level):
            return "(%s)" % self._print(item)
        return self._print(item)

    def grad(self, name: str) -> str:
        return f"∂L/∂{self.name(name)}"

    def partial(self, of: str, wrt: str) -> str:
        return f"∂{self.name(of)}/∂{self.name(wrt)}"

    def name(self, name: str) -> str:
        return self._settings["out_name"] if name == "out" else name

    def _print_Symbol(self, expr):
        if expr.name == "out":
            return self._settings["out_name"]
        return super()._print_Symbol(expr)

    def _print_Exp1(self, expr):
        return "exp(1)"     # the safe parser takes exp(1), np.e, math.e; not a bare E

    def _print_Max(self, expr):
        return f"maximum({', '.join(self._print(a) for a in expr.args)})" if len(
            expr.args) == 2 else super()._print_Max(expr)

    def _print_Min(self, expr):
        return f"minimum({', '.join(self._print(a) for a in expr.args)})" if len(
            expr.args) == 2 else super()._print_Min(expr)

    def _print_Piecewise(self, expr):
        parts = _mask_parts(expr)
        if parts is not None:
            value, cond = parts
            bracket = f"({self._print(cond)})"
            if value == 1:
                return bracket
            return f"{self.parenthesize(value, PRECEDENCE['Mul'])}*{bracket}"
        (value, cond), *rest = expr.args
        if cond == sp.true:
            return self._print(value)
        other = sp.Piecewise(*rest) if rest else sp.nan
        if rest and rest[0][1] == sp.true:
            other = rest[0][0]
        return f"where({self._print(cond)}, {self._print(value)}, {self._print(other)})"


def out_name_for(spec, book: str = "y") -> str:
    """``y``, or ``z`` when the layer already has a name ``y`` (mul, add)."""
    taken = set(spec.input_names) | set(spec.param_names) if spec is not None else set()
    return "z" if book in taken else book


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


class Spelling:
    """A printer plus the walkthrough's non-expression spellings, for one output language.

    >>> s = Spelling.for_text()
    >>> s.grad("c"), s.partial("out", "c"), s.arrow
    ('∂L/∂c', '∂out/∂c', ' → ')
    >>> Spelling.for_latex().grad("a")
    '\\\\frac{\\\\partial L}{\\\\partial a}'
    """

    def __init__(self, printer, *, arrow, times, is_latex):
        self.printer = printer
        self.arrow, self.times, self.is_latex = arrow, times, is_latex

    @classmethod
    def for_text(cls, spec=None) -> "Spelling":
        return cls(DeriveStrPrinter(), arrow=" → ", times=" × ", is_latex=False)

    @classmethod
    def for_latex(cls, spec=None) -> "Spelling":
        printer = DeriveLatexPrinter({"out_name": out_name_for(spec)})
        return cls(printer, arrow=r" \to ", times=r" \cdot ", is_latex=True)

    def expr(self, e) -> str:
        return self.printer.doprint(e)

    def factor(self, e) -> str:
        """``e`` as a factor of a product: parenthesized when it is a sum or negative."""
        s = self.expr(e)
        if e.is_Add or (e.could_extract_minus_sign() if hasattr(e, "could_extract_minus_sign")
                        else False):
            return r"\left(%s\right)" % s if self.is_latex else f"({s})"
        return s

    def grad(self, name: str) -> str:
        return self.printer.grad(name)

    def partial(self, of: str, wrt: str) -> str:
        return self.printer.partial(of, wrt)

    def name(self, name: str) -> str:
        return self.printer.name(name)

    def label(self, node) -> str:
        """A graph node's operation: ``×(−1)``, ``exp``, ``+1``; in LaTeX from the rule table."""
        if node.op == "input":
            return self.name(node.name)
        if not self.is_latex:
            return node.label()
        template = node.rule.latex
        const = node.const
        if node.op == "add_const" and const is not None and const.could_extract_minus_sign():
            return "-" + self.expr(-const)
        try:
            label = template.format(c=self.expr(const) if const is not None else "")
        except (KeyError, IndexError, ValueError):
            label = template   # a template with literal braces and no constant
        return label + r"\cdot" if label.endswith("/") else label
