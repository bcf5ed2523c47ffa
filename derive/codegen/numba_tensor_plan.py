"""The plan of a fused numba kernel over rows ``(R, C)`` (:mod:`.numba_tensor`): which
reductions it computes and where (:class:`Plan`), how a row's reduction is read
(:func:`row_forms`), and the printer of its values in the work dtype (:class:`WorkPrinter`).

>>> import sympy as sp
>>> x, r = sp.symbols("x r0", real=True)
>>> WorkPrinter().doprint(1/(2*r) + x/2)
'(wt(0.5))*x + (wt(0.5))/r0'
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import precedence

from ..errors import DeriveError
from ..tensor import AxisMax, AxisMean, AxisSum, shape_of
from .numba_printer import ScalarPrinter

__all__ = ["Plan", "WorkPrinter", "Writer", "kind_of_shape", "picked", "row_forms"]

_JOIN = {frozenset(): "scalar", frozenset({"row"}): "row", frozenset({"col"}): "col"}


def kind_of_shape(shape, rows, cols) -> str | None:
    """``full`` (R, C), ``row`` (R, 1) or (R,), ``col`` (1, C) or (C,), ``scalar`` ();
    None for any other shape."""
    shape = tuple(shape)
    if shape == ():
        return "scalar"
    if shape == (rows, cols):
        return "full"
    if shape in ((rows, 1), (rows,)) and rows != cols:
        return "row"
    if shape in ((1, cols), (cols,)):
        return "col"
    return None


class Plan:
    """The reductions and hoisted parts of a kernel's values, and where each is computed:
    a position (sweep, pass)."""

    def __init__(self, kinds, rows, cols):
        self.kind = dict(kinds)             # symbol name -> full / row / col / scalar
        self.rows, self.cols = rows, cols
        self.reds = []                      # dicts: sym, op, mean, axis, arg, pos
        self._keys = {}
        self.hoists = {}                    # expr -> (sym, kind)

    def kind_of(self, e) -> str:
        kinds = set()
        for s in e.free_symbols:
            if s.name not in self.kind:
                raise DeriveError(f"fused numba kernel: {s.name} has no known shape")
            kinds.add(self.kind[s.name])
        kinds.discard("scalar")
        return "full" if "full" in kinds or len(kinds) > 1 else _JOIN[frozenset(kinds)]

    def red_of(self, sym):
        return next((r for r in self.reds if r["sym"] == sym), None)

    def avail(self, sym) -> tuple:
        r = self.red_of(sym)
        if r is None:
            return (0, 0)
        s, p = r["pos"]
        return (s, p + 1) if r["axis"] == "row" else (s + 1, 0)

    def pos(self, e) -> tuple:
        return max([(0, 0)] + [self.avail(s) for s in e.free_symbols])

    def strip(self, e):
        """``e`` with each reduction replaced by its accumulator's symbol."""
        if isinstance(e, (AxisSum, AxisMean, AxisMax)):
            arg = self.strip(e.args[0])
            if shape_of(e.args[0]) != (self.rows, self.cols) or e.axes not in ((0,), (1,), (0, 1)):
                raise DeriveError(f"fused numba kernel: cannot reduce {e}")
            axis = {(0,): "col", (1,): "row", (0, 1): "all"}[e.axes]
            op = "max" if isinstance(e, AxisMax) else "sum"
            key = (op, isinstance(e, AxisMean), axis, arg)
            if key not in self._keys:
                sym = sp.Symbol(f"r{len(self.reds)}", real=True)
                self.kind[sym.name] = {"all": "scalar"}.get(axis, axis)
                self.reds.append({"sym": sym, "op": op, "mean": key[1], "axis": axis,
                                  "arg": arg, "pos": self.pos(arg)})
                self._keys[key] = sym
            return self._keys[key]
        if isinstance(e, sp.Basic) and e.args and not e.is_Atom:
            return e.func(*[self.strip(a) for a in e.args])
        return e

    def _hoisted(self, e, kind):
        if e.is_Atom:
            return e
        if e not in self.hoists:
            sym = sp.Symbol(f"h{len(self.hoists)}", real=True)
            self.kind[sym.name] = kind
            self.hoists[e] = (sym, kind)
        return self.hoists[e][0]

    def hoist(self, e):
        """``e`` (a full-size value) with its parts of one row, one column or no index
        replaced by symbols computed once per row, column or kernel."""
        kind = self.kind_of(e)
        if kind != "full":
            return self._hoisted(e, kind)
        if e.is_Atom:
            return e
        if isinstance(e, (sp.Add, sp.Mul)):
            full = [self.hoist(a) for a in e.args if self.kind_of(a) == "full"]
            groups = {}
            for a in e.args:
                k = self.kind_of(a)
                if k != "full":
                    groups.setdefault(k, []).append(a)
            if "scalar" in groups and len(groups) > 1:      # a constant joins a row/column part
                groups[next(k for k in ("row", "col") if k in groups)] += groups.pop("scalar")
            small = [self._hoisted(e.func(*g), k) for k, g in groups.items()]
            return e.func(*full, *small)
        return e.func(*[self.hoist(a) if isinstance(a, sp.Expr) else a for a in e.args])


