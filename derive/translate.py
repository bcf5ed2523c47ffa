"""From index form back to matrix form: a small table of patterns.

A canonical term ``c · Σ_bounds Π factors`` becomes

* a matrix product when one bound index joins exactly two matrices whose other
  indices are the result's row and column (``Σ_k dout[p,k]·W[q,k] = dout @ W.T``),
* otherwise an elementwise product with broadcasting, where each group of factors
  sharing bound indices becomes ``np.sum(..., axis=..., keepdims=True)``
  (``keepdims=False`` for an axis the result does not have, as in ``db``).

Anything else raises :class:`TranslateError`.  The translation is never trusted:
callers expand the result to index form again and prove it equal. The matrix form is
the expression language of :mod:`derive.tensor` (``MatProd``, ``Transposed``,
``AxisSum``), so it is printed, proven and emitted like every other value.
"""
from __future__ import annotations

import sympy as sp

from .errors import DeriveError
from .tensor import AxisSum, MatProd, Transposed, shape_of


class TranslateError(DeriveError):
    """An index-form term with no matrix pattern in the table."""


def _array(name, symbols):
    """The matrix form of a factor: an earlier match, or a named array's symbol."""
    if isinstance(name, sp.Basic):
        return name
    if not isinstance(name, str) or name not in symbols:
        raise TranslateError(f"no matrix form for a factor {name!r}")
    return symbols[name]


def _product(items):
    return sp.Mul(*[t**e for t, e in items]) if items else sp.Integer(1)


def _ndim(t) -> int:
    return len(shape_of(t))


def _term(rep, idx, shapes, rank):
    factors = dict(rep.factors)
    bounds = dict(rep.bounds)
    free = [i for i in idx if not getattr(i, "is_Integer", False)]
    ndim = lambda key: len(key[1])            # noqa: E731
    work = max([rank] + [ndim(k) for k in factors])
    axis_of = {i: work - rank + j for j, i in enumerate(idx) if i in free}
    # matrix products
    for b in list(bounds):
        holders = [k for k in factors if b in k[1]]
        if rank != 2 or len(holders) != 2 or any(factors[k] != 1 or ndim(k) != 2 for k in holders):
            continue
        (n1, i1), (n2, i2) = holders
        o1, o2 = [i for i in i1 if i != b], [i for i in i2 if i != b]
        if len(o1) != 1 or len(o2) != 1 or o1[0] not in free or o2[0] not in free:
            continue
        if axis_of[o1[0]] == 1:
            (n1, i1), (n2, i2), o1, o2 = (n2, i2), (n1, i1), o2, o1
        if axis_of[o1[0]] != 0 or axis_of[o2[0]] != 1:
            continue
        left = _array(n1, shapes) if i1[0] == o1[0] else Transposed(_array(n1, shapes))
        right = _array(n2, shapes) if i2[1] == o2[0] else Transposed(_array(n2, shapes))
        del factors[(n1, i1)], factors[(n2, i2)], bounds[b]
        factors[(MatProd(left, right), (o1[0], o2[0]))] = 1
    # axis-aligned broadcasting and sums
    bound_axis, groups = {}, {}
    for key in factors:
        name, ix = key
        for j, i in enumerate(ix):
            axis = work - len(ix) + j
            if i in bounds:
                if bound_axis.setdefault(i, axis) != axis:
                    raise TranslateError(f"index {i} sits on two different axes")
            elif i in free and axis_of[i] != axis:
                raise TranslateError(f"no pattern for {name}{list(ix)} in a result indexed {list(idx)}")
    for key in factors:
        bs = frozenset(i for i in key[1] if i in bounds)
        groups.setdefault(bs, []).append(key)
    merged = True
    while merged:                       # groups that share a bound index reduce together
        merged = False
        keys = [g for g in groups if g]
        for a in keys:
            for b in keys:
                if a is not b and a & b:
                    groups[a | b] = groups.pop(a) + groups.pop(b)
                    merged = True
                    break
            if merged:
                break
    items = [(_array(k[0], shapes), factors[k]) for k in groups.get(frozenset(), [])]
    for bs, keys in groups.items():
        if not bs:
            continue
        axes = tuple(sorted(bound_axis[b] for b in bs))
        vanish = [a < work - rank for a in axes]
        if any(vanish) and not all(vanish):
            raise TranslateError("a sum mixes kept and dropped axes")
        body = _product([(_array(k[0], shapes), factors[k]) for k in keys])
        lead = work - _ndim(body)
        ax = sorted(a - lead for a in axes)
        items.append((AxisSum(body, int(not all(vanish)), *ax), 1))
    return items


def _coeff_split(c):
    num, den = sp.fraction(sp.cancel(c))
    return num, den


def to_matrix(norm: dict, idx, shapes: dict, rank: int, factor_common: bool = True) -> sp.Expr:
    """The matrix form of a canonical index form ``norm`` (see :mod:`derive.index`);
    ``shapes`` maps each array name to its symbol (which knows its shape)."""
    if not norm:
        return sp.Integer(0)
    for _, _, rep in norm.values():         # gates and offsets (a slice's q − H) have no
        for (name, ix) in rep.factors:      # matrix form here
            if (isinstance(name, tuple) and name[0] == "∈[0,n)") or any(
                    not (isinstance(i, sp.Symbol) or getattr(i, "is_Integer", False)) for i in ix):
                raise TranslateError("no matrix form for a gated or offset index")
    entries = sorted(norm.values(), key=lambda v: (len(v[2].bounds), v[0].could_extract_minus_sign(),
                                                       str(v[2].factors)))
    common_c, common_f = sp.Integer(1), {}
    if factor_common and len(entries) > 1:
        nums, dens = zip(*(_coeff_split(c) for c, _, _ in entries))
        g = nums[0]
        for n in nums[1:]:
            g = sp.gcd(g, n)
        lcm = dens[0]
        for d in dens[1:]:
            lcm = sp.lcm(lcm, d)
        common_c = sp.cancel(g / lcm)
        if all(sp.cancel(c / common_c).could_extract_minus_sign() for c, _, _ in entries):
            common_c = -common_c
        first = entries[0][2]
        for key, e in first.factors.items():
            if any(i in first.bounds for i in key[1]):
                continue
            exps = [v[2].factors.get(key) for v in entries]
            if all(x is not None and (x > 0) == (e > 0) for x in exps):
                common_f[key] = min(exps) if e > 0 else max(exps)
    total = None
    for c, _, rep in entries:
        c = sp.cancel(c / common_c)
        rep_f = dict(rep.factors)
        for key, e in common_f.items():
            rep_f[key] -= e
            if rep_f[key] == 0:
                del rep_f[key]
        rep2 = type(rep)(rep.coeff, rep.bounds, rep_f)
        body_items = _term(rep2, idx, shapes, rank)
        negative = c.could_extract_minus_sign()
        mag = -c if negative else c
        num, den = _coeff_split(mag)
        items = ([(num, 1)] if num != 1 else []) + body_items + ([(den, -1)] if den != 1 else [])
        t = _product(items)
        if total is None:
            total = -t if negative else t
        else:
            total = total - t if negative else total + t
    if not common_f and common_c == 1:
        return total
    num, den = _coeff_split(common_c)
    outer = [(_array(k[0], shapes), e) for k, e in common_f.items()]
    lead = [(num, 1)] if num != 1 else []
    if num == -1:
        lead, total = [], -total
    return _product(lead + [(a, e) for a, e in outer if e > 0] + [(total, 1)]
                    + ([(den, -1)] if den != 1 else []) + [(a, e) for a, e in outer if e < 0])
