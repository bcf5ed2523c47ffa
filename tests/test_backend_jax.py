"""The jax backend: numeric/generated_jax.py, one jax.custom_vjp function per layer.

Each function's backward (the derivation's, in cached form) is checked against
finite differences (``jax.test_util.check_grads``), against JAX's own autodiff of a
plain jnp transcription of the spec's forward (printed from ``spec.forward`` as the spec
states it, no stable forms, no custom_vjp), and against the NumPy export
(numeric/generated.py, numeric/matrix_generated.py), in float64 at 1e-12 relative and
in float32 at 1e-5; finite wherever the NumPy export is at the edges (±1000); the same
under jax.jit and jax.vmap.
"""
from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

from derive import catalogue  # noqa: E402
from derive.codegen.jax_elementwise import plain_elementwise  # noqa: E402
from numeric import generated  # noqa: E402
from numeric.cases import ELEMENTWISE  # noqa: E402

G = pytest.importorskip("numeric.generated_jax")

ELEMENTWISE_NAMES = [n for n in catalogue.names() if n in ELEMENTWISE]


@pytest.fixture(autouse=True, scope="module")
def x64():
    with jax.enable_x64(True):
        yield


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The spec's forwards as plain jnp functions: what JAX's autodiff differentiates."""
    path = tmp_path_factory.mktemp("plain") / "plain_jax.py"
    src = ["import jax", "import jax.numpy as jnp", ""]
    src += [plain_elementwise(catalogue.get(n)) for n in ELEMENTWISE_NAMES]
    path.write_text("\n\n".join(src))
    return _load(path, "plain_jax")


def _inputs(name, shape=(3, 4), seed=0, dtype=np.float64):
    case = ELEMENTWISE[name]
    rng = np.random.default_rng(seed)
    lo, hi = case.domain
    lo, hi = lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo)   # clear of the ends (bce: 0, 1)
    out = []
    for n in case.inputs:
        if case.kind(n) == "onehot":      # a label in [0, 1] (bce: soft targets too)
            out.append(rng.uniform(0.0, 1.0, shape))
        else:
            out.append(rng.uniform(lo, hi, shape))
    return [np.asarray(v, dtype=dtype) for v in out]


def _params(name):
    return dict(ELEMENTWISE[name].params)


def _vjp(f, args, dout, **params):
    out, pull = jax.vjp(lambda *a: f(*a, **params), *args)
    return out, pull(dout)


def _close(got, want, rtol):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want))), 1e-300) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def test_module_has_every_elementwise_layer_as_a_custom_vjp():
    for n in ELEMENTWISE_NAMES:
        f = getattr(G, n)
        assert isinstance(f, jax.custom_vjp), n
        spec = catalogue.get(n)
        sig = inspect.signature(f.fun)
        assert list(sig.parameters) == [*spec.input_names, *spec.param_names], n


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_elementwise_layer(name, plain):
    f, ref = getattr(G, name), getattr(plain, name)
    params = _params(name)
    args = [jnp.asarray(a) for a in _inputs(name)]
    rng = np.random.default_rng(1)
    dout = jnp.asarray(rng.normal(size=args[0].shape))
    # finite differences (check_grads perturbs by 1e-4: keep clear of the kinks)
    check_grads(lambda *a: f(*a, **params), args, order=1, modes=["rev"])
    # JAX's own autodiff of the spec's forward
    out, grads = _vjp(f, args, dout, **params)
    out_ref, grads_ref = _vjp(ref, args, dout, **params)
    _close(out, out_ref, 1e-12)
    for g, r in zip(grads, grads_ref):
        _close(g, r, 1e-12)
    # the NumPy export: forward and backward of its class
    case = ELEMENTWISE[name]
    layer = getattr(generated, case.class_name)(**params)
    np_out = layer.forward(*[np.asarray(a) for a in args])
    np_grads = layer.backward(np.asarray(dout))
    np_grads = np_grads if isinstance(np_grads, tuple) else (np_grads,)
    _close(out, np_out, 1e-12)
    for g, r in zip(grads, np_grads):
        _close(g, r, 1e-12)
    # float32: dtype kept, within 1e-5 of the float64 NumPy export
    args32 = [a.astype(jnp.float32) for a in args]
    out32, grads32 = _vjp(f, args32, dout.astype(jnp.float32), **params)
    assert out32.dtype == jnp.float32 and all(g.dtype == jnp.float32 for g in grads32)
    _close(out32, np_out, 1e-5)
    for g, r in zip(grads32, np_grads):
        _close(g, r, 1e-5)
    # jit and vmap (over the first axis) give the same
    jitted = jax.jit(lambda *a: _vjp(f, a, dout, **params))
    out_j, grads_j = jitted(*args)
    _close(out_j, out, 1e-14)
    for g, r in zip(grads_j, grads):
        _close(g, r, 1e-14)
    mapped = jax.vmap(lambda d, *a: _vjp(f, a, d, **params)[1])(dout, *args)
    for g, r in zip(mapped, grads):
        _close(g, r, 1e-14)


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_elementwise_edges_finite(name):
    """At the domain's edges (±1000, ±50, ±1e-8 ...) out and the gradients are finite
    wherever the NumPy export's are, and agree with it there."""
    f = getattr(G, name)
    params = _params(name)
    case = ELEMENTWISE[name]
    edges = case.edge_values()
    if len(case.inputs) == 1:
        args = [edges]
    else:                          # every pair of edges (x, t); bce's t in [0, 1]
        x, t = np.meshgrid(edges, edges if case.kind("t") != "onehot" else [0.0, 0.3, 1.0])
        args = [x.ravel(), t.ravel()]
    dout = np.ones_like(args[0])
    out, grads = jax.jit(lambda *a: _vjp(f, a, jnp.asarray(dout), **params))(*args)
    layer = getattr(generated, case.class_name)(**params)
    with np.errstate(all="ignore"):
        np_out = layer.forward(*args)
        np_grads = layer.backward(dout)
    np_grads = np_grads if isinstance(np_grads, tuple) else (np_grads,)
    for got, want in [(out, np_out), *zip(grads, np_grads)]:
        got, want = np.asarray(got), np.asarray(want)
        ok = np.isfinite(want)
        assert np.isfinite(got[ok]).all(), (name, args, got, want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=1e-13)  # 1e-13: a cancelling sum (log_cosh near 0)


