"""Switches: where an expression picks a branch, and the expression once a sign is known.

A switch is an expression whose sign decides a value: ``lhs - rhs`` of a branch condition,
``a - b`` of ``Max(a, b)``/``Min(a, b)``, ``u`` of ``Abs(u)``, ``sign(u)``,
``Heaviside(u)`` and ``DiracDelta(u)``. These atoms are handled as they are -- never
rewritten as Piecewise first, since SymPy folds a Piecewise inside a condition, which
can take minutes.

* :func:`exposed` -- a switch that is evaluated wherever the expression is (not inside a
  branch that may not be taken), innermost first;
* :func:`collapse` -- the expression with every atom on one switch decided, for a given
  sign of the switch (1, -1, or 0: on its zero set);
* :func:`zero_set` and :func:`kink_point` -- a switch's zero set solved for one symbol,
  and a point on it (to show what each side gives at a kink).

Every walk visits each distinct sub-expression once (SymPy expressions share them).

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> from derive.feasible import key
>>> e = sp.Max(0, x - y) + sp.Piecewise((1, x < y), (2, True))
>>> key(exposed(e))          # the switch x - y, up to a constant factor: (p, c)
(x - y, -1)
>>> collapse(e, key(x - y)[0], -1, key)     # where x - y < 0: Max(0, x - y) = 0, and 1
1
"""
from __future__ import annotations

import sympy as sp
from sympy.core.relational import Relational

from .crosscheck import relationals, switch_expressions
from .feasible import SYMPY_ERRORS
from .intervals import kink_symbols
from .sizes import has_any

KINDS = (sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta)
_ONE_ARG = (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta)


def _evaluated(cond) -> list:
    """The relations a condition always evaluates (of an ITE, only its test)."""
    while isinstance(cond, sp.ITE):
        cond = cond.args[0]
    return relationals(cond)


def exposed(e):
    """A switch evaluated wherever ``e`` is, with none inside it; or None."""
    clean: set = set()

    def walk(node):
        if node in clean or not isinstance(node, sp.Basic):
            return None
        if isinstance(node, sp.Piecewise):
            rels = _evaluated(node.args[0][1])
            for rel in rels:
                inner = walk(rel.lhs) or walk(rel.rhs)
                if inner is not None:
                    return inner
            if rels:
                return rels[0].lhs - rels[0].rhs
        elif not isinstance(node, Relational):
            for arg in node.args:
                inner = walk(arg)
                if inner is not None:
                    return inner
            if isinstance(node, (sp.Max, sp.Min)) and len(node.args) > 1:
                return node.args[0] - node.args[1]
            if isinstance(node, _ONE_ARG):
                return node.args[0]
        clean.add(node)
        return None

    return walk(e)


def collapse(e, p, sign: int, key):
    """``e`` with every atom on the switch ``p`` decided, ``p`` having this sign.

    ``key(g)`` gives ``(p, c)`` with ``g == c*p``; bottom-up, so an atom is decided on
    its already decided arguments.
    """
    memo: dict = {}

    def walk(node):
        if not getattr(node, "args", ()):
            return node
        done = memo.get(node)
        if done is None:
            args = tuple(walk(a) for a in node.args)
            done = node.func(*args) if args != node.args else node
            done = memo[node] = _decide(done, p, sign, key)
        return done

    return walk(e)


def _sign_of(g, p, sign, key):
    """The sign of ``g`` if it is a multiple of the switch ``p``, else None."""
    q, c = key(g)
    if q != p:
        return None
    return sign * (1 if c > 0 else -1)


