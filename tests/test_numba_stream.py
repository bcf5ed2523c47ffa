"""Nontemporal stores in the numba module (nt18, derive/codegen/numba_stream.py): which loops
get a streaming ``_nt`` variant, its results bit for bit those of the ordinary loop (over the
threshold, at every alignment), its machine code's nontemporal vector stores, and the
classes and functions picking it from STREAM_MIN_BYTES up."""
from __future__ import annotations

import inspect
import platform
import re

import numpy as np
import pytest
import sympy as sp

numba = pytest.importorskip("numba")

from derive.codegen.numba_stream import stream_call, streams
from numeric import generated_numba as NB

_NT = sorted(n for n in dir(NB) if n.endswith("_loop_nt"))


def _results(loop):
    """The result arrays' argument names of an ordinary loop (``<name>_[i] = ...``)."""
    return re.findall(r"^\s+(\w+_)\[i\] = ", inspect.getsource(loop.py_func), re.M)


def _call_both(name, n, dtype, offset=0, rng=None):
    """The results of loop ``name`` and of its ``_nt`` variant on the same random inputs,
    the results written into arrays starting ``offset`` elements into a buffer."""
    rng = rng or np.random.default_rng(0)
    plain, nt = getattr(NB, name[:-3]), getattr(NB, name)
    args = list(inspect.signature(plain.py_func).parameters)
    outs = _results(plain)
    values = {a: (rng.standard_normal(n) * 3).astype(dtype) for a in args
              if a.endswith("_") and a not in outs}
    values.update({a: 0.7 for a in args if not a.endswith("_")})     # parameters (alpha)
    got = []
    for f in (plain, nt):
        res = {a: np.full(n + 8, np.nan, dtype)[offset:offset + n] for a in outs}
        f(*(res[a] if a in res else values[a] for a in args))
        got.append(res)
    return outs, got


def test_streaming_variants_are_the_cheap_loops():
    assert "_tanh_class_backward_loop_nt" in _NT and "_square_forward_loop_nt" in _NT
    assert "_sigmoid_backward_loop_nt" in _NT and "_mul_forward_loop_nt" in _NT
    # loops with kernels, divisions, selects or bool masks keep ordinary stores (slower
    # with nontemporal ones, measured)
    assert not hasattr(NB, "_softplus_forward_loop_nt")
    assert not hasattr(NB, "_relu_forward_loop_nt") and not hasattr(NB, "_relu_class_backward_loop_nt")
    assert not hasattr(NB, "_softsign_backward_loop_nt") and not hasattr(NB, "_hardswish_forward_loop_nt")
    for name in _NT:
        src = inspect.getsource(getattr(NB, name).py_func)
        assert "_k_" not in src and "/" not in src and "_store_nt(" in src and "_sfence()" in src


def test_streams_picks_few_operations_per_element():
    x, dout, local, alpha, mask = sp.symbols("x dout local alpha mask")
    assert streams([("g", dout * local)], ())
    assert streams([("g", dout * x**2 * alpha**-1 + abs(x))], (), ["alpha"])
    assert not streams([("g", dout * x**-1)], ())                       # a division per element
    assert not streams([("g", dout / alpha)], ())                        # alpha not a parameter
    assert not streams([("g", dout * sp.exp(x))], ())                    # a kernel
    assert not streams([("g", dout * sp.sqrt(x))], ())
    assert not streams([("g", sp.Piecewise((dout, x > 0), (0, True)))], ())
    assert not streams([("mask", x > 0)], ())                            # a bool result
    assert not streams([("g", dout * local)], ("mask",))                 # a bool input


@pytest.mark.parametrize("name", _NT)
def test_streaming_results_bit_identical(name):
    n = NB.STREAM_MIN_BYTES // 8 + 13                      # over the threshold in float64
    outs, (plain, nt) = _call_both(name, n, np.float64, offset=1)
    for a in outs:
        assert not np.isnan(nt[a]).all()
        assert np.array_equal(plain[a], nt[a], equal_nan=True), a


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
@pytest.mark.parametrize("name", ["_tanh_class_backward_loop_nt", "_mul_class_backward_loop_nt",
                                  "_square_forward_loop_nt", "_celu_class_backward_loop_nt"])
def test_streaming_float32_every_alignment(name, offset):
    n = NB.STREAM_MIN_BYTES // 4 + 5
    outs, (plain, nt) = _call_both(name, n, np.float32, offset=offset)
    for a in outs:
        assert nt[a].dtype == np.float32 and np.array_equal(plain[a], nt[a], equal_nan=True), a


