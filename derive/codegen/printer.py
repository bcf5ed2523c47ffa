"""The NumPy printer of generated code: SymPy's ``NumPyPrinter``, spelling ``np.``.

Constants print as floats, masks as comparisons, ``Piecewise`` as ``np.where``, helper
functions (``_sigmoid``, ``erf``) by name, and the structural values of a tensor layer
in NumPy's syntax (``a @ b``, ``a.T``, ``np.sum(a, axis=1, keepdims=True)``).
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from ..render.numpy_syntax import NumpySyntax
from ..tensor import shape_of

__all__ = ["NumpyCodePrinter"]


class NumpyCodePrinter(NumpySyntax, NumPyPrinter):
    """NumPyPrinter spelling ``np.``, constants as floats, masks as comparisons, helpers by name."""

    printmethod = "_numpycode"
    scatter_name = "_scatter_add"

    def _module_format(self, fqn, register=True):
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _print_Rational(self, e):
        return repr(float(e))

    def _print_Integer(self, e):
        return repr(float(e))

    def _print_Float(self, e):
        return repr(float(e))

    def _print_NumberSymbol(self, e):
        return repr(float(e))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_Relational(self, e):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[e.rel_op]
        return f"({self._print(e.lhs)} {op} {self._print(e.rhs)})"

    def _print_Piecewise(self, e):
        (a, cond), rest = e.args[0], e.args[1:]
        other = rest[0][0] if len(rest) == 1 else sp.Piecewise(*rest)
        return f"np.where({self._print(cond)}, {self._print(a)}, {self._print(other)})"

    def _sizes(self, args) -> str:
        return ", ".join(str(int(a)) if a.is_Integer else self._print(a) for a in args)

    def _print_Windows(self, e):
        return f"_windows({self._print(e.args[0])}, {self._sizes(e.args[1:])})"

    def _print_Fold(self, e):
        return f"_fold({self._print(e.args[0])}, {self._sizes(e.args[1:])})"

    def _print_FirstMax(self, e):
        a = e.args[0]
        if type(a).__name__ == "Windows" and e.axes == (2, 3):    # no windows materialised
            return f"_window_first_max({self._print(a.args[0])}, {self._sizes(a.args[1:])})"
        return f"_first_max({self._print(a)}, {tuple(e.axes)})"

    def _print_AxisMax(self, e):
        a = e.args[0]
        if type(a).__name__ == "Windows" and e.axes == (2, 3) and not e.keepdims:
            return f"_window_max({self._print(a.args[0])}, {self._sizes(a.args[1:])})"
        return super()._print_AxisMax(e)

    def _print_Einsum(self, e):
        """``np.tensordot`` (one BLAS product) and a transposed view when every summed
        letter is in both operands and no output letter is; else ``np.einsum``."""
        sa, sb, so = e.subscripts.replace("->", ",").split(",")
        a, b = (self._print(v) for v in e.args[:2])
        summed = [ch for ch in sa if ch not in so]
        if any(ch not in sb for ch in summed) or any(ch not in so for ch in sb if ch not in sa) \
                or any(ch in sa and ch in sb for ch in so):
            return f"np.einsum('{e.subscripts}', {a}, {b}, optimize=True)"
        axes = ([sa.index(ch) for ch in summed], [sb.index(ch) for ch in summed])
        got = [ch for ch in sa if ch in so] + [ch for ch in sb if ch in so]
        text = f"np.tensordot({a}, {b}, axes=({list(axes[0])}, {list(axes[1])}))"
        if got != list(so):
            text += f".transpose({', '.join(str(got.index(ch)) for ch in so)})"
        return text

    def _print_sigmoid(self, e):
        return f"_sigmoid({self._print(e.args[0])})"

    def _print_softplus(self, e):
        return f"np.logaddexp(0.0, {self._print(e.args[0])})"

    def _print_logaddexp(self, e):
        return f"np.logaddexp({self._print(e.args[0])}, {self._print(e.args[1])})"

    def _print_erf(self, e):
        return f"erf({self._print(e.args[0])})"


    def _print_Symbol(self, e):
        if e.is_integer and e.is_positive:          # a dimension, bound from a shape
            return e.name
        return super()._print_Symbol(e)

    def _print_Pow(self, e, rational=False):
        base, ex = e.args
        if shape_of(e) and ex.is_Integer:           # x**2, 1/x: no float exponent
            b = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
            return f"1/{b}" if ex == -1 else f"{b}**{int(ex)}"
        return super()._print_Pow(e, rational=rational)

    def _print_Add(self, e, order=None):
        if not shape_of(e):
            return super()._print_Add(e, order=order)
        from ..render.printers import _positive_first
        terms = _positive_first(e.as_ordered_terms())
        out = self._print(terms[0])
        for t in terms[1:]:
            if t.could_extract_minus_sign():
                out += " - " + self.parenthesize(-t, PRECEDENCE["Add"], strict=True)
            else:
                out += " + " + self.parenthesize(t, PRECEDENCE["Add"], strict=False)
        return out
