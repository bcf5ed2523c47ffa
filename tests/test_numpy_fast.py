"""The NumPy export's fast forms (issue 13): in-place steps never reach a caller's array or
a cached value, the helpers' formulas are proven, the rewrites agree with the book's
classes, and the slow spellings measured in bench/numpy_bench.py stay out of the code."""
from __future__ import annotations

import ast
import inspect
import math
import warnings

import numpy as np
import pytest

from derive.codegen.stable import prove_helpers
from numeric import generated
from numeric import matrix_generated as gen
from numeric import matrix_reference as ref
from numeric.reference import REFERENCE

from helpers import assert_big_endian_gives_native, layer_classes


def test_helper_formulas_are_proven():
    proofs = prove_helpers()
    assert set(proofs) == {"_softplus", "_sigmoid", "_sigmoid2[0]", "_sigmoid2[1]"}
    assert all(p.points > 0 and not p.kink_note for p in proofs.values())


def test_sigmoid_and_softplus_helpers_against_math():
    x = np.array([-1000.0, -745.0, -50.0, -1.0, -1e-8, 0.0, 1e-8, 3.0, 50.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        s, sp_ = generated._sigmoid(x), generated._softplus(x)
    want_s = [1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in x]
    want_sp = [v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v)) for v in x]
    np.testing.assert_allclose(s, want_s, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(sp_, want_sp, rtol=1e-15, atol=1e-300)
    assert generated._sigmoid(x.astype(np.float32)).dtype == np.float32
    assert generated._softplus(x.astype(np.float32)).dtype == np.float32


def test_sigmoid_pair_helper_against_math():
    """_sigmoid2(x) is (sigmoid(x), sigmoid(-x)) from one exp, quiet and exact at both ends."""
    x = np.array([-1000.0, -746.0, -709.0, -50.0, -1.0, -1e-8, 0.0, 1e-8, 3.0, 50.0, 709.0,
                  746.0, 1000.0, np.inf, -np.inf])

    def logistic(v):
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        s, t = generated._sigmoid2(x)
        s32, t32 = generated._sigmoid2(x.astype(np.float32))
    np.testing.assert_allclose(s, [logistic(v) for v in x], rtol=4e-16, atol=1e-300)
    np.testing.assert_allclose(t, [logistic(-v) for v in x], rtol=4e-16, atol=1e-300)
    assert s32.dtype == t32.dtype == np.float32
    np.testing.assert_allclose(t32, [logistic(-v) for v in x], rtol=3e-7, atol=1e-37)


def test_silu_takes_both_logistic_values_from_one_exp():
    """silu reads sigmoid(x) and sigmoid(-x): one _sigmoid2 call in its function and its
    class's forward, no _sigmoid and no negation pass (bench/numpy_bench.py: 1.6x
    lambdify at 1e3 before, from two errstate blocks and two exps)."""
    for fn in (generated.silu_backward, generated.Silu.forward):
        src = inspect.getsource(fn)
        assert src.count("_sigmoid2(x)") == 1 and "_sigmoid(" not in src, src
        assert "_np_negative" not in src, src


def test_no_slow_spellings_in_the_elementwise_export():
    """np.logaddexp is a scalar loop (~15x exp), copyto(where=) 2-3x putmask, a scalar
    np.maximum 2-4x a clip, np.clip's Python wrapper ~1.4 us a call more than its ufunc
    (``_clip``): bench/numpy_bench.py measured each."""
    tree = ast.parse(inspect.getsource(generated))
    called = {}
    for node in tree.body:      # the layers' code: functions and classes, not the helpers
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_") \
                and node.name != "erf":
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                        isinstance(call.func.value, ast.Name) and call.func.value.id == "np":
                    called.setdefault(call.func.attr, []).append(node.name)
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and \
                        call.func.id.startswith(("_clip", "_np_")):   # _np_<name> is np.<name>
                    name = call.func.id.removeprefix("_np_")
                    called.setdefault(name, []).append(node.name)
    for slow in ("logaddexp", "copyto", "maximum", "minimum", "clip"):
        assert slow not in called, (slow, called.get(slow))
    assert "_clip" in called and "putmask" in called     # the fast spellings are in use
    assert generated._clip is (np._core if hasattr(np, "_core") else np.core).umath.clip


def test_losses_of_x_minus_t_cache_one_factor_and_negate():
    """log_cosh, huber, smooth_l1, l1: dL/dt = -dL/dx (proven), one cached array as the book."""
    rng = np.random.default_rng(0)
    x, t, dout = rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 50), rng.uniform(-1, 1, 50)
    for name in ("log_cosh", "huber", "smooth_l1", "l1"):
        cls = getattr(generated, REFERENCE[name].__name__)
        layer, book = cls(), REFERENCE[name]()
        layer.forward(x, t), book.forward(x, t)
        cached = [k for k, v in vars(layer).items() if isinstance(v, np.ndarray)]
        assert len(cached) == 1, (name, cached)
        dx, dt = layer.backward(dout)
        bx, bt = book.backward(dout)
        np.testing.assert_allclose(dx, bx, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(dt, -dx)


def _readonly(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


@pytest.mark.parametrize("shape", [(7, 5), (256, 33)])
def test_tensor_layers_in_place_steps_never_write_inputs_or_caches(shape):
    rng = np.random.default_rng(1)
    x, dout = _readonly(rng.standard_normal(shape), rng.standard_normal(shape))
    gamma, beta = _readonly(rng.standard_normal(shape[1]), rng.standard_normal(shape[1]))
    for G, R in ((gen.BatchNormalization, ref.BatchNormalization), (gen.LayerNorm, ref.LayerNorm)):
        a, r = G(gamma, beta), R(gamma, beta)
        np.testing.assert_allclose(a.forward(x), r.forward(x), rtol=1e-12, atol=1e-12)
        held = {k: v.copy() for k, v in vars(a).items() if isinstance(v, np.ndarray)}
        dx = a.backward(dout)
        np.testing.assert_allclose(dx, r.backward(dout), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.dgamma, r.dgamma, rtol=1e-12, atol=1e-12)
        assert all(np.array_equal(vars(a)[k], v) for k, v in held.items())
        assert not any(np.shares_memory(dx, v) for v in (x, dout, *held.values()))
    t = rng.integers(0, shape[1], shape[0])
    for labels in (t, np.eye(shape[1])[t]):
        labels, = _readonly(labels)
        a, r = gen.SoftmaxWithLoss(), ref.SoftmaxWithLoss()
        # the book's cross entropy adds 1e-7 inside the log: the loss is checked against
        # log-softmax written out here instead
        z = x - x.max(axis=1, keepdims=True)
        want = -np.mean(z[np.arange(shape[0]), t] - np.log(np.exp(z).sum(axis=1)))
        assert a.forward(x, labels) == pytest.approx(want, rel=1e-12)
        r.forward(x, labels)
        y = a.y.copy()
        dx = a.backward(1.0)
        np.testing.assert_allclose(dx, r.backward(1.0), rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(a.y, y)
        assert not np.shares_memory(dx, a.y)


def test_float32_stays_float32_through_the_tensor_steps():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    g, b = np.ones(4, np.float32), np.zeros(4, np.float32)
    for cls in (gen.BatchNormalization, gen.LayerNorm):
        layer = cls(g, b)
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(x).dtype == np.float32


# backward classes whose ufunc steps take their buffers from NumPy when dout is a float
# array of the caches' shape and dtype (elementwise._fast_steps)
_FAST_BACKWARD = [("MulLayer", ()), ("Bce", ()), ("BceWithLogits", ()), ("Huber", ()),
                  ("SmoothL1", ()), ("L1", ()), ("LogCosh", ()), ("Hinge", ())]


@pytest.mark.parametrize("name, args", _FAST_BACKWARD)
def test_backward_fast_path_agrees_with_the_buffered_path(name, args):
    """The fast path (float64 dout) against the buffered one (dout as float32 values, a
    list, a 0-d array): same gradients, float64 kept, fresh arrays never the cache's."""
    source = inspect.getsource(getattr(generated, name).backward)
    assert "_np_empty_like" in source and "if type(dout) is _np_ndarray and dout.ndim" in source
    rng = np.random.default_rng(3)
    x, t = rng.uniform(0.05, 0.95, 40), rng.uniform(0.05, 0.95, 40)
    dout = rng.uniform(-1, 1, 40)
    layer = getattr(generated, name)(*args)
    layer.forward(x, t)
    cache = {k: v.copy() for k, v in vars(layer).items() if isinstance(v, np.ndarray)}
    fast = layer.backward(dout)
    slow = layer.backward(list(dout))                       # not an ndarray: buffered path
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype == np.float64 and f.shape == s.shape == (40,)
        np.testing.assert_array_equal(f, s)
        assert not any(np.shares_memory(f, v) for v in vars(layer).values()
                       if isinstance(v, np.ndarray))
    assert not np.shares_memory(fast[0], fast[1])
    for k, v in cache.items():
        np.testing.assert_array_equal(getattr(layer, k), v)
    small = layer.backward(dout.astype(np.float32))          # other dtype: buffered, float32
    assert all(g.dtype == np.float32 for g in small)
    layer.forward(np.float64(0.3), np.float64(0.6))          # 0-d: buffered, arrays kept
    assert all(isinstance(g, np.ndarray) for g in layer.backward(np.float64(0.5)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.dtype(">f8")])
def test_a_select_of_a_constant_and_zero_is_a_mask_multiply(dtype):
    """Hardsigmoid's cached 1/6 inside (-3, 3), 0 outside: the mask times 1/6 in the input's
    floating type, bit for bit the select (+0.0 outside, never -0.0), no np.where."""
    assert "where" not in inspect.getsource(generated.Hardsigmoid.forward)
    x = np.array([-4.0, -3.0, -2.5, 0.0, 2.9, 3.0, 7.0]).astype(dtype)
    layer = generated.Hardsigmoid()
    layer.forward(x)
    want = np.where((x > -3) & (x < 3), np.float64(1 / 6).astype(dtype), dtype.type(0.0)
                    if isinstance(dtype, np.dtype) else dtype(0.0))
    assert layer.local.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(layer.local, want)
    assert not np.signbit(layer.local).any()




@pytest.mark.parametrize("name", layer_classes(generated))
def test_big_endian_inputs_give_native_results_with_the_same_values(name):
    """'>f8' arrays (forward's inputs and backward's dout) take the converting path: the
    gradients are native float64 arrays (some layers gave '>f8'), equal to the native call's."""
    assert_big_endian_gives_native(getattr(generated, name))
