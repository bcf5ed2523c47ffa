"""Both books' layer APIs, in export (``--api book1|book2``) and in verify, and float32 kept.

Volume 1: weights to the constructor, gradients as attributes ``dW``, ``db``. Volume 2:
``self.params``/``self.grads`` lists, backward writes into ``grads`` in place (an optimizer
holding the lists sees it), no flattening of a 4-D input. The volume 2 user classes are
tests/data/vol2_classes.py.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from derive import catalogue
from derive.cli import main
from derive.codegen import emit_module
from derive.derivation import derive_spec
from numeric import generated, matrix_generated
from numeric.book_api import detect
from numeric.cases import CASES
from numeric.fd import numerical_grad
from numeric.layercase import input_sets
from numeric.sandbox import load_module
from numeric.verify import verify_class

DATA = Path(__file__).parent / "data"
VOL2 = (DATA / "vol2_classes.py").read_text()
RNN_FILE = '''def rnn(x: input("N", "D"), h_prev: input("N", "H"), Wx: weight("D", "H"),
        Wh: weight("H", "H"), b: weight("H")):
    """RNN cell

    class: RNN
    """
    t = h_prev @ Wh + x @ Wx + b
    return np.tanh(t)
'''
TIME_SCALE = '''def time_scale(x: input("N", "T", "D"), g: weight("D")):
    """Time scale

    class: TimeScale
    """
    return x * g
'''
CHANNEL_SCALE = '''def channel_scale(x: input("N", "C", "H", "W"), g: weight("C", 1, 1)):
    """Channel scale

    class: ChannelScale
    """
    return x * g
'''
NAMES = [n for n in catalogue.names() if n in CASES]   # layers with a verify case


@pytest.fixture(scope="module")
def modules():
    """The whole catalogue exported now, in each API: {api: module}."""
    ds = [derive_spec(catalogue.get(n)) for n in NAMES]
    return {api: load_module(emit_module(ds, cmd="--all", api=api), f"all_{api}")
            for api in ("book1", "book2")}


@pytest.fixture
def vol2():
    return load_module(VOL2, "vol2_classes")


@pytest.fixture
def user_dir(tmp_path, monkeypatch, request):
    """tmp_path as cwd with the volume 2 classes under a module name unique to the test."""
    tag = "vol2_" + re.sub(r"\W", "_", request.node.name)
    (tmp_path / f"{tag}.py").write_text(VOL2)
    for name, text in (("rnn", RNN_FILE), ("time_scale", TIME_SCALE),
                       ("channel_scale", CHANNEL_SCALE)):
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    return tag


# --- export --api ----------------------------------------------------------------------------

def test_export_book2_affine_fills_the_lists_in_place(capsys):
    assert main(["export", "affine", "--api", "book2"]) == 0
    src = capsys.readouterr().out
    assert "self.params = [W, b]" in src and "self.grads[0][...] = dW" in src
    assert "_rows" not in src and "self.dW" not in src
    layer = load_module(src, "b2_affine").Affine(np.ones((4, 3)), np.zeros(3))
    held = list(layer.grads)                  # what an optimizer would hold
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    layer.forward(x)
    layer.backward(dout)
    assert held[0] is layer.grads[0] and np.allclose(held[0], x.T @ dout)
    assert np.allclose(held[1], dout.sum(axis=0))
    with pytest.raises(ValueError):            # volume 2 does not flatten
        layer.forward(rng.standard_normal((2, 2, 1, 2)))


def test_export_book1_is_the_default(capsys):
    assert main(["export", "affine"]) == 0
    src = capsys.readouterr().out
    assert "self.dW = dW" in src and "_rows(x)" in src and "self.params" not in src
    assert main(["export", "affine", "--api", "book3"]) == 2


def test_export_rnn_file_book2_matches_finite_differences(tmp_path, capsys):
    (tmp_path / "rnn.py").write_text(RNN_FILE)
    assert main(["export", "--file", str(tmp_path / "rnn.py"), "--api", "book2"]) == 0
    src = capsys.readouterr().out
    assert "self.params = [Wx, Wh, b]" in src and "--api book2" in src
    RNN = load_module(src, "b2_rnn").RNN
    rng = np.random.default_rng(2)
    x, h, Wx, Wh, b = (rng.standard_normal(s) for s in ((3, 4), (3, 2), (4, 2), (2, 2), (2,)))
    layer = RNN(Wx, Wh, b)
    dout = rng.standard_normal((3, 2))
    layer.forward(x, h)
    dx, dh = layer.backward(dout)
    numeric = numerical_grad(lambda x, h, Wx, Wh, b: RNN(Wx, Wh, b).forward(x, h),
                             [x, h, Wx, Wh, b], dout)
    for got, fd in zip([dx, dh, *layer.grads], numeric):
        assert np.allclose(got, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "softmax", "dropout"])
def test_book2_layers_without_weights_have_empty_lists(modules, name):
    layer = getattr(modules["book2"], CASES[name].class_name)(**CASES[name].params)
    assert layer.params == [] and layer.grads == []
    assert not hasattr(getattr(modules["book1"], CASES[name].class_name)(), "params")


# --- float32 in, float32 out -----------------------------------------------------------------

def _float32_run(cls, case, values, dtype):
    """(out, [input gradients], [weight gradients], layer) with every array in ``dtype``."""
    v = {k: a if case.kind(k) == "index" else np.asarray(a, dtype=dtype)   # ids stay ints
         for k, a in values.items()}
    layer = cls(*[v[w] for w in case.weights], **case.params)
    api = detect(layer, case.weights, [v[w] for w in case.weights])
    if case.mask_attr:
        layer.rng = np.random.default_rng(3)  # the same mask for both dtypes
    out = layer.forward(*[v[n] for n in case.inputs + case.consts])
    outs = out if case.outputs else (out,)          # several outputs: one dout each
    douts = [1.0] if case.loss else [np.linspace(-1, 1, np.size(o), dtype=dtype).reshape(
        np.shape(o)) for o in outs]
    g = layer.backward(*douts)
    g = list(g) if isinstance(g, tuple) else [] if g is None else [g]   # None: only ids
    weights = [np.array(api.gradient(layer, i)) for i in range(len(case.weights))]
    return out, g, weights, layer, v


def _sets(case):
    return [values for label, values in input_sets(case, np.random.default_rng(0))
            if label.startswith(("random", "sizes")) and "N=1" not in label]


@pytest.mark.parametrize("api", ["book1", "book2"])
@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out_and_close_to_float64(modules, api, name):
    case = CASES[name]
    cls = getattr(modules[api], case.class_name)
    for values in _sets(case):
        out, g, w, layer, _ = _float32_run(cls, case, values, np.float32)
        dtypes = [np.asarray(a).dtype for a in [out, *g, *w]]
        assert all(d == np.float32 for d in dtypes), (name, dtypes)
        cached = {k: a.dtype for k, a in vars(layer).items()       # no float64 cache either
                  if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
        assert set(cached.values()) <= {np.dtype(np.float32)}, (name, cached)
        out64, g64, w64, _, _ = _float32_run(cls, case, values, np.float64)
        assert np.asarray(out64).dtype == np.float64
        for a, b in zip([out, *g, *w], [out64, *g64, *w64]):
            scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
            assert np.allclose(a, b, rtol=1e-4, atol=2e-5 * scale), name


@pytest.mark.parametrize("name", [n for n in NAMES if not catalogue.get(n).features.get("loop")])
def test_float32_backward_functions(modules, name):     # (a time loop calls its cell's)
    """``<layer>_backward`` called with float32 arrays returns float32 gradients."""
    import inspect
    case = CASES[name]
    mod = modules["book1"]
    fn = getattr(mod, f"{name}_backward")
    values = _sets(case)[-1]
    out, _, _, layer, v = _float32_run(getattr(mod, case.class_name), case, values, np.float32)
    known = {"out": np.asarray(out), **v,
             **{f"d{o}": np.ones_like(a) for o, a in zip(case.outputs, out if case.outputs
                                                         else ())}}
    args = {}
    for p, param in inspect.signature(fn).parameters.items():
        if p == "dout":
            args[p] = np.float32(1.0) if case.loss else np.ones_like(np.asarray(out))
        elif param.default is inspect.Parameter.empty:
            args[p] = getattr(layer, p) if case.shapes and hasattr(layer, p) else known[p]
    grads = fn(**args)
    for g in grads if isinstance(grads, tuple) else (grads,):
        assert np.asarray(g).dtype == np.float32, (name, np.asarray(g).dtype)


@pytest.mark.parametrize("api", ["book1", "book2"])
def test_float32_at_test_time(modules, api):
    """train_flg=False: running averages (BatchNormalization) and dropout's scaling."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    ones, zeros = np.ones(4, np.float32), np.zeros(4, np.float32)
    bn = modules[api].BatchNormalization(ones, zeros)
    bn.forward(x)
    assert bn.forward(x, train_flg=False).dtype == np.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    assert modules[api].Dropout(seed=0).forward(x, train_flg=False).dtype == np.float32


