"""``derive bench [LAYER...] [--sizes ...] [--repeat N] [--backend numpy,numba,jax]``: speed.

Without ``--backend`` (:mod:`numeric.bench`): the exported NumPy backward against the
reference backward, one process, calls alternating, medians, ratio exported/reference per
size, and the ratio to the memory-bandwidth floor. With ``--backend``
(:mod:`.bench_backends`): each backend's forward+backward against the book's class, JAX's
own autodiff (one thread, and as shipped) and the floor, side by side.
"""
from __future__ import annotations

import json
import sys

from .. import budget, catalogue
from ..errors import DeriveError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time exported backward code against the hand-coded reference classes",
        description="Time the exported backward code against the hand-coded reference classes "
        "(one process, calls alternating, medians). Every ratio is exported time / other time: "
        "below 1.00 the exported code is faster (better), above 1.00 slower. 'floor x' and "
        "'fresh x' compare with the memory-bandwidth floor: 1.00 is as fast as memory allows.")
    p.add_argument("layers", nargs="*", metavar="LAYER", help="layers (default: all)")
    p.add_argument("--sizes", default="1e3,1e5,1e6,1e7", help="element counts, comma-separated")
    p.add_argument("--repeat", type=int, default=10, help="runs per measurement (>= 3)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--backend", metavar="B[,B...]",
                   help="compare backends (numpy, numba, jax; comma-separated) forward+backward "
                   "against the book's class, JAX's own autodiff (one thread and as shipped) and "
                   "the memory floor (warm buffers, and fresh arrays), each measurement in a child "
                   "process")
    p.add_argument("--threads", default="one,shipped", metavar="one,shipped",
                   help="with --backend: one = pinned to one core, every thread pool at 1; "
                   "shipped = as the libraries come (default: both)")
    p.add_argument("--malloc", choices=("dynamic", "fixed"), default="dynamic",
                   help="with --backend: dynamic = glibc's adaptive mmap threshold, as a "
                   "long-running process has it (default; fresh arrays up to 32 MB come back "
                   "from the heap once one was freed); fixed = the threshold fixed at 128 KiB, "
                   "so every fresh array of 16 Ki float64 or more page-faults in whatever ran "
                   "before (the worst case for code that makes temporaries)")
    p.set_defaults(func=run)


def parse_sizes(text: str) -> tuple:
    sizes = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        try:
            v = float(item)
        except ValueError:
            raise DeriveError(f"--sizes {item}: not a number") from None
        if not (1 <= v <= 1e9) or v != int(v):
            raise DeriveError(f"--sizes {item}: a whole number of elements from 1 to 1e9")
        sizes.append(int(v))
    if not sizes:
        raise DeriveError("--sizes: give at least one size")
    return tuple(sizes)


def _backends(text: str) -> list:
    from ..codegen.backends import BACKENDS
    wanted = list(dict.fromkeys(b.strip() for b in text.split(",") if b.strip()))
    for b in wanted:
        if b not in BACKENDS:
            raise DeriveError(f"--backend {b}: unknown; choose from {', '.join(BACKENDS)}")
    if not wanted:
        raise DeriveError("--backend: name at least one of numpy, numba, jax")
    return wanted


def _threads(text: str) -> tuple:
    from .bench_backends import THREADS
    wanted = tuple(t.strip() for t in text.split(",") if t.strip())
    if not wanted or any(t not in THREADS for t in wanted):
        raise DeriveError(f"--threads {text}: one, shipped or one,shipped")
    return wanted


def run(args) -> int:
    from numeric.reference import REFERENCE
    sizes = parse_sizes(args.sizes)
    if args.repeat < 3:
        raise DeriveError("--repeat: at least 3 runs for a median")
    for n in args.layers:
        catalogue.get(n)
        if n not in REFERENCE:
            raise DeriveError(f"{n}: no reference class to compare with")
    budget.stop()    # timing the exported code, proving nothing: the prover's budget is off
    if args.backend is not None:
        from . import bench_backends
        result = bench_backends.measure(args.layers or list(REFERENCE), sizes,
                                        _backends(args.backend), args.repeat,
                                        _threads(args.threads), progress=sys.stderr,
                                        malloc=args.malloc)
        print(json.dumps(result, indent=2) if args.format == "json" else
              bench_backends.format_table(result))
        return 0
    from numeric import bench    # timing the exported code, proving nothing: the prover's budget is off
    result = bench.run(args.layers or None, sizes, args.repeat, progress=sys.stderr)
    if args.format == "json":
        print(json.dumps({**result, "bandwidth": {str(k): v for k, v in
                                                  result["bandwidth"].items()}}, indent=2))
    else:
        print(bench.format_table(result))
    return 0
