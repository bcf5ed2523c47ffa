"""Benchmark: the hang families of issue 9 under the prover's budget, k = 1..10.

Each case is ``derive show --expr FORMULA --timeout T`` in a fresh process (wall time,
imports included). A case answers when it exits 0 (proven) or 3 (could not prove, or not
within the time budget); anything else, or running past ``T + 2`` seconds, is a failure.

    python bench/prover_budget.py [--timeout 3] [--max-k 10] [--families tanh,exp]
                                  [--format text|json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _nest(k: int, wrap) -> str:
    e = "x"
    for _ in range(k):
        e = wrap(e)
    return e


def _where(k: int) -> str:
    """np.where nested k deep in a branch: f_j = np.where(x > j - 1, f_(j-1), j*x)."""
    e = "x"
    for j in range(1, k + 1):
        e = f"np.where(x > {j - 1}, {e}, {j}*x)"
    return e


FAMILIES = {
    "tanh": lambda k: _nest(k, lambda u: f"np.tanh({u})"),
    "sigmoid": lambda k: _nest(k, lambda u: f"1/(1 + np.exp(-({u})))"),
    "where": lambda k: _where(k),
    "relu_sum": lambda k: " + ".join(f"np.maximum(0, x - {i})" for i in range(1, k + 1)),
    "exp": lambda k: _nest(k, lambda u: f"np.exp({u})"),
}


def run_case(formula: str, timeout: float) -> dict:
    env = {**os.environ, "DERIVE_TIMEOUT": str(timeout), "PYTHONPATH": str(HERE)}
    t = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "derive", "show", "--expr", formula,
                               "--timeout", str(timeout)], capture_output=True, text=True,
                              env=env, timeout=timeout + 30)
        code, err = done.returncode, done.stderr.strip().splitlines()
    except subprocess.TimeoutExpired:
        code, err = None, ["HUNG (killed)"]
    seconds = time.perf_counter() - t
    verdict = {0: "proven", 3: "exit 3"}.get(code, f"FAILED (exit {code})")
    if code == 3 and err and "time budget" in err[-1]:
        verdict = "exit 3, budget"
    ok = code in (0, 3) and seconds <= timeout + 0.25
    return {"seconds": round(seconds, 3), "exit": code, "verdict": verdict, "ok": ok,
            "message": err[-1][:160] if err else ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--max-k", type=int, default=10)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args()
    report = {}
    for fam in args.families.split(","):
        report[fam] = {}
        for k in range(1, args.max_k + 1):
            row = run_case(FAMILIES[fam](k), args.timeout)
            report[fam][k] = row
            print(f"  {fam:<9} k={k:<3} {row['seconds']:6.2f} s  {row['verdict']}",
                  file=sys.stderr)
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return
    ks = range(1, args.max_k + 1)
    print(f"seconds per case (wall, fresh process), --timeout {args.timeout:g}; "
          "P proven, B exit 3 out of budget, X exit 3 other, ! not answered in time")
    print(f"{'family':<10}" + "".join(f"{k:>8}" for k in ks))
    for fam, rows in report.items():
        cells = []
        for k in ks:
            r = rows[k]
            mark = {"proven": "P", "exit 3, budget": "B", "exit 3": "X"}.get(r["verdict"], "?")
            cells.append(f"{r['seconds']:6.2f}{mark if r['ok'] else '!'}{' '}")
        print(f"{fam:<10}" + "".join(f"{c:>8}" for c in cells))
    bad = [(f, k) for f, rows in report.items() for k, r in rows.items() if not r["ok"]]
    print(f"cases not answered within the budget: {len(bad)}" + (f" {bad}" if bad else ""))


if __name__ == "__main__":
    main()
