"""derive export and derive verify through the CLI: exit codes and what is reported."""
from __future__ import annotations

import json

import pytest

from derive.cli import main

BOOK_RELU = '''
import numpy as np
class BookRelu:
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out
    def backward(self, dout):
        dout[self.mask] = 0
        return dout
'''
WRONG = '''
import numpy as np
class SwappedMul:  # the classic slip: the inputs do not swap
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y
    def backward(self, dout):
        return dout * self.x, dout * self.y
class SignSigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        return self.out
    def backward(self, dout):
        return -dout * self.out * (1 - self.out)
class NoDoutTanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out
    def backward(self, dout):
        return 1 - self.out ** 2
class GoodMul:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y
    def backward(self, dout):
        return dout * self.y, dout * self.x
'''


@pytest.fixture
def user_dir(tmp_path, monkeypatch, request):
    """A folder with the user's modules (unique names: import caches them), as cwd."""
    tag = request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    (tmp_path / f"book_{tag}.py").write_text(BOOK_RELU)
    (tmp_path / f"wrong_{tag}.py").write_text(WRONG)
    monkeypatch.chdir(tmp_path)
    return tag


def test_export_stdout(capsys):
    assert main(["export", "sigmoid", "tanh", "relu"]) == 0
    out = capsys.readouterr().out
    for s in ("def sigmoid_backward(dout, out):", "def tanh_backward(", "class Relu:",
              "import numpy as np"):
        assert s in out
    assert "sympy" not in out.split('"""', 2)[2]  # nothing but numpy past the docstring


def test_export_file_and_errors(tmp_path, capsys):
    target = tmp_path / "my_layers.py"
    assert main(["export", "sigmoid", "-o", str(target)]) == 0
    assert "class Sigmoid:" in target.read_text()
    assert main(["export", "sigmod"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["export"]) == 2
    assert main(["export", "--all", "relu"]) == 2
    assert main(["export", "relu", "-o", str(tmp_path / "no" / "such" / "x.py")]) == 2


@pytest.mark.parametrize("cls,layer", [("SwappedMul", "mul"), ("SignSigmoid", "sigmoid"),
                                       ("NoDoutTanh", "tanh")])
def test_wrong_gradients_exit_1_and_show_the_input(user_dir, capsys, cls, layer):
    assert main(["verify", "--class", f"wrong_{user_dir}:{cls}", "--layer", layer]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and " at x=" in out


def test_right_class_exits_0(user_dir, capsys):
    assert main(["verify", "--class", f"wrong_{user_dir}:GoodMul", "--layer", "mul"]) == 0
    assert "mul: OK" in capsys.readouterr().out


def test_book_relu_mutation(user_dir, capsys):
    assert main(["verify", "--class", f"book_{user_dir}:BookRelu", "--layer", "relu"]) == 0
    assert "mutated_dout" in capsys.readouterr().out
    assert main(["verify", "--class", f"book_{user_dir}:BookRelu", "--layer", "relu",
                 "--strict"]) == 1
    assert "modifies dout in place" in capsys.readouterr().out


def test_verify_json(user_dir, capsys):
    assert main(["verify", "--class", f"book_{user_dir}:BookRelu", "--layer", "relu",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["mutated_dout"] is True


@pytest.mark.parametrize("argv", [
    ["verify", "--class", "no_such_module_xyz:A", "--layer", "relu"],
    ["verify", "--class", "justamodule", "--layer", "relu"],
    ["verify", "--class", "book_{tag}:Missing", "--layer", "relu"],
    ["verify", "--class", "book_{tag}:BookRelu"],
    ["verify", "--class", "book_{tag}:BookRelu", "--layer", "nosuchlayer"],
    ["verify", "--layer", "relu"],
])
def test_cannot_import_or_bad_arguments_exit_2(user_dir, capsys, argv):
    argv = [a.replace("{tag}", user_dir) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: error:") and "Traceback" not in err


def test_import_error_in_user_module_exit_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_mod_abc.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "--class", "broken_mod_abc:X", "--layer", "relu"]) == 2
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_verify_catalogue_three_ways(capsys):
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["layer", "fwd", "err"]
    for name in ("sigmoid", "gelu", "mul"):
        assert any(line.startswith(name + " ") and line.rstrip().endswith("PASS")
                   for line in out.splitlines())


def _top_level_names(source):
    import ast
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def test_export_mixes_elementwise_and_matrix_layers(tmp_path, capsys):
    import importlib.util
    import numpy as np
    target = tmp_path / "mixed_layers.py"
    assert main(["export", "affine", "softmax_with_loss", "sigmoid", "-o", str(target)]) == 0
    src = target.read_text()
    assert src.count("import numpy as np") == 1
    names = _top_level_names(src)
    assert len(names) == len(set(names))
    for want in ("Affine", "SoftmaxWithLoss", "Sigmoid", "affine_backward", "_rows"):
        assert want in names
    spec = importlib.util.spec_from_file_location("mixed_layers", target)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    layer = mod.Affine(np.eye(3), np.zeros(3))
    layer.forward(np.ones((2, 3)))
    assert np.allclose(layer.backward(np.ones((2, 3))), np.ones((2, 3)))
    assert np.allclose(layer.db, [2.0, 2.0, 2.0])


def test_export_all_has_both_catalogues(capsys):
    assert main(["export", "--all"]) == 0
    src = capsys.readouterr().out
    names = _top_level_names(src)
    assert len(names) == len(set(names))
    assert {"Relu", "Gelu", "Affine", "BatchNormalization", "Dropout"} <= set(names)
    assert src.count("import numpy as np") == 1
    assert main(["export", "--all", "--elementwise"]) == 0
    assert "class Affine" not in capsys.readouterr().out
    assert main(["export", "--elementwise", "relu"]) == 2


def test_export_unknown_matrix_name_suggests(capsys):
    assert main(["export", "afine"]) == 2
    assert "affine" in capsys.readouterr().err
    assert main(["export", "relu", "batchnorn"]) == 2
    assert "batchnorm" in capsys.readouterr().err
