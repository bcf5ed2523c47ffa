"""No traceback, ever: a derandomized slice of the grammar fuzz (``bench/fuzz_grammar.py``).

Random forwards over the whole elementwise grammar (every spelling of the rule table) must
each be derived, refused with a message (exit 2) or left unproven (exit 3) within the
budget; every derived gradient must be proven again by ``check`` and agree with 50-digit
finite differences. The harness itself is tested first: the strategy reaches every
function and operator, and the oracle and the classification can say no.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import fuzz_grammar  # noqa: E402
from grammar_oracle import agreement  # noqa: E402
from grammar_strategies import Formula, formulas, functions  # noqa: E402

SLICE = 60          # examples; about 30 s on one core
TIMEOUT = 5.0       # seconds per command, as in the benchmark


def _draw(n: int) -> list:
    seen = []

    @settings(max_examples=n, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(formulas())
    def collect(f):
        seen.append(f)

    collect()
    return seen


def test_the_strategy_reaches_every_function_and_operator():
    drawn = _draw(1500)
    text = "\n".join(f.text for f in drawn)
    missing = [f.name for f in functions()
               if not any(re.search(rf"(?<![\w.]){re.escape(s)}\(", text) for s in f.spellings)]
    assert not missing, f"never drawn: {missing}"
    for feature in ("np.where(", " & ", " | ", "(~", " ** ", "(2 ** ", "(-", " / ", " <= ",
                    " > ", "1.0507009873554805"):
        assert feature in text, feature
    assert {len(f.inputs) for f in drawn} == {1, 2, 3}
    assert all(f.inputs and set(f.inputs) <= {"x", "t", "y"} for f in drawn)


def test_the_oracle_agrees_with_a_right_gradient_and_refutes_wrong_ones():
    where = "np.where(x > t, x * t, 2 * x)"
    right = {"x": "dout*np.where(x > t, t, 2)", "t": "dout*np.where(x > t, x, 0)"}
    assert {n: v[0] for n, v in agreement(where, right, {}, ["x", "t"]).items()} == \
        {"x": "agree", "t": "agree"}
    swapped = {"x": "dout*np.where(x > t, 2, t)", "t": "dout*np.where(x > t, x, 0)"}
    assert agreement(where, swapped, {}, ["x", "t"])["x"][0] == "disagree"
    # a gradient that is nan where the forward is differentiable (NumPy: nan * 0 is nan)
    masked = agreement("np.arcsin((x < 0.5) * y)",
                       {"x": "0*dout", "y": "dout/np.sqrt(1 - y**2)*(x < 0.5)"}, {}, ["x", "y"])
    assert masked["x"][0] == "agree"
    assert masked["y"][0] == "disagree" and "not real" in masked["y"][1]
    off_by = agreement("np.abs(x) * t", {"x": "dout*np.sign(x)*t*1.000001", "t": "dout*np.abs(x)"},
                       {}, ["x", "t"])
    assert off_by["x"][0] == "disagree" and off_by["t"][0] == "agree"


def test_the_oracle_skips_a_forward_that_is_nowhere_real():
    verdict = agreement("np.log(-x*x - 1)", {"x": "dout*2*x/(x*x + 1)"}, {}, ["x"])
    assert verdict["x"][0] == "skipped" and "forward" in verdict["x"][1]


def test_a_traceback_and_an_overrun_are_counted_as_such(monkeypatch):
    def boom(**kwargs):
        raise ZeroDivisionError("inside the engine")
    monkeypatch.setattr("derive.derive", boom)
    out = fuzz_grammar.examine(Formula("x*x", ("x",)), TIMEOUT)
    assert out.status == "traceback" and "ZeroDivisionError" in out.message
    assert [kind for kind, *_ in out.failures()] == ["traceback (api)"]
    late = fuzz_grammar.Outcome("x", "x", "exit 3", seconds=TIMEOUT + 2, timeout=TIMEOUT)
    assert late.over_budget and late.failures()[0][0] == "over budget (api)"


def test_a_derived_forward_round_trips_and_agrees():
    out = fuzz_grammar.examine(Formula("np.tanh(x) * t", ("x", "t")), TIMEOUT)
    assert out.status == "derived", out.message
    assert out.roundtrip == {"x": "proven", "t": "proven"}
    assert {n: v[0] for n, v in out.fd.items()} == {"x": "agree", "t": "agree"}
    assert out.failures() == []


def test_a_derandomized_slice_has_no_traceback_no_overrun_and_only_results_that_hold():
    f = fuzz_grammar.fuzz(SLICE, derandomize=True, timeout=TIMEOUT, cli_every=30)
    report = fuzz_grammar.format_text(f)
    assert f["examples"] == SLICE
    assert f["derived"] >= SLICE // 2, report            # the slice is not all refusals
    assert f["fd agree"] >= f["derived"] // 2, report    # and the numbers were compared
    assert f["cli"]["runs"] >= SLICE // 30, report
    assert f["tracebacks"] == 0 and f["cli"]["tracebacks"] == 0, report
    assert f["over budget"] == 0 and f["cli"]["over budget"] == 0, report
    assert f["round trip failed"] == 0 and f["cli"]["round trip failed"] == 0, report
    assert f["fd disagree"] == 0, report
    assert f["failures"] == [], report
