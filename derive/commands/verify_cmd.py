"""``derive verify``: check a user's layer class, or the whole catalogue three ways.

``derive verify --class mymodule:MySigmoid --layer sigmoid [--strict] [--format json]
[--timeout 60] [--memory 4G]`` runs the class in a separate, limited process
(:mod:`numeric.sandbox`: the current directory is searched first) against the
layer's case (:func:`derive.verification.case_for`): forward against the exported
(derived) class, backward strictly against the exported backward — the exact
gradient, float64, relative 1e-9 per element — and against central finite
differences of the class's own forward. Matrix layers work the same way with the
book's constructors (``Affine(W, b)``, ``BatchNormalization(gamma, beta)``,
``Convolution(W, b, stride, pad)``, each stride and pad of the case tried; an
``Embedding``'s ``forward(idx)`` gets row numbers, backward returns None); the weight
gradients are read where the class keeps them, and the report says which API it found
(``api`` in the JSON: ``book1``, volume 1's attributes ``dW``, ``db``, ``dgamma``,
``dbeta``; ``book2``, volume 2's ``grads`` list aligned with ``params``, which backward
must write in place — a replaced list or array fails: an optimizer holding the lists
would not see it). A class that does not flatten a 4-D input (volume 2's Affine) gets
a note for that input, not a failure; an inverted-dropout mask (0 and 1/(1 − p)) is
recognised, with a note naming the scale. Loss layers are checked with ``dout = 1``;
a float32 class gets float32 tolerances. A layer with several outputs (``--layer lstm``:
``forward`` returns ``h_next, c_next``) gets one upstream gradient per output,
``backward(dh_next, dc_next)``, in the order forward returns them; outputs returned in
another order, or a gradient that ignores one upstream gradient, fail and say so.

Exit 0 when the gradients are right, 1 when they are wrong or the class misbehaves
(exits, crashes, hangs past ``--timeout``, prints more than the cap, floods
warnings; ``--strict``: also in-place changes of ``dout``, a second ``backward`` that
differs, warnings), 2 when the class cannot be imported or the arguments are bad.
Nothing the class prints reaches the report or the JSON.

Without ``--class`` every catalogue layer is checked in this process: the exported
code against the hand-coded reference classes (:data:`numeric.cases.HAND_CODED`)
and finite differences, and the hand-coded classes against the exported code;
exit 0 iff all pass. :func:`report_text` is one layer's row, for the docs pages.
"""
from __future__ import annotations

import json
import re
import sys

from .. import budget
from ..errors import DeriveError
from .layer_args import add_layer_arguments, resolve


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="check a layer class's gradients (or the catalogue's exported code) "
        "against the derivation and finite differences",
        description="With --class MODULE:CLASS --layer LAYER: check a book-style layer class "
        "(forward/backward) against the layer's derived backward, exactly (float64, relative "
        "1e-9; float32 results 1e-4), and against finite differences; the class runs in a "
        "separate, limited process. Either book's API: weight gradients as attributes dW, db "
        "(volume 1) or in a grads list aligned with params and written in place (volume 2); "
        "the report names the API it found. "
        "Without --class: the whole catalogue three ways (exported code, hand-coded reference "
        "classes, finite differences). Exit 0 all pass, 1 failures, 2 bad input.")
    p.add_argument("--class", dest="cls", metavar="MODULE:CLASS",
                   help="the class to check, e.g. mymodule:MySigmoid")
    p.add_argument("--layer", metavar="LAYER", help="the catalogue layer it implements")
    add_layer_arguments(p, positional=False)
    p.add_argument("--strict", action="store_true",
                   help="also fail on in-place changes of dout/inputs, on a second backward "
                   "that differs from the first, and on warnings")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--seed", type=int, default=0, help="random inputs' seed (default 0)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="stop the class's process after this long (default 60)")
    p.add_argument("--memory", default="4G", metavar="SIZE",
                   help="address-space limit of the class's process, e.g. 512M, 4G (default 4G)")
    p.set_defaults(func=run)


