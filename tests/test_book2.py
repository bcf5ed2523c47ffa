"""Volume 2's one-step layers: derived through the same engine, exported, and checked
against the book-style reference classes of numeric/nlp_reference.py (volume 2's API,
gradients in ``grads``), and the index form of the embedding's row lookup kept sound."""
import numpy as np
import pytest
import sympy as sp

from derive import index
from derive.catalogue_book2 import VOLUME2
from derive.derivation import derive
from derive.errors import DeriveError
from derive.gather import Gather, ScatterAdd
from derive.indexform import element
from derive.program import layer_from_def
from derive.tensor import Arr, dims
from numeric import matrix_generated as gen
from numeric import nlp_reference as ref
from numeric import time_reference as tref

RNG = np.random.default_rng(7)


def _grads_of(layer, names):
    return {n: getattr(layer, "d" + n) for n in names}


@pytest.mark.parametrize("name", list(VOLUME2))
def test_each_layer_is_derived_and_every_result_proven_against_the_whole_forward(name):
    d = derive(name)
    results = [s for s in d.steps if s.kind == "result"]
    assert len(results) == len(d.wrt) > 0
    for s in results:
        assert s.proof.points > 0
        assert s.proof.method in ("index form (all sizes)", "by the steps above")


def test_sigmoid_with_loss_backward_is_the_books_y_minus_t():
    d = derive("sigmoid_with_loss")
    (result,) = [s for s in d.steps if s.kind == "result"]
    y, t = sp.Symbol("y", real=True), sp.Symbol("t", real=True)
    dout, N = sp.Symbol("dout", real=True), sp.Symbol("N", positive=True)
    got = result.expr.xreplace({s: {"y": y, "t": t, "dout": dout, "N": N}.get(s.name, s)
                                for s in result.expr.free_symbols})
    assert sp.simplify(got - dout * (y - t) / N) == 0


def _compare(mine, theirs, inputs, douts, weight_names):
    out_m, out_t = mine.forward(*inputs), theirs.forward(*inputs)
    np.testing.assert_allclose(out_m, out_t, rtol=1e-6, atol=1e-12)
    got_m, got_t = mine.backward(douts), theirs.backward(douts)
    got_m = got_m if isinstance(got_m, tuple) else (got_m,)
    got_t = got_t if isinstance(got_t, tuple) else (got_t,)
    for a, b in zip(got_m, got_t):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for name, g in zip(weight_names, theirs.grads):
        np.testing.assert_allclose(getattr(mine, "d" + name), g, rtol=1e-9, atol=1e-12)


def test_matmul_rnn_against_the_reference_classes():
    N, D, H = 3, 4, 5
    W = RNG.standard_normal((D, H))
    x = RNG.standard_normal((N, D))
    _compare(gen.MatMul(W), ref.MatMul(W), [x], RNG.standard_normal((N, H)), ["W"])
    Wx, Wh, b = RNG.standard_normal((D, H)), RNG.standard_normal((H, H)), RNG.standard_normal(H)
    h = RNG.standard_normal((N, H))
    _compare(gen.RNN(Wx, Wh, b), ref.RNN(Wx, Wh, b), [x, h], RNG.standard_normal((N, H)),
             ["Wx", "Wh", "b"])


def test_attention_layers_against_the_reference_classes():
    N, T, H = 2, 5, 3
    hs, h, a = (RNG.standard_normal((N, T, H)), RNG.standard_normal((N, H)),
                RNG.standard_normal((N, T)))
    _compare(gen.WeightSum(), ref.WeightSum(), [hs, a], RNG.standard_normal((N, H)), [])
    _compare(gen.AttentionWeight(), ref.AttentionWeight(), [hs, h],
             RNG.standard_normal((N, T)), [])
    _compare(gen.Attention(), ref.Attention(), [hs, h], RNG.standard_normal((N, H)), [])


def test_time_attention_against_the_books_loop_over_decoder_steps():
    N, T, S, H = 2, 5, 3, 4
    hs_enc, hs_dec = RNG.standard_normal((N, T, H)), RNG.standard_normal((N, S, H))
    _compare(gen.TimeAttention(), tref.TimeAttention(), [hs_enc, hs_dec],
             RNG.standard_normal((N, S, H)), [])


