"""Fuzz the exported code: random forwards through ``derive export --expr``, run and checked.

Random forwards in 1-3 inputs (x, t, y) over the elementwise grammar
(``tests/grammar_strategies.py``, as ``bench/fuzz_grammar.py`` draws them) are exported as
a user would (``derive export --expr F --var ...``) for each backend asked for (numpy,
numba, jax), each module loaded from its file, its class's forward and backward run on
float64 arrays (jax: ``jax.vjp`` of its function, in float64; JAX computes without NumPy's
warnings, so there the warnings check has nothing to see), and the numbers checked against the formula itself, in mpmath at 50 digits
(:mod:`grammar_oracle`), not against the engine's own derivation:

* **forward**: out against the forward evaluated exactly, at random points where it is real
  and finite and no switch (a condition's two sides, a kink) is near;
* **gradient**: each input's gradient (``backward`` with dout = 1) against 50-digit central
  differences of the forward at the same points;
* **extremes**: ±1000, ±30, ±1e-300 and 0 in every input, the others at a random point
  and at its mirror image (and all inputs at ±1000 together): where the exact forward
  and differences are finite float64 numbers, the exported results must be finite, close
  (tolerance :data:`EXTREME_RTOL`: the stable forms are to keep them so) and computed
  **without a warning** (an overflow that a select drops still warns: the bug of the
  user layer ``np.where(x <= 0, x, 1 - np.exp(-x))`` at x = -1000);
* a **traceback** anywhere in the exported code is a failure; an export that derive refuses
  (exit 2) or cannot prove (exit 3) is counted, not failed (``fuzz_grammar`` owns those).

Tolerances are relative to the size of the terms (``|a - b| <= rtol (|a| + |b|) + atol``):
a formula that cancels in float64 by itself is not the exporter's fault, so the random
points use :data:`RTOL` (1e-7) and only flag what is wrong, not what is imprecise.

    python bench/fuzz_export.py --examples 200 --seed 0 [--backend numpy,numba,jax]
                                [--depth 3] [--format text|json]

Progress goes to stderr; the figures and each failing formula, with the command that
reproduces it, to stdout. Exit status 1 when any example failed.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import math
import shlex
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [p for p in (str(HERE), str(HERE / "tests"), str(HERE / "bench"))
                if p not in sys.path]

RTOL, ATOL = 1e-7, 1e-12        # random points: flag what is wrong, not what is imprecise
EXTREME_RTOL, EXTREME_ATOL = 1e-6, 1e-14
EXTREMES = (1000.0, -1000.0, 30.0, -30.0, 1e-300, -1e-300, 0.0)


@dataclass
class Result:
    """What one forward's export did on one backend."""

    text: str
    var: str
    backend: str
    status: str                         # checked | exit 2 | exit 3 | traceback | failed
    seconds: float = 0.0
    message: str = ""
    failures: list = field(default_factory=list)     # one line each
    checked: Counter = field(default_factory=Counter)

    def command(self) -> str:
        return (f"derive export --expr {shlex.quote(self.text)} --var {self.var} "
                f"--name fz --backend {self.backend} -o fz.py")


def _export(text, var, backend, directory: Path, index: int):
    """(exit code, message, module or None): the module written and loaded from its file."""
    from derive.cli import main
    name = f"fz_{backend}_{index}"
    target = directory / f"{name}.py"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["export", "--expr", text, "--var", var, "--name", "fz",
                     "--backend", backend, "-o", str(target)])
    if code != 0:
        return code, (err.getvalue() or out.getvalue()).strip().splitlines()[-1:], None
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return 0, "", module


