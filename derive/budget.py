"""The prover's budget: a process-wide deadline, and bounds on every tactic.

Two kinds of bound, both needed because either alone can hang:

* **size**, checked before a tactic starts: :func:`tree_size` counts the nodes of an
  expression as a tree (shared sub-expressions counted each time they occur, as
  ``expand`` or ``simplify`` see them) in time linear in the distinct nodes, and stops
  counting at a cap, so a huge tree is measured cheaply and the tactic is skipped;
* **time**, while it runs: :func:`bounded` arms a ``setitimer``/``SIGALRM`` interrupt
  for ``min(seconds, remaining)``; when it fires, :class:`Interrupt` (a
  ``BaseException``, so SymPy's own ``except Exception`` clauses do not swallow it; the
  timer repeats every 50 ms until the scope is left, in case a bare ``except:`` does)
  unwinds the tactic and the scope raises :class:`TacticTimeout` (this tactic is
  abandoned, the next one may still prove) or, when the process-wide deadline itself has
  passed, :class:`~derive.errors.BudgetExceeded` (exit 3).

Signals only reach the main thread: elsewhere (or when another SIGALRM handler is
installed, e.g. by a test runner's timeout plugin) :func:`bounded` runs the tactic
without a timer, and only the size bounds and the deadline checks between tactics
(:func:`check`) remain. Documented, not hidden: a huge single SymPy call can then
overrun.

An interrupted SymPy call leaves no broken global state: SymPy's cache is
``functools.lru_cache``, which stores a result only when the call returns; its
assumption system (1.12+) records a fact only once it is deduced; its context managers
(``evaluate``, ``distribute``, mpmath's ``workprec``) restore in ``finally``/``__exit__``.
As a second line of defence :func:`bounded` restores mpmath's precision and SymPy's
global evaluation flags to their values at entry when it is interrupted.

The deadline: :func:`start` (what the CLI calls, from ``--timeout SECONDS``; None reads
``DERIVE_TIMEOUT``, default 20 s) or, scoped, ``with deadline(seconds):``. Without one,
each top-level proof gets its own deadline of :func:`default_seconds` (see
:func:`ensure_deadline`), so nothing the prover does can hang a library user either.

>>> with deadline(5):
...     0 < remaining() <= 5
True
>>> remaining() is None
True
>>> import sympy as sp
>>> tree_size((1 + 2*sp.Symbol("x"))**2)     # Pow, Add, 1, Mul, 2, x, 2
7
"""
from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

from .errors import BudgetExceeded, DeriveError

ENV = "DERIVE_TIMEOUT"
DEFAULT_SECONDS = 20.0
_REPEAT = 0.05          # seconds between repeated interrupts once a scope has run out

_deadline: float | None = None     # time.monotonic() at which the whole command must stop
_seconds: float | None = None      # the budget it was started with (for messages)
_scopes: list = []                 # active bounded() deadlines, innermost last


class Interrupt(BaseException):
    """Raised by the timer inside a bounded tactic; never escapes :func:`bounded`."""


class TacticTimeout(Exception):
    """One tactic ran past its own bound (the proof may go on with the next tactic)."""


def default_seconds() -> float:
    """``DERIVE_TIMEOUT`` if set (a positive number of seconds), else 20."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_SECONDS
    return parse_seconds(text, ENV)


def parse_seconds(text, what: str = "--timeout") -> float:
    """A positive, finite number of seconds, or a :class:`DeriveError` (bad input, exit 2)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise DeriveError(f"{what} must be a number of seconds, got {text!r}") from None
    if not 0 < value < 1e7:
        raise DeriveError(f"{what} must be a positive number of seconds, got {text!r}")
    return value


def start(seconds=None) -> float:
    """Start the process-wide deadline now; returns the budget in seconds.

    ``seconds`` None reads ``DERIVE_TIMEOUT`` (default 20). Calling it again restarts it.
    """
    global _deadline, _seconds
    _seconds = default_seconds() if seconds is None else parse_seconds(seconds)
    _deadline = time.monotonic() + _seconds
    return _seconds


