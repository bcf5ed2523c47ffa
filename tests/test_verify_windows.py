"""Verify for the window layers (convolution, pooling) and the index layers (embedding,
time_embedding): their cases (numeric/cases.py), the param sets and fitted sizes, the
``index`` kind, and wrong hand-written classes that verify must fail."""
from __future__ import annotations

import json

import numpy as np
import pytest

from derive.verification import case_for
from numeric import conv_reference, nlp_reference
from numeric.cases import CASES, HAND_CODED
from numeric.layercase import CaseError, LayerCase, draw, input_sets
from numeric.sandbox import load_module
from numeric.verify import verify_class

LAYERS = ("convolution", "pooling", "embedding", "time_embedding")


@pytest.fixture(scope="module")
def exported():
    """{layer: the exported class, generated now from the layer's derivation}."""
    out = {}
    for name in LAYERS:
        _, source, class_name = case_for(name)
        out[name] = getattr(load_module(source, f"windows_{name}"), class_name)
    return out


@pytest.mark.parametrize("name", LAYERS)
def test_exported_and_hand_coded_pass_against_each_other(exported, name):
    case = CASES[name]
    mine = verify_class(exported[name], case, HAND_CODED[name], strict=True)
    theirs = verify_class(HAND_CODED[name], case, exported[name], strict=True)
    for report in (mine, theirs):
        assert report.ok, report.render()
        assert report.backward.compared > 0 and report.fd.compared > 0
        assert report.backward.max_rel < 1e-12


@pytest.mark.parametrize("name", ("convolution", "pooling"))
def test_every_param_set_runs_with_every_size_set(exported, name):
    case = CASES[name]
    report = verify_class(exported[name], case, HAND_CODED[name])
    runs = len(case.params_list()) * len(case.size_sets())
    assert len(case.params_list()) >= 2
    # one forward comparison per run: each output element once
    per_run = []
    for params in case.params_list():
        for label, values in input_sets(case, np.random.default_rng(0), params=params):
            out = exported[name](*[values[w] for w in case.weights], **params).forward(
                values["x"])
            per_run.append(out.size)
            assert "stride=" in label
    assert len(per_run) == runs and report.forward.compared == sum(per_run)


def test_sizes_are_fitted_to_the_windows():
    for name in ("convolution", "pooling"):
        case = CASES[name]
        for params in case.params_list():
            for s in case.size_sets(params):
                for dim, (window, stride, pad) in case.windows.items():
                    F = s[window] if window in s else params[window]
                    S, P = params[stride], params[pad]
                    assert s[dim] + 2 * P >= F and (s[dim] + 2 * P - F) % S == 0, (name, s)
    pool = CASES["pooling"]
    assert pool.size_sets({**pool.params, "pool_h": 2, "stride": 2})[0]["H"] == 6   # 5 -> 6
    assert pool.size_sets({**pool.params, "pool_h": 3, "stride": 2, "pad": 1})[0]["H"] == 5


def test_bad_window_cases_are_refused():
    shapes = {"x": ("N", "H")}
    with pytest.raises(CaseError, match="windows"):
        LayerCase("p", "P", shapes=shapes, params={"k": 2}, windows={"H": ("k", "s", 0)},
                  sizes=({"N": 1, "H": 4},))
    with pytest.raises(CaseError, match="stride"):
        LayerCase("p", "P", shapes=shapes, params={"k": 2, "s": 0},
                  windows={"H": ("k", "s", 0)}, sizes=({"N": 1, "H": 4},))
    with pytest.raises(CaseError, match="param_sets"):
        LayerCase("p", "P", shapes=shapes, params={"k": 2}, param_sets=({"q": 1},),
                  sizes=({"N": 1, "H": 4},))


def test_index_kind_draws_valid_repeated_ids():
    case = CASES["embedding"]
    rng = np.random.default_rng(1)
    for V, N in ((4, 7), (50, 3), (1000, 2), (3, 1)):
        idx = draw(case, "idx", (N,), rng, {"N": N, "V": V, "D": 2})
        assert idx.dtype.kind == "i" and idx.shape == (N,)
        assert idx.min() >= 0 and idx.max() < V
        if N > 1:
            assert np.unique(idx).size < N, idx          # a repeat, even when V >> N
    seq = CASES["time_embedding"]
    for label, values in input_sets(seq, rng):
        V = values["W"].shape[0]
        assert values["idx"].min() >= 0 and values["idx"].max() < V
        if values["idx"].size > 1:
            assert np.unique(values["idx"]).size < values["idx"].size, label


