"""The prover's budget: a deadline, per-tactic bounds, bounded numbers; never a hang.

No timing assertion measures speed here (the benchmarks do); the only clocks are generous
"it answered at all" guards, many times the budget.
"""
from __future__ import annotations

import threading
import time

import mpmath
import pytest
import sympy as sp

from derive import budget
from derive.cli import main
from derive.crosscheck import numeric_compare
from derive.errors import BudgetExceeded, DeriveError, ProofError
from derive.points import Skip, evaluate
from derive.proof import Proof, compare, prove_equal

x, y, dout = sp.symbols("x y dout", real=True)


def _sigmoid_nest(k, sigmoid):
    e = x
    for _ in range(k):
        e = sigmoid(e + y)
    return e


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_deadline_api():
    assert budget.remaining() is None
    with budget.deadline(5) as seconds:
        assert seconds == 5 and 0 < budget.remaining() <= 5
        with budget.deadline(1):
            assert budget.remaining() <= 1
        assert budget.remaining() > 1          # the outer deadline is back
    assert budget.remaining() is None
    budget.start(7)
    try:
        assert 6 < budget.remaining() <= 7
    finally:
        budget.stop()
    assert budget.remaining() is None


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DERIVE_TIMEOUT", "4.5")
    assert budget.default_seconds() == 4.5
    monkeypatch.setenv("DERIVE_TIMEOUT", "soon")
    with pytest.raises(DeriveError, match="DERIVE_TIMEOUT") as bad:
        budget.default_seconds()
    assert bad.value.exit_code == 2
    monkeypatch.delenv("DERIVE_TIMEOUT")
    assert budget.default_seconds() == budget.DEFAULT_SECONDS


