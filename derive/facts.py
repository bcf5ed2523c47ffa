"""Facts about sums of a layer's named values, proven from their definitions.

``Σ_n xc = 0`` (batchnorm: xc = x − mean(x)), ``Σ_k y = 1`` (softmax) — what lets a
gradient be rewritten into a simpler cached form. Each fact a rewrite uses is recorded
once, as a proven step of its own, before the rewrite that needs it.
"""
from __future__ import annotations

import sympy as sp

from . import index
from .errors import DeriveError
from .indexform import IndexFormError, element, free_indices, fresh
from .tensor import AxisSum, array, shape_of
from .tensorproof import Context


def layer_context(spec, *, with_facts: bool = False) -> Context:
    """What a tensor proof knows about a layer: its named values, its stated assumptions
    (with ``with_facts``, also the facts proven from its definitions), the positive names."""
    rules = {(n, ax): v for n, ax, v, _ in spec.assume}
    if with_facts:
        rules.update(facts_of(spec))
    positive = frozenset(s.name for s in spec.forward.free_symbols if s.is_positive)
    return Context(spec.named(), rules, positive)


_FACTS: dict = {}


def facts_of(spec) -> dict:
    """{(name, axis): value} for named values whose sum over an axis is a constant
    (memoised per spec: the search asks at every structural node)."""
    key = (spec.name, tuple(spec.statements), spec.forward)
    if key not in _FACTS:
        _FACTS[key] = _find_facts(spec)
    return dict(_FACTS[key])


def _find_facts(spec) -> dict:
    found = {}
    named = dict(spec.statements)
    named["out"] = spec.forward
    for name, value in named.items():
        shape = shape_of(value)
        for axis, size in enumerate(shape):
            if size == 1:
                continue
            k = fresh("k")
            rest = list(free_indices(shape))
            rest[axis] = k
            try:
                total = sp.Sum(element(value, tuple(rest)), (k, 0, size - 1))
                norm = index.canonical(total)
            except (IndexFormError, DeriveError):
                continue
            if not norm:
                found[(name, axis)] = 0
            elif len(norm) == 1:
                (coeff, free, rep), = norm.values()
                if not rep.factors and not rep.bounds and coeff.is_number:
                    found[(name, axis)] = coeff
    return found


def record_facts(rec, spec, used):
    """Record each fact the next rewrite uses, once per derivation."""
    facts = facts_of(spec)
    for fact in used:
        if not any(s.kind == "fact" and s.note.startswith(_fact_what(fact) + " =") for s in rec.steps):
            _record_fact(rec, spec, fact, facts[fact])


def _fact_what(fact) -> str:
    return f"Σ {fact[0]} over axis {fact[1]}"


def _record_fact(rec, spec, fact, value):
    name, axis = fact
    shape = shape_of(dict(spec.statements).get(name, spec.forward))
    total = AxisSum(array(name, shape), 0, axis)
    rec.record("fact", "fact", name, name, sp.Integer(value), reference=total,
               against=f"the definition of {name}", what=_fact_what(fact),
               note=f"{_fact_what(fact)} = {value}", shape=shape_of(total), local=total)
