"""Watching the class under test: calls that cannot escape, warnings that cannot flood.

:func:`call` runs one method of the user's class; anything it raises — ``sys.exit``
included — becomes a :class:`UserError` with one line saying what happened.
:func:`capture` records warnings (NumPy's overflow/invalid/divide become warnings,
quiet underflow to 0 is the right float64 answer and is not one); :func:`quiet`
silences them for the reference and the finite differences. :func:`distinct`
bounds what a flood of warnings costs: the first few messages are kept, the rest
counted.

>>> with capture() as caught:
...     _ = np.exp(np.array([1000.0]))
>>> distinct(caught)
(['overflow encountered in exp'], 1)
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

__all__ = ["UserError", "ReferenceFailure", "call", "capture", "quiet", "distinct",
           "FLOOD", "KEEP"]

FLOOD = 100   # distinct warnings from one call: more is a failure, not a list to print
KEEP = 5      # distinct messages kept per call


class UserError(Exception):
    """Something the class under test did: raised, exited, returned the wrong thing."""


class ReferenceFailure(Exception):
    """The reference implementation failed: a bug on derive's side, not the user's."""


def call(phase: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; whatever it raises (sys.exit too) is a :class:`UserError`."""
    try:
        return fn(*args, **kwargs)
    except SystemExit as exc:
        raise UserError(f"{phase} called sys.exit({exc.code!r})") from None
    except Exception as exc:  # the class under test may raise anything
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise UserError(f"{phase} raised {type(exc).__name__}: {text}".rstrip(": ")) from exc


def call_reference(phase: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise ReferenceFailure(f"the reference {phase} raised {type(exc).__name__}: "
                               f"{exc}") from exc


@contextmanager
def capture():
    """Record every warning; NumPy over/invalid/divide become warnings, underflow stays quiet."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        yield caught


@contextmanager
def quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def distinct(caught) -> tuple:
    """(the first :data:`KEEP` distinct messages, how many distinct ones there were)."""
    seen: dict = {}
    for w in caught:
        seen.setdefault(str(w.message), w.category)
        if len(seen) > 10 * FLOOD:
            break
    return list(seen)[:KEEP], len(seen)
