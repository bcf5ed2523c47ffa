"""Survey: every activation and loss of torch, jax and Keras (bench/peer_formulas.py), tried as a
new user would — does ``derive show`` answer, and does ``derive check`` prove the library's own
backward?

For each entry, ``derive show --expr F --var V --format json`` must exit 0 with a JSON
derivation, and for each input ``derive check --expr F --var V --wrt v --backward G --format
json`` must give the entry's expected verdict (exit 0, "proven"; or, where the table says the
library's backward is not the derivative, exit 1, "not_equal"). The commands run in-process
through ``derive.cli.main`` (fast: the imports once); ``--subprocess`` runs the real command.

    python bench/peer_survey.py [--only 'torch.*,keras.relu'] [--timeout 20] [--subprocess]
                                [--format text|json]

Progress goes to stderr; the table and the totals to stdout. Exit 1 if any entry fails, 2 for
an ``--only`` that matches no entry.
"""
from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import json
import os
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench.peer_formulas import PEERS, Peer

__all__ = ["check_argv", "check_status", "main", "run_derive", "select", "show_argv",
           "survey_entry", "text_report", "totals"]


def _common(peer: Peer, timeout) -> list:
    argv = ["--expr", peer.forward, "--var", ",".join(peer.inputs)]
    if peer.positive:
        argv += ["--positive", ",".join(peer.positive)]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    return argv + ["--format", "json"]


def show_argv(peer: Peer, timeout=None) -> list:
    """``derive show`` for the entry (without the program name)."""
    return ["show", *_common(peer, timeout)]


def check_argv(peer: Peer, wrt: str, backward: str | None = None, timeout=None) -> list:
    """``derive check --wrt wrt`` of the entry's backward (or of ``backward`` instead)."""
    given = peer.backward[wrt] if backward is None else backward
    return ["check", *_common(peer, timeout), "--wrt", wrt, "--backward", given]


def _in_process(argv: list) -> tuple:
    from derive import cli
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:        # argparse's --help/--version, or a sys.exit inside
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception:  # noqa: BLE001 -- a traceback is a failure of its own kind
            print(traceback.format_exc(), file=sys.stderr)
            code = "traceback"
    return code, out.getvalue(), err.getvalue()


