"""Exported (generated) backward vs the hand-coded reference backward, in one process.

For each layer and size N (float64 elements) both layers run ``forward`` once on
the same inputs; then their ``backward(dout)`` calls alternate (the order flips
every round, so drift and cache warmth hit both alike) and the ratio of the
medians exported/reference is reported. The exported classes may compute more in
``forward`` than the reference does (a whole local factor instead of ``out``), so
at the largest N the ratio of forward+backward medians is reported too.

The memory floor counts, for each class separately, the bytes its backward
actually moves: ``dout`` and every array the class cached in ``forward`` are read
(a bool mask is 1 byte per element, a float64 array 8) and every returned gradient
is written (8 bytes per element). Two bandwidths turn bytes into a floor time:

* ``floor x``: the bandwidth of ``np.copyto`` into an array written before (warm
  pages); no backward that returns a new array can reach it, since the first write
  to a fresh array page-faults every page in (the kernel zeroes it);
* ``fresh x``: the bandwidth of ``np.multiply(a, b, out=np.empty(n))`` counted as
  24 bytes per element: the cheapest backward that must return a new array (the
  book's API) includes those first-touch faults. ~1.0 means at the floor.

Only numpy (and the standard library) is used; the exported code is
:mod:`numeric.generated`.

>>> row = bench_layer("square", 1000, repeat=3)
>>> sorted(row)[:4]
['bytes', 'exported_s', 'floor_ratio', 'floor_s']
"""
from __future__ import annotations

import inspect
import random
import statistics
import sys
import time

import numpy as np

from numeric import generated
from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE

__all__ = ["SIZES", "bench_layer", "exported_class", "alternate", "copy_bandwidth", "fresh_bandwidth", "backward_bytes",
           "run", "format_table"]

SIZES = (1_000, 100_000, 1_000_000, 10_000_000)


def exported_class(name: str, module=generated):
    """The class of layer ``name`` in a generated module (the one named as its reference)."""
    for obj in vars(module).values():
        if inspect.isclass(obj) and obj.__name__ == REFERENCE[name].__name__:
            return obj
    raise KeyError(f"{module.__name__} has no class {REFERENCE[name].__name__} ({name})")


def backward_bytes(layer, dout: np.ndarray, grads) -> int:
    """Bytes one ``backward`` moves: read dout and every cached array, write each gradient.

    Every array the class holds after ``forward`` is one its backward reads (true of the
    reference and the generated classes), counted at its own itemsize (bool: 1).
    """
    grads = grads if isinstance(grads, tuple) else (grads,)
    cached = sum(v.nbytes for v in vars(layer).values() if isinstance(v, np.ndarray))
    return dout.nbytes + cached + sum(np.asarray(g).nbytes for g in grads)


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


