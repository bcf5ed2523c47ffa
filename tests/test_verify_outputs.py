"""``verify`` for layers with several outputs (the catalogue's ``lstm``: ``forward`` returns
``(h_next, c_next)``, ``backward(dh_next, dc_next)`` returns ``(dx, dh_prev, dc_prev)``).

The user classes are tests/data/lstm_classes.py (one right, the others with one bug each);
tests/data/lstm_layer.py is a user's layer file with two outputs (the generic case path).
"""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from derive import catalogue
from derive.cli import main
from derive.codegen import emit_module
from derive.derivation import derive_spec
from derive.verification import case_of, layer_row
from numeric.cases import CASES, HAND_CODED
from numeric.fd import numerical_grad
from numeric.layercase import CaseError, LayerCase
from numeric.sandbox import load_module
from numeric.verify import verify_class
from numeric.watch import UserError, ignored, read_outputs, wrong_order

DATA = Path(__file__).parent / "data"
CASE = CASES["lstm"]
REF = HAND_CODED["lstm"]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"test_outputs_{name}", DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLASSES = _load("lstm_classes")


@pytest.fixture(scope="module")
def exported():
    d = derive_spec(catalogue.get("lstm"))
    return d, load_module(emit_module([d]), "outputs_exported_lstm").LSTM


# --- the case -------------------------------------------------------------------------------

def test_the_lstm_case_names_two_outputs_and_packs_four_gates():
    assert CASE.outputs == ("h_next", "c_next") and CASE.output_names == CASE.outputs
    assert CASE.inputs == ("x", "h_prev", "c_prev") and CASE.weights == ("Wx", "Wh", "b")
    sizes = CASE.size_sets()
    assert [s["N"] for s in sizes][0] == 1
    assert CASE.shape_of("Wx", sizes[-1]) == (sizes[-1]["D"], 4 * sizes[-1]["H"])
    assert LayerCase.from_dict(json.loads(json.dumps(CASE.to_dict()))) == CASE
    assert LayerCase("sigmoid", "Sigmoid").output_names == ("out",)


@pytest.mark.parametrize("options,needle", [
    ({"outputs": ("h",)}, "two or more"),
    ({"outputs": ("h", "h")}, "two or more"),
    ({"outputs": ("x", "c")}, "also an input"),
    ({"outputs": ("h", "c"), "loss": True}, "one output"),
])
def test_bad_outputs_are_case_errors(options, needle):
    with pytest.raises(CaseError, match=needle):
        LayerCase("two", "Two", **options)


def test_case_of_the_catalogue_and_of_a_users_file(exported):
    d, _ = exported
    assert case_of(d).outputs == ("h_next", "c_next")
    text = (DATA / "lstm_layer.py").read_text()
    user = derive_spec(_spec_from_text(text))
    case = case_of(user)
    assert case.outputs == ("h_next", "c_next") and case.name == "peephole_free_lstm"
    assert case.shapes["Wx"] == ("D", "4*H") and case.shapes["b"] == ("4*H",)


def _spec_from_text(text):
    from derive.program import layer_from_def
    return layer_from_def(text)


# --- the helpers ----------------------------------------------------------------------------

def test_read_outputs_says_what_forward_returned():
    a = np.ones((2, 3))
    assert len(read_outputs("forward", (a, a), ("h", "c"))) == 2
    with pytest.raises(UserError, match="one array, expected a tuple of 2 arrays"):
        read_outputs("forward", a, ("h", "c"))
    with pytest.raises(UserError, match="3 values, expected 2"):
        read_outputs("forward", (a, a, a), ("h", "c"))
    with pytest.raises(UserError, match="c is None"):
        read_outputs("forward", (a, None), ("h", "c"))


def test_wrong_order_finds_the_permutation_only_when_there_is_one():
    h, c = np.arange(4.0).reshape(2, 2), -np.arange(4.0).reshape(2, 2)
    assert wrong_order([h, c], [h, c], ("h", "c")) == ""
    assert "forward returns (c, h)" in wrong_order([c, h], [h, c], ("h", "c"))
    assert wrong_order([h + 1, c], [h, c], ("h", "c")) == ""      # wrong, but not swapped


def test_ignored_tells_all_from_some():
    g0 = [("dx", np.ones(2)), ("dc", np.ones(2))]
    moved = [("dx", np.full(2, 2.0)), ("dc", np.full(2, 3.0))]
    assert ignored(("h",), g0, g0, lambda k: (moved, moved)) == []
    assert ignored(("c",), g0, g0, lambda k: (g0, moved)) == [
        "backward ignores dc: the gradients do not change when it does"]
    some = [("dx", np.full(2, 2.0)), ("dc", np.ones(2) + 1e-17)]
    assert ignored(("c",), g0, g0, lambda k: (some, moved)) == [
        "backward: dc ignores dc: it does not change when dc does (the reference's does)"]


# --- verify_class ---------------------------------------------------------------------------

