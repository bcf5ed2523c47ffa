"""``derive export LAYER... | --all | --expr ... | --file ... [--backend B] [-o FILE]``: a module of
backward functions and book-style classes, generated from the derivations.

``--backend numpy`` (the default) imports numpy only; ``numba`` the same classes and
functions as compiled loops; ``jax`` one ``jax.custom_vjp`` function per layer
(:mod:`derive.codegen.backends`).

Catalogue layers, or one layer of your own (``--expr``/``--file`` with ``--shape``,
``--weight``, ``--const``, ``--param`` and ``--name``, see :mod:`.layer_args`).
``--api book2`` writes volume 2's classes (``params``/``grads`` lists filled in place)
instead of volume 1's (weights as attributes, gradients as ``dW``, ``db``).
``-o FILE`` is written atomically and never over a file derive did not write
(:mod:`derive.files`: the module's first line is :data:`derive.files.MARKER`).

>>> import argparse
>>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
>>> p.parse_args(["export", "sigmoid", "-o", "m.py"]).output
'm.py'
>>> p.parse_args(["export", "affine"]).api, p.parse_args(["export", "affine", "--api", "book2"]).api
('book1', 'book2')
>>> p.parse_args(["export", "gelu"]).backend, p.parse_args(["export", "gelu", "--backend", "jax"]).backend
('numpy', 'jax')
"""
from __future__ import annotations

import sys

from .. import budget, catalogue, files
from ..codegen.backends import BACKENDS, emitter
from ..codegen.tensor_class import API
from ..errors import DeriveError
from .layer_args import add_layer_arguments, resolve


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="write NumPy code (backward functions and book-style "
                              "classes) generated from the derivations",
                              description="Write a module (--backend numpy, the default: numpy only) with, for each layer, "
                              "a <layer>_backward(dout, ...) function and a class with forward/"
                              "backward. --api book1 (default): volume 1's API, weights to the "
                              "constructor and their gradients as attributes dW, db after "
                              "backward; a 4-D input of Affine/BatchNormalization is flattened. "
                              "--api book2: volume 2's, self.params = [W, b] and self.grads = "
                              "[zeros like W, zeros like b], backward writes the gradients into "
                              "grads in place (grads[0][...] = dW) so an optimizer holding the "
                              "lists sees them; no flattening; layers without weights get empty "
                              "lists. Either way float32 in gives float32 out and gradients.")
    p.add_argument("layers", nargs="*", metavar="LAYER", help="catalogue layers to export")
    p.add_argument("--all", action="store_true", help="export every catalogue layer")
    p.add_argument("--elementwise", action="store_true",
                   help="with --all: only the elementwise layers (numeric/generated.py)")
    p.add_argument("--tensor", action="store_true",
                   help="with --all: only the tensor layers (numeric/matrix_generated.py)")
    add_layer_arguments(p, positional=False)
    p.add_argument("--api", choices=API, default="book1",
                   help="the classes' API: book1 = volume 1 (weights as attributes, gradients "
                   "dW, db; default), book2 = volume 2 (params/grads lists, filled in place)")
    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy",
                   help="what the module runs on: numpy (default; imports numpy only), numba "
                   "(one compiled loop per forward and backward; needs derive[fast]) or jax "
                   "(one jax.custom_vjp function per layer; needs derive[jax])")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout); an "
                   "existing file is replaced only when derive export wrote it (its first line)")
    p.add_argument("--force", action="store_true", help="with -o: replace a file derive did not "
                   "write, or a symbolic link (the link itself; its target is left as it is)")
    p.set_defaults(func=run)


def _derivations(args) -> tuple:
    from ..derivation import derive_spec
    own = args.expr is not None or args.file is not None
    if sum(map(bool, (args.all, args.layers, own))) > 1:
        raise DeriveError("give layer names, --all, or one layer with --expr/--file")
    if (args.elementwise or args.tensor) and not args.all:
        raise DeriveError("--elementwise and --tensor go with --all")
    if args.elementwise and args.tensor:
        raise DeriveError("--elementwise or --tensor, not both")
    if own:
        spec = resolve(args, command="export")
        return [derive_spec(spec)], None
    if args.all:
        from ..derivation import is_tensor
        ds = []
        for n in catalogue.names():
            spec = catalogue.get(n)
            if (args.elementwise or args.tensor) and is_tensor(spec) != args.tensor:
                continue                # only the layers the module holds are derived
            budget.restart()            # --timeout bounds each layer, not the catalogue
            ds.append(derive_spec(spec))
        return ds, "--all" + (" --elementwise" if args.elementwise else "") + (
            " --tensor" if args.tensor else "")
    if not args.layers:
        raise DeriveError("name at least one layer (or --all, or --expr/--file); "
                          "see `derive list`")
    wanted = list(dict.fromkeys(args.layers))
    ds = []
    for n in wanted:
        budget.restart()                # --timeout bounds each layer
        ds.append(derive_spec(catalogue.get(n)))
    return ds, " ".join(wanted)


def _own_command(args) -> str:
    """The export options that make a user's layer again (for the module's header)."""
    import shlex
    parts = ["--expr", shlex.quote(args.expr)] if args.expr is not None else [
        "--file", shlex.quote(args.file)]
    for option in ("shape", "weight", "const", "param", "positive"):
        for value in getattr(args, option):
            parts += [f"--{option}", shlex.quote(value)]
    for option in ("var", "fn", "name"):
        if getattr(args, option, None):
            parts += [f"--{option}", shlex.quote(getattr(args, option))]
    return " ".join(parts)


def run(args) -> int:
    emit = emitter(args.backend)
    derivations, cmd = _derivations(args)
    if cmd is None:
        cmd = _own_command(args)
    if args.api != "book1":
        cmd += f" --api {args.api}"
    if args.backend != "numpy":
        cmd += f" --backend {args.backend}"
    source = files.mark_generated(emit(derivations, cmd=cmd, api=args.api))
    names = [d.spec.name for d in derivations]
    if not args.output:
        sys.stdout.write(source)
        return 0
    files.write_file(args.output, source, force=args.force)
    print(f"wrote {args.output} ({', '.join(names)})", file=sys.stderr)
    return 0
