"""Selects lowered: ``Piecewise``, masks and conditions into NumPy calls (a mixin of
:class:`derive.codegen.lower.Lowering`).

A select on a random mask is a mispredicted branch per element (measured ~4-10x a
multiply), so a select is lowered to the cheapest exact form: a 0/1 mask multiply where
the value is finite, a blend ``b*~c + c`` for ``where(c, 1, b)``, else ``np.putmask``
into a buffer the lowering owns (2-3x faster than ``np.copyto(where=)`` on NumPy 2) and
``np.where`` last.
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.logic.boolalg import BooleanFunction, to_nnf

from ..branches import float_safe, mask_condition, masked_product

__all__ = ["SelectLowering", "symmetric"]


def _sides(rel):
    """A comparison as ``(small, big, strict)``: ``small < big`` (or ``<=``)."""
    if isinstance(rel, (sp.StrictLessThan, sp.LessThan)):
        return rel.lhs, rel.rhs, isinstance(rel, sp.StrictLessThan)
    if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
        return rel.rhs, rel.lhs, isinstance(rel, sp.StrictGreaterThan)
    return None


def _plain(u, v):
    """Of ``u`` and ``v = -u``, the one not written with a minus sign (abs of either is
    the same number)."""
    return v if u.could_extract_minus_sign() else u


def symmetric(cond):
    """``(e, c, op)`` when ``cond`` is ``-c < e < c`` (op ``<``), ``-c <= e <= c`` (``<=``),
    ``e < -c | e > c`` (``>``) or ``e <= -c | e >= c`` (``>=``): the same test as
    ``abs(e) op c`` for every float e, c (NaN and inf too: negation and abs are exact, and
    a NaN fails both sides). Used where the mask multiplies a float (:meth:`SelectLowering.
    _abs_mask`); a bool mask of its own stays the pair: its temporaries are a byte an
    element where abs's is eight (Hardtanh's cached mask at 1e6: forward+backward ÷ the
    book 0.65 with the pair, 0.91 with abs). An interval not symmetric about 0 has no
    exact rewrite (``abs(e - m)`` rounds). None when ``cond`` is not of that form.

    >>> x = sp.Symbol("x")
    >>> symmetric(sp.And(x > -1, x < 1))
    (x, 1, '<')
    >>> symmetric(sp.Or(x < -2, x >= 2)) is None   # one strict, one not
    True
    """
    if not isinstance(cond, (sp.And, sp.Or)) or len(cond.args) != 2:
        return None
    sides = [_sides(r) for r in cond.args]
    if None in sides or sides[0][2] != sides[1][2]:
        return None
    strict = sides[0][2]
    ands = isinstance(cond, sp.And)
    # each compare read both ways (s < b is -b < -s): -c < e is e's other side, -e < c
    for s1, b1 in ((sides[0][0], sides[0][1]), (-sides[0][1], -sides[0][0])):
        for s2, b2 in ((sides[1][0], sides[1][1]), (-sides[1][1], -sides[1][0])):
            if ands and b1 == b2 and s1 == -s2:         # e < c and -e < c
                return _plain(s1, s2), b1, "<" if strict else "<="
            if not ands and s1 == s2 and b1 == -b2:     # c < e or c < -e
                return _plain(b1, b2), s1, ">" if strict else ">="
    return None


_ALIAS = re.compile(r"\w+ = \w+")     # a name given to a value: no computation


class _Operand:
    """A value during lowering: printed text, whether it is a buffer we allocated, and
    ``key``: what its buffer's shape and dtype are known to be (None: unknown), see
    :meth:`derive.codegen.lower.Lowering.key_of`."""

    def __init__(self, text: str, owned: bool = False, scalar: bool = False, key=None):
        self.text, self.owned, self.scalar, self.key = text, owned, scalar, key


def only_in_branches(sym, exprs) -> bool:
    """``sym`` is read only inside the branch values of selects in ``exprs`` (never by a
    condition, nor outside a select): where it is inf or nan, a select drops it. A product
    with 0/1 masks counts as the select it is lowered to when its other factors may be inf
    or nan (:func:`derive.branches.masked_product`; if they are all finite, so is ``sym``
    and nothing is computed quietly).

    >>> x, t = sp.symbols("x t", real=True)
    >>> only_in_branches(t, [sp.Piecewise((t, x > 1), (1, True)), sp.Piecewise((2*t, x > 1), (0, True))])
    True
    >>> only_in_branches(t, [sp.Piecewise((t, x > 1), (1, True)), t + 1])
    False
    >>> only_in_branches(t, [sp.Piecewise((1, x > 1), (0, True)) / t])
    True
    """
    def bare(e):
        if e == sym:
            return True
        if not e.has(sym):
            return False
        if isinstance(e, sp.Piecewise):
            return any(bare(c) for _, c in e.args)
        if e.is_Mul:
            selected = masked_product(e, safe=lambda rest: False)
            if selected is not None:
                return bare(selected)
        return any(bare(a) for a in e.args)
    return not any(bare(e) for e in exprs)


class SelectLowering:
    """The select part of the lowering; the host class gives ``value``, ``ufunc``,
    ``fresh``, ``typed``, ``lines`` and ``like``, and sets ``_masks``, ``_quiet_depth``
    and ``_quiet_end`` (:class:`derive.codegen.lower.Lowering`)."""

    def masks_inlined(self, e, but=None):
        """``e`` with the cse symbols that stand for a 0/1 mask, or a product with one
        (``(t < 1.5)*dout``), written out (all but the symbol ``but``): so that the mask is
        seen as one."""
        cached = self._masks
        if cached is None or cached[0] is not self.defs:    # once per lowering's defs
            found: dict = {}
            for sym, sub in self.defs:      # in order: a product may read an earlier mask
                sub = sub.xreplace(found) if found else sub
                if mask_condition(sub) is not None or sub.is_Mul and any(
                        mask_condition(f) is not None for f in sub.args):
                    found[sym] = sub
            cached = self._masks = (self.defs, found)
        masks = {sym: sub for sym, sub in cached[1].items() if sym in e.free_symbols
                 and sym is not but}
        return e.xreplace(masks) if masks else e

    def expanded(self, e):
        """``e`` with every cse symbol replaced by what it stands for: whether a value is
        finite (a blend, a mask multiply) is decided on what it computes, not on the name
        ``t0`` of a shared ``x**x`` (nan for x < 0: ``t0*mask`` would be nan, not 0)."""
        for sym, sub in reversed(self.defs):
            if sym in e.free_symbols:
                e = e.xreplace({sym: sub})
        return e

    def _blend(self, a, b, cond):
        """``where(c, 1, b)`` as ``b*~c + c`` for a finite b: exact (b*1 + 0 is b, b*0 + 1 is
        1), and two passes where a select on a random mask is a mispredicted branch per
        element (measured ~10x a multiply at 1e6). None when it does not apply."""
        def finite(e):      # exp of an argument <= 0 (ELU's exp(min(x, 0))) is at most 1
            return float_safe(self.expanded(e).replace(
                lambda q: isinstance(q, sp.exp) and q.args[0].is_nonpositive,
                lambda q: sp.tanh(q.args[0])))
        if not (finite(a) and finite(b)):
            return None
        if b == 1 and a != 1:
            a, b, cond = b, a, (cond.negated if isinstance(cond, sp.core.relational.Relational)
                                else sp.Not(cond))
        if a != 1 or b.is_number and b == 0:
            return None
        mask = self.fresh("mask")
        self.lines.append(f"{mask} = {self._condition(cond)}")
        vb = self.value(b)
        if vb.scalar:
            new = self.fresh()
            self.lines.append(f"{new} = np.multiply(~{mask}, {vb.text}, dtype={self.like}.dtype.type)")
            vb = _Operand(new, owned=True)
        elif vb.owned:
            self.lines.append(f"np.multiply({vb.text}, ~{mask}, out={vb.text})")
        else:
            vb = self.ufunc("multiply", vb, _Operand(f"~{mask}", key=self.expr_key(cond, False)))
        self.lines.append(f"np.add({vb.text}, {mask}, out={vb.text})")
        return vb

    def _factored(self, a, b, cond):
        """``where(c, f*a1, f*b1)`` as ``f*where(c, a1, b1)`` when the select left is a
        :meth:`_blend` (a1 or b1 is 1 once a number is moved into f). Leaky ReLU's
        ``where(out > 0, dout, alpha*dout)`` becomes ``dout*(alpha*~c + c)``, SELU's cached
        ``where(x > 0, scale, scale*alpha*exp(min(x, 0)))`` becomes
        ``scale*(alpha*exp(min(x, 0))*~c + c)``. The same products (f*1 is f; a number
        moved out of a product rounds once more, within an ulp), in branch-free passes
        where ``np.putmask`` on a random mask costs ~4 ns an element (at 1e3 on 64
        different inputs: putmask 5.2 us, the blend 3.1 us; on one input repeated the branch
        predictor learns the mask: 2.1 and 3.0 us). None when it does not apply."""
        common = [f for f in sp.Mul.make_args(a) if not f.is_number and f in sp.Mul.make_args(b)]
        f = sp.Mul(*common)
        a1, b1 = a / f, b / f
        for one, other in ((a1, b1), (b1, a1)):
            # only from a branch with a number of its own: where(c, x, 0.044715) as
            # 0.044715*(22.36*x*c + ~c) would multiply x by two roundings (x*(1/k)*k is
            # not x, and (that - x)/t at t = 1e-300 is 4e284 where it is 0)
            if one.is_number and one != 0 and one != 1 and other != 1 \
                    and other.as_coeff_Mul()[0] != 1:
                f, a1, b1 = f * one, a1 / one, b1 / one
                break
        if f == 1 or sp.Mul(f, a1) != a or sp.Mul(f, b1) != b:   # nothing common, or not
            return None                                          # the same products
        blend = self._blend(a1, b1, cond)
        if blend is None:
            return None
        return self.ufunc("multiply", blend, self.value(f))

    def _quietly(self, e) -> _Operand:
        """``e`` computed with NumPy's float warnings off: it is only used where it is
        finite (the select after it drops the rest)."""
        if self._quiet_depth:     # inside a quiet block already: it covers e
            return self.value(e)
        start = len(self.lines)
        self._quiet_depth = 1
        try:
            v = self.value(e)
        finally:
            self._quiet_depth = 0
        body = self.lines[start:]
        if not body:
            return v
        # right after the last quiet block but for names given to its results (t0 = tmp):
        # one block, not two (an errstate is ~1 us, an exp pass at 1e3 elements)
        end = self._quiet_end
        if end is not None and end <= start and all(
                _ALIAS.fullmatch(ln) for ln in self.lines[end:start]):
            self.lines[end:] = ["    " + ln for ln in self.lines[end:]]
        else:
            self.lines[start:] = ['with np.errstate(all="ignore"):'] + ["    " + ln for ln in body]
        self._quiet_end = len(self.lines)
        return v

    def _condition(self, cond) -> str:
        """A comparison whose array side is lowered to a name first if it is compound."""
        if cond.is_Symbol:  # a cached boolean mask
            return cond.name
        if isinstance(cond, sp.Not):
            return f"~{self._condition(cond.args[0])}"
        if isinstance(cond, (sp.And, sp.Or)):
            joint = " & " if isinstance(cond, sp.And) else " | "
            return "(" + joint.join(self._condition(a) for a in cond.args) + ")"
        if cond in (sp.true, sp.false):
            return "True" if cond == sp.true else "False"
        if isinstance(cond, BooleanFunction):   # ITE(a, b, c) (a select of conditions), Xor...
            return self._condition(to_nnf(cond, simplify=False))    # as & | ~ of comparisons
        lhs, rhs = cond.lhs, cond.rhs
        lt, rt = self.value(lhs).text, self.value(rhs).text
        return f"({lt} {cond.rel_op} {rt})"

    def _abs_mask(self, e, c, op) -> _Operand:
        """``abs(e) op c`` as 0.0/1.0 in a float buffer: abs, then the compare into that
        buffer (no bool temporaries, and the multiply after it is float by float, where a
        bool operand is cast element by element). hardtanh_backward ÷ its
        ``dout*((out > -1) & (out < 1))`` at 1e3..1e7: 0.90, 0.92, 0.91, 0.83, 0.88."""
        m = self.ufunc("absolute", self.value(e))
        name = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}[op]
        self.lines.append(f"np.{name}({m.text}, {self.value(c).text}, out={m.text})")
        return m

    def _piecewise(self, e):
        (a, cond), rest = e.args[0], e.args[1:]
        if not rest:        # no otherwise: undefined there, as the text prints it
            rest = ((sp.nan, sp.true),)
        other = rest[0][0] if len(rest) == 1 and rest[0][1] == sp.true else sp.Piecewise(*rest)
        safe = float_safe(self.expanded(a))
        sym = symmetric(cond) if other == 0 and self.is_array(a) and safe else None
        if sym is not None and self.is_array(sym[0]):   # before the pair is lowered: e read once
            return self.ufunc("multiply", self.value(a), self._abs_mask(*sym))
        c = self._condition(cond)
        if other == 0 and not safe:    # inf or nan where c fails: select, not *
            va = self._quietly(a)
            if va.owned:
                self.lines.append(f"np.putmask({va.text}, ~{c}, 0.0)")
                return va
            new = self.fresh()
            va, zero = self.typed(va, _Operand("0.0", scalar=True))
            self.lines.append(f"{new} = np.where({c}, {va.text}, {zero.text})")
            return _Operand(new, owned=True)
        if other == 0:  # a 0/1 mask: one multiply (a select is a branch per element,
            va = self.value(a)            # ~10x a multiply on a random mask)
            if not va.scalar:
                return self.ufunc("multiply", va, _Operand(c, key=self.expr_key(cond, False)))
            if a.is_number and a.is_finite and a.is_positive:
                # the mask times c: exactly c or +0.0, as the select gives; in like's dtype
                # (its scalar type: a byte-swapped dtype has no loop; c rounds once, as
                # like.dtype.type(c) does); ~2.5x faster than np.where of two scalars at 1e3
                new = self.fresh()
                into = f"out={self.alloc}" if self.alloc is not None else \
                    f"dtype={self.like}.dtype.type"
                self.lines.append(f"{new} = np.multiply({c}, {va.text}, {into})")
                return _Operand(new, owned=True, key=self.expr_key(e, True))
            new = self.fresh()
            va, zero = self.typed(va, _Operand("0.0", scalar=True))
            self.lines.append(f"{new} = np.where({c}, {va.text}, {zero.text})")
            return _Operand(new, owned=True)
        blend = self._blend(a, other, cond)
        if blend is None:
            blend = self._factored(a, other, cond)
        if blend is not None:
            return blend
        # a branch that may be inf or nan is computed without NumPy's warnings: the select
        # drops it where the other is taken (np.where(x < 1, 0, np.sinh(x)) at x = -1000
        # warned of an overflow its result does not have)
        vb = self.value(other) if float_safe(self.expanded(other)) else self._quietly(other)
        va = self.value(a) if safe else self._quietly(a)
        # np.putmask: the same select as copyto(where=), 2-3x faster on NumPy 2
        # the value put in is dead after the select: a later fresh value may take its buffer
        if vb.owned:
            self.lines.append(f"np.putmask({vb.text}, {c}, {va.text})")
            self._release([va], vb)
            return vb
        if va.owned:
            notc = self._condition(cond.negated if isinstance(cond, sp.core.relational.Relational)
                                   else sp.Not(cond))
            self.lines.append(f"np.putmask({va.text}, {notc}, {vb.text})")
            self._release([vb], va)
            return va
        new = self.fresh()
        va, vb = self.typed(va, vb)
        self.lines.append(f"{new} = np.where({c}, {va.text}, {vb.text})")
        return _Operand(new, owned=True)
