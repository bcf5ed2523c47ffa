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

The deadline: ``with deadline(seconds):`` (or :func:`start`/:func:`stop`); ``seconds``
None reads ``DERIVE_TIMEOUT`` (default 20). The CLI wraps each command in
``deadline(args.timeout, spent=process_age(), everything=True)``: counted from the start
of the process (imports included), and :func:`watch`-ed, so that the engine's own SymPy
calls are interrupted at the deadline too -- the command answers in time, exit 3.
Without a deadline, each top-level proof gets its own of :func:`default_seconds` (see
:func:`ensure_deadline`), so nothing the prover does can hang a library user either.

>>> with deadline(5):
...     0 < remaining() <= 5
True
>>> remaining() is None
True

The size bounds (:func:`~derive.sizes.tree_size` and the like) are in :mod:`derive.sizes`.
"""
from __future__ import annotations

import os
import signal
import sys
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


def start(seconds=None, *, spent: float = 0.0) -> float:
    """Start the process-wide deadline now; returns the budget in seconds.

    ``seconds`` None reads ``DERIVE_TIMEOUT`` (default 20). Calling it again restarts it.
    ``spent``: seconds already used (the CLI passes the time since the process started,
    imports included, so that the whole command answers within the budget). A small
    reserve (5 %, at most 0.2 s) is kept for reporting and exiting.
    """
    global _deadline, _seconds
    _seconds = default_seconds() if seconds is None else parse_seconds(seconds)
    reserve = min(0.5, 0.1 * _seconds)
    _deadline = time.monotonic() + _seconds - max(spent, 0.0) - reserve
    return _seconds


def restart() -> None:
    """A fresh budget for the next item of a command over several layers (``derive docs``,
    ``export --all``, ``verify`` of the catalogue): each layer gets the whole ``--timeout``,
    so the budget bounds every layer rather than the sum over the catalogue. Nothing
    happens without an active deadline."""
    global _deadline
    if _deadline is None or _seconds is None:
        return
    _deadline = time.monotonic() + _seconds - min(0.2, 0.05 * _seconds)
    _rearm()


def process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; 0 where unknown)."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(uptime - started / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return 0.0


def stop() -> None:
    """No process-wide deadline any more (each proof then bounds itself)."""
    global _deadline, _seconds, _watching
    _deadline = _seconds = None
    _watching = False
    _rearm()


def watch() -> bool:
    """Interrupt *any* code still running at the deadline, not only the prover's tactics.

    What the CLI wants: the command answers in time even when the time goes to the
    engine's own SymPy calls. The interrupt is :class:`Interrupt` (raised again every 50 ms
    until it unwinds), turned into :class:`BudgetExceeded` by :func:`deadline`. Only in the
    main thread; returns whether it is on.
    """
    global _watching
    if _deadline is None or not _can_interrupt():
        return False
    _install()
    _watching = True
    _rearm()
    return True


class deadline:
    """A process-wide deadline for the body, restoring the previous one afterwards.

    ``everything``: also interrupt code outside the prover's tactics (see :func:`watch`).
    A class, not a generator: ``__exit__`` blocks further timer ticks as its first act,
    so a repeated tick cannot land while the first interrupt is being turned into
    :class:`BudgetExceeded` (contextlib's generator machinery took several frames there).
    """

    def __init__(self, seconds=None, *, spent: float = 0.0, everything: bool = False):
        self.seconds, self.spent, self.everything = seconds, spent, everything

    def __enter__(self):
        self.saved = _deadline, _seconds, _watching
        start(self.seconds, spent=self.spent)
        if self.everything:
            watch()
        return _seconds

    def __exit__(self, kind, exc, tb):
        global _deadline, _seconds, _watching, _leaving, _where
        _leaving = True
        try:
            error = None
            if kind is not None and issubclass(kind, Interrupt):
                where, _where = _where, ""
                error = exceeded("still running at the deadline" + (f": {where}" if where else ""))
            _deadline, _seconds, _watching = self.saved
            _rearm()
        finally:
            _leaving = False
        if error is not None:
            raise error from None
        return False


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
    if not hasattr(signal, "setitimer") or not hasattr(signal, "SIGALRM"):
        return False        # e.g. Windows: size bounds and deadline checks only
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGALRM)
    return current in (signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm)


_leaving = False   # True while a scope is being left: a late timer tick is then ignored
_watching = False  # watch(): the deadline interrupts any code, not only bounded tactics
_previous = None   # the SIGALRM handler before ours, put back when no timer is needed


def _on_alarm(signum, frame):
    if _leaving or _in_scope_machinery(frame):
        return      # the timer repeats: the next tick lands in the body again
    if _scopes:
        raise Interrupt()
    if _watching and expired():
        global _where
        _where = _where or _locate(frame)
        raise Interrupt()     # a BaseException: no `except Exception` swallows it
    _rearm()


_where = ""        # where the watched deadline found the command (for the message)


def _in_scope_machinery(frame) -> bool:
    """Whether the tick landed in this module or in contextlib: entering or leaving a scope
    (``deadline.__enter__``/``__exit__``, ``bounded``'s generator and contextlib's frames
    around it). An :class:`Interrupt` raised there, before the scope has marked itself as
    leaving, escaped it with the timer still armed and ``_watching`` still on: every later
    tick, in a test runner's report or a finalizer, then raised again. Such a tick is skipped;
    the next one, 50 ms later, lands in the body."""
    if frame is None:
        return False
    if frame.f_globals.get("__name__") == "contextlib":
        return True
    return frame.f_code in _SCOPE_CODE


def _quiet_unraisable(unraisable) -> None:
    """``sys.unraisablehook`` while our handler is installed: a tick that landed in a
    finalizer or a gc callback is dropped there by Python ("Exception ignored in ..."); the
    timer ticks again in 50 ms, so it is not worth a warning. Anything else goes on."""
    if isinstance(unraisable.exc_value, Interrupt):
        return
    (_previous_hook or sys.__unraisablehook__)(unraisable)


_previous_hook = None


def _locate(frame) -> str:
    """The innermost frame of this package, and the library function running under it."""
    inner = frame.f_code.co_name if frame is not None else "?"
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    while frame is not None and not frame.f_globals.get("__name__", "").startswith("derive."):
        frame = frame.f_back
    if frame is None:
        return f"in {module}.{inner}"
    mine = f"{frame.f_globals['__name__']}.{frame.f_code.co_name}"
    return mine if module.startswith("derive.") else f"{mine}, in {module}.{inner}"


def _install() -> None:
    global _previous, _previous_hook
    if signal.getsignal(signal.SIGALRM) is not _on_alarm:
        _previous = signal.signal(signal.SIGALRM, _on_alarm)
    if sys.unraisablehook is not _quiet_unraisable:
        _previous_hook, sys.unraisablehook = sys.unraisablehook, _quiet_unraisable


def _uninstall_hook() -> None:
    global _previous_hook
    if sys.unraisablehook is _quiet_unraisable:
        sys.unraisablehook = _previous_hook or sys.__unraisablehook__
    _previous_hook = None


def _rearm() -> None:
    """Arm the timer for the innermost scope, else the watched deadline, else stop it."""
    global _previous
    if not _can_interrupt():
        return
    if _scopes:
        _arm(_scopes[-1])
    elif _watching and _deadline is not None:
        _arm(_deadline)
    elif signal.getsignal(signal.SIGALRM) is _on_alarm:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, _previous if _previous is not None else signal.SIG_DFL)
        _previous = None
        _uninstall_hook()


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
    _install()
    _scopes.append(until)
    left = False

    def leave():
        global _leaving
        nonlocal left
        if left:
            return
        _leaving, left = True, True
        _scopes.pop()
        _rearm()
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


# the functions that enter and leave scopes (see _in_scope_machinery); not the size bounds
# (derive.sizes) nor any other code, whose long runs a tick must still be able to stop
_SCOPE_CODE = frozenset(
    [f.__code__ for f in (start, restart, stop, watch, check, exceeded, _rearm, _arm, _install,
                          _uninstall_hook, _saved_state, _restore, bounded.__wrapped__,
                          deadline.__init__, deadline.__enter__, deadline.__exit__,
                          ensure_deadline.__wrapped__)]
    + [c for c in bounded.__wrapped__.__code__.co_consts if hasattr(c, "co_code")])
