"""Steps as pure data, and the one recorder every derivation step goes through.

A :class:`Step` is what a walkthrough shows: which rule, the upstream gradient
arriving, the local derivative (or, for a structural node, its vector-Jacobian
product with the index argument), the expression that results, and the
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

    kind: str               # seed | chain | sum | rewrite | fact | result
    rule: str               # primitive name, or the rewrite's name
    node: str               # the node the step is about (display name)
    target: str             # whose gradient ∂L/∂target the step computes
    expr: sp.Expr           # the gradient (or the rewritten gradient) after the step
    proof: Proof
    upstream: sp.Expr | None = None
    local: sp.Expr | None = None
    complete: bool = True   # False for one branch of a fan-out, before the sum
    note: str = ""
    index: tuple = ()       # structural steps: (lhs, rhs) of the index argument, in SymPy
    shape: tuple = ()       # the shape of the gradient (() for a scalar layer)
    raw: sp.Expr | None = None   # the local derivative as the rule gives it (−1/c²), when
    #                              it differs from the cached ``local`` it is proven equal to
    using: tuple = ()       # rewrites: (lhs, rhs) of the identity the step uses, in SymPy

    def to_dict(self) -> dict:
        from .render.printers import text
        d = {"kind": self.kind, "rule": self.rule, "node": self.node, "target": self.target,
             "expr": text(self.expr), "complete": self.complete, "proof": self.proof.to_dict()}
        if self.upstream is not None:
            d["upstream"] = text(self.upstream)
            d["local"] = text(self.local) if self.local is not None else None
        if self.raw is not None:
            d["raw_local"] = text(self.raw)
        if self.using:
            d["using"] = [text(e) for e in self.using]
        if self.shape:
            d["shape"] = [str(s) for s in self.shape]
        if self.index:
            d["index"] = [text(e) for e in self.index]
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class Recorder:
    """Collects steps; each is proven against a reference before it is kept.

    ``unfold`` turns an expression in ``out`` into one in the inputs, so a step written
    the book's way (with y) is proven against SymPy's own ``diff``. A tensor layer's
    steps go through :mod:`derive.tensorproof`, whose ``context`` knows its named values.
    """

    forward: sp.Expr
    steps: list = field(default_factory=list)
    context: object = None          # a tensorproof.Context for tensor layers, else None
    definitions: dict = field(default_factory=dict)   # statement symbol -> its value in inputs

    def unfold(self, e: sp.Expr) -> sp.Expr:
        """``e`` in the inputs: ``out`` and the layer's named statements replaced by their
        values (a step reads ``a`` for ``a = 2*x``; SymPy's diff sees ``2*x``)."""
        return e.xreplace({out: self.forward, **self.definitions})

    def prove(self, expr, reference, what, allow_kink=True) -> Proof:
        from .algebra import plain       # factors held as written are proven as values
        expr, reference = plain(expr), plain(reference)
        if self.context is not None:
            from .tensorproof import prove_tensor
            return prove_tensor(expr, reference, self.context, what=what, allow_kink=allow_kink)
        left, right = self.unfold(expr), self.unfold(reference)
        proof = prove_equal(left, right, what=what, allow_kink=allow_kink, domain=self.forward)
        unfolded = " once the output is replaced by its forward formula" if (
            left != expr or right != reference) else ""
        return replace(proof, detail=f"{proof.detail}{unfolded}")

    def record(self, kind, rule, node, target, expr, *, against, what, reference=None,
               proof=None, upstream=None, local=None, complete=True, note="", allow_kink=True,
               index=(), shape=(), raw=None, using=()) -> Step:
        """Prove ``expr`` equal to ``reference`` (or take the ``proof`` a rule's own witness
        gave) and keep the step. ``against`` says what the witness is, for the reader."""
        if proof is None:
            proof = self.prove(expr, reference, what, allow_kink)
        proof = replace(proof, detail=f"{proof.detail}; against {against}")
        if proof.kink_note and not note:
            note = proof.kink_note
        step = Step(kind, rule, node, target, expr, proof, upstream, local, complete, note,
                    tuple(index), tuple(shape), raw, tuple(using))
        self.steps.append(step)
        return step
