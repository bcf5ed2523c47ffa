"""Arrays with symbolic shapes, as SymPy data: the tensor half of the one expression language.

A layer's values are SymPy expressions. A scalar is a real ``Symbol``; an array is an
:class:`Arr` — a real Symbol that also carries its shape, a tuple of dimensions
(symbols such as ``N``, ``D`` or integers; ``1`` marks a kept axis). Elementwise
arithmetic and functions are SymPy's own (``x*g``, ``tanh(h)``), with NumPy's
broadcasting; structural operations are the SymPy functions below (:class:`MatProd`,
:class:`AxisSum` ...). So one printer, one prover and one code generator serve every
layer, and a scalar layer is the case where every shape is ().

>>> N, D, M = dims("N D M")
>>> x, W, b = Arr("x", (N, D)), Arr("W", (D, M)), Arr("b", (M,))
>>> shape_of(MatProd(x, W) + b)
(N, M)
>>> shape_of(AxisSum(x**2, 1, 1))
(N, 1)
>>> MatProd(Transposed(x), W)
Traceback (most recent call last):
...
derive.errors.ShapeError: matrix product of shapes (D, N) and (D, M): inner sizes N and D differ
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .errors import ShapeError

__all__ = ["Arr", "array", "dims", "dim", "shape_of", "broadcast", "show_shape",
           "MatProd", "Transposed", "AxisSum", "AxisMean", "AxisMax", "BroadcastTo",
           "ExpandDims", "Reshape", "Structural", "size_of", "unbroadcast"]


def dim(name: str) -> sp.Symbol:
    """A dimension: a positive integer symbol (results hold for every size)."""
    return sp.Symbol(name, integer=True, positive=True)


def dims(names: str) -> tuple:
    return tuple(dim(n) for n in names.split())


def show_shape(shape) -> str:
    """``(N, D)``; a 1-tuple keeps its comma, as Python writes it.

    >>> show_shape((dim("D"),)), show_shape(())
    ('(D,)', '()')
    """
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class Arr(sp.Symbol):
    """A named real array of a given shape (a Symbol, so elementwise algebra is SymPy's)."""

    __slots__ = ("shape",)

    def __new__(cls, name: str, shape, **assumptions):
        assumptions.setdefault("real", True)
        obj = sp.Symbol.__xnew__(cls, name, **assumptions)
        obj.shape = tuple(sp.sympify(s) for s in shape)
        return obj

    def _hashable_content(self):
        return super()._hashable_content() + (self.shape,)

    def __getnewargs_ex__(self):
        return (self.name, self.shape), self.assumptions0


def array(name: str, shape=(), **assumptions) -> sp.Symbol:
    """A scalar Symbol for shape (), else an :class:`Arr`."""
    assumptions.setdefault("real", True)
    if not tuple(shape):
        return sp.Symbol(name, **assumptions)
    return Arr(name, shape, **assumptions)


def broadcast(*shapes) -> tuple:
    """NumPy's broadcasting of symbolic shapes: right-aligned, an axis of size 1 stretches."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        sizes.discard(sp.Integer(1))
        if len(sizes) > 1:
            raise ShapeError("shapes " + " and ".join(show_shape(s) for s in shapes)
                             + " cannot be broadcast together")
        out.append(sizes.pop() if sizes else sp.Integer(1))
    return tuple(out)


def size_of(shape) -> sp.Expr:
    return sp.Mul(*shape) if shape else sp.Integer(1)


def _ints(values) -> tuple:
    return tuple(int(v) for v in values)


class Structural(sp.Function):
    """A structural operation (not elementwise). Subclasses give ``shape``, and the
    rest of the engine (index form, printers, rules) dispatches on the class."""

    def _eval_is_real(self):
        return True

    def _eval_is_nonnegative(self):     # sums, means, maxima, copies of one operand
        return self.args[0].is_nonnegative

    def _eval_is_positive(self):
        return self.args[0].is_positive

    def shape(self) -> tuple:
        raise NotImplementedError


class MatProd(Structural):
    """``a @ b`` for 1-D and 2-D operands (NumPy's ``matmul``/``dot`` there)."""

    nargs = 2
    precedence = 45      # below a product (50): printers put ``a*(x @ W)``, ``(x @ W)/a``

    def _eval_is_nonnegative(self):     # the sign of a product of two arrays is not known
        return None

    _eval_is_positive = _eval_is_nonnegative

    @classmethod
    def eval(cls, a, b):
        sa, sb = shape_of(a), shape_of(b)
        if not sa or not sb or len(sa) > 2 or len(sb) > 2:
            raise ShapeError(f"matrix product needs 1-D or 2-D operands, got shapes "
                             f"{show_shape(sa)} and {show_shape(sb)}")
        if sa[-1] != sb[0]:
            raise ShapeError(f"matrix product of shapes {show_shape(sa)} and {show_shape(sb)}: "
                             f"inner sizes {sa[-1]} and {sb[0]} differ")
        return None

    def shape(self):
        sa, sb = shape_of(self.args[0]), shape_of(self.args[1])
        return sa[:-1] + sb[1:]


class Transposed(Structural):
    """``a.T`` of a 2-D array (a 1-D array is its own transpose, as in NumPy)."""

    nargs = 1

    @classmethod
    def eval(cls, a):
        if isinstance(a, Transposed):
            return a.args[0]
        if len(shape_of(a)) < 2:
            return a
        if len(shape_of(a)) > 2:
            raise ShapeError(f".T of a {len(shape_of(a))}-D array is not supported; "
                             "use np.transpose with 2-D arrays")
        return None

    def shape(self):
        return tuple(reversed(shape_of(self.args[0])))


class _Reduction(Structural):
    """``np.sum(a, axis=axes, keepdims=k)``: args (a, keepdims, *axes), axes sorted, >= 0."""

    @classmethod
    def eval(cls, a, keepdims, *axes):
        rank = len(shape_of(a))
        if rank == 0:
            raise ShapeError(f"np.{cls.spelling} of a scalar: there is no axis to reduce")
        for ax in axes:
            if not (ax.is_Integer and 0 <= ax < rank):
                raise ShapeError(f"axis {ax} is out of range for shape {show_shape(shape_of(a))}")
        if not axes:
            return a
        return None

    @property
    def keepdims(self) -> bool:
        return bool(self.args[1])

    @property
    def axes(self) -> tuple:
        return _ints(self.args[2:])

    def shape(self):
        s = shape_of(self.args[0])
        return tuple(sp.Integer(1) if i in self.axes else d for i, d in enumerate(s)
                     if self.keepdims or i not in self.axes)

    def count(self) -> sp.Expr:
        """How many elements each result element reduces."""
        s = shape_of(self.args[0])
        return size_of([s[i] for i in self.axes])


class AxisSum(_Reduction):
    spelling = "sum"


class AxisMean(_Reduction):
    spelling = "mean"


class AxisMax(_Reduction):
    spelling = "max"


class BroadcastTo(Structural):
    """``np.broadcast_to(a, shape)``: args (a, *shape)."""

    @classmethod
    def eval(cls, a, *shape):
        sa = shape_of(a)
        if tuple(shape) == sa:
            return a
        if broadcast(sa, tuple(shape)) != tuple(shape):
            raise ShapeError(f"cannot broadcast {show_shape(sa)} to {show_shape(shape)}")
        return None

    def shape(self):
        return tuple(self.args[1:])


class ExpandDims(Structural):
    """``np.expand_dims(a, axes)``: new axes of size 1 at ``axes`` of the result."""

    @classmethod
    def eval(cls, a, *axes):
        if not axes:
            return a
        return None

    @property
    def axes(self) -> tuple:
        return _ints(self.args[1:])

    def shape(self):
        s = list(shape_of(self.args[0]))
        for ax in sorted(self.axes):
            s.insert(ax, sp.Integer(1))
        return tuple(s)


class Reshape(Structural):
    """``a.reshape(shape)`` that only inserts or removes axes of size 1."""

    @classmethod
    def eval(cls, a, *shape):
        sa = shape_of(a)
        if tuple(shape) == sa:
            return a
        if [d for d in sa if d != 1] != [d for d in shape if d != 1]:
            raise ShapeError(f"reshape {show_shape(sa)} -> {show_shape(shape)}: only axes of "
                             "size 1 may be added or removed (the sizes must stay in order)")
        return None

    def shape(self):
        return tuple(self.args[1:])


@lru_cache(maxsize=65536)
def shape_of(e) -> tuple:
    """The shape of a value of the expression language (broadcasting elementwise parts)."""
    if isinstance(e, Arr):
        return e.shape
    if isinstance(e, Structural):
        return e.shape()
    if not isinstance(e, sp.Basic) or e.is_Atom or not e.args:
        return ()
    if isinstance(e, sp.Piecewise):
        parts = [p for pair in e.args for p in pair]
    else:
        parts = e.args
    return broadcast(*(shape_of(a) for a in parts if isinstance(a, sp.Basic)))


def unbroadcast(e: sp.Expr, shape) -> sp.Expr:
    """Sum ``e`` over the axes along which a value of ``shape`` was broadcast to ``e``'s shape.

    Leading axes ``shape`` does not have are summed away; axes where ``shape`` has size 1
    are summed with keepdims. (The gradient of a broadcast value adds up its copies.)

    >>> N, D = dims("N D")
    >>> unbroadcast(Arr("g", (N, D)), (D,))
    AxisSum(g, 0, 0)
    >>> unbroadcast(Arr("g", (N, D)), (N, 1))
    AxisSum(g, 1, 1)
    """
    full = shape_of(e)
    shape = tuple(shape)
    if full == shape:
        return e
    lead = len(full) - len(shape)
    if lead:
        e = AxisSum(e, 0, *range(lead))
    kept = [i for i, (a, b) in enumerate(zip(shape_of(e), shape)) if b == 1 and a != 1]
    if kept:
        e = AxisSum(e, 1, *kept)
    return e
