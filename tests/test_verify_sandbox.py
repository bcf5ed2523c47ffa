"""derive verify --class runs the class in a limited child process (numeric/sandbox.py).

A class that exits, crashes, hangs, prints, floods warnings, eats memory or returns the wrong
thing gets one clear failure line and exit 1 — never exit 0 without a verdict, never a hang,
never a traceback, and its output never reaches the report or the JSON.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from derive.cli import main
from numeric import sandbox
from numeric.cases import CASES

CLASSES = '''
import os, sys, warnings
import numpy as np

class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        return self.out
    def backward(self, dout):
        return dout * self.out * (1 - self.out)

class ExitsInBackward(Sigmoid):
    def backward(self, dout):
        sys.exit(0)

class OsExitsInBackward(Sigmoid):
    def backward(self, dout):
        os._exit(0)

class Hangs(Sigmoid):
    def backward(self, dout):
        while True:
            pass

class Prints(Sigmoid):
    def forward(self, x):
        print("PRINTED BY THE CLASS {", x)
        os.write(1, b"WRITTEN TO FD 1 }\\n")
        os.write(2, b"WRITTEN TO FD 2\\n")
        return super().forward(x)

class ReturnsDict(Sigmoid):
    def backward(self, dout):
        return {"dx": dout * self.out * (1 - self.out)}

class ReturnsStr(Sigmoid):
    def backward(self, dout):
        return "dx"

class OffByOnePerMille(Sigmoid):
    def backward(self, dout):
        return 1.001 * dout * self.out * (1 - self.out)

class DoublesTheSecondTime(Sigmoid):
    calls = 0
    def backward(self, dout):
        self.calls += 1
        return self.calls * dout * self.out * (1 - self.out)

class FloodsWarnings(Sigmoid):
    def forward(self, x):
        for i in range(2000):
            warnings.warn(f"warning number {i}")
        return super().forward(x)

class Crashes(Sigmoid):
    def backward(self, dout):
        import ctypes
        return ctypes.string_at(0)

class EatsMemory(Sigmoid):
    def backward(self, dout):
        return np.ones((1 << 40,))

class PrintsWithoutEnd(Sigmoid):
    def forward(self, x):
        while True:
            print("x" * 4096)
'''

PRINTS_ON_IMPORT = 'print("HELLO FROM IMPORT {"); import sys; sys.stderr.write("noise\\n")\n' + CLASSES


@pytest.fixture
def user(tmp_path, monkeypatch, request):
    tag = "m" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]  # imports cache
    (tmp_path / f"layers_{tag}.py").write_text(CLASSES)
    (tmp_path / f"exits_{tag}.py").write_text("import sys\nsys.exit(0)\n")
    (tmp_path / f"osexit_{tag}.py").write_text("import os\nos._exit(0)\n")
    (tmp_path / f"loud_{tag}.py").write_text(PRINTS_ON_IMPORT)
    monkeypatch.chdir(tmp_path)
    return tag


def verify(capsys, *argv):
    code = main(["verify", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def _failure_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("  ! ")]
    assert lines, out
    return lines[0]


@pytest.mark.parametrize("module, cls, extra, needle", [
    ("layers", "ExitsInBackward", [], "backward called sys.exit(0)"),
    ("layers", "OsExitsInBackward", [], "the process ended with exit status 0 during backward"),
    ("exits", "Anything", [], "importing exits_{tag} called sys.exit(0)"),
    ("osexit", "Anything", [], "the process ended with exit status 0 during importing"),
    ("layers", "Hangs", ["--timeout", "3"], "did not finish within 3 s during backward"),
    ("layers", "ReturnsDict", [], "dx is a dict, not an array"),
    ("layers", "ReturnsStr", [], "dx is a str, not an array"),
    ("layers", "OffByOnePerMille", [], "backward differs from the reference"),
    ("layers", "DoublesTheSecondTime", ["--strict"], "calling backward twice gives different"),
    ("layers", "FloodsWarnings", [], "distinct warnings in one call, a flood"),
    ("layers", "Crashes", [], "crashed with SIGSEGV during backward"),
    ("layers", "EatsMemory", ["--memory", "1G"], "backward raised MemoryError"),
    ("layers", "PrintsWithoutEnd", [], "printed more than 8 MiB of output"),
])
def test_a_misbehaving_class_is_one_failure_line_and_exit_1(user, capsys, module, cls, extra,
                                                            needle):
    code, out, err = verify(capsys, "--class", f"{module}_{user}:{cls}", "--layer", "sigmoid",
                            *extra)
    assert code == 1, (out, err)
    assert "sigmoid: FAIL" in out
    assert needle.replace("{tag}", user) in _failure_line(out)


def test_the_right_class_passes(user, capsys):
    code, out, _ = verify(capsys, "--class", f"layers_{user}:Sigmoid", "--layer", "sigmoid",
                          "--strict")
    assert code == 0 and "sigmoid: OK (strict)" in out


def test_a_second_call_that_doubles_is_reported_without_strict(user, capsys):
    code, out, _ = verify(capsys, "--class", f"layers_{user}:DoublesTheSecondTime",
                          "--layer", "sigmoid")
    assert code == 0
    assert "second backward:" in out and "(2 times the first)" in out


@pytest.mark.parametrize("module, cls", [("layers", "Prints"), ("loud", "Sigmoid")])
def test_printing_never_corrupts_the_json(user, capsys, module, cls):
    code, out, _ = verify(capsys, "--class", f"{module}_{user}:{cls}", "--layer", "sigmoid",
                          "--format", "json")
    data = json.loads(out)                      # valid JSON: nothing else on stdout
    assert code == 0 and data["ok"] is True and data["failure"] is None
    assert data["output_bytes"] > 0
    assert "PRINTED" not in out and "WRITTEN" not in out and "HELLO" not in out


def test_printing_never_reaches_the_text_report(user, capsys):
    code, out, err = verify(capsys, "--class", f"layers_{user}:Prints", "--layer", "sigmoid")
    assert code == 0
    assert "PRINTED" not in out + err and "WRITTEN" not in out + err
    assert "bytes to stdout/stderr (not shown)" in out


def test_failures_in_json_are_data(user, capsys):
    code, out, _ = verify(capsys, "--class", f"layers_{user}:OsExitsInBackward", "--layer",
                          "sigmoid", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["failure"].startswith("the process ended with exit status 0")
    assert data["failures"][0] == data["failure"]


def test_nothing_is_left_in_the_users_folder(user, capsys, tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    verify(capsys, "--class", f"layers_{user}:Crashes", "--layer", "sigmoid")
    verify(capsys, "--class", f"layers_{user}:Sigmoid", "--layer", "sigmoid")
    assert sorted(p.name for p in tmp_path.iterdir()) == before   # no __pycache__, no core


def test_matrix_layers_run_isolated_too(user, capsys):
    code, out, _ = verify(capsys, "--class", f"layers_{user}:ExitsInBackward", "--layer",
                          "affine")
    assert code == 1 and "FAIL" in out


@pytest.mark.parametrize("argv, needle", [
    (["--class", "layers_{tag}:Sigmoid", "--layer", "sigmoid", "--timeout", "0"], "--timeout"),
    (["--class", "layers_{tag}:Sigmoid", "--layer", "sigmoid", "--memory", "lots"], "--memory"),
    (["--class", "layers_{tag}:Sigmoid", "--layer", "sigmoid", "--memory", "10M"], "256M"),
    (["--class", "layers_{tag}:Sig moid", "--layer", "sigmoid"], "module:ClassName"),
    (["--class", "layers_{tag}:NoSuchClass", "--layer", "sigmoid"], "has no class"),
])
def test_bad_arguments_are_exit_2(user, capsys, argv, needle):
    code, out, err = verify(capsys, *[a.replace("{tag}", user) for a in argv])
    assert code == 2 and needle in err and out == ""


def test_the_command_line_shows_no_traceback_for_any_of_them(user, tmp_path):
    for cls in ("OsExitsInBackward", "Crashes", "ReturnsDict"):
        done = subprocess.run([sys.executable, "-m", "derive", "verify", "--class",
                               f"layers_{user}:{cls}", "--layer", "sigmoid", "--format", "json"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
        assert json.loads(done.stdout)["ok"] is False


def test_the_sandbox_api_takes_a_case_and_source_text(tmp_path):
    (tmp_path / "cube_layers.py").write_text(
        "class Cube:\n    def forward(self, x):\n        self.x = x\n        return x**3\n"
        "    def backward(self, dout):\n        return 3 * self.x**2 * dout\n")
    reference = ("class Cube:\n    def forward(self, x):\n        self.x = x\n"
                 "        return x * x * x\n    def backward(self, dout):\n"
                 "        return dout * 3 * self.x * self.x\n")
    case = CASES["square"].__class__("cube", "Cube", edges=(0.0, 2.0, -2.0))
    outcome = sandbox.verify_isolated("cube_layers:Cube", case, reference, "Cube", cwd=tmp_path)
    assert outcome.ok and outcome.report["name"] == "cube", outcome
    wrong = reference.replace("dout * 3", "dout * 3.003")
    outcome = sandbox.verify_isolated("cube_layers:Cube", case, wrong, "Cube", cwd=tmp_path)
    assert not outcome.ok and not outcome.report["backward"]["passed"]
