"""Index notation: a canonical form for sums of products of indexed arrays.

:func:`canonical` turns an index-form SymPy expression (``IndexedBase``, ``Sum``
with symbolic bounds, ``KroneckerDelta``, ``exp``/``log``/powers) into a dict
``signature -> coefficient``.  Each term is a product of factors under sums over
bound indices; the normal form

* contracts every ``KroneckerDelta`` that meets a bound index (``Σ_k δ(k,q)·a[k] = a[q]``),
* drops a bound index that no factor uses, multiplying by its range (``Σ_n c = N·c``),
* merges equal factors (exponents add, so ``y·y⁻¹`` cancels),
* names bound indices canonically (the smallest spelling over all renamings),
* treats a function of a sum (``sqrt(Σ ...)``, ``exp(x[n,k])``) as an atom keyed by
  the canonical form of its argument.

Two expressions with the same canonical form are equal for every size of every
axis: the form only uses identities that hold for all N, D, M (a proof, not a sample).
``rules`` adds stated facts such as "each row of t sums to 1"
(``{("t", 1): 1}``) or "the columns of xn sum to 0" (``{("xn", 0): 0}``).

>>> from derive.tensor import Arr, MatProd, Transposed, dims
>>> from derive.indexform import element
>>> N, D, M = dims("N D M"); p, q = sp.symbols("p q", integer=True)
>>> x, W = Arr("x", (N, D)), Arr("W", (D, M))
>>> equal(element(Transposed(MatProd(x, W)), (p, q)),
...       element(MatProd(Transposed(W), Transposed(x)), (p, q)))
True
>>> equal(element(MatProd(x, W), (p, q)), 2 * element(MatProd(x, W), (p, q)))
False
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp
from sympy.tensor.indexed import Indexed

from .errors import DeriveError
from .windows import InRange


class IndexFormError(DeriveError):
    """A value or index expression outside what the index form handles (e.g. a sum that
    does not start at 0)."""


@dataclass
class Term:
    coeff: sp.Expr
    bounds: dict = field(default_factory=dict)      # index symbol -> extent
    factors: dict = field(default_factory=dict)     # (base, indices) -> exponent

    def times(self, other: "Term") -> "Term":
        factors = dict(self.factors)
        for k, e in other.factors.items():
            factors[k] = factors.get(k, 0) + e
        return Term(self.coeff * other.coeff, {**self.bounds, **other.bounds}, factors)


def _has_index(e) -> bool:
    return e.has(Indexed) or e.has(sp.KroneckerDelta) or e.has(InRange)


def _gate(extent) -> tuple:
    return ("∈[0,n)", extent)


def _is_gate(base) -> bool:
    return isinstance(base, tuple) and base[0] == "∈[0,n)"


def _syms(idx) -> set:
    """The index symbols an index tuple reads: entries may be affine expressions, or an
    array element used as an index (``δ(p, idx[n])`` reads p and n: a row lookup)."""
    out = set()
    for i in idx:
        if isinstance(i, sp.Symbol):
            out.add(i)
        elif isinstance(i, Indexed):
            out |= _syms(i.indices)
        elif isinstance(i, sp.Basic) and not i.is_Integer:
            out |= _syms(i.args)
    return out


def _rename(i, mapping):
    if isinstance(i, sp.Symbol):
        return mapping.get(i, i)
    return i.xreplace(mapping) if isinstance(i, sp.Basic) and mapping else i


def terms(e: sp.Expr) -> list:
    """Expand ``e`` into a list of :class:`Term` (not yet normalised)."""
    if not _has_index(e):
        return [Term(e)]
    if isinstance(e, Indexed):
        return [Term(sp.Integer(1), {}, {(e.base.label.name, tuple(e.indices)): 1})]
    if isinstance(e, sp.KroneckerDelta):
        return [Term(sp.Integer(1), {}, {("δ", tuple(e.args)): 1})]
    if isinstance(e, InRange):          # [0 <= e < n]: keyed by its extent, idempotent
        return [Term(sp.Integer(1), {}, {(_gate(e.args[1]), (e.args[0],)): 1})]
    if e.is_Add:
        return [t for a in e.args for t in terms(a)]
    if e.is_Mul:
        out = [Term(sp.Integer(1))]
        for a in e.args:
            out = [t.times(u) for t in out for u in terms(a)]
        return out
    if e.is_Pow:
        b, ex = e.args
        if ex.is_Integer and ex > 0 and not isinstance(b, Indexed):
            return terms(sp.Mul(*([b] * int(ex)), evaluate=False)) if ex > 1 else terms(b)
        if isinstance(b, Indexed):
            return [Term(sp.Integer(1), {}, {(b.base.label.name, tuple(b.indices)): ex})]
        if ex.is_Integer and b.is_Mul:
            return terms(sp.Mul(*(a ** ex for a in b.args)))
        if isinstance(b, sp.exp):
            return terms(sp.exp(b.args[0] * ex))
        return [_pow_atom(b, ex)]
    if isinstance(e, sp.exp):
        out = Term(sp.Integer(1))
        for t in terms(e.args[0]):
            if not t.factors and not t.bounds:
                out.coeff *= sp.exp(t.coeff)
            elif t.coeff.is_Number:
                out = out.times(_atom_of_terms("exp", [Term(sp.Integer(1), t.bounds, t.factors)], t.coeff))
            else:
                out = out.times(_atom_of_terms("exp", [t], 1))
        return [out]
    if isinstance(e, sp.Sum):
        body, renamed, extents = e.function, {}, {}
        for lim in e.limits:
            v, lo, hi = lim
            if lo != 0:
                raise IndexFormError(f"sums must start at 0, got {lim}")
            d = sp.Dummy(v.name, integer=True)
            renamed[v], extents[d] = d, hi - lo + 1
        body = body.xreplace(renamed)
        return [Term(t.coeff, {**t.bounds, **extents}, t.factors) for t in terms(body)]
    if isinstance(e, sp.Function) and len(e.args) == 1:
        return [_atom(type(e).__name__, e.args[0], 1)]
    raise IndexFormError(f"cannot put {type(e).__name__} into index form: {e}")


def _pow_atom(b, ex) -> Term:
    """``b**ex`` as one factor; for an integer ``ex`` and a ``b`` that is one product under
    sums, the factors the sums do not run over come out first (``1/Σ_j c·e[j]`` is
    ``c⁻¹ · (Σ_j e[j])⁻¹``), so a sum's inverse meets the same sum written elsewhere."""
    ts = terms(b)
    norm = normalise(ts)
    if ex.is_Integer and len(norm) == 1:
        (c, _, rep), = norm.values()
        bound = set(rep.bounds)
        outside = {k: e for k, e in rep.factors.items() if not _syms(k[1]) & bound}
        if outside or c != 1:
            inside = Term(sp.Integer(1), dict(rep.bounds),
                          {k: e for k, e in rep.factors.items() if k not in outside})
            outer = Term(c ** ex, {}, {k: e * ex for k, e in outside.items()})
            if not inside.factors:
                return Term(outer.coeff * _extent(inside) ** ex, {}, outer.factors)
            return outer.times(_atom_of_terms("pow", [inside], ex))
    return _atom_of_terms("pow", ts, ex)


