"""Dead temporaries recycled by the lowering (issue 13): a buffer whose last reader has run
takes a later fresh value of the same shape and dtype, never one of another shape or
dtype, and never a result, a cached value or an input."""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import sympy as sp

from derive.codegen.lower import Lowering
from derive.codegen.lower_select import _Operand
from derive.codegen.printer import NumpyCodePrinter
from numeric import generated

from helpers import statements

x, t = sp.symbols("x t", real=True)
mask = sp.Symbol("mask", real=False)


def _lowering(alloc=None):
    return Lowering(NumpyCodePrinter(), {x, t, mask}, set(), alloc=alloc)


def _dead_exp_of_t(low):
    """exp(t) into a buffer, then read by an in-place add into 2*x's: dead after it."""
    a = low.value(sp.exp(t))
    b = low.ufunc("multiply", low.value(x), _Operand("2.0", scalar=True))
    low.ufunc("add", b, a)
    return a, b


def test_a_dead_buffer_takes_a_value_of_its_shape_only():
    low = _lowering()
    a, b = _dead_exp_of_t(low)
    c = low.ufunc("exp", low.value(x))            # broadcast of x alone: not t's buffer
    assert c.text not in (a.text, b.text)
    d = low.ufunc("exp", low.value(t))            # t's shape: a's buffer, dead
    assert d.text == a.text and low.lines[-1] == f"np.exp(t, out={a.text})"
    e = low.ufunc("exp", low.value(t))            # taken: a fresh one again
    assert e.text not in (a.text, d.text)


def test_a_dead_bool_mask_never_takes_a_float_value():
    low = _lowering()
    m = low.value(x > 0)                          # an owned bool buffer
    y = low.ufunc("multiply", low.value(x), _Operand("3.0", scalar=True))
    low.ufunc("multiply", y, m)                   # m read for the last time
    z = low.ufunc("exp", low.value(x))            # same shape as m, but float
    assert z.text != m.text


def test_operands_of_unknown_shape_are_not_recycled():
    low = _lowering()
    a, _ = _dead_exp_of_t(low)
    v = low.ufunc("exp", _Operand("t.T"))         # printed text of unknown shape
    assert v.text != a.text


def test_with_alloc_every_buffer_is_alloc_shaped():
    alloc = "np.empty_like(dout, dtype=_floating(dout))"
    low = _lowering(alloc)
    a, _ = _dead_exp_of_t(low)
    c = low.ufunc("exp", low.value(x))
    assert c.text == a.text and low.lines[-1] == f"np.exp(x, out={a.text})"


def test_a_cube_of_a_buffer_reads_it_before_it_is_squared():
    """(x + 1)**3: the square goes to a buffer of its own, the base is read unsquared
    (squared in place, the multiply after it would make (x + 1)**4)."""
    low = _lowering()
    v = low.value((x + 1) ** 3)
    base = re.fullmatch(r"(\w+) = np\.add\(x, 1\.0\)", low.lines[0]).group(1)
    square = re.fullmatch(r"(\w+) = np\.square\((\w+)\)", low.lines[1])
    assert square and square.group(2) == base and square.group(1) != base
    assert low.lines[2] == f"np.multiply({square.group(1)}, {base}, out={v.text})"


def _fresh_arrays(fn) -> int:
    return len(re.findall(r"^\s+\w+ = _(np_(?!shape)\w+|softplus|sigmoid)\(",
                          inspect.getsource(fn), re.M))


@pytest.mark.parametrize("name, most", [("Bce", 5), ("L1", 2), ("Gelu", 2), ("SmoothL1", 5)])
def test_forwards_recycle_their_dead_temporaries(name, most):
    """Bce's forward made 6 arrays (tmp3 dead after ``out -= tmp3`` before tmp5 was made),
    L1's 3 (|x - t| can go into x - t once sign(x - t) is taken), GELU's 3, SmoothL1's 6
    (the value a putmask puts in is dead after it)."""
    assert _fresh_arrays(getattr(generated, name).forward) <= most


@pytest.mark.parametrize("name, most", [("bce_backward", 3), ("smooth_l1_backward", 5),
                                        ("l1_backward", 2)])
def test_backward_functions_recycle_their_dead_temporaries(name, most):
    """Before: 4, 6 and 3 fresh arrays."""
    assert _fresh_arrays(getattr(generated, name)) <= most


@pytest.mark.parametrize("name", ["huber_backward", "smooth_l1_backward"])
def test_a_gradient_proven_minus_another_is_its_negation(name):
    """dL/dt of a loss of x - t is minus dL/dx: one clip and one negation pass, no select
    (before: two putmasks, 3 fresh arrays for Huber; then one putmask and a negation); the
    two are exact negatives."""
    code = statements(getattr(generated, name))
    assert code.count("putmask(") == 0 and "where(" not in code and code.count("_clip(") == 1
    assert "_np_negative(dx" in code
    rng = np.random.default_rng(0)
    dout, x_, t_ = rng.normal(size=(3, 1000)) * [[1], [3], [3]]
    dx, dt = getattr(generated, name)(dout, x_, t_)
    assert np.array_equal(dt, -dx) and not np.shares_memory(dt, dx)
    assert np.any(np.abs(x_ - t_) < 1) and np.any(np.abs(x_ - t_) > 1)   # both branches


_CLASSES = [(n, c) for n, c in vars(generated).items()
            if inspect.isclass(c) and hasattr(c, "forward") and hasattr(c, "backward")]


@pytest.mark.parametrize("name, cls", _CLASSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_caches_and_inputs_never_share_memory(name, cls, dtype):
    rng = np.random.default_rng(5)
    nin = len(inspect.signature(cls.forward).parameters) - 1
    ins = [rng.uniform(0.05, 0.95, 50).astype(dtype) for _ in range(nin)]
    kept = [a.copy() for a in ins]
    layer = cls()
    out = layer.forward(*ins)
    dout = rng.uniform(-1, 1, 50).astype(dtype)
    grads = layer.backward(dout)
    grads = grads if isinstance(grads, tuple) else (grads,)
    caches = [v for v in vars(layer).values() if isinstance(v, np.ndarray)]
    made = [out, *grads, *caches]
    for i, a in enumerate(made):
        assert not any(np.shares_memory(a, b) for b in [*made[:i], *ins, dout]), name
    for a, b in zip(ins, kept):
        np.testing.assert_array_equal(a, b)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
