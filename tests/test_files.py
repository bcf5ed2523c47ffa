"""Writes never lose data: derive export -o and derive docs (derive/files.py).

Interruptions are real signals sent to a real ``python -m derive`` child, stopped at a
chosen moment by the DERIVE_FAILPOINT hook; full disks are a real RLIMIT_FSIZE.
"""
from __future__ import annotations

import json
import os
import select
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from derive import files
from derive.cli import main

REPO = Path(__file__).resolve().parent.parent


# ``python -m derive`` that first limits the size of the files it may write (-1: no limit)
# and puts SIGINT back to KeyboardInterrupt (a child inherits an ignored SIGINT, and Python
# then installs no handler). Done in the child's Python, not in a preexec_fn: that runs
# Python between fork and exec, in a worker where JAX's threads may hold locks.
_LAUNCH = ("import resource, runpy, signal, sys\n"
           "limit = int(sys.argv.pop(1))\n"
           "if limit >= 0:\n"
           "    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
           "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
           "runpy.run_module('derive', run_name='__main__', alter_sys=True)\n")


def _command(argv, limit=None) -> list:
    return [sys.executable, "-c", _LAUNCH, str(-1 if limit is None else limit), *argv]


def _derive(*argv, cwd=None, env=None, limit=None, timeout=120):
    return subprocess.run(_command(argv, limit), cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error:"), err
    assert "Traceback" not in err
    return lines[0]


def _strays(folder: Path) -> list:
    return [p.name for p in folder.rglob("*") if p.name.endswith((".tmp", files.TMP_SUFFIX))]


# --- export -o ----------------------------------------------------------------------------

def test_export_refuses_a_file_it_did_not_write(tmp_path, capsys):
    mine = tmp_path / "mine.py"
    mine.write_text("# my own layers, hand-written\n")
    assert main(["export", "sigmoid", "-o", str(mine)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "did not write it" in line and "--force" in line
    assert mine.read_text() == "# my own layers, hand-written\n"
    assert main(["export", "sigmoid", "-o", str(mine), "--force"]) == 0
    assert mine.read_text().startswith(files.MARKER + "\n")
    assert "class Sigmoid" in mine.read_text()


def test_export_replaces_its_own_file(tmp_path):
    target = tmp_path / "layers.py"
    assert main(["export", "sigmoid", "-o", str(target)]) == 0
    assert "class Tanh" not in target.read_text()
    assert main(["export", "tanh", "-o", str(target)]) == 0
    assert "class Tanh" in target.read_text() and "class Sigmoid" not in target.read_text()
    assert _strays(tmp_path) == []


def test_export_stdout_carries_the_marker_so_a_redirected_module_is_recognised(tmp_path, capsys):
    assert main(["export", "relu"]) == 0
    text = capsys.readouterr().out
    (tmp_path / "relu_layers.py").write_text(text)
    assert files.is_generated(tmp_path / "relu_layers.py")
    assert main(["export", "relu", "-o", str(tmp_path / "relu_layers.py")]) == 0


def test_export_refuses_a_symbolic_link(tmp_path, capsys):
    target = tmp_path / "precious.py"
    target.write_text(files.MARKER + "\n# but this is the real file\n")
    link = tmp_path / "link.py"
    link.symlink_to(target.name)
    assert main(["export", "sigmoid", "-o", str(link)]) == 2
    assert "symbolic link" in _one_error_line(capsys.readouterr().err)
    assert target.read_text().endswith("real file\n") and link.is_symlink()
    assert main(["export", "sigmoid", "-o", str(link), "--force"]) == 0
    assert not link.is_symlink() and "class Sigmoid" in link.read_text()
    assert target.read_text().endswith("real file\n")     # the link's target is untouched


def test_export_to_a_folder_is_bad_input(tmp_path, capsys):
    assert main(["export", "sigmoid", "-o", str(tmp_path)]) == 2
    assert "is a folder" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert main(["export", "sigmoid", "-o", str(tmp_path / "m.py")]) == 0
        assert main(["docs", "-o", str(tmp_path / "site"), "--layers", "exp", "--format", "md",
                     "--quiet"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.py").stat().st_mode) == mode
    for p in (tmp_path / "site").iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == mode, p.name


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "m.py"
    assert main(["export", "sigmoid", "-o", str(target)]) == 0
    target.chmod(0o640)
    assert main(["export", "tanh", "-o", str(target)]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and "class Tanh" in target.read_text()


def test_full_disk_leaves_the_old_module_intact(tmp_path):
    """ulimit -f: the new module does not fit; the old 6.8 kB one must survive, whole."""
    big = tmp_path / "big.py"
    assert main(["export", "sigmoid", "tanh", "relu", "-o", str(big)]) == 0
    before = big.read_bytes()
    assert 4096 < len(before) < 16384
    limit = len(before) + 512                     # room for the old size, not for --all
    done = _derive("export", "--all", "--elementwise", "-o", "big.py", cwd=tmp_path, limit=limit)
    assert done.returncode == 2, done.stderr
    line = _one_error_line(done.stderr)
    assert "the old file is unchanged" in line
    assert big.read_bytes() == before
    assert _strays(tmp_path) == []
    # without the limit the same export fits (in this process: its derivations are cached)
    assert main(["export", "--all", "--elementwise", "-o", str(big)]) == 0
    assert len(big.read_bytes()) > limit


def test_a_killed_export_leaves_the_old_module_and_the_next_run_cleans_up(tmp_path):
    target = tmp_path / "m.py"
    assert main(["export", "sigmoid", "-o", str(target)]) == 0
    before = target.read_bytes()
    child = _start(["export", "tanh", "-o", "m.py"], tmp_path, "export:1")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert target.read_bytes() == before
    assert _derive("export", "tanh", "-o", "m.py", cwd=tmp_path).returncode == 0
    assert "class Tanh" in target.read_text() and _strays(tmp_path) == []


# --- docs -------------------------------------------------------------------------------------

OLD, NEW = "exp", "exp,log"


def _tree(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The old site (exp) and the new one (exp, log), each written by an uninterrupted run."""
    trees = {}
    for key, layers in (("old", OLD), ("new", NEW)):
        folder = tmp_path_factory.mktemp(key)
        assert main(["docs", "-o", str(folder), "--layers", layers, "--quiet"]) == 0
        trees[key] = _tree(folder)
    assert trees["old"] != trees["new"]
    return trees


def _start(argv, cwd, failpoint):
    """A derive child stopped at ``failpoint`` (it says so on stderr)."""
    # SIGINT as KeyboardInterrupt in the child, whatever an earlier test left in this
    # process (_LAUNCH)
    child = subprocess.Popen(_command(argv), cwd=cwd,
                             env={**os.environ, "DERIVE_FAILPOINT": failpoint},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "derive: failpoint" not in seen:
        ready, _, _ = select.select([child.stderr], [], [], 120)
        line = child.stderr.readline() if ready else ""
        if not line:
            child.kill()
            pytest.fail(f"{failpoint} was never reached: {seen}")
        seen += line
    return child


# (failpoint, signal, what the folder holds right after): stage:1 is the first staged file,
# commit:1 the commit point, switch:2 the middle of the switch
MOMENTS = [("stage:1", signal.SIGINT, "old"), ("stage:6", signal.SIGINT, "old"),
           ("commit:1", signal.SIGINT, "new"), ("switch:2", signal.SIGINT, "new"),
           ("stage:6", signal.SIGKILL, "old"), ("commit:1", signal.SIGKILL, "old"),
           ("switch:2", signal.SIGKILL, "switching")]


@pytest.mark.parametrize("point, sig, holds", MOMENTS, ids=[f"{p}-{s.name}" for p, s, _ in MOMENTS])
def test_interrupted_docs_keep_the_old_site_or_the_new_one(tmp_path, sites, point, sig, holds):
    out = tmp_path / "site"
    assert main(["docs", "-o", str(out), "--layers", OLD, "--quiet"]) == 0
    (out / "notes.txt").write_text("mine")
    child = _start(["docs", "-o", str(out), "--layers", NEW, "--quiet"], tmp_path, point)
    child.send_signal(sig)
    child.wait(timeout=60)
    after = {k: v for k, v in _tree(out).items() if k != "notes.txt"}
    if holds == "switching":        # SIGKILL inside the switch: the journal is there to finish it
        assert (out / files.STAGING / files.COMMIT).exists()
    else:
        assert after == sites[holds]
    if sig == signal.SIGINT:
        rest = child.stderr.read()
        assert child.returncode == 130, rest
        assert "Traceback" not in rest and "derive: interrupted" in rest
        assert not (out / files.STAGING).exists()
    assert _strays(out) == [] or sig == signal.SIGKILL
    done = _derive("docs", "-o", str(out), "--layers", NEW, "--quiet")     # a plain re-run
    assert done.returncode == 0, done.stderr
    assert {k: v for k, v in _tree(out).items() if k != "notes.txt"} == sites["new"]
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / files.STAGING).exists() and _strays(out) == []


def test_a_killed_first_run_does_not_block_the_next(tmp_path, sites):
    """Today's bug: the second run refused, 'has files derive did not write'."""
    out = tmp_path / "fresh"
    for point in ("stage:4", "switch:3"):
        child = _start(["docs", "-o", str(out), "--layers", NEW, "--quiet"], tmp_path, point)
        child.kill()
        child.wait(timeout=60)
    done = _derive("docs", "-o", str(out), "--layers", NEW, "--quiet")
    assert done.returncode == 0, done.stderr
    assert _tree(out) == sites["new"]


def test_a_failing_write_keeps_the_old_site(tmp_path, sites):
    out = tmp_path / "site"
    assert main(["docs", "-o", str(out), "--layers", OLD, "--quiet"]) == 0
    done = _derive("docs", "-o", str(out), "--layers", NEW, "--quiet",
                   env={"DERIVE_FAILPOINT": "stage:3=fail"})
    assert done.returncode == 2
    assert "No space left on device" in _one_error_line(done.stderr)
    assert _tree(out) == sites["old"] and not (out / files.STAGING).exists()


def test_docs_over_a_file_size_limit_keep_the_old_site(tmp_path, sites):
    out = tmp_path / "site"
    assert main(["docs", "-o", str(out), "--layers", OLD, "--quiet"]) == 0
    biggest = max(len(v) for v in sites["old"].values())
    done = _derive("docs", "-o", str(out), "--layers", NEW, "--quiet", limit=biggest + 64)
    assert done.returncode == 2, done.stderr
    assert "File too large" in _one_error_line(done.stderr)
    assert _tree(out) == sites["old"] and not (out / files.STAGING).exists()
    assert _derive("docs", "-o", str(out), "--layers", NEW, "--quiet").returncode == 0
    assert _tree(out) == sites["new"]


def test_docs_refuse_a_symbolic_link(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["docs", "-o", str(out), "--layers", "exp", "--format", "md", "--quiet"]) == 0
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("not the site's")
    (out / "exp.md").unlink()
    (out / "exp.md").symlink_to(elsewhere)
    assert main(["docs", "-o", str(out), "--layers", "exp", "--format", "md", "--quiet"]) == 2
    assert "symbolic link" in _one_error_line(capsys.readouterr().err)
    assert main(["docs", "-o", str(out), "--layers", "exp", "--format", "md", "--quiet",
                 "--force"]) == 0
    assert not (out / "exp.md").is_symlink() and elsewhere.read_text() == "not the site's"


def test_docs_refuse_a_foreign_file_and_o_is_out(tmp_path, capsys):
    (tmp_path / "README.md").write_text("my project")
    assert main(["docs", "-o", str(tmp_path), "--layers", "exp", "--quiet"]) == 2
    assert "README.md" in _one_error_line(capsys.readouterr().err)
    assert (tmp_path / "README.md").read_text() == "my project"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_the_manifest_lists_what_was_written(tmp_path):
    assert main(["docs", "-o", str(tmp_path), "--layers", "exp", "--format", "md",
                 "--quiet"]) == 0
    listed = json.loads((tmp_path / files.MANIFEST).read_text())["files"]
    assert listed == ["README.md", "exp.md", "exp.svg"]
