"""Matrix expressions with symbolic shapes: the matrix form of every result.

A :class:`Tensor` knows its shape (a tuple of SymPy dimensions such as ``(N, M)``;
``1`` marks a keepdims axis), its element in index notation (``element(idx)``,
a SymPy expression with ``IndexedBase``/``Sum``), how to print itself as NumPy,
text and LaTeX, and how to evaluate on NumPy arrays.  Broadcasting follows NumPy:
shapes are aligned on the right and an axis of length 1 stretches.

>>> N, D, M = dims("N D M")
>>> x, W = Arr("x", (N, D)), Arr("W", (D, M))
>>> (x @ W).shape
(N, M)
>>> (x.T @ Arr("dout", (N, M))).numpy()
'x.T @ dout'
>>> x.T @ W
Traceback (most recent call last):
...
derive.matrix.tensor.ShapeError: matrix product of shapes (D, N) and (D, M): inner sizes N and D differ
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ..errors import DeriveError


class ShapeError(DeriveError):
    """Two shapes that do not fit together (the message names both)."""


def dims(names: str):
    return sp.symbols(names, integer=True, positive=True)


def show_shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


_BASES: dict = {}
_counter = itertools.count()


def base(name: str) -> sp.IndexedBase:
    if name not in _BASES:
        _BASES[name] = sp.IndexedBase(name)
    return _BASES[name]


def fresh(letter: str = "k") -> sp.Dummy:
    return sp.Dummy(f"{letter}{next(_counter)}", integer=True)


def broadcast(*shapes):
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ShapeError("shapes " + " and ".join(show_shape(s) for s in shapes)
                             + " cannot be broadcast together")
        out.append(sizes.pop() if sizes else sp.Integer(1))
    return tuple(out)


#: how array names print in LaTeX (other names: one letter italic, longer ones upright)
LATEX_NAMES = {"out": r"\mathrm{out}", "gamma": r"\gamma", "beta": r"\beta",
               "xn": r"\hat{x}", "xc": r"x_{c}", "std": r"\sigma", "mask": r"\mathrm{mask}",
               "eps": r"\epsilon", "mu": r"\mu", "var": r"\sigma^{2}"}


def latex_name(name: str, scalar: bool = False) -> str:
    r"""LaTeX for an array name, written the way the elementwise pages write gradients.

    ``d<node>`` is the gradient arriving at a node (the derivation's naming), so it
    prints as ∂L/∂node; ``dout`` of a layer with an array output is ∂L/∂out.  A
    scalar ``dout`` is the upstream gradient of a loss layer's output L (1 when L is
    the final loss) and keeps its code name, upright.

    >>> latex_name("dout"), latex_name("dout", scalar=True)
    ('\\frac{\\partial L}{\\partial \\mathrm{out}}', '\\mathrm{dout}')
    >>> latex_name("dxn"), latex_name("mask"), latex_name("d")
    ('\\frac{\\partial L}{\\partial \\hat{x}}', '\\mathrm{mask}', 'd')
    """
    if name == "dout" and scalar:
        return r"\mathrm{dout}"
    if len(name) > 1 and name.startswith("d"):
        return r"\frac{\partial L}{\partial %s}" % latex_name(name[1:])
    if name in LATEX_NAMES:
        return LATEX_NAMES[name]
    return name if len(name) == 1 else rf"\mathrm{{{name}}}"
AXIS_LETTERS = ("n", "j", "k")


class Tensor:
    prec = 9

    # operators build the tree (shapes are checked on construction)
    def __add__(self, o): return Add(self, lift(o))
    def __radd__(self, o): return Add(lift(o), self)
    def __sub__(self, o): return Add(self, Neg(lift(o)))
    def __rsub__(self, o): return Add(lift(o), Neg(self))
    def __mul__(self, o): return Mul(self, lift(o))
    def __rmul__(self, o): return Mul(lift(o), self)
    def __truediv__(self, o): return Div(self, lift(o))
    def __rtruediv__(self, o): return Div(lift(o), self)
    def __neg__(self): return Neg(self)
    def __pow__(self, e): return Pow(self, sp.Rational(e))
    def __matmul__(self, o): return MatMul(self, o)

    @property
    def T(self): return Transpose(self)

    @property
    def ndim(self): return len(self.shape)

    def names(self) -> set:
        return set().union(*(c.names() for c in self.children)) if self.children else set()

    def wrap(self, s: str, prec: int, strict=False) -> str:
        return f"({s})" if (self.prec < prec or (strict and self.prec == prec)) else s

    def __repr__(self): return self.numpy()


def lift(v) -> Tensor:
    return v if isinstance(v, Tensor) else Scalar(sp.sympify(v))


class Arr(Tensor):
    prec = 10

    def __init__(self, name, shape=()):
        self.name, self.shape, self.children = name, tuple(sp.sympify(s) for s in shape), ()

    def element(self, idx):
        if not self.shape:
            return sp.Symbol(self.name, real=True)
        return base(self.name)[tuple(0 if s == 1 else i for s, i in zip(self.shape, idx))]

    def names(self): return {self.name}
    def numpy(self): return self.name
    def text(self): return self.name
    def latex(self): return latex_name(self.name, scalar=not self.shape)
    def evaluate(self, env): return env[self.name]
    def subs(self, m): return m.get(self.name, self)


class Scalar(Tensor):
    prec = 10

    def __init__(self, value):
        self.value, self.shape, self.children = sp.sympify(value), (), ()
        if self.value.is_Add or (self.value.is_Number and self.value < 0):
            self.prec = 4
        elif not (self.value.is_Atom):
            self.prec = 6

    def element(self, idx): return self.value
    def numpy(self): return sp.pycode(self.value).replace("math.", "np.")
    def text(self): return str(self.value)
    def latex(self):
        names = {v: latex_name(v.name, scalar=True) for v in self.value.free_symbols}
        return sp.latex(self.value, symbol_names=names)

    def evaluate(self, env): return float(self.value.xreplace({v: env[v.name] for v in self.value.free_symbols}))
    def subs(self, m): return self


class Elementwise(Tensor):
    def __init__(self, *args):
        self.children = args
        self.shape = broadcast(*(a.shape for a in args))

    def arg_index(self, arg, idx):
        lead = self.ndim - arg.ndim
        return tuple(0 if (s == 1 and self.shape[lead + j] != 1) else idx[lead + j]
                     for j, s in enumerate(arg.shape))

    def element(self, idx):
        return self.combine(*(a.element(self.arg_index(a, idx)) for a in self.children))

    def subs(self, m): return type(self)(*(c.subs(m) for c in self.children))


class Add(Elementwise):
    prec = 4
    def combine(self, a, b): return a + b
    def evaluate(self, env): return self.children[0].evaluate(env) + self.children[1].evaluate(env)

    def _join(self, f):
        a, b = self.children
        if isinstance(b, Neg):
            return f"{f(a, 4)} - {f(b.children[0], 4, True)}"
        return f"{f(a, 4)} + {f(b, 4)}"

    def numpy(self): return self._join(lambda t, p, s=False: t.wrap(t.numpy(), p, s))
    def text(self): return self._join(lambda t, p, s=False: t.wrap(t.text(), p, s))
    def latex(self): return self._join(lambda t, p, s=False: _paren(t, p, s))


class Neg(Elementwise):
    prec = 5
    def combine(self, a): return -a
    def evaluate(self, env): return -self.children[0].evaluate(env)
    def numpy(self): a = self.children[0]; return "-" + a.wrap(a.numpy(), 6)
    def text(self): a = self.children[0]; return "-" + a.wrap(a.text(), 6)
    def latex(self): a = self.children[0]; return "-" + _paren(a, 6)


def _paren(t, prec, strict=False):
    s = t.latex()
    return rf"\left({s}\right)" if (t.prec < prec or (strict and t.prec == prec)) else s


class Mul(Elementwise):
    prec = 6
    def combine(self, a, b): return a * b
    def evaluate(self, env): return self.children[0].evaluate(env) * self.children[1].evaluate(env)
    def numpy(self): a, b = self.children; return f"{a.wrap(a.numpy(), 6)}*{b.wrap(b.numpy(), 6, True)}"
    def text(self): a, b = self.children; return f"{a.wrap(a.text(), 6)}*{b.wrap(b.text(), 6, True)}"

    def latex(self):
        a, b = self.children
        if isinstance(b, Scalar) and b.value.is_Number and not isinstance(a, Scalar):
            a, b = b, a                   # 2 \sigma, not \sigma 2
        op = r" \odot " if a.shape and b.shape else " "
        return f"{_paren(a, 6)}{op}{_paren(b, 6, True)}"


class Div(Elementwise):
    prec = 6
    def combine(self, a, b): return a / b
    def evaluate(self, env): return self.children[0].evaluate(env) / self.children[1].evaluate(env)
    def numpy(self): a, b = self.children; return f"{a.wrap(a.numpy(), 6)}/{b.wrap(b.numpy(), 6, True)}"
    def text(self): a, b = self.children; return f"{a.wrap(a.text(), 6)}/{b.wrap(b.text(), 6, True)}"
    def latex(self): a, b = self.children; return rf"\frac{{{a.latex()}}}{{{b.latex()}}}"


class Pow(Elementwise):
    prec = 8

    def __init__(self, a, e):
        super().__init__(a)
        self.e = sp.Rational(e)

    def combine(self, a): return a ** self.e
    def evaluate(self, env): return self.children[0].evaluate(env) ** float(self.e)
    def subs(self, m): return Pow(self.children[0].subs(m), self.e)
    def numpy(self): a = self.children[0]; return f"{a.wrap(a.numpy(), 9)}**{_num(self.e)}"
    def text(self): a = self.children[0]; return f"{a.wrap(a.text(), 9)}**{_num(self.e)}"
    def latex(self): return f"{_paren(self.children[0], 9)}^{{{sp.latex(self.e)}}}"


def _num(e):
    return str(e) if e.is_Integer else f"({e})"


class Fn(Elementwise):
    prec = 10
    FUNCS = {"exp": (sp.exp, np.exp), "log": (sp.log, np.log), "sqrt": (sp.sqrt, np.sqrt)}

    def __init__(self, name, a):
        super().__init__(a)
        self.name = name

    def combine(self, a): return self.FUNCS[self.name][0](a)
    def evaluate(self, env): return self.FUNCS[self.name][1](self.children[0].evaluate(env))
    def subs(self, m): return Fn(self.name, self.children[0].subs(m))
    def numpy(self): return f"np.{self.name}({self.children[0].numpy()})"
    def text(self): return f"{self.name}({self.children[0].text()})"

    def latex(self):
        inner = self.children[0].latex()
        return rf"\sqrt{{{inner}}}" if self.name == "sqrt" else rf"\{self.name}\left({inner}\right)"


class MatMul(Tensor):
    prec = 7

    def __init__(self, a, b):
        self.children = (a, b)
        if a.ndim != 2 or b.ndim != 2:
            raise ShapeError(f"matrix product needs two matrices, got shapes {show_shape(a.shape)} "
                             f"and {show_shape(b.shape)}")
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"matrix product of shapes {show_shape(a.shape)} and {show_shape(b.shape)}: "
                             f"inner sizes {a.shape[1]} and {b.shape[0]} differ")
        self.shape = (a.shape[0], b.shape[1])

    def element(self, idx):
        a, b = self.children
        k = fresh("k")
        return sp.Sum(a.element((idx[0], k)) * b.element((k, idx[1])), (k, 0, a.shape[1] - 1))

    def evaluate(self, env): return np.matmul(self.children[0].evaluate(env), self.children[1].evaluate(env))
    def subs(self, m): return MatMul(*(c.subs(m) for c in self.children))
    def numpy(self): a, b = self.children; return f"{a.wrap(a.numpy(), 7)} @ {b.wrap(b.numpy(), 7, True)}"
    def text(self): a, b = self.children; return f"{a.wrap(a.text(), 7)} @ {b.wrap(b.text(), 7, True)}"
    def latex(self): a, b = self.children; return rf"{_paren(a, 7)} \, {_paren(b, 7, True)}"


class Transpose(Tensor):
    prec = 10

    def __init__(self, a):
        if a.ndim != 2:
            raise ShapeError(f".T of a {a.ndim}-D array is not supported here")
        self.children = (a,)
        self.shape = (a.shape[1], a.shape[0])

    def element(self, idx): return self.children[0].element((idx[1], idx[0]))
    def evaluate(self, env): return self.children[0].evaluate(env).T
    def subs(self, m): return Transpose(self.children[0].subs(m))
    def numpy(self): a = self.children[0]; return f"{a.wrap(a.numpy(), 10)}.T"
    def text(self): return self.numpy()
    def latex(self): return f"{_paren(self.children[0], 10)}^{{\\top}}"


class Reduce(Tensor):
    """``np.sum`` (or ``np.mean``) over one or more axes, with or without keepdims."""

    prec = 10

    def __init__(self, a, axis=None, keepdims=False, mean=False):
        axes = tuple(range(a.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
        axes = tuple(ax % a.ndim if a.ndim else ax for ax in axes)
        if any(ax >= a.ndim or ax < 0 for ax in axes) or not a.ndim:
            raise ShapeError(f"axis {axis} is out of range for shape {show_shape(a.shape)}")
        self.children, self.axes, self.keepdims, self.mean, self.axis = (a,), axes, keepdims, mean, axis
        self.shape = tuple((sp.Integer(1) if ax in axes else s) for ax, s in enumerate(a.shape)
                           if keepdims or ax not in axes)

    def element(self, idx):
        a = self.children[0]
        full, it, limits = [], iter(idx), []
        for ax in range(a.ndim):
            if ax in self.axes:
                d = fresh(AXIS_LETTERS[ax] if ax < 3 else "k")
                full.append(d)
                limits.append((d, 0, a.shape[ax] - 1))
                if self.keepdims:
                    next(it)
            else:
                full.append(next(it))
        body = a.element(tuple(full))
        total = sp.Sum(body, *limits)
        if self.mean:
            total = total / sp.Mul(*(a.shape[ax] for ax in self.axes))
        return total

    def evaluate(self, env):
        f = np.mean if self.mean else np.sum
        return f(self.children[0].evaluate(env), axis=self.axis, keepdims=self.keepdims)

    def subs(self, m): return Reduce(self.children[0].subs(m), self.axis, self.keepdims, self.mean)

    def numpy(self):
        args = [self.children[0].numpy()]
        if self.axis is not None:
            args.append(f"axis={self.axis}")
        if self.keepdims:
            args.append("keepdims=True")
        return f"np.{'mean' if self.mean else 'sum'}({', '.join(args)})"

    def text(self): return self.numpy()

    def latex(self):
        a = self.children[0]
        under = ",".join(AXIS_LETTERS[ax] for ax in self.axes)
        op = r"\frac{1}{%s}\sum_{%s}" % (sp.latex(sp.Mul(*(a.shape[ax] for ax in self.axes))), under) \
            if self.mean else r"\sum_{%s}" % under
        return rf"{op} {_paren(a, 7)}"


def sum_(a, axis=None, keepdims=False): return Reduce(a, axis, keepdims)
def mean(a, axis=None, keepdims=False): return Reduce(a, axis, keepdims, mean=True)
def exp(a): return Fn("exp", a)
def log(a): return Fn("log", a)
def sqrt(a): return Fn("sqrt", a)
