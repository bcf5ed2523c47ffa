"""``derive export LAYER... [-o FILE] | --all [--elementwise]``: a numpy-only module of backward
functions and classes.

Names may come from both catalogues: the elementwise layers (:mod:`derive.catalogue`)
and the matrix layers (:mod:`derive.matrix`: affine, softmax, ...).  One module is
written, elementwise layers first, then the matrix section.  ``--all`` exports
both catalogues; ``--all --elementwise`` only the elementwise one (that is what
``numeric/generated.py`` holds; the matrix layers alone are ``numeric/matrix_generated.py``).
``-o FILE`` is written atomically and never over a file derive did not write
(:mod:`derive.files`: the module's first line is :data:`derive.files.MARKER`).

>>> import argparse
>>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
>>> p.parse_args(["export", "sigmoid", "-o", "m.py"]).output
'm.py'
"""
from __future__ import annotations

import sys

from .. import catalogue, files
from ..errors import DeriveError


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="write NumPy code (backward functions and book-style "
                              "classes) generated from the derivations",
                              description="Write a module that imports numpy only: for each layer "
                              "a <layer>_backward(dout, ...) function and a class with forward/"
                              "backward.")
    p.add_argument("layers", nargs="*", metavar="LAYER", help="catalogue layers to export")
    p.add_argument("--all", action="store_true",
                   help="export every layer (elementwise and matrix)")
    p.add_argument("--elementwise", action="store_true",
                   help="with --all: only the elementwise catalogue (numeric/generated.py)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout); an "
                   "existing file is replaced only when derive export wrote it (its first line)")
    p.add_argument("--force", action="store_true", help="with -o: replace a file derive did not "
                   "write, or a symbolic link (the link itself; its target is left as it is)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..codegen import emit_module
    if args.all and args.layers:
        raise DeriveError("give layer names or --all, not both")
    if not args.all and not args.layers:
        raise DeriveError("name at least one layer (or --all); see `derive list`")
    if args.elementwise and not args.all:
        raise DeriveError("--elementwise goes with --all")
    if args.all:
        names = catalogue.names()
        matrix = [] if args.elementwise else catalogue.matrix_names()
        cmd = "--all --elementwise" if args.elementwise else "--all"
    else:
        wanted = list(dict.fromkeys(args.layers))
        for n in wanted:
            if not catalogue.is_matrix(n):
                catalogue.get(n)  # unknown names fail here, with suggestions from both catalogues
        names = [n for n in wanted if not catalogue.is_matrix(n)]
        matrix = [n for n in wanted if catalogue.is_matrix(n)]
        cmd = " ".join(wanted)  # no -o path: the bytes do not depend on it
    source = files.mark_generated(emit_module(names, cmd=cmd, matrix=matrix))
    names = names + matrix
    if not args.output:
        sys.stdout.write(source)
        return 0
    files.write_file(args.output, source, force=args.force)
    print(f"wrote {args.output} ({', '.join(names)})", file=sys.stderr)
    return 0
