"""``derive bench --backend numpy,numba,jax``: the backends side by side.

Each measurement runs in child processes (:mod:`numeric.backend_bench`), so the thread
pools can be set before NumPy, numba or JAX start:

* ``one``: pinned to one core, every pool at one thread
  (:data:`numeric.backend_bench.ONE_THREAD_ENV`; ``XLA_FLAGS`` alone still lets XLA use
  3-4 threads, hence the pinning);
* ``shipped``: as the libraries come, nothing pinned (JAX then uses every core).

Per thread setting two children, since JAX's autodiff in the same rounds slowed NumPy's
forward+backward at 1e7 by up to 4x while the book's class stayed put
(``bench/jax_interference.py``):

* the JAX-free child (``--process jax-free``): the book, the floors, numpy, numba and
  numba's ``<layer>_vjp``; jax is never imported there (checked in its ``sys.modules``
  at the end; otherwise a :class:`DeriveError`). The times and every ratio to the book
  and the floors of these backends come from it;
* the JAX child (``--process jax``), when jax is asked for, or numba is and jax can be
  imported: JAX's autodiff, the jax backend, numba and its vjp, the book and the floors.
  Every ``/jax`` ratio is of two times of this child; so are the jax backend's ``/book``
  and ``/floor`` (it can run nowhere else). NumPy's backend has no ``/jax``.

Within each child every ratio is of times measured in that process, calls alternating,
medians; :func:`merge_rows` joins the two children's rows. The table: a backend's
forward+backward ÷ the book's class, ÷ ``jax.jit`` of JAX's own autodiff (one thread, and
as shipped), ÷ the memory floor (warm buffers) and ÷ the same floor returning fresh
arrays; lower is better.

>>> rows = [{"layer": "gelu", "n": 100000, "repeat": 10, "book_s": 2e-3, "floor_s": 1e-4,
...          "fresh_floor_s": 2e-4, "jax_autodiff_s": 5e-4, "backends": {"numba": {
...          "s": 4e-4, "first_s": 0.9, "book_ratio": 0.2, "floor_ratio": 4.0,
...          "fresh_floor_ratio": 2.0, "jax_ratio": 0.8, "s_jax_process": 4.5e-4}}}]
>>> print(format_table({"one": rows, "shipped": []}))  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
layer  N      backend  ms     /book  /jax 1t  /jax split  /jax shipped  /floor  /fresh floor  first s  ms jax child
gelu   1e+05  numba    0.400  0.20   0.80     -           -             4.00    2.00          0.90     0.450
...
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from ..errors import DeriveError

__all__ = ["THREADS", "MALLOC", "measure", "merge_rows", "format_table"]

THREADS = ("one", "shipped")
MALLOC = ("fixed", "dynamic")
_CHILD = {"jax-free": ("jax_free", "JAX-free child"), "jax": ("jax", "JAX child")}
_BASELINES = ("book_s", "floor_s", "fresh_floor_s", "jax_autodiff_s", "jax_split_s")


def _env(threads, malloc) -> dict:
    from numeric.backend_bench import FIXED_MALLOC_ENV, ONE_THREAD_ENV
    env = dict(os.environ)
    for chosen, settings in ((malloc == "fixed", FIXED_MALLOC_ENV),
                             (threads == "one", ONE_THREAD_ENV)):
        if chosen:
            env.update(settings)
        else:
            for k in settings:
                env.pop(k, None)
    return env


def _child(layers, sizes, backends, repeat, threads, process, progress, malloc) -> dict:
    """The JSON of one ``python -m numeric.backend_bench --process ...`` child."""
    from numeric.backend_bench import JAX_FREE, backends_in
    label = _CHILD[process][1]
    mine = backends_in(process, backends)
    cmd = [sys.executable, "-m", "numeric.backend_bench", "--json", "--process", process,
           "--backends", ",".join(mine), "--layers", ",".join(layers),
           "--sizes", ",".join(str(n) for n in sizes), "--repeat", str(repeat)]
    if threads == "one":
        cmd.append("--one-thread")
    if progress is not None:
        what = ["the book", *mine, "floors"]
        if process != JAX_FREE:
            what.insert(0, "JAX's autodiff")
        print(f"bench: {threads} thread{'' if threads == 'one' else 's'} "
              f"({'pinned to one core' if threads == 'one' else 'as shipped'}), {label} "
              f"({', '.join(what)}) ...", file=progress, flush=True)
    done = subprocess.run(cmd, env=_env(threads, malloc), stdout=subprocess.PIPE,
                          stderr=None if progress is not None else subprocess.PIPE, text=True)
    if done.returncode != 0:
        why = (done.stderr or "").strip().splitlines()
        raise DeriveError(f"bench --backend ({threads}, {label}): "
                          f"{why[-1] if why else 'the benchmark process failed'}")
    got = json.loads(done.stdout)
    if process == JAX_FREE and got.get("jax_imported", True):
        raise DeriveError(f"bench --backend ({threads}, {label}): jax was imported there, so "
                          "its ratios to the book and the floors are not JAX-free")
    return got


def _wants_jax_child(backends) -> bool:
    """jax asked for, or numba and jax importable (for numba ÷ JAX's autodiff)."""
    return "jax" in backends or ("numba" in backends and
                                 importlib.util.find_spec("jax") is not None)


# a backend's rounds of its own with JAX's autodiff, in the JAX child (its jax_ratio's times)
_PAIRED = ("jax_ratio_shuffled", "pair_s", "pair_autodiff_s")


def merge_rows(free_rows, jax_rows) -> list:
    """One row per (layer, N) of the JAX-free child's rows and the JAX child's.

    The row's baselines and each backend's ``s``, ``first_s``, ``/book`` and ``/floor``
    ratios come from the JAX-free child, where the backend ran there (``process``:
    ``jax-free``), else from the JAX child (``process``: ``jax``); ``jax_ratio`` and
    ``jax_split_ratio`` always from the JAX child (with the times of the paired rounds
    ``jax_ratio`` is made of, when it has them), and ``s_jax_process`` is the backend's time there. ``jax_process``:
    the JAX child's book, floors and JAX's autodiff.

    >>> free = [{"layer": "tanh", "n": 10, "book_s": 2.0, "floor_s": 1.0, "fresh_floor_s": 1.0,
    ...          "jax_autodiff_s": None, "backends": {"numba": {"s": 1.0, "book_ratio": 0.5,
    ...          "jax_ratio": None}}}]
    >>> withjax = [{"layer": "tanh", "n": 10, "book_s": 3.0, "floor_s": 1.0,
    ...             "fresh_floor_s": 1.0, "jax_autodiff_s": 4.0, "backends": {"numba": {
    ...             "s": 2.0, "book_ratio": 0.67, "jax_ratio": 0.5}}}]
    >>> v = merge_rows(free, withjax)[0]["backends"]["numba"]
    >>> v["s"], v["book_ratio"], v["jax_ratio"], v["s_jax_process"], v["process"]
    (1.0, 0.5, 0.5, 2.0, 'jax-free')
    """
    by_cell = {(r["layer"], r["n"]): r for r in jax_rows}
    merged = []
    for r in free_rows:
        j = by_cell.get((r["layer"], r["n"]))
        there = j["backends"] if j else {}
        row = {k: v for k, v in r.items() if k not in ("backends", "timed")}
        row["jax_autodiff_s"] = j["jax_autodiff_s"] if j else None
        row["jax_split_s"] = j.get("jax_split_s") if j else None
        row["jax_process"] = {k: j.get(k) for k in _BASELINES} if j else None
        row["backends"] = {}
        for b in dict.fromkeys([*r["backends"], *there]):
            w = there.get(b)
            if b in r["backends"]:
                v = {**r["backends"][b], "process": "jax-free",
                     "jax_ratio": w["jax_ratio"] if w else None,
                     "jax_split_ratio": w.get("jax_split_ratio") if w else None,
                     **{k: w[k] for k in _PAIRED if w and k in w}}
            else:
                v = {**w, "process": "jax"}
            v["s_jax_process"] = w["s"] if w else None
            row["backends"][b] = v
        merged.append(row)
    return merged


def _described(child, malloc) -> dict:
    info = {k: child.get(k) for k in ("cores", "core", "threads_env", "malloc_env",
                                      "jax_imported")}
    info["malloc"] = malloc
    info["measured"] = child["rows"][0]["timed"] if child["rows"] else []
    if child.get("jax_missing"):
        info["skipped"] = child["jax_missing"]
    return info


def measure(layers, sizes, backends, repeat, threads=THREADS, progress=None,
            malloc="dynamic") -> dict:
    """``{"one": rows, "shipped": rows, "processes": {...}}`` from :mod:`numeric.backend_bench`
    children, each thread setting's rows merged (:func:`merge_rows`) from its JAX-free
    child and, when wanted, its JAX child; ``processes`` says how each thread setting's
    children ran (cores they could use, thread settings, malloc setting: the JAX-free
    child's at the top) and, under ``children``, what each child timed (``measured``) and
    whether jax was imported in it. ``progress``: a stream for progress lines (the children's
    stderr goes there too), or None to keep quiet. ``malloc``: ``dynamic`` runs the children
    under glibc's adaptive mmap threshold (as a long-running process has it), ``fixed``
    under a fixed one (:data:`numeric.backend_bench.FIXED_MALLOC_ENV`: each fresh array of
    128 KiB or more page-faults in, whatever ran before: the worst case for code that makes
    temporaries)."""
    if malloc not in MALLOC:
        raise DeriveError(f"--malloc {malloc}: fixed or dynamic")
    result, processes = {}, {}
    for t in THREADS:
        if t not in threads:
            result[t] = []
            continue
        children = {"jax-free": _child(layers, sizes, backends, repeat, t, "jax-free",
                                       progress, malloc)}
        if _wants_jax_child(backends):
            children["jax"] = _child(layers, sizes, backends, repeat, t, "jax", progress,
                                     malloc)
        result[t] = merge_rows(children["jax-free"]["rows"],
                               children["jax"]["rows"] if "jax" in children else [])
        processes[t] = _described(children["jax-free"], malloc)
        del processes[t]["measured"]
        processes[t]["children"] = {_CHILD[p][0]: _described(c, malloc)
                                    for p, c in children.items()}
    result["processes"] = processes
    return result


def _fmt(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _book_moves(rows, threads: str) -> str:
    """The book's time in the JAX child ÷ in the JAX-free child, per (layer, N).

    >>> _book_moves([{"layer": "tanh", "n": 10, "book_s": 2.0, "jax_process": {"book_s": 3.0}}],
    ...             "one")
    "the book's time (one), JAX child / JAX-free child: tanh 1e+01 1.50"
    """
    cells = [f"{r['layer']} {r['n']:.0e} {r['jax_process']['book_s'] / r['book_s']:.2f}"
             for r in rows if r.get("jax_process")]
    return (f"the book's time ({threads}), JAX child / JAX-free child: " + ", ".join(cells)
            if cells else "")


def format_table(result: dict) -> str:
    """One line per (layer, N, backend), lower is better; the legend below."""
    one, shipped = result.get("one", []), result.get("shipped", [])
    base = one or shipped
    far = {(r["layer"], r["n"]): r for r in shipped}
    head = ["layer", "N", "backend", "ms", "/book", "/jax 1t", "/jax split", "/jax shipped",
            "/floor", "/fresh floor", "first s", "ms jax child"]
    lines = [head]
    for r in base:
        other = far.get((r["layer"], r["n"]))
        for b, v in r["backends"].items():
            js = other["backends"][b]["jax_ratio"] if other and b in other["backends"] else None
            jt = v.get("s_jax_process")
            lines.append([r["layer"], f"{r['n']:.0e}", b.replace("_", " "),
                          f"{1e3 * v['s']:.3f}", _fmt(v["book_ratio"]),
                          _fmt(v["jax_ratio"] if one else None),
                          _fmt(v.get("jax_split_ratio") if one else None), _fmt(js),
                          _fmt(v["floor_ratio"]), _fmt(v.get("fresh_floor_ratio")),
                          _fmt(v["first_s"]), _fmt(None if jt is None else 1e3 * jt, 3)])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in lines]
    repeat = base[0]["repeat"] if base else 0
    text += [
        f"forward+backward, float64, median of {repeat} rounds, calls alternating; "
        "ratio = backend time / baseline time: lower is better, below 1.00 faster",
        "ms: the backend's time (one thread when measured so); /book: the book's class; "
        "/jax 1t: jax.jit of JAX's own autodiff (jax.vjp) of the same forward, one thread, "
        "one core (forward and vjp in one compiled call, given dout: fused); each /jax 1t from "
        "rounds of the backend's call and JAX's alone, alternating (pair_s in the JSON);",
        "/jax split: the same autodiff as two compiled calls, forward returning out and its "
        "residuals, backward applying them to dout (the book's API: dout comes after "
        "forward);",
        "/jax shipped: the same in a process as the libraries come (JAX on every core); "
        "/floor: the memory-bandwidth floor (forward copies x into an array written "
        "before, backward one multiply per gradient into such an array: no page faults, "
        "as numba's pooled buffers have none); /fresh floor: the same into fresh arrays, as "
        "a function returning new arrays must (from ~1e6 their pages fault in: a cost that "
        "varies from run to run);",
        "first s: the first call (numba and JAX compile then; numba caches to disk), "
        "not in the medians; numba vjp: the numba module's <layer>_vjp, one fused loop "
        "returning out and the gradients;",
        "two children per thread setting: ms, /book and the floors of numpy and numba from "
        "one that never imports JAX, /jax from one with JAX's autodiff (and jax's /book and "
        "/floor, against the book and floors timed there); ms jax child: the time there",
    ]
    moves = _book_moves(base, "one" if one else "shipped")
    return "\n".join(text + ([moves] if moves else []))