def test_parameters_are_static_and_broadcasting_sums_back():
    x = jnp.linspace(-2.0, 2.0, 9)
    g = jax.jit(jax.grad(lambda x: G.leaky_relu(x, 0.2).sum()))(x)
    np.testing.assert_array_equal(np.asarray(g), np.where(np.asarray(x) > 0, 1.0, 0.2))
    # mul(x, scalar) and mul(row, column): cotangents summed back, in the input's dtype
    y = jnp.float32(3.0)
    dx, dy = jax.grad(lambda x, y: G.mul(x, y).sum(), argnums=(0, 1))(x.astype(jnp.float32), y)
    assert dy.shape == () and dy.dtype == jnp.float32
    np.testing.assert_allclose(float(dy), float(jnp.sum(x)), rtol=1e-6, atol=1e-6)
    a, b = jnp.arange(3.0).reshape(3, 1), jnp.arange(4.0).reshape(1, 4)
    da, db = jax.grad(lambda a, b: G.mul(a, b).sum(), argnums=(0, 1))(a, b)
    assert da.shape == (3, 1) and db.shape == (1, 4)
    np.testing.assert_allclose(np.asarray(da).ravel(), [6.0] * 3)


def test_export_of_a_users_layer_imports_and_runs(tmp_path):
    path = tmp_path / "mine.py"
    subprocess.run([sys.executable, "-m", "derive", "export", "--expr", "x*np.tanh(x)",
                    "--name", "xtanh", "--backend", "jax", "-o", str(path)], check=True,
                   capture_output=True)
    mine = _load(path, "mine")
    x = jnp.linspace(-3.0, 3.0, 7)
    check_grads(mine.xtanh, (x,), order=1, modes=["rev"])
    g = jax.jit(jax.grad(lambda x: mine.xtanh(x).sum()))(x)
    want = np.tanh(np.asarray(x)) + np.asarray(x) / np.cosh(np.asarray(x)) ** 2
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-12)
