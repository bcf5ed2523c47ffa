"""The one front door on the command line: a catalogue name, ``--expr`` or ``--file``.

Every command that takes a layer takes it the same way::

    derive show sigmoid
    derive show --expr "ms = np.mean(x**2, axis=1, keepdims=True); out = x * g / np.sqrt(ms + eps)" \\
                --shape x=N,D --shape g=D --weight g --const eps=1e-6
    derive show --file my_layer.py [--fn rms_norm]

``--shape NAME=D1,D2,...`` (dims are identifiers or integers; a name without a shape is
a scalar that broadcasts), ``--weight A,B`` (differentiated, constructor arguments),
``--const NAME[=VALUE]`` (not differentiated, forward arguments after the inputs),
``--param NAME=VALUE`` (hyper-parameters, constructor keywords), ``--positive NAME``,
``--var`` (the inputs' order), ``--name`` (the exported function and class names).
The text is parsed, never run; a ``--file`` is read, never imported.

>>> import argparse
>>> p = argparse.ArgumentParser(); add_layer_arguments(p)
>>> spec = resolve(p.parse_args(["--expr", "np.tanh(x @ W + b)", "--shape", "x=N,D",
...                              "--shape", "W=D,M", "--shape", "b=M", "--weight", "W,b"]))
>>> spec.input_names, spec.weight_names, spec.out_shape
(('x',), ('W', 'b'), (N, M))
"""
from __future__ import annotations

import re

from ..errors import DeriveError

MAX_FILE_BYTES = 200_000
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def add_layer_arguments(p, *, positional: bool = True) -> None:
    """The layer options of every command (``positional``: a catalogue name as argument)."""
    if positional:
        p.add_argument("layer", nargs="?", help="a catalogue layer (see `derive list`)")
    p.add_argument("--expr", metavar="FORMULA", help="the layer's forward in NumPy syntax: one "
                   "expression, or statements separated by ';' (the last is the output)")
    p.add_argument("--file", metavar="FILE.py", help="a Python file with a def of the forward "
                   "(read and parsed, never imported)")
    p.add_argument("--fn", metavar="NAME", help="with --file: which function of the file")
    p.add_argument("--var", metavar="NAMES", help="the scalar inputs' order, comma-separated")
    p.add_argument("--shape", action="append", default=[], metavar="NAME=D1,D2",
                   help="a name's shape, dims as identifiers (any size) or integers; repeatable")
    p.add_argument("--weight", action="append", default=[], metavar="A,B",
                   help="differentiated names given to the constructor (gradients dA, dB)")
    p.add_argument("--const", action="append", default=[], metavar="NAME[=VALUE]",
                   help="names not differentiated, given to forward after the inputs")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="hyper-parameters, constructor keywords with defaults")
    p.add_argument("--positive", action="append", default=[], metavar="NAMES",
                   help="names known to be positive (e.g. the input of a log)")
    p.add_argument("--name", metavar="NAME", help="the layer's name (function <name>_backward "
                   "and its class)")


def _names(items, option) -> list:
    out = []
    for item in items:
        for n in (t.strip() for t in item.split(",")):
            if not n:
                continue
            if not _NAME.match(n):
                raise DeriveError(f"{option} {n!r}: not a name")
            if n in out:
                raise DeriveError(f"{option}: {n} given more than once")
            out.append(n)
    return out


def _valued(items, option, need_value: bool) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not _NAME.match(name):
            raise DeriveError(f"{option} {item!r}: write NAME{'=VALUE' if need_value else '[=VALUE]'}")
        if name in out:
            raise DeriveError(f"{option}: {name} given more than once")
        if not sep:
            if need_value:
                raise DeriveError(f"{option} {name}: give its value, {name}=VALUE")
            out[name] = None
            continue
        try:
            out[name] = float(value)
        except ValueError:
            raise DeriveError(f"{option} {item!r}: {value!r} is not a number") from None
    return out


def _shapes(items) -> dict:
    out = {}
    for item in items:
        name, sep, dims = item.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise DeriveError(f"--shape {item!r}: write NAME=D1,D2 (e.g. --shape x=N,D)")
        if name in out:
            raise DeriveError(f"--shape: {name} given more than once")
        out[name] = dims
    return out


def _layer_name(args, default: str) -> str:
    name = args.name or default
    if not _NAME.match(name):
        raise DeriveError(f"--name {name!r}: a layer name is an identifier (rms_norm)")
    return name


def resolve(args, *, command: str = "show"):
    """The :class:`~derive.spec.LayerSpec` the arguments name (exactly one of name, --expr,
    --file)."""
    given = [a for a in ("layer", "expr", "file") if getattr(args, a, None) is not None]
    if not given:
        raise DeriveError(f"give a layer name (see `derive list`) or a formula with --expr, "
                          f"e.g. `derive {command} sigmoid` or `derive {command} --expr "
                          f"\"x*tanh(x)\"` (or --file my_layer.py)")
    if len(given) > 1:
        raise DeriveError(f"give one of a layer name, --expr or --file, not {' and '.join(given)}")
    extras = [o for o in ("var", "fn") if getattr(args, o, None)] + [
        o for o in ("shape", "weight", "const", "param", "positive") if getattr(args, o, None)]
    if given == ["layer"]:
        if extras or args.name:
            raise DeriveError(f"--{(extras or ['name'])[0]} applies only to --expr and --file")
        from .. import catalogue
        return catalogue.get(args.layer)
    if given == ["file"]:
        if args.var or args.weight or args.const or args.param:
            raise DeriveError("with --file the roles come from the def's annotations; "
                              "only --shape, --positive, --fn and --name apply")
        from ..program import layer_from_def
        source = _read(args.file)
        return layer_from_def(source, fn=args.fn, shapes=_shapes(args.shape),
                              name=_layer_name(args, args.fn or "") if (args.name or args.fn)
                              else None, positive=_names(args.positive, "--positive"))
    if args.fn:
        raise DeriveError("--fn applies only to --file")
    from ..program import layer_from_text
    var = _names([args.var], "--var") if args.var is not None else None
    if var is not None and not var:
        raise DeriveError("--var: give the formula's input names, comma-separated")
    return layer_from_text(args.expr, shapes=_shapes(args.shape),
                           weights=_names(args.weight, "--weight"),
                           consts=_valued(args.const, "--const", need_value=False),
                           params=_valued(args.param, "--param", need_value=True),
                           positive=_names(args.positive, "--positive"), var=var,
                           name=_layer_name(args, "expr"))


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DeriveError(f"--file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise DeriveError(f"--file {path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DeriveError(f"--file {path}: not UTF-8 text") from None
