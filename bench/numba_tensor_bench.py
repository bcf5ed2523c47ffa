"""The numba module's fused tensor layers against the NumPy module's class, the hand-written
NumPy of bench/numpy_bench.py and JAX: forward+backward, one process, alternated medians.

    taskset -c 0,1 python bench/numba_tensor_bench.py [--repeat 21] [--layers batchnorm,...]
                                          [--dtype float64] [--threads 2] [--json]

For batchnorm, layernorm and softmax_with_loss (label indices and one-hot rows) at
(100, 50), (256, 1024), (4096, 1000): the time of ``forward`` then ``backward`` of the
numba class (``derive export <layers> --backend numba``, written to a cache folder so that
numba's on-disk cache serves later runs), and its ratio to the NumPy module's class
(numeric/matrix_generated.py), to the best NumPy (numpy_bench.Best*) and to
``jax.jit`` of ``jax.vjp`` of the plain forward (derive.codegen.jax_backend.plain_module;
the gradient w.r.t. the inputs and weights only; one-hot t for both forms of t; one
thread). All sides alternate call by call (numeric.bench.alternate). Lower is better.
``parallel÷serial`` is the numba class with ``PARALLEL = True`` on ``--threads`` threads (2 by
default; ``numba.set_num_threads``) over the same class on one thread, alternated too;
run it with ``taskset -c 0,1`` (``taskset -c 1`` pins the threads to one core).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

from numeric import matrix_generated as mgen  # noqa: E402
from numeric.bench import alternate  # noqa: E402

SHAPES = ((100, 50), (256, 1024), (4096, 1000))
LAYERS = ("batchnorm", "layernorm", "softmax_with_loss")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # numba's disk cache finds the module by name
    spec.loader.exec_module(module)
    return module


def numba_module():
    """The numba export of the tensor layers, rewritten only when its source changed."""
    from derive import catalogue
    from derive.codegen.numba_backend import emit_numba_module
    from derive.derivation import derive_spec
    src = emit_numba_module([derive_spec(catalogue.get(n)) for n in (*LAYERS, "softmax")])
    folder = Path(tempfile.gettempdir()) / "derive_numba_tensor_bench"
    folder.mkdir(exist_ok=True)
    path = folder / "numba_tensor_layers.py"
    if not path.exists() or path.read_text() != src:
        path.write_text(src)
    return _load(path, "numba_tensor_layers")


def jax_runner(name, args, dtype):
    """A zero-argument call of jax.jit(vjp of the plain forward) at ``args``."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    from derive import catalogue
    from derive.codegen.jax_backend import plain_module
    folder = Path(tempfile.gettempdir()) / "derive_numba_tensor_bench"
    path = folder / "plain_jax.py"
    path.write_text(plain_module([(catalogue.get(n), True) for n in LAYERS]))
    f = getattr(_load(path, "plain_jax_numba_bench"), name)
    args = [jnp.asarray(a, dtype) for a in args]
    if name == "softmax_with_loss":
        x, t = args

        def run(dout, x):
            out, pull = jax.vjp(lambda x: f(x, t), x)
            return out, pull(dout)
        dout = jnp.asarray(1.0, dtype)
        fn = jax.jit(run)
        return lambda: jax.block_until_ready(fn(dout, x))
    x = args[0]
    dout = jnp.asarray(np.random.default_rng(1).standard_normal(x.shape), dtype)

    def run(dout, *a):
        out, pull = jax.vjp(f, *a)
        return out, pull(dout)
    fn = jax.jit(run)
    return lambda: jax.block_until_ready(fn(dout, *args))


def parallel_of(nb, run):
    """``run`` with the module's PARALLEL switch on."""
    def par():
        nb.PARALLEL = True
        try:
            return run()
        finally:
            nb.PARALLEL = False
    return par


def cases(nb, dtype, layers):
    from numpy_bench import BestBatchNorm, BestLayerNorm, BestSoftmaxWithLoss
    rng = np.random.default_rng(0)
    for N, D in SHAPES:
        x = rng.standard_normal((N, D)).astype(dtype)
        dout = rng.standard_normal((N, D)).astype(dtype)
        gamma, beta = rng.standard_normal(D).astype(dtype), rng.standard_normal(D).astype(dtype)
        for name, gen, cls, best in (("batchnorm", mgen.BatchNormalization,
                                      nb.BatchNormalization, BestBatchNorm),
                                     ("layernorm", mgen.LayerNorm, nb.LayerNorm, BestLayerNorm)):
            if name not in layers:
                continue

            def make(c, x=x, dout=dout, gamma=gamma, beta=beta):
                layer = c(gamma, beta)
                return lambda: (layer.forward(x), layer.backward(dout))
            yield (f"{name} ({N},{D})", make(cls), make(gen), make(best),
                   jax_runner(name, [x, gamma, beta], dtype))
        if "softmax_with_loss" not in layers:
            continue
        labels = rng.integers(0, D, N)
        onehot = np.eye(D, dtype=dtype)[labels]
        for form, t in (("labels", labels), ("one-hot", onehot)):
            def make(c, x=x, t=t):
                layer = c()
                return lambda: (layer.forward(x, t), layer.backward(1.0))
            yield (f"softmax_with_loss {form} ({N},{D})", make(nb.SoftmaxWithLoss),
                   make(mgen.SoftmaxWithLoss), make(BestSoftmaxWithLoss),
                   jax_runner("softmax_with_loss", [x, onehot], dtype))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=21)
    p.add_argument("--layers", default=",".join(LAYERS))
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--threads", type=int, default=2, help="threads of the PARALLEL runs")
    args = p.parse_args(argv)
    nb = numba_module()
    import numba
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    rows = []
    for label, ours, gen, best, jx in cases(nb, np.dtype(args.dtype), args.layers.split(",")):
        par = parallel_of(nb, ours)
        for f in (ours, gen, best, jx, par):      # compile / warm up
            f()
        t = alternate([ours, gen, best, jx, par], args.repeat)
        row = {"case": label, "numba_ms": t[0] * 1e3, "numpy_class": t[0] / t[1],
               "numpy_best": t[0] / t[2], "jax": t[0] / t[3], "parallel_serial": t[4] / t[0]}
        rows.append(row)
        if not args.json:
            print(f"{label:40s} numba {row['numba_ms']:8.3f} ms  ÷class {row['numpy_class']:.3f}"
                  f"  ÷best {row['numpy_best']:.3f}  ÷jax {row['jax']:.3f}"
                  f"  parallel÷serial {row['parallel_serial']:.3f}", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"# forward+backward, {args.dtype}, median of {args.repeat} alternated calls; "
              f"ratios: numba ÷ other, lower is better; parallel on {numba.get_num_threads()} "
              "threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
