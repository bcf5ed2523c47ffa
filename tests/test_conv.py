"""Convolution and max pooling: proofs for every size, stride and pad; check; exported code
against direct loops over the definition; the tie convention; sound delta contraction."""
import numpy as np
import pytest
import sympy as sp

from derive import derive, index
from derive.cli import main
from derive.indexform import element
from derive.tensor import Arr, dims
from derive.tensorproof import prove_vjp
from derive.windows import Fold, Windows, einsum
from numeric import matrix_generated as gen


@pytest.mark.parametrize("name", ["convolution", "pooling"])
def test_every_step_proven(name):
    d = derive(name)
    assert d.steps and all(s.proof is not None for s in d.steps)
    assert set(d.result) == ({"x", "W", "b"} if name == "convolution" else {"x"})


def _run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_check_proves_the_books_lines_and_refutes_a_wrong_one(capsys):
    ok = "np.einsum('nfij,ncpqij->fcpq', dout, windows(x, FH, FW, stride, pad))"
    code, out = _run(capsys, "check", "convolution", "--wrt", "W", "--backward", ok)
    assert code == 0 and "proven" in out
    # the transposed filter (the flip a true convolution would make) is wrong here
    wrong = "fold(np.einsum('nfij,fcpq->ncpqij', dout, W), H, Wd, stride, pad)*2"
    code, out = _run(capsys, "check", "convolution", "--wrt", "x", "--backward", wrong)
    assert code != 0 and "NOT equal" in out
    wrong = "np.sum(dout, axis=(0, 2, 3)) + 1"
    code, out = _run(capsys, "check", "convolution", "--wrt", "b", "--backward", wrong)
    assert code != 0 and "NOT equal" in out


def _direct_conv(x, W, b, s, P):
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    OH, OW = (H + 2 * P - FH) // s + 1, (Wd + 2 * P - FW) // s + 1
    xp = np.zeros((N, C, H + 2 * P, Wd + 2 * P))
    xp[:, :, P:P + H, P:P + Wd] = x
    out = np.zeros((N, FN, OH, OW))
    for n in range(N):
        for f in range(FN):
            for i in range(OH):
                for j in range(OW):
                    out[n, f, i, j] = np.sum(xp[n, :, i * s:i * s + FH, j * s:j * s + FW] * W[f]) + b[f]
    return out


def _fd(fn, a, dout, h=1e-6):
    g = np.zeros_like(a)
    for k in np.ndindex(a.shape):
        up, dn = a.copy(), a.copy()
        up[k] += h
        dn[k] -= h
        g[k] = np.sum(dout * (fn(up) - fn(dn))) / (2 * h)
    return g


@pytest.mark.parametrize("s,P", [(1, 0), (2, 1), (1, 2), (3, 0)])
def test_exported_convolution_against_direct_loops(s, P):
    rng = np.random.default_rng(s + 10 * P)
    x = rng.standard_normal((2, 3, 7, 6))
    W, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    layer = gen.Convolution(W, b, stride=s, pad=P)
    out = layer.forward(x)
    np.testing.assert_allclose(out, _direct_conv(x, W, b, s, P), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, _fd(lambda v: _direct_conv(v, W, b, s, P), x, dout), atol=1e-6)
    np.testing.assert_allclose(layer.dW, _fd(lambda v: _direct_conv(x, v, b, s, P), W, dout),
                               atol=1e-6)
    np.testing.assert_allclose(layer.db, dout.sum(axis=(0, 2, 3)), atol=1e-12)


def _direct_pool(x, ph, pw, s, P):
    N, C, H, Wd = x.shape
    OH, OW = (H + 2 * P - ph) // s + 1, (Wd + 2 * P - pw) // s + 1
    xp = np.zeros((N, C, H + 2 * P, Wd + 2 * P))
    xp[:, :, P:P + H, P:P + Wd] = x
    out = np.zeros((N, C, OH, OW))
    for n, c, i, j in np.ndindex(N, C, OH, OW):
        out[n, c, i, j] = xp[n, c, i * s:i * s + ph, j * s:j * s + pw].max()
    return out


@pytest.mark.parametrize("ph,pw,s,P", [(2, 2, 2, 0), (3, 2, 1, 1), (2, 3, 2, 1)])
def test_exported_pooling_against_direct_loops(ph, pw, s, P):
    rng = np.random.default_rng(ph * 7 + P)
    x = rng.standard_normal((2, 3, 7, 6))
    layer = gen.Pooling(ph, pw, s, P)
    out = layer.forward(x)
    np.testing.assert_allclose(out, _direct_pool(x, ph, pw, s, P))
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(layer.backward(dout),
                               _fd(lambda v: _direct_pool(v, ph, pw, s, P), x, dout), atol=1e-6)


def test_pooling_tie_goes_to_the_first_maximum():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0] = [[1.0, 3.0], [3.0, 3.0]]                 # three tied maxima
    layer = gen.Pooling(2, 2, 2, 0)
    assert layer.forward(x).item() == 3.0
    dx = layer.backward(np.full((1, 1, 1, 1), 5.0))
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 5.0], [0.0, 0.0]])


def test_window_vjps_proven_for_symbolic_stride_and_pad():
    N, C, H, W, FH, FW, FN = dims("N C H W FH FW FN")
    s = sp.Symbol("stride", integer=True, positive=True)
    P = sp.Symbol("pad", integer=True, nonnegative=True)
    v = Windows(Arr("x", (N, C, H, W)), FH, FW, s, P)
    assert prove_vjp(v, 0).method == "index form (all sizes)"
    e = einsum("ncpqij,fcpq->nfij", Arr("col", v.shape()), Arr("W", (FN, C, FH, FW)))
    assert prove_vjp(e, 0) and prove_vjp(e, 1)


