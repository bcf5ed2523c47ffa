"""Generated NumPy code: table-driven over the catalogue against the reference classes and
finite differences; stability at ±1000; no writes into caller arrays; freshness of
numeric/generated.py; the exported module needs numpy only."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sympy as sp

from derive import catalogue
from derive.cli import main
from derive.codegen import emit_module as emit_derivations
from derive.codegen.stable import stable_form
from derive.derivation import derive
from numeric import generated
from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE
from numeric.fd import numerical_grad
from numeric.verify import verify_class

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = [n for n in catalogue.names() if not derive(n).tensor]   # elementwise: numeric/generated.py
STABLE = ("sigmoid", "softplus", "silu", "elu", "gelu", "log")


def _inputs(name, rng, n=64):
    lo, hi = CASES[name].domain
    return [rng.uniform(lo, hi, n) for _ in CASES[name].inputs]


def _call_backward(name, dout, inputs):
    """The module-level <layer>_backward with the cached values it asks for."""
    fn = getattr(generated, f"{name}_backward")
    spec = catalogue.get(name)
    values = dict(zip(spec.input_names, inputs))
    values["out"] = REFERENCE[name](**PARAMS.get(name, {})).forward(*inputs)
    wanted = [p.name for p in inspect.signature(fn).parameters.values()
              if p.name != "dout" and p.default is inspect.Parameter.empty]
    grads = fn(dout, *[values[w] for w in wanted], **PARAMS.get(name, {}))
    return grads if isinstance(grads, tuple) else (grads,)


def test_generated_module_is_fresh(tmp_path):
    target = tmp_path / "generated.py"
    assert main(["export", "--all", "--elementwise", "-o", str(target)]) == 0
    with open(os.path.join(ROOT, "numeric", "generated.py"), "rb") as fh:
        committed = fh.read()
    assert target.read_bytes() == committed, \
        "numeric/generated.py is stale: run derive export --all --elementwise -o numeric/generated.py"


def emit_module(names):
    """The module the exporter writes for catalogue layers ``names``."""
    return emit_derivations([derive(n) for n in names])


def test_output_is_the_same_in_every_process():
    """Independent of hash seeds and of what was derived before in the process."""
    code = ("import sys; from derive import derive; from derive.codegen import emit_module; "
            "sys.stdout.write(emit_module([derive(n) for n in sys.argv[1:]]))")
    runs = [subprocess.run([sys.executable, "-c", code, *names], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": seed})
            for names, seed in ((["gelu", "sigmoid", "affine"], "1"),
                                (["gelu", "sigmoid", "affine"], "2"))]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and "class Affine:" in runs[0].stdout


@pytest.mark.parametrize("name", LAYERS)
def test_exported_class_against_reference_and_fd(name):
    cls = getattr(generated, catalogue.get(name).class_name)
    report = verify_class(cls, CASES[name], REFERENCE[name], strict=True)
    assert report.ok, report.render()


@pytest.mark.parametrize("name", LAYERS)
def test_backward_function_against_reference_and_fd(name):
    rng = np.random.default_rng(3)
    inputs = _inputs(name, rng, 16)
    dout = rng.uniform(-2, 2, 16)
    ref = REFERENCE[name](**PARAMS.get(name, {}))
    ref.forward(*[x.copy() for x in inputs])
    want = ref.backward(dout.copy())
    want = want if isinstance(want, tuple) else (want,)
    got = _call_backward(name, dout, inputs)
    fwd = lambda *xs: REFERENCE[name](**PARAMS.get(name, {})).forward(*xs)  # noqa: E731
    fd = numerical_grad(fwd, inputs, dout)
    for g, w, f in zip(got, want, fd):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(g, f, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_backward_never_writes_into_caller_arrays(name):
    rng = np.random.default_rng(4)
    inputs = _inputs(name, rng)
    dout = rng.uniform(-2, 2, 64)
    for a in (dout, *inputs):
        a.flags.writeable = False  # any in-place write raises
    grads = _call_backward(name, dout, inputs)
    assert not any(np.shares_memory(g, a) for g in grads for a in (dout, *inputs))
    layer = getattr(generated, catalogue.get(name).class_name)(**PARAMS.get(name, {}))
    out = layer.forward(*inputs)
    cached = {k: v.copy() for k, v in vars(layer).items() if isinstance(v, np.ndarray)}
    out[...] = 12345.0  # the caller changing the returned out must not reach the cache
    first = layer.backward(dout)
    assert all(np.array_equal(vars(layer)[k], v) for k, v in cached.items())
    again = layer.backward(dout)
    for a, b in zip(np.atleast_1d(first) if not isinstance(first, tuple) else first,
                    np.atleast_1d(again) if not isinstance(again, tuple) else again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", STABLE)
def test_stable_at_extremes(name):
    x = np.array([-1000.0, -50.0, -1e-8, 0.0, 1e-8, 50.0, 1000.0])
    if name == "log":
        x = np.array([1e-300, 1e-8, 1.0, 50.0, 1000.0])
    dout = np.linspace(0.5, 2.0, x.size)
    cls = getattr(generated, catalogue.get(name).class_name)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        layer = cls()
        out = layer.forward(x)
        g = layer.backward(dout)
        (g2,) = _call_backward(name, dout, [x])
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(g)) and np.all(np.isfinite(g2))
    ref = REFERENCE[name]()
    ref.forward(x)
    np.testing.assert_allclose(g, ref.backward(dout), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("name", LAYERS)
def test_stable_forms_equal_the_derivation_numerically(name):
    """Independent of the proof: the rewritten gradient agrees at random points."""
    d = derive(name)
    rng = np.random.default_rng(5)
    for w in d.wrt:
        e = d.result[w]
        s, _ = stable_form(e)
        syms = sorted(e.free_symbols | s.free_symbols, key=lambda q: q.name)
        for _ in range(5):
            # a symbol declared positive (alpha, beta, delta) takes positive values only
            point = {q: sp.Float(rng.uniform(0.2, 3.0) * (1 if q.is_positive or q.name in (
                "alpha", "out") or name == "log" else rng.choice([-1, 1])), 20)
                     for q in syms}
            a = complex(e.rewrite(sp.exp).subs(point).evalf(20))
            b = complex(s.rewrite(sp.exp).subs(point).evalf(20))
            assert abs(a - b) <= 1e-12 * max(1.0, abs(a)), (name, point, a, b)


def test_golden_sigmoid_backward():
    src = emit_module(["sigmoid"])
    body = src[src.index("def sigmoid_backward"):src.index("class Sigmoid")]
    assert "# dL/dx = dout*out*(1 - out)" in body
    assert ("    g = _np_subtract(1.0, out)\n    _np_multiply(g, dout, out=g)\n"
            "    _np_multiply(g, out, out=g)\n") in body
    assert "_np_multiply = np.multiply\n" in src     # NumPy's names bound once, at the top


def test_signatures_follow_the_cache():
    assert list(inspect.signature(generated.sigmoid_backward).parameters) == ["dout", "out"]
    assert list(inspect.signature(generated.gelu_backward).parameters) == ["dout", "x"]
    p = inspect.signature(generated.leaky_relu_backward).parameters["alpha"]
    assert p.default == 0.01
    assert isinstance(generated.mul_backward(np.ones(2), np.full(2, 3.0), np.full(2, 5.0)), tuple)


def test_erf_embedded_once_and_only_when_needed():
    assert "def erf(" not in emit_module(["sigmoid", "relu"])
    assert emit_module(["gelu", "gelu", "sigmoid"]).count("def erf(") == 1


def test_exported_module_runs_with_numpy_only(tmp_path):
    (tmp_path / "my_layers.py").write_text(emit_module(["sigmoid", "gelu", "mul"]))
    code = ("import sys, numpy as np, my_layers as m\n"
            "s = m.Sigmoid(); s.forward(np.array([-1000.0, 0.0, 1000.0]))\n"
            "g = s.backward(np.ones(3)); print(g.tolist())\n"
            "print(float(m.gelu_backward(np.array(1.0), np.array(0.0))))\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('sympy', 'derive', 'numeric', "
            "'scipy')]\nprint('BAD' if bad else 'CLEAN', bad)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "[0.0, 0.25, 0.0]"
    assert lines[1] == "0.5"
    assert lines[2].startswith("CLEAN"), lines[2]


def _forward_source(name):
    return inspect.getsource(getattr(generated, catalogue.get(name).class_name).forward)


@pytest.mark.parametrize("name, call", [("gelu_tanh", "_np_tanh("), ("gelu", "erf(")])
def test_forward_and_local_factor_share_their_function_call(name, call):
    """tanh-GELU's forward reads tanh(c*(k*x**3 + x)), its derivative tanh(c*x*(k*x**2 + 1)):
    written one way (proven), the one cse computes it once for both."""
    src = _forward_source(name)
    assert src.count(call) == 1, src


def test_shared_calls_unify_only_equal_arguments():
    from derive.codegen.share import _shared_calls
    x = sp.Symbol("x", real=True)
    a, b = sp.tanh(x * (x**2 + 1)), sp.tanh(x**3 + x)
    assert len({c for e in _shared_calls([a, 2 * b]) for c in sp.preorder_traversal(e)
                if isinstance(c, sp.tanh)}) == 1
    assert _shared_calls([a, sp.tanh(x**3)]) == [a, sp.tanh(x**3)]


def test_cubes_are_two_multiplies_not_pow():
    assert "np.power(" not in inspect.getsource(generated)
    assert "_np_power(" not in inspect.getsource(generated)


def test_piecewise_linear_forward_is_input_times_cached_factor():
    """LeakyRelu: out = x*local, local = where(x > 0, 1, alpha) (proven equal), bitwise
    equal to the reference's select on signed zeros, infinities and NaN."""
    src = _forward_source("leaky_relu")
    assert "out = _np_multiply(local, x)" in src and "copyto" not in src
    x = np.array([-np.inf, -3.5, -1e-310, -0.0, 0.0, 1e-310, 2.25, np.inf, np.nan])
    for alpha in (0.01, 0.3, 1e-300):
        got = generated.LeakyRelu(alpha).forward(x)
        want = REFERENCE["leaky_relu"](alpha).forward(x)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))


