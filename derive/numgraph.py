"""A formula evaluated as the book's worked figures are: every node's value and the gradient through it.

The formula is parsed safely (:func:`derive.parse.parse_formula`), decomposed
into primitive nodes (:func:`derive.graph.decompose`), evaluated forward with
each rule's ``value`` and backward with each rule's ``local`` derivative: the
same rule table the derivations use, at numbers.

>>> r = evaluate("apple*apple_num*tax", {"apple": 100, "apple_num": 2, "tax": 1.1})
>>> show(r.value), {k: show(v) for k, v in r.grad.items()}
('220', {'apple': '2.2', 'apple_num': '110', 'tax': '200'})
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import sympy as sp

from .errors import DeriveError
from .graph import decompose
from .parse import parse_formula

__all__ = ["NumGraph", "evaluate", "parse_values", "show"]


@dataclass
class NumGraph:
    """Forward value and gradient of every node; ``grad`` of the output w.r.t. each input."""

    value: float
    grad: dict
    nodes: list  # dicts: name, label, op, value, grad

    def to_dict(self) -> dict:
        return {"value": self.value, "grad": dict(self.grad), "nodes": list(self.nodes)}


def show(v: float) -> str:
    """A float rounded for reading (12 significant digits): 220.00000000000003 → '220'."""
    if not math.isfinite(v):
        return str(v)
    text = f"{v:.12g}"
    return "0" if text == "-0" else text


def parse_values(text: str) -> dict:
    """'a=1,b=2.5' → {'a': 1.0, 'b': 2.5}; anything else is a DeriveError."""
    values = {}
    for item in filter(None, (s.strip() for s in (text or "").split(","))):
        name, eq, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not eq or not name or not raw:
            raise DeriveError(f"--at {item!r}: write name=value, e.g. --at x=1.5,y=2")
        try:
            v = float(raw)
        except ValueError:
            raise DeriveError(f"--at {name}={raw}: not a number") from None
        if not math.isfinite(v):
            raise DeriveError(f"--at {name}={raw}: not a finite number")
        values[name] = v
    return values


#: the largest magnitude a float64 holds (``sys.float_info.max``)
FLOAT_MAX = sys.float_info.max


def _outside(what: str, v) -> DeriveError:
    digits = float(sp.N(sp.log(abs(v), 10), 15))
    # never format() a huge Float: it goes through Decimal, which refuses such exponents
    shown = f"10**{digits:.6g}" if digits > 1e4 else sp.sstr(sp.Float(v, 6))
    return DeriveError(f"{what} is outside the float range at these values (about {shown}; "
                       f"a float holds magnitudes up to {FLOAT_MAX:.3g})")


def _num(e, what: str) -> float:
    """``e`` at numbers as a float; undefined (complex, nan, 1/0) or beyond the float range
    is a DeriveError that says which."""
    try:
        v = sp.N(e, 30)
        if v.has(sp.nan, sp.zoo):
            raise DeriveError(f"{what} is undefined at these values")
        real, imag = v.as_real_imag()
        if imag != 0:
            raise DeriveError(f"{what} is undefined at these values (not a real number)")
        if real.has(sp.nan, sp.zoo) or not real.is_Number:
            raise DeriveError(f"{what} is undefined at these values")
        if real.is_infinite or abs(real) > FLOAT_MAX:
            raise _outside(what, real)
        return float(real)
    except (TypeError, ValueError, ArithmeticError):
        raise DeriveError(f"{what} is undefined at these values") from None


def _within(v, what: str):
    """``v`` (an accumulated gradient), refused when beyond the float range."""
    if abs(v) > FLOAT_MAX:
        raise _outside(what, v)
    return v


def evaluate(text: str, values: dict) -> NumGraph:
    """Every node's value (forward) and the gradient flowing back through it (backward)."""
    formula = parse_formula(text)
    if isinstance(formula.expr, tuple):
        raise DeriveError("give one formula, not a tuple")
    names = list(formula.names)
    missing = [n for n in names if n not in values]
    if missing:
        raise DeriveError(f"--at has no value for {', '.join(missing)}")
    extra = [n for n in values if n not in names]
    if extra:
        raise DeriveError(f"--at names {', '.join(extra)}, which the formula does not use "
                          f"(it uses {', '.join(names) or 'no names'})")
    if not names:
        raise DeriveError("the formula has no input: it is a constant")
    symbols = {s.name: s for s in formula.expr.free_symbols}
    graph = decompose(formula.expr, [symbols[n] for n in names])
    val: dict = {}
    for node in graph.nodes:
        if node.op == "input":
            val[node.id] = sp.Float(values[node.name], 30)
        else:
            e = node.rule.value_at([val[a] for a in node.args], node.const)
            val[node.id] = sp.Float(_num(e, f"node {node.name} ({node.label()})"), 30)
    grad = {node.id: sp.Float(0, 30) for node in graph.nodes}
    grad[graph.output] = sp.Float(1, 30)
    for node in reversed(graph.nodes):
        if node.op == "input":
            continue
        locals_ = node.rule.local_at([val[a] for a in node.args], val[node.id], node.const)
        for a, local in zip(node.args, locals_):
            d = _num(local, f"the local derivative of node {node.name} ({node.label()})")
            grad[a] = _within(grad[a] + grad[node.id] * d, f"the gradient at node {a}")
    nodes = [{"name": n.name, "label": n.label(), "op": n.op, "value": float(val[n.id]),
              "grad": float(grad[n.id])} for n in graph.nodes]
    by_name = {n.name: n.id for n in graph.nodes if n.op == "input"}
    return NumGraph(float(val[graph.output]), {n: float(grad[by_name[n]]) for n in names}, nodes)