def test_label_indices_and_one_hot_fallback_keep_float32(modules):
    cls = modules["book2"].SoftmaxWithLoss
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    layer = cls()
    loss = layer.forward(x, np.array([0, 3, 1]))
    dx = layer.backward()
    assert np.asarray(loss).dtype == np.float32 and dx.dtype == np.float32


# --- verify: both APIs -----------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_exported_book2_classes_verify_against_book1(modules, name):
    case = CASES[name]
    report = verify_class(getattr(modules["book2"], case.class_name), case,
                          getattr(modules["book1"], case.class_name))
    assert report.ok, report.render()
    assert report.api == "book2"
    if case.flatten:
        assert any("does not flatten a 4-D input" in n for n in report.notes)
        assert all(len(s) == 2 for s in report.shapes)


def test_book1_class_is_detected_as_book1():
    report = verify_class(matrix_generated.Affine, CASES["affine"], matrix_generated.Affine)
    assert report.ok and report.api == "book1" and "volume 1" in report.api_detail
    assert not any("flatten" in n for n in report.notes) and (2, 2, 3, 2) in report.shapes


@pytest.mark.parametrize("cls,ok,says", [
    ("Affine", True, "does not flatten a 4-D input"),
    ("WrongDWAffine", False, "worst dW"),
    ("ReplacedGradsAffine", False, "self.grads is a new list"),
    ("ReplacedArrayAffine", False, "self.grads[0] is a new array"),
    ("Float32Affine", True, "by shape"),
    ("Float32WrongAffine", False, "worst db"),
])
def test_vol2_affine_classes(vol2, cls, ok, says):
    report = verify_class(getattr(vol2, cls), CASES["affine"], matrix_generated.Affine)
    assert report.ok is ok, report.render()
    assert says in report.render()
    assert report.api == "book2"


