"""Benchmark: the time of ``compare()`` on the very proofs the engine makes, per catalogue layer.

Two steps, so that two versions of the prover are timed on the same inputs:

    python bench/compare_time.py collect pairs.pkl           # run each derivation, record
                                    # every (a, b) given to compare() or prove_equal()
    python bench/compare_time.py time pairs.pkl [--repeat 5] [--against OLD_CHECKOUT]

``time`` prints, per layer, the median over repeats of the summed compare() time (SymPy's
cache cleared before each repeat). With ``--against``, the other checkout's prover is timed
in a subprocess on the same pairs, interleaved repeat by repeat with this one (a machine
shared with other work then disturbs both alike), and the ratio new/old is printed.
"""
from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def collect(path: str) -> None:
    sys.path.insert(0, str(HERE))
    from derive import catalogue, proof
    from derive.derivation import derive_spec
    import derive.cached as cached
    import derive.steps as steps
    pairs: dict = {}
    current = []
    real_compare, real_prove = proof.compare, proof.prove_equal

    def recording(a, b, **kw):
        current.append((a, b))
        return real_compare(a, b, **kw)

    def recording_prove(a, b, **kw):
        current.append((a, b))
        return real_prove(a, b, **kw)
    proof.compare = cached.compare = recording
    proof.prove_equal = steps.prove_equal = recording_prove
    for name in catalogue.names():
        current = pairs[name] = []
        derive_spec(catalogue.get(name))
    with open(path, "wb") as f:
        pickle.dump(pairs, f)
    print(json.dumps({k: len(v) for k, v in pairs.items()}))


def time_once(path: str, root: str) -> dict:
    """{layer: seconds} for one pass of compare() over every recorded pair."""
    sys.path.insert(0, root)
    from sympy.core.cache import clear_cache
    from derive.proof import compare
    with open(path, "rb") as f:
        pairs = pickle.load(f)
    out = {}
    for name, items in pairs.items():
        clear_cache()
        t = time.perf_counter()
        for a, b in items:
            compare(a, b)
        out[name] = time.perf_counter() - t
    return out


def _run(path: str, root: str) -> dict:
    code = ("import json, sys; sys.path.insert(0, %r); from bench.compare_time import time_once;"
            "print(json.dumps(time_once(%r, %r)))" % (str(HERE), path, root))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["collect", "time"])
    ap.add_argument("pairs")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--against", help="another checkout (its derive/proof.py is timed too)")
    args = ap.parse_args()
    if args.mode == "collect":
        collect(args.pairs)
        return
    runs = {"new": [], "old": []}
    for _ in range(args.repeat):
        runs["new"].append(_run(args.pairs, str(HERE)))
        if args.against:
            runs["old"].append(_run(args.pairs, str(Path(args.against).resolve())))
    layers = list(runs["new"][0])
    med = {k: {n: statistics.median(r[n] for r in v) for n in layers} for k, v in runs.items() if v}
    print(f"{'layer':<20}{'old (s)':>10}{'new (s)':>10}{'new/old':>9}")
    for n in layers:
        old = med.get("old", {}).get(n)
        ratio = f"{med['new'][n] / old:9.2f}" if old else ""
        print(f"{n:<20}{old if old is not None else float('nan'):10.4f}{med['new'][n]:10.4f}{ratio}")
    tot_new = sum(med["new"].values())
    if "old" in med:
        tot_old = sum(med["old"].values())
        print(f"{'total':<20}{tot_old:10.4f}{tot_new:10.4f}{tot_new / tot_old:9.2f}")


if __name__ == "__main__":
    main()
