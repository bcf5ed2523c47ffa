"""Every backend's forward+backward against the book's class, JAX and the memory floor.

    python -m numeric.backend_bench --process jax-free --backends numpy,numba \\
        --layers gelu,silu --sizes 1e5,1e6,1e7 --repeat 10 [--one-thread] [--json]
    python -m numeric.backend_bench --process jax --backends numba,jax ...

``derive bench --backend ...`` runs this in child processes, per thread setting (pinned to
one core with every thread pool at 1 thread, or as shipped) two of them, and merges them:

* ``--process jax-free`` (:data:`JAX_FREE`): the book, the floors, every backend asked for
  but jax, and numba's ``<layer>_vjp`` when the numba module has one; JAX is never imported
  (``jax_imported`` in the JSON says so, read from ``sys.modules`` at the end). Every ratio
  of these backends to the book and the floors comes from here: with JAX's autodiff in the
  same rounds NumPy's forward+backward at 1e7 was up to 4x slower while the book's was not
  (``bench/jax_interference.py``; cause unknown, XLA's threads do not spin);
* ``--process jax`` (:data:`WITH_JAX`): JAX's autodiff, the jax backend, numba and its vjp
  when asked for (so that numba ÷ JAX's autodiff is a ratio of one process), and the book
  and floors again, so a reader sees whether they move; nothing from NumPy's backend.

For each layer and size N (float64 elements), one round calls, in an order that flips
every round so drift and cache warmth hit all alike:

* the book's class (:mod:`numeric.reference`): ``forward(x)`` then ``backward(dout)``;
* each backend's class or function, forward then backward: ``numpy`` the classes of
  :mod:`numeric.generated`, ``numba`` those of :mod:`numeric.generated_numba`, ``jax``
  ``jax.jit`` of ``jax.vjp`` of the custom_vjp function of :mod:`numeric.generated_jax`
  (its forward and the derivation's backward in one compiled call);
* ``numba_vjp``, when numba is asked for and its module has ``<layer>_vjp(dout, *inputs,
  **params)`` (one fused loop returning ``out`` and the gradients, what ``jax.jit`` of
  ``jax.vjp`` computes); skipped where there is none;
* JAX's own autodiff (``jax_autodiff``, whenever the jax module is among the modules
  given, i.e. in the JAX child): ``jax.jit`` of ``jax.vjp`` of the same forward (the
  function the custom_vjp wraps, its ``.fun``) — what an engineer would pick instead;
  and the same autodiff as two compiled calls (``jax_split``), forward returning out and
  the residuals, backward applying them to dout: the shape of the book's API, in which
  dout is not known when forward runs (the classes' ``jax_split_ratio``);
* the memory floor (``floor``, the bandwidth floor): the least a forward+backward of the
  book's API moves, into arrays written before (paged in, as the numba module's pooled
  buffers are): forward ``np.copyto(A, x)`` (``np.add`` of the inputs for two), backward
  one ``np.multiply(dout, x, out=B)`` per gradient;
* the same with each result a fresh array (``fresh_floor``): what returning new arrays
  costs at least, as the NumPy module and the book do; from about 1e6 elements its pages
  fault in on first touch, a cost that varies with the kernel's state from run to run.

Medians of ``repeat`` rounds; every ratio is a backend's time ÷ a baseline's, so lower is
better and below 1.00 the backend is faster. JAX's arrays are made once outside the
timings and every JAX call ends in ``block_until_ready``. Compilation (numba's first
call, JAX's jit) is not timed here but reported: ``first_s`` is the first call's time.

Only numpy, and the backends' own libraries when asked for, are imported: nothing from
SymPy or ``derive``.

>>> rows = run(["square"], [1000], ["numpy", "jax"], repeat=3, process=JAX_FREE)
>>> sorted(rows[0]["backends"]), rows[0]["book_s"] > 0, rows[0]["floor_s"] > 0
(['numpy'], True, True)
>>> rows[0]["timed"]
['book', 'floor', 'fresh_floor', 'numpy']
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
import time

import numpy as np

__all__ = ["ONE_THREAD_ENV", "BACKEND_MODULES", "JAX_FREE", "WITH_JAX", "PROCESSES",
           "JAX_CHILD_BACKENDS", "backends_in", "bench_layer", "run", "pin_one_core",
           "load_backend", "main"]

# every thread pool at one thread; XLA_FLAGS alone still lets XLA use 3-4 threads, so the
# process is pinned to one core as well (pin_one_core)
ONE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
# glibc's mmap threshold, fixed: otherwise it adapts to what was freed before, and whether a
# fresh array of 1e5-1e6 elements comes from the heap or page-faults in depends on the call
# history (the book's Exp measured against itself was 2.5x apart). Fixed at 128 KiB, every
# fresh array of 16 Ki float64 or more page-faults in, as one of 1e7 always does.
# Its trim threshold is fixed too (a set mmap threshold stops glibc adapting either), at 128
# KiB: freeing arrays at the top of the heap then gives the memory back to the system
# whenever more than 128 KiB lie free there, and the next arrays of 1e4 elements fault in
# again: which side paid depended on the order of its frees (l1 at 1e4: 42 us against the
# book's 17, 17 us with trimming off; exp 38 against 14). Set out of reach, arrays below the
# mmap threshold always come back from the heap, as in a long-running process (whose
# adaptive trim threshold is twice its mmap threshold), and those above always fault in.
FIXED_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
BACKEND_MODULES = {"numpy": "numeric.generated", "numba": "numeric.generated_numba",
                   "jax": "numeric.generated_jax"}
_EXTRA = {"numba": "fast", "jax": "jax"}
JAX_FREE, WITH_JAX = "jax-free", "jax"
PROCESSES = (JAX_FREE, WITH_JAX)
# what the JAX child times besides JAX's autodiff: the ratios to it that must share its process
JAX_CHILD_BACKENDS = ("numba", "jax")


def backends_in(process: str, backends) -> list:
    """The backends asked for that ``process`` times, in the order asked.

    >>> backends_in(JAX_FREE, ["numpy", "numba", "jax"]), backends_in(WITH_JAX, ["numpy", "numba", "jax"])
    (['numpy', 'numba'], ['numba', 'jax'])
    """
    if process not in PROCESSES:
        raise ValueError(f"process {process!r}: {' or '.join(PROCESSES)}")
    if process == JAX_FREE:
        return [b for b in backends if b != "jax"]
    return [b for b in backends if b in JAX_CHILD_BACKENDS]


class BackendMissing(RuntimeError):
    """A backend's module or library cannot be imported here."""


