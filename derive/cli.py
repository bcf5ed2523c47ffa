"""The ``derive`` command line: one subcommand per module in :mod:`derive.commands`.

Exit codes: 0 success (for ``check``: proven equal), 1 a negative verdict
(not equal, wrong gradients), 2 bad input (or an output that cannot be written),
3 a step that could not be proven. No traceback reaches a user: a
:class:`~derive.errors.DeriveError` becomes one line on stderr — or, with
``--format json``, ``{"error": {"kind", "message", "exit_code"}}`` on stdout; a
closed or full stdout and a broken pipe end with one line (:mod:`derive.argv`).
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from . import argv as cli_args
from . import budget
from .errors import DeriveError, UsageError

# subcommand -> module in derive.commands (each has register(subparsers) setting func)
COMMANDS = ("list", "show", "check", "export", "verify", "graph", "bench", "docs")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors are bad input too: exit 2, one line
        raise UsageError(message, self.format_usage())


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
        if "--timeout" in command._option_string_actions:
            continue    # verify: --timeout limits the user's class; the budget is $DERIVE_TIMEOUT
        command.add_argument("--timeout", metavar="SECONDS", default=None, dest="proof_timeout",
                             help=f"give up (exit 3) on a proof still running after this many "
                             f"seconds in all, per layer for a command over several layers "
                             f"(default: ${budget.ENV} or {budget.DEFAULT_SECONDS:g})")
    return parser


def _options_of(parser) -> dict:
    """command → its option strings (so a formula that begins with "-" is told apart)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {name: set(p._option_string_actions) for name, p in action.choices.items()}
    return {}


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = cli_args.wants_json(argv)
    cli_args.guard_streams()
    try:
        parser = build_parser()
        args = parser.parse_args(cli_args.protect_formulas(argv, _options_of(parser)))
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        spent = budget.process_age() if argv is None else 0.0   # a real command: imports too
        with budget.deadline(getattr(args, "proof_timeout", None), spent=spent, everything=True):
            code = int(args.func(args) or 0)
        sys.stdout.flush()   # a full disk or a closed pipe shows here, not at exit
        return code
    except DeriveError as exc:
        if as_json:
            try:
                print(json.dumps(cli_args.error_json(exc)), flush=True)
                return exc.exit_code
            except OSError:
                cli_args.silence_stdout()
        elif isinstance(exc, UsageError) and exc.usage:
            _say(exc.usage.rstrip())
        _say(f"derive: error: {exc}")
        return exc.exit_code
    except budget.Interrupt:      # a timer tick that escaped its scope: still exit 3, in time
        _say("derive: error: could not prove within the time budget (interrupted)")
        return 3
    except KeyboardInterrupt:
        _say("derive: interrupted")
        return 130
    except BrokenPipeError:
        cli_args.silence_stdout()
        _say("derive: output closed before the end (broken pipe)")
        return 2
    except OSError as exc:
        cli_args.silence_stdout()
        where = f" ({exc.filename})" if exc.filename else ""
        _say(f"derive: error: cannot write the output{where}: {exc.strerror or exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
