"""``derive list``: the catalogue layers, their forward programs, names, shapes and roles."""
from __future__ import annotations

import json

from .. import catalogue
from ..render.printers import text
from ..tensor import shape_of, show_shape


def register(subparsers) -> None:
    p = subparsers.add_parser("list", help="list the catalogue layers",
                              description="List the catalogue layers with their forward "
                              "programs, inputs (with shapes), weights, consts and parameters "
                              "(with defaults).")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def row(spec) -> dict:
    """One layer as data: name, kind, title, forward program, names by role, shapes."""
    program = [f"{s.name} = {text(v)}" for s, v in spec.program]
    output = spec.output_in_names
    program.append(f"out = {text(output)}")
    names = (*spec.differentiable, *spec.consts, *spec.params)
    return {"name": spec.name, "kind": "tensor" if _tensor(spec) else "elementwise",
            "title": spec.title, "forward": "; ".join(program),
            "inputs": list(spec.input_names), "weights": list(spec.weight_names),
            "consts": {c: spec.defaults.get(c) for c in spec.const_names},
            "params": {p: spec.defaults.get(p) for p in spec.param_names},
            "shapes": {s.name: show_shape(shape_of(s)) for s in names if shape_of(s)}}


def _tensor(spec) -> bool:
    from ..derivation import is_tensor
    return is_tensor(spec)


def rows() -> list:
    """One dict per catalogue layer (see :func:`row`).

    >>> rows()[0]["name"], rows()[0]["inputs"], rows()[0]["kind"]
    ('mul', ['x', 'y'], 'elementwise')
    >>> [r for r in rows() if r["name"] == "affine"][0]["forward"]
    'out = x @ W + b'
    """
    return [row(catalogue.get(n)) for n in catalogue.names()]


def run(args) -> int:
    data = rows()
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in data)
    for r in data:
        names = [f"{n} {r['shapes'][n]}" if n in r["shapes"] else n for n in r["inputs"]]
        extra = ""
        if r["weights"]:
            extra += "  weights: " + ", ".join(f"{w} {r['shapes'][w]}" for w in r["weights"])
        if r["consts"]:
            extra += "  consts: " + ", ".join(
                f"{c} {r['shapes'].get(c, '')}".strip() for c in r["consts"])
        if r["params"]:
            extra += "  params: " + ", ".join(f"{k}={v}" for k, v in r["params"].items())
        inputs = f"  inputs: {', '.join(names)}" if names else ""
        print(f"{r['name']:<{width}}  {r['kind']:<11}  {r['forward']}{inputs}{extra}")
    return 0
