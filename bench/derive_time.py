"""Benchmark: `derive show sigmoid` cold wall time, and per-layer derivation time after import.

Goals (issue 8): cold ≤ 1.5 s; each catalogue layer ≤ 2 s. Medians; SymPy's cache is cleared
before every timed derivation so a repeat does not ride on the previous one.

    python bench/derive_time.py [--repeat 5] [--format text|json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too


def cold(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "derive", "show", "sigmoid"], check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def per_layer(repeat: int) -> dict:
    from sympy.core.cache import clear_cache

    from derive import catalogue
    from derive.derivation import derive_spec
    names = list(catalogue.names())
    result = {}
    for name in names:
        times = []
        for _ in range(repeat):
            clear_cache()
            t = time.perf_counter()
            derive_spec(catalogue.get(name))
            times.append(time.perf_counter() - t)
        result[name] = statistics.median(times)
        print(f"  {name:<18} {result[name]:.3f} s", file=sys.stderr)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args()
    report = {"cold_show_sigmoid_s": cold(args.repeat), "per_layer_s": per_layer(args.repeat)}
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return
    print(f"derive show sigmoid, cold (median of {args.repeat}): "
          f"{report['cold_show_sigmoid_s']:.3f} s   (goal ≤ 1.5 s)")
    slow = max(report["per_layer_s"].items(), key=lambda kv: kv[1])
    print("per-layer derivation after import (median, cache cleared):")
    for name, t in report["per_layer_s"].items():
        print(f"  {name:<18} {t:.3f} s")
    print(f"slowest: {slow[0]} {slow[1]:.3f} s   (goal ≤ 2 s each)")


if __name__ == "__main__":
    main()
