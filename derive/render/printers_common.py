"""What both printers share: their settings and the ordering of sums and products.

The printers themselves are :class:`~derive.render.latex_printer.DeriveLatexPrinter` and
:class:`~derive.render.printers.DeriveStrPrinter`.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..errors import DeriveError
from ..tensor import shape_of
from .spelling import (
    LATEX_NAMES,
    decimal,
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
