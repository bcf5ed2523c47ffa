"""The ``derive`` command line: one subcommand per module in :mod:`derive.commands`.

Exit codes: 0 success (for ``check``: proven equal), 1 a negative verdict
(not equal, wrong gradients), 2 bad input. No traceback reaches a user for bad
input: a :class:`~derive.errors.DeriveError` becomes one line on stderr.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from . import budget
from .errors import DeriveError

# subcommand -> module in derive.commands (each has register(subparsers) setting func)
COMMANDS = ("list", "show", "check", "export", "verify", "graph", "bench", "docs")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors are bad input too: exit 2, one line
        self.print_usage(sys.stderr)
        raise DeriveError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Proven, step-by-step backward passes for "
                     "neural-network layers, and NumPy code generated from them.")
    parser.add_argument("--version", action="version", version="derive 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"derive.commands.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"derive.commands.{name}_cmd":
                raise
            continue  # a command not built yet
        module.register(sub)
    for command in sub.choices.values():   # the prover's budget (derive.budget), every command
        command.add_argument("--timeout", metavar="SECONDS", default=None,
                             help=f"give up (exit 3) on a proof still running after this many "
                             f"seconds in all (default: ${budget.ENV} or "
                             f"{budget.DEFAULT_SECONDS:g})")
    return parser


def main(argv=None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        spent = budget.process_age() if argv is None else 0.0   # a real command: imports too
        with budget.deadline(args.timeout, spent=spent, everything=True):
            return int(args.func(args) or 0)
    except DeriveError as exc:
        print(f"derive: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