def test_nt_head():
    buf = np.zeros(64, np.float32)
    base = (-buf.ctypes.data % 16) // 4                     # the first element on a boundary
    a = buf[base:base + 40]
    assert NB._nt_head(40, a) == 0
    assert NB._nt_head(40, buf[base + 1:base + 41]) == 3
    assert NB._nt_head(2, buf[base + 1:base + 41]) == 2
    assert NB._nt_head(40, a, buf[base + 4:base + 44]) == 0
    assert NB._nt_head(40, a, buf[base + 1:base + 41]) == 40     # not aligned alike: none
    odd = np.zeros(80, np.uint8)[1:65].view(np.float64)          # not even 8-byte aligned
    assert NB._nt_head(8, odd) == 8


def _assembly(loop):
    """The machine code of ``loop`` compiled afresh (cached code cannot be inspected)."""
    options = {k: v for k, v in loop.targetoptions.items() if k not in ("cache", "nopython")}
    fresh = numba.njit(**options)(loop.py_func)
    a = np.zeros(64)
    fresh(*(a if p.endswith("_") else 1.0 for p in inspect.signature(loop.py_func).parameters))
    return fresh.inspect_asm(fresh.signatures[0])


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 stores")
def test_streaming_loop_has_nontemporal_vector_stores():
    nt = _assembly(NB._tanh_class_backward_loop_nt)
    assert re.search(r"\bvmovntpd\s+%[xyz]mm", nt), "the loop is not vectorized with NT stores"
    assert re.search(r"\bsfence\b", nt)
    assert re.search(r"\bvmulpd\b", nt)
    plain = _assembly(NB._tanh_class_backward_loop)
    assert not re.search(r"\bv?movnt", plain)


class _Spy:
    def __init__(self, f, calls, name):
        self.f, self.calls, self.name = f, calls, name

    def __call__(self, *args):
        self.calls.append(self.name)
        return self.f(*args)


def _compile_streaming_variants():
    """Run every loop the spied test calls once, unpatched: an ``_nt`` loop calls its plain
    loop for the unaligned head, and compiled with a spy in that global (a cold cache, as
    on a fresh clone) numba cannot type it."""
    one = NB.STREAM_MIN_BYTES // 8
    for dtype, n in ((np.float64, one), (np.float32, 2 * one)):
        x = np.linspace(-2.0, 2.0, n).astype(dtype)
        layer = NB.Tanh()
        layer.forward(x)
        layer.backward(x)
        NB.sigmoid_backward(x, x)
        NB.Square().forward(x)


@pytest.fixture
def spied(monkeypatch):
    _compile_streaming_variants()
    calls = []
    for name in ("_tanh_class_backward_loop", "_square_forward_loop", "_sigmoid_backward_loop",
                 "_tanh_forward_loop"):
        for suffix in ("", "_p", "_nt"):
            if hasattr(NB, name + suffix):
                monkeypatch.setattr(NB, name + suffix,
                                    _Spy(getattr(NB, name + suffix), calls, suffix or "plain"))
    return calls


def test_threshold_picks_the_streaming_loop(spied, monkeypatch):
    one = NB.STREAM_MIN_BYTES // 8          # float64 elements of one result at the threshold
    for n, want in ((one - 1, "plain"), (one, "_nt")):
        x = np.linspace(-2.0, 2.0, n)
        spied.clear()
        layer = NB.Tanh()
        layer.forward(x)
        layer.backward(x)
        NB.sigmoid_backward(x, x)
        assert spied == ["plain", want, want]             # tanh's forward never streams
    for n, want in ((one - 1, "plain"), (one, "_nt")):    # each of out, local from the threshold
        spied.clear()
        NB.Square().forward(np.ones(n))
        assert spied == [want]
    for n, want in ((2 * one - 1, "plain"), (2 * one, "_nt")):    # float32: half the bytes
        spied.clear()
        NB.Square().forward(np.ones(n, np.float32))
        assert spied == [want]
    monkeypatch.setattr(NB, "PARALLEL", True)
    spied.clear()
    NB.Square().forward(np.ones(one))
    assert spied == ["_p"]


def test_stream_call():
    call = stream_call("_f", ["x_", "a", "b"])
    assert "_f_p if PARALLEL else _f_nt if n*work.itemsize >= STREAM_MIN_BYTES else _f" in call
    assert call.endswith("(x_, a, b)")
