"""Steps as pure data, and the one recorder every derivation step goes through.

A :class:`Step` is what a walkthrough shows: which rule, the upstream gradient
arriving, the local derivative, the expression that results, and the
:class:`~derive.proof.Proof` that it is right. :class:`Recorder` is the only way
to make steps, so a walkthrough cannot show a step that was not proven.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from .proof import Proof, prove_equal

dout = sp.Symbol("dout", real=True)
out = sp.Symbol("out", real=True)


@dataclass(frozen=True)
class Step:
    """One proven step of a walkthrough."""

    kind: str               # seed | chain | sum | result | rewrite
    rule: str               # primitive name, or the rewrite's name
    node: str               # the node the step is about (display name)
    target: str             # whose gradient ∂L/∂target the step computes
    expr: sp.Expr           # the gradient (or the rewritten gradient) after the step
    proof: Proof
    upstream: sp.Expr | None = None
    local: sp.Expr | None = None
    complete: bool = True   # False for one branch of a fan-out, before the sum
    note: str = ""

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "rule": self.rule, "node": self.node, "target": self.target,
             "expr": str(self.expr), "complete": self.complete, "proof": self.proof.to_dict()}
        if self.upstream is not None:
            d["upstream"] = str(self.upstream)
            d["local"] = str(self.local)
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class Recorder:
    """Collects steps; each is proven against a reference before it is kept.

    ``unfold`` turns an expression in ``out`` into one in the inputs, so a step
    written the book's way (with y) is proven against SymPy's own ``diff``.
    """

    forward: sp.Expr
    steps: list = field(default_factory=list)

    def unfold(self, e: sp.Expr) -> sp.Expr:
        return e.xreplace({out: self.forward})

    def record(self, kind, rule, node, target, expr, *, reference, against, what,
               upstream=None, local=None, complete=True, note="", allow_kink=True) -> Step:
        """Prove ``expr`` equal to ``reference`` (both unfolded) and keep the step.

        ``against`` says what the reference is, for the reader (e.g. "the previous line").
        """
        left, right = self.unfold(expr), self.unfold(reference)
        proof = prove_equal(left, right, what=what, allow_kink=allow_kink)
        unfolded = " once the output is replaced by its forward formula" if (
            left != expr or right != reference) else ""
        proof = replace(proof, detail=f"{proof.detail}{unfolded}; against {against}")
        if proof.kink_note and not note:
            note = proof.kink_note
        step = Step(kind, rule, node, target, expr, proof, upstream, local, complete, note)
        self.steps.append(step)
        return step
