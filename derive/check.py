"""Check a hand-written backward pass: prove it right, or refute it with a point.

The reference is SymPy's own derivative, ``dout * diff(forward, x)``; ``out`` in
the user's expression stands for the forward formula. A :class:`Verdict` is
``proven`` (with the kind of proof, and what happens at a kink), ``not_equal``
(with a point where the two differ and, when one is found, why: dout missing,
a constant factor, ...) or ``unproven`` (numeric agreement is never a proof).

Tensor layers are checked by :mod:`derive.check_tensor` (proven for every size in index
form, or refuted at concrete sizes), with the same verdicts and exit codes.

>>> from derive import catalogue
>>> sigmoid = catalogue.get("sigmoid")
>>> report = check(sigmoid, "dout * (1.0 - out) * out")
>>> report.exit_code, report.verdicts[0].proof.method
(0, 'symbolic')
>>> check(sigmoid, "dout*out").verdicts[0].status
'not_equal'
>>> check(sigmoid, "out*(1 - out)").verdicts[0].reasons[0][:40]
'your formula leaves out dout; it is corr'
>>> check(sigmoid, "2*out*(1 - out)").verdicts[0].reasons
('your expression does not use dout', 'it differs by a constant factor 2 (it is 2 times the expected gradient) at dout = 1')
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .derivation import derive_spec
from .check_names import names_text, student_names, unfold_names, with_hint
from .errors import DeriveError, FormulaShapeError, ParseError
from .parse import parse_formula
from .proof import Counterexample, Proof, compare, kink_point, numeric_compare
from .render.printers import text as show
from .rules import diff as rules_diff
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
    every_size: bool = False    # a tensor layer's verdict: proven for every size of every dim

    def lines(self, layer: str) -> list:
        head = f"{layer}, ∂L/∂{self.input}: "
        body = [f"  yours:    {show(self.given)}", f"  expected: {show(self.expected)}"]
        if self.status == "proven":
            p = self.proof
            where = " except at the kink" if self.kink else ""
            where += " for every size of every dimension" if self.every_size else ""
            lines = [head + f"proven equal{where} ({p.method}: {p.detail}; "
                     f"numeric cross-check at {p.points} points)", *body]
            if self.kink:
                lines.append("  " + _kink_text(self.kink))
            return lines
        if self.status == "not_equal":
            if self.reasons[:1] == (DOUT_ONE,):    # the point would only show dout != 1
                return [head + "NOT equal", *body, f"  {DOUT_ONE}"]
            lines = [head + "NOT equal", *body]
            if self.counterexample is not None:
                lines.append("  " + self._point_text())
            return lines + [f"  {r}" for r in self.reasons]
        return [head + f"could not prove equal (they agree at {self.agreed} random points, "
                "which is not a proof)", *body]

    def _point_text(self) -> str:
        ce = self.counterexample
        at = ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}"
                       for k, v in ce.point.items())
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
    node: str | None = None       # --node: the verdict is on the gradient at this graph node

    @property
    def ok(self) -> bool:
        return all(v.status == "proven" for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_text(self) -> str:
        return "\n".join(line for v in self.verdicts for line in v.lines(self.layer)) + "\n"

    def to_dict(self) -> dict:
        d = {"layer": self.layer, "ok": self.ok, "exit_code": self.exit_code,
             "results": [v.to_dict() for v in self.verdicts]}
        return d if self.node is None else {**d, "node": self.node}


def _num(v) -> str:
    try:
        c = complex(v)
    except (TypeError, ValueError):
        return str(v)
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


DOUT_ONE = ("your formula leaves out dout; it is correct when dout = 1, as for a final loss "
            "(multiply by dout to pass the upstream gradient on)")


def _factor_reason(given: sp.Expr, reference: sp.Expr) -> str | None:
    """"it has the wrong sign", "it is 2 times the expected gradient", ... or None."""
    ratio = _cheap_simplify(given / reference)
    if ratio == -1:
        return "it has the wrong sign: it is minus the expected gradient"
    if ratio.is_number and ratio != 1:
        return f"it differs by a constant factor {show(ratio)} (it is {show(ratio)} times " \
               "the expected gradient)"
    if ratio != 1 and sp.count_ops(ratio) <= 3:
        return f"it differs by a factor {show(ratio)}"
    return None


def _why(given: sp.Expr, reference: sp.Expr) -> tuple:
    """Reasons a user can act on, found cheaply; may be empty."""
    reasons = []
    if dout in reference.free_symbols and dout not in given.free_symbols:
        at_one = reference.xreplace({dout: sp.Integer(1)})
        if isinstance(compare(given, at_one), Proof):
            return (DOUT_ONE,)
        reasons.append("your expression does not use dout")
        reference = at_one
    if given == 0 or reference == 0 or given.has(sp.Piecewise) or reference.has(sp.Piecewise):
        return tuple(reasons)
    try:
        factor = _factor_reason(given, reference)
        if factor is not None:
            reasons.append(factor + (" at dout = 1" if reasons else ""))
        else:
            gap = _cheap_simplify(given - reference)
            if gap.is_number:
                reasons.append(f"it differs by a constant {show(gap)}")
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        pass
    return tuple(reasons)


def check_gradient(spec, x: sp.Symbol, given: sp.Expr, book: sp.Expr | None = None, *,
                   reference: sp.Expr | None = None, unfold: dict | None = None) -> Verdict:
    """Compare ``given`` (may use out) with ``dout * diff(forward, x)``.

    ``book`` is the derivation's result, used to show and to settle conventions at kinks.
    For a node's gradient, ``reference`` is SymPy's ∂L/∂node (in the inputs) and ``unfold``
    maps every name the formula may read (graph nodes too) to its value in the inputs.
    """
    unfold = unfold_map(spec) if unfold is None else unfold
    if reference is None:
        reference = dout * rules_diff(spec.forward, x)
    unfolded = given.xreplace(unfold)
    expected = book if book is not None else reference
    result = compare(unfolded, reference, domain=spec.forward)   # only where out is real
    if isinstance(result, Proof):
        return Verdict(x.name, "proven", given, expected, proof=result,
                       kink=_kink(spec, unfolded, reference, book, result, unfold))
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


def unfold_map(spec) -> dict:
    """symbol -> value in the inputs, for every cached name (out, statements, aliases)."""
    symbols = spec.symbols()
    return {symbols[n]: v for n, v in spec.named().items() if n in symbols}


def _symbols_at(point: dict, *exprs):
    by_name = {s.name: s for e in exprs for s in e.free_symbols}
    return [(by_name[n], v) for n, v in point.items() if n in by_name]


def _kink(spec, unfolded, reference, book, proof, unfold) -> Kink | None:
    if not proof.kink_note:
        return None
    at = kink_point(unfolded - reference)     # on a switching set (x = 0, t*x = 1, ...)
    yours = sp.simplify(unfolded.xreplace(at))
    convention = None
    if book is not None:
        convention = sp.simplify(book.xreplace(unfold).xreplace(at))
    return Kink({s.name: v for s, v in at.items()}, yours, convention, "; ".join(spec.notes))


def read_backward(spec, d, backward: str):
    """``backward`` parsed safely with the names a student may use (:mod:`derive.check_names`):
    an unknown name is a :class:`ParseError` that lists them."""
    # the names a derivation's results use are the graph's nodes': all known
    graph = d.graph if d is not None else None
    names = student_names(spec, graph)
    try:
        return parse_formula(backward, names, allow_tuple=True)
    except FormulaShapeError:
        raise
    except ParseError as exc:
        raise with_hint(exc, names, names_text(spec=spec, graph=graph)) from None


def check(spec, backward: str, wrt=None, node=None) -> CheckReport:
    """Check ``backward`` (text, parsed safely) for the layer ``spec`` (a
    :class:`~derive.spec.LayerSpec`, from the catalogue or :mod:`derive.program`).

    The formula may use every name of the layer: ``dout``, ``out`` (and the output's own
    name, and ``y`` unless the layer has a ``y`` of its own), the inputs, weights, consts,
    params, dimensions, the statements' names and the graph's node names (``a``, ``b``...).
    With ``node``, it is the gradient ∂L/∂node arriving at that node of the graph
    (:func:`derive.check_node.check_node`).
    """
    if node is not None:
        if wrt is not None:
            raise DeriveError("give --wrt (an input) or --node (a node of the graph), not both")
        from .check_node import check_node
        return check_node(spec, backward, node)
    inputs = [_input(spec, wrt)] if wrt is not None else list(spec.differentiable)
    from .derivation import is_tensor
    try:
        d = derive_spec(spec, [s.name for s in inputs])
    except DeriveError:
        if is_tensor(spec):
            raise
        d = None      # no proven walkthrough: the check still stands on sympy.diff
    try:
        formula = read_backward(spec, d, backward)
    except FormulaShapeError as exc:
        report = CheckReport(spec.name)
        for x in inputs:
            expected = d.result[x.name] if d is not None else sp.nan
            report.verdicts.append(Verdict(x.name, "not_equal", sp.Symbol(backward), expected,
                                           reasons=(f"shape error for every size: {exc}",)))
        return report
    given = formula.expr
    parts = list(given) if isinstance(given, tuple) else [given]
    if len(parts) != len(inputs):
        names = ", ".join(s.name for s in inputs)
        if len(inputs) > 1:
            raise DeriveError(f"{spec.name} has inputs {names}: give one gradient per input, "
                              f"in order, separated by a comma (e.g. \"dout*y, dout*x\"), "
                              f"or choose one with --wrt")
        raise DeriveError(f"expected one expression (the gradient to {names}), "
                          f"got {len(parts)}")
    report = CheckReport(spec.name)
    for x, g in zip(inputs, parts):
        if is_tensor(spec):
            from .check_tensor import check_tensor_gradient
            report.verdicts.append(check_tensor_gradient(d, x, g))
        else:
            book = d.result.get(x.name) if d is not None else None
            unfold = unfold_names(spec, d.graph if d is not None else None)
            report.verdicts.append(check_gradient(spec, x, sp.sympify(g), book, unfold=unfold))
    return report


def _input(spec, name):
    for s in spec.differentiable:
        if s.name == name:
            return s
    names = ", ".join(s.name for s in spec.differentiable)
    raise DeriveError(f"--wrt {name}: {spec.name} has inputs {names}")
