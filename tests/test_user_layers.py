"""Layers a user writes as their NumPy forward, through every command (issue 8's list).

The forwards are in tests/data/user_layers.py, each written by hand from its usual
definition; the backward lines below are the usual hand-derived ones, not derive's output.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from derive.check import check
from derive.cli import main
from derive.codegen import emit_module
from derive.derivation import derive_spec
from derive.program import function_names, layer_from_def
from derive.render import FORMATS, render
from derive.verification import case_of
from numeric.sandbox import load_module
from numeric.verify import verify_class

from helpers import fd

FILE = Path(__file__).parent / "data" / "user_layers.py"
SOURCE = FILE.read_text()

# layer -> (gradient to, the usual hand-written backward, a wrong one)
BACKWARD = {
    "rms_norm": ("x", "g*dout/np.sqrt(ms + eps) - x*np.mean(dout*g*x, axis=1, keepdims=True)"
                      "/np.sqrt(ms + eps)**3", "g*dout/np.sqrt(ms + eps)"),
    "l2_normalize": ("x", "(dout - out*np.sum(dout*out, axis=1, keepdims=True))/n", "dout/n"),
    "cosine_similarity": ("a", "np.expand_dims(dout, 1)*(b/np.expand_dims(na*nb, 1)"
                               " - np.expand_dims(out/na**2, 1)*a)",
                          "np.expand_dims(dout, 1)*b/np.expand_dims(na*nb, 1)"),
    "dense": ("W", "x.T @ (dout*(1 - out**2))", "x.T @ dout"),
    "glu": ("W", "x.T @ (dout/(1 + np.exp(-(x @ V))))", "x.T @ dout"),
    "log_softmax": ("x", "dout - np.exp(out)*np.sum(dout, axis=1, keepdims=True)",
                    "dout - np.exp(out)*dout"),
    "logsumexp": ("x", "np.expand_dims(dout, 1)*np.exp(x - np.expand_dims(out, 1))",
                  "np.expand_dims(dout, 1)*np.exp(x)"),
    "softmax_ce": ("x", "dout*(p - t)/N", "dout*(p - t)"),
    "mse_mean": ("x", "2*dout*(x - t)/(N*D)", "dout*(x - t)/N"),
    "attention_scores": ("Q", "(out*(dout - np.sum(dout*out, axis=1, keepdims=True))) @ K"
                              " / np.sqrt(d)", "(out*dout) @ K / np.sqrt(d)"),
    "attention_readout": ("V", "A.T @ dout", "dout.T @ A"),
    "bilinear": ("W", "x.T @ (y*np.expand_dims(dout, 1))", "x.T @ y"),
    "weight_decay": ("W", "dout*lam*W", "lam*W"),
    "stable_softmax": ("x", "out*(dout - np.sum(dout*out, axis=1, keepdims=True))", "out*dout"),
    "stable_logsumexp": ("x", "dout*np.exp(x - out)", "dout*np.exp(x)"),
}
LAYERS = function_names(SOURCE)


@pytest.fixture(scope="module")
def derived():
    return {name: derive_spec(layer_from_def(SOURCE, fn=name)) for name in LAYERS}


def test_the_list_is_complete():
    assert sorted(LAYERS) == sorted(BACKWARD)


@pytest.mark.parametrize("name", LAYERS)
def test_usual_backward_is_proven_and_a_wrong_one_refuted(derived, name):
    wrt, right, wrong = BACKWARD[name]
    spec = derived[name].spec
    good = check(spec, right, wrt)
    assert good.exit_code == 0, good.to_text()
    assert good.verdicts[0].every_size
    bad = check(spec, wrong, wrt)
    assert bad.exit_code == 1 and bad.verdicts[0].status == "not_equal", bad.to_text()


@pytest.mark.parametrize("name", LAYERS)
def test_shows_in_every_format(derived, name):
    d = derived[name]
    for fmt in FORMATS:
        out = render(d, fmt)
        if fmt == "json":
            data = json.loads(out)
            assert set(data["result"]) == set(d.wrt)
        elif fmt == "mathml":
            ET.fromstring(out)
        else:
            assert "∂L" in out or "partial" in out


@pytest.mark.parametrize("name", LAYERS)
def test_exported_class_agrees_with_finite_differences(derived, name):
    """At random shapes, the batch N = 1 among them: inputs and weights perturbed."""
    d = derived[name]
    module = load_module(emit_module([d]), f"user_{name}")
    cls = getattr(module, d.spec.class_name)
    case = case_of(d)
    rng = np.random.default_rng(len(name))
    for sizes in case.size_sets():
        shape = {n: case.shape_of(n, sizes) for n in case.names}
        values = {n: rng.standard_normal(shape[n]) for n in case.names}
        for t in case.consts:                 # one-hot rows where the layer assumes them
            if case.kind(t) == "onehot":
                values[t] = np.eye(shape[t][-1])[rng.integers(0, shape[t][-1], shape[t][0])]
        weights = [values[w] for w in case.weights]
        args = [values[n] for n in (*case.inputs, *case.consts)]

        def loss(dout):
            return np.sum(dout * cls(*weights, **case.params).forward(*args))
        layer = cls(*weights, **case.params)
        out = layer.forward(*args)
        dout = rng.standard_normal(np.shape(out)) if np.ndim(out) else 1.0
        grads = layer.backward(dout)
        grads = grads if isinstance(grads, tuple) else (grads,)
        for n, g in zip(case.inputs, grads):
            assert np.allclose(g, fd(lambda: loss(dout), values[n]), rtol=1e-5, atol=1e-6), n
        for w in case.weights:
            assert np.allclose(getattr(layer, "d" + w), fd(lambda: loss(dout), values[w]),
                               rtol=1e-5, atol=1e-6), w


@pytest.mark.parametrize("name", LAYERS)
def test_verify_passes_the_exported_class(derived, name):
    d = derived[name]
    module = load_module(emit_module([d]), f"user_v_{name}")
    cls = getattr(module, d.spec.class_name)
    report = verify_class(cls, case_of(d), cls, strict=True)
    assert report.ok, report.render()


def test_cli_round_trip_show_check_export_verify(tmp_path, capsys, monkeypatch):
    """As a user would: the file, then each command on it (verify in its sandbox)."""
    monkeypatch.chdir(tmp_path)               # verify imports `mine` from the current directory
    layer = ["--file", str(FILE), "--fn", "rms_norm"]
    assert main(["show", *layer, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["result"]) == {"x", "g"}
    assert main(["check", *layer, "--wrt", "g", "--backward",
                 "np.sum(dout*x/np.sqrt(ms + eps), axis=0)"]) == 0
    capsys.readouterr()
    target = tmp_path / "mine.py"
    assert main(["export", *layer, "-o", str(target)]) == 0
    assert "class RmsNorm:" in target.read_text()
    assert main(["verify", "--class", "mine:RmsNorm", *layer]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "FAIL" not in out


def test_cli_expr_with_shapes_exports_the_contract(tmp_path):
    target = tmp_path / "rms.py"
    assert main(["export", "--expr", "ms = np.mean(x**2, axis=1, keepdims=True); "
                 "out = x * g / np.sqrt(ms + eps)", "--shape", "x=N,D", "--shape", "g=D",
                 "--weight", "g", "--const", "eps=1e-6", "--name", "rms_norm",
                 "-o", str(target)]) == 0
    module = load_module(target.read_text(), "rms_contract")
    assert callable(module.rms_norm_backward)
    layer = module.RmsNorm(np.ones(3))
    x = np.random.default_rng(0).standard_normal((2, 3))
    out = layer.forward(x)                     # eps has its default
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape and layer.dg.shape == (3,)


def test_a_sample_point_outside_the_domain_is_no_warning_on_the_terminal(tmp_path, recwarn):
    """The tensor cross-checks meet sqrt of a negative sum at some random points: NaN,
    skipped, and no RuntimeWarning reaches the user."""
    assert main(["export", "--expr", "ms = np.mean(x**2, axis=1, keepdims=True); "
                 "out = x * g / np.sqrt(ms + eps)", "--shape", "x=N,D", "--shape", "g=D",
                 "--weight", "g", "--const", "eps=1e-6", "--name", "rms_norm",
                 "-o", str(tmp_path / "rms.py")]) == 0
    assert [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)] == []


@pytest.mark.parametrize("name", LAYERS)
def test_json_result_and_cache_are_the_parsers_own_syntax(derived, name):
    """`result` goes back into `check --backward` and is proven; `cache` names exactly what
    the results read beyond the layer's own inputs, each in the inputs alone."""
    d = derived[name]
    data = json.loads(render(d, "json"))
    spec = d.spec
    own = {*spec.input_names, *spec.weight_names, *spec.const_names, *spec.param_names,
           "dout", "out"}
    for w, text in data["result"].items():
        verdict = check(spec, text, w)
        assert verdict.exit_code == 0, verdict.to_text()
    for cached, value in data["cache"].items():
        assert cached not in own - {"out"}
        assert not set(value.replace("np.", " ").split()) & set(data["cache"])


