"""``derive check``: prove a hand-written backward pass right, or show where it is wrong.

Exit 0: proven equal; 1: not equal, or not proven; 2: bad input.
"""
from __future__ import annotations

import json
import sys

from ..check import check
from .show_cmd import need_one_layer, split_names


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="check a hand-written backward formula",
        description="Check a backward formula against the derivative of the forward one. "
        "Write it with dout (the upstream gradient), out (the forward output), the inputs "
        "and params; for several inputs give one formula per input, comma-separated.")
    p.add_argument("layer", nargs="?", help="a catalogue layer (see `derive list`)")
    p.add_argument("--expr", help="a custom forward formula instead of a layer")
    p.add_argument("--var", help="the formula's input names in order, comma-separated")
    p.add_argument("--backward", required=True, help='e.g. "dout * (1 - out) * out"')
    p.add_argument("--wrt", help="the input the backward formula is the gradient to")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    need_one_layer(args)
    report = check(args.layer, expr=args.expr, backward=args.backward, wrt=args.wrt,
                   var=split_names(args.var))
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.to_text())
    return report.exit_code
