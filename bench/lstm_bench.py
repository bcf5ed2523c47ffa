"""The exported LSTM cell against the book-style one (numeric/nlp_reference.py), over time.

Forward over T steps then backward over them in reverse, as a time layer runs its cell:
(N, D, H) = (20, 100, 100), T = 35 (issue 10), float64 and float32. Median of repeated
runs in one process, the two implementations interleaved; a ratio below 1 means the
exported cell is faster. The GRU cell is measured the same way.

    python bench/lstm_bench.py [--repeat 15]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from numeric import matrix_generated as gen
from numeric import nlp_reference as ref


def _run(cls, weights, xs, h0, c0, two):
    cells, h, c = [], h0, c0
    for x in xs:
        cell = cls(*weights)
        out = cell.forward(x, h, c) if two else cell.forward(x, h)
        h, c = out if two else (out, None)
        cells.append(cell)
    dh, dc = np.ones_like(h), np.ones_like(h)
    for cell in reversed(cells):
        if two:
            _, dh, dc = cell.backward(dh, dc)
        else:
            _, dh = cell.backward(dh)
    return dh


def bench(name, k, two, dtype, repeat, N=20, D=100, H=100, T=35):
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal(s) * 0.1).astype(dtype) for s in
               ((D, k * H), (H, k * H), (k * H,))]
    xs = [rng.standard_normal((N, D)).astype(dtype) for _ in range(T)]
    h0 = np.zeros((N, H), dtype)
    c0 = np.zeros((N, H), dtype)
    mine, book = getattr(gen, name), getattr(ref, name)
    np.testing.assert_allclose(_run(mine, weights, xs, h0, c0, two),
                               _run(book, weights, xs, h0, c0, two), rtol=1e-4, atol=1e-6)
    times = {"exported": [], "book": []}
    for _ in range(repeat):
        for label, cls in (("exported", mine), ("book", book)):
            start = time.perf_counter()
            _run(cls, weights, xs, h0, c0, two)
            times[label].append(time.perf_counter() - start)
    a, b = statistics.median(times["exported"]), statistics.median(times["book"])
    print(f"{name:5} {np.dtype(dtype).name:8} exported {a * 1e3:7.2f} ms  book {b * 1e3:7.2f} ms"
          f"  ratio {a / b:.2f}")
    return a / b


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    for dtype in (np.float64, np.float32):
        bench("LSTM", 4, True, dtype, args.repeat)
        bench("GRU", 3, False, dtype, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
