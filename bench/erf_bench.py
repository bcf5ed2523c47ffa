"""Benchmark: ``numeric.special.erf`` and the exported GELU (which carries it) against another
checkout's, in one process, interleaved repeat by repeat, medians.

    git worktree add /tmp/derive-old <older commit>
    python bench/erf_bench.py --against /tmp/derive-old [--repeat 15]

Prints, per size, this checkout ÷ the other for ``erf``, ``gelu_backward`` and the ``Gelu``
class's forward+backward (lower is better), after checking the two agree (absolute
difference ≤ 1e-14: the values are of order 1, relative error near a zero of the
derivative says nothing).
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _median_ratio(new, old, repeat: int) -> float:
    times = {"new": [], "old": []}
    for _ in range(repeat):
        for key, f in (("new", new), ("old", old)):
            t = time.perf_counter()
            f()
            times[key].append(time.perf_counter() - t)
    return statistics.median(times["new"]) / statistics.median(times["old"])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", required=True, type=Path, help="the other checkout")
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--sizes", default="1e4,1e5,1e6")
    args = p.parse_args(argv)
    mine = {"special": _load(HERE / "numeric/special.py", "special_new"),
            "gen": _load(HERE / "numeric/generated.py", "generated_new")}
    theirs = {"special": _load(args.against / "numeric/special.py", "special_old"),
              "gen": _load(args.against / "numeric/generated.py", "generated_old")}
    rng = np.random.default_rng(0)
    print("size      erf   gelu_backward   Gelu fwd+bwd   (this ÷ other, lower is better)")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        x, d = rng.normal(0.0, 1.5, size), rng.normal(size=size)
        a, b = mine["gen"].gelu_backward(d, x), theirs["gen"].gelu_backward(d, x)
        assert np.max(np.abs(a - b)) <= 1e-14, "the two checkouts disagree"
        assert np.max(np.abs(mine["special"].erf(x) - theirs["special"].erf(x))) <= 1e-15
        new_layer, old_layer = mine["gen"].Gelu(), theirs["gen"].Gelu()
        ratios = [
            _median_ratio(lambda: mine["special"].erf(x), lambda: theirs["special"].erf(x),
                          args.repeat),
            _median_ratio(lambda: mine["gen"].gelu_backward(d, x),
                          lambda: theirs["gen"].gelu_backward(d, x), args.repeat),
            _median_ratio(lambda: (new_layer.forward(x), new_layer.backward(d)),
                          lambda: (old_layer.forward(x), old_layer.backward(d)), args.repeat)]
        print(f"{size:<8.0e} " + "   ".join(f"{r:12.2f}" for r in ratios))


if __name__ == "__main__":
    main()