def test_index_cases_need_a_bound_and_survive_json():
    with pytest.raises(CaseError, match="bound"):
        LayerCase("e", "E", inputs=("idx",), shapes={"idx": ("N",), "W": ("V", "D")},
                  weights=("W",), kinds={"idx": "index"}, sizes=({"N": 2, "V": 3, "D": 2},))
    with pytest.raises(CaseError, match="nothing is differentiated"):
        LayerCase("e", "E", inputs=("idx",), shapes={"idx": ("N",)}, kinds={"idx": "index"},
                  bounds={"idx": 3}, sizes=({"N": 2},))
    for name in LAYERS:
        case = CASES[name]
        assert LayerCase.from_dict(json.loads(json.dumps(case.to_dict()))) == case
    assert CASES["embedding"].differentiated == ()


class StridelessConvolution(conv_reference.Convolution):
    """dW as if stride were 1: the windows at stride 1 instead of the layer's stride."""

    def backward(self, dout):
        dx = super().backward(dout)
        FN, C, FH, FW = self.W.shape
        N, _, OH, OW = dout.shape
        col = conv_reference.im2col(self.x, FH, FW, 1, self.pad)      # the stride forgotten
        OH1 = conv_reference.output_size(self.x.shape[2], FH, 1, self.pad)
        OW1 = conv_reference.output_size(self.x.shape[3], FW, 1, self.pad)
        col = col.reshape(N, OH1, OW1, -1)[:, :OH, :OW].reshape(N * OH * OW, -1)
        d = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.dW = (col.T @ d).T.reshape(FN, C, FH, FW)
        return dx


def test_a_convolution_whose_dW_misses_the_stride_fails(exported):
    case = CASES["convolution"]
    report = verify_class(StridelessConvolution, case, exported["convolution"])
    assert not report.ok
    text = report.render()
    assert "backward differs from the reference" in text and "dW" in text
    assert "stride=2" in text                        # only the stride-2 runs are wrong
    one = LayerCase.from_dict({**case.to_dict(), "param_sets": [{"stride": 1, "pad": 0}]})
    assert verify_class(StridelessConvolution, one, exported["convolution"]).ok


class AssigningEmbedding(nlp_reference.Embedding):
    """dW[idx] = dout: a repeated id keeps only its last row instead of the sum."""

    def backward(self, dout):
        dW, = self.grads
        dW[...] = 0
        dW[self.idx] = dout


@pytest.mark.parametrize("api", ["book2", "book1"])
def test_an_embedding_that_assigns_at_repeated_ids_fails(exported, api):
    cls = AssigningEmbedding
    if api == "book1":
        class cls:                                            # noqa: N801 - the book's name
            def __init__(self, W):
                self.W, self.dW = W, None

            def forward(self, idx):
                self.idx = idx
                return self.W[idx]

            def backward(self, dout):
                self.dW = np.zeros_like(self.W)
                self.dW[self.idx] = dout
    report = verify_class(cls, CASES["embedding"], exported["embedding"])
    assert not report.ok
    assert "dW" in report.render() and "finite differences" in report.render()


def test_an_index_layer_must_return_none_not_a_gradient_for_ids(exported):
    class ReturnsIds(nlp_reference.Embedding):
        def backward(self, dout):
            super().backward(dout)
            return np.zeros(self.idx.shape)
    report = verify_class(ReturnsIds, CASES["embedding"], exported["embedding"])
    assert not report.ok and any("expected None" in e for e in report.errors), report.render()


def test_both_poolings_give_a_tie_to_the_first_maximum(exported):
    """The case's random inputs never tie; on an input that does, both classes send each
    window's gradient to its first maximum in np.argmax order."""
    x = np.ones((1, 1, 4, 4))
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    for cls in (exported["pooling"], HAND_CODED["pooling"]):
        layer = cls(2, 2, stride=2)
        layer.forward(x)
        assert layer.backward(dout)[0, 0].tolist() == [[1, 0, 2, 0], [0, 0, 0, 0],
                                                       [3, 0, 4, 0], [0, 0, 0, 0]], cls


def test_case_of_a_user_embedding_has_an_index_input():
    from derive.derivation import derive_spec
    from derive.program import layer_from_def
    from derive.verification import case_of
    d = derive_spec(layer_from_def('''def my_embed(idx: index("N", "T"), W: weight("V", "D")):
    """Mine

    class: MyEmbed
    """
    return W[idx]
'''))
    case = case_of(d)
    assert case.inputs == ("idx",) and case.kinds["idx"] == "index"
    assert case.bounds == {"idx": "V"} and case.differentiated == ()
