"""derive check explains the common near-misses: dout left out (right at dout = 1), a sign,
a constant factor — for elementwise layers (derive/check.py) and tensor layers
(derive/check_tensor.py). Still exit 1: the formula is not the gradient."""
from __future__ import annotations

import json

import pytest

from derive.cli import main

DOUT = "your formula leaves out dout; it is correct when dout = 1, as for a final loss"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, out


@pytest.mark.parametrize("layer, line", [
    ("sigmoid", "out*(1-out)"),
    ("tanh", "1 - out**2"),
    ("softmax_with_loss", "(y - t)/N"),            # the book's line, which assumes dout = 1
    ("mse", "(x - t)/N"),
])
def test_dout_left_out_says_so_instead_of_a_counterexample(capsys, layer, line):
    code, out = run(capsys, "check", layer, "--backward", line)
    assert code == 1
    assert DOUT in out
    assert "at dout = " not in out and "random inputs" not in out


def test_dout_left_out_and_wrong_is_not_called_correct(capsys):
    code, out = run(capsys, "check", "sigmoid", "--backward", "out*out")
    assert code == 1 and DOUT not in out and "does not use dout" in out
    code, out = run(capsys, "check", "softmax_with_loss", "--backward", "y - t")
    assert code == 1 and DOUT not in out and "does not use dout" in out


@pytest.mark.parametrize("layer, wrt, line, needle", [
    ("sigmoid", None, "-dout*out*(1 - out)", "wrong sign"),
    ("sigmoid", None, "dout*out*(out - 1)", "wrong sign"),
    ("tanh", None, "2*dout*(1 - out**2)", "constant factor 2"),
    ("sigmoid", None, "2*out*(1 - out)", "constant factor 2"),     # and dout left out
    ("softmax_with_loss", None, "-dout*(y - t)/N", "wrong sign"),
    ("affine", "W", "2 * np.dot(x.T, dout)", "it is 2 times the expected gradient"),
    ("affine", "b", "0.5*np.sum(dout, axis=0)", "it is 1/2 times the expected gradient"),
])
def test_sign_and_constant_factor(capsys, layer, wrt, line, needle):
    argv = ["check", layer, "--backward", line] + (["--wrt", wrt] if wrt else [])
    code, out = run(capsys, *argv)
    assert code == 1 and needle in out, out


def test_json_keeps_the_reason(capsys):
    code, out = run(capsys, "check", "softmax_with_loss", "--backward", "(y - t)/N",
                    "--format", "json")
    result = json.loads(out)["results"][0]
    assert code == 1 and result["status"] == "not_equal" and result["reasons"][0].startswith(DOUT)
    code, out = run(capsys, "check", "sigmoid", "--backward", "out*(1 - out)", "--format", "json")
    result = json.loads(out)["results"][0]
    assert code == 1 and result["status"] == "not_equal" and result["reasons"][0].startswith(DOUT)
