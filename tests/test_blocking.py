"""Block-by-block backward functions (derive/codegen/blocking.py): the exported functions of
many passes run in blocks of ``_BLOCK`` elements from two blocks on, with the values, shape
and dtype of one call on the whole arrays."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from derive.codegen import runtime
from derive.codegen.blocking import passes, worth_blocking
from numeric import generated
from numeric.bench import exported_class
from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE

N_ROWS, N_COLS = 7, 4591        # 32137 elements: two whole blocks and a part, in 2-d

class _Other(np.ndarray):
    """Not ``np.ndarray`` itself: the generated code converts it instead of using it as
    it is (and never blocks it)."""


BLOCKED = [n for n in CASES if hasattr(generated, f"{n}_backward")
           and "_blocked(" in inspect.getsource(getattr(generated, f"{n}_backward"))]


def _arguments(name, dtype, rng):
    """(function, arguments) of ``name``'s exported backward at N_ROWS x N_COLS."""
    fn = getattr(generated, f"{name}_backward")
    case = CASES[name]
    lo, hi = case.domain
    values = {"dout": rng.uniform(-1.0, 1.0, (N_ROWS, N_COLS))}
    for n in case.inputs:
        values[n] = rng.uniform(lo, hi, (N_ROWS, N_COLS))
    names = [p for p in inspect.signature(fn).parameters if p in values or p == "out"]
    if "out" in names:        # the forward's output, as the book's class computes it
        book = REFERENCE[name](**PARAMS.get(name, {}))
        values["out"] = book.forward(*[values[n] for n in case.inputs])
    return fn, [values[p].astype(dtype) for p in names]


def test_the_heavy_functions_block_and_the_light_ones_do_not():
    # gelu's erf and mish's softplus and tanh make dozens of passes; exp, one
    assert {"gelu", "mish", "gelu_tanh", "bce"} <= set(BLOCKED)
    assert not {"exp", "mul", "relu", "tanhshrink", "huber"} & set(BLOCKED)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", BLOCKED)
def test_blocked_values_are_those_of_one_call(name, dtype, monkeypatch):
    rng = np.random.default_rng(13)
    fn, args = _arguments(name, dtype, rng)
    assert args[0].size >= generated._BLOCKED_MIN
    calls = []
    blocked = generated._blocked
    monkeypatch.setattr(generated, "_blocked", lambda *a: calls.append(a) or blocked(*a))
    got = fn(*args)
    assert len(calls) == 1
    # an ndarray subclass: the converting path (_broadcast), one call on the whole
    whole = fn(*[a.view(_Other) for a in args])
    assert len(calls) == 1
    got = got if isinstance(got, tuple) else (got,)
    whole = whole if isinstance(whole, tuple) else (whole,)
    assert len(got) == len(whole)
    for g, w in zip(got, whole):
        assert g.shape == (N_ROWS, N_COLS) and g.dtype == dtype and w.dtype == dtype
        assert np.array_equal(g, w), name
        assert np.isfinite(g).all()


def test_blocked_helper_with_parameters_and_two_gradients():
    n = 2 * runtime._BLOCK + 5
    x = np.linspace(-3.0, 3.0, n).reshape(5, -1)
    seen = []

    def f(x, scale):
        seen.append(x.size)
        return x * scale, x + scale

    a, b = runtime._blocked(f, (x,), (2.0,))
    assert seen == [runtime._BLOCK, runtime._BLOCK, 5]
    np.testing.assert_array_equal(a, x * 2.0)
    np.testing.assert_array_equal(b, x + 2.0)
    assert a.shape == b.shape == x.shape


def test_the_generated_module_carries_the_runtime_helper():
    assert inspect.getsource(generated._blocked) == inspect.getsource(runtime._blocked)
    assert inspect.getsource(generated._blocked_forward) == inspect.getsource(runtime._blocked_forward)
    assert (generated._BLOCK, generated._BLOCKED_MIN) == (runtime._BLOCK, runtime._BLOCKED_MIN)


def test_pass_count_of_a_lowered_gelu():
    lines = ["tmp = np.square(x)", "np.exp(tmp, out=tmp)", "t = erf(x).astype(x.dtype)",
             "m = ~(x > 0.0)"]
    assert passes(lines) == 2 + 25 + 2
    assert worth_blocking(lines, 1) and not worth_blocking(lines[:2], 1)


BLOCKED_CLASSES = [n for n in REFERENCE if n in CASES and "_blocked_forward(" in
                   inspect.getsource(getattr(generated, exported_class(n).__name__))]


def test_the_heavy_forwards_block():
    assert {"gelu", "mish", "hardswish", "huber"} <= set(BLOCKED_CLASSES)
    assert not {"exp", "relu", "sigmoid", "mul"} & set(BLOCKED_CLASSES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", BLOCKED_CLASSES)
def test_blocked_forward_caches_what_one_call_caches(name, dtype, monkeypatch):
    rng = np.random.default_rng(31)
    case = CASES[name]
    lo, hi = case.domain
    inputs = [rng.uniform(lo, hi, (N_ROWS, N_COLS)).astype(dtype) for _ in case.inputs]
    dout = rng.uniform(-1.0, 1.0, (N_ROWS, N_COLS)).astype(dtype)
    cls = getattr(generated, exported_class(name).__name__)
    calls = []
    blocked = generated._blocked_forward
    monkeypatch.setattr(generated, "_blocked_forward",
                        lambda *a: calls.append(a) or blocked(*a))
    layer, whole = cls(**PARAMS.get(name, {})), cls(**PARAMS.get(name, {}))
    out = layer.forward(*inputs)
    assert len(calls) == 1
    # an ndarray subclass: the converting path (_as_arrays), one call on the whole
    want = whole.forward(*[a.view(_Other) for a in inputs])
    assert len(calls) == 1
    assert out.shape == (N_ROWS, N_COLS) and out.dtype == dtype
    assert np.array_equal(out, want)
    for c in calls[0][3]:
        mine, theirs = getattr(layer, c), getattr(whole, c)
        assert mine.shape == theirs.shape == (N_ROWS, N_COLS) and mine.dtype == theirs.dtype
        assert np.array_equal(mine, theirs), c
    got, ref = layer.backward(dout), whole.backward(dout)
    for g, w in zip(got if isinstance(got, tuple) else (got,), ref if isinstance(ref, tuple) else (ref,)):
        assert np.array_equal(g, w)