def picked(arg, labels):
    """``A`` when ``arg`` is ``t*A`` with ``t`` the labels and ``A`` free of them: a row's
    sum of it is ``A`` at the row's label (``Σ_j δ(j, t_i)·A[i, j] = A[i, t_i]``, as
    :mod:`.labels` takes it); else None."""
    t = next((s for s in arg.free_symbols if s.name == labels), None) if labels else None
    if t is None:
        return None
    q = sp.diff(arg, t)
    if q.has(t) or sp.expand(arg - q * t) != 0:
        return None
    return q


class WorkPrinter(ScalarPrinter):
    """:class:`.ScalarPrinter` with each constant in the kernel's work dtype ``wt`` (the
    float type of its arrays): a float64 literal would turn float32 arithmetic into float64
    (numba types ``float32 * 2.0`` as float64), so ``2.0`` is printed ``wt(2.0)``, which
    LLVM folds into a constant; exp is ``_k_exp_w`` (float32's own for float32), another
    function's kernel (float64 code) is cast back."""

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Expr) and expr.is_number and not expr.free_symbols:
            return f"wt({float(expr)!r})"
        return super()._print(expr, **kwargs)

    def _print_Function(self, e):
        return f"wt({super()._print_Function(e)})"

    _print_expm1 = _print_log = _print_log1p = _print_tanh = _print_erf = _print_sigmoid = \
        _print_softplus = _print_logaddexp = _print_sign = _print_Function

    def _print_exp(self, e):
        return f"_k_exp_w({self._print(e.args[0])})"

    def _print_Mul(self, e):
        numbers = [a for a in e.args if a.is_number and not a.free_symbols]
        if not any(a.is_Pow and a.exp.is_negative for a in numbers) or len(numbers) == len(e.args):
            return super(ScalarPrinter, self)._print_Mul(e)
        rest = self.parenthesize(sp.Mul(*(a for a in e.args if a not in numbers)),
                                 precedence(e), strict=False)
        return f"wt({float(sp.Mul(*numbers))!r})*{rest}"

    def _print_Pow(self, e, rational=False):
        base, ex = e.args
        if ex == -sp.Rational(1, 2):
            return f"(wt(1.0)/math.sqrt({self._print(base)}))"
        if ex.is_Integer and -4 <= int(ex) <= -1:
            b = self.parenthesize(base, precedence(e), strict=False)
            return f"(wt(1.0)/({'*'.join([b] * -int(ex))}))"
        return super()._print_Pow(e, rational)


class Writer:
    """The kernel's lines, its values printed by :class:`WorkPrinter`."""

    def __init__(self, plan, labels):
        self.plan, self.labels = plan, labels
        self.printer = WorkPrinter()
        self.lines = []
        self._t = 0

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    def block(self, indent, items, loads_of):
        """Straight-line code for ``items`` ((target text, expr, how)) with shared
        subexpressions; ``how``: ``=``, ``+=`` or ``max``."""
        exprs = [e for _, e, _ in items]
        names = (sp.Symbol(f"c{k}") for k in range(self._t, 10 ** 6))
        reps, reduced = sp.cse(exprs, symbols=names, optimizations=None)
        self._t += len(reps)
        used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
        for s in sorted(used, key=lambda s: s.name):
            load = loads_of(s.name)
            if load:
                self.emit(indent, load)
        for sym, e in reps:
            self.emit(indent, f"{sym.name} = {self.printer.doprint(e)}")
        for (target, _, how), e in zip(items, reduced):
            v = self.printer.doprint(e)
            if how == "max":
                self.emit(indent, f"{target} = max({target}, {v})")
            else:
                self.emit(indent, f"{target} {how} {v}")


def row_forms(plan, sweeps, passes_of, labels, kinds) -> dict:
    """How each reduction along a row or over everything is computed: ``("picked", A)``
    (a sum of labels times A: A at the row's label), ``("direct", name)`` (an input's row
    reduced as it is) or ``("row", None)`` (the row's values stored into a row buffer, then
    reduced); a later pass of the sweep reads a stored row's values from its buffer."""
    forms = {}
    for s in range(sweeps):
        scratch = {}
        for p in range(passes_of(s)):
            subs = {e: sp.Symbol(n, real=True) for e, n in scratch.items()}
            for r in plan.reds:
                if r["pos"] != (s, p) or r["axis"] == "col":
                    continue
                arg, name = r["arg"].xreplace(subs), r["sym"].name
                q = picked(arg, labels) if r["op"] == "sum" else None
                if q is not None:
                    forms[name] = ("picked", q)
                elif arg.is_Symbol and kinds.get(arg.name) == "full" and arg.name != labels:
                    forms[name] = ("direct", arg.name)
                else:
                    forms[name] = ("row", None)
                    if r["axis"] == "row" and not r["arg"].is_Atom:
                        scratch[r["arg"]] = f"row{name[1:]}"
    return forms