def _decide(node, p, sign, key):
    if isinstance(node, Relational):
        s = _sign_of(node.lhs - node.rhs, p, sign, key)
        return node if s is None else truth(node.rel_op, s)
    if isinstance(node, (sp.Max, sp.Min)):
        return _pick(node, p, sign, key)
    if isinstance(node, _ONE_ARG):
        u = node.args[0]
        s = _sign_of(u, p, sign, key)
        if s is None:
            return node
        if isinstance(node, sp.Abs):
            return u if s > 0 else -u if s < 0 else sp.Integer(0)
        if isinstance(node, sp.sign):
            return sp.Integer(s)
        if isinstance(node, sp.Heaviside):
            at_zero = node.args[1] if len(node.args) > 1 else sp.Rational(1, 2)
            return sp.Integer(1) if s > 0 else sp.Integer(0) if s < 0 else at_zero
        return sp.Integer(0) if s else node          # DiracDelta: 0 off its zero set
    return node


def _pick(node, p, sign, key):
    """Max/Min without every argument the switch shows is beaten (or tied)."""
    keep = list(node.args)
    bigger = isinstance(node, sp.Max)
    changed = True
    while changed and len(keep) > 1:
        changed = False
        for i in range(len(keep)):
            for j in range(i + 1, len(keep)):
                s = _sign_of(keep[i] - keep[j], p, sign, key)
                if s is None:
                    continue
                loser = j if (s >= 0) == bigger or s == 0 else i
                del keep[loser]
                changed = True
                break
            if changed:
                break
    return keep[0] if len(keep) == 1 else node.func(*keep)


def truth(op: str, sign: int):
    """The truth of ``lhs op rhs`` when ``lhs - rhs`` has this sign (1, -1 or 0)."""
    if sign == 0:
        return sp.true if op in (">=", "<=", "==") else sp.false
    holds = {">": sign > 0, ">=": sign > 0, "<": sign < 0, "<=": sign < 0,
             "==": False, "!=": True}[op]
    return sp.true if holds else sp.false


def undefined(e) -> bool:
    """nan or zoo where it is evaluated (no switch left open): undefined there."""
    if e is sp.nan or e is sp.zoo:
        return True
    return not has_any(e, KINDS) and has_any(e, (sp.core.numbers.NaN,
                                                 sp.core.numbers.ComplexInfinity))


def zero_set(g):
    """(s, value): ``g = 0`` exactly where ``s = value``, when g is linear in s and the
    coefficient of s cannot vanish on the set (a number, or the rest is a nonzero number)."""
    for s in sorted(g.free_symbols, key=lambda v: v.name):
        try:
            poly = sp.Poly(g, s)
        except SYMPY_ERRORS:
            continue
        if poly.degree() != 1:
            continue
        c, r = poly.all_coeffs()
        if (c.is_number and c != 0) or (r.is_number and r != 0):
            return s, -r / c
    return None


def kink_point(d) -> dict:
    """A point on a switching set of ``d`` (symbol -> number), to show what each side gives
    at a kink: the first switch solved for one symbol, the others at 0 (or 1 where 0 leaves
    no point, as for ``t*x = 1``); the kink symbols at 0 when no switch can be solved.

    >>> x, t = sp.symbols("x t", real=True)
    >>> kink_point(sp.Max(0, 1 - t*x)), kink_point(sp.Abs(x - 2))
    ({t: 1, x: 1}, {x: 2})
    """
    for g in switch_expressions(d):
        if not g.free_symbols or has_any(g, KINDS):
            continue
        on = zero_set(g)
        for base in ((0, 1) if on else ()):
            others = {v: sp.Integer(base) for v in g.free_symbols - {on[0]}}
            value = on[1].xreplace(others)
            if value.is_number and value.is_finite and value.is_real:
                point = {**others, on[0]: value}
                return dict(sorted(point.items(), key=lambda kv: kv[0].name))
    return {s: sp.Integer(0) for s in kink_symbols(d)}


def show_switch(g) -> str:
    """A switch for the reader: rationals that stand for floats shown as floats."""
    big = {r: sp.Float(r, 15) for r in g.atoms(sp.Rational) if r.q > 10**6}
    return str(g.xreplace(big) if big else g)
