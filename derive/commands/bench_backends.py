"""``derive bench --backend numpy,numba,jax``: the backends side by side.

Each measurement runs in a child process (:mod:`numeric.backend_bench`), so the thread
pools can be set before NumPy, numba or JAX start:

* ``one``: pinned to one core, every pool at one thread
  (:data:`numeric.backend_bench.ONE_THREAD_ENV`; ``XLA_FLAGS`` alone still lets XLA use
  3-4 threads, hence the pinning);
* ``shipped``: as the libraries come, nothing pinned (JAX then uses every core).

Within each child every ratio is of times measured in that process, calls alternating,
medians. The table: a backend's forward+backward ÷ the book's class, ÷ ``jax.jit`` of
JAX's own autodiff (one thread, and as shipped), ÷ the memory floor (warm buffers) and
÷ the same floor returning fresh arrays; lower is better.

>>> rows = [{"layer": "gelu", "n": 100000, "repeat": 10, "book_s": 2e-3, "floor_s": 1e-4,
...          "fresh_floor_s": 2e-4, "jax_autodiff_s": 5e-4, "backends": {"numba": {
...          "s": 4e-4, "first_s": 0.9, "book_ratio": 0.2, "floor_ratio": 4.0,
...          "fresh_floor_ratio": 2.0, "jax_ratio": 0.8}}}]
>>> print(format_table({"one": rows, "shipped": []}))  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
layer  N      backend  ms     /book  /jax 1t  /jax shipped  /floor  /fresh floor  first s
gelu   1e+05  numba    0.400  0.20   0.80     -             4.00    2.00          0.90
...
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from ..errors import DeriveError

__all__ = ["THREADS", "MALLOC", "measure", "format_table"]

THREADS = ("one", "shipped")
MALLOC = ("fixed", "dynamic")


def _child(layers, sizes, backends, repeat, threads, progress, malloc="dynamic") -> list:
    from numeric.backend_bench import FIXED_MALLOC_ENV, ONE_THREAD_ENV
    env = dict(os.environ)
    if malloc == "fixed":
        env.update(FIXED_MALLOC_ENV)
    else:
        for k in FIXED_MALLOC_ENV:
            env.pop(k, None)
    cmd = [sys.executable, "-m", "numeric.backend_bench", "--json",
           "--backends", ",".join(backends), "--layers", ",".join(layers),
           "--sizes", ",".join(str(n) for n in sizes), "--repeat", str(repeat)]
    if threads == "one":
        env.update(ONE_THREAD_ENV)
        cmd.append("--one-thread")
    else:
        for k in ONE_THREAD_ENV:
            env.pop(k, None)
    if progress is not None:
        print(f"bench: {threads} thread{'' if threads == 'one' else 's'} "
              f"({'pinned to one core' if threads == 'one' else 'as shipped'}) ...",
              file=progress, flush=True)
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                          stderr=None if progress is not None else subprocess.PIPE, text=True)
    if done.returncode != 0:
        why = (done.stderr or "").strip().splitlines()
        raise DeriveError(f"bench --backend ({threads}): "
                          f"{why[-1] if why else 'the benchmark process failed'}")
    return json.loads(done.stdout)


def measure(layers, sizes, backends, repeat, threads=THREADS, progress=None,
            malloc="dynamic") -> dict:
    """``{"one": rows, "shipped": rows, "processes": {...}}`` from :mod:`numeric.backend_bench`
    children; ``processes`` says how each child ran (cores it could use, its thread settings,
    its malloc setting). ``progress``: a stream for progress lines (the children's stderr goes
    there too), or None to keep quiet. ``malloc``: ``dynamic`` runs the children under glibc's
    adaptive mmap threshold (as a long-running process has it), ``fixed`` under a fixed one
    (:data:`numeric.backend_bench.FIXED_MALLOC_ENV`: each fresh array of 128 KiB or more
    page-faults in, whatever ran before: the worst case for code that makes temporaries)."""
    if malloc not in MALLOC:
        raise DeriveError(f"--malloc {malloc}: fixed or dynamic")
    result, processes = {}, {}
    for t in THREADS:
        child = (_child(layers, sizes, backends, repeat, t, progress, malloc)
                 if t in threads else None)
        result[t] = child["rows"] if child else []
        if child:
            processes[t] = {k: child.get(k) for k in ("cores", "core", "threads_env",
                                                      "malloc_env")}
            processes[t]["malloc"] = malloc
    result["processes"] = processes
    return result


def _fmt(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_table(result: dict) -> str:
    """One line per (layer, N, backend), lower is better; the legend below."""
    one, shipped = result.get("one", []), result.get("shipped", [])
    base = one or shipped
    far = {(r["layer"], r["n"]): r for r in shipped}
    head = ["layer", "N", "backend", "ms", "/book", "/jax 1t", "/jax shipped", "/floor",
            "/fresh floor", "first s"]
    lines = [head]
    for r in base:
        other = far.get((r["layer"], r["n"]))
        for b, v in r["backends"].items():
            js = other["backends"][b]["jax_ratio"] if other and b in other["backends"] else None
            lines.append([r["layer"], f"{r['n']:.0e}", b, f"{1e3 * v['s']:.3f}",
                          _fmt(v["book_ratio"]), _fmt(v["jax_ratio"] if one else None),
                          _fmt(js), _fmt(v["floor_ratio"]),
                          _fmt(v.get("fresh_floor_ratio")), _fmt(v["first_s"])])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in lines]
    repeat = base[0]["repeat"] if base else 0
    text += [
        f"forward+backward, float64, median of {repeat} rounds, calls alternating; "
        "ratio = backend time / baseline time: lower is better, below 1.00 faster",
        "ms: the backend's time (one thread when measured so); /book: the book's class; "
        "/jax 1t: jax.jit of JAX's own autodiff (jax.vjp) of the same forward, one thread, "
        "one core;",
        "/jax shipped: the same in a process as the libraries come (JAX on every core); "
        "/floor: the memory-bandwidth floor (forward copies x into an array written "
        "before, backward one multiply per gradient into such an array: no page faults, "
        "as numba's pooled buffers have none); /fresh floor: the same into fresh arrays, as "
        "a function returning new arrays must (from ~1e6 their pages fault in: a cost that "
        "varies from run to run);",
        "first s: the first call (numba and JAX compile then; numba caches to disk), "
        "not in the medians",
    ]
    return "\n".join(text)
