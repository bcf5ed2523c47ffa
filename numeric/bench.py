"""Exported (generated) backward vs the hand-coded reference backward, in one process.

For each layer and size N (float64 elements) both layers run ``forward`` once on
the same inputs; then their ``backward(dout)`` calls alternate (the order flips
every round, so drift and cache warmth hit both alike) and the ratio of the
medians exported/reference is reported. The memory-bandwidth floor is the bytes
the backward must move (read ``dout`` and every cached array, write each
gradient: 8 bytes each per element) divided by the bandwidth ``np.copyto``
reaches on arrays of the same size; ``floor_ratio`` is exported time / floor.

Only numpy (and the standard library) is used; the exported code is
:mod:`numeric.generated`.

>>> row = bench_layer("square", 1000, repeat=3)
>>> sorted(row)[:3]
['bytes', 'exported_s', 'floor_ratio']
"""
from __future__ import annotations

import inspect
import statistics
import sys
import time

import numpy as np

from numeric import generated
from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE

__all__ = ["SIZES", "bench_layer", "copy_bandwidth", "run", "format_table"]

SIZES = (1_000, 100_000, 1_000_000, 10_000_000)


def _exported_class(name: str):
    for obj in vars(generated).values():
        if inspect.isclass(obj) and obj.__name__ == REFERENCE[name].__name__:
            return obj
    raise KeyError(f"numeric.generated has no class for {name}")


def _arrays_read(name: str) -> int:
    """dout plus the cached arrays: the backward function's parameters without defaults."""
    fn = getattr(generated, f"{name}_backward")
    return sum(1 for p in inspect.signature(fn).parameters.values()
               if p.default is inspect.Parameter.empty)


def copy_bandwidth(n: int, repeat: int = 10) -> float:
    """Bytes per second of ``np.copyto`` (read n + write n float64), median of ``repeat``."""
    src, dst = np.random.default_rng(1).standard_normal(n), np.empty(n)
    np.copyto(dst, src)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return 16.0 * n / statistics.median(times)


def bench_layer(name: str, n: int, repeat: int = 10, bandwidth: float | None = None,
                seed: int = 0) -> dict:
    """Median backward times (seconds) of exported and reference layer at ``n`` elements."""
    case = CASES[name]
    rng = np.random.default_rng(seed)
    lo, hi = case.domain
    inputs = [rng.uniform(lo, hi, n) for _ in case.inputs]
    dout = rng.uniform(-1.0, 1.0, n)
    params = PARAMS.get(name, {})
    exported, reference = _exported_class(name)(**params), REFERENCE[name](**params)
    exported.forward(*inputs)
    reference.forward(*inputs)
    exported.backward(dout)  # warm up both
    reference.backward(dout)
    t_exp, t_ref = [], []
    for i in range(repeat):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            layer, bucket = ((exported, t_exp), (reference, t_ref))[which]
            t0 = time.perf_counter()
            layer.backward(dout)
            bucket.append(time.perf_counter() - t0)
    e, r = statistics.median(t_exp), statistics.median(t_ref)
    nbytes = 8 * n * (_arrays_read(name) + len(case.inputs))
    bw = bandwidth if bandwidth is not None else copy_bandwidth(n)
    floor = nbytes / bw
    return {"layer": name, "n": n, "exported_s": e, "reference_s": r, "ratio": e / r,
            "bytes": nbytes, "floor_s": floor, "floor_ratio": e / floor}


def run(layers=None, sizes=SIZES, repeat: int = 10, progress=sys.stderr) -> dict:
    """Every (layer, size); returns {"bandwidth": {n: B/s}, "rows": [...]}."""
    layers = list(layers or REFERENCE)
    bandwidth = {n: copy_bandwidth(n, max(repeat, 10)) for n in sizes}
    rows = []
    for n in sizes:
        for name in layers:
            if progress is not None:
                print(f"bench {name} N={n:.0e} ...", file=progress, flush=True)
            rows.append(bench_layer(name, n, repeat, bandwidth[n]))
    return {"repeat": repeat, "bandwidth": bandwidth, "rows": rows}


def format_table(result: dict) -> str:
    """Layers down, exported/reference ratio per N across, and the floor ratio at the largest N."""
    rows = result["rows"]
    sizes = sorted({r["n"] for r in rows})
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    by = {(r["layer"], r["n"]): r for r in rows}
    big = sizes[-1]
    head = ["layer"] + [f"N={n:.0e}" for n in sizes] + [f"floor x @{big:.0e}", f"ms @{big:.0e}"]
    lines = [head]
    for name in layers:
        lines.append([name] + [f"{by[name, n]['ratio']:.2f}" for n in sizes]
                     + [f"{by[name, big]['floor_ratio']:.2f}",
                        f"{1e3 * by[name, big]['exported_s']:.2f}"])
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(r, widths))) for r in lines]
    bw = ", ".join(f"{n:.0e}: {b / 1e9:.1f} GB/s" for n, b in sorted(result["bandwidth"].items()))
    text.append(f"ratio = exported/reference backward, median of {result['repeat']}; "
                f"copyto bandwidth {bw}")
    return "\n".join(text)
