"""The command line before and after argparse: formulas that begin with ``-``, errors as JSON,
and an output that may be closed, full or a broken pipe.

argparse reads any token that begins with ``-`` as an option, so ``--expr "-x*x"``
fails with "expected one argument". :func:`protect_formulas` rewrites such values
before parsing: the value of a formula option (:data:`FORMULA_OPTIONS`) becomes
``--expr=-x*x``, and a positional formula (``derive graph "-x*x" --at x=3``) is
moved behind ``--``.

>>> protect_formulas(["show", "--expr", "-x*x"])
['show', '--expr=-x*x']
>>> protect_formulas(["graph", "-x*x", "--at", "x=3"], {"graph": {"--at", "--format", "-h"}})
['graph', '--at', 'x=3', '--', '-x*x']
>>> error_json(DeriveError("no such layer"))
{'error': {'kind': 'DeriveError', 'message': 'no such layer', 'exit_code': 2}}
"""
from __future__ import annotations

import errno
import os
import re
import sys

from .errors import DeriveError, UsageError

__all__ = ["FORMULA_OPTIONS", "POSITIONAL_FORMULA", "protect_formulas", "wants_json",
           "error_json", "ClosedOutput", "guard_streams", "silence_stdout"]

# options whose value is a formula (may begin with "-"); commands whose positional is one
FORMULA_OPTIONS = ("--expr", "--backward")
POSITIONAL_FORMULA = ("graph",)
_OPTION_LIKE = re.compile(r"--?[A-Za-z][A-Za-z0-9_-]*")


def protect_formulas(argv, options_of=None) -> list:
    """``argv`` with formula values that begin with ``-`` made unambiguous for argparse.

    ``options_of``: command → its option strings (a token that is one of them stays an
    option); without it only the formula options are rewritten.
    """
    argv, out = list(argv), []
    command = next((a for a in argv if not a.startswith("-")), None)
    known = set((options_of or {}).get(command, ()))
    trailing, i = [], 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            out += argv[i:]
            break
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if token in FORMULA_OPTIONS and nxt is not None and nxt.startswith("-") \
                and not (nxt in known or nxt == "--"):
            out.append(f"{token}={nxt}")
            i += 2
            continue
        if (command in POSITIONAL_FORMULA and token.startswith("-") and len(token) > 1
                and not token.startswith("--") and token not in known and not trailing
                and (known or not _OPTION_LIKE.fullmatch(token))):
            trailing = ["--", token]    # a formula such as "-x*x": after "--" it is positional
            i += 1
            continue
        out.append(token)
        i += 1
    return out + trailing


def wants_json(argv) -> bool:
    """Did the user ask for ``--format json`` (so errors go to stdout as JSON)?"""
    argv = list(argv)
    if "docs" in argv[:1]:
        return False   # docs --format is a list of site formats
    for i, token in enumerate(argv):
        if token == "--format=json" or (token == "--format" and argv[i + 1:i + 2] == ["json"]):
            return True
    return False


def error_json(exc: DeriveError) -> dict:
    """``{"error": {"kind", "message", "exit_code"}}``; kind is "usage" for argparse's errors."""
    kind = "usage" if isinstance(exc, UsageError) else type(exc).__name__
    return {"error": {"kind": kind, "message": str(exc), "exit_code": exc.exit_code}}


class ClosedOutput:
    """Stands in for a closed ``sys.stdout``: every write fails, as on a closed pipe."""

    def write(self, text):
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self):
        pass


def guard_streams() -> None:
    """A closed fd 1 or 2 is taken by /dev/null (so no file we open lands there), and a
    closed stdout fails on write instead of printing into nothing."""
    for fd in (1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    if sys.stdout is None:
        sys.stdout = ClosedOutput()


def silence_stdout() -> None:
    """After a failed write: point fd 1 at /dev/null so the interpreter's last flush is quiet."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
