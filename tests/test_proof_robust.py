"""No traceback from the prover on any SymPy input; random kinked formulas in two inputs.

The random formulas carry their own derivative, written by the chain rule with NumPy's
masks (``np.where(u > 0, du, 0)`` for ReLU, ...), independently of the code under test;
SymPy's ``diff`` (Heaviside, sign, ...) is the reference. A proof must hold up against an
independent evaluation by SymPy's evalf, and a wrong derivative must never be proven.
"""
from __future__ import annotations

import random

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.crosscheck import Counterexample
from derive.errors import ProofError
from derive.proof import Proof, compare, prove_equal

x, y, dout = sp.symbols("x y dout", real=True)
f = sp.Function("f")

ODD_INPUTS = [
    (sp.Max(0, sp.sqrt(x)), sp.sqrt(x)),                 # comparisons of non-real values
    (sp.Heaviside(sp.sqrt(x)), sp.Piecewise((1, sp.sqrt(x) > 0), (0, True))),
    (f(x), f(x) + 0 * x),                                # an undefined function
    (f(x) + 1, f(x)),
    (sp.zoo * x, x), (sp.nan * x, x), (sp.oo * x, x),
    (sp.Rational(10**400 + 1, 10**400) * x, x),          # a huge rational
    (sp.exp(sp.exp(sp.exp(x))), sp.exp(sp.exp(sp.exp(x))) + 0 * x),
    (sp.floor(x), sp.ceiling(x) - 1),
    (sp.Piecewise((x, x > 0)), x),                       # no branch for x <= 0
    (sp.gamma(x), sp.factorial(x - 1)),
    (sp.log(x, 0), x),
    (sp.Integer(0), sp.DiracDelta(x, 1)),
    (sp.Mod(x, 1), x - sp.floor(x)),
    (sp.atan2(y, x), sp.atan(y / x)),
    (sp.Max(x, y, 1), sp.Max(x, sp.Max(y, 1))),
    (sp.Min(sp.I * x, 1), x),
]


@pytest.mark.parametrize("a, b", ODD_INPUTS, ids=[str(i) for i in range(len(ODD_INPUTS))])
def test_any_input_gives_an_answer_not_a_traceback(a, b):
    result = compare(a, b)
    assert result is None or isinstance(result, (Proof, Counterexample))
    try:
        prove_equal(a, b)
    except ProofError as exc:
        assert exc.exit_code == 3 and str(exc)


# --- random kinked formulas in x and y, each with its own derivative by x ---------------

def _relu(u, du):
    return sp.Max(0, u), sp.Piecewise((du, u > 0), (0, True))


def _abs(u, du):
    return sp.Abs(u), sp.Piecewise((du, u > 0), (-du, True))


UNARY = [
    lambda u, du: (sp.exp(u), sp.exp(u) * du),
    lambda u, du: (sp.tanh(u), (1 - sp.tanh(u)**2) * du),
    lambda u, du: (u**2, 2 * u * du),
    _relu, _abs,
]


def _min(u, du, v, dv):
    return sp.Min(u, v), sp.Piecewise((du, u < v), (dv, True))


def _max(u, du, v, dv):
    return sp.Max(u, v), sp.Piecewise((du, u > v), (dv, True))


def _where_xy(u, du, v, dv):        # np.where(x < y, u, v)
    return sp.Piecewise((u, x < y), (v, True)), sp.Piecewise((du, x < y), (dv, True))


def _where_hinge(u, du, v, dv):     # np.where(x*y < 1, u, v)
    return sp.Piecewise((u, x * y < 1), (v, True)), sp.Piecewise((du, x * y < 1), (dv, True))


BINARY = [
    lambda u, du, v, dv: (u + v, du + dv),
    lambda u, du, v, dv: (u * v, du * v + u * dv),
    _min, _max, _where_xy, _where_hinge,
]
LEAVES = [(x, sp.Integer(1)), (y, sp.Integer(0)), (x - y, sp.Integer(1)),
          (x + 2 * y - 1, sp.Integer(1)), (sp.Rational(1, 2), sp.Integer(0))]


@st.composite
def kinked(draw, depth=2):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(LEAVES))
    if draw(st.booleans()):
        u, du = draw(kinked(depth - 1))
        return draw(st.sampled_from(UNARY))(u, du)
    (u, du), (v, dv) = draw(kinked(depth - 1)), draw(kinked(depth - 1))
    return draw(st.sampled_from(BINARY))(u, du, v, dv)


def _differ_somewhere(a, b, seed=0) -> bool:
    """An independent look: SymPy's evalf at random rational points."""
    rng = random.Random(seed)
    for _ in range(40):
        point = {s: sp.Rational(rng.randint(-250, 250), 100) for s in (x, y, dout)}
        try:
            va, vb = complex(a.subs(point).evalf(30)), complex(b.subs(point).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if abs(va - vb) > 1e-9 * (1 + abs(va) + abs(vb)):
            return True
    return False


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(kinked(depth=3).filter(lambda p: p[0].has(sp.Max, sp.Min, sp.Abs, sp.Piecewise)))
def test_random_kinked_gradients_in_two_inputs_are_proven(pair):
    forward, mine = pair
    result = compare(dout * mine, dout * sp.diff(forward, x))
    assert isinstance(result, Proof), (forward, mine, result)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(kinked(depth=3), st.sampled_from(["drop a branch", "scale", "swap"]))
def test_a_wrong_gradient_is_never_proven(pair, how):
    forward, mine = pair
    if how == "scale":
        wrong = mine * sp.Rational(3, 2) + sp.Rational(1, 7)
    elif how == "swap":
        wrong = mine.xreplace({x: y, y: x})
    else:
        pieces = list(mine.atoms(sp.Piecewise))
        wrong = mine.xreplace({pieces[0]: sp.Integer(0)}) if pieces else mine + 1
    reference = sp.diff(forward, x)
    result = compare(dout * wrong, dout * reference)
    if isinstance(result, Proof):
        assert not _differ_somewhere(dout * wrong, dout * reference), (forward, wrong)
