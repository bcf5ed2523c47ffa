"""The numba backend against jax.jit(jax.vjp), the NumPy export and the bandwidth floor.

For each elementwise catalogue layer and size N: forward + backward of the class in
``numeric/generated_numba.py`` (one call of each), of the class in
``numeric/generated.py``, and ``jax.jit`` of a function returning ``out`` and the vjp's
gradients (the layer's forward written in jax.numpy by ``sympy.lambdify``), all in
float64; and the memory-bandwidth floor: the bytes a fused forward + backward must move
(inputs read, out and cache written, dout and cache read, gradients written) at the
bandwidth of ``np.copyto`` between warm buffers. Medians of ``--repeat`` rounds, the
four alternating in each round (numba and jax back to back); lower ratios are better.
On a machine shared with other jobs the table also gives the ratio of the fastest rounds
(min) and the median of each round's numba/jax ratio (paired). Compile time is the first
call of the numba class (forward + backward), excluded from the timings; with
``--fresh-cache`` numba's disk cache is a new empty directory, so it is a compilation.

``--against FILE``: the classes of another numba module file (an older export, say
``git show HEAD~3:numeric/generated_numba.py > /tmp/old.py``) run in the same rounds,
alternating with this one: a before/after ratio (÷against) on a noisy machine.

One thread: run under ``taskset -c 0``; XLA, numba and OpenBLAS are set to one thread
here before they are imported.

    taskset -c 0 python bench/numba_bench.py                 # every layer, 1e5 1e6 1e7
    taskset -c 0 python bench/numba_bench.py --layers gelu,sigmoid --sizes 1e3,1e4 --json r.json
    taskset -c 0 python bench/numba_bench.py --layers gelu --sizes 1e7 --no-jax --against /tmp/old.py
    taskset -c 1 python bench/numba_bench.py --forward-loop --layers mish --against /tmp/old.py

:func:`bench_layer` (one layer, one size) returns the figures as a dict.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")
for _v in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
if "--fresh-cache" in sys.argv:
    import tempfile
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-bench-")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = ["bench_forward_loop", "bench_layer", "layers", "main"]


def layers() -> list:
    """The elementwise catalogue layers, in catalogue order."""
    from derive import catalogue
    from derive.derivation import is_tensor
    return [n for n in catalogue.names() if not is_tensor(catalogue.get(n))]


def _inputs(name, spec, n, rng):
    if name == "bce":
        return [rng.uniform(0.01, 0.99, n), rng.uniform(0.0, 1.0, n)]
    if name == "log":
        return [rng.uniform(0.1, 10.0, n)]
    return [rng.normal(0.0, 3.0, n) for _ in spec.input_names]


_JAX = {}


def _jax_fb(name, spec):
    """jax.jit of (inputs, dout) -> (out, gradients), the forward from the spec."""
    if name not in _JAX:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jax.scipy.special as jss
        import sympy as sp
        params = {s: float(spec.defaults.get(s.name, 1.0))
                  for s in spec.forward.free_symbols if s.name in spec.param_names}
        fn = sp.lambdify(list(spec.inputs), spec.forward.xreplace(params),
                         modules=[{"erf": jss.erf, "sign": jnp.sign}, "jax"])

        def fb(*args):
            out, vjp = jax.vjp(fn, *args[:-1])
            return out, vjp(args[-1])
        _JAX[name] = (jax, jax.jit(fb))
    return _JAX[name]


def _per_call(f, n):
    """Seconds per call of f, calling it enough times to take ~2 ms."""
    k = max(1, int(2e5 // max(n, 1)))
    t = time.perf_counter()
    for _ in range(k):
        f()
    return (time.perf_counter() - t) / k


_AGAINST = {}


def _module(path):
    """A numba module from its file (numba's disk cache needs a file), loaded once."""
    if path not in _AGAINST:
        import importlib.util
        spec = importlib.util.spec_from_file_location(f"against_{len(_AGAINST)}", path)
        module = importlib.util.module_from_spec(spec)
        # registered: a loop loaded from numba's disk cache imports its module by name
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _AGAINST[path] = module
    return _AGAINST[path]


def bench_layer(name: str, n: int, repeat: int = 7, jax_too: bool = True,
                against: str | None = None) -> dict:
    """Forward + backward seconds (medians) of the numba class, jax.jit(vjp), the NumPy
    export's class and the bandwidth floor for one layer at size n, and their ratios;
    with ``against`` (a module file), that module's class too."""
    from derive import catalogue
    from numeric import generated as numpy_module
    from numeric import generated_numba as numba_module
    spec = catalogue.get(name)
    rng = np.random.default_rng(0)
    xs = _inputs(name, spec, int(n), rng)
    dout = rng.normal(size=int(n))
    nb, ref = getattr(numba_module, spec.class_name)(), getattr(numpy_module, spec.class_name)()

    t = time.perf_counter()
    nb.forward(*xs)
    nb.backward(dout)
    first = time.perf_counter() - t
    cache = sum(v.nbytes for v in vars(nb).values() if isinstance(v, np.ndarray))
    k = len(xs)
    moved = 8 * n * (k + 1 + 1 + k) + 2 * cache   # x.., out, dout, dx.., cache written+read
    src, dst = np.ones(int(n)), np.empty(int(n))

    def run_numba():
        nb.forward(*xs)
        return nb.backward(dout)

    def run_numpy():
        with np.errstate(all="ignore"):
            ref.forward(*xs)
            return ref.backward(dout)

    sides = {"numba": run_numba, "numpy": run_numpy,
             "copy": lambda: np.copyto(dst, src)}
    if against:
        other = getattr(_module(against), spec.class_name)()

        def run_against():
            other.forward(*xs)
            return other.backward(dout)
        sides["against"] = run_against
    if jax_too:
        jax, jfb = _jax_fb(name, spec)
        jargs = [jax.device_put(a) for a in (*xs, dout)]
        jax.block_until_ready(jfb(*jargs))
        sides["jax"] = lambda: jax.block_until_ready(jfb(*jargs))
    for f in sides.values():
        f()
    times = {s: [] for s in sides}
    for r in range(repeat):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        if "jax" in order:                          # numba and jax adjacent, alternating
            order.remove("jax")
            order.insert(order.index("numba") + (r % 2 == 0), "jax")
        for s in order:
            times[s].append(_per_call(sides[s], n))
    med = {s: statistics.median(v) for s, v in times.items()}
    low = {s: min(v) for s, v in times.items()}
    floor = moved / (16 * n) * med["copy"]          # copy bandwidth: 16 bytes per element
    res = {"layer": name, "n": int(n), "numba_s": med["numba"], "numpy_s": med["numpy"],
           "floor_s": floor, "first_call_s": first, "bytes": int(moved),
           "vs_floor": med["numba"] / floor, "vs_numpy": med["numba"] / med["numpy"],
           # the fastest rounds: what a quiet machine gives (others' jobs only add time)
           "min_vs_floor": low["numba"] / (moved / (16 * n) * low["copy"])}
    if against:
        res.update(against_s=med["against"], vs_against=med["numba"] / med["against"],
                   against_vs_floor=med["against"] / floor)
    if jax_too:
        res.update(jax_s=med["jax"], vs_jax=med["numba"] / med["jax"],
                   min_vs_jax=low["numba"] / low["jax"],
                   # the median of each round's ratio: the two sides ran back to back
                   paired_vs_jax=statistics.median(
                       a / b for a, b in zip(times["numba"], times["jax"])))
    return res


def bench_forward_loop(name: str, n: int = 20000, repeat: int = 31,
                       against: str | None = None) -> dict:
    """ns per element of the layer's compiled forward loop alone (out and its cache, no
    allocation, no dtype handling) on warm arrays of n elements (20000 float64: in L2), the
    compute a forward costs beyond moving memory; with ``against``, that module's loop
    alternating with this one's in each round."""
    from derive import catalogue
    from numeric import generated_numba as numba_module
    spec = catalogue.get(name)
    loop = f"_{name}_forward_loop"
    modules = {"numba": numba_module}
    if against:
        modules["against"] = _module(against)
    rng = np.random.default_rng(0)
    xs = _inputs(name, spec, n, rng)
    calls = {}
    for side, module in modules.items():
        f = getattr(module, loop)
        n_out = len(f.py_func.__code__.co_varnames[:f.py_func.__code__.co_argcount]) - len(xs)
        outs = [np.empty(n) for _ in range(n_out)]
        calls[side] = (lambda f=f, outs=outs: f(*xs, *outs))
        calls[side]()
    times = {s: [] for s in calls}
    for r in range(repeat):
        for s in (list(calls) if r % 2 == 0 else list(calls)[::-1]):
            times[s].append(_per_call(calls[s], n) / n * 1e9)
    res = {"layer": name, "n": n, "loop_ns": statistics.median(times["numba"])}
    if against:
        res.update(against_ns=statistics.median(times["against"]),
                   loop_vs_against=statistics.median(
                       a / b for a, b in zip(times["numba"], times["against"])))
    return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", default=None, help="comma-separated (default: every elementwise)")
    p.add_argument("--sizes", default="1e5,1e6,1e7")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--no-jax", action="store_true")
    p.add_argument("--fresh-cache", action="store_true",
                   help="an empty numba cache: first_call_s is the compile time")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--against", metavar="FILE",
                   help="another numba module file whose classes run in the same rounds")
    p.add_argument("--forward-loop", action="store_true",
                   help="ns/element of each forward loop alone at 20000 elements (in L2)")
    args = p.parse_args(argv)
    names = args.layers.split(",") if args.layers else layers()
    if args.forward_loop:
        print("forward loop alone, 20000 float64 (in L2), ns/element, medians"
              + (f"; ÷against: median of the rounds' ratios to {args.against}" if args.against else ""))
        for name in names:
            r = bench_forward_loop(name, repeat=args.repeat, against=args.against)
            more = (f"  against {r['against_ns']:6.3f}  ÷against {r['loop_vs_against']:.3f}"
                    if args.against else "")
            print(f"{name:16s} {r['loop_ns']:6.3f}{more}", flush=True)
        return 0
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    rows = []
    print("lower is better; numba forward+backward ÷ jax.jit(vjp) one thread, ÷ bandwidth "
          "floor, ÷ NumPy export; first call (compile or cache load) excluded")
    print("(medians; min: the fastest round of each side; paired: the median of the rounds' "
          "ratios, numba and jax back to back: for a machine shared with others)")
    print(f"{'layer':16s} {'N':>9s} {'÷jax':>6s} {'÷floor':>7s} {'÷numpy':>7s} "
          f"{'numba ms':>9s} {'jax ms':>8s} {'1st call s':>10s} {'min ÷jax':>9s} "
          f"{'min ÷floor':>10s} {'paired ÷jax':>11s}")
    for name in names:
        for n in sizes:
            r = bench_layer(name, n, args.repeat, jax_too=not args.no_jax, against=args.against)
            rows.append(r)
            if args.against:
                print(f"{name:16s} {n:9.0e} against {args.against}: ÷against "
                      f"{r['vs_against']:.2f}, its ÷floor {r['against_vs_floor']:.2f}")
            print(f"{name:16s} {n:9.0e} {r.get('vs_jax', float('nan')):6.2f} "
                  f"{r['vs_floor']:7.2f} {r['vs_numpy']:7.2f} {1e3 * r['numba_s']:9.3f} "
                  f"{1e3 * r.get('jax_s', float('nan')):8.3f} {r['first_call_s']:10.2f} "
                  f"{r.get('min_vs_jax', float('nan')):9.2f} {r['min_vs_floor']:10.2f} "
                  f"{r.get('paired_vs_jax', float('nan')):11.2f}",
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
