"""Matrix derivations: results, proofs, the canonical form refusing wrong identities."""
import numpy as np
import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.matrix import LAYERS, derive_matrix
from derive.matrix import index, numeric, specs
from derive.matrix.tensor import Arr, dims, sum_

EXPECTED = {
    "affine": {"x": "dout @ W.T", "W": "x.T @ dout", "b": "np.sum(dout, axis=0)"},
    "softmax": {"x": "out*(dout - np.sum(dout*out, axis=1, keepdims=True))"},
    "softmax_with_loss": {"x": "dout*(y - t)/N"},
    "mse": {"x": "dout*(x - t)/N"},
    "dropout": {"x": "dout*mask"},
    "batchnorm": {"x": "gamma*(N*dout - np.sum(dout, axis=0, keepdims=True) - "
                       "xn*np.sum(dout*xn, axis=0, keepdims=True))/(N*std)",
                  "gamma": "np.sum(dout*xn, axis=0)", "beta": "np.sum(dout, axis=0)"},
}


@pytest.fixture(scope="module")
def derived():
    return {name: derive_matrix(name) for name in LAYERS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_results(derived, name):
    assert derived[name].result == EXPECTED[name]


@pytest.mark.parametrize("name", LAYERS)
def test_every_step_proven(derived, name):
    d = derived[name]
    assert d.steps and all(s.proof.method in ("index form (all shapes)", "by definition") for s in d.steps)
    assert [s.kind for s in d.steps if s.proof.method == "by definition"] == ["seed"]
    assert all(s.proof.points > 0 for s in d.steps if s.kind != "seed")
    assert {s.target for s in d.steps if s.kind == "result"} == set(d.layer.inputs)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("n", [1, 2, 4])
def test_result_matches_finite_differences(derived, name, n):
    layer = specs.get(name)
    sizes = {"N": n, "D": 3, "M": 2, "C": 4}
    rng = np.random.default_rng(n)
    env = numeric.random_env(layer, sizes, rng)
    shape = numeric.concrete(layer.shapes()[layer.output], sizes)
    dout = rng.standard_normal(shape) if shape else 0.7
    for alias, target in layer.aliases.items():
        env[alias] = env[target]
    for wrt, t in derived[name].tensors.items():
        got = np.broadcast_to(t.evaluate({**env, "dout": dout}), env[wrt].shape)
        fd = numeric.central_difference(layer, env, wrt, dout)
        assert np.allclose(got, fd, rtol=1e-5, atol=1e-6), (name, wrt)


def test_softmax_with_loss_states_assumption_and_walks_the_appendix(derived):
    d = derived["softmax_with_loss"]
    assert [s.rule for s in d.steps if s.kind == "vjp"][:4] == ["mean over the batch", "× (−1)",
                                                                "+ (sum over k)", "× t_k"]
    assert "Σ_k t_k = 1" in [s for s in d.steps if s.kind == "result"][0].note
    assert "log" in [s.rule for s in d.steps] and "exp" in [s.rule for s in d.steps]


def test_derivation_is_symbolic_in_the_sizes(derived):
    d = derived["affine"]
    assert all("N" in str(s) or "D" in str(s) for s in d.layer.inputs["x"])
    assert "N" in d.info()["inputs"]["x"]


def test_canonical_form_refutes_wrong_identities():
    N, D, M = dims("N D M")
    p, q = sp.symbols("p q", integer=True)
    dout, W, x = Arr("dout", (N, M)), Arr("W", (D, M)), Arr("x", (N, D))
    right = (dout @ W.T).element((p, q))
    assert index.equal(right, sp.Sum(dout.element((p, sp.Symbol("k", integer=True)))
                                     * W.element((q, sp.Symbol("k", integer=True))),
                                     (sp.Symbol("k", integer=True), 0, M - 1)))
    assert not index.equal(right, 2 * right)
    # Σ_n x[n,q] is not N·x[p,q]; a mean is (1/N)·Σ
    assert not index.equal(sum_(x, axis=0).element((q,)), N * x.element((p, q)))
    # the row-sum rule only applies where stated
    t = Arr("t", (N, M))
    s = sum_(t, axis=1).element((p,))
    assert not index.equal(s, sp.Integer(1))
    assert index.equal(s, sp.Integer(1), {("t", 1): 1})


def test_unknown_layer_and_wrt():
    with pytest.raises(DeriveError, match="did you mean"):
        derive_matrix("afine")
    with pytest.raises(DeriveError, match="inputs x, W, b"):
        derive_matrix("affine", wrt="t")


def test_derivation_surface(derived):
    d = derived["batchnorm"]
    latex = d.to_latex()
    assert r"\odot" in latex and r"\sum_{n}" in latex and "aligned" not in latex
    assert "<math" in d.to_mathml()
    assert '"result"' in d.to_json() and "dgamma" in d.to_text()
    assert "$$\n" in d.to_markdown() and "| step" not in d.to_markdown()
    assert r"W^{\top}" in derived["affine"].to_latex()
