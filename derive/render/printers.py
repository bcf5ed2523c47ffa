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
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence, precedence_traditional
from sympy.printing.str import StrPrinter

from ..branches import float_safe, masked_product
from ..errors import DeriveError
from ..tensor import Arr, shape_of
from .numpy_syntax import NumpySyntax
from .spelling import (
    GREEK,
    LATEX_NAMES,
    NUMPY_CONSTANTS,
    axis_letters,
    decimal,
    decimal_coefficient,
    latex_decimal,
    numpy_name,
    out_name_for,
)

#: Our settings, shared by both printers; everything else is SymPy's own.
DEFAULTS = {
    "out_name": "y",        # how the layer's output ``out`` is spelled (book: y)
    "gradients": {},        # gradient symbol name -> the value it is the gradient of (dh -> h)
}
#: the LaTeX printer's own: how the book's array names print (var as σ², xn as x̂)
LATEX_DEFAULTS = {**DEFAULTS, "names": LATEX_NAMES}
#: the str printer's own: how the upstream gradient prints (code: dout; text page: ∂L/∂y)
STR_DEFAULTS = {**DEFAULTS, "out_name": "out", "dout_name": "dout"}


def _positive_first(terms):
    """Terms with a leading minus after the others (``x - t``, not ``-t + x``), and a
    matrix product before what is added to it (``x @ W + b``); otherwise stable."""
    from ..tensor import Structural
    arrays = any(shape_of(t) for t in terms)
    return sorted(terms, key=lambda t: (t.could_extract_minus_sign(),
                                        not (t.has(Structural) and shape_of(t)),
                                        arrays and t.is_Atom))


def _powered(method):
    """A LaTeX print method that SymPy may call with ``exp=`` (a power of the value)."""
    def wrapped(self, expr, exp=None):
        body = method(self, expr)
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)
    wrapped.__name__ = method.__name__
    return wrapped


def _scalars_first(factors) -> list:
    """Numbers and scalars (N, eps) before arrays, dout the first array; else SymPy's order."""
    return sorted(factors, key=lambda f: (bool(shape_of(f)), getattr(f, "name", "") != "dout"))


def _mask_parts(e):
    """``(value, condition)`` when ``e`` is ``Piecewise((value, cond), (0, True))``."""
    if isinstance(e, sp.Piecewise) and len(e.args) == 2:
        (value, cond), (other, last) = e.args
        if other == 0 and last == sp.true and cond != sp.true:
            return value, cond
    return None


def _own_precedence(e, fallback) -> int:
    """A mask with a value, ``e*[c]``, binds like a product, not like a function call; a
    decimal (0.1) like a number, not like the fraction it is."""
    parts = _mask_parts(e)
    if parts is not None and parts[0] != 1:
        return PRECEDENCE["Mul"]
    if isinstance(e, sp.Rational) and decimal(e) is not None:
        return PRECEDENCE["Add"] if e < 0 else PRECEDENCE["Atom"]
    return fallback(e)


def _check_settings(cls, settings: dict, ours: dict) -> None:
    unknown = sorted(set(settings) - set(cls._default_settings))
    if unknown:
        raise DeriveError(f"unknown printer setting {', '.join(unknown)}; "
                          f"ours are {', '.join(ours)} (the rest are SymPy's)")


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
