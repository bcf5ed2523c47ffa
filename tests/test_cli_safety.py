"""The command line without surprises: formulas that begin with "-", errors as JSON, exit 2 for
bad --var, closed/full stdout and broken pipes, help texts. Never a traceback."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from derive.cli import build_parser, main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _child(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "derive", *argv], stderr=subprocess.PIPE,
                          text=True, timeout=120, **kwargs)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- formulas that begin with "-" ---------------------------------------------------------

def test_show_expr_that_begins_with_minus(capsys):
    code, out, err = run(capsys, "show", "--expr", "-x*x", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["result"] == {"x": "-2*dout*x"}


def test_check_backward_that_begins_with_minus(capsys):
    code, out, _ = run(capsys, "check", "sigmoid", "--backward", "-dout*out*(out-1)")
    assert code == 0 and "proven equal" in out
    code, out, _ = run(capsys, "check", "sigmoid", "--backward", "-dout*out")
    assert code == 1 and "NOT equal" in out


def test_graph_positional_that_begins_with_minus(capsys):
    code, out, err = run(capsys, "graph", "-x*x", "--at", "x=3", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["value"] == -9 and data["grad"] == {"x": -6}
    code, out, _ = run(capsys, "graph", "--at", "x=3", "-x*x")
    assert code == 0 and out.startswith("-x*x = -9")


def test_a_missing_value_is_still_a_usage_error(capsys):
    code, out, err = run(capsys, "check", "sigmoid", "--backward", "--format", "json")
    assert code == 2 and "--backward" in out and json.loads(out)["error"]["kind"] == "usage"


# --- errors as JSON -----------------------------------------------------------------------

@pytest.mark.parametrize("argv, kind", [
    (["show", "sigmod", "--format", "json"], "UnknownLayerError"),
    (["check", "sigmoid", "--backward", "dout*(", "--format", "json"], "ParseError"),
    (["check", "sigmoid", "--format=json"], "usage"),
    (["show", "--format", "json", "--no-such-option"], "usage"),
    (["verify", "--class", "nosuchmodule_q:X", "--layer", "relu", "--format", "json"],
     "DeriveError"),
    (["graph", "x*y", "--at", "x=1", "--format", "json"], "DeriveError"),
])
def test_json_errors_go_to_stdout(capsys, argv, kind):
    code, out, err = run(capsys, *argv)
    assert code == 2 and err == ""
    error = json.loads(out)["error"]
    assert error["kind"] == kind and error["exit_code"] == 2 and error["message"]


def test_text_errors_stay_one_line_on_stderr(capsys):
    code, out, err = run(capsys, "show", "sigmod")
    assert code == 2 and out == "" and _one_line(err).startswith("derive: error:")


# --- --var --------------------------------------------------------------------------------

@pytest.mark.parametrize("var, needle", [("y,x,x", "x given more than once"),
                                         ("x,x", "x given more than once"),
                                         ("y,x,z", "no name 'z'"), (",", "--var")])
def test_repeated_or_unknown_var_is_exit_2(capsys, var, needle):
    for cmd in (["show", "--expr", "x*y"], ["check", "--expr", "x*y", "--backward", "dout*y, dout*x"]):
        code, out, err = run(capsys, *cmd, "--var", var)
        assert code == 2, (out, err)
        assert needle in _one_line(err)


def test_show_without_a_layer_says_what_to_give(capsys):
    code, _, err = run(capsys, "show")
    line = _one_line(err)
    assert code == 2 and "not both" not in line
    assert "layer name" in line and "derive list" in line and "--expr" in line


# --- output that cannot be written -------------------------------------------------------------

def test_full_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        done = _child("show", "sigmoid", stdout=full)
    assert done.returncode == 2
    assert "No space left on device" in _one_line(done.stderr)


def test_closed_stdout_is_one_line():
    done = _child("show", "sigmoid", stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
    assert done.returncode == 2
    assert "standard output is closed" in _one_line(done.stderr)


def test_closed_stdout_does_not_stop_a_command_that_writes_files(tmp_path):
    done = _child("export", "relu", "-o", str(tmp_path / "m.py"), stdout=subprocess.DEVNULL,
                  preexec_fn=lambda: os.close(1))
    assert done.returncode == 0, done.stderr
    assert "class Relu" in (tmp_path / "m.py").read_text()


def test_broken_pipe_is_one_line():
    read_end, write_end = os.pipe()
    os.close(read_end)                  # the reader is gone before derive writes a byte
    try:
        done = _child("export", "--all", "--elementwise", stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 2
    assert "broken pipe" in _one_line(done.stderr)


def test_head_of_a_pipe_sees_no_traceback():
    shell = f"{sys.executable} -m derive export --all --elementwise | head -1"   # > 64 kB
    done = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("# Written by `derive export`")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 1


# --- help -------------------------------------------------------------------------------------

def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_subcommand_has_a_description():
    commands = _subparsers()
    assert {"list", "show", "check", "export", "verify", "graph", "bench", "docs"} <= set(commands)
    for name, parser in commands.items():
        assert parser.description and len(parser.description) > 30, name


def test_bench_help_says_which_ratio_is_better():
    text = _subparsers()["bench"].format_help()
    assert "below 1.00 the exported code is faster" in " ".join(text.split())


@pytest.mark.parametrize("body", ["x + os.system('touch marker')", "os.system('touch marker')"])
def test_a_layer_file_calling_os_is_refused_and_nothing_runs(tmp_path, capsys, body):
    layer = tmp_path / "bad.py"
    layer.write_text(f"import os\n\ndef bad(x):\n    return {body}\n")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["show", "--file", str(layer)]) == 2
    finally:
        os.chdir(here)
    err = capsys.readouterr().err
    assert "os" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "marker").exists()
