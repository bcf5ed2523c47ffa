"""What the verifier found about one layer class: :class:`Comparison` and :class:`Report`.

A :class:`Comparison` accumulates one kind of check (forward vs reference,
backward vs reference, backward vs finite differences) over all the input sets;
it remembers the largest absolute and relative errors and the single worst
element (largest error relative to its tolerance) together with its index and the
input values there. An element passes when ``|got - expected| <= atol + rtol *
|expected|``; the verifier chooses ``rtol``/``atol`` per call (tight against the
derivation, gradcheck's against finite differences). :class:`Report` gathers the comparisons and every observation, decides the
verdict in :meth:`Report.finish`, and renders as text or as a JSON-ready dict.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from numeric.fd import GRADCHECK_ATOL, GRADCHECK_RTOL

__all__ = ["Comparison", "Report", "format_where", "format_at", "tolerance", "TOLERANCE",
           "FORWARD_RTOL"]

TOLERANCE = {"float64": (1e-9, 1e-12), "float32": (1e-4, 1e-6)}   # rtol, atol (x scale)
FORWARD_RTOL = 1e-5


def tolerance(got: np.ndarray, expected: np.ndarray, forward: bool = False) -> tuple:
    """(rtol, atol, "float64" or "float32") against the reference: by got's dtype, atol
    scaled by max(1, max|expected|); a forward gets at least :data:`FORWARD_RTOL`."""
    kind = "float32" if got.dtype.kind == "f" and got.dtype.itemsize <= 4 else "float64"
    rtol, atol = TOLERANCE[kind]
    if forward:
        rtol = max(rtol, FORWARD_RTOL)
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = max(1.0, float(np.max(finite, initial=0.0)))
    return rtol, atol * scale, kind


def format_where(where: dict[str, float]) -> str:
    """{'x': -1000.0, 'y': 2.5} -> 'x=-1000, y=2.5'."""
    return ", ".join(f"{k}={v:.6g}" for k, v in where.items())


def format_at(where, i: int, shape) -> str:
    """Where flat element ``i`` is: the input values ``where(i)``, else its index."""
    w = where(i)
    return format_where(w) if w else f"index {tuple(int(k) for k in np.unravel_index(i, shape))}"


@dataclass
class Comparison:
    """Agreement of computed values with expected ones, under gradcheck tolerances."""

    atol: float = GRADCHECK_ATOL
    rtol: float = GRADCHECK_RTOL
    compared: int = 0
    skipped: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    passed: bool = True
    worst: dict | None = None  # what, where, got, expected, abs, rel, ratio, label
    whats: list = field(default_factory=list)   # the values compared (out, h_next, dx, ...)

    def add(self, what: str, got, expected, where, *, mask=None, label: str = "",
            rtol: float | None = None, atol: float | None = None) -> list[int]:
        """Compare ``got`` with ``expected`` elementwise (optionally only where ``mask``).

        ``where(i)`` gives the input values for flat index ``i``; ``rtol``/``atol``
        override the comparison's own for this call. Returns the flat indices where
        ``got`` is non-finite but ``expected`` is finite.
        """
        rtol = self.rtol if rtol is None else rtol
        atol = self.atol if atol is None else atol
        shape = np.shape(got)
        got = np.asarray(got, dtype=np.float64).reshape(-1)
        expected = np.asarray(expected, dtype=np.float64).reshape(-1)
        use = np.ones(got.shape, bool) if mask is None else np.asarray(mask).reshape(-1)
        if what not in self.whats:
            self.whats.append(what)
        self.skipped += int(np.sum(~use))
        self.compared += int(np.sum(use))
        with np.errstate(all="ignore"):
            same = (got == expected) | (np.isnan(got) & np.isnan(expected))
            abs_err = np.where(same, 0.0, np.abs(got - expected))
            abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)
            scale = np.abs(expected)
            # relative error only means something where |expected| exceeds atol
            rel_err = np.where((abs_err == 0) | (scale < atol), 0.0,
                               abs_err / np.maximum(scale, atol))
            tol = atol + rtol * scale
            ratio = np.where(np.isfinite(expected), abs_err / tol, np.where(same, 0.0, np.inf))
        abs_err, rel_err, ratio = (np.where(use, a, 0.0) for a in (abs_err, rel_err, ratio))
        self.max_abs = max(self.max_abs, float(np.max(abs_err, initial=0.0)))
        self.max_rel = max(self.max_rel, float(np.max(rel_err, initial=0.0)))
        if ratio.size and np.any(ratio > 0):
            i = int(np.argmax(ratio))
            if self.worst is None or ratio[i] > self.worst["ratio"]:
                index = [int(k) for k in np.unravel_index(i, shape)] if shape else []
                self.worst = {"what": what, "index": index, "where": where(i),
                              "got": float(got[i]), "expected": float(expected[i]),
                              "abs": float(abs_err[i]), "rel": float(rel_err[i]),
                              "ratio": float(ratio[i]), "rtol": rtol, "atol": atol,
                              "label": label}
            if ratio[i] > 1.0:
                self.passed = False
        bad = use & ~np.isfinite(got) & np.isfinite(expected)
        return [int(i) for i in np.flatnonzero(bad)]

    def describe(self) -> str:
        if self.compared == 0:
            return "nothing compared"
        if self.worst is None:
            return f"exact on {self.compared} values ({', '.join(self.whats)})"
        w = self.worst
        at = f"[{', '.join(map(str, w['index']))}]" if w["index"] else ""
        where = f" at {format_where(w['where'])}" if w["where"] else ""
        return (f"max abs error {self.max_abs:.3g}, max rel error {self.max_rel:.3g}; "
                f"worst {w['what']}{at} = {w['got']:.17g} vs {w['expected']:.17g}{where} "
                f"({w['label']}; tolerance {w['atol']:.0e} + {w['rtol']:.0e}*|expected|)")


@dataclass
class Report:
    """The verdict on one layer class and everything observed on the way."""

    name: str
    strict: bool = False
    ok: bool = False
    forward: Comparison = field(default_factory=Comparison)
    backward: Comparison = field(default_factory=Comparison)
    fd: Comparison = field(default_factory=Comparison)
    mutated_dout: bool = False      # backward wrote into the dout it was given
    aliased_dout: bool = False      # backward returned (a view of) the caller's dout
    mutated_inputs: bool = False    # forward or backward wrote into the caller's inputs
    mutated_cache: bool = False     # a second backward(dout) gave a different answer
    second_call: list[str] = field(default_factory=list)   # how it differed
    dtypes: list[str] = field(default_factory=list)        # of the gradients, e.g. float64
    warnings: list[str] = field(default_factory=list)
    nonfinite: list[str] = field(default_factory=list)
    kink_notes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # observations that are not failures
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    api: str = ""                   # "book1" or "book2": where the weight gradients were read
    api_detail: str = ""            # said in the text, for classes with weights or lists
    replaced_grads: list[str] = field(default_factory=list)   # book2: grads not in place
    ignored_douts: list[str] = field(default_factory=list)    # several outputs: a dout unused

    def note_once(self, bucket: list[str], message: str) -> None:
        if message not in bucket:
            bucket.append(message)

    def finish(self) -> "Report":
        """Decide ``ok`` and list the reasons in ``failures``."""
        fails = [f"error: {e}" for e in self.errors]
        for title, comp in (("forward differs from the reference", self.forward),
                            ("backward differs from the reference", self.backward),
                            ("backward differs from finite differences", self.fd)):
            if not comp.passed:
                fails.append(f"{title}: {comp.describe()}")
        if self.replaced_grads:
            fails.append("backward replaces self.grads instead of writing into it ("
                         + "; ".join(self.replaced_grads) + "): an optimizer holding the lists "
                         "(model.grads += layer.grads, as volume 2 collects them) never sees the "
                         "gradients; write them in place, self.grads[0][...] = dW")
        fails.extend(self.ignored_douts)
        if self.nonfinite:
            fails.append("non-finite where the reference is finite: " + "; ".join(self.nonfinite))
        if self.strict:
            if self.mutated_dout:
                fails.append("strict: backward modifies dout in place")
            if self.aliased_dout:
                fails.append("strict: backward returns the caller's dout array itself")
            if self.mutated_inputs:
                fails.append("strict: the layer modifies its input arrays")
            if self.mutated_cache:
                fails.append("strict: calling backward twice gives different gradients"
                             + (f": {self.second_call[0]}" if self.second_call else ""))
            fails.extend(f"strict: warning: {w}" for w in self.warnings)
        self.failures = fails
        self.ok = not fails
        return self

    def to_dict(self) -> dict:
        """Plain data for ``json.dumps`` (non-finite floats become strings)."""
        return _jsonable(asdict(self))

    def render(self) -> str:
        """A short human-readable summary, verdict first."""
        verdict = "OK" if self.ok else "FAIL"
        mode = " (strict)" if self.strict else ""
        lines = [f"{self.name}: {verdict}{mode}"]
        lines += [f"  ! {f}" for f in self.failures]
        lines.append(f"  forward vs reference:  {self.forward.describe()}")
        lines.append(f"  backward vs reference: {self.backward.describe()}"
                     + (f" [{', '.join(self.dtypes)}]" if self.dtypes else ""))
        lines.append(f"  backward vs finite differences: {self.fd.describe()}"
                     + (f" ({self.fd.skipped} points skipped)" if self.fd.skipped else ""))
        flags = [n for n in ("mutated_dout", "aliased_dout", "mutated_inputs", "mutated_cache")
                 if getattr(self, n)]
        if flags:
            lines.append("  in-place: " + ", ".join(flags))
        lines += [f"  second backward: {c}" for c in self.second_call]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  kink: {k}" for k in self.kink_notes]
        if self.api_detail:
            lines.append(f"  api: {self.api_detail}")
        lines += [f"  note: {n}" for n in self.notes]
        lines.append("  shapes: " + ", ".join(str(s) for s in self.shapes))
        return "\n".join(lines)

    __str__ = render


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
