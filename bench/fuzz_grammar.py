"""Fuzz the whole formula grammar: no traceback, nothing over budget, results that hold.

Random forwards in 1-3 inputs (x, t, y) over every elementwise spelling of the rule table
(``tests/grammar_strategies.py``) go through the public API as ``derive show`` does
(derive, JSON, text), under the budget of one command (``--timeout``). Each example is

* **derived** (exit 0), **refused** (exit 2: a DeriveError with a message, e.g. the
  forward is nowhere real), **could not prove** (exit 3), a **TRACEBACK** (any other
  exception, or an exit-2 error without a message), and **OVER BUDGET** when its wall time
  passes the timeout by more than the slack;
* for a derived one, every gradient (the JSON ``result``) is fed back to ``check``
  (``derive check --backward``) and must be proven (exit 0) -- the **round trip** -- and
  must agree with 50-digit central differences of the forward (mpmath) at random points
  where the forward is real and finite and no kink or switch is near (:mod:`fd_oracle`).

Every ``--cli-every``-th example, and every one that used most of its budget in-process
(where the budget's timer fires), also runs through ``python -m derive`` (show, then check
of each result) to cover the command line: its exit codes, tracebacks and wall time.

    python bench/fuzz_grammar.py --examples 1000 --seed 0 [--timeout 5] [--depth 3]
                                 [--cli-every 25] [--format text|json]

Progress goes to stderr; the figures and the failing formulas, each with the command
that reproduces it, to stdout.
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [p for p in (str(HERE), str(HERE / "tests"), str(HERE / "bench"))
                if p not in sys.path]

SLACK = 1.0          # seconds past the timeout before an in-process run is over budget
CLI_SLACK = 2.0      # the same for a fresh process (the budget counts its imports too)


@dataclass
class Outcome:
    """What one forward did (in-process, or through the command line when ``cli``)."""

    text: str
    var: str
    status: str                     # derived | exit 2 | exit 3 | traceback
    seconds: float
    timeout: float
    message: str = ""               # the error's message, or the traceback's last lines
    results: dict = field(default_factory=dict)      # input -> gradient text (JSON result)
    cache: dict = field(default_factory=dict)        # cached name -> text in the inputs
    roundtrip: dict = field(default_factory=dict)    # input -> "proven" or what check said
    fd: dict = field(default_factory=dict)           # input -> ("agree"|"disagree"|"skipped", why)
    cli: bool = False

    @property
    def over_budget(self) -> bool:
        return self.seconds > self.timeout + (CLI_SLACK if self.cli else SLACK)

    def show_command(self) -> str:
        return (f"derive show --expr {shlex.quote(self.text)} --var {self.var} "
                f"--timeout {self.timeout:g}")

    def check_command(self, name: str) -> str:
        return (f"derive check --expr {shlex.quote(self.text)} --var {self.var} --wrt {name} "
                f"--backward {shlex.quote(self.results[name])} --timeout {self.timeout:g}")

    def failures(self) -> list:
        """(kind, command, detail) for everything this example got wrong."""
        where = "cli" if self.cli else "api"
        out = []
        if self.status == "traceback":
            out.append((f"traceback ({where})", self.show_command(), self.message))
        if self.over_budget:
            out.append((f"over budget ({where})", self.show_command(),
                        f"{self.seconds:.1f} s for a budget of {self.timeout:g} s"))
        for name, verdict in self.roundtrip.items():
            if verdict != "proven":
                out.append((f"round trip not proven ({where})", self.check_command(name),
                            verdict))
        for name, (kind, why) in self.fd.items():
            if kind == "disagree":
                out.append(("finite differences disagree", self.show_command(),
                            f"d{name} = {self.results[name]}: {why}"))
        return out


def _last_lines(exc: BaseException, n: int = 3) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(lines[-n:]).strip().splitlines()
    return " | ".join(s.strip() for s in tail[-2 * n:])


def _command(run, timeout):
    """Run one command's work under its own budget: (status, message, value, seconds)."""
    from derive import budget
    from derive.errors import DeriveError
    t = time.perf_counter()
    try:
        with budget.deadline(timeout, everything=True):
            value = run()
        status, message = "ok", ""
    except DeriveError as exc:
        value, message = None, str(exc)
        status = f"exit {exc.exit_code}" if message.strip() else "traceback"
        if status == "traceback":
            message = f"{type(exc).__name__} with an empty message"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:      # noqa: B902 -- a traceback is the finding
        status, message, value = "traceback", _last_lines(exc), None
    return status, message, value, time.perf_counter() - t


