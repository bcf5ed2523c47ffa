"""``derive show``: the proven walkthrough of a layer in text, LaTeX, MathML, Markdown or JSON.

The layer is a catalogue name, ``--expr`` or ``--file`` (:mod:`.layer_args`).
"""
from __future__ import annotations

import sys

from ..derivation import derive_spec
from ..errors import DeriveError
from ..render import FORMATS, render
from ..render.lang import LANGS
from .layer_args import add_layer_arguments, resolve


def register(subparsers) -> None:
    p = subparsers.add_parser("show", help="show a layer's backward pass, node by node",
                              description="Derive a layer's backward pass and show it node by "
                              "node, each step with its proof. The layer is a catalogue name, "
                              "a forward in NumPy syntax (--expr) or a def in a file (--file).")
    add_layer_arguments(p)
    p.add_argument("--wrt", help="only the gradient to this input")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--standalone", action="store_true",
                   help="with --format latex: a complete document")
    p.add_argument("--lang", choices=LANGS, default="en",
                   help="language of the prose (en, ko 한국어, ja 日本語); the mathematics is "
                   "the same in every language; JSON stays English (default: en)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.standalone and args.format != "latex":
        raise DeriveError("--standalone only applies to --format latex")
    d = derive_spec(resolve(args, command="show"), args.wrt)
    options = {"standalone": True} if args.standalone else {}
    if args.lang != "en":
        options["lang"] = args.lang
    sys.stdout.write(render(d, args.format, **options))
    return 0
