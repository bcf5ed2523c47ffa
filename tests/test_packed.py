"""Packed gates (slices along an axis) and layers with several outputs: LSTM and GRU
through the one engine, checked against the volume-2 reference classes."""
import warnings

import numpy as np
import pytest
import sympy as sp

from derive import index
from derive import catalogue
from derive.check import check as check_spec
from derive.errors import DeriveError
from derive.indexform import element, vjp_reference
from derive.program import layer_from_def
from derive.slices import Place, Slice
from derive.tensor import Arr, dims
from numeric import matrix_generated as gen
from numeric import nlp_reference as ref

RNG = np.random.default_rng(11)
N_, D_, H_ = 3, 4, 5


def _weights(k, dtype=np.float64):
    return (RNG.standard_normal((D_, k * H_)).astype(dtype),
            RNG.standard_normal((H_, k * H_)).astype(dtype),
            RNG.standard_normal(k * H_).astype(dtype))


def test_exported_lstm_matches_the_books_lstm_for_both_outputs():
    Wx, Wh, b = _weights(4)
    x, h, c = (RNG.standard_normal((N_, D_)), RNG.standard_normal((N_, H_)),
               RNG.standard_normal((N_, H_)))
    mine, theirs = gen.LSTM(Wx, Wh, b), ref.LSTM(Wx, Wh, b)
    for a, e in zip(mine.forward(x, h, c), theirs.forward(x, h, c)):
        np.testing.assert_allclose(a, e, rtol=1e-12)
    dh, dc = RNG.standard_normal((N_, H_)), RNG.standard_normal((N_, H_))
    for a, e in zip(mine.backward(dh, dc), theirs.backward(dh, dc)):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-13)
    for name, g in zip(("Wx", "Wh", "b"), theirs.grads):
        np.testing.assert_allclose(getattr(mine, "d" + name), g, rtol=1e-10, atol=1e-13)


def test_lstm_gradients_match_central_differences_of_both_outputs():
    Wx, Wh, b = _weights(4)
    x, h, c = (RNG.standard_normal((2, D_)), RNG.standard_normal((2, H_)),
               RNG.standard_normal((2, H_)))
    dh, dc = RNG.standard_normal((2, H_)), RNG.standard_normal((2, H_))

    def loss(x, h, c, Wx):
        hn, cn = gen.LSTM(Wx, Wh, b).forward(x, h, c)
        return np.sum(dh * hn) + np.sum(dc * cn)
    layer = gen.LSTM(Wx, Wh, b)
    layer.forward(x, h, c)
    got = dict(zip(("x", "h", "c"), layer.backward(dh, dc)), Wx=layer.dWx)
    args = {"x": x, "h": h, "c": c, "Wx": Wx}
    for name, value in args.items():
        fd = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            fd[i] = (loss(**{**args, name: up}) - loss(**{**args, name: down})) / 2e-6
        np.testing.assert_allclose(got[name], fd, rtol=1e-6, atol=1e-8)


def test_exported_gru_matches_the_books_gru():
    Wx, Wh, b = _weights(3)
    x, h = RNG.standard_normal((N_, D_)), RNG.standard_normal((N_, H_))
    mine, theirs = gen.GRU(Wx, Wh, b), ref.GRU(Wx, Wh, b)
    np.testing.assert_allclose(mine.forward(x, h), theirs.forward(x, h), rtol=1e-12)
    d = RNG.standard_normal((N_, H_))
    for a, e in zip(mine.backward(d), theirs.backward(d)):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-13)
    for name, g in zip(("Wx", "Wh", "b"), theirs.grads):
        np.testing.assert_allclose(getattr(mine, "d" + name), g, rtol=1e-10, atol=1e-13)


def test_lstm_keeps_float32_and_stays_finite_where_the_gates_saturate():
    Wx, Wh, b = (w * 300 for w in _weights(4, np.float32))    # |A| in the hundreds
    x = RNG.standard_normal((N_, D_)).astype(np.float32)
    h = RNG.standard_normal((N_, H_)).astype(np.float32)
    c = RNG.standard_normal((N_, H_)).astype(np.float32)
    layer = gen.LSTM(Wx, Wh, b.astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no overflow in exp anywhere
        hn, cn = layer.forward(x, h, c)
        grads = layer.backward(np.ones_like(hn), np.ones_like(cn))
    for a in (hn, cn, *grads, layer.dWx, layer.dWh, layer.db):
        assert a.dtype == np.float32 and np.all(np.isfinite(a))


def check(name, *, backward, wrt):
    return check_spec(catalogue.get(name), backward, wrt=wrt)


def test_check_reads_the_books_lines_and_names_a_missing_upstream_gradient():
    ds = "(dc_next + dh_next*o*(1 - tc**2))"
    ok = check("lstm", backward=f"{ds}*f", wrt="c_prev").verdicts[0]
    assert ok.status == "proven"
    stacked = (f"np.sum(np.concatenate([{ds}*c_prev*f*(1 - f), {ds}*i*(1 - g**2), "
               f"{ds}*g*i*(1 - i), dh_next*tc*o*(1 - o)], axis=1), axis=0)")
    assert check("lstm", backward=stacked, wrt="b").verdicts[0].status == "proven"
    swapped = stacked.replace("*i*(1 - g**2)", "*g*(1 - g**2)")
    assert check("lstm", backward=swapped, wrt="b").verdicts[0].status == "not_equal"
    missing = check("lstm", backward="dh_next*o*(1 - tc**2)*f", wrt="c_prev").verdicts[0]
    assert missing.status == "not_equal" and any("dc_next" in r for r in missing.reasons)


N, H = dims("N H")
p, q = sp.symbols("p q", integer=True)


def test_a_slice_gradient_is_gated_and_the_gate_is_not_dropped():
    A, G = Arr("A", (N, 4 * H)), Arr("G", (N, H))
    s = Slice(A, sp.Integer(1), 2 * H, 3 * H)
    idx, reference, up = vjp_reference(s, A)
    placed = element(Place(up, sp.Integer(1), 2 * H, 3 * H, A), idx)
    assert index.equal(placed, reference)
    ungated = sp.IndexedBase(up.name)[idx[0], idx[1] - 2 * H]     # no [0 ≤ q − 2H < H]
    assert not index.equal(ungated, reference)
    shifted = element(Place(up, sp.Integer(1), H, 2 * H, A), idx)  # the wrong block
    assert not index.equal(shifted, reference)


@pytest.mark.parametrize("body, message", [
    ("return W[:, ::2] @ x", "step"),
    ("return x @ W[0]", "slice"),
    ("a = x @ W\n    b = np.sum(a, axis=1)\n    return a, b", "one shape"),
    ("a = x @ W\n    return a, a", "twice"),
])
def test_slices_and_several_outputs_refuse_what_they_do_not_mean(body, message):
    src = f'def f(x: input("D", "N"), W: weight("N", "4*H")):\n    {body}\n'
    with pytest.raises(DeriveError, match=message):
        layer_from_def(src)