def examine(formula, timeout: float = 5.0, *, fd_points: int = 3, rng_seed: int = 0) -> Outcome:
    """Derive one forward in-process, re-check each result and compare with FD."""
    from derive import derive
    from derive.check import check
    from derive.program import layer_from_text
    from derive.render import render

    inputs = list(formula.inputs)

    def show():
        d = derive(expr=formula.text, var=inputs)
        data = d.to_dict()
        render(d, "text")
        return data

    status, message, data, seconds = _command(show, timeout)
    out = Outcome(formula.text, formula.var, "derived" if status == "ok" else status,
                  seconds, timeout, message)
    if data is None:
        return out
    out.results, out.cache = dict(data["result"]), dict(data["cache"])
    for name, gradient in out.results.items():
        def recheck(name=name, gradient=gradient):
            return check(layer_from_text(formula.text, var=inputs), gradient, wrt=name)
        status, message, report, seconds = _command(recheck, timeout)
        if seconds > timeout + SLACK:
            out.seconds = max(out.seconds, seconds)     # counted as over budget
        if status == "ok":
            status = "proven" if report.exit_code == 0 else \
                f"exit {report.exit_code}: {report.verdicts[0].status}"
        out.roundtrip[name] = status if status == "proven" else f"{status}: {message}".rstrip(": ")
    from grammar_oracle import agreement
    try:
        out.fd = agreement(formula.text, out.results, out.cache, inputs, points=fd_points,
                           seed=rng_seed)
    except Exception as exc:      # the oracle's own failure: shown, never taken as agreement
        out.fd = {n: ("skipped", f"oracle error: {type(exc).__name__}: {str(exc)[:60]}")
                  for n in out.results}
    return out


def examine_cli(formula, timeout: float = 5.0) -> Outcome:
    """The same forward through ``python -m derive`` (show --format json, then check)."""
    def run(*args):
        t = time.perf_counter()
        try:
            p = subprocess.run([sys.executable, "-m", "derive", *args, "--timeout", f"{timeout:g}"],
                               capture_output=True, text=True, cwd=HERE,
                               timeout=timeout + CLI_SLACK + 30)
            code, stdout, stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            code, stdout, stderr = None, "", "killed: no answer 30 s past the budget"
        return code, stdout, stderr, time.perf_counter() - t

    layer = ["--expr", formula.text, "--var", formula.var]
    code, stdout, stderr, seconds = run("show", *layer, "--format", "json")
    out = Outcome(formula.text, formula.var, "", seconds, timeout, cli=True)
    data = _json(stdout)
    if "Traceback (most recent call last)" in stderr or code not in (0, 2, 3):
        out.status, out.message = "traceback", " | ".join(stderr.strip().splitlines()[-3:])
    elif code != 0:
        message = (data or {}).get("error", {}).get("message", "") or stderr.strip()
        out.status, out.message = (f"exit {code}", message) if message else \
            ("traceback", f"exit {code} without a message")
    elif data is None or "result" not in data:
        out.status, out.message = "traceback", "exit 0 without a JSON derivation on stdout"
    else:
        out.status, out.results = "derived", dict(data["result"])
    for name, gradient in out.results.items():
        code, stdout, stderr, seconds = run("check", *layer, "--wrt", name, "--backward", gradient)
        out.seconds = max(out.seconds, seconds)
        if "Traceback (most recent call last)" in stderr:
            out.status, out.message = "traceback", " | ".join(stderr.strip().splitlines()[-3:])
        out.roundtrip[name] = "proven" if code == 0 else \
            f"exit {code}: " + " | ".join((stdout + stderr).strip().splitlines()[:2])
    return out


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def fuzz(examples: int, *, seed: int | None = 0, derandomize: bool = False,
         timeout: float = 5.0, depth: int = 3, cli_every: int = 0, progress=None) -> dict:
    """Draw ``examples`` forwards with hypothesis and examine each; returns the figures."""
    from grammar_strategies import each_formula
    outcomes, cli, started = [], [], time.perf_counter()

    def body(formula, k):
        outcomes.append(examine(formula, timeout, rng_seed=k - 1))
        near_budget = outcomes[-1].seconds > 0.8 * timeout      # where the timer races
        if cli_every and (len(outcomes) % cli_every == 0 or near_budget):
            cli.append(examine_cli(formula, timeout))
        if progress is not None and (len(outcomes) % 10 == 0 or len(outcomes) == examples):
            tally = Counter(o.status for o in outcomes)
            print(f"[{len(outcomes)}/{examples}] {time.perf_counter() - started:.0f} s "
                  f"{dict(sorted(tally.items()))}", file=progress, flush=True)

    each_formula(examples, body, seed=seed, derandomize=derandomize, depth=depth)
    return figures(outcomes, cli, time.perf_counter() - started)


