"""``derive graph EXPR --at name=value,...``: node values and gradients, as in the book's figures."""
from __future__ import annotations

import json

from ..errors import DeriveError


def register(subparsers) -> None:
    p = subparsers.add_parser("graph", help="evaluate a formula node by node: forward values and "
                              "the gradients flowing back",
                              description="e.g. derive graph \"apple*apple_num*tax\" "
                              "--at apple=100,apple_num=2,tax=1.1")
    p.add_argument("expr", metavar="EXPR", help="the formula (parsed safely, never evaluated)")
    p.add_argument("--at", required=True, metavar="NAME=VALUE,...",
                   help="a number for every name in the formula")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..numgraph import evaluate, parse_values, show
    result = evaluate(args.expr, parse_values(args.at))
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"{args.expr} = {show(result.value)}")
    for name, g in result.grad.items():
        print(f"  d/d{name} = {show(g)}")
    rows = [("node", "op", "value", "gradient")] + [
        (n["name"], n["label"], show(n["value"]), show(n["grad"])) for n in result.nodes]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print("nodes (forward value, gradient of the result flowing back):")
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


__all__ = ["register", "run", "DeriveError"]