def test_a_bad_timeout_on_the_command_line_is_bad_input(capsys):
    assert main(["show", "sigmoid", "--timeout", "-3"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_a_tactic_bound_stops_the_tactic_not_the_proof():
    t = time.monotonic()
    with pytest.raises(budget.TacticTimeout):
        with budget.bounded(0.2, "spinning"):
            _spin(30)
    assert time.monotonic() - t < 10


def test_an_exception_swallower_does_not_outlive_its_bound():
    with pytest.raises(budget.TacticTimeout):
        with budget.bounded(0.2, "swallowing"):
            for _ in range(10**6):
                try:
                    _spin(1)
                except Exception:    # what some SymPy code does: our interrupt is not one
                    pass


def test_a_huge_identity_runs_out_of_time_with_exit_3():
    a = sp.diff(_sigmoid_nest(4, lambda u: 1 / (1 + sp.exp(-u))), x)
    b = sp.diff(_sigmoid_nest(4, lambda u: (sp.tanh(u / 2) + 1) / 2), x)   # equal, costly
    t = time.monotonic()
    with budget.deadline(1):
        with pytest.raises(ProofError, match="within the time budget") as ran_out:
            prove_equal(a, b)
    assert ran_out.value.exit_code == 3
    assert time.monotonic() - t < 30          # answered; never a hang


def test_a_tree_too_big_for_every_tactic_is_skipped_at_once():
    a = sp.Add(*[sp.tanh(k * x + y) for k in range(1, 1500)])
    b = sp.Add(*[1 - 2 / (sp.exp(2 * (k * x + y)) + 1) for k in range(1, 1500)])  # equal
    with pytest.raises(BudgetExceeded, match="skipped on") as skipped:
        prove_equal(a, b)
    assert skipped.value.exit_code == 3


def test_the_wider_counterexample_search_has_its_own_bound(monkeypatch):
    """After the tactics fail, the search for a refutation stops after its own few seconds
    (on a 30 000-node tree it took 12 s of the 20 s budget) and says so."""
    from derive import proof
    finished = []

    def slow_witness(*args):
        _spin(3.0)
        finished.append(True)
        return "refuted"
    monkeypatch.setattr(proof, "witness", slow_witness)
    monkeypatch.setattr(proof, "_WITNESS_SECONDS", 0.2)
    limits = proof._Limits()
    with budget.deadline(20):
        assert proof._witness((), x, y, None, 0, limits) is None
    assert not finished
    assert limits.hit == ["the counterexample search stopped after 0.2 s"]


def test_a_passed_deadline_is_exit_3_from_compare_too():
    with budget.deadline(0.05):
        _spin(0.1)
        with pytest.raises(BudgetExceeded):
            compare(sp.tanh(x), 1 - 2 / (sp.exp(2 * x) + 1))


def test_the_whole_command_is_watched():
    with pytest.raises(BudgetExceeded, match="still running"):
        with budget.deadline(0.3, everything=True):
            while True:                        # not prover code, and it swallows Exception
                try:
                    _spin(0.01)
                except Exception:
                    pass


def test_an_interrupted_sympy_call_leaves_sympy_sound():
    hard = sp.diff(_sigmoid_nest(5, lambda u: 1 / (1 + sp.exp(-u))), x)
    with pytest.raises(budget.TacticTimeout):
        with budget.bounded(0.3, "simplify"):
            sp.simplify(hard)
    assert mpmath.mp.prec == 53
    assert sp.simplify(sp.sin(x)**2 + sp.cos(x)**2) == 1
    assert sp.exp(x).is_positive and sp.Add(x, x, evaluate=True) == 2 * x
    assert isinstance(prove_equal(sp.tanh(x), 1 - 2 / (sp.exp(2 * x) + 1)), Proof)


def test_outside_the_main_thread_only_the_size_bounds_apply():
    out = {}

    def work():
        with budget.bounded(0.1, "in a thread"):    # no signal here: no timer, no error
            out["proof"] = prove_equal(sp.exp(2 * x), sp.exp(x) ** 2)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert isinstance(out.get("proof"), Proof)


def test_overflow_is_outside_float_range_not_a_crash():
    deep = sp.exp(sp.exp(sp.exp(x)))
    with pytest.raises(Skip, match="outside float range"):
        evaluate(deep, {x: 100})
    assert isinstance(prove_equal(sp.diff(deep, x), deep * sp.exp(x + sp.exp(x))), Proof)
    huge = sp.exp(sp.exp(sp.exp(100))) * x    # would need ~10**43 digits
    t = time.monotonic()
    assert numeric_compare(huge, 2 * huge - huge) == (0, None)
    with pytest.raises(ProofError, match="outside float range") as none:
        prove_equal(sp.diff(huge, x), sp.exp(sp.exp(sp.exp(100))))
    assert none.value.exit_code == 3
    assert time.monotonic() - t < 30


def test_huge_rationals_and_powers_are_skipped_or_proven():
    big = sp.Rational(10**5000 + 1, 10**5000)
    assert compare(big * x, x) is None or not isinstance(compare(big * x, x), Proof)
    assert isinstance(compare(x**(10**6) * x, x**(10**6 + 1)), Proof)
    assert numeric_compare(sp.Integer(10)**5000 * x, sp.Integer(10)**5000 * x + 0)[1] is None


def test_the_hang_families_answer_through_the_command_line(capsys):
    for formula in ("np.exp(np.exp(np.exp(100)))*x", "np.tanh(np.tanh(np.tanh(x)))"):
        t = time.monotonic()
        code = main(["show", "--expr", formula, "--timeout", "3"])
        assert code in (0, 3), capsys.readouterr().err
        assert time.monotonic() - t < 60


def test_restart_gives_each_layer_the_whole_budget():
    """docs/export --all/verify call budget.restart() per layer: the deadline moves to
    now + --timeout (and without a deadline nothing starts)."""
    import time as _time
    from derive import budget as _budget
    _budget.restart()
    assert _budget.remaining() is None
    with _budget.deadline(2):
        _time.sleep(0.5)
        before = _budget.remaining()
        _budget.restart()
        after = _budget.remaining()
        assert before < 1.6 < after <= 2


def test_a_tick_while_a_scope_is_entered_or_left_is_skipped():
    """A tick landing in deadline.__exit__ before it marks itself as leaving used to escape
    it with the watch still on: every later tick (a test runner's report, a finalizer) then
    raised again. Ticks in the scope machinery are skipped; ticks in the body are not."""
    import signal
    from types import SimpleNamespace
    budget.start(1)
    budget._deadline = time.monotonic() - 1          # expired, and watched
    budget._watching = True
    try:
        for code in (budget.deadline.__exit__.__code__, budget.deadline.__enter__.__code__):
            budget._on_alarm(signal.SIGALRM, SimpleNamespace(f_code=code,
                                                             f_globals=vars(budget)))
        import sys
        with pytest.raises(budget.Interrupt):
            budget._on_alarm(signal.SIGALRM, sys._getframe())
    finally:
        budget.stop()


def test_no_watch_is_left_behind_by_many_short_deadlines(monkeypatch):
    """Ticks 20x as often as in use, over many deadlines that run out: every one ends as
    BudgetExceeded, and afterwards nothing is watching and no timer is armed."""
    import signal
    monkeypatch.setattr(budget, "_REPEAT", 0.0005)
    ran_out = 0
    for _ in range(150):
        try:
            with budget.deadline(0.002, everything=True):
                _spin(0.05)
        except BudgetExceeded:
            ran_out += 1
    assert ran_out == 150
    assert not budget._watching and budget._deadline is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is not budget._on_alarm


def test_a_tick_in_a_finalizer_is_not_reported_but_other_unraisables_are(monkeypatch):
    import sys
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(type(u.exc_value)))

    class SlowToDie:
        def __del__(self):
            _spin(0.3)            # the expired deadline's tick lands in here

    class Broken:
        def __del__(self):
            raise ValueError("a finalizer's own error")

    with pytest.raises(BudgetExceeded):
        with budget.deadline(0.05, everything=True):
            obj = SlowToDie()
            del obj               # Python drops the Interrupt raised in __del__ ...
            Broken()              # ... and reports this one to the hook
            _spin(5)              # the next tick stops the body
    assert seen == [ValueError]
    assert sys.unraisablehook is not budget._quiet_unraisable
