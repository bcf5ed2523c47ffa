"""The primitive rule table: one entry per primitive, rules as SymPy data.

Each :class:`Rule` says how a node's value is built from its inputs
(``value``, in the placeholders ``u0, u1, ...`` and the constant ``c``), its
local derivative with respect to each input (``local``; may use ``y``, the
node's own output, as the book does for ``1/x`` → ``-y**2``), how it is drawn
and printed, its NumPy spelling, and, for unary invertible primitives, the
inverse ``u0 = inverse(y)`` used by the cached-form rewrite.

The same data is printed in walkthroughs, proven against ``sympy.diff`` in the
tests, and emitted as NumPy code.

>>> RULES["exp"].local
(y,)
>>> rule_for("reciprocal").label.format(c="")
'1/·'
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .errors import MissingRuleError

u0, u1, u2 = sp.symbols("u0 u1 u2", real=True)
y = sp.Symbol("y", real=True)
c = sp.Symbol("c", real=True)


def _mask(cond) -> sp.Expr:
    """The 0/1 indicator of a condition, as SymPy data."""
    return sp.Piecewise((1, cond), (0, True))


@dataclass(frozen=True)
class Rule:
    """One primitive: its value, local derivatives and spellings."""

    name: str
    value: sp.Expr                 # in u0.., c
    local: tuple                   # d value / d u_i, in u0.., c, y
    label: str                     # graph-node label; "{c}" is the constant
    latex: str                     # LaTeX of the node operation; "{c}" is the constant
    numpy: str                     # NumPy spelling of the operation
    inverse: sp.Expr | None = None  # u0 in terms of y (and c), unary rules only
    note: str = ""                 # what a reader should know (conventions)

    @property
    def arity(self) -> int:
        return len(self.local)

    def local_at(self, args, out, const=None) -> tuple:
        """Local derivatives with placeholders replaced by concrete values."""
        return tuple(self._subs(d, args, out, const) for d in self.local)

    def value_at(self, args, const=None) -> sp.Expr:
        return self._subs(self.value, args, None, const)

    def inverse_at(self, out, const=None) -> sp.Expr | None:
        if self.inverse is None:
            return None
        return self._subs(self.inverse, (), out, const)

    @staticmethod
    def _subs(e, args, out, const):
        repl = dict(zip((u0, u1, u2), args))
        if out is not None:
            repl[y] = out
        if const is not None:
            repl[c] = const
        return e.xreplace(repl)


_KINK = "not differentiable at 0; the gradient there is taken as 0 (the book's ReLU convention)"

RULES: dict[str, Rule] = {r.name: r for r in [
    Rule("add", u0 + u1, (sp.Integer(1), sp.Integer(1)), "+", "+", "np.add"),
    Rule("mul", u0 * u1, (u1, u0), "×", r"\times", "np.multiply"),
    Rule("add_const", u0 + c, (sp.Integer(1),), "+{c}", "+{c}", "np.add", inverse=y - c),
    Rule("mul_const", c * u0, (c,), "×{c}", r"\times {c}", "np.multiply", inverse=y / c),
    Rule("neg", -u0, (sp.Integer(-1),), "×(−1)", r"\times(-1)", "np.negative", inverse=-y),
    Rule("reciprocal", 1 / u0, (-y**2,), "1/·", "1/", "np.reciprocal", inverse=1 / y),
    Rule("pow", u0**c, (c * u0**(c - 1),), "^{c}", "{{}}^{{{c}}}", "np.power", inverse=y**(1 / c)),
    Rule("cpow", c**u0, (sp.log(c) * y,), "{c}^·", "{c}^{{\\cdot}}", "np.power",
         inverse=sp.log(y) / sp.log(c)),
    Rule("powv", u0**u1, (u1 * u0**(u1 - 1), y * sp.log(u0)), "pow", r"\mathrm{{pow}}", "np.power"),
    Rule("exp", sp.exp(u0), (y,), "exp", r"\exp", "np.exp", inverse=sp.log(y)),
    Rule("log", sp.log(u0), (1 / u0,), "log", r"\log", "np.log", inverse=sp.exp(y)),
    Rule("tanh", sp.tanh(u0), (1 - y**2,), "tanh", r"\tanh", "np.tanh", inverse=sp.atanh(y)),
    Rule("erf", sp.erf(u0), (2 / sp.sqrt(sp.pi) * sp.exp(-u0**2),), "erf", r"\operatorname{{erf}}",
         "erf"),
    Rule("abs", sp.Abs(u0), (sp.sign(u0),), "|·|", r"\lvert\cdot\rvert", "np.abs",
         note="not differentiable at 0; sign(0) = 0 is used there"),
    Rule("relu", sp.Max(0, u0), (_mask(u0 > 0),), "max(0,·)", r"\max(0,\cdot)", "np.maximum",
         note=_KINK),
    Rule("mask_gt", _mask(u0 > 0), (sp.Integer(0),), "[·>0]", r"[\cdot>0]", "np.greater",
         note="a 0/1 mask: its derivative is 0 except at the step, where it is undefined"),
    Rule("mask_ge", _mask(u0 >= 0), (sp.Integer(0),), "[·≥0]", r"[\cdot\ge 0]", "np.greater_equal",
         note="a 0/1 mask: its derivative is 0 except at the step, where it is undefined"),
    Rule("where_gt", sp.Piecewise((u1, u0 > 0), (u2, True)),
         (sp.Integer(0), _mask(u0 > 0), _mask(sp.Not(u0 > 0))), "where(·>0)",
         r"\mathrm{{where}}_{{\cdot>0}}", "np.where",
         note="the gradient flows into the branch that was taken"),
    Rule("where_ge", sp.Piecewise((u1, u0 >= 0), (u2, True)),
         (sp.Integer(0), _mask(u0 >= 0), _mask(sp.Not(u0 >= 0))), "where(·≥0)",
         r"\mathrm{{where}}_{{\cdot\ge 0}}", "np.where",
         note="the gradient flows into the branch that was taken"),
    Rule("sign", sp.sign(u0), (sp.Integer(0),), "sign", r"\operatorname{{sign}}", "np.sign"),
]}


def rule_for(name: str) -> Rule:
    """Look a primitive up; a missing one is an error that names it.

    >>> rule_for("cosh")
    Traceback (most recent call last):
    ...
    derive.errors.MissingRuleError: no rule for primitive 'cosh'; known primitives: abs, add, ...
    """
    try:
        return RULES[name]
    except KeyError:
        known = ", ".join(sorted(RULES))
        raise MissingRuleError(f"no rule for primitive {name!r}; known primitives: {known}") from None
