"""The region method: switches in several inputs, proven exactly or refuted off the switch.

Every gradient below is written by hand (calculus, with NumPy's conventions), and the
reference is SymPy's own ``diff`` of the forward formula -- never the output of the code
under test. A refutation must name a point that is off every switching set.
"""
from __future__ import annotations

import pytest
import sympy as sp

from derive.crosscheck import Counterexample
from derive.feasible import Fact, infeasible, thin
from derive.proof import Proof, compare, prove_equal
from derive.regions import prove_by_regions

x, y, t, dout = sp.symbols("x y t dout", real=True)
delta = sp.Symbol("delta", positive=True)
beta = sp.Symbol("beta", positive=True)
half = sp.Rational(1, 2)

HUBER = sp.Piecewise((half * (x - t)**2, sp.Abs(x - t) <= delta),
                     (delta * (sp.Abs(x - t) - half * delta), True))
SMOOTH_L1 = sp.Piecewise((half * (x - t)**2 / beta, sp.Abs(x - t) < beta),
                         (sp.Abs(x - t) - half * beta, True))
HINGE = sp.Max(0, 1 - t * x)


def where(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def ref(f, s):
    return dout * sp.diff(f, s)


def _value(e, point):
    return complex(e.xreplace({k: sp.Rational(v) for k, v in point.items()}).evalf(30))


def assert_refuted_off_switches(result, a, b, switches):
    """A genuine counterexample: both sides re-evaluated by SymPy differ there, and no
    switch is (nearly) zero at the point."""
    assert isinstance(result, Counterexample), result
    point = {s: result.point[s.name] for s in (x, y, t, dout, delta, beta)
             if s.name in result.point}
    assert abs(_value(a, point) - _value(b, point)) > 1e-9
    for g in switches:
        assert abs(_value(g, point)) > 1e-9, (g, point)


PROVEN = {
    "huber dx": (dout * where(sp.Abs(x - t) <= delta, x - t, delta * sp.sign(x - t)),
                 ref(HUBER, x)),
    "huber dt": (dout * where(sp.Abs(x - t) <= delta, t - x, -delta * sp.sign(x - t)),
                 ref(HUBER, t)),
    "huber dx as clip": (dout * sp.Max(-delta, sp.Min(delta, x - t)), ref(HUBER, x)),
    "smooth_l1 dx": (dout * where(sp.Abs(x - t) < beta, (x - t) / beta, sp.sign(x - t)),
                     ref(SMOOTH_L1, x)),
    "hinge dx": (dout * where(t * x < 1, -t, 0), ref(HINGE, x)),
    "hinge dt": (dout * where(t * x < 1, -x, 0), ref(HINGE, t)),
    "squared hinge dx": (dout * where(t * x < 1, -2 * t * (1 - t * x), 0), ref(HINGE**2, x)),
    "min as where dx": (dout * where(y > x, 1, 0), ref(where(y > x, x, y), x)),
    "min as where dy": (dout * where(y > x, 0, 1), ref(where(y > x, x, y), y)),
    "minimum dx": (dout * where(x < y, 1, 0), ref(sp.Min(x, y), x)),
    "maximum dy": (dout * where(x >= y, 0, 1), ref(sp.Max(x, y), y)),
    "sign": (0 * dout, ref(sp.sign(x), x)),
    "delta in two inputs": (sp.Integer(0), dout * sp.DiracDelta(x - y)),
}


@pytest.mark.parametrize("name", sorted(PROVEN))
def test_hand_gradients_are_proven(name):
    mine, reference = PROVEN[name]
    result = compare(mine, reference)
    assert isinstance(result, Proof), (name, result)
    assert result.method in ("by regions", "by cases", "symbolic", "identical")


def test_ties_and_deltas_are_in_the_kink_note():
    # SymPy's diff of Min gives Heaviside(y - x): 1/2 at a tie; np.where(x < y, 1, 0): 0
    tie = compare(*PROVEN["minimum dx"])
    assert tie.method == "by regions" and "x - y = 0" in tie.kink_note
    assert "DiracDelta" in compare(*PROVEN["sign"]).kink_note
    assert "DiracDelta" in compare(*PROVEN["delta in two inputs"]).kink_note
    # Huber's two branches meet continuously: the gradients agree on the switching sets too
    assert compare(*PROVEN["huber dx"]).kink_note == ""


def test_the_kink_note_makes_prove_equal_refuse_when_asked():
    from derive.errors import ProofError
    with pytest.raises(ProofError, match="x - y = 0"):
        prove_equal(*PROVEN["minimum dx"], allow_kink=False)


WRONG = {
    "huber branches swapped": (
        dout * where(sp.Abs(x - t) <= delta, delta * sp.sign(x - t), x - t), ref(HUBER, x),
        [x - t, sp.Abs(x - t) - delta]),
    "hinge wrong side": (dout * where(t * x > 1, -t, 0), ref(HINGE, x), [t * x - 1]),
    "squared hinge without the 2": (dout * where(t * x < 1, -t * (1 - t * x), 0),
                                    ref(HINGE**2, x), [t * x - 1]),
    "min, condition flipped": (dout * where(y < x, 1, 0), ref(where(y > x, x, y), x),
                               [x - y]),
    "smooth_l1 without 1/beta": (dout * where(sp.Abs(x - t) < beta, x - t, sp.sign(x - t)),
                                 ref(SMOOTH_L1, x), [x - t, sp.Abs(x - t) - beta]),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_gradients_are_refuted_off_the_switching_set(name):
    mine, reference, switches = WRONG[name]
    assert_refuted_off_switches(compare(mine, reference), mine, reference, switches)


def test_a_thin_region_where_they_differ_is_never_proven():
    # differ only in a band |x - y| < 10**-3 that random points rarely hit
    band = where((x - y)**2 < sp.Rational(1, 10**6), 1, 0)
    result = compare(band * dout, sp.Integer(0))
    assert not isinstance(result, Proof)


def test_an_infeasible_combination_is_skipped_only_when_proven_empty():
    # x > t and x < t - delta cannot both hold (delta > 0): Fourier-Motzkin shows it
    assert infeasible((Fact(x - t), Fact(t - x - delta)))
    # without delta's sign the same pair is feasible (delta real could be negative)
    d = sp.Symbol("d", real=True)
    assert not infeasible((Fact(x - t), Fact(t - x - d)))
    assert not infeasible((Fact(x - t), Fact(t * x - 1)))
    assert infeasible((Fact(-x**2 - 1, False),))       # -x**2 - 1 >= 0: never


def test_switching_sets_must_be_thin():
    assert thin(t * x - 1) and thin(x - y) and thin(x + sp.tanh(x) - 1)
    assert thin(sp.sqrt(x)) and thin(sp.exp(x) - 2)
    assert not thin(x - x + sp.sin(x)**2 + sp.cos(x)**2 - 1)   # identically 0: not thin


def test_prove_by_regions_reports_what_it_split_on():
    d = where(x < y, dout, 0) - dout * sp.Heaviside(y - x)
    r = prove_by_regions(d, lambda e: "expand" if sp.expand(e) == 0 else None)
    assert r.ok and r.switches == [x - y]
    bad = prove_by_regions(where(x < y, dout, 0), lambda e: "expand" if e == 0 else None)
    assert not bad.ok and bad.failed


def test_a_region_outside_the_domain_of_a_side_is_not_required():
    # sqrt(x) is real only for x >= 0: Heaviside(sqrt(x)) vs a mask on sqrt(x) > 0
    a, b = where(sp.sqrt(x) > 0, dout, 0), dout * sp.Heaviside(sp.sqrt(x))
    result = compare(a, b)
    assert isinstance(result, Proof) and "sqrt(x) = 0" in result.kink_note


def test_check_shows_the_kink_on_its_switching_set():
    from derive.check import check
    from derive.program import layer_from_text
    shifted = check(layer_from_text("np.maximum(0, x - 1)"), "dout*(x >= 1)").verdicts[0]
    assert shifted.status == "proven" and shifted.kink.point == {"x": 1}
    hinge = check(layer_from_text("np.maximum(0, 1 - t*x)", var=["x", "t"]),
                  "np.where(t*x < 1, -t*dout, 0)", wrt="x").verdicts[0]
    assert hinge.status == "proven"
    assert hinge.kink.point["t"] * hinge.kink.point["x"] == 1      # on t*x = 1