def _run(module, inputs, columns):
    """(out, gradients, warnings' messages) of the class on float64 arrays (for the jax
    backend: ``jax.vjp`` of its ``fz`` with jax_enable_x64, dout = 1)."""
    import numpy as np
    arrays = [np.array(columns[n], dtype=np.float64) for n in inputs]
    if not hasattr(module, "Fz"):
        import jax
        jax.config.update("jax_enable_x64", True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out, pullback = jax.vjp(module.fz, *(jax.numpy.asarray(a) for a in arrays))
            grads = pullback(jax.numpy.ones_like(out))
        return (np.asarray(out, dtype=np.float64), [np.asarray(g, dtype=np.float64) for g in grads],
                sorted({str(w.message) for w in caught}))
    layer = module.Fz()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
            out = layer.forward(*arrays)
            grads = layer.backward(np.ones_like(np.asarray(out, dtype=np.float64)))
    grads = grads if isinstance(grads, tuple) else (grads,)
    return (np.asarray(out, dtype=np.float64), [np.asarray(g, dtype=np.float64) for g in grads],
            sorted({str(w.message) for w in caught}))


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    """Within the tolerance; an infinity or NaN only matches itself (inf - 0 <= rtol*inf
    would pass every infinite result: 1/max(0, x) for where(x >= 0, 1/x, 0))."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= rtol * (abs(a) + abs(b)) + atol


def _exact(forward, found, point, inputs):
    """(forward, {input: derivative}) at the point in mpmath, or None where the forward is not
    real and finite, a switch is near, or a difference does not settle."""
    import grammar_oracle as O
    try:
        f0 = O.evaluate(forward, point)
    except O.Undefined:
        return None
    if isinstance(f0, bool) or O._near_switch(found, point):
        return None
    grads = {}
    for n in inputs:
        try:
            fd = O.central_difference(forward, point, n)
        except O.Undefined:
            fd = None
        if fd is None:
            return None
        grads[n] = fd
    return f0, grads


def _in_range(v) -> bool:
    return math.isfinite(float(v)) and (v == 0 or abs(v) > 1e-300)


def _points(forward, found, inputs, rng, points):
    """Random points with their exact values, then the extremes (each input at each extreme
    value, the others at a random ordinary one) that have them."""
    import grammar_oracle as O
    m = O._mp()
    chosen = []
    with m.workdps(O.DIGITS):
        for _ in range(40):
            if len(chosen) >= points:
                break
            p = O._draw_point(rng, inputs)
            e = _exact(forward, found, p, inputs)
            if e is not None:
                chosen.append(("random", p, e))
        base = O._draw_point(rng, inputs)
        # the others at a random point and, with two or more inputs, at its mirror image:
        # where(x < 0, 0, x*exp(y)) at y = 1000 is wrong only where x < 0
        bases = [base] + ([{k: -v for k, v in base.items()}] if len(inputs) > 1 else [])
        for n in inputs:
            for v in EXTREMES:
                for b in bases:
                    p = dict(b, **{n: m.mpf(v)})
                    e = _exact(forward, [], p, inputs) if not O._near_switch(found, p) else None
                    if e is not None and _in_range(e[0]) and all(_in_range(g) for g in e[1].values()):
                        chosen.append(("extreme", p, e))
        if len(inputs) > 1:
            for v in (1000.0, -1000.0):
                p = {n: m.mpf(v) for n in inputs}     # on a switch (x = t): no derivative
                e = _exact(forward, [], p, inputs) if not O._near_switch(found, p) else None
                if e is not None and _in_range(e[0]) and all(_in_range(g) for g in e[1].values()):
                    chosen.append(("extreme", p, e))
    return chosen


def check(module, forward, inputs, chosen) -> tuple:
    """(failures, counts) of the module's class at the chosen points."""
    import grammar_oracle as O
    m = O._mp()
    failures, counts = [], Counter()
    if not chosen:
        return failures, counts
    columns = {n: [float(p[n]) for _, p, _ in chosen] for n in inputs}
    out, grads, caught = _run(module, inputs, columns)
    extreme_rows = [i for i, (kind, _, _) in enumerate(chosen) if kind == "extreme"]
    if caught and extreme_rows:
        # which rows warn: run the extremes one at a time (the random points are ordinary)
        for i in extreme_rows:
            _, _, w = _run(module, inputs, {n: [columns[n][i]] for n in inputs})
            if w:
                at = ", ".join(f"{n} = {columns[n][i]:g}" for n in inputs)
                failures.append(f"warning at {at}: {'; '.join(w)}")
    elif caught:
        failures.append(f"warning at ordinary points: {'; '.join(caught)}")
    for i, (kind, p, (f0, exact)) in enumerate(chosen):
        # at the extremes, a gradient far below the output's rounding is only as exact as
        # out is when it is computed from out, as the book's Sigmoid computes dout*(1 - out)*out
        # (tanh's 1 - out**2 at x = 20 is 0): EXTREME_ATOL of the forward's size
        rtol, atol = (EXTREME_RTOL, EXTREME_ATOL) if kind == "extreme" else (RTOL, ATOL)
        at = ", ".join(f"{n} = {m.nstr(p[n], 8)}" for n in inputs)
        counts[kind] += 1
        if not _close(float(out[i]), float(f0), rtol, atol * (1 + abs(float(f0)))):
            failures.append(f"forward at {at}: {out[i]!r}, exactly {m.nstr(f0, 12)}")
        for n, g in zip(inputs, grads):
            want = float(exact[n])
            if not _close(float(g.flat[i]), want, rtol, atol * (1 + abs(float(f0)))):
                failures.append(f"d/d{n} at {at}: {g.flat[i]!r}, differences {m.nstr(exact[n], 12)}")
    return failures, counts


def examine(formula, backends, directory: Path, index: int, points: int = 4) -> list:
    import random

    import grammar_oracle as O

    from derive.errors import DeriveError
    from derive.parse import parse
    results = []
    try:
        forward = parse(formula.text)
    except DeriveError as exc:               # refused as derive refuses it: not the export's
        return [Result(formula.text, formula.var, b, "exit 2", message=str(exc))
                for b in backends]
    found = O.switches(forward)
    chosen = _points(forward, found, formula.inputs, random.Random(index), points)
    for backend in backends:
        r = Result(formula.text, formula.var, backend, "checked")
        started = time.perf_counter()
        try:
            code, message, module = _export(formula.text, formula.var, backend, directory, index)
            if code != 0:
                r.status, r.message = f"exit {code}", " ".join(message)
            else:
                r.failures, r.checked = check(module, forward, formula.inputs, chosen)
                if r.failures:
                    r.status = "failed"
        except Exception as exc:  # noqa: BLE001 -- any crash in derive or the exported code is the finding
            r.status = "traceback"
            r.message = " | ".join(traceback.format_exception_only(type(exc), exc)).strip()
            r.failures = [line.strip() for line in traceback.format_exc().splitlines()[-4:]]
        r.seconds = time.perf_counter() - started
        results.append(r)
    return results


def fuzz(examples: int, backends, *, seed: int | None = 0, derandomize: bool = False,
         depth: int = 3, progress=None) -> list:
    from grammar_strategies import each_formula
    results, started = [], time.perf_counter()
    directory = Path(tempfile.mkdtemp(prefix="fuzz_export_"))

    def body(formula, k):
        results.extend(examine(formula, backends, directory, k))
        if progress is not None and (k % 10 == 0 or k == examples):
            tally = Counter(r.status for r in results)
            print(f"[{k}/{examples}] {time.perf_counter() - started:.0f} s "
                  f"{dict(sorted(tally.items()))}", file=progress, flush=True)

    each_formula(examples, body, seed=seed, derandomize=derandomize, depth=depth)
    return results


def figures(results: list, seconds: float) -> dict:
    by = {}
    for r in results:
        b = by.setdefault(r.backend, {"status": Counter(), "points": Counter()})
        b["status"][r.status] += 1
        b["points"].update(r.checked)
    return {"seconds": round(seconds, 1),
            "backends": {k: {"status": dict(v["status"]), "points": dict(v["points"])}
                         for k, v in by.items()},
            "failures": [{"backend": r.backend, "status": r.status, "formula": r.text,
                          "command": r.command(), "message": r.message,
                          "wrong_numbers": sum(d.startswith(("forward at", "d/d")) for d in r.failures),
                          # wrong numbers before warnings: the six shown are the worst
                          "details": sorted(r.failures, key=lambda d: d.startswith("warning"))[:6]}
                         for r in results if r.status in ("failed", "traceback")]}


def format_text(f: dict) -> str:
    lines = [f"fuzz_export: {f['seconds']} s"]
    for b, v in f["backends"].items():
        lines.append(f"  {b}: {v['status']}; points checked {v['points']}")
    lines.append(f"failures: {len(f['failures'])}")
    for x in f["failures"]:
        wrong = f" ({x['wrong_numbers']} wrong numbers)" if x.get("wrong_numbers") else ""
        lines.append(f"- [{x['backend']}] {x['status']}{wrong}: {x['formula']}")
        lines.append(f"    {x['command']}")
        lines += [f"    {d}" for d in x["details"]]
        if x["message"]:
            lines.append(f"    {x['message']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--backend", default="numpy,numba",
                    help="comma-separated: numpy, numba, jax (default numpy,numba)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    a = ap.parse_args(argv)
    backends = [b.strip() for b in a.backend.split(",") if b.strip()]
    unknown = set(backends) - {"numpy", "numba", "jax"}
    if unknown:
        ap.error(f"unknown backend(s) {', '.join(sorted(unknown))}: numpy, numba, jax")
    started = time.perf_counter()
    results = fuzz(a.examples, backends, seed=a.seed, depth=a.depth, progress=sys.stderr)
    f = figures(results, time.perf_counter() - started)
    print(json.dumps(f, indent=1) if a.format == "json" else format_text(f))
    return 1 if f["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
