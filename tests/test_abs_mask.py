"""An interval symmetric about 0 tested as one ``abs`` (issue 13): ``-c < e < c`` is
``abs(e) < c`` for every float (NaN, inf, the bounds, signed zeros, subnormals), so the
lowering writes it in two passes, and a 0/1 mask multiply by it as a float compare into
the abs buffer. Intervals not symmetric about 0, mixed strictness and different sides
are left as the pair of compares. Values are compared bit for bit with the pair."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from helpers import statements

from derive.codegen.lower import lower
from derive.codegen.lower_select import symmetric
from derive.codegen.printer import NumpyCodePrinter
from numeric import generated

e, dout = sp.Symbol("e", real=True), sp.Symbol("dout", real=True)
alpha = sp.Symbol("alpha", real=True)

# (condition, the same test written as NumPy's pair of compares)
SYMMETRIC = [
    ((e > -1) & (e < 1), lambda v, c: (v > -c) & (v < c), 1.0),
    ((e >= -1) & (e <= 1), lambda v, c: (v >= -c) & (v <= c), 1.0),
    ((-sp.Rational(1, 3) < e) & (e < sp.Rational(1, 3)), lambda v, c: (v > -c) & (v < c), 1 / 3),
    ((e < -2) | (e > 2), lambda v, c: (v < -c) | (v > c), 2.0),
    ((e <= -2) | (2 <= e), lambda v, c: (v <= -c) | (v >= c), 2.0),
    ((e > -alpha) & (e < alpha), lambda v, c: (v > -c) & (v < c), "alpha"),
    ((-e < 1) & (e < 1), lambda v, c: (v > -c) & (v < c), 1.0),
    ((e > -1) | (e < 1), lambda v, c: (v < -c) | (v > c), -1.0),    # true but for NaN
]
NOT_SYMMETRIC = [
    (e > 0) & (e < 6),                  # relu6: abs(e - 3) would round
    (e > -1) & (e <= 1),                # one strict, one not
    (e > -1) & (dout < 1),              # two sides
    (e > -1) & (e < 2),
]


def _floats(dtype, c):
    rng = np.random.default_rng(7)
    c = dtype(c)
    tiny = np.finfo(dtype).smallest_subnormal
    special = [np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, c, -c,
               np.nextafter(c, dtype(0)), np.nextafter(-c, dtype(0)),
               np.nextafter(c, dtype(np.inf)), np.nextafter(-c, dtype(-np.inf))]
    return np.concatenate([np.array(special, dtype),
                           rng.uniform(-3, 3, 500).astype(dtype)])


def _run(exprs, arrays, ns, alloc=None):
    lines, results, _ = lower(exprs, arrays, set(), NumpyCodePrinter(), alloc=alloc)
    scope = {"np": np, "_floating": lambda a: np.result_type(a, np.float16), **ns}
    with np.errstate(invalid="ignore"):
        exec("\n".join(lines), scope)       # noqa: S102 -- code this test generated
    return lines, [scope[r] for r in results]


@pytest.mark.parametrize("cond, pair, c", SYMMETRIC)
def test_symmetric_conditions_are_recognised(cond, pair, c):
    found = symmetric(cond)
    assert found is not None and found[0] == e


@pytest.mark.parametrize("cond", NOT_SYMMETRIC)
def test_other_conditions_are_left_alone(cond):
    assert symmetric(cond) is None
    lines, _ = _run([cond], {e, dout}, {"e": np.zeros(3), "dout": np.zeros(3)})
    assert "absolute" not in "\n".join(lines)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cond, pair, c", SYMMETRIC)
def test_the_mask_and_the_masked_product_are_bitwise_the_pair(cond, pair, c, dtype):
    cs = [0.5, -0.5, 0.0, np.nan] if c == "alpha" else [c]
    for cv in cs:
        v = _floats(dtype, 1.0 if c == "alpha" else cv)
        d = np.random.default_rng(3).standard_normal(v.size).astype(dtype)
        d[:4] = [np.nan, np.inf, -0.0, -1.0]
        ns = {"e": v, "dout": d, "alpha": cv}
        want = pair(v, dtype(cv))
        for alloc in (None, "np.empty_like(dout, dtype=_floating(dout))"):
            lines, (g,) = _run([sp.Piecewise((dout, cond), (0, True))], {e, dout}, ns, alloc)
            text = "\n".join(lines)
            assert "absolute" in text and "&" not in text and "|" not in text, text
            with np.errstate(invalid="ignore"):
                ref = d * want
            assert g.dtype == dtype and g.tobytes() == ref.tobytes(), (cv, alloc)


def test_hardtanh_backward_is_bitwise_the_pair_and_has_no_bool_temporaries():
    code = statements(generated.hardtanh_backward)
    assert "absolute" in code and "&" not in code, code
    for dtype in (np.float64, np.float32):
        x = _floats(dtype, 1.0)
        out = generated.Hardtanh().forward(x)
        d = np.random.default_rng(5).standard_normal(x.size).astype(dtype)
        with np.errstate(invalid="ignore"):
            ref = d * ((out > -1) & (out < 1))
            got = generated.hardtanh_backward(d, out)
        assert got.dtype == dtype and got.tobytes() == ref.tobytes()


def test_a_shared_value_under_the_abs_keeps_its_later_readers():
    """``u = x*t`` is shared: the mask reads it once (abs into a buffer of its own), and
    the results that read it later see it unchanged."""
    x, t = sp.symbols("x t", real=True)
    u = x * t
    masked = sp.Piecewise((dout * t, (u > -1) & (u < 1)), (0, True))
    rng = np.random.default_rng(9)
    ns = {"x": rng.uniform(-2, 2, 400), "t": rng.uniform(-2, 2, 400),
          "dout": rng.standard_normal(400)}
    fn = sp.lambdify((x, t, dout), [masked, dout * u, u * u, masked * u], modules="numpy")
    want = fn(ns["x"], ns["t"], ns["dout"])
    for pick in ([0, 1], [1, 0], [3, 2], [2, 0, 3]):
        exprs = [[masked, dout * u, u * u, masked * u][i] for i in pick]
        lines, got = _run(exprs, {x, t, dout}, ns)
        assert "absolute" in "\n".join(lines), lines
        for g, i in zip(got, pick):
            np.testing.assert_allclose(g, want[i], rtol=1e-15, atol=0)