def pin_one_core() -> int:
    """Pin this process to the first core it may run on; that core's number."""
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def load_backend(backend: str):
    """The generated module of ``backend``, or :class:`BackendMissing` saying what to install."""
    if backend not in BACKEND_MODULES:
        raise BackendMissing(f"unknown backend {backend!r}: choose from "
                             f"{', '.join(BACKEND_MODULES)}")
    try:
        if backend == "jax":
            import jax
            jax.config.update("jax_enable_x64", True)
        return importlib.import_module(BACKEND_MODULES[backend])
    except ImportError as e:
        extra = _EXTRA.get(backend)
        raise BackendMissing(f"the {backend} backend cannot be imported ({e}); install it with "
                             f"pip install -e '.[{extra}]'" if extra else str(e)) from None


def _class_of(module, name: str):
    from numeric.bench import exported_class
    try:
        return exported_class(name, module)
    except KeyError as e:
        raise BackendMissing(e.args[0]) from None


def _class_call(cls, params, inputs, dout):
    layer = cls(**params)

    def call():
        layer.forward(*inputs)
        return layer.backward(dout)
    return call


def _jax_call(fn, params, inputs, dout):
    """jax.jit of forward + vjp of ``fn`` (hyper-parameters bound), on device arrays."""
    import jax
    import jax.numpy as jnp
    f = functools.partial(fn, **params) if params else fn

    @jax.jit
    def both(args, g):
        out, back = jax.vjp(f, *args)
        return out, back(g)
    args, g = tuple(jnp.asarray(v) for v in inputs), jnp.asarray(dout)
    return lambda: jax.block_until_ready(both(args, g))


