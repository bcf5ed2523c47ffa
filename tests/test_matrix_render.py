"""How the matrix pages spell their mathematics: golden strings written from the maths."""
import re

import latex2mathml.converter
import pytest

from derive.matrix import LAYERS, derive_matrix
from derive.matrix.tensor import Arr, dims, latex_name

N, D = dims("N D")
DOUT = r"\frac{\partial L}{\partial \mathrm{out}}"


@pytest.fixture(scope="module")
def derived():
    return {name: derive_matrix(name) for name in LAYERS}


@pytest.mark.parametrize("name, scalar, tex", [
    ("dout", False, DOUT),                                     # the upstream gradient of out
    ("dout", True, r"\mathrm{dout}"),                          # of a loss L: keeps its code name
    ("dxn", False, r"\frac{\partial L}{\partial \hat{x}}"),    # gradient arriving at node xn
    ("dS", False, r"\frac{\partial L}{\partial S}"),
    ("dd", False, r"\frac{\partial L}{\partial d}"),           # mse: the node d, and its gradient
    ("d", False, "d"),
    ("mask", False, r"\mathrm{mask}"),                         # several letters: upright
    ("out", False, r"\mathrm{out}"),
    ("std", False, r"\sigma"),
])
def test_names(name, scalar, tex):
    assert latex_name(name, scalar) == tex


def test_a_number_is_written_before_the_array():
    assert (Arr("std", (1, D)) * 2).latex() == r"2 \sigma"
    assert (Arr("dstd", (1, D)) / (Arr("std", (1, D)) * 2)).latex() == \
        r"\frac{\frac{\partial L}{\partial \sigma}}{2 \sigma}"


def test_affine_steps(derived):
    got = [s.latex for s in derived["affine"].steps[:4]]
    assert got == [DOUT + r" = \mathrm{dout}",
                   r"\frac{\partial L}{\partial x} = " + DOUT + r" \, W^{\top}",
                   r"\frac{\partial L}{\partial W} = x^{\top} \, " + DOUT,
                   r"\frac{\partial L}{\partial b} = \sum_{n} " + DOUT]


def test_results(derived):
    tex = {name: {k: t.latex() for k, t in d.tensors.items()} for name, d in derived.items()}
    assert tex["dropout"] == {"x": DOUT + r" \odot \mathrm{mask}"}
    assert tex["softmax_with_loss"] == {"x": r"\frac{\mathrm{dout} \left(y - t\right)}{N}"}
    assert tex["mse"] == {"x": r"\frac{\mathrm{dout} \left(x - t\right)}{N}"}


def test_intermediate_gradients_are_partials(derived):
    steps = {s.latex for s in derived["batchnorm"].steps}
    assert r"\frac{\partial L}{\partial \sigma^{2}} = " \
        r"\frac{\frac{\partial L}{\partial \sigma}}{2 \sigma}" in steps


def test_seed_is_by_definition_without_a_point_count(derived):
    seed = derived["affine"].steps[0]
    assert (seed.kind, str(seed.proof)) == \
        ("seed", "by definition: ∂L/∂out is the given upstream gradient, dout in the code")
    loss = derived["mse"].steps[0]
    assert loss.latex == r"\frac{\partial L}{\partial L} = \mathrm{dout}"
    assert str(loss.proof) == ("by definition: dout is the given upstream gradient of the loss L "
                               "(1 when L is the final loss)")
    assert seed.text == "∂L/∂out = dout"


@pytest.mark.parametrize("name", LAYERS)
def test_no_italic_words_and_every_formula_converts(name, derived):
    d = derived[name]
    for tex in [s.latex for s in d.steps] + [t.latex() for t in d.tensors.values()]:
        assert r"\mathit" not in tex and "aligned" not in tex
        assert not re.search(r"(?<!\\mathrm\{)dout", tex), tex      # dout only as \mathrm{dout}
        assert "<math" in latex2mathml.converter.convert(tex)
    assert "0 points" not in d.to_text() and "0 points" not in d.to_mathml()


def test_markdown_step_golden(derived):
    md = derived["dropout"].to_markdown()
    assert ("**2.** `multiply by the mask`: back through node out (multiply by the mask)\n\n"
            "$$\n\\frac{\\partial L}{\\partial x} = " + DOUT + " \\odot \\mathrm{mask}\n$$\n\n"
            "proof: index form (all shapes): same canonical form; numeric cross-check at 8 points "
            "(N=2,D=3,M=2,C=3; N=1,D=2,M=3,C=2)\n") in md
    assert "| step" not in md


def test_markdown_prose_is_escaped(derived):
    md = derived["softmax_with_loss"].to_markdown()
    assert r"Σ\_k t\_k = 1" in md and "Σ_k" not in md