def test_a_shift_by_the_maximum_passes_no_gradient(derived):
    """The stable softmax's max node: the gradient arriving is proven 0, shown as a step."""
    d = derived["stable_softmax"]
    zero = [s for s in d.steps if s.kind == "rewrite" and s.expr == 0]
    assert zero and "index form" in zero[0].proof.method
    through = [s for s in d.steps if s.rule == "max"]
    assert through and through[0].expr == 0
    plain = derived["attention_scores"]          # the same cached form as without the shift
    assert d.needs("x") == ("out",) and plain.needs("Q") == ("out", "K")


def test_a_maximum_that_matters_passes_its_gradient_to_the_first_maximum(capsys):
    """np.max over an axis: the gradient goes to the first maximum (np.argmax's convention),
    and the page says what happens at a tie."""
    assert main(["show", "--expr", "np.max(x, axis=1)", "--shape", "x=N,D"]) == 0
    out = capsys.readouterr().out
    assert "first_max(x, axis=1)" in out and "at a tie" in out


def _exported(tmp_path, expr: str, name: str):
    """``derive export --expr expr --name name``, the written module loaded from its file
    (so that ``inspect`` finds the source of its functions)."""
    import importlib.util
    target = tmp_path / f"{name}.py"
    assert main(["export", "--expr", expr, "--name", name, "-o", str(target)]) == 0
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_clipped_layer_exports_and_its_gradient_matches_differences(tmp_path):
    """np.clip(x, -2, 2)*sigmoid(x): the pruned result keeps an otherwise branch, so the
    exported code runs (it raised a TypeError on a where with no otherwise) and agrees with
    central differences on each side of both ends."""
    module = _exported(tmp_path, "np.clip(x, -2, 2) / (1 + np.exp(-x))", "clipped")
    x = np.array([-3.1, -2.2, -1.9, 0.4, 1.8, 2.3, 4.0])
    layer = module.Clipped()
    layer.forward(x)
    got = layer.backward(np.ones_like(x))
    f = lambda v: np.clip(v, -2, 2) / (1 + np.exp(-v))      # noqa: E731
    h = 1e-6
    assert np.allclose(got, (f(x + h) - f(x - h)) / (2 * h), rtol=1e-6, atol=1e-8)


