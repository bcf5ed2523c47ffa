"""``derive verify``: check a user's layer class, or the whole catalogue three ways.

``derive verify --class mymodule:MySigmoid --layer sigmoid [--strict] [--format json]``
imports the class (the current directory is searched first), runs it against the
layer's case — forward against the formula, backward against the backward
generated from the derivation and against central finite differences — and
exits 0 when the gradients are right, 1 when they are wrong (``--strict``: also
for in-place changes of ``dout`` and NumPy warnings), 2 when the class cannot be
imported or the arguments are bad.

Without ``--class`` every catalogue layer is checked: the exported code
(:mod:`numeric.generated`) against the hand-coded :mod:`numeric.reference`
classes and finite differences, and the reference classes against the exported
backward; exit 0 iff all pass.

The matrix layers (affine, softmax, softmax_with_loss, mse, batchnorm, layernorm,
dropout) work the same way through :mod:`numeric.matrix_verify`: ``--class m:MyAffine
--layer affine`` builds the class with the book's constructor (``Affine(W, b)``,
``BatchNormalization(gamma, beta)``, ...) and checks forward, the returned ``dx`` and
the parameter-gradient attributes (``dW``, ``db``, ``dgamma``, ``dbeta``) against the
exported class (:mod:`numeric.matrix_generated`) and finite differences; loss layers
are checked with ``dout = 1``.  The table without ``--class`` adds them:
``numeric/matrix_generated.py`` vs ``numeric/matrix_reference.py`` vs finite differences.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import os
import sys

from ..errors import DeriveError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="check a layer class's gradients (or the catalogue's exported code) "
        "against the derivation and finite differences",
        description="With --class MODULE:CLASS --layer LAYER: check a book-style layer class "
        "(forward/backward) against the layer's derived backward, exactly (float64, relative "
        "1e-9), and against finite differences; the class runs in a separate, limited process. "
        "Without --class: the whole catalogue three ways (exported code, hand-coded reference "
        "classes, finite differences). Exit 0 all pass, 1 failures, 2 bad input.")
    p.add_argument("--class", dest="cls", metavar="MODULE:CLASS",
                   help="the class to check, e.g. mymodule:MySigmoid")
    p.add_argument("--layer", metavar="LAYER", help="the catalogue layer it implements")
    p.add_argument("--strict", action="store_true",
                   help="also fail on in-place changes of dout/inputs and on warnings")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--seed", type=int, default=0, help="random inputs' seed (default 0)")
    p.set_defaults(func=run)


def load_class(spec: str):
    """``module:Class`` → the class; the current directory is put first on sys.path."""
    if spec.count(":") != 1 or not all(spec.split(":")):
        raise DeriveError(f"--class {spec}: write it as module:ClassName")
    modname, clsname = spec.split(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        raise DeriveError(f"--class {spec}: cannot import {exc.name!r} "
                          f"(looked in {cwd} and PYTHONPATH)") from None
    except Exception as exc:  # the user's module may raise anything on import
        raise DeriveError(f"--class {spec}: importing {modname} raised "
                          f"{type(exc).__name__}: {exc}") from None
    cls = getattr(module, clsname, None)
    if not inspect.isclass(cls):
        raise DeriveError(f"--class {spec}: {modname} has no class {clsname}")
    return cls


def derived_case(layer: str):
    """The layer's case with forward and backward from the exported (derived) code."""
    from numeric import generated
    from numeric.cases import CASES
    from .. import catalogue
    spec = catalogue.get(layer)
    if layer not in CASES:
        raise DeriveError(f"--layer {layer}: no numeric case for it")
    case = CASES[layer]
    fn = getattr(generated, f"{layer}_backward")
    cls = getattr(generated, spec.class_name)
    wanted = [p for p in inspect.signature(fn).parameters if p != "dout"]

    def forward(*inputs):
        return cls(**case.params).forward(*inputs)

    def backward(dout, *inputs):
        values = dict(zip(spec.input_names, inputs))
        if "out" in wanted:
            values["out"] = forward(*inputs)
        values.update(case.params)
        grads = fn(dout, **{k: values[k] for k in wanted if k in values})
        return grads if isinstance(grads, tuple) else (grads,)
    return dataclasses.replace(case, forward=forward, backward=backward)


