"""Watching the class under test: calls that cannot escape, warnings that cannot flood.

:func:`call` runs one method of the user's class; anything it raises — ``sys.exit``
included — becomes a :class:`UserError` with one line saying what happened.
:func:`capture` records warnings (NumPy's overflow/invalid/divide become warnings,
quiet underflow to 0 is the right float64 answer and is not one); :func:`quiet`
silences them for the reference and the finite differences. :func:`distinct`
bounds what a flood of warnings costs: the first few messages are kept, the rest
counted. What the class hands back is read here too: :func:`as_array` (a real array,
or a one-line :class:`UserError`), :func:`read_mask` (a dropout mask, 0/1 or inverted,
0 and 1/(1 − p)); :class:`NotAccepted` marks an input the class does not take (volume
2's Affine and a 4-D input), a note rather than a failure. A layer with several outputs
returns a tuple: :func:`read_outputs` reads it, :func:`wrong_order` names outputs returned
in another order than the case's.

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

__all__ = ["UserError", "ReferenceFailure", "NotAccepted", "call", "call_reference", "capture",
           "quiet", "distinct", "differs", "takes", "locate", "as_array", "read_mask", "not_flattened",
           "FLOOD", "KEEP"]

FLOOD = 100   # distinct warnings from one call: more is a failure, not a list to print
KEEP = 5      # distinct messages kept per call


class UserError(Exception):
    """Something the class under test did: raised, exited, returned the wrong thing."""


class ReferenceFailure(Exception):
    """The reference implementation failed: a bug on derive's side, not the user's."""


class NotAccepted(Exception):
    """The class does not take an input the layer allows (a note, not a failure)."""


def not_flattened(case, args, why) -> str:
    """The note on a class that does not take the rank-4 input of a flattening layer."""
    why = str(why).splitlines()[0][:100]
    return (f"does not flatten a 4-D input ({case.inputs[0]} of shape {np.shape(args[0])}: "
            f"{why}); not a failure (volume 2's Affine does not flatten either), that input "
            "is left out")


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


def locate(cls, kwargs, names, phase, message, values, limit=3) -> list:
    """Input values whose elementwise re-run reproduces the warning ``message``."""
    from numeric.report import format_where
    size = np.size(values[names[0]])
    spots = []
    for i in range(size):
        one = [np.asarray(values[n]).reshape(-1)[i:i + 1].copy() for n in names]
        try:
            layer = cls(**kwargs)
            with capture() as caught:
                layer.forward(*one)
            if phase == "backward":
                with capture() as caught:
                    layer.backward(np.ones(1))
        except (Exception, SystemExit):
            continue
        if any(str(w.message) == message for w in caught[:1000]):
            spots.append(format_where({n: float(x[0]) for n, x in zip(names, one)}))
            if len(spots) == limit:
                break
    return spots


def read_mask(mask, x, out, attr, ratio=None) -> tuple:
    """(the mask forward applied, as ``out = x * mask``; a note or '').

    The mask holds 0 and 1, or 0 and one scale (inverted dropout, 1/(1 - p) in
    training); a 0/1 mask with ``out = x * mask * s`` is read as the mask times s.

    >>> m, note = read_mask(np.array([0.0, 2.0]), np.ones(2), np.array([0.0, 2.0]), "mask", 0.5)
    >>> m.tolist(), note.split(";")[0]
    ([0.0, 2.0], 'inverted dropout: the kept entries are scaled by 2 = 1/(1 - 0.5) in training')
    """
    if mask.shape != x.shape:
        raise UserError(f"self.{attr} has shape {mask.shape}, expected {x.shape}")
    mask = mask.astype(np.float64)
    kept = np.unique(mask[mask != 0])
    if kept.size > 1 or not np.all(kept > 0):
        raise UserError(f"self.{attr} has values other than 0 and one scale (1, or "
                        f"1/(1 - p) for inverted dropout): {kept[:4].tolist()}")
    scale = float(kept[0]) if kept.size else 1.0
    if scale == 1.0 and out.shape == x.shape:
        on = (mask != 0) & (x != 0)
        with np.errstate(all="ignore"):
            ratios = np.asarray(out, dtype=np.float64)[on] / x[on]
        if ratios.size and np.allclose(ratios, ratios[0], rtol=1e-5) and \
                not np.isclose(ratios[0], 1.0, rtol=1e-5):
            scale = float(np.median(ratios))       # 0/1 mask, scaled in forward
            mask = mask * scale
    if scale == 1.0:
        return mask, ""
    named = f" = 1/(1 - {ratio:g})" if isinstance(ratio, (int, float)) and 0 <= ratio < 1 and \
        np.isclose(scale, 1.0 / (1.0 - ratio), rtol=1e-5) else ""
    return mask, (f"inverted dropout: the kept entries are scaled by {scale:.6g}{named} in "
                  "training; checked with the scaled mask")


def as_array(phase: str, value, what: str) -> np.ndarray:
    """``value`` as a real array, or a :class:`UserError` saying what it is instead."""
    if value is None:
        raise UserError(f"{phase}: {what} is None (a missing return, or not set?)")
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        raise UserError(f"{phase}: {what} is a {type(value).__name__}, not an array")
    try:
        a = np.asarray(value)
    except Exception as exc:  # the user's object may fail to convert in any way
        raise UserError(f"{phase}: {what} is not an array ({type(exc).__name__})") from None
    if a.dtype.kind not in "biuf":
        raise UserError(f"{phase}: {what} is an array of {a.dtype}, not of real numbers")
    return a


# --- layers with several outputs (an LSTM's h_next, c_next) ----------------------------------

def read_outputs(phase: str, value, names: tuple, reference: bool = False) -> list:
    """forward's result as a list of arrays: one (``names`` empty: a one-output layer) or a
    tuple of ``len(names)``, in that order; else a :class:`UserError` saying what it is
    (``reference``: float64 arrays, else a :class:`ReferenceFailure`)."""
    if reference:
        try:
            return [np.asarray(o, dtype=np.float64) for o in read_outputs(phase, value, names)]
        except UserError as exc:
            raise ReferenceFailure(str(exc)) from None
    if not names:
        return [as_array(phase, value, "the output")]
    want = f"{len(names)} arrays ({', '.join(names)})"
    if not isinstance(value, (tuple, list)):
        what = "one array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
        raise UserError(f"{phase} returned {what}, expected a tuple of {want}")
    if len(value) != len(names):
        raise UserError(f"{phase} returned {len(value)} values, expected {want}")
    return [as_array(phase, v, n) for v, n in zip(value, names)]


def wrong_order(outs, refs, names) -> str:
    """'' when the outputs ``outs`` match ``refs`` in order (or match no order); else how
    they are permuted: "forward returns (c_next, h_next): ..." (``outs[i]`` is ``refs[p[i]]``)."""
    from itertools import permutations

    def same(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True)
    if len(names) < 2 or all(same(o, r) for o, r in zip(outs, refs)):
        return ""
    for p in permutations(range(len(names))):
        if all(same(o, refs[j]) for o, j in zip(outs, p)):
            got = ", ".join(names[j] for j in p)
            return (f"forward returns ({got}): the outputs in the wrong order, expected "
                    f"({', '.join(names)})")
    return ""


def flat_outputs(outs) -> np.ndarray:
    """Several outputs as one float64 vector (finite differences of sum_k sum dout_k*out_k)."""
    return np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in outs])


def change(a, b) -> float:
    """max |a - b| (inf where only one is finite, 0 where both are the same non-finite)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    with np.errstate(invalid="ignore"):
        d = np.where((a == b) | (np.isnan(a) & np.isnan(b)), 0.0, np.abs(a - b))
    return float(np.max(np.nan_to_num(d, nan=np.inf), initial=0.0))


def ignored(names, grads, expected, redraw) -> list:
    """What backward ignores of its upstream gradients: ``redraw(k)`` runs both backwards
    again with ``"d" + names[k]`` alone redrawn and returns their [(name, gradient)]; a
    gradient the reference's changes with it but the class's does not (rounding aside)
    ignores it: "backward ignores dc_next: ..." when all do, else which."""
    found = []
    for k, name in enumerate(names):
        mine, theirs = redraw(k)
        moved = {n: change(e, e0) for (n, e), (_, e0) in zip(theirs, expected)}
        moved = {n: c for n, c in moved.items() if c > 0}
        stuck = [n for (n, g), (_, g0) in zip(mine, grads)
                 if n in moved and change(g, g0) <= 1e-6 * moved[n]]
        one = len(stuck) == 1
        if stuck and len(stuck) == len(moved):
            found.append(f"backward ignores d{name}: the gradients do not change when it does")
        elif stuck:
            found.append(f"backward: {', '.join(stuck)} ignore{'s' * one} d{name}: "
                         f"{'it does' if one else 'they do'} not change when d{name} does "
                         f"(the reference's {'does' if one else 'do'})")
    return found