def test_embedding_accumulates_repeated_ids_and_returns_none():
    W = RNG.standard_normal((6, 3))
    for idx in (np.array([4, 1, 4, 4, 0]), np.array([[2, 2], [5, 2], [0, 0]])):
        mine = gen.Embedding(W) if idx.ndim == 1 else gen.TimeEmbedding(W)
        out = mine.forward(idx)
        np.testing.assert_array_equal(out, W[idx])
        dout = RNG.standard_normal(out.shape)
        assert mine.backward(dout) is None
        expected = np.zeros_like(W)
        for pos in np.ndindex(idx.shape):            # the definition, one row at a time
            expected[idx[pos]] += dout[pos]
        np.testing.assert_allclose(mine.dW, expected, rtol=1e-12)
        theirs = (ref.Embedding if idx.ndim == 1 else tref.TimeEmbedding)(W)
        theirs.forward(idx)
        theirs.backward(dout)
        np.testing.assert_allclose(mine.dW, theirs.grads[0], rtol=1e-12)


def test_sigmoid_with_loss_forward_is_finite_where_the_scores_saturate():
    x = np.array([800.0, -800.0, 40.0, -40.0, 0.3])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    layer = gen.SigmoidWithLoss()
    loss = layer.forward(x, t)
    # softplus terms by hand: t·softplus(−x) + (1 − t)·softplus(x)
    expected = np.mean(t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x))
    assert np.isfinite(loss) and abs(loss - expected) <= 1e-12 * expected
    y = 1 / (1 + np.exp(-np.clip(x, -50, 50)))
    np.testing.assert_allclose(layer.backward(1.0), (y - t) / len(x), atol=1e-15)


@pytest.mark.parametrize("cls, make", [
    ("MatMul", lambda: ([np.ones((4, 3), np.float32)], [np.ones((2, 4), np.float32)])),
    ("RNN", lambda: ([np.ones((4, 3), np.float32), np.ones((3, 3), np.float32),
                      np.ones(3, np.float32)],
                     [np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)])),
    ("Embedding", lambda: ([np.ones((5, 3), np.float32)], [np.array([1, 1, 3])])),
    ("Attention", lambda: ([], [np.ones((2, 4, 3), np.float32), np.ones((2, 3), np.float32)])),
])
def test_float32_stays_float32(cls, make):
    weights, inputs = make()
    layer = getattr(gen, cls)(*weights)
    out = layer.forward(*inputs)
    back = layer.backward(np.ones_like(out))
    assert out.dtype == np.float32
    for g in (back if isinstance(back, tuple) else (back,)):
        assert g is None or g.dtype == np.float32
    for name in ("W", "Wx", "Wh", "b"):
        if hasattr(layer, "d" + name):
            assert getattr(layer, "d" + name).dtype == np.float32


# ---- the index form of a row lookup -------------------------------------------------

N, V, D = dims("N V D")
W, IDX, G = Arr("W", (V, D)), Arr("idx", (N,), integer=True), Arr("G", (N, D))
p, q = sp.symbols("p q", integer=True)


def test_scatter_add_is_not_confused_with_a_plain_row_sum():
    scatter = element(ScatterAdd(G, IDX, W), (p, q))
    k = sp.Dummy("k", integer=True)
    # the bound n is used only inside idx[n]: it must not be taken as unused (·N)
    assert not index.equal(scatter, N * sp.KroneckerDelta(p, sp.IndexedBase("idx")[0])
                           * sp.IndexedBase("G")[0, q])
    # nor may δ(p, idx[n]) be contracted as if it were δ(p, n)
    assert not index.equal(scatter, sp.Sum(sp.KroneckerDelta(p, k) * sp.IndexedBase("G")[k, q],
                                           (k, 0, N - 1)))
    assert index.equal(scatter, element(ScatterAdd(G, IDX, W), (p, q)))


def test_gather_vjp_matches_sympys_derivative_and_a_wrong_one_does_not():
    from derive.indexform import vjp_reference
    idx_, reference, up = vjp_reference(Gather(W, IDX), W)
    assert index.equal(element(ScatterAdd(up, IDX, W), idx_), reference)
    assert not index.equal(element(2 * ScatterAdd(up, IDX, W), idx_), reference)


def test_a_row_lookup_needs_an_index_array():
    src = 'def f(x: input("N"), W: weight("V", "D")):\n    return W[x]\n'
    with pytest.raises(DeriveError, match="not an index array"):
        layer_from_def(src)
    src = 'def f(idx: index("N"), W: weight("V", "D")):\n    return W[idx[0]]\n'
    with pytest.raises(DeriveError, match="subscripts"):
        layer_from_def(src)