def run(args) -> int:
    from numeric.verify import verify_class
    if args.cls is None:
        if args.layer:
            raise DeriveError("--layer needs --class (without --class the whole catalogue is "
                              "checked)")
        return _catalogue(args)
    if not args.layer:
        raise DeriveError("--class needs --layer LAYER (which catalogue layer it implements)")
    from .. import catalogue
    if catalogue.is_matrix(args.layer):
        from numeric.matrix_verify import verify_matrix_class
        expected = _matrix_classes(args.layer)[0]
        cls = load_class(args.cls)
        report = verify_matrix_class(cls, args.layer, expected, strict=args.strict,
                                     seed=args.seed)
    else:
        case = derived_case(args.layer)
        cls = load_class(args.cls)
        report = verify_class(cls, case, strict=args.strict, seed=args.seed)
    if args.format == "json":
        print(json.dumps({"class": args.cls, "layer": args.layer, **report.to_dict()}, indent=2))
    else:
        print(f"{args.cls} as {args.layer}")
        print(report.render())
    return 0 if report.ok else 1


def _matrix_classes(layer: str):
    """(exported class, book-style reference class) of a matrix layer."""
    from numeric import matrix_generated, matrix_reference
    from ..matrix.specs import get
    name = get(layer).class_name
    return getattr(matrix_generated, name), getattr(matrix_reference, name)


def _row(name, mine, ref) -> dict:
    return {"layer": name, "ok": mine.ok and ref.ok,
            "exported_vs_reference": mine.backward.max_abs,
            "exported_vs_fd": mine.fd.max_abs, "reference_vs_fd": ref.fd.max_abs,
            "exported_vs_fd_rel": mine.fd.max_rel, "reference_vs_fd_rel": ref.fd.max_rel,
            "forward": mine.forward.max_abs,
            "mutation": any((mine.mutated_dout, mine.aliased_dout, mine.mutated_inputs,
                             mine.mutated_cache)),
            "warnings": len(mine.warnings) + len(ref.warnings),
            "failures": mine.failures + [f"reference: {f}" for f in ref.failures]}


def layer_row(name: str, *, seed: int = 0, strict: bool = False) -> dict:
    """Three-way check of one catalogue layer: exported code, reference class, finite differences."""
    from .. import catalogue
    if catalogue.is_matrix(name):
        from numeric.matrix_verify import verify_matrix_class
        exported, reference = _matrix_classes(name)
        mine = verify_matrix_class(exported, name, reference, strict=True, seed=seed)
        ref = verify_matrix_class(reference, name, exported, strict=strict, seed=seed)
        return _row(name, mine, ref)
    from numeric import generated
    from numeric.cases import CASES
    from numeric.reference import REFERENCE
    from numeric.verify import verify_class
    exported = getattr(generated, catalogue.get(name).class_name)
    mine = verify_class(exported, CASES[name], strict=True, seed=seed)
    ref = verify_class(REFERENCE[name], derived_case(name), strict=strict, seed=seed)
    return _row(name, mine, ref)


_HEAD = ("layer", "fwd err", "exp-ref", "exp-fd", "ref-fd", "mutation", "warnings", "verdict")
_LEGEND = ("fwd err, exp-ref: max abs error of the exported forward/backward against the "
           "reference class; exp-fd, ref-fd: max relative error against central finite "
           "differences (where |value| > 1e-5)")


def format_table(rows) -> str:
    lines = [_HEAD] + [(r["layer"], f"{r['forward']:.1e}", f"{r['exported_vs_reference']:.1e}",
                        f"{r['exported_vs_fd_rel']:.1e}", f"{r['reference_vs_fd_rel']:.1e}",
                        "yes" if r["mutation"] else "no", str(r["warnings"]),
                        "PASS" if r["ok"] else "FAIL") for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_HEAD))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    out += [f"{r['layer']}: {f}" for r in rows for f in r["failures"]]
    return "\n".join(out)


def report_text(name: str) -> str:
    """One layer's three-way verification as text (the docs pages show it)."""
    return f"{format_table([layer_row(name)])}\n{_LEGEND}"


def _catalogue(args) -> int:
    from numeric.cases import CASES
    from numeric.matrix_verify import MATRIX_CASES
    from .. import catalogue
    rows = []
    names = [n for n in catalogue.names() if n in CASES]
    names += [n for n in catalogue.matrix_names() if n in MATRIX_CASES]
    for k, name in enumerate(names, 1):
        print(f"[{k}/{len(names)}] verify {name}", file=sys.stderr)
        rows.append(layer_row(name, seed=args.seed, strict=args.strict))
    ok = all(r["ok"] for r in rows)
    if args.format == "json":
        print(json.dumps({"ok": ok, "layers": rows}, indent=2))
        return 0 if ok else 1
    print(format_table(rows))
    print("exported code (numeric/generated.py, numeric/matrix_generated.py) vs "
          "numeric/reference.py, numeric/matrix_reference.py vs finite differences; "
          + _LEGEND + "; " + ("all pass" if ok else "FAILURES above"))
    return 0 if ok else 1
