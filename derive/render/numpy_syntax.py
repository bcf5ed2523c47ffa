"""How the structural values of a tensor layer print in NumPy's syntax.

One mixin for the two printers that speak NumPy: the text printer (what a user can
type back into ``derive check``) and the code generator's printer (what runs).
``a @ b``, ``a.T``, ``np.sum(a, axis=1, keepdims=True)``, ``np.broadcast_to(a, (N, D))``.
"""
from __future__ import annotations

from sympy.printing.precedence import PRECEDENCE

from ..tensor import shape_of


class NumpySyntax:
    """``_print_*`` methods for MatProd, Transposed, the axis reductions and reshapes."""

    scatter_name = "scatter_add"       # the code generator's helper is _scatter_add

    def _print_MatProd(self, e):
        a, b = e.args      # Python reads a*b @ c as (a*b) @ c, a @ b*c as (a @ b)*c
        return f"{self.parenthesize(a, PRECEDENCE['Mul'])} @ {self.parenthesize(b, PRECEDENCE['Mul'])}"

    def _print_Transposed(self, e):
        return f"{self.parenthesize(e.args[0], PRECEDENCE['Atom'], strict=True)}.T"

    def _reduction(self, e, fn):
        args = [self._print(e.args[0])]
        if len(e.axes) < len(shape_of(e.args[0])) or e.keepdims:
            args.append(f"axis={e.axes[0] if len(e.axes) == 1 else tuple(e.axes)}")
        if e.keepdims:
            args.append("keepdims=True")
        return f"np.{fn}({', '.join(args)})"

    def _print_AxisSum(self, e):
        return self._reduction(e, "sum")

    def _print_AxisMean(self, e):
        return self._reduction(e, "mean")

    def _print_AxisMax(self, e):
        return self._reduction(e, "max")

    def _dims(self, dims) -> str:
        items = [str(int(d)) if d.is_Integer else self._print(d) for d in dims]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def _print_BroadcastTo(self, e):
        return f"np.broadcast_to({self._print(e.args[0])}, {self._dims(e.args[1:])})"

    def _print_ExpandDims(self, e):
        axes = e.axes[0] if len(e.axes) == 1 else tuple(e.axes)
        return f"np.expand_dims({self._print(e.args[0])}, {axes})"

    def _print_Gather(self, e):
        W, idx = e.args
        return f"{self.parenthesize(W, PRECEDENCE['Atom'], strict=True)}[{self._print(idx)}]"

    def _print_ScatterAdd(self, e):
        G, idx = e.args[:2]
        W = self.parenthesize(e.args[2], PRECEDENCE['Atom'], strict=True)
        return f"{self.scatter_name}({self._print(G)}, {self._print(idx)}, {W}.shape)"

    def _print_Outputs(self, e):
        return "(" + ", ".join(self._print(v) for v in e.args) + ")"

    def _print_Part(self, e):
        return f"{self.parenthesize(e.args[0], PRECEDENCE['Atom'], strict=True)}[{int(e.args[1])}]"

    def _print_Slice(self, e):
        a, axis, start, stop = e.args
        parts = [":"] * (int(axis) + 1)
        from sympy.printing.str import sstr        # bounds are integers: 2*H, not 2.0*H
        lo = "" if start == 0 else sstr(start)
        hi = "" if stop == shape_of(a)[int(axis)] else sstr(stop)
        parts[int(axis)] = f"{lo}:{hi}"
        return f"{self.parenthesize(a, PRECEDENCE['Atom'], strict=True)}[{', '.join(parts)}]"

    def _print_Place(self, e):
        from sympy.printing.str import sstr
        G, axis, start, stop, like = e.args
        name = "_place" if self.scatter_name.startswith("_") else "place"
        return (f"{name}({self._print(G)}, {self.parenthesize(like, PRECEDENCE['Atom'], strict=True)}"
                f".shape, {int(axis)}, {sstr(start)}, {sstr(stop)})")

    def _print_Concat(self, e):
        parts = ", ".join(self._print(p) for p in e.parts)
        return f"np.concatenate([{parts}], axis={e.axis})"

    def _print_Reshape(self, e):
        return f"np.reshape({self._print(e.args[0])}, {self._dims(e.args[1:])})"

    def _print_Einsum(self, e):
        a, b = (self._print(v) for v in e.args[:2])
        return f"np.einsum('{e.subscripts}', {a}, {b})"

    def _window_args(self, e):
        return ", ".join(self._print(v) for v in e.args)

    def _print_Windows(self, e):
        return f"windows({self._window_args(e)})"

    def _print_Fold(self, e):
        return f"fold({self._window_args(e)})"

    def _print_FirstMax(self, e):
        axes = e.axes[0] if len(e.axes) == 1 else tuple(e.axes)
        return f"first_max({self._print(e.args[0])}, axis={axes})"

    def _print_InRange(self, e):
        return f"[0 <= {self._print(e.args[0])} < {self._print(e.args[1])}]"