def test_shared_difference_is_turned_round_when_that_saves_a_negation():
    """L1: |t - x| and -sign(t - x) share x - t held the other way round (proven equal):
    sign(x - t), no negation pass; a difference that saves nothing is left as it is."""
    from derive.codegen.lower import lower
    from derive.codegen.printer import NumpyCodePrinter
    x, t, dout = sp.symbols("x t dout", real=True)
    lines, _, _ = lower([sp.Abs(t - x), -sp.sign(t - x)], {x, t}, set(), NumpyCodePrinter())
    assert not any("negative" in ln for ln in lines), lines
    assert sum("subtract(x, t)" in ln for ln in lines) == 1, lines
    lines, _, _ = lower([sp.Abs(t - x), dout * (t - x)], {x, t, dout}, set(), NumpyCodePrinter())
    assert any("subtract(t, x)" in ln for ln in lines), lines
    src = _forward_source("l1")
    assert "negative" not in src and "_np_subtract(x, t)" in src, src
    x_, t_ = np.array([-2.0, 0.0, 1.5, 3.0]), np.array([1.0, 0.0, 1.5, -3.0])
    layer = generated.L1()
    layer.forward(x_, t_)
    dx, dt = layer.backward(np.ones(4))
    assert np.array_equal(dx, np.sign(x_ - t_)) and np.array_equal(dt, -np.sign(x_ - t_))


def test_negated_sum_puts_its_sign_into_a_sum_factor():
    """BCE's -(t*log(x) + (1 - t)*log1p(-x)) is (t - 1)*log1p(-x) - t*log(x): no negation
    pass, and the same floats (-(a + b) is -b - a exactly)."""
    from derive.codegen.lower import lower
    from derive.codegen.printer import NumpyCodePrinter
    t, a, b = sp.symbols("t a b", real=True)
    lines, _, _ = lower([-(t * a + (1 - t) * b)], {t, a, b}, set(), NumpyCodePrinter())
    assert not any("negative" in ln for ln in lines), lines
    assert "_np_negative(out" not in _forward_source("bce")
    rng = np.random.default_rng(3)
    x, tt = rng.uniform(1e-9, 1 - 1e-9, 257), rng.uniform(0.0, 1.0, 257)
    want = -(tt * np.log(x) + (1.0 - tt) * np.log1p(-x))
    assert np.array_equal(generated.Bce().forward(x, tt), want)
