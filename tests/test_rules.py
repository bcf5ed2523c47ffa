"""Every primitive's local derivative, against sympy.diff and against finite differences."""
import math
import random

import pytest
import sympy as sp

from derive.errors import MissingRuleError
from derive.rules import RULES, c, diff, rule_for, u0, u1, u2, y

PLACEHOLDERS = (u0, u1, u2)
ELEMENTWISE = sorted(n for n, r in RULES.items() if not r.structural)
STRUCTURAL = sorted(n for n, r in RULES.items() if r.structural)
# constants for rules that take one, and a domain per rule (log/pow need positive inputs)
CONST = {"add_const": sp.Rational(3, 2), "mul_const": sp.Rational(-5, 2), "pow": sp.Rational(5, 2),
         "cpow": sp.Integer(3)}
POSITIVE = {"log", "pow", "powv"}
#: where a rule is real and smooth, when not on (-2, 2) away from 0
DOMAIN = {"arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9), "arctanh": (-0.9, 0.9),
          "arccosh": (1.1, 3.0), "tan": (-1.4, 1.4)}


def _local(rule, k):
    return rule.local[k].xreplace({y: rule.value})


def _point(rule, rng):
    lo, hi = DOMAIN.get(rule.name, (0.2 if rule.name in POSITIVE else -2.0, 2.0))
    vals = []
    for _ in range(rule.arity):
        v = rng.uniform(lo, hi)
        # keep away from kinks and steps: 0, the integers (floor) and half-integers (rint)
        while abs(v) < 0.1 or abs(2 * v - round(2 * v)) < 0.05:
            v = rng.uniform(lo, hi)
        vals.append(v)
    return vals


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_local_derivative_matches_sympy_diff(name):
    rule = RULES[name]
    const = CONST.get(name)
    for k in range(rule.arity):
        mine = _local(rule, k)
        ref = diff(rule.value, PLACEHOLDERS[k])     # sympy.diff; steps' derivative 0
        if const is not None:
            mine, ref = mine.xreplace({c: const}), ref.xreplace({c: const})
        gap = (mine - ref).rewrite(sp.Piecewise)
        # equal away from 0 (kinks, where SymPy's Heaviside(0) = 1/2 and DiracDelta appear)
        for sign in (1, -1):
            p = sp.Dummy("p", positive=True)
            at = 1 + p if name == "arccosh" else sign * p      # arccosh: real for u0 > 1
            assert sp.simplify(gap.subs(PLACEHOLDERS[0], at)) == 0, (name, k, sign)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_local_derivative_matches_finite_differences(name):
    rule = RULES[name]
    const = CONST.get(name, sp.Integer(2))
    rng = random.Random(name)
    args = PLACEHOLDERS[: rule.arity]
    value = sp.lambdify(args, rule.value.xreplace({c: const}), "mpmath")
    for _ in range(5):
        pt = _point(rule, rng)
        for k in range(rule.arity):
            h = 1e-6
            hi, lo = list(pt), list(pt)
            hi[k] += h
            lo[k] -= h
            fd = (float(value(*hi)) - float(value(*lo))) / (2 * h)
            local = _local(rule, k).xreplace({c: const})
            exact = float(local.xreplace(dict(zip(args, map(sp.Float, pt)))).evalf())
            assert math.isclose(fd, exact, rel_tol=1e-6, abs_tol=1e-6), (name, k, pt, fd, exact)


def test_missing_rule_names_the_primitive():
    with pytest.raises(MissingRuleError, match="lgamma"):
        rule_for("lgamma")


def test_the_parser_whitelist_is_the_tables_spellings():
    """Every function the parser accepts comes from one table entry, and every entry with
    spellings is accepted under each of them (no second list to keep in step)."""
    from derive.errors import ParseError
    from derive.parse import FUNCTIONS, parse
    x = sp.Symbol("x", real=True)
    unary = [r for r in RULES.values() if r.sympy is not None and not r.structural]
    for rule in unary:
        spelled = [s + rule.name if not s or s.endswith(".") else s for s in rule.spell]
        assert spelled, rule.name
        for text in spelled:
            assert FUNCTIONS[text] is rule
            assert parse(f"{text}(x)").func is rule.sympy, text
    for name in ("np.gamma", "np.sinc", "np.i0"):     # no rule: refused
        assert name not in FUNCTIONS
        with pytest.raises(ParseError, match="unknown function"):
            parse(f"{name}(x)")
    assert x in parse("np.tanh(x)").free_symbols


@pytest.mark.parametrize("name", STRUCTURAL)
def test_structural_rules_have_a_sympy_class_and_a_numpy_spelling(name):
    import numpy as np
    rule = RULES[name]
    assert rule.sympy is not None and rule.arity in (0, 1, 2)     # 0: every argument
    assert rule.helper or hasattr(np, rule.numpy), rule.numpy   # helpers are emitted in code


def test_inverses_undo_the_rule():
    for name, rule in RULES.items():
        if rule.structural or rule.inverse is None:
            continue
        const = CONST.get(name, sp.Integer(2))
        back = rule.inverse.xreplace({y: rule.value, c: const}).xreplace({c: const})
        for v in (0.3, 1.7):
            assert math.isclose(float(back.subs(u0, v)), v, rel_tol=1e-12), name


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_label_and_latex_templates_fill_in(name):
    rule = RULES[name]
    for template in (rule.label, rule.latex):
        filled = template.format(c="7")
        assert "{c}" not in filled
        assert filled.count("{") == filled.count("}")