def stop() -> None:
    """No process-wide deadline any more (each proof then bounds itself)."""
    global _deadline, _seconds
    _deadline = _seconds = None


@contextmanager
def deadline(seconds=None):
    """A process-wide deadline for the body, restoring the previous one afterwards."""
    global _deadline, _seconds
    saved = _deadline, _seconds
    start(seconds)
    try:
        yield _seconds
    finally:
        _deadline, _seconds = saved


@contextmanager
def ensure_deadline():
    """The body runs under the active deadline, or under a fresh one of the default."""
    if _deadline is not None:
        yield
        return
    with deadline():
        yield


def remaining() -> float | None:
    """Seconds left before the deadline (may be negative), or None without one."""
    return None if _deadline is None else _deadline - time.monotonic()


def expired() -> bool:
    return _deadline is not None and time.monotonic() >= _deadline


def exceeded(what: str) -> BudgetExceeded:
    """The error for running out, naming what was being done."""
    return BudgetExceeded(f"could not prove within the time budget ({what}; "
                          f"budget {_seconds:g} s, set with --timeout or {ENV})")


def check(what: str) -> None:
    """Raise :class:`BudgetExceeded` when the deadline has passed (between tactics)."""
    if expired():
        raise exceeded(what)


def _can_interrupt() -> bool:
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGALRM)
    return current in (signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm)


_leaving = False   # True while a scope is being left: a late timer tick is then ignored


def _on_alarm(signum, frame):
    if _scopes and not _leaving:
        raise Interrupt()


def _arm(until: float) -> None:
    delay = max(until - time.monotonic(), 1e-4)
    signal.setitimer(signal.ITIMER_REAL, delay, _REPEAT)


def _saved_state():
    import mpmath
    from sympy.core.parameters import global_parameters as gp
    return mpmath.mp.prec, gp.evaluate, gp.distribute, gp.exp_is_pow


def _restore(state) -> None:
    import mpmath
    from sympy.core.parameters import global_parameters as gp
    mpmath.mp.prec, gp.evaluate, gp.distribute, gp.exp_is_pow = state


@contextmanager
def bounded(seconds: float, what: str):
    """Run the body for at most ``seconds`` (and never past the deadline).

    Raises :class:`TacticTimeout` when its own bound ran out first, and
    :class:`BudgetExceeded` when the deadline did (or had already passed).
    """
    check(what)
    until = time.monotonic() + seconds
    if _deadline is not None:
        until = min(until, _deadline)
    if _scopes:
        until = min(until, _scopes[-1])
    if not _can_interrupt():
        yield
        return
    state = _saved_state()
    outer = signal.signal(signal.SIGALRM, _on_alarm) if not _scopes else None
    _scopes.append(until)
    left = False

    def leave():
        global _leaving
        nonlocal left
        if left:
            return
        _leaving, left = True, True
        _scopes.pop()
        if _scopes:
            _arm(_scopes[-1])
        else:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, outer if outer is not None else signal.SIG_DFL)
        _leaving = False

    try:
        _arm(until)
        yield
    except Interrupt:
        leave()
        _restore(state)
        check(what)
        raise TacticTimeout(f"{what} stopped after {seconds:g} s") from None
    finally:
        leave()


def tree_size(e, cap: int = 100_000) -> int:
    """Nodes of ``e`` as a tree (shared sub-trees counted each time), at most ``cap``.

    Linear in the distinct sub-expressions (each is measured once), so a tree that
    is exponential in its shared form is measured, and refused, in no time.
    """
    sizes: dict = {}

    def size(node) -> int:
        known = sizes.get(node)
        if known is not None:
            return known
        total = 1
        for arg in getattr(node, "args", ()):
            total += size(arg)
            if total >= cap:
                break
        sizes[node] = total = min(total, cap)
        return total

    try:
        return size(e)
    except RecursionError:
        return cap
