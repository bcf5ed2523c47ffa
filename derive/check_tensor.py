"""``derive check`` for tensor layers: proven for every size, or refuted at concrete sizes.

The formula is checked against the derivation's result (itself proven against the
whole forward): first numerically at three sets of sizes (N = 1 among them), random
inputs and a random ``dout``, which refutes a wrong line with the entry where it
differs; then symbolically (:func:`derive.tensorproof.prove_tensor`: per element, or in
index form for every N, D, M). A shape that is wrong for some size is refuted at once.

>>> from derive import catalogue
>>> from derive.check import check
>>> affine = catalogue.get("affine")
>>> check(affine, "np.dot(x.T, dout)", "W").verdicts[0].status
'proven'
>>> v = check(affine, "np.dot(dout.T, x)", "W").verdicts[0]
>>> v.status, v.reasons[0][:36]
('not_equal', 'shape: the formula is (M, D) but ∂L/')
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp

from .errors import DeriveError, ProofError
from .proof import Counterexample
from .tensor import broadcast, shape_of, show_shape
from .facts import layer_context
from .tensorproof import numeric_compare, prove_tensor

__all__ = ["check_tensor_gradient", "check_context"]

def _ratio(given, expected, ctx) -> str | None:
    """"it has the wrong sign" / "it is 2 times the expected gradient", numerically."""
    from fractions import Fraction
    try:
        points, bad = numeric_compare(given, 2 * expected, ctx)
        if bad is None:
            return "it is 2 times the expected gradient"
        points, bad = numeric_compare(given, -expected, ctx)
        if bad is None:
            return "it has the wrong sign: it is minus the expected gradient"
        for f in (sp.Rational(1, 2), 3, sp.Rational(1, 3), 4, sp.Rational(1, 4)):
            points, bad = numeric_compare(given, f * expected, ctx)
            if bad is None:
                return f"it is {Fraction(int(f.p), int(f.q))} times the expected gradient"
    except (DeriveError, ValueError, ArithmeticError):
        return None
    return None


def check_context(d):
    """The layer's proof context, knowing also each graph node a formula may read by name."""
    from .check_names import node_values
    ctx = layer_context(d.layer, with_facts=True)
    return replace(ctx, definitions={**node_values(d.spec, d.graph), **ctx.definitions})


def check_tensor_gradient(d, x, given, expected=None):
    """The :class:`~derive.check.Verdict` on ``given`` as ∂L/∂x of the tensor layer ``d``:
    x an input, or (with ``expected``, the derivation's gradient there) a node's symbol."""
    from .check import DOUT_ONE, Verdict
    spec = d.spec
    expected = d.result[x.name] if expected is None else expected
    ctx = check_context(d)
    want = shape_of(x)
    try:
        have = shape_of(given)
    except DeriveError as exc:
        return Verdict(x.name, "not_equal", given, expected, reasons=(f"shape: {exc}",))
    try:
        fits = broadcast(have, want) == want
    except DeriveError:
        fits = False
    if have != want and not (have == () and not want):
        how = ("broadcasts to" if fits else "is not") + f" {show_shape(want)}"
        return Verdict(x.name, "not_equal", given, expected, reasons=(
            f"shape: the formula is {show_shape(have)} but ∂L/∂{x.name} must be "
            f"{show_shape(want)} (like {x.name}); it {how}",))
    dout = spec.dout
    try:
        points, bad = numeric_compare(given, expected, ctx, seed=7)
    except ProofError as exc:
        raise DeriveError(f"--backward: {exc}") from None
    if bad is not None and spec.output_names:      # one upstream gradient per output
        missing = [u.name for u in dout.args if u in expected.free_symbols
                   and u not in given.free_symbols]
        reasons = [f"your expression does not use {', '.join(missing)} (the upstream "
                   f"gradient of {', '.join(m[1:] for m in missing)})"] if missing else []
        factor = _ratio(given, expected, ctx)
        return Verdict(x.name, "not_equal", given, expected, counterexample=_rounded(bad),
                       reasons=tuple(reasons + ([factor] if factor else [])))
    if bad is not None:
        reasons = []
        if dout not in given.free_symbols:
            _, at_one = numeric_compare(given, expected, ctx, seed=7, ones=("dout",))
            if at_one is None:
                return Verdict(x.name, "not_equal", given, expected, counterexample=bad,
                               reasons=(DOUT_ONE,))
            reasons.append("your expression does not use dout")
        factor = _ratio(given, expected, ctx)
        if factor:
            reasons.append(factor)
        return Verdict(x.name, "not_equal", given, expected, counterexample=_rounded(bad),
                       reasons=tuple(reasons))
    try:
        proof = prove_tensor(given, expected, ctx, what=f"∂L/∂{x.name}")
    except ProofError:
        return Verdict(x.name, "unproven", given, expected, agreed=points)
    assume = "; ".join(t for *_, t in spec.assume)
    if assume:
        proof = replace(proof, detail=f"{proof.detail}; assuming {assume}")
    return Verdict(x.name, "proven", given, expected, proof=proof, every_size=True)


def _rounded(ce: Counterexample) -> Counterexample:
    return Counterexample(dict(ce.point), float(np.real(ce.left)) if not isinstance(
        ce.left, str) else ce.left, float(np.real(ce.right)) if not isinstance(
        ce.right, str) else ce.right)