def _subprocess(argv: list, timeout) -> tuple:
    limit = (float(timeout) if timeout is not None else 20.0) + 30.0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run([sys.executable, "-m", "derive", *argv], check=False,
                              capture_output=True, text=True, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        return "hung", "", f"killed after {limit:g} s"
    code = done.returncode
    if code not in (0, 1, 2, 3) and "Traceback" in done.stderr:
        code = "traceback"
    return code, done.stdout, done.stderr


def run_derive(argv: list, subprocess_mode: bool = False, timeout=None) -> dict:
    """One command: {"exit", "seconds", "json" (parsed stdout or None), "stderr"}."""
    t = time.perf_counter()
    code, out, err = _subprocess(argv, timeout) if subprocess_mode else _in_process(argv)
    seconds = time.perf_counter() - t
    try:
        parsed = json.loads(out) if out.strip() else None
    except ValueError:
        parsed = None
    return {"exit": code, "seconds": round(seconds, 3), "json": parsed, "stderr": err}


def _message(run: dict) -> str:
    """The one line that says why a command did not succeed."""
    data = run["json"]
    if isinstance(data, dict) and "error" in data:
        return data["error"].get("message", "")[:300]
    if isinstance(data, dict) and data.get("results"):
        r = data["results"][0]
        text = f"{r.get('status')}: yours {r.get('given')}; expected {r.get('expected')}"
        if r.get("counterexample"):
            text += f"; at {r['counterexample'].get('point')}"
        return text[:300]
    lines = [line for line in run["stderr"].strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def check_status(run: dict) -> str | None:
    """The verdict of a ``check --format json`` run ("proven", "not_equal", "unproven")."""
    data = run["json"]
    if isinstance(data, dict) and len(data.get("results") or ()) == 1:
        return data["results"][0].get("status")
    return None


def _command(argv: list) -> str:
    """The shell command a user types to see the same thing."""
    return shlex.join(["derive", *argv])


def survey_entry(peer: Peer, subprocess_mode: bool = False, timeout=None) -> dict:
    """Show the entry and check each input's backward; ``ok`` when all answered as expected."""
    argv = show_argv(peer, timeout)
    show = run_derive(argv, subprocess_mode, timeout)
    shown = (show["exit"] == 0 and isinstance(show["json"], dict)
             and bool(show["json"].get("steps")))
    row = {"name": peer.name, "library": peer.library, "show": {
        "exit": show["exit"], "seconds": show["seconds"], "ok": shown,
        "message": "" if shown else _message(show), "command": _command(argv)}, "checks": {}}
    for wrt in peer.inputs:
        argv = check_argv(peer, wrt, timeout=timeout)
        run = run_derive(argv, subprocess_mode, timeout)
        status, want = check_status(run), peer.expected(wrt)
        good = status == want and run["exit"] == (0 if want == "proven" else 1)
        row["checks"][wrt] = {"exit": run["exit"], "status": status, "expected": want,
                              "seconds": run["seconds"], "ok": good,
                              "message": "" if good and want == "proven" else _message(run),
                              "command": _command(argv)}
    row["seconds"] = round(show["seconds"] + sum(c["seconds"] for c in row["checks"].values()), 3)
    row["ok"] = shown and all(c["ok"] for c in row["checks"].values())
    return row


def select(patterns: str | None) -> list:
    """Entries whose name matches one of the comma-separated glob patterns (all without)."""
    if not patterns:
        return list(PEERS)
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [peer for peer in PEERS if any(fnmatch.fnmatchcase(peer.name, w) for w in wanted)]
    unmatched = [w for w in wanted if not any(fnmatch.fnmatchcase(p.name, w) for p in PEERS)]
    if unmatched:
        raise ValueError(f"no entry matches {', '.join(unmatched)} "
                         f"(names look like torch.ELU, jax.relu6, keras.hinge)")
    return chosen


def totals(rows: list) -> dict:
    checks = [c for r in rows for c in r["checks"].values()]
    return {"entries": len(rows), "shown": sum(r["show"]["ok"] for r in rows),
            "checks": len(checks), "checks_as_expected": sum(c["ok"] for c in checks),
            "proven": sum(c["status"] == "proven" for c in checks),
            "entries_ok": sum(r["ok"] for r in rows),
            "failing": [r["name"] for r in rows if not r["ok"]],
            "seconds": round(sum(r["seconds"] for r in rows), 2)}


def _cell(check: dict) -> str:
    mark = {"proven": "ok", "not_equal": "refuted", "unproven": "unproven"}.get(
        check["status"], f"exit {check['exit']}")
    if check["expected"] != "proven" and check["ok"]:
        mark += " (expected)"
    return mark if check["ok"] else mark.upper()


def text_report(rows: list) -> str:
    width = max(len(r["name"]) for r in rows) + 2
    lines = [f"{'entry':<{width}}{'show':<6}{'checks':<40}{'seconds':>8}"]
    for r in rows:
        checks = "  ".join(f"{v}: {_cell(c)}" for v, c in r["checks"].items())
        lines.append(f"{r['name']:<{width}}{r['show']['exit']!s:<6}{checks:<40}"
                     f"{r['seconds']:>8.2f}")
    t = totals(rows)
    summary = (f"{t['entries']} entries: {t['shown']} shown with exit 0; "
               f"{t['checks_as_expected']}/{t['checks']} checks as expected "
               f"({t['proven']} proven); {t['entries_ok']} entries complete; {t['seconds']} s")
    lines += ["", summary]
    failing = [r for r in rows if not r["ok"]]
    if failing:
        lines += ["", "failing:"]
        for r in failing:
            if not r["show"]["ok"]:
                lines.append(f"  {r['name']} show (exit {r['show']['exit']}): "
                             f"{r['show']['message']}")
                lines.append(f"    $ {r['show']['command']}")
            for v, c in r["checks"].items():
                if not c["ok"]:
                    lines.append(f"  {r['name']} check --wrt {v} (exit {c['exit']}, "
                                 f"{c['status']}, want {c['expected']}): {c['message']}")
                    lines.append(f"    $ {c['command']}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", metavar="NAMES", help="comma-separated entry names or globs")
    ap.add_argument("--timeout", metavar="SECONDS", default=None,
                    help="passed to every derive command as --timeout")
    ap.add_argument("--subprocess", action="store_true",
                    help="run the real `python -m derive` command for each step")
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args(argv)
    try:
        peers = select(args.only)
    except ValueError as exc:
        print(f"peer_survey: {exc}", file=sys.stderr)
        return 2
    rows = []
    for i, peer in enumerate(peers, 1):
        row = survey_entry(peer, args.subprocess, args.timeout)
        rows.append(row)
        checks = " ".join(f"{v}={_cell(c)}" for v, c in row["checks"].items())
        print(f"[{i}/{len(peers)}] {peer.name}: show {row['show']['exit']}, {checks} "
              f"({row['seconds']:.1f} s)", file=sys.stderr, flush=True)
    if args.format == "json":
        print(json.dumps({"totals": totals(rows), "entries": rows}, indent=2))
    else:
        print(text_report(rows), end="")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
