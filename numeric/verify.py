"""The verifier core: run a book-style layer class against a :class:`LayerCase`.

For each input set (random inputs of shapes (), (7,), (3,4), (2,3,5) drawn from
the case's domain, then the edge values such as +-1000) the class is
instantiated, ``forward`` is compared with the reference forward, and
``backward`` with a random ``dout`` is compared with the reference backward and
with central finite differences of the class's own forward (gradcheck
tolerances, see :mod:`numeric.fd`). On the way it watches for

* ``dout`` modified in place, or returned as the gradient itself (book ``Relu``);
* input arrays modified, and a second ``backward`` disagreeing with the first;
* NumPy warnings (overflow, invalid, divide by zero), each located at the input
  values that cause it; quiet underflow to 0 is the correct float64 answer and is
  not reported;
* non-finite results where the reference is finite;
* the convention at kinks: finite differences are skipped within 1e-3 of a kink,
  and the gradient exactly at the kink is compared with the reference's
  convention and reported as a note, not a failure.

Exceptions raised by the class are reported, never propagated. ``ok`` is False
when forward or gradients are wrong; with ``strict=True`` also for in-place
mutation, aliasing of ``dout`` and warnings.

>>> from numeric.cases import CASES
>>> from numeric.reference import Sigmoid
>>> verify_class(Sigmoid, CASES["sigmoid"]).ok
True
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from numeric.fd import numerical_grad
from numeric.report import Comparison, Report, format_where

__all__ = ["LayerCase", "Report", "Comparison", "verify_class", "SHAPES", "DEFAULT_EDGES",
           "KINK_RADIUS"]

SHAPES: tuple[tuple[int, ...], ...] = ((), (7,), (3, 4), (2, 3, 5))
DEFAULT_EDGES = (0.0, 1e-8, -1e-8, 1.0, -1.0, 50.0, -50.0, 1000.0, -1000.0)
KINK_RADIUS = 1e-3  # finite differences are not evaluated this close to a kink


@dataclass
class LayerCase:
    """Everything the verifier needs to know about one layer (NumPy only).

    ``forward(*inputs) -> out`` and ``backward(dout, *inputs) -> tuple of grads``
    are the expected answers, params already bound; they may come from the
    hand-coded classes (:mod:`numeric.cases`) or from generated code.
    """

    name: str
    inputs: tuple[str, ...]
    forward: Callable
    backward: Callable
    domain: tuple[float, float] = (-5.0, 5.0)
    edges: tuple[float, ...] = DEFAULT_EDGES
    kinks: tuple[float, ...] = ()
    params: dict = field(default_factory=dict)

    def edge_values(self) -> np.ndarray:
        """Edges (and kinks) of the domain's sign: positive only when domain[0] > 0."""
        low = self.domain[0]
        keep = [e for e in (*self.edges, *self.kinks)
                if low < 0 or (e > 0 if low > 0 else e >= 0)]
        return np.array(list(dict.fromkeys(keep)), dtype=np.float64)


class _UserError(Exception):
    """An exception raised inside the class under test, or a malformed result."""


@contextmanager
def _capture():
    """Record every warning; NumPy over/invalid/divide become warnings, underflow stays quiet."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        yield caught


@contextmanager
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _call(phase: str, fn: Callable, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the class under test may raise anything
        raise _UserError(f"{phase} raised {type(exc).__name__}: {exc}") from exc


def _as_grads(result, names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """One array for one-input layers, a tuple in input order otherwise."""
    if len(names) == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = len(result) if isinstance(result, (tuple, list)) else 1
        want = ", ".join(f"d{n}" for n in names)
        raise _UserError(f"backward returned {got} value(s), expected {len(names)} ({want})")
    return tuple(result)


def _draw(case: LayerCase, rng: np.random.Generator, shape) -> np.ndarray:
    return np.asarray(rng.uniform(case.domain[0], case.domain[1], size=shape), dtype=np.float64)


def _input_sets(case: LayerCase, rng: np.random.Generator, shapes):
    """(label, inputs): random inputs per shape, then each input in turn at the edges."""
    for shape in shapes:
        yield f"random, shape {shape}", [_draw(case, rng, shape) for _ in case.inputs]
    edges = case.edge_values()
    for i, name in enumerate(case.inputs):
        inputs = [_draw(case, rng, edges.shape) for _ in case.inputs]
        inputs[i] = edges.copy()
        yield f"edge values of {name}", inputs


def _dout_like(out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random upstream gradient, |dout| in [0.5, 2] so a forgotten dout shows."""
    dout = rng.uniform(0.5, 2.0, out.shape) * rng.choice([-1.0, 1.0], out.shape)
    return np.asarray(dout, dtype=np.float64)  # a 0-d array, not a NumPy scalar, for shape ()


