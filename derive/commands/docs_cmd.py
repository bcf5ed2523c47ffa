"""``derive docs``: write the derivation site (HTML, Markdown, LaTeX) for the catalogue,
and for layers of your own (``--file a.py --file b.py``: every ``def`` in them, read and
parsed through the same front door, never imported).

Progress goes to stderr as ``[k/n] layer``; ``--quiet`` silences it,
``--timings`` prints the seconds per layer and the total.
"""
from __future__ import annotations

import sys
import time

from .. import catalogue, docs
from ..render.lang import LANGS


def register(subparsers) -> None:
    p = subparsers.add_parser("docs", help="write the derivation site into a folder",
                              description="Write <layer>.html, <layer>.md (+ .svg), <layer>.tex, "
                              "index.html, README.md and derivations.tex for catalogue layers. "
                              "The site is staged and switched in one step: after an interruption "
                              "the folder holds the old site or the new one (a plain re-run "
                              "finishes an interrupted switch).")
    p.add_argument("-o", "--out", default="output", help="output folder (default: output)")
    p.add_argument("--format", default=",".join(docs.FORMATS),
                   help="comma-separated formats among html, md, tex (default: all)")
    p.add_argument("--lang", default="en",
                   help="comma-separated languages of the prose among en, ko, ja (default: en); "
                   "English goes into the output folder, ko and ja into its ko/ and ja/ "
                   "subfolders, with the same file names")
    p.add_argument("--layers", default=None, help="comma-separated layer names (default: all)")
    p.add_argument("--file", action="append", default=[], metavar="FILE.py",
                   help="add a page for each def of the forward in this file; repeatable")
    p.add_argument("--force", action="store_true",
                   help="overwrite files in the folder that derive did not write, and replace "
                   "symbolic links there (the links, not their targets)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--timings", action="store_true",
                   help="print seconds per layer (slowest first) and the total on stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    formats = docs.parse_list(args.format, docs.FORMATS, "format")
    langs = docs.parse_list(args.lang, LANGS, "lang")
    layers = docs.parse_list(args.layers, catalogue.names(), "layers")
    specs = _own_layers(args.file, layers)
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    start = time.perf_counter()
    written = 0
    for lang in langs:
        site = docs.generate(args.out, formats, layers, force=args.force, progress=progress,
                             specs=specs, lang=lang)
        written += len(site.files)
    total = time.perf_counter() - start
    if args.timings:
        for name, sec in sorted(site.timings.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"{sec:7.3f} s  {name}", file=sys.stderr)
        print(f"{total:7.3f} s  total ({written} files)", file=sys.stderr)
    if not args.quiet:
        where = ", ".join(args.out if lang == "en" else str(docs.lang_folder(args.out, lang))
                          for lang in langs)
        print(f"wrote {written} files into {where}", file=sys.stderr)
    return 0


def _own_layers(paths, layers) -> list:
    """Every def of the files, as layers; a name clash with another page is bad input."""
    from ..errors import DeriveError
    from ..program import function_names, layer_from_def
    from .layer_args import _read
    specs, seen = [], set(layers)
    for path in paths:
        source = _read(path)
        try:
            names = function_names(source)
        except DeriveError as exc:
            raise DeriveError(f"--file {path}: {exc}") from None
        if not names:
            raise DeriveError(f"--file {path}: no def of a forward in it")
        for name in names:
            if name in seen:
                raise DeriveError(f"--file {path}: a page named {name} is already in the site; "
                                  "rename the function")
            seen.add(name)
            try:
                specs.append(layer_from_def(source, fn=name))
            except DeriveError as exc:
                raise DeriveError(f"--file {path}, def {name}: {exc}") from None
    return specs
