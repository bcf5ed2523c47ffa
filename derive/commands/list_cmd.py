"""``derive list``: the catalogue layers, their forward formulas, inputs and params."""
from __future__ import annotations

import json

from .. import catalogue
from ..render.printers import text


def register(subparsers) -> None:
    p = subparsers.add_parser("list", help="list the catalogue layers",
                              description="List the catalogue layers with their forward "
                              "formulas, inputs and parameters (with defaults).")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def rows() -> list:
    """One dict per layer: name, title, forward, inputs, params {name: default}.

    >>> rows()[0]["name"], rows()[0]["inputs"]
    ('mul', ['x', 'y'])
    """
    return [{"name": s.name, "title": s.title, "forward": text(s.forward),
             "inputs": list(s.input_names),
             "params": {p: s.defaults.get(p) for p in s.param_names}}
            for s in (catalogue.get(n) for n in catalogue.names())]


def run(args) -> int:
    data = rows()
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in data)
    for r in data:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        extra = f"  params: {params}" if params else ""
        print(f"{r['name']:<{width}}  out = {r['forward']}  "
              f"inputs: {', '.join(r['inputs'])}{extra}")
    return 0
