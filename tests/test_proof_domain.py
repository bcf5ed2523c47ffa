"""Domain-aware checks: points count only where the forward formula is real and finite."""
from __future__ import annotations

import math

import sympy as sp

from derive.check import check
from derive.crosscheck import Counterexample, cross_check, numeric_compare
from derive.program import layer_from_text
from derive.proof import Proof, compare

x, t, dout = sp.symbols("x t dout", real=True)
FORWARD = t * (sp.log(t) - x)
MINE = sp.Piecewise((-t * dout, t > 0), (0, True))     # the issue's backward for x


def test_without_a_domain_the_check_is_as_before():
    result = compare(MINE, dout * sp.diff(FORWARD, x))
    assert isinstance(result, Counterexample) and result.point["t"] < 0


def test_with_the_forward_as_domain_it_is_proven():
    result = compare(MINE, dout * sp.diff(FORWARD, x), domain=FORWARD)
    assert isinstance(result, Proof), result
    assert "outside the real domain" in result.detail


def test_the_issue_example_through_check():
    spec = layer_from_text("t * (np.log(t) - x)", var=["x", "t"])
    report = check(spec, "np.where(t > 0, -t*dout, 0)", wrt="x")
    assert report.exit_code == 0, report.to_text()


def test_a_wrong_gradient_is_refuted_inside_the_domain():
    spec = layer_from_text("t * (np.log(t) - x)", var=["x", "t"])
    report = check(spec, "np.where(t > 0, t*dout, 0)", wrt="x")
    verdict = report.verdicts[0]
    assert verdict.status == "not_equal" and verdict.counterexample.point["t"] > 0


def test_counterexamples_are_drawn_only_where_the_domain_is_real():
    # log(x - 3) needs x > 3: the classic draw (|x| < 2.5) never is; larger magnitudes are
    domain = sp.log(x - 3)
    agreed, bad = numeric_compare(dout / (x - 3), 2 * dout / (x - 3), domain=domain)
    assert isinstance(bad, Counterexample) and bad.point["x"] > 3
    run = cross_check(dout / (x - 3), dout / (x - 3) + 0 * x, domain=[domain, sp.sqrt(x)])
    assert run.counterexample is None and "domain" in " ".join(run.skipped)


def test_points_where_only_complex_values_agree_never_refute():
    # log(x*y) and log(x) + log(y) differ by 2*pi*i for x, y < 0: not a real counterexample
    y = sp.Symbol("y", real=True)
    assert cross_check(sp.log(x * y), sp.log(x) + sp.log(y)).counterexample is None


def test_a_counterexample_is_confirmed_at_higher_precision():
    # 1 - tanh(x)**2 vs sech(x)**2 + 1e-40: the gap is below what 30 digits can see
    tiny = sp.Rational(1, 10**40)
    assert numeric_compare(1 - sp.tanh(x)**2, sp.sech(x)**2 + tiny)[1] is None
    agreed, bad = numeric_compare(sp.tanh(x), sp.tanh(x) + sp.Rational(1, 10**6))
    assert isinstance(bad, Counterexample)
    assert math.isclose(abs(bad.left - bad.right), 1e-6, rel_tol=1e-6)


def test_a_side_with_no_value_on_a_region_where_the_other_has_one_is_refuted():
    """dout/max(0, x) is 1/0 on all of x < 0, where where(x >= 0, dout/x, 0) is 0: the
    cross-check used to skip those points (one side undefined) and the branch-sum rewrite
    was "proven"."""
    wrong = dout / sp.Max(0, x)
    gradient = sp.Piecewise((dout / x, x >= 0), (0, True))
    result = compare(wrong, gradient)
    assert isinstance(result, Counterexample) and result.point["x"] < 0
    assert "division by zero" in str(result.left) and complex(result.right) == 0
    log_of_zero = compare(sp.log(sp.Max(0, x)), sp.Piecewise((sp.log(x), x > 0), (0, True)))
    assert isinstance(log_of_zero, Counterexample) and log_of_zero.point["x"] < 0


def test_a_value_that_rounds_to_a_pole_is_not_a_counterexample():
    """log(1 - sigmoid(x)) at x = 1000 is log(0) at 60 digits only (1 - 1/(1 + e**-1000)
    is e**-1000/(1 + e**-1000) exactly): rounding, not a pole, so it must not refute the
    stable form -log(1 + e**x) (the sigmoid-with-loss forward)."""
    y = 1 / (1 + sp.exp(-x))
    result = compare(sp.log(1 - y), -sp.log(1 + sp.exp(x)))
    assert isinstance(result, Proof), result


def test_a_rewrite_may_not_turn_a_real_value_into_a_value_that_is_not_real():
    """Complex values never refute a step (SymPy's view), so where((x > 0) & (x < 3),
    1/sqrt(x), 0) and where(x < 3, 1/sqrt(x), 0) compare equal; in code the second is nan
    at every x < 0. prove_rewrite refuses it; a mask times a factor is read as a select."""
    import pytest

    from derive.branches import masks_as_selects
    from derive.errors import ProofError
    from derive.proof import prove_rewrite
    f = 1 / sp.sqrt(x)
    before = sp.Piecewise((f, (x > 0) & (x < 3)), (0, True))
    with pytest.raises(ProofError, match="not real"):
        prove_rewrite(before, sp.Piecewise((f, x < 3), (0, True)))
    mask = sp.Piecewise((1, x > 0), (0, True))
    assert masks_as_selects(mask * f) == sp.Piecewise((f, x > 0), (0, True))
    with pytest.raises(ProofError):
        prove_rewrite(dout * mask / sp.sqrt(sp.Max(0, x)), dout / sp.sqrt(sp.Max(0, x)))
    prove_rewrite(before, sp.Piecewise((1 / sp.sqrt(x), (x < 3) & (x > 0)), (0, True)))
