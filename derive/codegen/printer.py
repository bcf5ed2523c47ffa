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
from ..tensor import AxisSum, shape_of
from .tensor_dtypes import surely_float

__all__ = ["NumpyCodePrinter", "TensorCodePrinter"]


class NumpyCodePrinter(NumpySyntax, NumPyPrinter):
    """NumPyPrinter spelling ``np.``, constants as floats, masks as comparisons, helpers by name."""

    printmethod = "_numpycode"
    scatter_name = "_scatter_add"
    sum_all, sum_all_axis = "np.sum", ""       # the sum of every element (labels.py)

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

    def _print_AxisSum(self, e):
        """A sum of a product (``Σ dout*xn``, ``Σ dout*gamma*xn``) as one ``np.einsum``, or
        ``np.vdot`` of two arrays over every axis: no full-size temporary for the product
        (measured 1.5-3x faster than ``np.sum(a*b, axis=0)`` at (256, 1024))."""
        a = e.args[0]
        full = shape_of(a)
        if a.is_Mul and any(f.is_Add and any(shape_of(q) != full for q in f.args)
                            for f in a.args):
            # Σ t*(x - m - log S): one einsum per term, the smaller terms never broadcast
            terms = sp.Add.make_args(sp.expand_mul(a))
            if all(shape_of(q) == full for q in terms) and len(terms) <= 4:
                return "(" + " + ".join(self._print(AxisSum(q, *e.args[1:])) for q in terms) + ")"
        coeff, factors = a.as_coeff_mul() if a.is_Mul else (1, ())
        if a.is_Pow and a.exp == 2 and a.base.is_Symbol:      # Σ xc**2 as Σ xc*xc
            factors = (a.base, a.base)
        shapes = [shape_of(f) for f in factors]
        if (len(factors) < 2 or not full or any(len(s) > len(full) for s in shapes)
                or sum(s == full for s in shapes) < 1):
            return super()._print_AxisSum(e)
        letters = "ijklmnopqr"[:len(full)]
        subs, ops = [], []
        for f, s in zip(factors, shapes):   # NumPy broadcasting: aligned from the right
            at = range(len(full) - len(s), len(full))
            subs.append("".join(letters[k] for k, d in zip(at, s) if d != 1))
            text = self._print(f)
            if any(d == 1 for d in s):      # einsum takes no size-1 axis: index it away
                text = (f"{self.parenthesize(f, PRECEDENCE['Atom'], strict=True)}"
                        f"[{', '.join('0' if d == 1 else ':' for d in s)}]")
            ops.append(text)
        out = "".join(ch for k, ch in enumerate(letters) if k not in e.axes)
        ops = ", ".join(ops)
        if not out and len(factors) == 2 and shapes[0] == shapes[1] == full and not e.keepdims:
            text = f"np.vdot({ops})"
        else:
            text = f"np.einsum('{','.join(subs)}->{out}', {ops})"
            if e.keepdims:      # the summed axes back as size 1 (indexing: a view, no call)
                text += "[" + ", ".join("None" if k in e.axes else ":"
                                        for k in range(len(full))) + "]"
        return text if coeff == 1 else f"{self._print(coeff)}*{text}"

    def _print_AxisMean(self, e):
        """A mean of a product or a square of a named array (``np.mean(xc**2, axis=0)``) as
        its einsum sum divided by the count: no full-size temporary."""
        a = e.args[0]
        named = [f for f in ((a.base,) if a.is_Pow and a.exp == 2 else a.args if a.is_Mul else ())
                 if f.is_Symbol and shape_of(f) == shape_of(a)]
        if not named or not ((a.is_Pow and a.exp == 2) or a.is_Mul):
            return super()._print_AxisMean(e)
        summed = self._print_AxisSum(AxisSum(a, *e.args[1:]))
        if not summed.startswith(("np.einsum", "np.vdot")):
            return super()._print_AxisMean(e)
        count = "*".join(f"{named[0].name}.shape[{k}]" for k in e.axes)
        return f"{summed}/({count})"

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
        if ex == -1 and base.is_Symbol and base.is_integer:       # a size: 1/N, not N**(-1.0)
            return f"(1/{base.name})"
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


class TensorCodePrinter(NumpyCodePrinter):
    """The NumPy tensor layers' printer: an axis sum, mean or max as the ufunc's ``reduce``
    (``np.add.reduce``, ``np.maximum.reduce``): the wrappers ``np.sum``/``np.mean``/``np.max``
    call the same reductions after 1-3 us of Python each, as long as the work itself at batch 100; the values are the same
    floats (np.mean is ``np.add.reduce`` divided by the count).

    >>> from derive.tensor import Arr, AxisMean, dims
    >>> N, D = dims("N D")
    >>> TensorCodePrinter().doprint(AxisMean(Arr("x", (N, D)), 1, 0))
    '(np.add.reduce(x, axis=0, keepdims=True)/x.shape[0])'
    """

    _UFUNC = {"sum": "np.add.reduce", "max": "np.maximum.reduce"}
    sum_all, sum_all_axis = "np.add.reduce", ", axis=None"

    def _print_Pow(self, e, rational=False):
        # 1/a of a surely floating array as np.reciprocal(a): the same division, without
        # the operator's dispatch (0.48 against 0.86 us at batch 100; tensor_dtypes)
        if e.exp == -1 and shape_of(e) and surely_float(e.base, getattr(self, "float_names", ())):
            return f"np.reciprocal({self._print(e.base)})"
        return super()._print_Pow(e, rational=rational)

    def _print_Reshape(self, e):
        # the method, not np.reshape (which wraps it after ~0.8 us of Python per call)
        a = self.parenthesize(e.args[0], PRECEDENCE["Atom"], strict=True)
        return f"{a}.reshape({self._dims(e.args[1:])})"

    def _reduction(self, e, fn):
        a = e.args[0]
        if fn == "mean":
            if not a.is_Symbol:
                return super()._reduction(e, fn)
            count = "*".join(f"{a.name}.shape[{k}]" for k in e.axes)
            return f"({self._reduction(e, 'sum')}/{count if len(e.axes) == 1 else f'({count})'})"
        args = [self._print(a)]
        whole = len(e.axes) == len(shape_of(a)) and not e.keepdims
        args.append("axis=None" if whole else
                    f"axis={e.axes[0] if len(e.axes) == 1 else tuple(e.axes)}")
        if e.keepdims:
            args.append("keepdims=True")
        return f"{self._UFUNC[fn]}({', '.join(args)})"
