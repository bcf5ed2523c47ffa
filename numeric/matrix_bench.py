"""Benchmark: exported backward vs the book-style reference, one process, medians.

    python -m numeric.matrix_bench [--repeat 15]

Prints ratio = exported / reference (below 1 is faster). NumPy only, like all of
``numeric/``: the derivation times of the matrix layers (symbolic in N, D, M, so
independent of the sizes here) are in ``python bench/derive_time.py``.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from numeric import matrix_generated as gen
from numeric import matrix_reference as ref


def _pair(make, repeat):
    """Interleave the two call by call, so load on the machine hits both; medians of each."""
    a_fn, b_fn = make(gen), make(ref)
    a_fn(), b_fn()
    ta, tb = [], []
    for i in range(3 * repeat):
        for fn, times in ((a_fn, ta), (b_fn, tb)) if i % 2 == 0 else ((b_fn, tb), (a_fn, ta)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def cases(rng):
    def affine(N, D, M):
        x, W, b, dout = (rng.standard_normal(s) for s in ((N, D), (D, M), (M,), (N, M)))

        def make(mod):
            layer = mod.Affine(W, b)
            layer.forward(x)
            return lambda: layer.backward(dout)
        return f"affine backward (N,D,M)=({N},{D},{M})", make, 1.05

    def swl(N, C):
        x, t = rng.standard_normal((N, C)), rng.integers(0, C, N)

        def make(mod):
            layer = mod.SoftmaxWithLoss()
            layer.forward(x, t)
            return lambda: layer.backward(1.0)
        return f"softmax_with_loss backward (N,C)=({N},{C})", make, 1.0

    def bn(N, D):
        x, dout = rng.standard_normal((N, D)), rng.standard_normal((N, D))
        g, b = rng.standard_normal(D), rng.standard_normal(D)

        def make(mod):
            layer = mod.BatchNormalization(g, b)
            layer.forward(x)
            return lambda: layer.backward(dout)
        return f"batchnorm backward (N,D)=({N},{D})", make, 1.0

    return [affine(100, 784, 50), affine(1000, 1024, 1024), swl(100, 10), swl(4096, 1000), bn(256, 1024)]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"{'case':48s} {'exported ms':>12s} {'book ms':>10s} {'ratio':>7s} {'goal':>6s}")
    for label, make, goal in cases(rng):
        a, b = _pair(make, args.repeat)
        print(f"{label:48s} {a * 1e3:12.3f} {b * 1e3:10.3f} {a / b:7.2f} {'<=' + str(goal):>6s}")
    print("derivation times (symbolic N, D, M, C): python bench/derive_time.py")


if __name__ == "__main__":
    main()