def figures(outcomes: list, cli: list, seconds: float) -> dict:
    status = Counter(o.status for o in outcomes)
    trips = Counter("proven" if v == "proven" else "failed"
                    for o in outcomes for v in o.roundtrip.values())
    fd = Counter(kind for o in outcomes for kind, _ in o.fd.values())
    skipped = Counter(why for o in outcomes for kind, why in o.fd.values() if kind == "skipped")
    failures = [dict(zip(("kind", "command", "detail"), f)) for o in outcomes + cli
                for f in o.failures()]
    return {
        "examples": len(outcomes), "distinct": len({o.text for o in outcomes}),
        "seconds": round(seconds, 1),
        "derived": status["derived"], "exit 2": status["exit 2"], "exit 3": status["exit 3"],
        "tracebacks": status["traceback"],
        "over budget": sum(o.over_budget for o in outcomes),
        "round trip proven": trips["proven"], "round trip failed": trips["failed"],
        "fd agree": fd["agree"], "fd disagree": fd["disagree"], "fd skipped": fd["skipped"],
        "fd skipped why": dict(skipped.most_common()),
        "exit 2 causes": _causes(o for o in outcomes if o.status == "exit 2"),
        "exit 3 causes": _causes(o for o in outcomes if o.status == "exit 3"),
        "slowest": sorted(((round(o.seconds, 1), o.text) for o in outcomes), reverse=True)[:5],
        "cli": {"runs": len(cli),
                **{k: sum(o.status == k for o in cli) for k in ("derived", "exit 2", "exit 3")},
                "tracebacks": sum(o.status == "traceback" for o in cli),
                "over budget": sum(o.over_budget for o in cli),
                "round trip failed": sum(v != "proven" for o in cli for v in o.roundtrip.values())},
        "failures": failures,
    }


def _causes(outcomes, top: int = 12) -> list:
    """The commonest error messages (numbers, quoted names and call arguments blanked),
    each with a count and its shortest formula's command: [count, message, command]."""
    seen: dict = {}
    for o in outcomes:
        key = re.sub(r"'[^']*'|\d+(\.\d+)?", "_", o.message.split(" == ")[0])
        key = re.sub(r"^column _: |(?<=∂L/∂)\w+", "", key)
        key = _blank_calls(key)[:100]
        entry = seen.setdefault(key, [0, key, o.show_command()])
        entry[0] += 1
        if len(o.show_command()) < len(entry[2]):      # the shortest formula reproduces it
            entry[2] = o.show_command()
    return sorted(seen.values(), key=lambda c: -c[0])[:top]


def _blank_calls(text: str) -> str:
    """``ITE(x > 1, ...); use`` -> ``ITE(…); use``: the arguments of every call blanked.

    >>> _blank_calls("no rule for ITE((x > 1) & (y < 2), f(x)); use (<, <=)")
    'no rule for ITE(…); use (<, <=)'
    """
    out, depth = [], 0
    for i, ch in enumerate(text):
        if depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                out.append("(…)")
        elif ch == "(" and i and (text[i - 1].isalnum() or text[i - 1] == "_"):
            depth = 1
        else:
            out.append(ch)
    return "".join(out)


def format_text(f: dict) -> str:
    lines = [
        f"examples {f['examples']} ({f['distinct']} distinct) in {f['seconds']:.0f} s",
        f"  derived {f['derived']}   exit 2 (refused) {f['exit 2']}   exit 3 (could not prove) "
        f"{f['exit 3']}   TRACEBACKS {f['tracebacks']}   OVER BUDGET {f['over budget']}",
        f"  round trip (derive check of each result): proven {f['round trip proven']}   "
        f"FAILED {f['round trip failed']}",
        f"  50-digit finite differences: agree {f['fd agree']}   DISAGREE {f['fd disagree']}   "
        f"skipped {f['fd skipped']} {f['fd skipped why']}",
        f"  command line sample: {f['cli']}",
        *(f"  {kind} x{n}: {message}\n      {example}" for kind in ("exit 2", "exit 3")
          for n, message, example in f[f"{kind} causes"]),
        f"  slowest: {f['slowest']}",
        f"failures: {len(f['failures'])}",
    ]
    for item in f["failures"]:
        lines += [f"  [{item['kind']}] {item['detail']}", f"      {item['command']}"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=5.0, help="budget per command, seconds")
    ap.add_argument("--depth", type=int, default=3, help="nesting depth of the formulas")
    ap.add_argument("--cli-every", type=int, default=25,
                    help="every N-th example, and each near its budget, also through "
                    "python -m derive (0: never)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    args = ap.parse_args(argv)
    result = fuzz(args.examples, seed=args.seed, timeout=args.timeout, depth=args.depth,
                  cli_every=args.cli_every, progress=sys.stderr)
    result["command"] = " ".join(["python bench/fuzz_grammar.py", *(argv or sys.argv[1:])])
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.format == "json"
                     else format_text(result))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