def _where_fn(names, inputs):
    flat = [np.asarray(x).reshape(-1) for x in inputs]

    def where(i: int) -> dict[str, float]:
        return {n: float(x[i]) if x.size > i else float(x[0]) for n, x in zip(names, flat)}
    return where


def verify_class(cls, case: LayerCase, *, strict: bool = False, seed: int = 0,
                 ctor_kwargs: dict | None = None, shapes=SHAPES) -> Report:
    """Check ``cls`` (book API: forward/backward) against ``case``; never raises for user bugs."""
    kwargs = dict(case.params if ctor_kwargs is None else ctor_kwargs)
    report = Report(name=case.name, strict=strict)
    rng = np.random.default_rng(seed)
    try:
        _call("constructor", cls, **kwargs)
    except _UserError as exc:
        report.errors.append(str(exc))
        return report.finish()
    for label, inputs in _input_sets(case, rng, shapes):
        try:
            _check_set(cls, kwargs, case, label, inputs, rng, report)
        except _UserError as exc:
            _note_error(report, exc, label)
        shape = np.shape(inputs[0])
        if shape not in report.shapes:
            report.shapes.append(shape)
    try:
        _check_kinks(cls, kwargs, case, rng, report)
    except _UserError as exc:
        _note_error(report, exc, "at a kink")
    return report.finish()


def _note_error(report: Report, exc: Exception, label: str) -> None:
    """Record an error once, with the first input set where it happened."""
    if not any(e.startswith(f"{exc} (") for e in report.errors):
        report.errors.append(f"{exc} ({label})")


def _check_set(cls, kwargs, case, label, inputs, rng, report: Report) -> None:
    names = case.inputs
    where = _where_fn(names, inputs)
    with _quiet():
        ref_out = np.asarray(case.forward(*[x.copy() for x in inputs]), dtype=np.float64)
    dout = _dout_like(ref_out, rng)
    with _quiet():
        ref_grads = _as_grads(case.backward(dout.copy(), *[x.copy() for x in inputs]), names)

    layer = _call("constructor", cls, **kwargs)
    args = [x.copy() for x in inputs]
    with _capture() as caught_fwd:
        out = _call("forward", layer.forward, *args)
    _note_warnings(report, caught_fwd, cls, kwargs, names, inputs, dout, "forward", label)
    out = np.asarray(out, dtype=np.float64)
    if out.shape != ref_out.shape:
        raise _UserError(f"forward returned shape {out.shape}, expected {ref_out.shape}")
    for i in report.forward.add("out", out, ref_out, where, label=label):
        report.note_once(report.nonfinite, f"out = {out.reshape(-1)[i]} at "
                                           f"{format_where(where(i))}")

    dout_arg = dout.copy()
    with _capture() as caught_bwd:
        raw = _call("backward", layer.backward, dout_arg)
    _note_warnings(report, caught_bwd, cls, kwargs, names, inputs, dout, "backward", label)
    raw = _as_grads(raw, names)
    report.aliased_dout |= any(isinstance(g, np.ndarray) and np.shares_memory(g, dout_arg)
                               for g in raw)
    report.mutated_dout |= not np.array_equal(dout_arg, dout, equal_nan=True)
    grads = tuple(np.array(g, dtype=np.float64) for g in raw)
    report.mutated_inputs |= any(not np.array_equal(a, x, equal_nan=True)
                                 for a, x in zip(args, inputs))
    for name, g, x in zip(names, grads, inputs):
        if g.shape != x.shape:
            raise _UserError(f"d{name} has shape {g.shape} but {name} has shape {x.shape}")

    with _quiet():
        again = _as_grads(_call("backward (second call)", layer.backward, dout.copy()), names)
    report.mutated_cache |= any(not np.array_equal(np.asarray(a, dtype=np.float64), g,
                                                   equal_nan=True)
                                for a, g in zip(again, grads))

    at_kink = np.zeros(inputs[0].shape, bool)
    near_kink = np.zeros(inputs[0].shape, bool)
    for k in case.kinks:
        for x in inputs:
            at_kink |= np.broadcast_to(x == k, at_kink.shape)
            near_kink |= np.broadcast_to(np.abs(x - k) < KINK_RADIUS, near_kink.shape)
    for name, g, r in zip(names, grads, ref_grads):
        for i in report.backward.add(f"d{name}", g, r, where, mask=~at_kink, label=label):
            report.note_once(report.nonfinite, f"d{name} = {g.reshape(-1)[i]} at "
                                               f"{format_where(where(i))}")

    fd_layer = _call("constructor", cls, **kwargs)
    with _quiet():
        numeric = _call("forward (finite differences)", numerical_grad,
                        fd_layer.forward, inputs, dout)
    for name, g, n in zip(names, grads, numeric):
        report.fd.add(f"d{name}", g, n, where, mask=~near_kink & np.isfinite(n), label=label)


