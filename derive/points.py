"""Numbers for the prover: an expression at a point, with bounded precision and range.

:func:`evaluate` walks a SymPy expression with mpmath at a fixed precision (30 digits by
default), once per distinct sub-expression. It never raises anything but :class:`Skip`,
which says why the point does not count:

* a value beyond ``10**1000`` (or an ``exp``/``sin`` argument beyond ``10**300``) is
  *outside float range* -- mpmath is never asked for ``exp(exp(exp(100)))``, whose
  digits would take forever;
* a branch condition, mask, ``sign`` or ``Heaviside`` argument within ``10**-20`` of its
  switch is *on a switching set* (where a derivative is only a convention, and 30 digits
  could pick the wrong side);
* with ``real=True``, any evaluated sub-term that is not real (``log(-1)``,
  ``sqrt(-2)``) makes the point *outside the real domain* -- NumPy's view, where it is
  ``nan``; without it, complex values are allowed (SymPy's view);
* division by zero, a pole, an undefined function: *undefined*.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> float(evaluate(sp.exp(x) + 1, {x: 0}))
2.0
>>> evaluate(sp.exp(sp.exp(sp.exp(x))), {x: 100})
Traceback (most recent call last):
...
derive.points.Skip: outside float range
>>> evaluate(sp.log(x), {x: -2}, real=True)
Traceback (most recent call last):
...
derive.points.NotReal: outside the real domain
"""
from __future__ import annotations

import mpmath
import sympy as sp
from sympy.core.relational import Relational

DIGITS = 30
_BIG = mpmath.mpf(10) ** 1000        # beyond this a value is "outside float range"
_ARG = mpmath.mpf(10) ** 300         # largest argument for exp, sin, cos... (cost grows)
_NEAR = mpmath.mpf(10) ** -20        # closer than this to a switch: on the switching set


_HOLDS = {">": lambda pos: pos, ">=": lambda pos: pos, "<": lambda pos: not pos,
          "<=": lambda pos: not pos, "==": lambda pos: False, "!=": lambda pos: True}


class Skip(Exception):
    """This point does not count; the message says why."""


class NotReal(Skip):
    """A sub-term is not real here (NumPy would give nan)."""


class Undefined(Skip):
    """A sub-term has no value here at all: a division by zero, a log of 0, a pole."""


_MP = {  # SymPy function -> mpmath function of the same name and meaning
    sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan,
    sp.cot: mpmath.cot, sp.sec: mpmath.sec, sp.csc: mpmath.csc, sp.asin: mpmath.asin,
    sp.acos: mpmath.acos, sp.atan: mpmath.atan, sp.acot: mpmath.acot, sp.sinh: mpmath.sinh,
    sp.cosh: mpmath.cosh, sp.tanh: mpmath.tanh, sp.coth: mpmath.coth, sp.sech: mpmath.sech,
    sp.csch: mpmath.csch, sp.asinh: mpmath.asinh, sp.acosh: mpmath.acosh,
    sp.atanh: mpmath.atanh, sp.acoth: mpmath.acoth, sp.erf: mpmath.erf,
    sp.erfc: mpmath.erfc, sp.erfi: mpmath.erfi, sp.gamma: mpmath.gamma,
    sp.loggamma: mpmath.loggamma, sp.LambertW: mpmath.lambertw, sp.exp: mpmath.exp,
    sp.re: mpmath.re, sp.im: mpmath.im, sp.conjugate: mpmath.conj,
}
_GROWS = (sp.exp, sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc, sp.sinh, sp.cosh,
          sp.erfi, sp.gamma)                  # cost or size grows with the argument
_CONST = {sp.pi: lambda: mpmath.pi, sp.E: lambda: mpmath.e, sp.EulerGamma: lambda: mpmath.euler,
          sp.Catalan: lambda: mpmath.catalan, sp.GoldenRatio: lambda: mpmath.phi}