def fresh_bandwidth(n: int, repeat: int = 10) -> float:
    """Bytes per second of ``np.multiply(a, b, out=np.empty(n))`` (24 bytes per element),
    first-touch page faults of the new array included, median of ``repeat``."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    np.multiply(a, b, out=np.empty(n))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.multiply(a, b, out=np.empty(n))
        times.append(time.perf_counter() - t0)
    return 24.0 * n / statistics.median(times)


def alternate(calls, repeat: int, seed: int = 0):
    """Median seconds of each zero-argument call, the calls alternating.

    Two calls flip order every round, so each follows the other and itself equally often.
    With more, each round is a fresh (seeded) shuffle: a fixed order would leave a call
    always right after the same neighbour, and what runs before matters (after a 20 ms
    NumPy call evicted the caches and let XLA's worker sleep, the next jax call took 1.5-2x
    its time after a short one, so a fixed order gave JAX-vs-JAX ratios of 1.5).

    >>> seen = []
    >>> _ = alternate([lambda: seen.append("a"), lambda: seen.append("b")], 4)
    >>> "".join(seen)
    'abbaabba'
    """
    times = [[] for _ in calls]
    shuffle = random.Random(seed).shuffle
    for i in range(repeat):
        if len(calls) <= 2:
            order = list(range(len(calls))) if i % 2 == 0 else list(reversed(range(len(calls))))
        else:
            order = list(range(len(calls)))
            shuffle(order)
        for k in order:
            t0 = time.perf_counter()
            calls[k]()
            times[k].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def bench_layer(name: str, n: int, repeat: int = 10, bandwidth: float | None = None,
                seed: int = 0, fresh: float | None = None, forward: bool = False) -> dict:
    """Median backward times (seconds) of exported and reference layer at ``n`` elements.

    ``forward=True`` also times ``forward`` (alternating the same way) for the
    forward+backward ratio.
    """
    case = CASES[name]
    rng = np.random.default_rng(seed)
    lo, hi = case.domain
    inputs = [rng.uniform(lo, hi, n) for _ in case.inputs]
    dout = rng.uniform(-1.0, 1.0, n)
    params = PARAMS.get(name, {})
    exported, reference = exported_class(name)(**params), REFERENCE[name](**params)
    row = {"layer": name, "n": n}
    if forward:
        fe, fr = alternate([lambda: exported.forward(*inputs),
                             lambda: reference.forward(*inputs)], repeat)
        row.update(forward_exported_s=fe, forward_reference_s=fr)
    exported.forward(*inputs)
    reference.forward(*inputs)
    nbytes = backward_bytes(exported, dout, exported.backward(dout))  # also warms up both
    ref_bytes = backward_bytes(reference, dout, reference.backward(dout))
    e, r = alternate([lambda: exported.backward(dout), lambda: reference.backward(dout)], repeat)
    bw = bandwidth if bandwidth is not None else copy_bandwidth(n)
    fbw = fresh if fresh is not None else fresh_bandwidth(n)
    row.update(exported_s=e, reference_s=r, ratio=e / r, bytes=nbytes, reference_bytes=ref_bytes,
               floor_s=nbytes / bw, floor_ratio=e * bw / nbytes,
               fresh_floor_s=nbytes / fbw, fresh_ratio=e * fbw / nbytes)
    if forward:
        row["fb_ratio"] = (row["forward_exported_s"] + e) / (row["forward_reference_s"] + r)
    return row


def run(layers=None, sizes=SIZES, repeat: int = 10, progress=sys.stderr) -> dict:
    """Every (layer, size); returns {"bandwidth": {n: B/s}, "fresh_bandwidth": ..., "rows": [...]}."""
    layers = list(layers or REFERENCE)
    bandwidth = {n: copy_bandwidth(n, max(repeat, 10)) for n in sizes}
    fresh = {n: fresh_bandwidth(n, max(repeat, 10)) for n in sizes}
    rows = []
    for n in sizes:
        for name in layers:
            if progress is not None:
                print(f"bench {name} N={n:.0e} ...", file=progress, flush=True)
            rows.append(bench_layer(name, n, repeat, bandwidth[n], fresh=fresh[n],
                                    forward=n == max(sizes)))
    return {"repeat": repeat, "bandwidth": bandwidth, "fresh_bandwidth": fresh, "rows": rows}


def format_table(result: dict) -> str:
    """Layers down, exported/reference ratio per N across, then at the largest N the
    forward+backward ratio, the two floor ratios, bytes per element and milliseconds."""
    rows = result["rows"]
    sizes = sorted({r["n"] for r in rows})
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    by = {(r["layer"], r["n"]): r for r in rows}
    big = sizes[-1]
    head = (["layer"] + [f"N={n:.0e}" for n in sizes]
            + [f"f+b @{big:.0e}", "floor x", "fresh x", "B/elem", f"ms @{big:.0e}"])
    lines = [head]
    for name in layers:
        b = by[name, big]
        lines.append([name] + [f"{by[name, n]['ratio']:.2f}" for n in sizes]
                     + [f"{b['fb_ratio']:.2f}" if "fb_ratio" in b else "-",
                        f"{b['floor_ratio']:.2f}", f"{b['fresh_ratio']:.2f}",
                        f"{b['bytes'] / big:g}/{b['reference_bytes'] / big:g}",
                        f"{1e3 * b['exported_s']:.2f}"])
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(r, widths))) for r in lines]
    bw = ", ".join(f"{n:.0e}: {b / 1e9:.1f}" for n, b in sorted(result["bandwidth"].items()))
    fbw = ", ".join(f"{n:.0e}: {b / 1e9:.1f}"
                    for n, b in sorted(result.get("fresh_bandwidth", {}).items()))
    text += [
        f"N=...: exported/reference backward, median of {result['repeat']} alternating calls; "
        f"f+b, floor x, fresh x, B/elem, ms: at N={big:.0e}; f+b: the ratio for forward+backward",
        "B/elem: bytes per element the backward reads (dout, each cached array: bool 1, "
        "float64 8) and writes (8 per gradient), exported/reference",
        f"floor x: exported time / (bytes / np.copyto bandwidth into a warm array; "
        f"GB/s {bw})",
        f"fresh x: exported time / (bytes / bandwidth of np.multiply(a, b, out=np.empty(n)); "
        f"GB/s {fbw})",
        "  a backward must return a new array (the book's API), and the first write to its "
        "pages page-faults them in:",
        "  floor x counts that cost against the code, fresh x does not; "
        "fresh x ~1.0 is the floor for a fresh result",
    ]
    return "\n".join(text)
