"""The one error type of the project.

Every failure a user can cause (unknown layer, malformed formula, a step that
cannot be proven) is a :class:`DeriveError`; the CLI prints its message on one
line and exits with ``exit_code``.
"""
from __future__ import annotations


class DeriveError(Exception):
    """Base class: a message a user can act on, and the CLI exit code."""

    exit_code = 2


class UsageError(DeriveError):
    """The command line itself is wrong (argparse's errors): ``kind`` "usage" in JSON."""

    def __init__(self, message: str, usage: str = ""):
        self.usage = usage
        super().__init__(message)


class ParseError(DeriveError):
    """A formula the safe parser refuses; ``column`` (and ``line``) are 1-based when known;
    ``name`` is the unknown name when that is why."""

    def __init__(self, message: str, column: int | None = None, text: str | None = None,
                 line: int | None = None, name: str | None = None):
        self.column = column
        self.text = text
        self.line = line
        self.name = name
        where = f"column {column}: " if column is not None else ""
        if line is not None:
            where = f"line {line}, " + (where or ": ")
        super().__init__(f"{where}{message}")


class FormulaShapeError(ParseError):
    """A formula whose shapes do not fit for any size (e.g. ``dout @ W`` for (N, M)·(D, M)):
    for ``derive check`` a wrong formula (exit 1), not unreadable input."""


class UnknownLayerError(DeriveError):
    """A layer name not in the catalogue (message lists close matches)."""


class MissingRuleError(DeriveError):
    """A SymPy operation with no entry in the primitive rule table."""


class ProofError(DeriveError):
    """A derivation step that could not be proven equal to the one before.

    This is an internal failure, never shown as if the step were true.
    """

    exit_code = 3


class ShapeError(DeriveError):
    """Shapes that do not fit together (the message names both)."""


class BudgetExceeded(ProofError):
    """A proof that ran out of the time budget (``--timeout``, ``DERIVE_TIMEOUT``): exit 3.

    Never a hang and never shown as proven; the message says what was running.
    """
