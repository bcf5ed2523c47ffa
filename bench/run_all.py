"""Run every benchmark: each ``bench/*.py`` script and the NumPy-side ones, with a short summary.

Each benchmark runs as its own process (its progress on stderr as it goes), its whole
stdout is kept in a file of ``--out``, and the summary gives per benchmark its exit code,
wall time and its headline lines (the fuzz's figures, the prover budget's verdict...).
A ``bench/*.py`` script that has a ``__main__`` block but no entry in :data:`BENCHMARKS`
is run too, with its default arguments, and said so: a new benchmark is never left out.

    python bench/run_all.py [--quick] [--only fuzz_grammar,derive_time] [--skip NAMES]
                            [--out DIR] [--format text|json] [--list]

``--quick`` runs each with small arguments (a smoke run of minutes, not figures to report).
Exit 1 when any benchmark exits non-zero (the fuzz does when it finds a failure).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BENCH = HERE / "bench"
PY = sys.executable


@dataclass(frozen=True)
class Benchmark:
    """How to run one benchmark: its commands (full and quick) and which lines to show."""

    name: str
    full: tuple                    # argv lists, run in order (compare_time has two steps)
    quick: tuple
    head: int = 0                  # summary: the first ``head`` lines of stdout ...
    tail: int = 3                  # ... and the last ``tail``
    pattern: str = ""              # ... or the lines that match this


def _script(name, *args):
    return [PY, str(BENCH / f"{name}.py"), *args]


def _pairs(out: Path) -> str:
    return str(out / "compare_pairs.pkl")


BENCHMARKS = {b.name: b for b in [
    Benchmark("fuzz_grammar", (_script("fuzz_grammar", "--examples", "1000", "--seed", "0",
                                       "--timeout", "5"),),
              (_script("fuzz_grammar", "--examples", "60", "--seed", "0", "--timeout", "5"),),
              head=5, tail=0, pattern=r"^(failures:|  \[)"),
    Benchmark("fuzz_export", (_script("fuzz_export", "--examples", "300", "--seed", "0",
                                      "--backend", "numpy,numba,jax"),),
              (_script("fuzz_export", "--examples", "40", "--seed", "0", "--backend", "numpy"),),
              head=4, tail=0, pattern=r"^(failures:|- \[)"),
    Benchmark("fuzz_prover", (_script("fuzz_prover"),),
              (_script("fuzz_prover", "--examples", "30"),), tail=4),
    Benchmark("prover_budget", (_script("prover_budget"),),
              (_script("prover_budget", "--max-k", "3"),), tail=1),
    Benchmark("derive_time", (_script("derive_time"),), (_script("derive_time", "--repeat", "1"),),
              head=1, tail=1),
    Benchmark("peer_survey", (_script("peer_survey"),),
              (_script("peer_survey", "--only", "torch.*"),), tail=3),
    Benchmark("compare_time",
              (_script("compare_time", "collect", "{pairs}"), _script("compare_time", "time",
                                                                     "{pairs}")),
              (_script("compare_time", "collect", "{pairs}"),
               _script("compare_time", "time", "{pairs}", "--repeat", "1")), head=1, tail=3),
    Benchmark("numeric.bench", ([PY, "-m", "derive", "bench"],),
              ([PY, "-m", "derive", "bench", "--sizes", "1e3,1e5", "--repeat", "3"],),
              tail=0, pattern=r"^\S+\s+\d"),
    Benchmark("numeric.matrix_bench", ([PY, "-m", "numeric.matrix_bench"],),
              ([PY, "-m", "numeric.matrix_bench", "--repeat", "3"],), tail=6),
    Benchmark("backends", ([PY, "-m", "derive", "bench", "--backend", "numpy,numba,jax",
                            "--sizes", "1e3,1e4,1e5,1e6,1e7", "--repeat", "5"],),
              ([PY, "-m", "derive", "bench", "sigmoid", "gelu", "--backend", "numpy,numba,jax",
                "--threads", "one", "--sizes", "1e3,1e5", "--repeat", "3"],),
              tail=0, pattern=r"^\S+\s+\de[+-]\d+\s"),
    Benchmark("numba_bench", (_script("numba_bench"),),
              (_script("numba_bench", "--layers", "sigmoid,gelu", "--sizes", "1e5",
                       "--repeat", "3"),), tail=6),
    Benchmark("jax_bench", (_script("jax_bench"), _script("jax_bench", "--tensor")),
              (_script("jax_bench", "sigmoid", "gelu", "-n", "1e5", "--repeat", "3"),),
              tail=6),
    Benchmark("numpy_bench", (_script("numpy_bench"),),
              (_script("numpy_bench", "--layers", "sigmoid,gelu", "--sizes", "1e3,1e5",
                       "--repeat", "5", "--no-matrix"),), tail=8),
    Benchmark("numba_tensor_bench", (_script("numba_tensor_bench"),),
              (_script("numba_tensor_bench", "--layers", "layernorm", "--repeat", "3"),),
              tail=6),
]}


def discover() -> dict:
    """Every benchmark to run: the table, plus any bench/*.py script with a __main__ block."""
    found = dict(BENCHMARKS)
    for path in sorted(BENCH.glob("*.py")):
        name = path.stem
        if name == "run_all" or name in found:
            continue
        if re.search(r"^if __name__ == .__main__.:", path.read_text(encoding="utf-8"), re.M):
            found[name] = Benchmark(name, (_script(name),), (_script(name),), tail=3)
    return found


def summary_lines(bench: Benchmark, stdout: str) -> list:
    lines = [s for s in stdout.splitlines() if s.strip()]
    picked = lines[:bench.head] + (lines[-bench.tail:] if bench.tail else [])
    if bench.pattern:
        picked += [s for s in lines[bench.head:] if re.search(bench.pattern, s)][:12]
    return list(dict.fromkeys(picked))


def run(bench: Benchmark, out: Path, quick: bool) -> dict:
    """Run one benchmark's commands in order (stop at the first that fails)."""
    log = out / f"{bench.name}.txt"
    started, code, commands, stdout = time.perf_counter(), 0, [], ""
    for argv in bench.quick if quick else bench.full:
        argv = [a.replace("{pairs}", _pairs(out)) for a in argv]
        commands.append(" ".join(argv))
        print(f"== {bench.name}: {' '.join(argv)}", file=sys.stderr, flush=True)
        code, text, errors = _run(argv)
        with open(log, "a", encoding="utf-8") as f:
            f.write(text)
        stdout += text
        if code != 0:
            break
    summary = summary_lines(bench, stdout)
    if code != 0 and not summary:      # why it failed: the end of its stderr
        summary += [f"stderr: {s}" for s in errors[-3:]]
    return {"name": bench.name, "exit": code, "seconds": round(time.perf_counter() - started, 1),
            "commands": commands, "output": str(log),
            "default arguments": bench.name not in BENCHMARKS, "summary": summary}


def _run(argv) -> tuple:
    """Run ``argv``: its stderr passes through (progress) and its last lines are kept."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        p = subprocess.Popen(argv, cwd=HERE, stdout=out, stderr=subprocess.PIPE, text=True,
                             bufsize=1)
        tail: list = []
        for line in p.stderr:
            sys.stderr.write(line)
            tail = (tail + [line.rstrip()])[-20:]
        code = p.wait()
        out.seek(0)
        return code, out.read(), [s for s in tail if s.strip()]


def format_text(rows: list) -> str:
    lines = []
    for r in rows:
        note = "  (not in run_all's table: default arguments)" if r["default arguments"] else ""
        lines.append(f"{r['name']}: exit {r['exit']}, {r['seconds']:.0f} s  -> {r['output']}{note}")
        lines += [f"    {s}" for s in r["summary"]]
    bad = [r["name"] for r in rows if r["exit"] != 0]
    lines.append(f"{len(rows)} benchmarks, {sum(r['seconds'] for r in rows):.0f} s; "
                 f"exit non-zero: {', '.join(bad) if bad else 'none'}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small arguments: a smoke run")
    ap.add_argument("--only", help="comma-separated benchmark names")
    ap.add_argument("--skip", default="", help="comma-separated benchmark names to leave out")
    ap.add_argument("--out", help="directory for each benchmark's full output (default: a "
                    "new temporary directory)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    table = discover()
    names = [n.strip() for n in (args.only or ",".join(table)).split(",") if n.strip()]
    unknown = [n for n in names + [s for s in args.skip.split(",") if s] if n not in table]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(table)})")
    names = [n for n in names if n not in set(args.skip.split(","))]
    if args.list:
        for n in names:
            b = table[n]
            print(f"{n}: " + " && ".join(" ".join(a) for a in (b.quick if args.quick else b.full)))
        return 0
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="derive-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    for stale in (out / f"{n}.txt" for n in names):
        stale.unlink(missing_ok=True)
    rows = [run(table[n], out, args.quick) for n in names]
    sys.stdout.write(json.dumps(rows, indent=2) + "\n" if args.format == "json"
                     else format_text(rows))
    return 1 if any(r["exit"] != 0 for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
