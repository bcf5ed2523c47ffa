"""The peer-library survey as tests: every activation and loss of torch, jax and Keras in
bench/peer_formulas.py shows with exit 0, and ``derive check`` proves each library's own backward
(or refutes it where the table says it is not the derivative).

The whole table runs, in-process through ``derive.cli.main``: about 20 s on 2 cores for the
entries that answer, so no slice is needed. Each command gets ``--timeout 15``: every command
that passes takes under 1 s alone, and 15 s leaves room for a loaded machine (5 s once ran out
under a concurrent ``derive docs``); one that runs out of budget still fails here, within 15 s.
Entries that fail today are not skipped or marked xfail: they fail until the engine handles them.

A wrong backward — the peer's own times 1.01, a branch swapped, a switch point moved — must be
refuted (exit 1, "not_equal"), so these tests can fail in both directions.

The prover bounds each tactic in wall-clock seconds, so on a loaded machine a check can come
back "unproven" (exit 1, "could not prove") where an idle one proves or refutes. A check that
is "unproven" is run once more; any other verdict, and a second "unproven", is final. A
"proven" is never retried: a wrong backward proven once fails the test.
"""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peer_survey
from bench.peer_formulas import PEERS, Peer, by_name

TIMEOUT = 15

CHECKS = [(peer.name, wrt) for peer in PEERS for wrt in peer.inputs]


def _check(peer, wrt, backward=None) -> dict:
    argv = peer_survey.check_argv(peer, wrt, backward, timeout=TIMEOUT)
    run = peer_survey.run_derive(argv)
    if peer_survey.check_status(run) == "unproven":    # a tactic's wall-clock bound ran out
        run = peer_survey.run_derive(argv)
    return run


def _explain(run) -> str:
    return peer_survey._message(run) or run["stderr"][-600:]


@pytest.mark.parametrize("name", [peer.name for peer in PEERS])
def test_every_peer_shows(name):
    peer = by_name(name)
    run = peer_survey.run_derive(peer_survey.show_argv(peer, TIMEOUT))
    assert run["exit"] == 0, f"derive {' '.join(peer_survey.show_argv(peer))}: {_explain(run)}"
    data = run["json"]
    assert data["inputs"] == list(peer.inputs)
    # a derivation, not an empty page: a step for each input's gradient, each with its proof
    assert data["steps"] and all(step.get("proof") for step in data["steps"])


@pytest.mark.parametrize("name,wrt", CHECKS)
def test_every_peer_backward_is_proven(name, wrt):
    peer = by_name(name)
    run = _check(peer, wrt)
    want = peer.expected(wrt)
    assert peer_survey.check_status(run) == want, (
        f"{name} --wrt {wrt}: want {want}, exit {run['exit']}: {_explain(run)}")
    assert run["exit"] == (0 if want == "proven" else 1)


# (entry, input, a wrong backward): each differs from the library's on a set of positive measure
WRONG = [
    ("torch.ELU", "x", "1.01*(np.where(x <= 0, dout*1.0*1.0*np.exp(x*1.0), dout*1.0))"),
    ("torch.Hardswish", "x", "np.where(x < -3, 0, np.where(x <= 3, dout, dout*(x/3 + 0.5)))"),
    ("torch.Hardsigmoid", "x", "np.where((x > -3) & (x < 2.5), dout/6, 0)"),
    ("torch.PReLU", "a", "np.where(x > 0, x*dout, 0)"),
    ("torch.GELU.tanh", "x", "dout*0.5*(1 + np.tanh(0.7978845608028654*(x + 0.044715*x**3)))"),
    ("jax.softplus", "x", "dout*np.exp(x - out)*1.01"),
    ("keras.elu", "x", "np.where(out < 0, dout, dout*(out + 1))"),
    ("torch.HuberLoss", "t",
     "np.where(t - x < -1.0, dout, np.where(t - x > 1.0, -dout, (t - x)*dout))"),
    ("keras.hinge", "x", "np.where(1.0 - t*x >= 0.0, t*dout, 0)"),
    ("torch.SoftMarginLoss", "t", "-t*np.exp(-t*x)/(1 + np.exp(-t*x))*dout"),
    ("torch.GaussianNLLLoss", "var", "0.5*dout*(1/var + (x - t)**2/(var*var))"),
]


@pytest.mark.parametrize("name,wrt,wrong", WRONG, ids=[f"{n}-{w}" for n, w, _ in WRONG])
def test_a_wrong_backward_is_refuted(name, wrt, wrong):
    peer = by_name(name)
    assert wrong != peer.backward[wrt]
    run = _check(peer, wrt, wrong)
    assert peer_survey.check_status(run) == "not_equal", f"{name} --wrt {wrt}: {_explain(run)}"
    assert run["exit"] == 1
    assert run["json"]["results"][0].get("counterexample"), "a refutation names its point"


def test_the_survey_fails_on_a_wrong_entry(monkeypatch, capsys):
    """The runner's exit code and table: a table with one wrong backward is a failing survey."""
    relu = by_name("torch.ReLU")
    wrong = Peer("test.wrong_relu", "test", relu.forward, {"x": "np.where(out <= 0, dout, 0)"},
                 "a wrong backward")
    monkeypatch.setattr(peer_survey, "PEERS", (relu, wrong))
    assert peer_survey.main(["--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["failing"] == ["test.wrong_relu"]
    assert report["totals"]["entries"] == 2 and report["totals"]["shown"] == 2
    assert [c["status"] for r in report["entries"] for c in r["checks"].values()] == \
        ["proven", "not_equal"]
    assert peer_survey.main(["--only", "torch.ReLU"]) == 0


def test_only_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="no entry matches nope"):
        peer_survey.select("torch.ReLU,nope")
    assert peer_survey.main(["--only", "nope"]) == 2
    assert [p.name for p in peer_survey.select("torch.Hard*")] == [
        "torch.Hardshrink", "torch.Hardsigmoid", "torch.Hardtanh", "torch.Hardswish"]
