"""Tensor layers through the one engine: results, proofs, finite differences, index form."""
import numpy as np
import pytest
import sympy as sp

from derive import catalogue, derive
from derive import index
from derive.errors import DeriveError, ShapeError
from derive.evaluate import evaluate, random_env
from derive.indexform import element
from derive.render.printers import text
from derive.tensor import Arr, AxisMean, AxisSum, MatProd, Transposed, dims

TENSOR = [n for n in catalogue.names() if derive(n).tensor]

# the books' formulas, written from the maths (not from our output)
EXPECTED = {
    "affine": {"x": "dout @ W.T", "W": "x.T @ dout", "b": "np.sum(dout, axis=0)"},
    "softmax": {"x": "out*(dout - np.sum(dout*out, axis=1, keepdims=True))"},
    "softmax_with_loss": {"x": "dout*(y - t)/N"},
    "mse": {"x": "dout*(x - t)/N"},
    "dropout": {"x": "dout*mask"},
    "batchnorm": {"gamma": "np.sum(dout*xn, axis=0)", "beta": "np.sum(dout, axis=0)"},
}


@pytest.fixture(scope="module")
def derived():
    return {name: derive(name) for name in TENSOR}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_results_are_the_books(derived, name):
    d = derived[name]
    spec = d.spec
    for wrt, formula in EXPECTED[name].items():
        from derive.parse import parse
        book = parse(formula, spec.symbols())
        assert sp.simplify(d.result[wrt] - book) == 0, (wrt, text(d.result[wrt]))


def test_batchnorm_dx_is_the_compact_form(derived):
    d = derived["batchnorm"]
    names = d.spec.symbols()
    N, dout, xn, std, gamma = (names[n] for n in ("N", "dout", "xn", "std", "gamma"))
    compact = gamma * (N * dout - AxisSum(dout, 1, 0) - xn * AxisSum(dout * xn, 1, 0)) / (N * std)
    assert sp.simplify(d.result["x"] - compact) == 0
    assert set(d.needs("x")) == {"xn", "std", "gamma"}
    facts = [s for s in d.steps if s.kind == "fact"]
    assert facts and "Σ xn over axis 0 = 0" in " ".join(s.note for s in facts)


@pytest.mark.parametrize("name", TENSOR)
def test_every_fact_shown_is_used_by_a_later_proof(derived, name):
    steps = derived[name].steps
    for i, s in enumerate(steps):
        if s.kind == "fact":
            fact = (s.node, s.local.axes[0])
            assert any(fact in later.proof.uses for later in steps[i + 1:]), (name, s.note)


@pytest.mark.parametrize("name", TENSOR)
def test_every_step_proven(derived, name):
    d = derived[name]
    assert d.steps
    for s in d.steps:
        assert s.proof.points > 0 or s.kind == "seed", s
        assert s.proof.method in ("identical", "symbolic", "by cases", "index form (all sizes)",
                                  "by the steps above"), s.proof
    chains = [s for s in d.steps if s.kind == "chain"]
    if any(n.rule.structural for n in d.graph.op_nodes):
        assert any(s.proof.method == "index form (all sizes)" for s in chains)
    assert {s.target for s in d.steps if s.kind == "result"} == set(d.wrt)


def _values(d, sizes, rng):
    spec = d.spec
    from derive.evaluate import names_of       # index arrays carry the rows they may pick
    names = {n: shape for n, shape in names_of(spec.forward).items()
             if n not in sizes}       # integer params (stride, pad) are set as sizes
    rows = [(n, ax) for n, ax, v, _ in spec.assume if v == 1]
    positive = {s.name for s in (*spec.params, *spec.consts) if s.is_positive}
    env = random_env(names, sizes, rng, positive=positive, rows_sum_to_one=rows)
    for name, value in d.layer.statements:
        env[name] = np.asarray(evaluate(value, env), dtype=np.float64)
    env["out"] = np.asarray(evaluate(spec.forward, env), dtype=np.float64)
    return env


@pytest.mark.parametrize("name", TENSOR)
@pytest.mark.parametrize("n", [1, 2, 4])
def test_results_match_finite_differences(derived, name, n):
    d = derived[name]
    sizes = {dim.name: k for dim, k in zip(d.spec.dims(), (3, 2, 4, 3, 2, 3, 2))}
    sizes["N"] = n
    from derive.windows import fit_sizes     # windows fit; stride 2, pad 1 unless n = 1
    sizes = fit_sizes(sizes, (d.spec.forward,), n != 1)
    rng = np.random.default_rng(n)
    env = _values(d, sizes, rng)
    dout = rng.standard_normal(np.shape(env["out"])) if np.ndim(env["out"]) else 0.7
    env["dout"] = dout
    for k, name in enumerate(d.spec.output_names):    # several outputs: one dout each
        env["d" + name] = dout[k]
    for wrt in d.wrt:
        got = np.broadcast_to(evaluate(d.result[wrt], env), np.shape(env[wrt]))
        base = np.array(env[wrt], dtype=np.float64)
        fd = np.zeros_like(base)
        for ix in np.ndindex(base.shape):
            hi, lo = base.copy(), base.copy()
            hi[ix] += 1e-6
            lo[ix] -= 1e-6
            f = [np.sum(dout * evaluate(d.spec.forward, {**env, wrt: v})) for v in (hi, lo)]
            fd[ix] = (f[0] - f[1]) / 2e-6
        assert np.allclose(got, fd, rtol=1e-5, atol=1e-6), (name, wrt)