def _extent(t: Term) -> sp.Expr:
    return sp.Mul(*t.bounds.values())


def _atom(name, arg, exponent) -> Term:
    return _atom_of_terms(name, terms(arg), exponent)


def _atom_of_terms(name, ts, exponent) -> Term:
    """A function of an index expression as one factor, keyed by its canonical argument."""
    norm = normalise(ts)
    free = sorted({i for sig in norm.values() for i in sig[1]}, key=str)    # symbols
    best = None
    for perm in itertools.permutations(free):
        mapping = {i: sp.Symbol(f"#{j}") for j, i in enumerate(perm)}
        key = "+".join(sorted(f"{sp.cancel(c)}*{_spell(rep, mapping)}" for rep, c in
                              ((v[2], v[0]) for v in norm.values())))
        if best is None or key < best[0]:
            best = (key, perm)
    key, perm = best if best else ("+".join(f"{v[0]}" for v in norm.values()), ())
    return Term(sp.Integer(1), {}, {((name, key), tuple(perm)): exponent})


def _spell(rep: Term, mapping: dict) -> str:
    def spelled(b, idx):
        names = [str(_rename(i, mapping)) for i in idx]
        return sorted(names) if b == "δ" else names       # δ is symmetric
    parts = sorted(f"{b}[{','.join(spelled(b, idx))}]^{e}"
                   for (b, idx), e in rep.factors.items())
    ext = sorted(f"{mapping.get(b, b)}<{n}" for b, n in rep.bounds.items())
    return "Σ(" + ";".join(ext) + ")" + "·".join(parts)


