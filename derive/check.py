"""Check a hand-written backward pass: prove it right, or refute it with a point.

The reference is SymPy's own derivative, ``dout * diff(forward, x)``; ``out`` in
the user's expression stands for the forward formula. A :class:`Verdict` is
``proven`` (with the kind of proof, and what happens at a kink), ``not_equal``
(with a point where the two differ and, when one is found, why: dout missing,
a constant factor, ...) or ``unproven`` (numeric agreement is never a proof).

>>> report = check("sigmoid", backward="dout * (1.0 - out) * out")
>>> report.exit_code, report.verdicts[0].proof.method
(0, 'symbolic')
>>> check("sigmoid", backward="dout*out").verdicts[0].status
'not_equal'
>>> check("sigmoid", backward="out*(1 - out)").verdicts[0].reasons[0]
'your expression does not use dout'
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import catalogue
from .derivation import derive_spec, spec_from_text
from .errors import DeriveError
from .parse import parse_formula
from .proof import Counterexample, Proof, compare, kink_point, numeric_compare
from .render.printers import text as show
from .steps import dout, out


@dataclass(frozen=True)
class Kink:
    """What the checked gradient does where the derivative is only a convention."""

    point: dict        # e.g. {"x": 0}
    yours: sp.Expr
    convention: sp.Expr | None   # the derivation's value there (the book's convention)
    note: str = ""

    @property
    def agrees(self) -> bool:
        return self.convention is not None and sp.simplify(self.yours - self.convention) == 0


@dataclass(frozen=True)
class Verdict:
    """The verdict on the gradient to one input."""

    input: str
    status: str                 # proven | not_equal | unproven
    given: sp.Expr              # as typed (names dout, out, inputs, params)
    expected: sp.Expr           # the derivation's cached form, or dout * diff(forward, x)
    proof: Proof | None = None
    counterexample: Counterexample | None = None
    out_value: float | None = None   # out at the counterexample
    agreed: int = 0
    reasons: tuple = ()
    kink: Kink | None = None

    def lines(self, layer: str) -> list:
        head = f"{layer}, ∂L/∂{self.input}: "
        body = [f"  yours:    {show(self.given)}", f"  expected: {show(self.expected)}"]
        if self.status == "proven":
            p = self.proof
            where = " except at the kink" if self.kink else ""
            lines = [head + f"proven equal{where} ({p.method}: {p.detail}; "
                     f"numeric cross-check at {p.points} points)", *body]
            if self.kink:
                lines.append("  " + _kink_text(self.kink))
            return lines
        if self.status == "not_equal":
            lines = [head + "NOT equal", *body, "  " + self._point_text()]
            return lines + [f"  {r}" for r in self.reasons]
        return [head + f"could not prove equal (they agree at {self.agreed} random points, "
                "which is not a proof)", *body]

    def _point_text(self) -> str:
        ce = self.counterexample
        at = ", ".join(f"{k} = {v:.6g}" for k, v in ce.point.items())
        extra = f" (out = {self.out_value:.6g})" if self.out_value is not None else ""
        return f"at {at}{extra}: yours {_num(ce.left)}, expected {_num(ce.right)}"

    def to_dict(self) -> dict:
        d = {"input": self.input, "status": self.status, "given": str(self.given),
             "expected": str(self.expected), "reasons": list(self.reasons)}
        if self.proof is not None:
            d["proof"] = self.proof.to_dict()
        if self.counterexample is not None:
            ce = self.counterexample
            d["counterexample"] = {"point": dict(ce.point), "yours": _num(ce.left),
                                   "expected": _num(ce.right), "out": self.out_value}
        if self.status == "unproven":
            d["agreed_points"] = self.agreed
        if self.kink is not None:
            k = self.kink
            d["kink"] = {"point": {n: str(v) for n, v in k.point.items()},
                         "yours": str(k.yours), "note": k.note, "agrees": k.agrees,
                         "convention": None if k.convention is None else str(k.convention)}
        return d


@dataclass
class CheckReport:
    """Verdicts for every checked input; exit code 0 only when all are proven."""

    layer: str
    verdicts: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.status == "proven" for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_text(self) -> str:
        return "\n".join(line for v in self.verdicts for line in v.lines(self.layer)) + "\n"

    def to_dict(self) -> dict:
        return {"layer": self.layer, "ok": self.ok, "exit_code": self.exit_code,
                "results": [v.to_dict() for v in self.verdicts]}


def _num(v) -> str:
    c = complex(v)
    return f"{c.real:.6g}" if c.imag == 0 else f"{c:.6g}"


def _kink_text(k: Kink) -> str:
    at = ", ".join(f"{n} = {v}" for n, v in k.point.items())
    if k.convention is None:
        return f"at {at} yours gives {show(k.yours)} (the derivative is only a convention there)"
    if k.agrees:
        return f"at {at} yours gives {show(k.yours)}, as the book's convention does" + (
            f" ({k.note})" if k.note else "")
    return (f"at {at} yours gives {show(k.yours)}; the book's convention is "
            f"{show(k.convention)}" + (f" ({k.note})" if k.note else ""))


def _cheap_simplify(e: sp.Expr) -> sp.Expr:
    e = sp.cancel(sp.together(e))
    return sp.simplify(e) if sp.count_ops(e) < 40 else e


def _why(given: sp.Expr, reference: sp.Expr) -> tuple:
    """Reasons a user can act on, found cheaply; may be empty."""
    reasons = []
    if dout in reference.free_symbols and dout not in given.free_symbols:
        return ("your expression does not use dout",)
    if given == 0 or reference == 0 or given.has(sp.Piecewise) or reference.has(sp.Piecewise):
        return tuple(reasons)
    try:
        ratio = _cheap_simplify(given / reference)
        if ratio.is_number and ratio != 1:
            reasons.append(f"it differs by a constant factor {show(ratio)}")
        elif ratio != 1 and sp.count_ops(ratio) <= 3:
            reasons.append(f"it differs by a factor {show(ratio)}")
        else:
            gap = _cheap_simplify(given - reference)
            if gap.is_number:
                reasons.append(f"it differs by a constant {show(gap)}")
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        pass
    return tuple(reasons)


def check_gradient(spec, x: sp.Symbol, given: sp.Expr, book: sp.Expr | None = None) -> Verdict:
    """Compare ``given`` (may use out) with ``dout * diff(forward, x)``.

    ``book`` is the derivation's result, used to show and to settle conventions at kinks.
    """
    reference = dout * sp.diff(spec.forward, x)
    unfolded = given.xreplace({out: spec.forward})
    expected = book if book is not None else reference
    result = compare(unfolded, reference, domain=spec.forward)   # only where out is real
    if isinstance(result, Proof):
        return Verdict(x.name, "proven", given, expected, proof=result,
                       kink=_kink(spec, unfolded, reference, book, result))
    if isinstance(result, Counterexample):
        point = {s: sp.Float(v) for s, v in _symbols_at(result.point, unfolded, reference)}
        out_value = None
        if out in given.free_symbols or (book is not None and out in book.free_symbols):
            try:
                out_value = float(spec.forward.xreplace(point))
            except (TypeError, ValueError):
                out_value = None
        return Verdict(x.name, "not_equal", given, expected, counterexample=result,
                       out_value=out_value, reasons=_why(unfolded, reference))
    agreed, _ = numeric_compare(unfolded, reference, domain=spec.forward)
    return Verdict(x.name, "unproven", given, expected, agreed=agreed)


def _symbols_at(point: dict, *exprs):
    by_name = {s.name: s for e in exprs for s in e.free_symbols}
    return [(by_name[n], v) for n, v in point.items() if n in by_name]


def _kink(spec, unfolded, reference, book, proof) -> Kink | None:
    if not proof.kink_note:
        return None
    at = kink_point(unfolded - reference)     # on a switching set (x = 0, t*x = 1, ...)
    yours = sp.simplify(unfolded.xreplace(at))
    convention = None
    if book is not None:
        convention = sp.simplify(book.xreplace({out: spec.forward}).xreplace(at))
    return Kink({s.name: v for s, v in at.items()}, yours, convention, "; ".join(spec.notes))


def check_spec(spec, backward: str, wrt=None) -> CheckReport:
    """Check ``backward`` (text, parsed safely) for the layer ``spec``."""
    formula = parse_formula(backward, spec.symbols(), allow_tuple=True)
    given = formula.expr
    if wrt is not None:
        inputs = [_input(spec, wrt)]
    else:
        inputs = list(spec.inputs)
    parts = list(given) if isinstance(given, tuple) else [given]
    if len(parts) != len(inputs):
        names = ", ".join(s.name for s in inputs)
        if len(inputs) > 1:
            raise DeriveError(f"{spec.name} has inputs {names}: give one gradient per input, "
                              f"in order, separated by a comma (e.g. \"dout*y, dout*x\"), "
                              f"or choose one with --wrt")
        raise DeriveError(f"expected one expression (the gradient to {names}), "
                          f"got {len(parts)}")
    try:
        book = derive_spec(spec, [s.name for s in inputs]).result
    except DeriveError:
        book = {}     # no proven walkthrough: the check still stands on sympy.diff
    report = CheckReport(spec.name)
    for x, g in zip(inputs, parts):
        report.verdicts.append(check_gradient(spec, x, sp.sympify(g), book.get(x.name)))
    return report


def _input(spec, name):
    for s in spec.inputs:
        if s.name == name:
            return s
    raise DeriveError(f"--wrt {name}: {spec.name} has inputs {', '.join(spec.input_names)}")


@dataclass
class MatrixCheckReport:
    """The verdict on a NumPy backward line for a matrix layer (:func:`derive.matrix.check_matrix`).

    Exit 0 only when proven for all shapes; agreeing numerically at some sizes is not a proof.
    """

    layer: str
    wrt: str
    given: str
    result: object        # derive.matrix.MatrixCheck

    @property
    def ok(self) -> bool:
        return self.result.verdict == "proven"

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def status(self) -> str:
        return {"proven": "proven", "checked": "unproven"}.get(self.result.verdict, "not_equal")

    def message(self) -> str:
        r = self.result
        if r.verdict == "proven":
            return f"proven for all shapes: {r.message}"
        if r.verdict == "checked":
            return "not proven: " + r.message
        return f"NOT equal ({r.reason}): {r.message}"

    def to_text(self) -> str:
        return "\n".join([f"{self.layer}, ∂L/∂{self.wrt}: {self.message()}",
                          f"  yours:    {self.given}", f"  expected: {self.result.expected}"]) + "\n"

    def to_dict(self) -> dict:
        r = self.result
        return {"layer": self.layer, "kind": "matrix", "ok": self.ok, "exit_code": self.exit_code,
                "results": [{"input": self.wrt, "status": self.status, "verdict": r.verdict,
                             "reason": r.reason, "message": self.message(),
                             "given": self.given, "expected": r.expected}]}


def check_matrix_layer(name: str, backward: str, wrt=None) -> MatrixCheckReport:
    """Check a NumPy backward line for the matrix layer ``name`` (parsed, never evaluated)."""
    from .matrix import check_matrix, specs
    layer = specs.get(name)
    if wrt is None:
        if len(layer.inputs) != 1:
            raise DeriveError(f"{name} has inputs {', '.join(layer.inputs)}: choose the one your "
                              "line is the gradient to with --wrt (e.g. --wrt "
                              f"{list(layer.inputs)[-1]})")
        wrt = next(iter(layer.inputs))
    result = check_matrix(name, backward, wrt)
    if result.verdict == "refuted" and result.reason == "parse":
        raise DeriveError(f"--backward: {result.message}")
    return MatrixCheckReport(name, wrt, backward, result)


def check(name: str | None = None, *, expr: str | None = None, backward: str, wrt=None,
          var=None):
    """Check a catalogue layer by name, or a custom formula given as text.

    A matrix layer (``affine`` ...) gives a :class:`MatrixCheckReport`.
    """
    if (name is None) == (expr is None):
        raise DeriveError("give a layer name or --expr, not both")
    if name is not None and catalogue.is_matrix(name):
        if var is not None:
            raise DeriveError("--var applies only to --expr")
        return check_matrix_layer(name, backward, wrt)
    spec = catalogue.get(name) if name is not None else spec_from_text(expr, var, parse_formula)
    return check_spec(spec, backward, wrt)
