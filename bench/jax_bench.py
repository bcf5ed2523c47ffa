"""The jax backend against JAX's own autodiff: forward+backward, one thread, medians.

For each layer and size: ``jax.jit`` of forward+backward through ``jax.vjp`` of the
exported ``jax.custom_vjp`` function (numeric/generated_jax.py; its backward is the
derivation's) ÷ the same through ``jax.vjp`` of a plain jnp function computing the same
forward (the spec's forward in the stable form the export computes, printed without
the custom_vjp, so JAX differentiates it itself). Lower is better; goal <= 1.05.
"ratio" is median ÷ median; "paired" the median of the ratios of calls made one after
the other (less sensitive to bursts of load from other processes).

One thread: XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
is set before jax is imported and the process is pinned to one core (as ``taskset -c 0``;
``--cores all`` leaves it free). The two sides alternate call by call; each call is
``block_until_ready``; compilation happens before timing.

    python bench/jax_bench.py                        # every elementwise layer, 1e5 1e6 1e7
    python bench/jax_bench.py sigmoid gelu -n 1e6 --repeat 21 --json
    python bench/jax_bench.py --tensor               # tensor layers at their book sizes

:func:`bench_layer` (``name, n, repeat``) returns one row as a dict.
"""
from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)

SIZES = (10**5, 10**6, 10**7)
#: tensor layers at book sizes: name -> {input: shape}, labels one-hot
TENSOR_SIZES = {
    "layernorm": {"x": (4096, 1024), "gamma": (1024,), "beta": (1024,)},
    "batchnorm": {"x": (4096, 1024), "gamma": (1024,), "beta": (1024,)},
    "softmax_with_loss": {"x": (4096, 1000), "t": (4096, 1000)},
    "softmax": {"x": (4096, 1000)},
    "affine": {"x": (4096, 1024), "W": (1024, 1000), "b": (1000,)},
    "sigmoid_with_loss": {"x": (10**6,), "t": (10**6,)},
    "mse": {"x": (4096, 1000), "t": (4096, 1000)},
}

_cache: dict = {}


def _modules():
    """(the exported module, the plain forwards module)."""
    if "mods" not in _cache:
        from numeric import generated_jax
        _cache["mods"] = (generated_jax, _plain())
    return _cache["mods"]


def _plain():
    """The same forwards as plain jnp functions (derive.codegen.jax_backend.plain_module,
    stable forms: the forward the export computes), for JAX's autodiff."""
    from derive import catalogue
    from derive.codegen.jax_backend import plain_module
    from derive.derivation import is_tensor
    names = [n for n in catalogue.names() if not is_tensor(catalogue.get(n))] + list(TENSOR_SIZES)
    path = Path(tempfile.mkdtemp()) / "plain_jax_bench.py"
    path.write_text(plain_module([(catalogue.get(n), True) for n in names]))
    spec = importlib.util.spec_from_file_location("plain_jax_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arguments(name, n, dtype):
    """The differentiated arguments (and the consts) of ``name`` at size n."""
    from derive import catalogue
    spec = catalogue.get(name)
    rng = np.random.default_rng(0)
    if name in TENSOR_SIZES:
        shapes = TENSOR_SIZES[name]
        out = []
        for k, shape in shapes.items():
            if k == "t" and name == "softmax_with_loss":
                t = np.zeros(shape)
                t[np.arange(shape[0]), rng.integers(0, shape[1], shape[0])] = 1.0
                out.append(t)
            elif k == "t":
                out.append(rng.uniform(0.0, 1.0, shape))
            else:
                out.append(rng.normal(size=shape))
        return [jnp.asarray(a, dtype=dtype) for a in out]
    from numeric.cases import ELEMENTWISE
    case = ELEMENTWISE[name]
    lo, hi = case.domain
    return [jnp.asarray(rng.uniform(0.0, 1.0, n) if case.kind(i) == "onehot"
                        else rng.uniform(lo, hi, n), dtype=dtype) for i in spec.input_names]


def _runner(f):
    def run(dout, *args):
        out, pull = jax.vjp(f, *args)
        return out, pull(dout)
    return jax.jit(run)


def _time(fn, args) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0


def bench_layer(name: str, n: int = 10**6, repeat: int = 7, dtype: str = "float64") -> dict:
    """One row: medians of forward+backward (seconds) of the exported custom_vjp function
    and of JAX's autodiff of the same forward, and their ratio (lower is better)."""
    ours_mod, plain_mod = _modules()
    args = _arguments(name, int(n), jnp.dtype(dtype))
    ours, ref = _runner(getattr(ours_mod, name)), _runner(getattr(plain_mod, name))
    out = jax.eval_shape(getattr(plain_mod, name), *args)
    dout = jax.tree_util.tree_map(
        lambda s: jnp.asarray(np.random.default_rng(1).normal(size=s.shape), s.dtype), out)
    t0 = time.perf_counter()
    jax.block_until_ready(ours(dout, *args))
    compile_ours = time.perf_counter() - t0
    jax.block_until_ready(ref(dout, *args))
    a, b = [], []
    for k in range(repeat):
        pair = ((ours, a), (ref, b)) if k % 2 == 0 else ((ref, b), (ours, a))
        for fn, into in pair:
            into.append(_time(fn, (dout, *args)))
    size = int(sum(np.prod(x.shape) for x in args[:1]))
    # the ratio of the medians, and the median of the ratios of calls made side by side
    # (robust to a burst of load from elsewhere that slows a few consecutive calls)
    return {"layer": name, "n": size, "dtype": dtype, "derive_s": statistics.median(a),
            "jax_s": statistics.median(b), "ratio": statistics.median(a) / statistics.median(b),
            "pair_ratio": statistics.median(x / y for x, y in zip(a, b)),
            "compile_s": compile_ours, "repeat": repeat}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("layers", nargs="*")
    p.add_argument("-n", nargs="*", type=float, default=None, help="sizes (elementwise)")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--tensor", action="store_true", help="the tensor layers at book sizes")
    p.add_argument("--cores", default="0", help="core to pin to (default 0), or 'all'")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.cores != "all":
        os.sched_setaffinity(0, {int(args.cores)})
    from derive import catalogue
    from derive.derivation import is_tensor
    if args.tensor:
        names = args.layers or list(TENSOR_SIZES)
    else:
        names = args.layers or [n for n in catalogue.names() if not is_tensor(catalogue.get(n))]
    sizes = [int(v) for v in args.n] if args.n else list(SIZES)
    rows = []
    for name in names:
        for n in ([0] if name in TENSOR_SIZES else sizes):
            row = bench_layer(name, n, args.repeat, args.dtype)
            rows.append(row)
            if not args.json:
                print(f"{name:20s} {row['n']:>10d} {row['dtype']:8s} derive {row['derive_s']*1e3:9.3f} ms"
                      f"  jax {row['jax_s']*1e3:9.3f} ms  ratio {row['ratio']:.3f}"
                      f"  (paired {row['pair_ratio']:.3f})", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        worst = max(rows, key=lambda r: r["ratio"])
        print(f"# derive ÷ JAX autodiff, forward+backward, one thread, median of {args.repeat}; "
              f"lower is better; worst {worst['layer']} n={worst['n']}: {worst['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
