"""``derive check``: prove a hand-written backward pass right, or show where it is wrong.

Exit 0: proven equal (for a tensor layer: for every size); 1: not equal, or not
proven; 2: bad input; 3: a proof ran out of its budget. ``--node c`` checks the gradient
arriving at the node c of the graph instead of at an input.
"""
from __future__ import annotations

import json
import sys

from ..check import check
from .layer_args import add_layer_arguments, resolve


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="check a hand-written backward formula",
        description="Check a backward formula against the derivative of the forward one. "
        "Write it in NumPy syntax with dout (the upstream gradient), out (the forward "
        "output), the inputs, weights, consts, params, dimensions and the layer's own "
        "statement names; for several inputs give one formula per input, comma-separated, "
        "or choose one with --wrt. With --node NAME the formula is the gradient arriving at "
        "that node of the graph (y is out, unless the layer has a y of its own).")
    add_layer_arguments(p)
    p.add_argument("--backward", required=True, help='e.g. "dout * (1 - out) * out"')
    p.add_argument("--wrt", help="the input the backward formula is the gradient to")
    p.add_argument("--node", help="a node of the graph (as derive show names them: a, b, "
                   "c, out...): the formula is the gradient arriving there, dL/dNODE")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    report = check(resolve(args, command="check"), args.backward, wrt=args.wrt, node=args.node)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.to_text())
    return report.exit_code