def _substitute(t: Term, old, new) -> Term:
    factors = {}
    for (b, idx), e in t.factors.items():
        key = (b, tuple(_rename(i, {old: new}) for i in idx))
        factors[key] = factors.get(key, 0) + e
    bounds = {b: n for b, n in t.bounds.items() if b != old}
    return Term(t.coeff, bounds, factors)


def _reduce_term(t: Term, rules) -> Term | None:
    """Deltas, unused bounds, merged factors and stated row sums; None if the term is 0."""
    changed = True
    while changed:
        changed = False
        for (b, idx), e in list(t.factors.items()):
            if b != "δ":
                continue
            i, j = idx
            rest = dict(t.factors)
            del rest[(b, idx)]
            t = Term(t.coeff, t.bounds, rest)
            verdict = _contractible(t, i, j)
            if verdict == "zero":
                return None
            if verdict == "one":
                pass
            elif isinstance(verdict, list):       # affine: one way per bound index it reads
                return _best_of([_gated(t, *v) for v in verdict], rules)
            elif verdict is not None:
                t = _substitute(t, *verdict)
            else:
                t.factors[(b, idx)] = 1
                continue
            changed = True
            break
        t.factors = {k: (1 if _is_gate(k[0]) else e) for k, e in t.factors.items() if e != 0}
        gates = _reduce_gates(t)
        if gates == "zero":
            return None
        changed = changed or gates
        used = {i for (_, idx) in t.factors for i in _syms(idx)}
        for b in [b for b in t.bounds if b not in used]:
            t.coeff *= t.bounds.pop(b)
            changed = True
        if _fold_sums(t):
            changed = True
            continue
        for b in list(t.bounds):
            holders = [(k, e) for k, e in t.factors.items() if b in _syms(k[1])]
            if len(holders) != 1:
                continue
            (name, idx), e = holders[0]
            if e != 1 or idx.count(b) != 1 or not isinstance(name, str):
                continue
            rule = rules.get((name, idx.index(b)))
            if rule is None:
                continue
            if rule == 0:
                return None
            del t.factors[(name, idx)]
            del t.bounds[b]
            t.coeff *= rule
            changed = True
            break
    return t if t.coeff != 0 else None


def _contractible(t: Term, i, j):
    """How ``δ(i, j)`` leaves a term: ``(old, new)`` to substitute, "one", "zero", or None
    to keep it as a factor. Only sound contractions: Σ_k δ(k, e)·a[k] is a[e] only when e
    is inside k's range — an index of the same axis (a free index, or a bound one with the
    same extent) or an integer known to be in range; an affine e (h − i·s + pad) keeps its
    delta, since for some h it falls outside [0, K)."""
    if i == j:
        return "one"
    for k, e in ((i, j), (j, i)):
        if k not in t.bounds:
            continue
        extent = t.bounds[k]
        if isinstance(e, sp.Symbol) and (e not in t.bounds or t.bounds[e] == extent):
            return (k, e)
        if getattr(e, "is_Integer", False):
            if e < 0 or (extent - e).is_nonpositive:
                return "zero"
            if (extent - e).is_positive:
                return (k, e)
    if getattr(i, "is_Integer", False) and getattr(j, "is_Integer", False):
        return "zero"
    ways = []
    for a, e in ((i, j), (j, i)):     # Σ_k δ(k + c, e)·f(k) = f(e − c)·[0 ≤ e − c < K]
        for k in sorted(_syms((a,)) & set(t.bounds), key=str):
            c = sp.expand(a - k)
            if k in _syms((e, c)) or not isinstance(a, sp.Add):
                continue
            ways.append((k, e - c, t.bounds[k]))       # a slice's offset: gated, so sound
    return ways or None


def _gated(t: Term, k, new, extent) -> Term:
    t = _substitute(t, k, new)
    t.factors[(_gate(extent), (new,))] = 1
    return t


