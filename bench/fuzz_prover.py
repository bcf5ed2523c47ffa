"""Fuzz the prover: random kinked formulas in two inputs, right and wrong gradients.

The heavier run of the property tests in ``tests/test_proof_robust.py`` (same strategy):
every hand derivative must be proven against SymPy's ``diff``, every wrong one must never
be proven (checked independently with SymPy's evalf), and nothing may raise.

    python bench/fuzz_prover.py [--examples 300] [--seed 0] [--timeout 20]

Prints the counts: proven / not proven (incomplete) / tracebacks for the right gradients,
and refuted / not proven / PROVEN WRONG (unsound) / tracebacks for the wrong ones.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(HERE), str(HERE / "tests")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="budget per comparison")
    args = ap.parse_args()
    import sympy as sp

    from derive import budget
    from derive.crosscheck import Counterexample
    from derive.errors import BudgetExceeded
    from derive.proof import Proof, compare
    from test_proof_robust import _differ_somewhere, dout, x

    right, wrong, slow, unproven = Counter(), Counter(), [], []
    rng = random.Random(args.seed)
    done = 0
    while done < args.examples:
        forward, mine = _draw(rng)
        if not forward.has(sp.Max, sp.Min, sp.Abs, sp.Piecewise):
            continue
        done += 1
        reference = dout * sp.diff(forward, x)
        for label, given, counter in (("right", dout * mine, right),
                                      ("wrong", dout * (mine * sp.Rational(3, 2) + 1), wrong)):
            t = time.perf_counter()
            try:
                with budget.deadline(args.timeout):
                    result = compare(given, reference)
            except BudgetExceeded:
                result = "budget"
            except Exception:                  # a traceback is the finding
                counter["TRACEBACK"] += 1
                traceback.print_exc()
                continue
            seconds = time.perf_counter() - t
            if seconds > 3:
                slow.append((round(seconds, 1), str(forward)))
            if label == "right":
                ok = isinstance(result, Proof)
                counter["proven" if ok else f"not proven ({_kind(result)})"] += 1
                if not ok:
                    unproven.append(str(forward))
            elif isinstance(result, Proof):
                unsound = _differ_somewhere(given, reference)
                counter["PROVEN WRONG (unsound)" if unsound else "proven (equal after all)"] += 1
            else:
                counter["refuted" if isinstance(result, Counterexample) else
                        f"not proven ({_kind(result)})"] += 1
    print(f"right gradients ({args.examples}): {dict(right)}")
    print(f"wrong gradients ({args.examples}): {dict(wrong)}")
    print(f"comparisons over 3 s: {len(slow)} {sorted(slow, reverse=True)[:5]}")
    for f in unproven[:10]:
        print(f"  not proven: {f}")


def _kind(result) -> str:
    return "budget" if result == "budget" else type(result).__name__


def _draw(rng, depth=3):
    """A random kinked formula and its hand derivative, as the test strategy draws them."""
    from test_proof_robust import BINARY, LEAVES, UNARY
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(LEAVES)
    if rng.random() < 0.5:
        return rng.choice(UNARY)(*_draw(rng, depth - 1))
    return rng.choice(BINARY)(*_draw(rng, depth - 1), *_draw(rng, depth - 1))


if __name__ == "__main__":
    main()
