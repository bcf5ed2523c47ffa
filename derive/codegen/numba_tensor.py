"""Fused numba loops for a tensor layer over rows ``(R, C)``: one ``@njit`` kernel that
computes a list of values (the forward's out and cache, or the gradients) in a few
sweeps over the rows, each row in a few passes over its elements.

The values are the derivation's expressions (made stable and proven by
:func:`.tensor_stable`). Each reduction (``AxisSum``/``AxisMean``/``AxisMax`` along the
row, the column or both) becomes an accumulator: along a row a scalar that later passes
of the same row read (layernorm's mean, then its variance, then ``xn``: one sweep, three
passes per row, the row in L1); along a column a vector that the following sweeps read
(batchnorm's mean, then its variance, then ``xn``: three sweeps, row-major, so the
accumulators vectorize); over everything a scalar (a loss). Parts of an element's value
that depend on a row or a column only (``gamma/(std*N)``) are computed once per row or
column (:meth:`_Plan.hoist`), so the element loop does one multiply where the NumPy code
divides. No full-size temporary is made: every full-size array the kernel writes is a
value asked for. Label indices (``t`` given as one class per row) are read as one-hot
rows, ``t = 1.0 if j == t_[i] else 0.0``.

>>> from derive.tensor import Arr, AxisMean, dims
>>> N, D = dims("N D")
>>> x = Arr("x", (N, D))
>>> src = kernel_source("_k", [("x", "full")], [], [("out", x - AxisMean(x, 1, 1))],
...                     {"N": "rows", "D": "cols"})
>>> "for i in range(n_rows):" in src and "r0 = _k_row_sum(x_[i]) / f_cols" in src
True
"""
from __future__ import annotations

import sympy as sp

from ..errors import DeriveError
from ..tensor import AxisMax, AxisMean, AxisSum, shape_of
from .numba_printer import ScalarPrinter

__all__ = ["kernel_source", "kind_of_shape"]

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


class _Plan:
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


def _picked(arg, labels):
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


def _load(name, kind, labels) -> str:
    if name == labels:
        return f"{name} = 1.0 if j == t_i else 0.0"
    if kind == "full":
        return f"{name} = np.float64({name}_[i, j])"
    return f"{name} = np.float64({name}_[j])"


class _Writer:
    def __init__(self, plan, labels):
        self.plan, self.labels = plan, labels
        self.printer = ScalarPrinter()
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


