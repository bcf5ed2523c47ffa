"""``derive bench [LAYER...] [--sizes ...] [--repeat N]``: exported vs reference backward speed.

See :mod:`numeric.bench`: one process, backward calls alternating, medians,
ratio exported/reference per size, and the ratio to the memory-bandwidth floor.
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


def run(args) -> int:
    from numeric import bench
    from numeric.reference import REFERENCE
    sizes = parse_sizes(args.sizes)
    if args.repeat < 3:
        raise DeriveError("--repeat: at least 3 runs for a median")
    for n in args.layers:
        catalogue.get(n)
        if n not in REFERENCE:
            raise DeriveError(f"{n}: no reference class to compare with")
    budget.stop()    # timing the exported code, proving nothing: the prover's budget is off
    result = bench.run(args.layers or None, sizes, args.repeat, progress=sys.stderr)
    if args.format == "json":
        print(json.dumps({**result, "bandwidth": {str(k): v for k, v in
                                                  result["bandwidth"].items()}}, indent=2))
    else:
        print(bench.format_table(result))
    return 0