def test_python_type_hints_declare_params_and_inputs():
    """`beta: float = 1.5` is a scalar parameter, `k: int` an integer one and
    `x: np.ndarray` an input, as `param`, `param(integer=True)` and no annotation are."""
    from derive import derive
    body = "    return x / (1 + np.exp(-beta * x)) + x**k\n"
    hinted = derive(source="import numpy as np\ndef f(x: np.ndarray, beta: float = 1.5, "
                           "k: int = 2):\n" + body, fn="f")
    declared = derive(source="def f(x, beta: param = 1.5, k: param(integer=True) = 2):\n"
                             + body, fn="f")
    assert list(hinted.wrt) == list(declared.wrt) == ["x"]
    assert hinted.result == declared.result
    k = next(s for s in hinted.result["x"].free_symbols if s.name == "k")
    assert k.is_integer


def test_an_unknown_type_hint_is_refused_with_the_choices(capsys):
    source = "def f(x: str):\n    return x\n"
    from derive.errors import DeriveError
    with pytest.raises(DeriveError, match="or float, int, np.ndarray"):
        layer_from_def(source, fn="f")


def test_a_select_on_x_at_most_0_is_clamped_and_warning_free(tmp_path):
    """``where(x <= 0, x, 1 - exp(-x))``: the exp branch is evaluated at max(x, 0) (at
    x = -1000 it computed exp(1000), dropped by the select, with an overflow warning), and
    the backward ``where(out <= 0, dout, dout*(1 - out))`` is ``dout*(1 - max(out, 0))``
    (clamp select, mirrored), the forward ``min(x, 0) - expm1(-max(x, 0))`` (branch sum,
    mirrored): no select left, bit for bit the select's values, signed zeros too."""
    import warnings

    from helpers import statements
    module = _exported(tmp_path, "np.where(x <= 0, x, 1 - np.exp(-x))", "softsat")
    for fn in (module.softsat_backward, module.Softsat.forward):   # branch sum, mirrored
        code = statements(fn)
        assert "putmask" not in code and "where" not in code, code
    x = np.array([-1000.0, -3.0, -1e-300, -0.0, 0.0, 1e-300, 0.5, 3.0, 40.0, 1000.0])
    dout = np.linspace(-1.0, 1.0, x.size)
    layer = module.Softsat()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = layer.forward(x)
        got = module.softsat_backward(dout, out)
        cached = layer.backward(dout)
    want_out = np.where(x <= 0, x, -np.expm1(-np.maximum(x, 0.0)))
    assert out.tobytes() == want_out.tobytes()
    assert got.tobytes() == np.where(out <= 0, dout, dout * (1 - out)).tobytes()
    np.testing.assert_allclose(cached, np.where(x <= 0, dout, dout * np.exp(-np.maximum(x, 0))),
                               rtol=1e-15, atol=0)


def test_a_step_function_of_a_scaled_input_is_derived(tmp_path):
    """np.floor(x/2)*x: sympy.diff leaves the chain rule's Subs(Derivative(floor(xi)), xi,
    x/2); with the step's derivative 0 the Subs stayed, and the cross-check against it had
    no point to evaluate (exit 3). Its gradient is floor(x/2) off the steps."""
    module = _exported(tmp_path, "np.floor(x/2)*x + np.ceil(3*x)", "stepped")
    x = np.array([-3.3, -0.7, 0.4, 1.3, 2.9, 5.1])
    layer = module.Stepped()
    layer.forward(x)
    assert np.array_equal(layer.backward(np.ones_like(x)), np.floor(x / 2))
