"""Proofs of tensor steps: elementwise identities per element, structural ones in index form.

Two independent routes, chosen by what the two sides are:

* **elementwise** (both sides have the same shape and every structural value appears
  only as an operand): each maximal structural subexpression is held as an opaque real
  number and the scalar prover (:mod:`derive.proof`) decides. An identity that holds
  for all real values of the atoms holds at every element, whatever the shapes;
* **index form**: both sides are written elementwise with symbolic sizes
  (:mod:`derive.indexform`) and put into the canonical form of :mod:`derive.index`
  (delta contraction, sums over unused indices, merged factors, stated facts such as
  "each row of t sums to 1"). The same canonical form is a proof for every size.

Each proof also passes a numeric cross-check with float64 arrays at two sets of sizes,
one with every dimension 1 where the layer allows (N = 1), run first.

>>> from derive.tensor import Arr, MatProd, Transposed, dims
>>> N, D, M = dims("N D M")
>>> x, W = Arr("x", (N, D)), Arr("W", (D, M))
>>> prove_tensor(Transposed(MatProd(x, W)), MatProd(Transposed(W), Transposed(x))).method
'index form (all sizes)'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from . import index
from .errors import DeriveError, ProofError
from .evaluate import evaluate, names_of, random_env
from .indexform import IndexFormError, element, element_of, free_indices, vjp_reference
from .proof import Counterexample, Proof, prove_equal
from .slices import Concat
from .tensor import (Arr, AxisMax, AxisMean, AxisSum, BroadcastTo, ExpandDims, Structural, array,
                     broadcast,
                     shape_of, unbroadcast)

__all__ = ["Context", "prove_tensor", "prove_vjp", "prove_broadcast", "atomize", "check_sizes",
           "numeric_compare"]


@dataclass(frozen=True)
class Context:
    """What a proof needs to know about the layer: named values and stated facts.

    ``definitions``: name -> value in the layer's inputs (``out``, ``xn``...);
    ``rules``: {(array name, axis): value of its sum over that axis} (facts proven from
    the definitions, or assumptions the layer states); ``positive``: names drawn positive.
    """

    definitions: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    positive: frozenset = frozenset()

    def unfold(self, e: sp.Expr) -> sp.Expr:
        subs = {s: self.definitions[s.name] for s in e.free_symbols if s.name in self.definitions}
        return e.xreplace(subs) if subs else e


EMPTY = Context()


def check_sizes(dims, exprs=()) -> tuple:
    """Two sets of sizes: distinct small sizes, and the batch N (or the first dim) = 1.
    Windows in ``exprs`` fit: stride 2, pad 1 in the first set, 1 and 0 in the second."""
    dims = sorted(dims, key=lambda d: d.name)
    first = {d.name: 2 + i for i, d in enumerate(dims)}
    batch = next((d.name for d in dims if d.name == "N"), dims[0].name if dims else None)
    second = {d.name: 3 + (i % 2) for i, d in enumerate(dims)}
    if batch:
        second[batch] = 1
    from .windows import fit_sizes
    return (fit_sizes(first, exprs, True), fit_sizes(second, exprs, False))


def _dims(*exprs) -> set:
    out = {s for e in exprs for s in e.free_symbols if s.is_integer and s.is_nonnegative}
    for e in exprs:
        for s in e.atoms(Arr):
            out |= {d for sh in s.shape for d in sh.free_symbols}
        for a in e.atoms(Structural):
            out |= {d for sh in shape_of(a) for d in sh.free_symbols}
    return out


def context_env(names, sizes, rng, ctx: Context) -> dict:
    """Random arrays for ``names`` at ``sizes`` as the layer allows them: positive names
    drawn positive, rows summing to 1 where the context says so (one-hot targets)."""
    rows = [(n, ax) for (n, ax), v in ctx.rules.items() if v == 1 and n in names]
    return random_env(names, sizes, rng, positive=ctx.positive, rows_sum_to_one=rows)


def numeric_compare(a, b, ctx: Context = EMPTY, *, seed: int = 0, rtol: float = 1e-9,
                    ones=()):
    """(points agreed, Counterexample or None): both sides at random arrays, two size sets.

    ``ones``: names held at 1 everywhere (``dout = 1``, to ask whether a formula is right
    when the upstream gradient is 1)."""
    a_full, b_full = ctx.unfold(a), ctx.unfold(b)
    names = names_of(a_full, b_full)
    rng = np.random.default_rng(seed)
    agreed = 0
    for sizes in check_sizes(_dims(a_full, b_full), (a_full, b_full)):
        env = context_env(names, sizes, rng, ctx)
        for name in ones:
            if name in env:
                env[name] = np.ones_like(env[name])
        with np.errstate(all="ignore"):
            try:
                va = np.asarray(evaluate(a_full, env), dtype=np.float64)
                vb = np.asarray(evaluate(b_full, env), dtype=np.float64)
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise ProofError(f"the numeric cross-check could not evaluate: {exc}") from None
        try:
            va, vb = np.broadcast_arrays(va, vb)
        except ValueError:
            return agreed, Counterexample({**sizes}, f"shape {va.shape}", f"shape {vb.shape}")
        ok = np.isfinite(va) & np.isfinite(vb)
        bad = ok & (np.abs(va - vb) > 1e-12 + rtol * np.maximum(np.abs(va), np.abs(vb)))
        if np.any(bad):
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            return agreed, Counterexample({**sizes, "index": where}, float(va[where]),
                                          float(vb[where]))
        agreed += int(np.sum(ok))
    return agreed, None


def hold_structural(exprs):
    """Each maximal structural subexpression held as a real symbol (its sign kept);
    return (the held expressions, the back-substitution)."""
    found = {}

    def hold(e):
        if isinstance(e, Structural):
            if e not in found:
                sign = {"positive": True} if e.is_positive else (
                    {"nonnegative": True} if e.is_nonnegative else {})
                found[e] = sp.Dummy(f"A{len(found)}", real=True, **sign)
            return found[e]
        if e.is_Atom or not e.args:
            return e
        return e.func(*[hold(a) for a in e.args])
    held = [hold(e) for e in exprs]
    return held, {v: k for k, v in found.items()}


def _broadcast_free(e):
    """``e`` with each broadcast that NumPy's own broadcasting repeats dropped: an
    explicit ``np.broadcast_to`` and new leading axes of size 1 (``np.expand_dims(a, 0)``);
    and a mean written as the sum over the count (``np.mean`` and ``np.sum(...)/D`` meet).
    Element by element the value is the same wherever the whole is broadcast (axes align
    on the right), so an elementwise identity of the result holds for the original.

    >>> from derive.tensor import Arr, BroadcastTo, ExpandDims, dims
    >>> (N,) = dims("N"); c = sp.Symbol("c", real=True)
    >>> _broadcast_free(Arr("t", (N,)) * BroadcastTo(ExpandDims(-c, 0), N)) == -c * Arr("t", (N,))
    True
    """
    if isinstance(e, BroadcastTo):
        return _broadcast_free(e.args[0])
    if isinstance(e, ExpandDims) and e.axes == tuple(range(len(e.axes))):
        return _broadcast_free(e.args[0])
    if isinstance(e, AxisMean):           # a mean is the sum over the count: one atom for both
        return AxisSum(*e.args) / e.count()   # (the operand as it is: its shape is summed)
    if e.is_Atom or not e.args or isinstance(e, Structural):
        return e
    return e.func(*[_broadcast_free(a) for a in e.args])


def atomize(*exprs):
    """The expressions with each maximal structural subexpression held as a real symbol."""
    return hold_structural(exprs)[0]


def _elementwise(a, b) -> bool:
    try:
        return shape_of(a) == shape_of(b)
    except DeriveError:
        return False


def _index_equal(a, b, rules) -> bool:
    pair = _index_pair(a, b)
    return pair is not None and not index.difference(*pair, rules)


def _index_pair(a, b):
    """Both sides element by element at the same free indices; None outside index form."""
    try:
        shape = broadcast(shape_of(a), shape_of(b))
        idx = free_indices(shape)
        return element_of(a, idx, shape), element_of(b, idx, shape)
    except (IndexFormError, DeriveError):
        return None


def _rules_needed(a, b, rules) -> list:
    """The stated facts without which ``a == b`` (equal in index form) has no proof."""
    pair = _index_pair(a, b)
    return [k for k in rules
            if index.difference(*pair, {q: v for q, v in rules.items() if q != k})]


def _outermost(e) -> list:
    """The structural subexpressions of ``e`` not inside another one."""
    found = []

    def walk(node):
        if isinstance(node, Structural):
            found.append(node)
        elif not node.is_Atom:
            for a in node.args:
                walk(a)
    walk(e)
    return found


def _unify(a, b, ctx, depth):
    """``b`` with each outermost structural value replaced by one of ``a`` it is proven equal
    to (same operation and parameters, operands proven equal): congruence."""
    if depth >= 3:
        return b
    mine = [x for x in _outermost(a) if x not in set(_outermost(b))]
    repl = {}
    for y in _outermost(b):
        if y in mine or y in repl:
            continue
        for x in mine:
            if type(x) is type(y) and x.args[1:] == y.args[1:] and len(x.args) == len(y.args):
                try:
                    for p, q in zip(x.args, y.args):
                        if p != q:
                            prove_tensor(p, q, ctx, what="an operand", depth=depth + 1)
                except (ProofError, DeriveError):
                    continue
                repl[y] = x
                break
    return b.xreplace(repl) if repl else b


def prove_tensor(a, b, ctx: Context = EMPTY, *, what: str = "step",
                 allow_kink: bool = True, depth: int = 0) -> Proof:
    """A :class:`~derive.proof.Proof` that ``a == b`` elementwise, or a ProofError."""
    if a == b:
        points, _ = numeric_compare(a, b, ctx)
        return Proof("identical", "the same expression", points)
    if a.has(Concat) or b.has(Concat):      # np.concatenate is the sum of its parts' places
        from .slices import as_places
        a2, b2 = as_places(a), as_places(b)
        inner = prove_tensor(a2, b2, ctx, what=what, allow_kink=allow_kink, depth=depth)
        return Proof(inner.method, inner.detail + "; np.concatenate of parts is the sum of "
                     "the parts placed at their offsets (a lemma proven in index form)",
                     inner.points, inner.kink_note, inner.uses)
    points, bad = numeric_compare(a, b, ctx)
    if bad is not None:
        raise ProofError(f"{what}: not equal, {bad}")
    a_full, b_full = ctx.unfold(a), ctx.unfold(b)
    if _elementwise(a_full, b_full):
        from .tensor_tidy import shift_sums
        for shifted in (False, True):
            pair = (shift_sums(a_full), shift_sums(b_full)) if shifted else (a_full, b_full)
            if shifted and pair == (a_full, b_full):
                continue
            pair = (_broadcast_free(pair[0]), _broadcast_free(pair[1]))
            pair = (pair[0], _unify(pair[0], pair[1], ctx, depth))
            left, right = atomize(*pair)
            try:
                inner = prove_equal(left, right, what=what, allow_kink=allow_kink)
            except ProofError:
                continue
            lemma = ("; sums of exponentials: the exponent's part constant along the summed "
                     "axes moved out of the sum (a lemma proven in index form)") if shifted else ""
            return Proof(inner.method, inner.detail + " (elementwise)" + lemma, points,
                         inner.kink_note)
    for left, right in ((a, b), (a_full, b_full)):
        if _index_equal(left, right, ctx.rules):
            needed = _rules_needed(left, right, ctx.rules)
            used = "; using " + ", ".join(f"Σ {n} over axis {ax} = {ctx.rules[n, ax]}"
                                          for n, ax in needed) if needed else ""
            return Proof("index form (all sizes)", "same canonical form" + used, points,
                         uses=tuple(needed))
    raise ProofError(f"{what}: could not prove {a} == {b}")


def central_differences(value, wrt: str, weight: str, env: dict, limit=None, h: float = 1e-6):
    """(index, d Σ weight·value / d wrt[index]) by central differences, for each index of
    the array ``wrt`` in ``env`` (the first ``limit`` of them)."""
    base = np.array(env[wrt], dtype=np.float64)
    for i in list(np.ndindex(base.shape))[:limit]:
        up, down = base.copy(), base.copy()
        up[i] += h
        down[i] -= h
        f = [float(np.sum(env[weight] * evaluate(value, {**env, wrt: v}))) for v in (up, down)]
        yield i, (f[0] - f[1]) / (2 * h)


def _fd_check(value, k, G, seed=0) -> int:
    """Central differences of Σ G·value against the VJP, at small sizes; points checked."""
    from .vjp import structural_vjp
    wrt = value.args[k]
    names = names_of(value, G)
    rng = np.random.default_rng(seed)
    checked = 0
    for sizes in check_sizes(_dims(value, G), (value, G)):
        env = random_env(names, sizes, rng)
        got = np.broadcast_to(evaluate(structural_vjp(value, k, G), env),
                              np.shape(env[wrt.name]))
        for i, fd in central_differences(value, wrt.name, G.name, env):
            if abs(fd - got[i]) > 1e-6 * (1 + abs(got[i])):
                raise ProofError(f"the vector-Jacobian product of {type(value).__name__} "
                                 f"disagrees with finite differences at {sizes}, index {i}")
            checked += 1
    return checked


@lru_cache(maxsize=512)
def _vjp_proof(cls, k, shapes, params) -> int:
    from .vjp import structural_vjp
    operands = [array(f"A{i}", s) for i, s in enumerate(shapes)]
    value = cls(*operands, *params)
    if cls is AxisMax:
        from .windows import max_reference
        idx, reference, G = max_reference(value)
    else:
        idx, reference, G = vjp_reference(value, operands[k])
    diff = index.difference(element(structural_vjp(value, k, G), idx), reference)
    checked = _fd_check(value, k, G)     # raises when the product is really wrong
    if diff:
        raise ProofError(f"could not prove the vector-Jacobian product of "
                         f"{cls.__name__.lower()} for operand {k + 1} at these shapes: its index "
                         f"form and SymPy's derivative did not reduce to the same sum (they "
                         f"agree by finite differences at {checked} points: a limit of the "
                         f"prover, not a wrong gradient, but nothing unproven is shown)")
    return checked


def prove_vjp(value: sp.Expr, k: int) -> Proof:
    """Proof that the rule table's VJP of the structural node ``value`` for operand ``k`` is
    SymPy's derivative of ``Σ G·value`` in index form (all operands opaque; every size),
    cross-checked by central differences."""
    from .rules import RULES, STRUCTURAL
    rule = RULES[STRUCTURAL[type(value)]]
    arity = rule.arity or len(value.args)       # 0: every argument is an operand
    shapes = tuple(shape_of(a) for a in value.args[:arity])
    points = _vjp_proof(type(value), k, shapes, tuple(value.args[arity:]))
    if isinstance(value, AxisMax):
        from .windows import MAX_PROOF
        return Proof("index form (all sizes)", MAX_PROOF, points)
    return Proof("index form (all sizes)", f"the {rule.name} rule's vector-Jacobian product "
                 "has the canonical form of SymPy's derivative of Σ G·(node) with respect to "
                 "the operand", points)


@lru_cache(maxsize=512)
def _broadcast_proof(full, part) -> None:
    from .tensor import BroadcastTo
    b = array("B", part)
    idx, reference, H = vjp_reference(BroadcastTo(b, *full), b, upstream_name="H")
    if index.difference(element(unbroadcast(H, part), idx), reference):
        raise ProofError("the sum over broadcast axes is not the derivative of the broadcast")


@lru_cache(maxsize=256)
def prove_shift(shape, const_shape, axes, keepdims) -> None:
    """The lemma Σ_axes exp(U + C) = exp(C)·Σ_axes exp(U), C constant along the axes,
    in index form for these shapes (U, C opaque arrays)."""
    from .tensor import AxisSum
    U, C = array("U", shape), array("C", const_shape)
    left = AxisSum(sp.exp(U + C), int(keepdims), *axes)
    right = sp.exp(C) * AxisSum(sp.exp(U), int(keepdims), *axes)
    if not _index_equal(left, right, {}):
        raise ProofError("the exponential-shift lemma does not hold in index form here")


def prove_broadcast(full, part) -> str:
    """Detail text for the broadcast part of an elementwise step (proven once per shapes)."""
    _broadcast_proof(tuple(full), tuple(part))
    return ("the operand is broadcast, so its gradient adds up its copies (the sum over the "
            "broadcast axes has the canonical form of SymPy's derivative of the broadcast)")
