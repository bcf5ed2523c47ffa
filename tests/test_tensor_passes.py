"""The tensor lowering's pass-saving rewrites: a product of two arrays several flattened
products hold is computed once, sizes cancel in the small factors, reshapes are the
method, and a label branch reuses the small value its one-hot branch names."""
from __future__ import annotations

import re

import numpy as np
import pytest

from derive import catalogue
from derive.codegen.tensor import tensor_cse, tensor_layer_code
from derive.codegen.tensor_keepdims import leading_keepdims, share_keepdims
from derive.codegen.tensor_products import name_pair, shared_pair
from derive.derivation import derive_spec, is_tensor
from derive.tensor import AxisSum, array, dims
from numeric import matrix_reference as ref

TENSOR = [n for n in catalogue.names() if is_tensor(catalogue.get(n))]


def _function(name) -> str:
    return tensor_layer_code(derive_spec(catalogue.get(name))).function


def _fresh():
    counter = iter(range(1000))
    return lambda: f"t{next(counter)}"


def test_layernorm_makes_dout_times_gamma_once_and_no_three_operand_einsum():
    src = _function("layernorm")
    assert src.count("np.multiply(dout, gamma)") == 1
    assert not re.search(r"np\.einsum\('[a-z]*,[a-z]*,[a-z]*->", src)


@pytest.mark.parametrize("name", TENSOR)
def test_no_pair_of_arrays_is_left_shared_after_the_cse(name):
    d = derive_spec(catalogue.get(name))
    exprs = share_keepdims([d.result[w] for w in d.wrt])
    repl, reduced = tensor_cse(exprs, _fresh())
    assert shared_pair(list(reduced) + [v for _, v in repl]) is None


def test_name_pair_is_an_identity_of_products():
    N, D = dims("N D")
    dout, xn, g = array("dout", (N, D)), array("xn", (N, D)), array("gamma", (D,))
    e = 3 * dout * g - xn * AxisSum(dout * g * xn, 1, 1) - AxisSum(dout * g, 1, 1)
    assert shared_pair([e]) == (dout, g)
    sym = array("t0", (N, D))
    named = name_pair(e, (dout, g), sym)
    assert not named.has(dout) and named.xreplace({sym: dout * g}) == e


def test_pairs_only_inside_sums_are_left_to_einsum():
    N, D = dims("N D")
    a, b, c = array("a", (N, D)), array("b", (N, D)), array("c", (N, D))
    # a*b is never made outside a sum: naming it would add a full-size temporary
    assert shared_pair([AxisSum(a * b * c, 1, 1) + AxisSum(a * b, 0, 0)]) is None


def test_batchnorm_size_cancels_in_the_small_factors():
    src = _function("batchnorm")
    assert "gamma/std" in src and "N*t" not in src and "std*N" not in src


def test_reshape_prints_as_the_method():
    from derive.codegen.printer import TensorCodePrinter
    from derive.tensor import Reshape
    N, D = dims("N D")
    text = TensorCodePrinter().doprint(Reshape(AxisSum(array("dout", (N, D)), 1, 0), D))
    assert "np.reshape(" not in text and text.endswith(".reshape((D,))")


def test_label_branch_reuses_the_named_scale_and_picks_without_negating_first():
    src = _function("softmax_with_loss")
    assert src.count("dout/N") == 1
    assert "-= t0" in src
    forward = tensor_layer_code(derive_spec(catalogue.get("softmax_with_loss"))).cls
    assert "np.add.reduce(-" not in forward


@pytest.mark.parametrize("N,D", [(4, 3), (100, 50)])
def test_norm_layers_still_agree_with_the_reference(N, D):
    from numeric import matrix_generated as gen
    rng = np.random.default_rng(N)
    x, dout = rng.normal(size=(N, D)), rng.normal(size=(N, D))
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    for ours, theirs in ((gen.LayerNorm, ref.LayerNorm), (gen.BatchNormalization,
                                                          ref.BatchNormalization)):
        a, b = ours(gamma, beta), theirs(gamma, beta)
        np.testing.assert_allclose(a.forward(x), b.forward(x), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(a.backward(dout), b.backward(dout), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.dgamma, b.dgamma, rtol=1e-10, atol=1e-12)


def test_a_leading_axes_keepdims_sum_read_elementwise_drops_its_kept_axes():
    """(D,) broadcasts against (N, D) as (1, D) does: batchnorm's dx then reads the very
    sums dgamma and dbeta return (before: ``[None, :]`` and two ``.reshape((D,))``)."""
    N, D = dims("N D")
    dout, xn = array("dout", (N, D)), array("xn", (N, D))
    gamma = array("gamma", (D,))
    kept = AxisSum(dout, 1, 0)
    relaxed = leading_keepdims([xn * kept + dout])[0]
    assert relaxed.has(AxisSum(dout, 0, 0)) and not relaxed.has(kept)
    # its own shape would change ((1, D) to (D,)): kept; a sum over a trailing axis: kept
    assert leading_keepdims([kept * gamma]) == [kept * gamma]
    rows = AxisSum(dout, 1, 1)
    assert leading_keepdims([xn * rows]) == [xn * rows]
    body = _function("batchnorm").split('"""')[-1]
    assert ".reshape(" not in body and "[None" not in body and "keepdims=True" not in body


def test_batchnorm_backward_without_kept_axes_matches_the_reference():
    from numeric import matrix_generated as mgen
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    ours, book = mgen.BatchNormalization(gamma, beta), ref.BatchNormalization(gamma, beta)
    np.testing.assert_allclose(ours.forward(x), book.forward(x), rtol=1e-12)
    np.testing.assert_allclose(ours.backward(dout), book.backward(dout), rtol=1e-10, atol=1e-13)
    for g in ("dgamma", "dbeta"):
        assert getattr(ours, g).shape == (5,)
        np.testing.assert_allclose(getattr(ours, g), getattr(book, g), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(6, 20), (6, 4, 5), (6, 2, 2, 5)])
def test_flattening_classes_take_rows_as_they_are_and_give_other_shapes_back(shape):
    """Affine and BatchNormalization flatten x after its first axis as the book does; rows
    already skip the reshapes (the common case), any other rank gets its shape back."""
    from numeric import matrix_generated as mgen
    rng = np.random.default_rng(5)
    x, dout_rows = rng.standard_normal(shape), rng.standard_normal((6, 20))
    W, b = rng.standard_normal((20, 3)), rng.standard_normal(3)
    ours, book = mgen.Affine(W, b), ref.Affine(W, b)
    np.testing.assert_allclose(ours.forward(x), book.forward(x), rtol=1e-12)
    d = rng.standard_normal((6, 3))
    dx = ours.backward(d)
    assert dx.shape == shape and ours.original_x_shape == shape
    np.testing.assert_allclose(dx, book.backward(d), rtol=1e-12, atol=1e-14)
    gamma, beta = rng.standard_normal(20), rng.standard_normal(20)
    bn, bn_book = mgen.BatchNormalization(gamma, beta), ref.BatchNormalization(gamma, beta)
    out = bn.forward(x)
    assert out.shape == shape
    np.testing.assert_allclose(out, bn_book.forward(x), rtol=1e-12, atol=1e-14)
    dout = dout_rows.reshape(shape)
    dx = bn.backward(dout)
    assert dx.shape == shape
    np.testing.assert_allclose(dx, bn_book.backward(dout), rtol=1e-10, atol=1e-12)
    test = bn.forward(x, train_flg=False)
    assert test.shape == shape
    np.testing.assert_allclose(test, bn_book.forward(x, train_flg=False), rtol=1e-12, atol=1e-14)