def parse_memory(text: str) -> int:
    """``"512M"`` → bytes; a bare number is MiB.

    >>> parse_memory("4G"), parse_memory("512")
    (4294967296, 536870912)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m:
        raise DeriveError(f"--memory {text}: write a size such as 512M or 4G")
    unit = {"": 1 << 20, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    size = int(float(m[1]) * unit[m[2].upper()])
    if size < 256 << 20:
        raise DeriveError(f"--memory {text}: at least 256M (Python and NumPy need that much)")
    return size


def _check_spec(spec: str) -> None:
    modname, _, clsname = spec.partition(":")
    if spec.count(":") != 1 or not all(part.replace(".", "").isidentifier() and part
                                       for part in (modname, clsname)) \
            or not clsname.isidentifier():
        raise DeriveError(f"--class {spec}: write it as module:ClassName")


def run(args) -> int:
    args.expr_given = args.expr is not None or args.file is not None
    if args.cls is None:
        if args.layer or args.expr_given:
            raise DeriveError("--layer/--expr/--file need --class (without --class the whole "
                              "catalogue is checked)")
        return _catalogue(args)
    if not args.layer and not args.expr_given:
        raise DeriveError("--class needs the layer it implements: --layer LAYER, or "
                          "--expr/--file with its shapes")
    _check_spec(args.cls)
    if not args.timeout > 0:
        raise DeriveError("--timeout: a number of seconds above 0")
    from numeric.sandbox import verify_isolated
    from ..codegen import emit_module
    from ..derivation import derive_spec
    from ..verification import case_of
    spec = resolve(_as_layer_args(args), command="verify")
    d = derive_spec(spec)
    case, source, class_name = case_of(d), emit_module([d], cmd=spec.name), spec.class_name
    args.layer = args.layer or spec.name
    outcome = verify_isolated(args.cls, case, source, class_name, strict=args.strict,
                              seed=args.seed, timeout=args.timeout,
                              memory=parse_memory(args.memory))
    if outcome.bad_input:
        raise DeriveError(outcome.bad_input)
    if args.format == "json":
        print(json.dumps(_json(args, outcome), indent=2))
    else:
        print(f"{args.cls} as {args.layer}")
        print(_text(args.layer, outcome))
    return 0 if outcome.ok else 1


def _as_layer_args(args):
    """The verify arguments as the front door reads them (``--layer`` is the name)."""
    import argparse
    ns = argparse.Namespace(**vars(args))
    ns.layer = args.layer
    return ns


def _json(args, outcome) -> dict:
    data = dict(outcome.report) if outcome.report is not None else _empty(args.layer)
    if outcome.failure:
        data["ok"] = False
        data["failures"] = [outcome.failure] + list(data.get("failures", []))
    return {"class": args.cls, "layer": args.layer, **data, "failure": outcome.failure,
            "output_bytes": outcome.output_bytes}


def _empty(layer: str) -> dict:
    from numeric.report import Report
    return Report(name=layer).to_dict()


def _text(layer: str, outcome) -> str:
    lines = outcome.text.splitlines() if outcome.report is not None else [f"{layer}: OK"]
    if outcome.failure:
        lines[0] = f"{layer}: FAIL" + (" (strict)" if lines[0].endswith("(strict)") else "")
        lines.insert(1, f"  ! {outcome.failure}")
    if outcome.output_bytes:
        lines.append(f"  note: the class wrote {outcome.output_bytes} bytes to stdout/stderr "
                     "(not shown)")
    return "\n".join(lines)


# --- the catalogue, three ways -------------------------------------------------------------

def _catalogue(args) -> int:
    from ..codegen import emit_module
    from ..derivation import derive_spec
    from .. import catalogue
    from ..verification import LEGEND, format_table, layer_row
    from numeric.cases import CASES
    rows, unverified = [], []
    names = catalogue.names()
    for k, name in enumerate(names, 1):
        if name not in CASES:           # no hand-coded class to hold the export against yet
            print(f"[{k}/{len(names)}] {name}: not verified (no hand-coded reference case yet)",
                  file=sys.stderr)
            unverified.append(name)
            continue
        print(f"[{k}/{len(names)}] verify {name}", file=sys.stderr)
        budget.restart()                # --timeout bounds each layer, not the catalogue
        d = derive_spec(catalogue.get(name))
        rows.append(layer_row(d, emit_module([d], cmd=name), seed=args.seed,
                              strict=args.strict))
    ok = all(r["ok"] for r in rows)
    if args.format == "json":
        print(json.dumps({"ok": ok, "layers": rows, "not_verified": unverified}, indent=2))
        return 0 if ok else 1
    print(format_table(rows))
    if unverified:
        print("not verified (no hand-coded reference case yet): " + ", ".join(unverified))
    print("exported code (generated now from each derivation) vs the hand-coded reference "
          "classes (numeric/reference.py, matrix_reference.py, nlp_reference.py, "
          "conv_reference.py, time_reference.py) vs finite differences; "
          + LEGEND + "; " + ("all pass" if ok else "FAILURES above"))
    return 0 if ok else 1
