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
column (:meth:`.Plan.hoist`), so the element loop does one multiply where the NumPy code
divides. No full-size temporary is made: every full-size array the kernel writes is a
value asked for. Label indices (``t`` given as one class per row) are read as one-hot
rows, ``t = 1.0 if j == t_[i] else 0.0``.

The kernel computes in its arrays' dtype ``wt`` (float32 stays float32: constants are
``wt(...)``, buffers of ``wt``, exp float32's own); the reductions accumulate in float64
(a row's in lanes of ``wt`` over blocks, :mod:`.numba_tensor_kernels`) and are rounded to
``wt`` once. With ``parallel=True`` (the module's ``PARALLEL``) each sweep runs with
``prange``: over chunks of rows (each chunk with its own row buffers; a loss's terms are
stored per row and summed in row order after the loop: the serial kernel's results, bit
for bit) or, when it sums along columns (batchnorm's statistics, layernorm's dgamma),
over :data:`_PARTS` parts of the rows, each with its own column sums, added in order
after the loop: those sums are rounded differently from the serial kernel's (float64:
4e-15 of their size at (4096, 100)). A loop over blocks of columns would keep the serial
order, but each row's block is then a stream of its own that the hardware prefetcher
starts cold (a column sum at (4096, 1000) ran 8x slower on one thread).

>>> from derive.tensor import Arr, AxisMean, dims
>>> N, D = dims("N D")
>>> x = Arr("x", (N, D))
>>> src = kernel_source("_k", [("x", "full")], [], [("out", x - AxisMean(x, 1, 1))],
...                     {"N": "rows", "D": "cols"})
>>> "for i in range(n_rows):" in src and "r0 = wt(_k_row_sum(x_[i]) / f_cols)" in src
True
>>> "prange" in kernel_source("_k", [("x", "full")], [], [("out", x - AxisMean(x, 1, 1))],
...                           {"N": "rows", "D": "cols"}, parallel=True)
True
"""
from __future__ import annotations

import sympy as sp

from .numba_tensor_plan import Plan, Writer, kind_of_shape, row_forms

__all__ = ["Kernel", "kernel_source", "kind_of_shape"]

_CHUNK = 16         # rows per prange iteration of a sweep over rows
_PARTS = 8          # parts of the rows of a sweep that sums along rows and columns


def _load(name, kind, labels) -> str:
    if name == labels:
        return f"{name} = wt(1.0) if j == t_i else wt(0.0)"
    if kind == "full":
        return f"{name} = {name}_[i, j]"
    return f"{name} = {name}_[j]"


def kernel_source(fname, inputs, scalars, targets, dims, labels=None, shape=None,
                  parallel=False) -> str:
    """An ``@njit`` kernel ``fname(<input>_..., <scalar>_..., <target>_...)``.

    ``inputs``: (name, kind) of the arrays (full ones 2-D, row and column ones 1-D; the
    first full one gives R and C); ``scalars``: float arguments; ``targets``: (name,
    expr), each stored into ``<name>_`` (a scalar into element 0 of a 1-element array) of
    the work dtype; ``dims``: dimension symbol name -> ``rows`` or ``cols``; ``labels``:
    the name of an input given as one class index per row (a 1-D int array) instead of
    one-hot rows; ``shape``: the symbolic (R, C) (by default the first full input's);
    ``parallel``: the ``prange`` variant."""
    return Kernel(inputs, scalars, targets, dims, labels, shape).source(fname, parallel)


class Kernel:
    """The planned values of one kernel; :meth:`source` writes it, serial or parallel."""

    def __init__(self, inputs, scalars, targets, dims, labels, shape):
        if shape is None:
            by_name = {s.name: s for _, e in targets for s in e.free_symbols}
            shape = by_name[next(n for n, k in inputs if k == "full")].shape
        rows, cols = shape
        self.inputs, self.scalars, self.targets = inputs, list(scalars), targets
        self.dims, self.labels = dims, labels
        kinds = {n: k for n, k in inputs}
        kinds.update({s: "scalar" for s in scalars})
        kinds.update({d: "scalar" for d in dims})
        self.kinds = kinds
        plan = self.plan = Plan(kinds, rows, cols)
        stripped = [(n, plan.strip(e)) for n, e in targets]
        for r in plan.reds:
            r["arg"] = plan.hoist(r["arg"])
        self.items = []                          # (name, expr, kind, pos)
        for n, e in stripped:
            k = plan.kind_of(e)
            self.items.append((n, plan.hoist(e) if k == "full" else e, k, plan.pos(e)))
        self.sweeps = 1 + max([r["pos"][0] for r in plan.reds] +
                              [p[0] for _, _, k, p in self.items if k in ("full", "row")] + [0])
        self.hoist_by_sym = {sym.name: (e, k) for e, (sym, k) in plan.hoists.items()}
        # a row statistic is stored for the rows of a later sweep only when one reads it
        self.stored = {r["sym"] for s in range(self.sweeps) for p in range(self.passes_of(s))
                       for r in plan.reds if r["axis"] == "row" and r["pos"][0] < s
                       and r["sym"] in self.pass_of(s, p)[4]}
        self.forms = row_forms(plan, self.sweeps, self.passes_of, labels, kinds)

    def small_deps(self, exprs, kind):
        """The hoisted symbols of ``kind`` that ``exprs`` need, dependencies first."""
        out = []

        def visit(e):
            for s in sorted(e.free_symbols, key=lambda s: s.name):
                if s.name in self.hoist_by_sym and s.name not in out:
                    he, hk = self.hoist_by_sym[s.name]
                    visit(he)
                    if hk == kind:
                        out.append(s.name)
        for e in exprs:
            visit(e)
        return out

    def passes_of(self, s):
        return 1 + max([r["pos"][1] for r in self.plan.reds if r["pos"][0] == s] +
                       [p[1] for _, _, k, p in self.items if p[0] == s and k in ("full", "row")])

    def pass_of(self, s, p):
        """(reductions, outputs, full-size exprs, row outputs, symbols read) of pass p."""
        reds = [r for r in self.plan.reds if r["pos"] == (s, p)]
        outs = [(n, e, k) for n, e, k, q in self.items if q == (s, p)]
        full = [r["arg"] for r in reds] + [e for _, e, k in outs if k == "full"]
        row_out = [(n, e) for n, e, k in outs if k == "row"]
        need = set().union(*(e.free_symbols for e in full + [e for _, e in row_out])) \
            if full or row_out else set()
        for h in self.small_deps(full + [e for _, e in row_out], "row"):
            need |= self.hoist_by_sym[h][0].free_symbols
        return reds, outs, full, row_out, need

    def mode(self, s, parallel) -> str:
        """How sweep s loops: ``serial``, ``rows`` (prange over chunks of rows) or
        ``split`` (it sums along columns: prange over :data:`_PARTS` parts of the rows,
        each summing its rows' columns, the parts' sums added in order after the loop)."""
        if not parallel:
            return "serial"
        along = any(r["axis"] == "col" for r in self.plan.reds if r["pos"][0] == s)
        return "split" if along else "rows"

    def source(self, fname, parallel) -> str:
        plan, labels = self.plan, self.labels
        w = Writer(plan, labels)
        args = [f"{n}_" for n, _ in self.inputs] + [f"{s}_" for s in self.scalars] + \
            [f"{n}_" for n, _ in self.targets]
        w.emit(0, '@njit(error_model="numpy", cache=True, fastmath={"contract"}'
               f'{", parallel=True" if parallel else ""})')
        w.emit(0, f"def {fname}({', '.join(args)}):")
        first = next(n for n, k in self.inputs if k == "full" and n != labels)
        w.emit(1, f"n_rows, n_cols = {first}_.shape")
        w.emit(1, f"wt = {self.targets[0][0]}_.dtype.type     # the work dtype, the results'")
        w.emit(1, "f_rows, f_cols = np.float64(n_rows), np.float64(n_cols)")
        for d, which in self.dims.items():
            w.emit(1, f"{d} = wt(n_{which})")
        for name in self.scalars:
            w.emit(1, f"{name} = wt({name}_)")
        for r in plan.reds:
            if r["sym"] in self.stored:
                w.emit(1, f"{r['sym'].name}_ = np.empty(n_rows, wt)")
        for s in range(self.sweeps + 1):
            self._between(w, s)
            if s == self.sweeps:
                break
            self._sweep(w, s, self.mode(s, parallel))
        return "\n".join(w.lines)

    def _between(self, w, s):
        """Before sweep s (after sweep s - 1): the column and scalar values it reads."""
        plan, items, hoist_by_sym = self.plan, self.items, self.hoist_by_sym
        if s < self.sweeps:
            elem = [r["arg"] for r in plan.reds if r["pos"][0] == s] + \
                   [e for _, e, k, p in items if p[0] == s and k in ("full", "row")]
        else:
            elem = []
        col_items = [(n, e) for n, e, k, p in items if k == "col" and
                     (p[0] == s or (s == self.sweeps and p[0] > s))]
        scal_items = [(n, e) for n, e, k, p in items if k == "scalar" and s == self.sweeps]
        for h in self.small_deps(elem + [e for _, e in col_items + scal_items], "scalar"):
            w.emit(1, f"{h} = {w.printer.doprint(hoist_by_sym[h][0])}")
        cols = self.small_deps(elem + [e for _, e in col_items], "col")

        def col_loads(name):
            if plan.red_of(sp.Symbol(name, real=True)) is not None:
                return f"{name} = wt({name}_[j])"
            if plan.kind.get(name) == "col":
                return f"{name} = {name}_[j]"
            return None
        if cols or col_items:
            for h in cols:
                w.emit(1, f"{h}_ = np.empty(n_cols, wt)")
            w.emit(1, "for j in range(n_cols):")
            w.block(2, [(f"{h}_[j]", hoist_by_sym[h][0], "=") for h in cols]
                    + [(f"{n}_[j]", e, "=") for n, e in col_items], col_loads)
        for n, e in scal_items:
            w.emit(1, f"{n}_[0] = {w.printer.doprint(e)}")

    def _sweep(self, w, s, mode):
        """Sweep s over the rows: its column accumulators, then the loop (``mode``)."""
        plan, labels = self.plan, self.labels
        for r in plan.reds:
            if r["pos"][0] == s and r["axis"] != "row":
                init = "-np.inf" if r["op"] == "max" else "0.0"
                w.emit(1, f"{r['sym'].name}" + (f"_ = np.full(n_cols, {init})"
                                                if r["axis"] == "col" else f" = {init}"))
        buffers = [f"row{r['sym'].name[1:]}_ = np.empty(n_cols, wt)" for r in plan.reds
                   if r["pos"][0] == s and self.forms.get(r["sym"].name, ("",))[0] == "row"]
        alls = [r for r in plan.reds if r["pos"][0] == s and r["axis"] == "all"]
        parts = {}              # a loss's term of each row, summed in row order after
        along = [r for r in plan.reds if r["pos"][0] == s and r["axis"] == "col"]
        acc = {}                # a part's sums along columns (split)
        if mode in ("rows", "split"):
            for r in alls:
                parts[r["sym"].name] = f"part{r['sym'].name[1:]}_"
                w.emit(1, f"{parts[r['sym'].name]} = np.empty(n_rows)")
            if mode == "split":
                for r in along:
                    acc[r["sym"].name] = f"{r['sym'].name}p_"
                    w.emit(1, f"{acc[r['sym'].name]} = np.full(({_PARTS}, n_cols), "
                              f"{'-np.inf' if r['op'] == 'max' else '0.0'})")
                w.emit(1, f"for c in prange({_PARTS}):")
                rows = f"c * n_rows // {_PARTS}, (c + 1) * n_rows // {_PARTS}"
            else:
                w.emit(1, f"for c in prange((n_rows + {_CHUNK - 1}) // {_CHUNK}):")
                rows = f"c * {_CHUNK}, min(n_rows, c * {_CHUNK} + {_CHUNK})"
            for b in buffers:
                w.emit(2, b)
            w.emit(2, f"for i in range({rows}):")
            indent = 3
        else:
            for b in buffers:
                w.emit(1, b)
            w.emit(1, "for i in range(n_rows):")
            indent = 2
        if labels:
            w.emit(indent, f"t_i = {labels}_[i]")
        scratch = {}                # reduced values of this row: expr -> array name
        for p in range(self.passes_of(s)):
            self._pass(w, s, p, indent, scratch, parts, acc)
        if acc:
            w.emit(1, f"for c in range({_PARTS}):")
            w.emit(2, "for j in range(n_cols):")
            for r in along:
                name = r["sym"].name
                w.emit(3, f"{name}_[j] = max({name}_[j], {acc[name]}[c, j])" if r["op"] == "max"
                       else f"{name}_[j] += {acc[name]}[c, j]")
        for r in alls:
            if r["sym"].name in parts:
                name = r["sym"].name
                w.emit(1, "for i in range(n_rows):")
                w.emit(2, f"{name} = " + (f"max({name}, {parts[name]}[i])" if r["op"] == "max"
                                          else f"{name} + ({parts[name]}[i])"))
        for r in plan.reds:
            if r["pos"][0] == s and r["mean"] and r["axis"] != "row":
                name = r["sym"].name
                if r["axis"] == "col":
                    w.emit(1, "for j in range(n_cols):")
                    w.emit(2, f"{name}_[j] = {name}_[j] / f_rows")
                else:
                    w.emit(1, f"{name} = {name} / (f_rows * f_cols)")

    def _pass(self, w, s, p, ind, scratch, parts, acc):
        """Pass p of a row of sweep s, at indent ``ind``; ``parts``, ``acc``: the buffers
        of a parallel sweep's sums (:meth:`_sweep`)."""
        plan, labels, kinds, hoist_by_sym = self.plan, self.labels, self.kinds, self.hoist_by_sym
        reds, outs, full, row_out, need = self.pass_of(s, p)
        for r in plan.reds:              # row results of earlier sweeps
            if r["axis"] == "row" and r["pos"][0] < s and r["sym"] in need:
                w.emit(ind, f"{r['sym'].name} = {r['sym'].name}_[i]")
        for name in sorted({x.name for x in need if kinds.get(x.name) == "row"}):
            w.emit(ind, f"{name} = {name}_[i]")
        for h in self.small_deps(full + [e for _, e in row_out], "row"):
            w.emit(ind, f"{h} = {w.printer.doprint(hoist_by_sym[h][0])}")
        for n, e in row_out:
            w.emit(ind, f"{n}_[i] = {w.printer.doprint(e)}")
        if not full:
            return

        def loads(name):
            k = plan.kind.get(name)
            red = plan.red_of(sp.Symbol(name, real=True))
            if red is not None and red["axis"] == "col":
                return f"{name} = wt({name}_[j])"
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
                target = f"{acc[r['sym'].name]}[c, j]" if acc else f"{r['sym'].name}_[j]"
                block.append((target, arg, "max" if r["op"] == "max" else "+="))
            elif self.forms[r["sym"].name][0] == "row":  # reduced after the loop (vectorizes)
                block.append((f"row{r['sym'].name[1:]}_[j]", arg, "="))
        block += [(f"{n}_[i, j]", e.xreplace(subs), "=") for n, e, k in outs if k == "full"]
        if block:
            w.emit(ind, "for j in range(n_cols):")
            w.block(ind + 1, block, loads)
        for r in reds:
            if r["axis"] == "col":
                continue
            name, row = r["sym"].name, f"row{r['sym'].name[1:]}"
            form, what = self.forms[name]
            reduce = f"_k_row_{r['op']}({what + '_[i]' if form == 'direct' else row + '_'})"
            if form == "picked":
                for sym in sorted(what.free_symbols, key=lambda s: s.name):
                    load = loads(sym.name)
                    if load:
                        w.emit(ind, load.replace("[i, j]", "[i, t_i]").replace("[j]", "[t_i]"))
                reduce = w.printer.doprint(what)
            if r["axis"] == "all":
                if name in parts:
                    w.emit(ind, f"{parts[name]}[i] = {reduce}")
                elif r["op"] == "max":
                    w.emit(ind, f"{name} = max({name}, {reduce})")
                else:
                    w.emit(ind, f"{name} = {name} + ({reduce})")
                continue
            w.emit(ind, f"{name} = wt({reduce}{' / f_cols' if r['mean'] else ''})")
            if r["sym"] in self.stored:
                w.emit(ind, f"{name}_[i] = {name}")
            if form == "row" and not r["arg"].is_Atom:
                scratch[r["arg"]] = row