def test_a_wrong_fold_is_not_the_windows_vjp():
    from derive.indexform import vjp_reference
    N, C, H, W, FH, FW = dims("N C H W FH FW")
    x = Arr("x", (N, C, H, W))
    v = Windows(x, FH, FW, 2, 1)
    idx, reference, G = vjp_reference(v, x)
    assert index.equal(element(Fold(G, H, W, 2, 1), idx), reference)
    assert not index.equal(element(Fold(G, H, W, 2, 0), idx), reference)    # pad forgotten
    assert not index.equal(element(Fold(G, H, W, 1, 1), idx), reference)    # stride forgotten


def test_a_bare_window_layer_is_proven(capsys):
    """A bare 2x2 window: its rule-table VJP and SymPy's derivative reduce their affine
    deltas over different summation variables; the canonical form sees through it."""
    assert main(["show", "--expr", "windows(x, 2, 2, 1, 0)", "--shape", "x=N,C,H,W"]) == 0
    out = capsys.readouterr().out
    assert "fold(" in out and "index form (all sizes)" in out


def test_a_change_of_summation_variables_is_seen_whatever_the_names():
    M = dims("M")[0]
    r = sp.Symbol("r", integer=True)
    G = sp.IndexedBase("G")
    a, b = sp.symbols("a b", integer=True)

    def window(first, second):       # Σ_{first<2} Σ_{second<M} δ(r, first+second)·G[first, second]
        return sp.Sum(sp.KroneckerDelta(r, first + second) * G[first, second],
                      (first, 0, 1), (second, 0, M - 1))
    assert index.equal(window(a, b), window(b, a))          # the same sum, names swapped
    swapped = sp.Sum(sp.KroneckerDelta(r, a + b) * G[b, a], (a, 0, 1), (b, 0, M - 1))
    assert not index.equal(window(a, b), swapped)           # G read the other way round


def test_an_unmatched_but_right_vjp_is_unproven_not_called_wrong(monkeypatch):
    """When the index forms do not meet but finite differences agree: not shown as proven,
    and not reported as a wrong gradient."""
    from derive import tensorproof
    from derive.errors import ProofError
    monkeypatch.setattr(index, "difference", lambda a, b, rules=None: {"unmatched": None})
    N, C, H, W = dims("N C H W")
    with pytest.raises(ProofError) as err:
        tensorproof._vjp_proof.__wrapped__(Windows, 0, ((N, C, H, W),), (2, 2, 1, 0))
    assert "could not prove the vector-Jacobian product of windows" in str(err.value)
    assert "not a wrong gradient" in str(err.value)


def test_a_wrong_structural_vjp_is_refuted_by_finite_differences(monkeypatch):
    from derive import tensorproof, vjp
    from derive.errors import ProofError
    right = vjp.structural_vjp
    monkeypatch.setattr(vjp, "structural_vjp", lambda value, k, G: 2 * right(value, k, G))
    N, C, H, W = dims("N C H W")
    with pytest.raises(ProofError, match="disagrees with finite differences"):
        tensorproof._vjp_proof.__wrapped__(Windows, 0, ((N, C, H, W),), (2, 2, 1, 0))


def test_delta_with_an_affine_index_is_not_contracted():
    """Σ_p δ(p, h + 1)·a[p] is a[h + 1] only when h + 1 < K: the naive contraction is wrong."""
    K = dims("K")[0]
    p, h = sp.Dummy("p", integer=True), sp.Symbol("h", integer=True)
    a = sp.IndexedBase("a")
    lhs = sp.Sum(sp.KroneckerDelta(p, h + 1) * a[p], (p, 0, K - 1))
    assert not index.equal(lhs, a[h + 1])
    assert index.equal(lhs, sp.Sum(sp.KroneckerDelta(h + 1, p) * a[p], (p, 0, K - 1)))
    # a plain index of the same axis still contracts; integers only when in range
    assert index.equal(sp.Sum(sp.KroneckerDelta(p, h) * a[p], (p, 0, K - 1)), a[h])
    assert index.equal(sp.Sum(sp.KroneckerDelta(p, 0) * a[p], (p, 0, K - 1)), a[0])
    assert not index.equal(sp.Sum(sp.KroneckerDelta(p, 3) * a[p], (p, 0, K - 1)), a[3])
    assert index.equal(sp.Sum(sp.KroneckerDelta(p, -1) * a[p], (p, 0, K - 1)), sp.Integer(0))
    # bound indices of different extents do not contract into each other
    M = dims("M")[0]
    q = sp.Dummy("q", integer=True)
    both = sp.Sum(sp.KroneckerDelta(p, q) * a[p], (p, 0, K - 1), (q, 0, M - 1))
    assert not index.equal(both, sp.Sum(a[q], (q, 0, M - 1)))


def test_range_gate_of_a_padded_read_is_kept():
    from derive.windows import InRange
    H = dims("H")[0]
    i = sp.Symbol("i", integer=True)
    x = sp.IndexedBase("x")
    assert not index.equal(x[i - 1] * InRange(i - 1, H), x[i - 1])
    assert index.equal(InRange(i - 1, H) ** 2 * x[i - 1], InRange(i - 1, H) * x[i - 1])
