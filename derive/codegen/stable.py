"""Stable forms for generated NumPy code, each rewrite proven equal to what it replaces.

A derived gradient is exact mathematics; evaluated literally in float64 it may
overflow (``exp(1000)``) or cancel (``1 - exp(-out)`` for tiny ``out``). The
rewrites here change only *how* a value is computed:

* powers of one base multiplied as one power (``x**x*x**(-x - 1)`` → ``1/x``) and the log
  of a product with ``exp(v)`` or ``c**v`` as a sum (:mod:`.stable_powers`);
* ``log(1 + exp(u))`` → ``softplus(u)``, printed ``np.logaddexp(0.0, u)``;
* an ``exp(u)`` that cancels against ``1 + exp(u)`` → the logistic function
  ``sigmoid(u)``: substitute ``exp(u) = t/(1 - t)`` with ``t = sigmoid(u)``; when
  the result is a polynomial in ``t`` no overflowing ``exp`` is left (silu, sigmoid);
* a select of a constant where the value passes it → ``Min``/``Max`` (a clip, one pass);
* ``u*sign(u)`` → ``Abs(u)``;
* ``2*sigmoid(u) - 1`` → ``tanh(u/2)`` (one call, no cancellation near u = 0);
* an ``exp`` inside the otherwise-branch of ``Piecewise((a, s > 0), (b, True))``
  only matters where ``s <= 0``, so ``s`` is clamped to ``min(s, 0)`` there (elu);
* SymPy's ``expm1``/``log1p`` optimisations (``sympy.codegen.rewriting``);
* a select at ``s > 0`` whose branches vanish at 0 → their sum at max(s, 0), min(s, 0);
* the selects of :mod:`.stable_selects` without a branch: a branch ``k*sign(w)`` as a
  clip (``sign clip``), a continuous select at ``s = k`` as ``g(min(s, k)) + h1*max(s - k,
  0)`` (``clipped select``), a constant branch the other equals on its region dropped
  (``redundant select``).

The rewrites that read a whole expression (a cancellation, a polynomial test) see each
branch of a select too (:func:`_per_branch`). Every rewrite goes through :func:`_accept`,
which keeps it only if :func:`derive.proof.prove_rewrite` proves it equal to the expression
before and it is defined wherever that is (:func:`derive.regions.new_needs`).

>>> x = sp.Symbol("x", real=True)
>>> stable_form(x / (1 + sp.exp(-x)))[0]
x*sigmoid(x)
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

from ..errors import ProofError
from ..proof import prove_rewrite
from .stable_functions import (
    _unfold,
    helper_identities,
    logaddexp,
    prove_helpers,
    sigmoid,
    softplus,
)
from .stable_powers import _combined_powers, _log_product
from .stable_selects import (
    _branch_sum,
    _clamp_branches,
    _clamp_select,
    _clip,
    _clipped_select,
    _redundant_select,
    _sign_clip,
)

__all__ = [
    "helper_identities",
    "logaddexp",
    "prove_helpers",
    "sigmoid",
    "softplus",
    "stable_form",
]


def _accept(name: str, before: sp.Expr, after: sp.Expr, applied: list) -> sp.Expr:
    """``after`` if it differs, is proven equal to ``before`` and is defined wherever
    ``before`` is (:func:`derive.regions.new_needs`); else ``before``."""
    if after == before:
        return before
    try:
        prove_rewrite(_unfold(before), _unfold(after), what=f"stable form ({name})")
    except ProofError:
        return before
    applied.append(name)
    return after


def _softplus(e: sp.Expr) -> sp.Expr:
    def is_softplus(a):
        if not isinstance(a, sp.log) or not a.args[0].is_Add:
            return False
        terms = a.args[0].args
        return len(terms) == 2 and 1 in terms and any(isinstance(t, sp.exp) for t in terms)

    def to_softplus(a):
        u = next(t for t in a.args[0].args if isinstance(t, sp.exp)).args[0]
        return softplus(u)
    return _split_logs(e, is_softplus).replace(is_softplus, to_softplus)


def _split_logs(e: sp.Expr, wanted) -> sp.Expr:
    """``log(p/q)`` as ``log p − log q`` when every factor is positive by its form
    (a positive number, ``exp(u)``, ``1 + exp(u)``) and a log the caller ``wanted`` appears:
    ``log(1/(1 + exp(−x)))`` is ``−log(1 + exp(−x))`` (a softplus), and
    ``log(1 − 1/(1 + exp(−x)))`` is ``−log(1 + exp(x))``.

    >>> x = sp.Symbol("x", real=True)
    >>> _split_logs(sp.log(1 - 1/(1 + sp.exp(-x))), lambda a: a == sp.log(sp.exp(x) + 1))
    -log(exp(x) + 1)
    """
    def positive(f):
        if isinstance(f, sp.exp):
            return f.args[0]
        base, power = f.as_base_exp()
        if not power.is_Integer:
            return None
        if base.is_Number and base > 0:
            return power * sp.log(base)
        if isinstance(base, sp.exp):
            return power * base.args[0]
        if base.is_Add and len(base.args) == 2 and 1 in base.args and any(
                isinstance(t, sp.exp) for t in base.args):
            return power * sp.log(base)
        return None

    def split(a):
        num, den = sp.fraction(sp.together(a.args[0]))
        parts = [positive(f) for f in sp.Mul.make_args(num)]
        parts += [-p if p is not None else None
                  for p in (positive(f) for f in sp.Mul.make_args(den))]
        if any(p is None for p in parts):
            return a
        out = sp.Add(*parts)
        return out if any(wanted(q) for q in sp.preorder_traversal(out)) else a
    return e.replace(lambda a: isinstance(a, sp.log) and not wanted(a), split)


def _two_exps(a) -> tuple | None:
    """(u, v) when ``a`` is exp(u) + exp(v), else None."""
    if a.is_Add and len(a.args) == 2 and all(isinstance(t, sp.exp) for t in a.args):
        return a.args[0].args[0], a.args[1].args[0]
    return None


def _logaddexp(e: sp.Expr) -> sp.Expr:
    """log(exp(u) + exp(v)) → logaddexp(u, v), which np.logaddexp takes without overflow."""
    return e.replace(lambda a: isinstance(a, sp.log) and _two_exps(a.args[0]) is not None,
                     lambda a: logaddexp(*_two_exps(a.args[0])))


def _softmax2(e: sp.Expr) -> sp.Expr:
    """exp(u)/(exp(u) + exp(v)) → sigmoid(u - v): the two-way softmax without overflow.

    Each sum S = exp(u) + exp(v) is held as a symbol, exp(u) written sigmoid(u - v)·S and
    exp(v) sigmoid(v - u)·S; kept only when S then cancels out.
    """
    for total in sorted({a for a in sp.preorder_traversal(e) if _two_exps(a) is not None},
                        key=sp.default_sort_key):
        u, v = _two_exps(total)
        S = sp.Dummy("S", positive=True)
        held = e.xreplace({total: S})
        if not held.has(sp.exp(u), sp.exp(v)) and not held.has(S):
            continue
        cand = sp.cancel(held.xreplace({sp.exp(u): sigmoid(u - v) * S,
                                        sp.exp(v): sigmoid(v - u) * S}))
        if not cand.has(S) and not cand.has(sp.exp(u), sp.exp(v)):
            e = cand
    return e


def _per_branch(rewrite):
    """``rewrite`` (one that looks at its whole expression: a cancellation, a polynomial test)
    applied to each branch of every select in the expression as well as to the whole; a
    factor inside a branch (``where(t <= pi, out*exp(y)/(exp(y) + 1)**2, 0)``) is then seen
    as it is seen outside one.

    >>> x, y = sp.symbols("x y", real=True)
    >>> _per_branch(_to_sigmoid)(sp.Piecewise((sp.exp(y)/(sp.exp(y) + 1)**2, x > 0), (0, True)))
    Piecewise((sigmoid(-y)*sigmoid(y), x > 0), (0, True))
    """
    def whole(e):       # e, each select in it held as a symbol (a factor outside them)
        held = {a: sp.Dummy("s", real=True) for a in e.atoms(sp.Piecewise)}
        return rewrite(e.xreplace(held)).xreplace({s: a for a, s in held.items()})

    def each(e):        # selects bottom up: a branch's inner selects are done when it is
        return whole(e.replace(lambda a: isinstance(a, sp.Piecewise),
                               lambda a: sp.Piecewise(*[(whole(v), c) for v, c in a.args])))
    return each


def _exp_atoms(e: sp.Expr) -> list:
    return sorted((a for a in e.atoms(sp.exp) if a.args[0].free_symbols), key=sp.default_sort_key)


def _to_sigmoid(e: sp.Expr) -> sp.Expr:
    """Write exp(±u) through t = sigmoid(±u) if that leaves a polynomial in t.

    Both orientations are tried (``exp(u) = t/(1 - t)`` with ``t = sigmoid(u)``, and
    ``exp(u) = (1 - t)/t`` with ``t = sigmoid(-u)``); the one with fewer sums that
    involve t (each a possible cancellation), then fewer operations, wins.
    """
    best = None
    for atom in _exp_atoms(e):
        u = atom.args[0]
        for v, ratio in ((u, lambda t: t / (1 - t)), (-u, lambda t: (1 - t) / t)):
            t = sp.Dummy("t")
            repl = {a: ratio(t) ** sp.Integer(a.args[0] / u) for a in e.atoms(sp.exp)
                    if (a.args[0] / u).is_integer}
            cand = sp.factor(sp.cancel(e.xreplace(repl)))
            if any(a.args[0].has(*u.free_symbols) for a in cand.atoms(sp.exp)):
                continue
            if not cand.is_polynomial(t):
                continue
            cand = _linear_basis(cand, t)
            score = (sum(1 for a in sp.preorder_traversal(cand) if a.is_Add and a.has(t)),
                     sp.count_ops(cand))
            if best is None or score < best[0]:
                best = (score, _complement(cand.xreplace({t: sigmoid(v)})))
    return e if best is None else best[1]


def _complement(e: sp.Expr) -> sp.Expr:
    """``1 - sigmoid(v)`` → ``sigmoid(-v)``: the same number without cancellation as sigmoid(v) → 1."""
    def is_complement(a):
        return (a.is_Add and len(a.args) == 2 and any(abs(q) == 1 for q in a.args)
                and any(isinstance(-q, sigmoid) or isinstance(q, sigmoid) for q in a.args))

    def swap(a):
        one = next(q for q in a.args if abs(q) == 1)
        sig = next(q for q in a.args if q is not one)
        v = (sig if isinstance(sig, sigmoid) else -sig).args[0]
        if one == 1 and not isinstance(sig, sigmoid):   # 1 - sigmoid(v)
            return sigmoid(-v)
        if one == -1 and isinstance(sig, sigmoid):      # sigmoid(v) - 1
            return -sigmoid(-v)
        return a
    return e.replace(is_complement, swap)


def _linear_basis(e: sp.Expr, t) -> sp.Expr:
    """A factor ``c0 + c1*t`` may be written ``(c0 + c1) - c1*(1 - t)``; keep it when ``c0 + c1`` is a constant.

    For silu this turns ``1 + x - x*t`` into ``1 + x*(1 - t)``.
    """
    def rebase(f):
        if not f.is_Add or not f.has(t):
            return f
        p = sp.Poly(f, t)
        if p.degree() != 1:
            return f
        c1, c0 = p.all_coeffs()
        head = sp.expand(c0 + c1)
        # worth it when c0 + c1 collapses to a constant: t is then used once, in 1 - t
        return head - c1 * (1 - t) if head.is_number else f
    return sp.Mul(*[rebase(f.base) ** f.exp if f.is_Pow else rebase(f)
                    for f in sp.Mul.make_args(e)])


def _known_sign(e: sp.Expr) -> sp.Expr:
    """In ``(s > c) & rest``, ``Max(s, c)`` is ``s`` and ``Min(s, c)`` is ``c`` within rest
    (ReLU6's mask ``(out > 0) & (Max(0, out) < 6)`` is ``(out > 0) & (out < 6)``).

    >>> x = sp.Symbol("x", real=True)
    >>> _known_sign((x > 0) & (sp.Max(0, x) < 6))
    (x > 0) & (x < 6)
    """
    def fold(a):
        for cond in a.args:
            if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)) and cond.rhs.is_number:
                s, c = cond.lhs, cond.rhs
                known = {sp.Max(s, c): s, sp.Min(s, c): c}
                return sp.And(*[q if q is cond else q.xreplace(known) for q in a.args])
        return a
    return e.replace(lambda q: isinstance(q, sp.And), fold)


def _sign_product(e: sp.Expr) -> sp.Expr:
    """``u*sign(u)`` → ``Abs(u)`` (softsign's derivative then cancels to 1/(1 + |x|)**2).

    >>> x = sp.Symbol("x", real=True)
    >>> _sign_product(-(x*sp.sign(x) - sp.Abs(x) - 1)/(sp.Abs(x) + 1)**2)
    (Abs(x) + 1)**(-2)
    """
    def fold(m):
        args = list(m.args)
        for a in args:
            if isinstance(a, sp.sign) and a.args[0] in args:
                args.remove(a)
                args.remove(a.args[0])
                return sp.Mul(sp.Abs(a.args[0]), *args)
        return m
    return e.replace(lambda q: q.is_Mul and q.has(sp.sign), fold)


def _tanh_half(e: sp.Expr) -> sp.Expr:
    """``2*sigmoid(u) - 1`` → ``tanh(u/2)``: one call instead of a sigmoid and two passes, and
    no cancellation where sigmoid(u) is near 1/2 (log-cosh's gradient at x ≈ t).

    >>> x = sp.Symbol("x", real=True)
    >>> _tanh_half(2*sigmoid(2*x) - 1)
    tanh(x)
    """
    def parts(a):
        if not a.is_Add or len(a.args) != 2:
            return None
        k, rest = a.as_coeff_Add()
        c, sig = rest.as_coeff_Mul()
        if isinstance(sig, sigmoid) and abs(k) == 1 and c == -2 * k:
            return -k, sig.args[0]
        return None
    return e.replace(lambda a: parts(a) is not None,
                     lambda a: parts(a)[0] * sp.tanh(parts(a)[1] / 2))


def _expm1_log1p(e: sp.Expr) -> sp.Expr:
    """``exp(u) - 1`` → ``expm1(u)``, ``log(1 + u)`` → ``log1p(u)`` (SymPy's optimizers),
    kept only where each ``expm1(u)`` stands for an ``exp(u)`` and each ``log1p(u)`` for a
    ``log(1 + u)`` already there: for ``2 - 2*exp(-x**2)/sqrt(pi)`` the optimizer finds
    ``expm1(x**2)*exp(-x**2)``, equal but inf*0 from x = 27 on.

    >>> x = sp.Symbol("x", real=True)
    >>> _expm1_log1p(sp.exp(x) - 1), _expm1_log1p(2 - 2*sp.exp(-x**2)/sp.sqrt(sp.pi))
    (expm1(x), 2 - 2*exp(-x**2)/sqrt(pi))
    """
    def opt(q):
        done = optimize(sp.factor_terms(q), [expm1_opt, log1p_opt])
        if not done.has(expm1, log1p):
            return q
        exps = {a.args[0] for a in q.atoms(sp.exp)}
        logs = {a.args[0] for a in q.atoms(sp.log)}
        if all(a.args[0] in exps for a in done.atoms(expm1)) and \
                all(sp.expand(1 + a.args[0]) in {sp.expand(u) for u in logs}
                    for a in done.atoms(log1p)):
            return done
        return q
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(opt(a), c) for a, c in e.args])
    return opt(e)


def _collect_dout(e: sp.Expr) -> sp.Expr:
    """Pull common factors out of a sum (``dout*a + dout*b`` → ``dout*(a + b)``)."""
    return sp.factor_terms(e) if e.is_Add else e


_REWRITES = (
    ("combined powers", _combined_powers),
    ("clip", _clip),
    ("sign clip", _sign_clip),
    ("clipped select", _clipped_select),
    ("sign product", _sign_product),
    ("known sign", _known_sign),
    ("log of a product", _log_product),
    ("softplus", _softplus),
    ("logaddexp", _logaddexp),
    ("two-way softmax", _per_branch(_softmax2)),
    ("sigmoid", _per_branch(_to_sigmoid)),
    ("tanh of half", _tanh_half),
    ("clamp exp branch", _clamp_branches),
    ("redundant select", _redundant_select),
    ("expm1/log1p", _expm1_log1p),
    ("clamp select", _clamp_select),
    ("branch sum", _branch_sum),
    ("common factor", _collect_dout),
)


def stable_form(e: sp.Expr) -> tuple:
    """(stable expression, names of the rewrites applied), each step proven.

    >>> out = sp.Symbol("out", real=True)
    >>> stable_form(1 - sp.exp(-out))
    (-expm1(-out), ['expm1/log1p'])
    """
    applied: list = []
    for name, rewrite in _REWRITES:
        e = _accept(name, e, rewrite(e), applied)
    return e, applied
