"""A tensor layer's elementwise arithmetic as ufunc calls into buffers it made (``out=``).

Printed as one NumPy expression, ``dx = t2*(dout*N - t0 - t1*xn)`` makes a fresh
full-size array per operation (five here); at (256, 1024) each is a 2 MB allocation,
and a fresh one page-faults in. Lowered, the first full-size operation allocates and
the rest write into that buffer: ``np.multiply(dout, N)``, then ``np.subtract(.., t0,
out=..)`` ... (two buffers here). Everything that is not elementwise arithmetic —
matrix products, sums, reshapes, transposes — stays a leaf, printed as before; an
expression with a select or a comparison in it is not lowered at all (the caller
prints it). Only an operand of the result's full shape is ever written, and only one
this lowering allocated (or, in a forward, a named value read for the last time
there: ``xn = xc/std`` divides in place when nothing later reads ``xc``).

>>> from derive.tensor import array, dims
>>> from derive.codegen.printer import NumpyCodePrinter
>>> N, D = dims("N D")
>>> x, mu = array("x", (N, D)), array("mu", (1, D))
>>> lower_statement(2*(x - mu)**2, "y", NumpyCodePrinter(), set())
['y = np.subtract(x, mu)', 'np.square(y, out=y)', 'np.multiply(y, 2.0, out=y)']
"""
from __future__ import annotations

import sympy as sp

from ..tensor import shape_of
from .lower import _NOT_IN_PLACE, Lowering, _Operand, _UFUNC1, rename
from .stable import sigmoid
from .tensor_dtypes import surely_float

__all__ = ["lower_statement"]

_ELEMENTWISE = (sp.Add, sp.Mul, sp.Pow, sigmoid, *_UFUNC1)


def _broadcast(shapes) -> tuple:
    """The broadcast of symbolic shapes (aligned from the right; a 1 gives way)."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for k in range(rank):
        ds = [s[len(s) - rank + k] for s in shapes if len(s) - rank + k >= 0]
        big = [d for d in ds if d != 1]
        out.append(big[0] if big else sp.Integer(1))
    return tuple(out)


class _TensorLowering(Lowering):
    """:class:`~derive.codegen.lower.Lowering` for arrays of several shapes: structural
    values are leaves, and a buffer is written only when it has the result's shape."""

    def __init__(self, printer, taken, reuse=()):
        super().__init__(printer, set(), taken)
        self.reuse = set(reuse)

    def is_array(self, e) -> bool:
        return bool(shape_of(e))

    def value(self, e) -> _Operand:
        if self.is_array(e) and not (e.is_Symbol or isinstance(e, _ELEMENTWISE)):
            v = _Operand(self.p.doprint(e))      # a leaf: matmul, sum, reshape, ...
        elif e.is_Symbol and e.name in self.reuse:
            v = _Operand(e.name, owned=True)     # read here for the last time
        else:
            v = super().value(e)
        if not hasattr(v, "shape"):
            v.shape = shape_of(e) if not v.scalar else ()
        return v

    def _mul(self, e):
        """A full-size array over a smaller one (``xc/std``, std per feature): the smaller
        one's reciprocal first, then one multiply (a full-size divide takes ~2x as long);
        the rounding differs by at most an ulp from the divide."""
        full = shape_of(e)
        factored = self._scale_out(e, full)
        if factored is not None:
            return self.value(factored)
        small = [a for a in e.args if a.is_Pow and a.exp.is_number and a.exp < 0
                 and shape_of(a.base) and shape_of(a.base) != full]
        if not small or not full:
            return super()._mul(e)
        rest = sp.Mul(*[a for a in e.args if a not in small])
        acc = self.value(rest)
        for a in small:
            base = a.base ** -a.exp
            r = (self.ufunc("reciprocal", self.value(base))     # floats: the same division
                 if surely_float(base, getattr(self.p, "float_names", ())) else
                 self.ufunc("divide", _Operand("1.0", scalar=True), self.value(base)))
            acc = self.ufunc("multiply", acc, r)
        return acc

    @staticmethod
    def _scale_out(e, full):
        """``s*(N*dout - rest)`` as ``(s*N)*(dout - rest/N)``: a scaled input in a sum needs a
        buffer of its own (NumPy cannot scale while it subtracts); divided out, the sum
        is built in one buffer, and N joins the small factors outside (batchnorm's dx:
        one full-size buffer instead of two). None when the form does not apply."""
        adds = [a for a in e.args if a.is_Add and shape_of(a) == full]
        if len(adds) != 1 or len(e.args) < 2:
            return None
        (A,) = adds
        for term in A.args:
            arrays = [q for q in term.free_symbols if shape_of(q)]
            c, leaf = term.as_independent(*arrays, as_Add=False)
            if leaf.is_Symbol and shape_of(leaf) == full and c not in (1, -1) and c != 0:
                others = [a for a in e.args if a is not A]
                return sp.Mul(c, *others, sp.Add(*[q / c for q in A.args]))
        return None

    def ufunc(self, name: str, *args: _Operand) -> _Operand:
        shape = _broadcast([getattr(a, "shape", ()) for a in args])
        target = None if name in _NOT_IN_PLACE else next(
            (a for a in args if a.owned and getattr(a, "shape", None) == shape), None)
        text = ", ".join(a.text for a in args)
        if target is not None:
            self.lines.append(f"np.{name}({text}, out={target.text})")
            return target
        new = self.fresh()
        self.lines.append(f"{new} = np.{name}({text})")
        v = _Operand(new, owned=True)
        v.shape = shape
        return v

    def call(self, helper: str, *args: _Operand) -> _Operand:
        v = super().call(helper, *args)
        v.shape = getattr(args[0], "shape", ()) if args else ()
        return v


def lower_statement(e, name: str, printer, taken, reuse=()) -> list | None:
    """Lines computing ``name = e`` with in-place elementwise steps, or None when ``e`` is
    not worth it (no full-size arithmetic) or holds a select or comparison.

    ``reuse``: names of arrays this statement reads for the last time, made by earlier
    lines of the same function (never an input, a cached value or a result).
    """
    from sympy.logic.boolalg import BooleanFunction
    shape = shape_of(e)
    if not shape or not isinstance(e, _ELEMENTWISE) or any(
            isinstance(a, (sp.Piecewise, sp.core.relational.Relational, BooleanFunction))
            for a in sp.preorder_traversal(e)):
        return None
    counts: dict = {}
    for a in sp.preorder_traversal(e):
        if a.is_Symbol:
            counts[a.name] = counts.get(a.name, 0) + 1
    reuse = {n for n in reuse if counts.get(n) == 1}   # a second read would see it written
    low = _TensorLowering(printer, set(taken) | {name}, reuse)
    try:
        v = low.value(e)
    except Exception:       # a node the elementwise lowering has no spelling for: print it
        return None
    lines = [line for line in low.lines if line]
    if not v.owned or not lines:
        return None
    if v.text in reuse:
        return lines + [f"{name} = {v.text}"]
    return rename(lines, v.text, name)