def kernel_source(fname, inputs, scalars, targets, dims, labels=None, shape=None) -> str:
    """An ``@njit`` kernel ``fname(<input>_..., <scalar>..., <target>_...)``.

    ``inputs``: (name, kind) of the arrays (full ones 2-D, row and column ones 1-D; the
    first full one gives R and C); ``scalars``: float arguments; ``targets``: (name,
    expr), each stored into ``<name>_`` (a scalar into element 0 of a 1-element array);
    ``dims``: dimension symbol name -> ``rows`` or ``cols``; ``labels``: the name of an
    input given as one class index per row (a 1-D int array) instead of one-hot rows;
    ``shape``: the symbolic (R, C) (by default the first full input's)."""
    if shape is None:
        by_name = {s.name: s for _, e in targets for s in e.free_symbols}
        shape = by_name[next(n for n, k in inputs if k == "full")].shape
    rows, cols = shape
    kinds = {n: k for n, k in inputs}
    kinds.update({s: "scalar" for s in scalars})
    kinds.update({d: "scalar" for d in dims})
    plan = _Plan(kinds, rows, cols)
    stripped = [(n, plan.strip(e)) for n, e in targets]
    for r in plan.reds:
        r["arg"] = plan.hoist(r["arg"])
    items = []                          # (name, expr, kind, pos)
    for n, e in stripped:
        k = plan.kind_of(e)
        items.append((n, plan.hoist(e) if k == "full" else e, k, plan.pos(e)))
    sweeps = 1 + max([r["pos"][0] for r in plan.reds] + [p[0] for _, _, k, p in items
                                                         if k in ("full", "row")] + [0])
    w = _Writer(plan, labels)
    args = [f"{n}_" for n, _ in inputs] + list(scalars) + [f"{n}_" for n, _ in targets]
    w.emit(0, '@njit(error_model="numpy", cache=True, fastmath={"contract"})')
    w.emit(0, f"def {fname}({', '.join(args)}):")
    first = next(n for n, k in inputs if k == "full")
    w.emit(1, f"n_rows, n_cols = {first}_.shape")
    w.emit(1, "f_rows, f_cols = np.float64(n_rows), np.float64(n_cols)")
    for d, which in dims.items():
        w.emit(1, f"{d} = f_{which}")
    hoist_by_sym = {sym.name: (e, k) for e, (sym, k) in plan.hoists.items()}

    def small_deps(exprs, kind):
        """The hoisted symbols of ``kind`` that ``exprs`` need, dependencies first."""
        out = []

        def visit(e):
            for s in sorted(e.free_symbols, key=lambda s: s.name):
                if s.name in hoist_by_sym and s.name not in out:
                    he, hk = hoist_by_sym[s.name]
                    visit(he)
                    if hk == kind:
                        out.append(s.name)
        for e in exprs:
            visit(e)
        return out

    def passes_of(s):
        return 1 + max([r["pos"][1] for r in plan.reds if r["pos"][0] == s] +
                       [p[1] for _, _, k, p in items if p[0] == s and k in ("full", "row")])

    def pass_of(s, p):
        """(reductions, outputs, full-size exprs, row outputs, symbols read) of pass p."""
        reds = [r for r in plan.reds if r["pos"] == (s, p)]
        outs = [(n, e, k) for n, e, k, q in items if q == (s, p)]
        full = [r["arg"] for r in reds] + [e for _, e, k in outs if k == "full"]
        row_out = [(n, e) for n, e, k in outs if k == "row"]
        need = set().union(*(e.free_symbols for e in full + [e for _, e in row_out])) \
            if full or row_out else set()
        for h in small_deps(full + [e for _, e in row_out], "row"):
            need |= hoist_by_sym[h][0].free_symbols
        return reds, outs, full, row_out, need

    # a row statistic is stored for the rows of a later sweep only when one reads it
    stored = {r["sym"] for s in range(sweeps) for p in range(passes_of(s))
              for r in plan.reds if r["axis"] == "row" and r["pos"][0] < s
              and r["sym"] in pass_of(s, p)[4]}
    forms = _row_forms(plan, sweeps, passes_of, labels, kinds)
    for r in plan.reds:
        if r["sym"] in stored:
            w.emit(1, f"{r['sym'].name}_ = np.empty(n_rows)")
        if forms.get(r["sym"].name, ("",))[0] == "row":
            w.emit(1, f"row{r['sym'].name[1:]}_ = np.empty(n_cols)")

    def col_loads(name):
        k = plan.kind.get(name)
        if k == "col":
            return f"{name} = np.float64({name}_[j])"
        return None

    for s in range(sweeps + 1):
        # before sweep s (after sweep s - 1): column and scalar values it reads
        if s < sweeps:
            elem = [r["arg"] for r in plan.reds if r["pos"][0] == s] + \
                   [e for _, e, k, p in items if p[0] == s and k in ("full", "row")]
        else:
            elem = []
        col_items = [(n, e) for n, e, k, p in items if k == "col" and
                     (p[0] == s or (s == sweeps and p[0] > s))]
        scal_items = [(n, e) for n, e, k, p in items if k == "scalar" and s == sweeps]
        sc = small_deps(elem + [e for _, e in col_items + scal_items], "scalar")
        for h in sc:
            w.emit(1, f"{h} = {w.printer.doprint(hoist_by_sym[h][0])}")
        cols = small_deps(elem + [e for _, e in col_items], "col")
        if cols or col_items:
            for h in cols:
                w.emit(1, f"{h}_ = np.empty(n_cols)")
            w.emit(1, "for j in range(n_cols):")
            w.block(2, [(f"{h}_[j]", hoist_by_sym[h][0], "=") for h in cols]
                    + [(f"{n}_[j]", e, "=") for n, e in col_items], col_loads)
        for n, e in scal_items:
            w.emit(1, f"{n}_[0] = {w.printer.doprint(e)}")
        if s == sweeps:
            break
        for r in plan.reds:
            if r["pos"][0] == s and r["axis"] != "row":
                init = "-np.inf" if r["op"] == "max" else "0.0"
                w.emit(1, f"{r['sym'].name}{'_ = np.full(n_cols, ' + init + ')' if r['axis'] == 'col' else ' = ' + init}")
        passes = passes_of(s)
        scratch = {}                # reduced values of this row: expr -> array name
        w.emit(1, "for i in range(n_rows):")
        if labels:
            w.emit(2, f"t_i = {labels}_[i]")
        for p in range(passes):
            reds, outs, full, row_out, need = pass_of(s, p)
            for r in plan.reds:              # row results of earlier sweeps
                if r["axis"] == "row" and r["pos"][0] < s and r["sym"] in need:
                    w.emit(2, f"{r['sym'].name} = {r['sym'].name}_[i]")
            for name in sorted({x.name for x in need if plan.kind.get(x.name) == "row"
                                and x.name in kinds and kinds[x.name] == "row"}):
                w.emit(2, f"{name} = np.float64({name}_[i])")
            for h in small_deps(full + [e for _, e in row_out], "row"):
                w.emit(2, f"{h} = {w.printer.doprint(hoist_by_sym[h][0])}")
            for n, e in row_out:
                w.emit(2, f"{n}_[i] = {w.printer.doprint(e)}")
            if not full:
                continue

            def loads(name):
                k = plan.kind.get(name)
                red = plan.red_of(sp.Symbol(name, real=True))
                if red is not None and red["axis"] == "col":
                    return f"{name} = {name}_[j]"
                if (name in hoist_by_sym and k == "col") or name in scratch.values():
                    return f"{name} = {name}_[j]"
                if name in kinds and kinds[name] in ("full", "col"):
                    return _load(name, kinds[name], labels)
                return None
            subs = {e: sp.Symbol(n, real=True) for e, n in scratch.items()}
            block = []
            for r in reds:
                arg = r["arg"].xreplace(subs)
                if r["axis"] == "col":
                    block.append((f"{r['sym'].name}_[j]", arg,
                                  "max" if r["op"] == "max" else "+="))
                elif forms[r["sym"].name][0] == "row":  # reduced after the loop (vectorizes)
                    block.append((f"row{r['sym'].name[1:]}_[j]", arg, "="))
            block += [(f"{n}_[i, j]", e.xreplace(subs), "=") for n, e, k in outs if k == "full"]
            if block:
                w.emit(2, "for j in range(n_cols):")
                w.block(3, block, loads)
            for r in reds:
                if r["axis"] == "col":
                    continue
                name, row = r["sym"].name, f"row{r['sym'].name[1:]}"
                form, what = forms[name]
                reduce = f"_k_row_{r['op']}({what + '_[i]' if form == 'direct' else row + '_'})"
                if form == "picked":
                    for sym in sorted(what.free_symbols, key=lambda s: s.name):
                        load = loads(sym.name)
                        if load:
                            w.emit(2, load.replace("[i, j]", "[i, t_i]").replace("[j]", "[t_i]"))
                    reduce = w.printer.doprint(what)
                if r["axis"] == "all":
                    w.emit(2, f"{name} = {'max(' + name + ', ' + reduce + ')' if r['op'] == 'max' else name + ' + (' + reduce + ')'}")
                    continue
                w.emit(2, f"{name} = {reduce}{' / f_cols' if r['mean'] else ''}")
                if r["sym"] in stored:
                    w.emit(2, f"{name}_[i] = {name}")
                if form == "row" and not r["arg"].is_Atom:
                    scratch[r["arg"]] = row
        for r in plan.reds:
            if r["pos"][0] == s and r["mean"] and r["axis"] != "row":
                name = r["sym"].name
                if r["axis"] == "col":
                    w.emit(1, "for j in range(n_cols):")
                    w.emit(2, f"{name}_[j] = {name}_[j] / f_rows")
                else:
                    w.emit(1, f"{name} = {name} / (f_rows * f_cols)")
    return "\n".join(w.lines)


def _row_forms(plan, sweeps, passes_of, labels, kinds) -> dict:
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
                q = _picked(arg, labels) if r["op"] == "sum" else None
                if q is not None:
                    forms[name] = ("picked", q)
                elif arg.is_Symbol and kinds.get(arg.name) == "full" and arg.name != labels:
                    forms[name] = ("direct", arg.name)
                else:
                    forms[name] = ("row", None)
                    if r["axis"] == "row" and not r["arg"].is_Atom:
                        scratch[r["arg"]] = f"row{name[1:]}"
    return forms
