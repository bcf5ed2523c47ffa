"""The numba module's call prologue: what each generated function does before its loop.

``_one`` (one input: its shape, its floating dtype, the loops' dtype and its flat array in
one call) and ``_shape_of`` (``np.broadcast_shapes`` without its 2.5 us when the inputs
are arrays of one shape) must give what the general helpers give, for every kind of
input; ``_done`` and ``_shaped`` hand an array on unchanged when it already is right.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from numeric import generated_numba as NB  # noqa: E402

# (input, its floating dtype, the loops' dtype): float32 stays float32, float16 and
# integers run in float64, a big-endian array gives native results
INPUTS = {
    "float64 1-D": (np.linspace(-1.0, 1.0, 7), np.float64, np.float64),
    "float32 2-D": (np.arange(12, dtype=np.float32).reshape(3, 4), np.float32, np.float32),
    "big-endian": (np.arange(5.0).astype(">f8"), np.float64, np.float64),
    "float16": (np.arange(4, dtype=np.float16), np.float16, np.float64),
    "int array": (np.arange(6).reshape(2, 3), np.float64, np.float64),
    "bool array": (np.array([True, False, True]), np.float64, np.float64),
    "list": ([1.0, -2.0, 3.5], np.float64, np.float64),
    "python float": (2.5, np.float64, np.float64),
    "0-d array": (np.array(-1.5), np.float64, np.float64),
    "strided": (np.arange(10.0)[::3], np.float64, np.float64),
    "fortran": (np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.float64, np.float64),
    "float32 scalar": (np.float32(0.5), np.float32, np.float32),
}


@pytest.mark.parametrize("kind", INPUTS)
def test_one_gives_shape_dtype_work_and_the_flat_array(kind):
    value, dtype, work = INPUTS[kind]
    shape, d, w, flat = NB._one(value)
    assert shape == np.shape(value)
    assert d == np.dtype(dtype) and d.isnative
    assert w == np.dtype(work)
    assert flat.ndim == 1 and flat.flags.c_contiguous and flat.dtype == w
    np.testing.assert_array_equal(flat, np.ravel(np.asarray(value, dtype=np.float64)))


def test_one_hands_a_contiguous_float_array_on_without_a_copy():
    for x in (np.linspace(0.0, 1.0, 5), np.ones(3, np.float32)):
        assert NB._one(x)[3] is x                   # not even a new view
    m = np.arange(6.0).reshape(2, 3)
    flat = NB._one(m)[3]
    assert flat.base is m or flat.base is m.base    # a view, no copy
    strided = np.arange(10.0)[::2]
    assert not np.shares_memory(NB._one(strided)[3], strided)     # contiguous copy


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((), (5,)),
                                    ((4,), ()), ((2, 3), (2, 3), (2, 3))])
def test_shape_of_is_broadcast_shapes(shapes):
    values = [np.zeros(s) for s in shapes]
    assert NB._shape_of(*values) == np.broadcast_shapes(*shapes)
    assert NB._shape_of(*[v.tolist() if v.ndim else float(v) for v in values]) == \
        np.broadcast_shapes(*shapes)


def test_shape_of_refuses_what_does_not_broadcast():
    with pytest.raises(ValueError):
        NB._shape_of(np.zeros(3), np.zeros(4))


def test_inputs_of_one_shape_never_call_broadcast_shapes(monkeypatch):
    x, y, dout = np.linspace(-1.0, 1.0, 6), np.linspace(2.0, 3.0, 6), np.ones(6)
    want_out, want_dx = x * y, dout * y

    def refuse(*shapes):
        raise AssertionError(f"np.broadcast_shapes{shapes} called for arrays of one shape")
    monkeypatch.setattr(np, "broadcast_shapes", refuse)
    layer = NB.MulLayer()
    np.testing.assert_array_equal(layer.forward(x, y), want_out)
    np.testing.assert_array_equal(layer.backward(dout)[0], want_dx)
    np.testing.assert_array_equal(NB.mul_backward(dout, x, y)[0], want_dx)
    np.testing.assert_array_equal(NB.mul_vjp(dout, x, y)[0], want_out)
    monkeypatch.undo()
    out = NB.MulLayer().forward(x.reshape(2, 3), y[:3])      # broadcasting still works
    np.testing.assert_array_equal(out, x.reshape(2, 3) * y[:3])


def test_done_and_shaped_hand_a_right_array_on_unchanged():
    a = np.arange(6.0)
    assert NB._done(a, (6,), np.dtype(np.float64)) is a
    assert NB._shaped(a, (6,)) is a
    r = NB._done(a, (2, 3), np.dtype(np.float64))
    assert r.shape == (2, 3) and np.shares_memory(r, a)
    assert NB._shaped(a, (3, 2)).shape == (3, 2)
    f = NB._done(a, (6,), np.dtype(np.float32))
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f, a.astype(np.float32))
    z = NB._done(np.array([4.0]), (), np.dtype(np.float64))
    assert z.shape == () and float(z) == 4.0


def test_empty_takes_dtypes_types_and_strings():
    assert NB._empty(3, np.bool_).dtype == np.bool_
    assert NB._empty(3, "f4").dtype == np.float32
    assert NB._empty(3, np.dtype(np.float64)).dtype == np.float64
    big = NB._empty(NB.POOL_MIN_BYTES // 4, np.float32)          # from the pool's path
    assert big.dtype == np.float32 and big.shape == (NB.POOL_MIN_BYTES // 4,)


PAIRS = {
    "one shape": (np.linspace(0.0, 1.0, 6), np.linspace(1.0, 2.0, 6)),
    "float32 pair": (np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)),
    "float32 with float64": (np.ones(4, np.float32), np.ones(4)),
    "float32 with ints": (np.ones(4, np.float32), np.arange(4)),
    "broadcast": (np.ones((2, 3)), np.arange(3.0)),
    "scalar": (np.ones(3), 2.0),
    "strided": (np.arange(8.0)[::2], np.ones(4)),
    "big-endian": (np.ones(3, ">f8"), np.ones(3)),
    "lists": ([1, 2], [3.0, 4.0]),
}


@pytest.mark.parametrize("kind", PAIRS)
def test_many_gives_what_the_general_helpers_give(kind):
    a, b = PAIRS[kind]
    shape, dtype, work, (fa, fb) = NB._many(a, b)
    assert shape == np.broadcast_shapes(np.shape(a), np.shape(b))
    assert dtype == NB._floating(a, b) and dtype.isnative
    assert work == NB._work(dtype)
    for flat, v in ((fa, a), (fb, b)):
        assert flat.ndim == 1 and flat.flags.c_contiguous and flat.dtype == work
        np.testing.assert_array_equal(flat, np.broadcast_to(np.asarray(v, np.float64), shape).ravel())


def test_many_dtypes_follow_the_numpy_module():
    assert NB._many(np.ones(2, np.float32), np.ones(2))[1] == np.float64
    assert NB._many(np.ones(2, np.float32), np.arange(2))[1] == np.float32
    assert NB._many([1, 2], [3, 4])[1] == np.float64


def test_many_hands_contiguous_float_arrays_on_without_a_copy():
    x, y = np.linspace(0.0, 1.0, 5), np.linspace(1.0, 2.0, 5)
    flats = NB._many(x, y)[3]
    assert flats[0] is x and flats[1] is y
