"""Does JAX in the same process disturb the NumPy timings of ``derive bench --backend``?

One core, one layer at one size: the NumPy export's class and the book's class,
forward+backward, medians of alternating rounds, first without JAX in the rounds, then with
``jax.jit`` of JAX's own autodiff of the same forward called between them (as
``numeric.backend_bench`` does), and the NumPy class timed right after single JAX calls.

    taskset -c 0 python bench/jax_interference.py --layer bce -n 1e7 --repeat 7

Seen on 2026-12-02 (AMD EPYC, one pinned core), bce at 1e7: NumPy 167.5 ms without JAX in
the rounds, 707.7 ms with it, while the book stayed at 205-206 ms (numpy/book 0.82 -> 3.43);
timed right after single JAX calls, outside the rounds, NumPy's bce took 153-195 ms (median
177), so what slows it in the rounds is not simply following a JAX call. Not understood yet:
XLA's threads do not spin after a call (no CPU ticks while the main thread sleeps), so it is not
thread stealing; memory or allocator state is a guess. The same probe later gave 1.08 against
1.34 (page faults of fresh 80 MB arrays dominate at 1e7 and vary from run to run).

Since then ``derive bench --backend`` never times NumPy with JAX in the process: per thread
setting a JAX-free child gives every backend's ``/book`` and ``/floor`` ratio, a JAX child JAX's
autodiff and the ``/jax`` ratios (``numeric.backend_bench --process``). Its table's last line is
the book's time in the JAX child ÷ in the JAX-free one. This probe keeps both in one process, as
before, to study the effect itself.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from numeric import backend_bench as bb  # noqa: E402
from numeric.bench import alternate  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layer", default="bce")
    p.add_argument("-n", type=float, default=1e7)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    bb.pin_one_core()
    n = int(args.n)
    mods = {"numpy": bb.load_backend("numpy")}
    without = bb.bench_layer(args.layer, n, ["numpy"], args.repeat, modules=dict(mods))
    try:
        mods["jax"] = bb.load_backend("jax")
    except bb.BackendMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with_jax = bb.bench_layer(args.layer, n, ["numpy"], args.repeat, modules=mods)
    for label, r in (("without JAX", without), ("with JAX", with_jax)):
        print(f"{args.layer} n={n:.0e} {label:12s} numpy {r['backends']['numpy']['s'] * 1e3:9.1f} ms"
              f"  book {r['book_s'] * 1e3:9.1f} ms  numpy/book {r['backends']['numpy']['book_ratio']:.2f}")
    from numeric.cases import CASES
    from numeric.reference import PARAMS
    case = CASES[args.layer]
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(*case.domain, n) for _ in case.inputs]
    dout = rng.uniform(-1.0, 1.0, n)
    params = dict(PARAMS.get(args.layer, {}))
    jax_call = bb._jax_call(getattr(mods["jax"], args.layer).fun, params, inputs, dout)
    ours = bb._class_call(bb._class_of(mods["numpy"], args.layer), params, inputs, dout)
    alone = alternate([ours], args.repeat)[0]
    after = []
    for _ in range(args.repeat):
        jax_call()
        t0 = time.perf_counter()
        ours()
        after.append(time.perf_counter() - t0)
    print(f"numpy alone {alone * 1e3:.1f} ms; right after a JAX call: "
          f"{', '.join(f'{t * 1e3:.0f}' for t in after)} ms (median "
          f"{statistics.median(after) * 1e3:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