def test_the_hand_coded_and_the_exported_lstm_agree_three_ways(exported):
    d, cls = exported
    mine = verify_class(cls, CASE, REF, strict=True)
    theirs = verify_class(REF, CASE, cls, strict=True)
    assert mine.ok and theirs.ok, mine.failures + theirs.failures
    assert mine.forward.compared > 0 and mine.backward.compared > 0 and mine.fd.compared > 0
    assert (1, 3) in mine.shapes
    row = layer_row(d, emit_module([d]))
    assert row["ok"] and row["failures"] == []


def test_a_users_book_style_lstm_passes():
    report = verify_class(CLASSES.LSTM, CASE, REF, strict=True)
    assert report.ok and report.api == "book2", report.failures


def test_finite_differences_take_every_upstream_gradient():
    """L = sum_k sum dout_k * out_k: differentiating the outputs flattened together with the
    douts flattened together gives backward(*douts) (here on the hand-coded class)."""
    rng = np.random.default_rng(3)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    W = [rng.standard_normal(s) for s in ((3, 8), (2, 8), (8,))]
    dh, dc = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    layer = REF(*[w.copy() for w in W])
    layer.forward(x, h, c)
    dx, dh_prev, dc_prev = layer.backward(dh, dc)

    def flat(*xs):
        return np.concatenate([o.reshape(-1) for o in REF(*xs[3:]).forward(*xs[:3])])
    fd = numerical_grad(flat, [x, h, c, *W], np.concatenate([dh.reshape(-1), dc.reshape(-1)]))
    for got, want in zip([dx, dh_prev, dc_prev, *layer.grads], fd):
        assert np.allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,needle", [
    ("DcPrevIgnoresDcNext", "backward: dc_prev ignores dc_next: it does not change when dc_next "
                            "does"),
    ("IgnoresDcNext", "backward ignores dc_next: the gradients do not change when it does"),
    ("SwappedOutputs", "forward returns (c_next, h_next): the outputs in the wrong order, "
                       "expected (h_next, c_next)"),
    ("OneOutput", "forward returned one array, expected a tuple of 2 arrays (h_next, c_next)"),
])
def test_each_bug_fails_with_what_it_is(name, needle):
    report = verify_class(getattr(CLASSES, name), CASE, REF)
    assert not report.ok
    assert any(needle in f for f in report.failures), report.failures


def test_a_dout_that_is_not_ignored_is_not_reported():
    report = verify_class(CLASSES.DcPrevIgnoresDcNext, CASE, REF)
    assert not any("dh_next" in f for f in report.ignored_douts), report.ignored_douts
    assert not any("ignores dc_next: the gradients" in f for f in report.failures)


def test_a_dout_written_in_place_is_strict_only():
    assert verify_class(CLASSES.WritesIntoDcNext, CASE, REF).ok
    strict = verify_class(CLASSES.WritesIntoDcNext, CASE, REF, strict=True)
    assert not strict.ok and strict.mutated_dout
    assert "strict: backward modifies dout in place" in strict.failures


def test_a_second_backward_that_differs_is_seen():
    class Drifting(CLASSES.LSTM):
        def backward(self, dh_next, dc_next):
            self.calls = getattr(self, "calls", 0) + 1
            dx, dh_prev, dc_prev = super().backward(dh_next, dc_next)
            return dx, dh_prev, dc_prev * self.calls
    report = verify_class(Drifting, CASE, REF, strict=True)
    assert report.mutated_cache and any("dc_prev" in s for s in report.second_call)


def test_a_warning_in_backward_is_reported():
    class Warns(CLASSES.LSTM):
        def backward(self, dh_next, dc_next):
            np.log(-np.ones(1))
            return super().backward(dh_next, dc_next)
    report = verify_class(Warns, CASE, REF, strict=True)
    assert any("invalid value" in w and "in backward" in w for w in report.warnings)
    assert not report.ok


# --- the CLI (sandboxed) --------------------------------------------------------------------

@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    for name in ("lstm_classes", "lstm_layer"):
        shutil.copy(DATA / f"{name}.py", tmp_path / f"{name}.py")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_verify_class_lstm(user_dir, capsys):
    assert main(["verify", "--class", "lstm_classes:LSTM", "--layer", "lstm"]) == 0
    out = capsys.readouterr().out
    assert "lstm: OK" in out and "h_next" in out
    assert main(["verify", "--class", "lstm_classes:DcPrevIgnoresDcNext", "--layer", "lstm",
                 "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert not data["ok"] and data["api"] == "book2"
    assert any(f.startswith("backward: dc_prev ignores dc_next") for f in data["failures"])


def test_cli_verify_class_against_a_users_file(user_dir, capsys):
    assert main(["verify", "--class", "lstm_classes:LSTM", "--file", "lstm_layer.py"]) == 0
    assert "peephole_free_lstm: OK" in capsys.readouterr().out
    assert main(["verify", "--class", "lstm_classes:SwappedOutputs", "--file",
                 "lstm_layer.py"]) == 1
    assert "the outputs in the wrong order" in capsys.readouterr().out
