"""``derive list``: the catalogue layers (elementwise and matrix), their forward formulas,
inputs (with shapes) and params."""
from __future__ import annotations

import json

from .. import catalogue
from ..render.printers import text


def register(subparsers) -> None:
    p = subparsers.add_parser("list", help="list the catalogue layers (elementwise and matrix)",
                              description="List the catalogue layers with their forward "
                              "formulas, inputs and parameters (with defaults).")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def rows() -> list:
    """One dict per layer: name, kind, title, forward, inputs, params {name: default}.

    Matrix layers (kind "matrix") also give ``shapes`` {input: shape}; their params are
    the constants, not differentiated, with their shapes.

    >>> rows()[0]["name"], rows()[0]["inputs"], rows()[0]["kind"]
    ('mul', ['x', 'y'], 'elementwise')
    >>> [r for r in rows() if r["name"] == "affine"][0]["forward"]
    'out = x @ W + b'
    """
    data = [{"name": s.name, "kind": "elementwise", "title": s.title,
             "forward": text(s.forward), "inputs": list(s.input_names),
             "params": {p: s.defaults.get(p) for p in s.param_names}}
            for s in (catalogue.get(n) for n in catalogue.names())]
    return data + [_matrix_row(n) for n in catalogue.matrix_names()]


def _matrix_row(name: str) -> dict:
    from ..matrix import specs
    from ..matrix.tensor import show_shape
    layer = specs.get(name)
    forward = "; ".join(f"{n} = {e.numpy()}" for n, _, e in layer.nodes)
    return {"name": layer.name, "kind": "matrix", "title": layer.title, "forward": forward,
            "inputs": list(layer.inputs),
            "shapes": {k: show_shape(v) for k, v in layer.inputs.items()},
            "params": {k: show_shape(v) for k, v in layer.constants.items()}}


def run(args) -> int:
    data = rows()
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in data)
    for r in data:
        if r["kind"] == "matrix":
            inputs = ", ".join(f"{k} {v}" for k, v in r["shapes"].items())
            params = ", ".join(f"{k} {v}" for k, v in r["params"].items())
            extra = f"  constants: {params}" if params else ""
            forward = r["forward"]
        else:
            inputs = ", ".join(r["inputs"])
            params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            extra = f"  params: {params}" if params else ""
            forward = "out = " + r["forward"]
        print(f"{r['name']:<{width}}  {r['kind']:<11}  {forward}  inputs: {inputs}{extra}")
    return 0