def evaluate(e, point: dict, *, real: bool = False, digits: int = DIGITS):
    """``e`` at ``point`` (symbol -> number) as an mpmath number, or :class:`Skip`."""
    values = {s: _number(v) for s, v in point.items()}
    with mpmath.workdps(digits):
        try:
            return _Walk(values, real).value(sp.sympify(e))
        except Skip:
            raise
        except ZeroDivisionError:
            raise Undefined("undefined (division by zero)") from None
        except (ValueError, TypeError, ArithmeticError,
                NotImplementedError, AttributeError, RecursionError) as exc:
            raise Skip(f"undefined ({type(exc).__name__})") from None


def _number(v):
    if type(v) is mpmath.mpf:
        return v
    if isinstance(v, (sp.Float, sp.Rational)):
        return mpmath.mpf(v._mpf_) if isinstance(v, sp.Float) else mpmath.mpf(v.p) / v.q
    return mpmath.mpmathify(v)


class _Walk:
    """One evaluation: the point, the mode, and the values already computed."""

    def __init__(self, point: dict, real: bool):
        self.point, self.real, self.memo = point, real, {}

    def value(self, e):
        known = self.memo.get(e)
        if known is None:
            known = self.memo[e] = self._checked(self._eval(e))
        return known

    def _checked(self, v):
        if type(v) is mpmath.mpf:       # the common case, read off mpmath's (sign, man, exp, bc)
            _, man, exp, bc = v._mpf_
            if not man:
                if exp:
                    raise Undefined("undefined (not finite)")
                return v
            if exp + bc > 3322:           # 2**3322 > 10**1000
                raise Skip("outside float range")
            return v
        if isinstance(v, bool):
            return v
        if not mpmath.isfinite(v):
            raise Undefined("undefined (not finite)")
        if abs(v) > _BIG:
            raise Skip("outside float range")
        if isinstance(v, mpmath.mpc):
            if v.imag == 0:
                return v.real
            if self.real and abs(v.imag) > _NEAR * abs(v):
                raise NotReal("outside the real domain")
        return v

    def _eval(self, e):
        if e.is_Symbol:
            if e not in self.point:
                raise Skip(f"no value for {e}")
            return self.point[e]
        if e.is_Number:
            return self._const(e)
        if isinstance(e, sp.NumberSymbol) or e is sp.I:
            return _CONST[e]() if e in _CONST else mpmath.mpc(0, 1) if e is sp.I \
                else _number(e.evalf(mpmath.mp.dps + 5))
        if e.is_Add:
            return mpmath.fsum(self.value(a) for a in e.args)
        if e.is_Mul:
            return mpmath.fprod(self.value(a) for a in e.args)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, (Relational, sp.logic.boolalg.Boolean)):
            return self._truth(e)
        return self._function(e)

    @staticmethod
    def _const(e):
        if e.is_Float:
            return mpmath.mpf(e._mpf_)
        if not e.is_Rational:       # oo, -oo, zoo, nan
            raise Undefined("undefined (not finite)")
        if isinstance(e, sp.Rational) and max(abs(e.p), e.q).bit_length() > 4000:
            raise Skip("outside float range")   # a huge rational: beyond 10**1000 anyway
        return _number(e)

    def _pow(self, e):
        base, exp = self.value(e.base), self.value(e.exp)
        if base == 0:
            if exp == 0 or (getattr(exp, "real", exp) > 0):
                return mpmath.mpf(0)
            raise Undefined("undefined (division by zero)")
        if e.exp.is_Integer and abs(int(e.exp)) <= 64:
            return base ** int(e.exp)
        size = abs(exp) * abs(mpmath.log(abs(base)))
        if size > 2400:
            raise Skip("outside float range")
        return mpmath.power(base, exp)

    def _function(self, e):
        f = type(e)
        args = [self.value(a) for a in e.args]
        if f in _MP:
            if f in _GROWS and abs(args[0]) > _ARG:
                raise Skip("outside float range")
            if f is sp.exp and mpmath.re(args[0]) > 2300:
                raise Skip("outside float range")
            if f is sp.log and args[0] == 0:
                raise Undefined("undefined (log of 0)")
            return _MP[f](*args)
        if f is sp.Abs:
            return abs(args[0])
        if f in (sp.Max, sp.Min):
            reals = [self._real(a) for a in args]
            return max(reals) if f is sp.Max else min(reals)
        if f is sp.sign:
            return self._side(args[0], mpmath.mpf(1), mpmath.mpf(-1))
        if f is sp.Heaviside:
            return self._side(args[0], mpmath.mpf(1), mpmath.mpf(0))
        if f is sp.DiracDelta:
            return self._side(args[0], mpmath.mpf(0), mpmath.mpf(0))
        if f is sp.atan2:
            return mpmath.atan2(self._real(args[0]), self._real(args[1]))
        if f in (sp.floor, sp.ceiling):
            v = self._real(args[0])
            if abs(v - mpmath.nint(v)) < _NEAR * max(1, abs(v)):
                raise Skip("on a switching set")
            return mpmath.floor(v) if f is sp.floor else mpmath.ceil(v)
        return self._fallback(e, args)

    def _fallback(self, e, args):
        """A function mpmath is not mapped to: SymPy's own evalf on numeric arguments."""
        if isinstance(e, sp.core.function.AppliedUndef) or not isinstance(e, sp.Function):
            raise Skip(f"undefined ({type(e).__name__})")
        numbers = [sp.Float(a, mpmath.mp.dps) if not isinstance(a, mpmath.mpc) else
                   sp.Float(a.real, mpmath.mp.dps) + sp.I * sp.Float(a.imag, mpmath.mp.dps)
                   for a in args]
        v = e.func(*numbers).evalf(mpmath.mp.dps)
        if not v.is_number or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or v.free_symbols:
            raise Skip(f"undefined ({type(e).__name__})")
        re, im = v.as_real_imag()
        return mpmath.mpc(_number(re), _number(im)) if im != 0 else _number(re)

    def _real(self, v):
        if isinstance(v, mpmath.mpc):
            raise NotReal("outside the real domain")   # a comparison needs real numbers
        return v

    def _side(self, v, positive, negative):
        v = self._real(v)
        if abs(v) <= _NEAR:
            raise Skip("on a switching set")
        return positive if v > 0 else negative

    def _piecewise(self, e):
        for value, cond in e.args:
            if self.value(cond):
                return self.value(value)
        raise Skip("undefined (no branch of a Piecewise applies)")

    def _truth(self, c) -> bool:
        if c is sp.true or c is sp.false:
            return bool(c)
        if isinstance(c, Relational):
            gap = self._real(self.value(c.lhs)) - self._real(self.value(c.rhs))
            scale = max(1, abs(self.value(c.lhs)), abs(self.value(c.rhs)))
            if abs(gap) <= _NEAR * scale:
                raise Skip("on a switching set")
            return _HOLDS[c.rel_op](gap > 0)
        if isinstance(c, sp.And):
            return all([self.value(a) for a in c.args])
        if isinstance(c, sp.Or):
            return any([self.value(a) for a in c.args])
        if isinstance(c, sp.Not):
            return not self.value(c.args[0])
        if isinstance(c, sp.Xor):
            return sum(bool(self.value(a)) for a in c.args) % 2 == 1
        if isinstance(c, sp.ITE):
            return self.value(c.args[1]) if self.value(c.args[0]) else self.value(c.args[2])
        if isinstance(c, sp.Implies):
            return (not self.value(c.args[0])) or self.value(c.args[1])
        if isinstance(c, sp.Equivalent):
            return len({bool(self.value(a)) for a in c.args}) == 1
        if isinstance(c, (sp.Nand, sp.Nor)):
            parts = [self.value(a) for a in c.args]
            return not all(parts) if isinstance(c, sp.Nand) else not any(parts)
        raise Skip(f"undefined ({type(c).__name__})")