def _floor_call(inputs, dout, grads: int, fresh: bool = False):
    """The memory floor's forward+backward: forward one pass writing an array (a copy of x,
    ``np.add`` of the inputs for two), backward one ``np.multiply(dout, x)`` per gradient.
    Warm (the default, the bandwidth floor): into arrays made once and written before, so
    already paged in, as the pooled buffers of the numba module are. ``fresh``: each result
    a new array, as the book's API returns one (at 1e7 its pages fault in on first touch,
    a cost that varies with the kernel's state from run to run)."""
    x = inputs[0]
    if fresh:
        def out(_):
            return np.empty_like(x)
    else:
        held = [np.zeros_like(x) for _ in range(grads + 1)]

        def out(k):
            return held[k]

    def call():
        if len(inputs) == 1:
            np.copyto(out(0), x)
        else:
            np.add(inputs[0], inputs[1], out=out(0))
        for k in range(grads):
            np.multiply(dout, x, out=out(k + 1))
    return call


def _timed_first(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def _jax_split_call(fn, params, inputs, dout):
    """JAX's autodiff in the book's two calls: ``jax.jit`` of ``jax.vjp`` returns out and the
    residuals (the vjp function, a pytree), a second ``jax.jit`` applies it to dout. What a
    layer-by-layer API can have: dout is not known when forward runs, so the two cannot fuse."""
    import jax
    import jax.numpy as jnp
    f = functools.partial(fn, **params) if params else fn
    forward = jax.jit(lambda *args: jax.vjp(f, *args))
    backward = jax.jit(lambda back, g: back(g))
    args, g = tuple(jnp.asarray(v) for v in inputs), jnp.asarray(dout)

    def call():
        out, back = forward(*args)
        jax.block_until_ready(out)
        return jax.block_until_ready(backward(back, g))
    return call


def _vjp_call(fn, params, inputs, dout):
    """``fn(dout, *inputs, **params)``: a fused forward+backward returning out and grads."""
    return lambda: fn(dout, *inputs, **params)


def bench_layer(name: str, n: int, backends, repeat: int = 10, modules=None,
                seed: int = 0) -> dict:
    """Median forward+backward seconds of the book's class, each backend, numba's
    ``<name>_vjp`` (when numba is asked for and has one), JAX's autodiff (when ``modules``
    holds the jax module) and the floors, for ``name`` at ``n`` elements; ``timed`` lists
    the calls, ``backends`` each one's time and ratios to the baselines timed with it
    (with JAX's autodiff timed, each backend's ``jax_ratio`` comes from rounds of its own
    with it: ``pair_s``, ``pair_autodiff_s``; ``jax_ratio_shuffled`` is the shared rounds')."""
    from numeric.cases import CASES
    from numeric.reference import PARAMS, REFERENCE
    modules = modules or {b: load_backend(b) for b in backends}
    case = CASES[name]
    rng = np.random.default_rng(seed)
    lo, hi = case.domain
    inputs = [rng.uniform(lo, hi, n) for _ in case.inputs]
    dout = rng.uniform(-1.0, 1.0, n)
    params = dict(PARAMS.get(name, {}))
    book = _class_call(REFERENCE[name], params, inputs, dout)
    grads = book()
    grads = len(grads) if isinstance(grads, tuple) else 1
    calls = {"book": book, "floor": _floor_call(inputs, dout, grads),
             "fresh_floor": _floor_call(inputs, dout, grads, fresh=True)}
    timed = []         # the backends' calls, in the order asked
    for b in backends:
        if b == "jax":
            calls["jax"] = _jax_call(getattr(modules["jax"], name), params, inputs, dout)
        else:
            calls[b] = _class_call(_class_of(modules[b], name), params, inputs, dout)
        timed.append(b)
        vjp = getattr(modules[b], name + "_vjp", None) if b == "numba" else None
        if vjp is not None:
            calls["numba_vjp"] = _vjp_call(vjp, params, inputs, dout)
            timed.append("numba_vjp")
    jax_module = modules.get("jax")      # JAX's autodiff: when the jax module is loaded
    if jax_module is not None:
        calls["jax_autodiff"] = _jax_call(getattr(jax_module, name).fun, params, inputs, dout)
        calls["jax_split"] = _jax_split_call(getattr(jax_module, name).fun, params, inputs,
                                             dout)
    first = {k: _timed_first(c) for k, c in calls.items()}
    from numeric.bench import alternate
    med = dict(zip(calls, alternate(list(calls.values()), repeat)))
    pairs = {}
    if "jax_autodiff" in calls:
        # each backend against JAX's autodiff in rounds of their own, the two calls
        # alternating: in the shuffled rounds a JAX call after a long NumPy one finds XLA's
        # worker asleep and its caches cold (at 1e5 the same call took ~0.2 or ~0.8 ms by
        # what ran before it, so one backend's /jax moved 1.0 -> 3.6 between runs)
        for b in timed:
            pairs[b] = alternate([calls[b], calls["jax_autodiff"]], repeat)
    row = {"layer": name, "n": n, "repeat": repeat, "book_s": med["book"],
           "floor_s": med["floor"], "fresh_floor_s": med["fresh_floor"],
           "jax_autodiff_s": med.get("jax_autodiff"), "jax_split_s": med.get("jax_split"),
           "timed": list(calls),
           "backends": {}}
    for b in timed:
        t = med[b]
        row["backends"][b] = {
            "s": t, "first_s": first[b], "book_ratio": t / med["book"],
            "floor_ratio": t / med["floor"], "fresh_floor_ratio": t / med["fresh_floor"],
            "jax_ratio": None,
            "jax_split_ratio": t / med["jax_split"] if "jax_split" in med else None}
        if b in pairs:
            own, autodiff = pairs[b]
            row["backends"][b].update(
                jax_ratio=own / autodiff, jax_ratio_shuffled=t / med["jax_autodiff"],
                pair_s=own, pair_autodiff_s=autodiff)
    return row


def run(layers, sizes, backends, repeat: int = 10, progress=None, process: str = JAX_FREE):
    """Rows of :func:`bench_layer` for every (size, layer), timing what ``process`` times
    of ``backends`` (:func:`backends_in`): ``jax-free`` never imports jax; ``jax`` loads it
    for JAX's autodiff whether or not the jax backend is asked for."""
    modules = {b: load_backend(b) for b in backends_in(process, backends)}
    if process == WITH_JAX and "jax" not in modules:
        modules["jax"] = load_backend("jax")
    rows = []
    for n in sizes:
        for name in layers:
            if progress is not None:
                print(f"bench {name} N={n:.0e} ({process}) ...", file=progress, flush=True)
            rows.append(bench_layer(name, n, backends_in(process, backends), repeat, modules))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m numeric.backend_bench",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default="numpy")
    p.add_argument("--layers", default="sigmoid")
    p.add_argument("--sizes", default="1e5,1e6,1e7")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--one-thread", action="store_true",
                   help="pin to one core (set ONE_THREAD_ENV before starting for the pools)")
    p.add_argument("--process", choices=PROCESSES, default=JAX_FREE,
                   help="jax-free: the book, floors and every backend but jax, never importing "
                   "jax; jax: JAX's autodiff, jax and numba (default: jax-free)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    core = pin_one_core() if args.one_thread else None
    backends = [b for b in args.backends.split(",") if b]
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    elsewhere = [b for b in backends if b not in backends_in(args.process, backends)]
    if elsewhere:
        print(f"error: --process {args.process} does not time {', '.join(elsewhere)}",
              file=sys.stderr)
        return 2
    jax_missing = None
    try:
        rows = run(args.layers.split(","), sizes, backends, args.repeat, progress=sys.stderr,
                   process=args.process)
    except BackendMissing as e:
        if args.process != WITH_JAX or "jax" in backends:
            print(f"error: {e}", file=sys.stderr)
            return 2
        rows, jax_missing = [], str(e)     # only JAX's autodiff wanted: nothing to time
    result = {"process": args.process, "one_thread": args.one_thread, "core": core,
              "rows": rows, "jax_imported": "jax" in sys.modules, "jax_missing": jax_missing,
              "cores": len(os.sched_getaffinity(0)),
              "threads_env": {k: os.environ.get(k) for k in ONE_THREAD_ENV},
              "malloc_env": {k: os.environ.get(k) for k in FIXED_MALLOC_ENV}}
    if args.json:
        print(json.dumps(result))
    else:
        for r in rows:
            for b, v in r["backends"].items():
                jr = "-" if v["jax_ratio"] is None else f"{v['jax_ratio']:.2f}"
                print(f"{r['layer']:14s} {r['n']:9.0e} {b:10s} {1e3 * v['s']:9.3f} ms  "
                      f"/book {v['book_ratio']:.2f}  /jax {jr}  /floor {v['floor_ratio']:.2f}  "
                      f"/fresh floor {v['fresh_floor_ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
