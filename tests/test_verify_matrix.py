"""derive verify for the matrix layers: user classes (--class ... --layer affine) and the table.

What is checked for a user class: forward vs the exported (derived) class, the
returned dx and the parameter-gradient attributes vs the exported class and central
finite differences of the user's own forward.  Loss layers are called with dout = 1
(as the book does), so a SoftmaxWithLoss that ignores dout passes, with a note.
"""
from __future__ import annotations

import json

import pytest

from derive.cli import main
from numeric import matrix_generated as gen
from numeric import matrix_reference as ref
from numeric.cases import CASES
from numeric.verify import verify_class


def verify_matrix_class(cls, layer, reference, strict=False):
    return verify_class(cls, CASES[layer], reference, strict=strict)

USER = '''
import numpy as np
from numeric.matrix_generated import Affine as ExportedAffine

class TransposedDW:   # dW = dout.T @ x: the shape is (M, D) instead of (D, M)
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, x):
        self.shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b
    def backward(self, dout):
        self.dW = dout.T @ self.x
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.shape)

class NoDb:           # forgets db
    def __init__(self, W, b):
        self.W, self.b, self.db = W, b, None
    def forward(self, x):
        self.shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b
    def backward(self, dout):
        self.dW = self.x.T @ dout
        return (dout @ self.W.T).reshape(self.shape)

class BookSoftmaxWithLoss:   # the book's: backward ignores dout
    def __init__(self):
        self.loss = self.y = self.t = None
    def forward(self, x, t):
        self.t = t
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.loss = -np.sum(np.log(self.y[np.arange(x.shape[0]), t.argmax(axis=1)] + 1e-7)) / x.shape[0]
        return self.loss
    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]

class WrongSoftmaxWithLoss(BookSoftmaxWithLoss):   # forgets / N
    def backward(self, dout=1):
        return self.y - self.t

class BadBN:          # dgamma without the xn factor
    def __init__(self, gamma, beta):
        self.inner = __import__("numeric.matrix_generated", fromlist=["x"]).BatchNormalization(gamma, beta)
    def forward(self, x):
        return self.inner.forward(x)
    def backward(self, dout):
        dx = self.inner.backward(dout)
        self.dgamma, self.dbeta = dout.reshape(dout.shape[0], -1).sum(axis=0), self.inner.dbeta
        return dx
'''


@pytest.fixture
def user_mod(tmp_path, monkeypatch, request):
    name = "umat_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    (tmp_path / f"{name}.py").write_text(USER)
    monkeypatch.chdir(tmp_path)
    return name


def test_exported_affine_passes(capsys):
    assert main(["verify", "--class", "numeric.matrix_generated:Affine", "--layer", "affine",
                 "--strict"]) == 0
    out = capsys.readouterr().out
    assert "affine: OK" in out and "(2, 2, 3, 2)" in out and "(1, 4)" in out


@pytest.mark.parametrize("cls,layer,why", [("TransposedDW", "affine", "dW"),
                                           ("NoDb", "affine", "db"),
                                           ("WrongSoftmaxWithLoss", "softmax_with_loss", "dx"),
                                           ("BadBN", "batchnorm", "dgamma")])
def test_wrong_backward_exits_1(user_mod, capsys, cls, layer, why):
    assert main(["verify", "--class", f"{user_mod}:{cls}", "--layer", layer]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and why in out


def test_book_softmax_with_loss_passes_with_dout_1(user_mod, capsys):
    assert main(["verify", "--class", f"{user_mod}:BookSoftmaxWithLoss",
                 "--layer", "softmax_with_loss"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "ignores dout" in out


def test_json(user_mod, capsys):
    assert main(["verify", "--class", f"{user_mod}:NoDb", "--layer", "affine",
                 "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["layer"] == "affine"
    assert any("db" in e for e in data["errors"])


@pytest.mark.parametrize("argv", [
    ["verify", "--class", "no_such_module_xyz:A", "--layer", "affine"],
    ["verify", "--class", "{mod}:Missing", "--layer", "affine"],
    ["verify", "--class", "{mod}:NoDb", "--layer", "afine"],
])
def test_cannot_import_or_bad_layer_exit_2(user_mod, capsys, argv):
    assert main([a.replace("{mod}", user_mod) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1


def test_dout_mutation_is_reported():
    class Mutating(gen.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            dout *= 0
            return dx
    assert verify_matrix_class(Mutating, "affine", ref.Affine).mutated_dout
    assert not verify_matrix_class(Mutating, "affine", ref.Affine, strict=True).ok
    assert verify_matrix_class(gen.Affine, "affine", ref.Affine, strict=True).ok


def test_dropout_mask_is_read_after_forward():
    class Keeps(gen.Dropout):
        def backward(self, dout):
            return dout.copy()          # ignores the mask
    assert verify_matrix_class(gen.Dropout, "dropout", ref.Dropout).ok
    assert verify_matrix_class(ref.Dropout, "dropout", gen.Dropout).ok
    assert not verify_matrix_class(Keeps, "dropout", gen.Dropout).ok


def test_catalogue_table_includes_matrix_layers(capsys):
    assert main(["verify", "--format", "json"]) == 0
    rows = {r["layer"]: r for r in json.loads(capsys.readouterr().out)["layers"]}
    for name in ("affine", "softmax", "softmax_with_loss", "mse", "batchnorm", "layernorm",
                 "dropout", "sigmoid"):
        assert rows[name]["ok"], rows[name]["failures"]
