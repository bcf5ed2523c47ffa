"""``derive show``: the proven walkthrough of a layer in text, LaTeX, MathML, Markdown or JSON."""
from __future__ import annotations

import sys

from ..derivation import derive
from ..errors import DeriveError
from ..render import FORMATS, render


def register(subparsers) -> None:
    p = subparsers.add_parser("show", help="show a layer's backward pass, node by node",
                              description="Derive a layer's backward pass and show it node by "
                              "node, each step with its proof.")
    p.add_argument("layer", nargs="?", help="a catalogue layer (see `derive list`)")
    p.add_argument("--expr", help="a custom forward formula, e.g. 'x*tanh(log(1 + exp(x)))'")
    p.add_argument("--var", help="the formula's input names in order, comma-separated")
    p.add_argument("--wrt", help="only the gradient to this input")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--standalone", action="store_true",
                   help="with --format latex: a complete document")
    p.set_defaults(func=run)


def split_names(text: str | None):
    """``"x, y"`` → ``["x", "y"]``; None stays None; a name given twice is bad input.

    >>> split_names("y, x")
    ['y', 'x']
    """
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DeriveError(f"--var {text}: {', '.join(twice)} given more than once; name each "
                          "input once, in order")
    if not names:
        raise DeriveError("--var: give the formula's input names, comma-separated")
    return names


def need_one_layer(args) -> None:
    """A layer name or --expr, exactly one (bad input otherwise: exit 2)."""
    if args.layer is None and args.expr is None:
        cmd = f"derive {getattr(args, 'command', None) or 'show'}"
        raise DeriveError(f"give a layer name (see `derive list`) or a formula with --expr, "
                          f"e.g. `{cmd} sigmoid` or `{cmd} --expr \"x*tanh(x)\"`")
    if args.layer is not None and args.expr is not None:
        raise DeriveError(f"give a layer name or --expr FORMULA, not both (got {args.layer} "
                          f"and --expr {args.expr})")


def run(args) -> int:
    need_one_layer(args)
    if args.standalone and args.format != "latex":
        raise DeriveError("--standalone only applies to --format latex")
    d = derive(args.layer, expr=args.expr, wrt=args.wrt, var=split_names(args.var))
    options = {"standalone": True} if args.standalone else {}
    sys.stdout.write(render(d, args.format, **options))
    return 0