def test_replaced_grads_fail_even_when_the_values_are_right(vol2):
    report = verify_class(vol2.ReplacedGradsAffine, CASES["affine"], matrix_generated.Affine)
    assert report.backward.passed and report.fd.passed and not report.ok
    assert any("optimizer" in f for f in report.failures)


def test_float32_class_gets_float32_tolerances(vol2):
    report = verify_class(vol2.Float32Affine, CASES["affine"], matrix_generated.Affine)
    assert report.dtypes == ["float32"] and report.fd.passed


@pytest.mark.parametrize("cls,ok", [("InvertedDropout", True), ("ScaledInForwardDropout", True),
                                    ("UnscaledBackwardDropout", False)])
def test_inverted_dropout(vol2, cls, ok):
    report = verify_class(getattr(vol2, cls), CASES["dropout"], matrix_generated.Dropout)
    assert report.ok is ok, report.render()
    assert any("scaled by 2 = 1/(1 - 0.5)" in n for n in report.notes), report.notes


def test_mask_with_two_scales_is_an_error(vol2):
    class TwoScales(vol2.InvertedDropout):
        def forward(self, x, train_flg=True):
            self.mask = np.where(self.rng.random(np.shape(x)) > 0.5, 2.0, 3.0)
            return x * self.mask
    report = verify_class(TwoScales, CASES["dropout"], matrix_generated.Dropout)
    assert not report.ok and any("one scale" in e for e in report.errors)


def test_elementwise_vol2_class(vol2):
    report = verify_class(vol2.Sigmoid, CASES["sigmoid"], generated.Sigmoid)
    assert report.ok and report.api == "book2"


def test_params_matched_by_identity_in_any_order():
    class Reversed:
        def __init__(self, W, b):
            self.params = [b, W]
            self.grads = [np.zeros_like(b), np.zeros_like(W)]
    W, b = np.ones((3, 3)), np.ones(3)
    api = detect(Reversed(W, b), ("W", "b"), [W, b])
    assert api.order == (1, 0) and api.matched == "identity" and api.where(0) == "self.grads[1]"
    square = np.ones(3)
    api = detect(Reversed(W.copy(), square), ("W", "b"), [W, square])
    assert api.order == (1, 0)          # b by identity, W by its shape


def test_wrong_list_length_is_reported(vol2):
    class Short(vol2.Affine):
        def __init__(self, W, b):
            super().__init__(W, b)
            self.params, self.grads = self.params[:1], self.grads[:1]
    report = verify_class(Short, CASES["affine"], matrix_generated.Affine)
    assert not report.ok and any("self.params has 1" in e for e in report.errors)


# --- verify through the CLI (sandboxed) ------------------------------------------------------

def test_cli_json_names_the_api(user_dir, capsys):
    assert main(["verify", "--class", f"{user_dir}:Affine", "--layer", "affine",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["api"] == "book2"
    assert any("does not flatten" in n for n in data["notes"])
    assert main(["verify", "--class", f"{user_dir}:ReplacedGradsAffine", "--layer",
                 "affine"]) == 1
    out = capsys.readouterr().out
    assert "replaces self.grads" in out and "api: volume 2" in out


def test_cli_rnn_file(user_dir, capsys):
    assert main(["verify", "--class", f"{user_dir}:RNN", "--file", "rnn.py"]) == 0
    assert "rnn: OK" in capsys.readouterr().out
    assert main(["verify", "--class", f"{user_dir}:SwappedRNN", "--file", "rnn.py"]) == 1


@pytest.mark.parametrize("cls,file,shape", [("TimeScale", "time_scale.py", 3),
                                            ("ChannelScale", "channel_scale.py", 4)])
def test_cli_inputs_of_rank_3_and_4(user_dir, capsys, cls, file, shape):
    assert main(["verify", "--class", f"{user_dir}:{cls}", "--file", file,
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["api"] == "book2", data["failures"]
    assert data["shapes"] and all(len(s) == shape for s in data["shapes"])


def test_params_property_that_raises_is_not_an_escape():
    class Raising(matrix_generated.Affine):
        @property
        def grads(self):
            raise RuntimeError("no grads here")
        params = grads
    report = verify_class(Raising, CASES["affine"], matrix_generated.Affine)
    assert report.ok and report.api == "book1"      # its dW, db attributes are read
