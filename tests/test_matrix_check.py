"""check_matrix: proven for all shapes, refuted with a shape or value reason, parser refusals."""
import pytest

from derive.errors import ParseError
from derive.matrix import check_matrix


@pytest.mark.parametrize("layer, text, wrt", [
    ("affine", "np.dot(x.T, dout)", "W"), ("affine", "x.T @ dout", "W"),
    ("affine", "np.matmul(dout, W.T)", "x"), ("affine", "np.sum(dout, axis=0)", "b"),
    ("affine", "dout.sum(axis=0)", "b"),
    ("softmax_with_loss", "dout*(y - t)/N", "x"), ("softmax_with_loss", "(y - t)*dout/N", "x"),
    ("softmax", "out*dout - out*np.sum(out*dout, axis=1, keepdims=True)", "x"),
    ("batchnorm", "gamma/std*(dout - np.mean(dout, axis=0) - xn*np.mean(dout*xn, axis=0))", "x"),
    ("batchnorm", "np.sum(xn*dout, axis=0)", "gamma"), ("dropout", "mask*dout", "x"),
    ("mse", "(x - t)*dout/N", "x"),
])
def test_right_lines_are_proven(layer, text, wrt):
    r = check_matrix(layer, text, wrt)
    assert r.verdict == "proven", r.message
    assert "all shapes" in r.message


def test_assumption_is_stated():
    assert "sums to 1" in check_matrix("softmax_with_loss", "dout*(y - t)/N", "x").message


@pytest.mark.parametrize("layer, text, wrt, reason", [
    ("affine", "np.dot(dout.T, x)", "W", "shape"),
    ("affine", "np.sum(dout, axis=1)", "b", "shape"),
    ("affine", "np.dot(x, dout)", "W", "shape"),
    ("affine", "np.sum(dout, axis=0, keepdims=True)", "b", "shape"),
    ("affine", "2*np.dot(x.T, dout)", "W", "values"),
    ("softmax_with_loss", "dout*(y - t)", "x", "values"),
    ("softmax", "out*(dout - np.sum(dout*out, axis=0, keepdims=True))", "x", "values"),
    ("batchnorm", "gamma/std*(dout - np.mean(dout, axis=0))", "x", "values"),
])
def test_wrong_lines_are_refuted_with_reason(layer, text, wrt, reason):
    r = check_matrix(layer, text, wrt)
    assert (r.verdict, r.reason) == ("refuted", reason), r.message
    assert ("must be" in r.message or "shape" in r.message) if reason == "shape" else "expected" in r.message


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "x.T.__class__", "eval('1')",
                                  "[x for x in W]", "np.dot(x, W, out=x)", "lambda: 0", "W[0]"])
def test_parser_refuses(text):
    with pytest.raises(ParseError):
        check_matrix("affine", text, "W")
