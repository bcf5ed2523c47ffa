"""The numba module's ``<layer>_vjp(dout, <inputs>)`` (derive/codegen/numba_vjp.py): out and
the gradients in one loop, agreeing with the same module's class (forward, then backward)
and with the NumPy export, warning-free at ±1000, float32 kept, inputs never written,
two inputs broadcast with their gradients summed back, a dout of the wrong shape refused;
its loop vectorized and over STREAM_MIN_BYTES streamed where the class's would be."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from derive import catalogue  # noqa: E402
from derive.derivation import is_tensor  # noqa: E402
from numeric import generated as G  # noqa: E402
from numeric import generated_numba as NB  # noqa: E402

LAYERS = [n for n in catalogue.names() if not is_tensor(catalogue.get(n))]
TWO = [n for n in LAYERS if len(catalogue.get(n).input_names) == 2]


def _inputs(name, n, rng, dtype=np.float64):
    spec = catalogue.get(name)
    if name == "bce":
        xs = [rng.uniform(0.01, 0.99, n), rng.uniform(0.0, 1.0, n)]
    elif name == "log":
        xs = [rng.uniform(1e-3, 1e3, n)]
    else:
        xs = [rng.normal(0.0, 4.0, n) for _ in spec.input_names]
        for x in xs:
            x[:6] = [1000.0, -1000.0, 0.0, 1e-300, -3.0, 30.0]
    return [x.astype(dtype) for x in xs], rng.normal(size=n).astype(dtype)


def _class(module, name, xs, dout):
    layer = getattr(module, catalogue.get(name).class_name)()
    out = layer.forward(*xs)
    g = layer.backward(dout)
    return (out, *(g if isinstance(g, tuple) else (g,)))


def _close(a, b, rtol):
    """Relative agreement; values of a cancelling formula (1 - out**2) against the size of
    their terms (~1e-2 and up), as in the backend's other tests."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-2)
    return bool(np.all(same | near))


def test_every_elementwise_layer_has_a_vjp_with_its_inputs_and_parameters():
    for name in LAYERS:
        spec = catalogue.get(name)
        fn = getattr(NB, f"{name}_vjp")
        params = list(inspect.signature(fn).parameters)
        assert params == ["dout", *spec.input_names, *spec.param_names], name


@pytest.mark.parametrize("name", LAYERS)
def test_vjp_is_the_class_forward_then_backward(name):
    rng = np.random.default_rng(7)
    xs, dout = _inputs(name, 257, rng)
    copies = [a.copy() for a in (*xs, dout)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            got = getattr(NB, f"{name}_vjp")(dout, *xs)
    want = _class(NB, name, xs, dout)
    with np.errstate(over="ignore"):                  # NumPy's exp(1000) = inf, warned
        numpy = _class(G, name, xs, dout)
    assert len(got) == len(want) == len(numpy)
    for k, (a, b, c) in enumerate(zip(got, want, numpy)):
        assert a.dtype == np.float64 and a.shape == b.shape, (name, k)
        assert np.array_equal(np.isfinite(a), np.isfinite(b)), (name, k)
        assert _close(a, b, 1e-12), (name, k)
        assert _close(a, c, 1e-12), (name, k)
    assert all(np.array_equal(a, b) for a, b in zip((*xs, dout), copies)), "an input was written"


@pytest.mark.parametrize("name", ["sigmoid", "gelu", "softplus", "leaky_relu", "mul", "bce"])
def test_vjp_keeps_float32(name):
    rng = np.random.default_rng(3)
    xs, dout = _inputs(name, 65, rng)
    xs, dout = [x.astype(np.float32) for x in xs], dout.astype(np.float32)
    got = getattr(NB, f"{name}_vjp")(dout, *xs)
    want = _class(NB, name, xs, dout)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype == np.float32
        assert _close(a, b, 1e-5)


@pytest.mark.parametrize("name", TWO)
def test_two_inputs_broadcast_and_their_gradients_sum_back(name):
    rng = np.random.default_rng(5)
    (x, t), dout = _inputs(name, 12, rng)
    x, dout, t = x.reshape(3, 4), dout.reshape(3, 4), t[:4]
    out, dx, dt = getattr(NB, f"{name}_vjp")(dout, x, t)
    full = np.broadcast_to(t, (3, 4)).copy()
    want_out, want_dx, want_dt = _class(NB, name, [x, full], dout)
    assert out.shape == dx.shape == (3, 4) and dt.shape == (4,)
    assert _close(out, want_out, 1e-12) and _close(dx, want_dx, 1e-12)
    assert _close(dt, want_dt.sum(axis=0), 1e-12)


def test_a_dout_not_of_outs_shape_is_refused():
    with pytest.raises(ValueError, match=r"dout has shape \(3,\); out has shape \(4,\)"):
        NB.tanh_vjp(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="out has shape"):
        NB.mul_vjp(np.ones(4), np.ones((3, 4)), np.ones(4))


def test_vjp_of_scalars_and_shapes():
    out, g = NB.sigmoid_vjp(2.0, 0.0)
    assert out.shape == g.shape == () and float(out) == 0.5 and float(g) == 0.5
    x = np.linspace(-3.0, 3.0, 24).reshape(2, 3, 4)
    out, g = NB.tanh_vjp(np.ones_like(x), x)
    assert out.shape == g.shape == (2, 3, 4)
    assert _close(g, 1.0 - np.tanh(x) ** 2, 1e-12) and _close(out, np.tanh(x), 1e-14)


@pytest.mark.parametrize("name", ["tanh", "softplus", "gelu", "bce", "relu", "leaky_relu"])
def test_vjp_loops_are_vectorized(name):
    loop = getattr(NB, f"_{name}_vjp_loop")
    fresh = numba.njit(error_model="numpy", fastmath={"contract"})(loop.py_func)
    sig = tuple(numba.float64[::1] if p.endswith("_") else numba.float64
                for p in inspect.signature(loop.py_func).parameters)
    fresh.compile(sig)
    assert "x double>" in fresh.inspect_llvm(sig)


def test_vjp_loops_share_the_forwards_value():
    """One tanh per element: the gradient's 1 - out**2 reads the out just computed."""
    src = inspect.getsource(NB._tanh_vjp_loop.py_func)
    assert src.count("_k_tanh(") == 1
    src = inspect.getsource(NB._softplus_vjp_loop.py_func)
    assert src.count("_k_exp(") == 1


def test_cheap_vjp_loops_stream_from_the_threshold(monkeypatch):
    assert hasattr(NB, "_square_vjp_loop_nt") and hasattr(NB, "_mul_vjp_loop_nt")
    assert not hasattr(NB, "_softplus_vjp_loop_nt")       # kernels: ordinary stores
    calls = []
    monkeypatch.setattr(NB, "_square_vjp_loop_nt",
                        lambda *a: calls.append("nt") or NB._square_vjp_loop(*a))
    x = np.linspace(-2.0, 2.0, 1000)
    monkeypatch.setattr(NB, "STREAM_MIN_BYTES", 8 * 1001)
    NB.square_vjp(np.ones_like(x), x)
    assert calls == []
    monkeypatch.setattr(NB, "STREAM_MIN_BYTES", 8 * 1000)
    out, g = NB.square_vjp(np.ones_like(x), x)
    assert calls == ["nt"] and np.array_equal(out, x * x) and np.array_equal(g, 2.0 * x)