def _note_warnings(report, caught, cls, kwargs, names, inputs, dout, phase, label) -> None:
    for message in dict.fromkeys(str(w.message) for w in caught):
        spots = _locate(cls, kwargs, names, inputs, dout, phase, message)
        place = f"at {'; '.join(spots)}" if spots else f"({label})"
        report.note_once(report.warnings, f"{message} in {phase} {place}")


def _locate(cls, kwargs, names, inputs, dout, phase, message, limit=3) -> list[str]:
    """Input values whose elementwise re-run reproduces ``message`` (elementwise layers)."""
    if any(np.shape(x) != dout.shape for x in inputs):
        return []
    spots: list[str] = []
    for i in range(dout.size):
        one = [np.asarray(x).reshape(-1)[i:i + 1].copy() for x in inputs]
        try:
            layer = cls(**kwargs)
            with _capture() as caught:
                layer.forward(*one)
            if phase == "backward":
                with _capture() as caught:
                    layer.backward(dout.reshape(-1)[i:i + 1].copy())
        except Exception:
            continue
        if any(str(w.message) == message for w in caught):
            spots.append(format_where({n: float(x[0]) for n, x in zip(names, one)}))
            if len(spots) == limit:
                break
    return spots


def _check_kinks(cls, kwargs, case, rng, report: Report) -> None:
    """Compare the gradient exactly at each kink with the reference's convention."""
    for k in case.kinks:
        for i, name in enumerate(case.inputs):
            inputs = [_draw(case, rng, (1,)) for _ in case.inputs]
            inputs[i] = np.array([k], dtype=np.float64)
            dout = np.ones(1)
            with _quiet():
                expected = _as_grads(case.backward(dout.copy(), *[x.copy() for x in inputs]),
                                     case.inputs)[i]
                layer = _call("constructor", cls, **kwargs)
                _call("forward", layer.forward, *[x.copy() for x in inputs])
                got = _as_grads(_call("backward", layer.backward, dout.copy()), case.inputs)[i]
            got_v = float(np.asarray(got, dtype=np.float64).reshape(-1)[0])
            exp_v = float(np.asarray(expected, dtype=np.float64).reshape(-1)[0])
            if not (got_v == exp_v or abs(got_v - exp_v) <= 1e-12 * max(1.0, abs(exp_v))):
                report.note_once(report.kink_notes,
                                 f"at {name}={k:g} your gradient d{name} is {got_v:.6g}, "
                                 f"the reference (book convention) gives {exp_v:.6g}")
