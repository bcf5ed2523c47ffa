"""One-hot labels given as indices (the book's SoftmaxWithLoss takes both).

A const marked ``labels: t`` is one-hot rows in the derivation; the exported code also
takes label indices, without ever building the one-hot array:

* a gradient linear in t, ``P + Q·t`` (Q free of t and a scalar), is ``P`` with ``Q``
  added at each row's label: ``dx = P; dx[np.arange(N), t] += Q``;
* a forward ``Σ (t ⊙ A)`` over every axis is ``Σ_n A[n, t_n]``: each row of a one-hot t
  picks one entry (Σ_k δ(k, t_n)·A[n, k] = A[n, t_n]).
Anything else falls back to the one-hot form (``_onehot``).
"""
from __future__ import annotations

import sympy as sp

from ..tensor import AxisSum, shape_of

__all__ = ["split_linear", "picked_sum", "labels_of"]


def labels_of(spec) -> list:
    """The label consts of the layer that are one-hot rows (shape (N, C))."""
    table = spec.symbols()
    return [t for t in spec.features.get("labels", ()) if t in table and
            len(shape_of(table[t])) == 2]


def split_linear(e, t) -> tuple | None:
    """(P, Q) with ``e = P + Q·t``, Q a scalar free of t; None when e is not of that form
    (or t appears inside a structural value)."""
    from ..tensor import Structural
    if any(a.has(t) for a in e.atoms(Structural)):
        return None
    q = sp.diff(e, t)
    if q.has(t) or shape_of(q):
        return None
    return e.xreplace({t: 0}), q


def _picked(A, t, printer) -> str:
    """``Σ_n A[n, t_n]`` printed term by term: a full-size term is indexed at the labels
    (a bare array without computing anything else full-size), a term constant along the
    label axis (shape (N, 1): a row's max, its log-sum) is summed as it is.
    Softmax-with-loss: ``Σ x[n, t_n] - Σ m - Σ log S`` instead of ``(x - m - log S)[.., t]``."""
    full = shape_of(t)
    parts = []
    for term in sp.Add.make_args(A):
        shape = shape_of(term)
        neg = term.could_extract_minus_sign()
        q = -term if neg else term
        if shape == full:
            text = f"({printer.doprint(q)})[np.arange({t.name}.shape[0]), {t.name}]"
        elif len(shape) == 2 and shape[0] == full[0] and shape[1] == 1:
            text = f"({printer.doprint(q)})[:, 0]"
        else:
            return (f"{printer.sum_all}(({printer.doprint(A)})[np.arange({t.name}.shape[0]), "
                    f"{t.name}]{printer.sum_all_axis})")
        parts.append(("- " if neg else "+ ") + text)
    parts.sort(key=lambda q: q.startswith("- "))      # x[..] - m - log S: no negation first
    body = " ".join(parts)
    body = body[2:] if body.startswith("+ ") else "-" + body[2:]
    return f"{printer.sum_all}({body}{printer.sum_all_axis})"


def picked_sum(e, t, printer) -> str | None:
    """``e`` printed with its sums ``Σ (t ⊙ A)`` over every axis taken at the labels, or None."""
    found = [a for a in e.atoms(AxisSum) if a.has(t)]
    if not found or any(len(a.axes) != 2 or a.keepdims for a in found):
        return None
    repl = {}
    for a in found:
        body = sp.expand(a.args[0])
        inside = [term for term in sp.Add.make_args(body) if term.has(t)]
        rest = sp.Add(*[term for term in sp.Add.make_args(body) if not term.has(t)])
        coeffs = [sp.diff(term, t) for term in inside]
        if any(c.has(t) for c in coeffs):
            return None
        A = sp.Add(*coeffs)
        picked = sp.Symbol(_picked(A, t, printer))
        repl[a] = picked + (AxisSum(rest, *a.args[1:]) if rest != 0 else 0)
    return printer.doprint(e.xreplace(repl))
