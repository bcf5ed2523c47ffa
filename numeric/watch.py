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

import inspect
import warnings
from contextlib import contextmanager

import numpy as np

__all__ = ["UserError", "ReferenceFailure", "call", "call_reference", "capture", "quiet",
           "distinct", "differs", "takes", "FLOOD", "KEEP"]

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


def differs(name: str, again: np.ndarray, first: np.ndarray) -> str:
    """How the second backward's gradient differs from the first, in one line."""
    if again.shape != first.shape:
        return f"{name} has shape {again.shape} the second time, {first.shape} the first"
    with np.errstate(all="ignore"):
        gap = np.where(again == first, 0.0, np.abs(again - first))
        i = int(np.argmax(np.where(np.isnan(gap), np.inf, gap)))
        ratio = np.sum(again * first) / np.sum(first * first) if np.any(first) else np.nan
    index = tuple(int(k) for k in np.unravel_index(i, first.shape)) if first.shape else ()
    text = (f"{name}{list(index) if index else ''} is {again.reshape(-1)[i]:.6g} on the second "
            f"call, {first.reshape(-1)[i]:.6g} on the first")
    if np.isfinite(ratio) and ratio != 1 and np.allclose(again, ratio * first, rtol=1e-9):
        text += f" ({ratio:.6g} times the first)"
    return text


def takes(fn, name) -> bool:
    """Does ``fn`` accept the keyword ``name`` (None: any positional argument)?"""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if name is None:
        return len(params) >= 1
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