def _best_of(ways, rules) -> Term | None:
    """The reduction of a term that an affine delta can leave in several ways
    (``Σ_a Σ_b δ(r, a + b)·f(a, b)`` sums over b = r − a or over a = r − b: a change of
    summation variables): each way reduced on, and the smallest spelling kept, so the form
    does not depend on which bound index happens to sort first by name. All ways are the
    same value, so one reducing to 0 proves the term 0."""
    done = []
    for w in ways:
        r = _reduce_term(w, rules)
        if r is None:
            return None
        done.append(r)
    return min(done, key=lambda r: _signature(r)[0])


def _reduce_gates(t: Term):
    """``[0 <= e < n]`` factors: 1 when e is a bound index of extent n (or its range is
    known to fit), 0 when known to fail; "zero", True (changed) or False."""
    changed = False
    for (b, idx), _ in list(t.factors.items()):
        if not _is_gate(b):
            continue
        (e,), extent = idx, b[1]
        value = InRange(e, extent)
        in_delta = any(b2 == "δ" and e in _syms(i2) for (b2, i2) in t.factors)
        if isinstance(e, sp.Symbol) and t.bounds.get(e) == extent and not in_delta:
            value = sp.Integer(1)      # (a bound about to be contracted keeps its gate)
        if value == 0:
            return "zero"
        if value == 1:
            del t.factors[(b, idx)]
            changed = True
    return changed


def _fold_sums(t: Term) -> bool:
    """``Σ_j e[n,j] · (Σ_j e[n,j])^k`` -> ``(Σ_j e[n,j])^(k+1)``: a sum meets its own power."""
    atoms = {k: e for k, e in t.factors.items() if isinstance(k[0], tuple) and k[0][0] == "pow"}
    if not atoms:
        return False
    for b in list(t.bounds):
        held = {k: e for k, e in t.factors.items() if b in _syms(k[1])}
        if any(k in atoms for k in held):
            continue
        sub = Term(sp.Integer(1), {b: t.bounds[b]}, held)
        key = next(iter(_atom_of_terms("pow", [sub], 1).factors))
        if key in atoms:
            for k in held:
                del t.factors[k]
            del t.bounds[b]
            t.factors[key] += 1
            return True
    return False


def _signature(t: Term) -> tuple:
    """(spelling, renaming): the smallest spelling of ``t`` over every naming of its bound
    indices, and the renaming that gives it."""
    best = None
    for perm in itertools.permutations(sorted(t.bounds, key=str)):
        mapping = {b: sp.Symbol(f"_{j}", integer=True) for j, b in enumerate(perm)}
        sig = _spell(t, mapping)
        if best is None or sig < best[0]:
            best = (sig, mapping)
    return best if best else (_spell(t, {}), {})


def normalise(ts, rules=None) -> dict:
    """``signature -> (coefficient, free indices, representative term)``."""
    rules = rules or {}
    out: dict = {}
    for t in ts:
        t = _reduce_term(Term(t.coeff, dict(t.bounds), dict(t.factors)), rules)
        if t is None:
            continue
        sig, mapping = _signature(t)
        rep = Term(sp.Integer(1), {mapping[b]: n for b, n in t.bounds.items()},
                   {(b, tuple(mapping.get(i, i) for i in idx)): e for (b, idx), e in t.factors.items()})
        free = frozenset(i for (_, idx) in t.factors for i in _syms(idx)
                         if i not in t.bounds and not i.is_nonnegative)
        if sig in out:
            c, _, r = out[sig]
            out[sig] = (c + t.coeff, free, r)
        else:
            out[sig] = (t.coeff, free, rep)
    result = {}
    for sig, (c, free, rep) in out.items():
        c = sp.cancel(sp.together(c))
        if c != 0:
            result[sig] = (c, free, rep)
    return result


def canonical(e: sp.Expr, rules=None) -> dict:
    return normalise(terms(e), rules)


def difference(a: sp.Expr, b: sp.Expr, rules=None) -> dict:
    """The canonical form of ``a - b`` (empty when they are equal)."""
    neg = [Term(-t.coeff, t.bounds, t.factors) for t in terms(b)]
    return normalise(terms(a) + neg, rules)


def equal(a: sp.Expr, b: sp.Expr, rules=None) -> bool:
    return not difference(a, b, rules)