def test_derivation_is_symbolic_in_the_sizes(derived):
    d = derived["affine"]
    assert [dim.name for dim in d.spec.dims()] == ["N", "D", "M"]
    assert "N" not in str(d.result["W"])          # no size is ever fixed


def test_canonical_form_refutes_wrong_identities():
    N, D, M = dims("N D M")
    p, q = sp.symbols("p q", integer=True)
    dout, W, x = Arr("dout", (N, M)), Arr("W", (D, M)), Arr("x", (N, D))
    right = element(MatProd(dout, Transposed(W)), (p, q))
    k = sp.Symbol("k", integer=True)
    by_hand = sp.Sum(sp.IndexedBase("dout")[p, k] * sp.IndexedBase("W")[q, k], (k, 0, M - 1))
    assert index.equal(right, by_hand)
    assert not index.equal(right, 2 * right)
    # Σ_n x[n,q] is not N·x[p,q]; a mean is (1/N)·Σ
    assert not index.equal(element(AxisSum(x, 0, 0), (q,)), N * element(x, (p, q)))
    assert index.equal(element(AxisMean(x, 0, 0), (q,)), element(AxisSum(x, 0, 0), (q,)) / N)
    # the row-sum rule only applies where stated
    t = Arr("t", (N, M))
    s = element(AxisSum(t, 0, 1), (p,))
    assert not index.equal(s, sp.Integer(1))
    assert index.equal(s, sp.Integer(1), {("t", 1): 1})


def test_shapes_that_do_not_fit_are_refused():
    from derive.errors import ParseError
    with pytest.raises(ParseError, match="inner sizes"):
        derive(expr="x @ W", shapes={"x": "N,D", "W": "M,D"}, weights=["W"])
    with pytest.raises(ShapeError):
        MatProd(Arr("a", dims("N D")), Arr("b", dims("N D")))


def test_unknown_layer_and_wrt():
    with pytest.raises(DeriveError, match="did you mean"):
        derive("afine")
    with pytest.raises(DeriveError, match="inputs x, W, b"):
        derive("affine", wrt="t")


def test_wrt_derives_only_what_is_asked():
    d = derive("affine", wrt="W")
    assert list(d.result) == ["W"]
    assert {s.target for s in d.steps if s.kind == "chain"} == {"a", "W"}


def test_tanh_dense_rewrites_the_elementwise_part_before_the_matmul():
    d = derive(expr="np.tanh(x @ W + b)", shapes={"x": "N,D", "W": "D,M", "b": "M"},
               weights=["W", "b"])
    matmul = [s for s in d.steps if s.rule == "matmul"]
    assert matmul and all("out**2" in text(s.upstream) for s in matmul)
    assert text(d.result["x"]) == "(dout*(1 - out**2)) @ W.T"


def test_sigmoid_dense_rewrites_to_the_books_form_at_the_boundary():
    d = derive(expr="1/(1 + np.exp(-(x @ W + b)))", shapes={"x": "N,D", "W": "D,M", "b": "M"},
               weights=["W", "b"])
    out, dout = d.spec.out, d.spec.dout
    W = d.spec.symbols()["W"]
    assert sp.simplify(d.result["x"] - MatProd(dout * out * (1 - out), Transposed(W))) == 0
    assert [s.kind for s in d.steps].count("rewrite") >= 1


def test_a_fan_out_is_summed_for_tensors(derived):
    d = derived["softmax"]
    sums = [s for s in d.steps if s.kind == "sum"]
    assert sums and sums[0].target == "e"
    branches = [s for s in d.steps if s.kind == "chain" and s.target == "e"]
    assert len(branches) == 2 and not any(s.complete for s in branches)


def test_canonical_form_takes_constant_factors_out_of_an_inverse_sum():
    """Σ_k c·e[p,k] / Σ_j c·e[p,j] = 1 for all sizes (the shift of a stable softmax); a
    power that is not an integer keeps its argument whole (sqrt(c·Σ) ≠ sqrt(c)·sqrt(Σ) for c < 0)."""
    C = sp.Symbol("C", integer=True, positive=True)
    p, k, j = sp.symbols("p k j", integer=True)
    e, c = sp.IndexedBase("e"), sp.IndexedBase("c")
    num = sp.Sum(c[p] * e[p, k], (k, 0, C - 1))
    den = sp.Sum(c[p] * e[p, j], (j, 0, C - 1))
    assert index.equal(num / den, sp.Integer(1))
    assert not index.equal(num / den, sp.Integer(2))
    assert not index.equal(sp.sqrt(den), sp.sqrt(c[p]) * sp.sqrt(sp.Sum(e[p, j], (j, 0, C - 1))))
