"""Fewer transcendental calls for XLA: a call written with another one that is computed
anyway, kept only where it is harmless. The rules (:data:`RULES`):

* ``sigmoid(-u)`` as ``1 - sigmoid(u)``. The stable forms (:mod:`.stable`) write
  ``1 - sigmoid(u)`` as ``sigmoid(-u)`` so that no digit is lost where ``sigmoid(u) → 1``.
  In an XLA fusion each logistic is a call of its own, and often the lost digits do not
  matter: in SiLU's local factor ``sigmoid(x)*(x*sigmoid(-x) + 1)`` the term is added to 1.
* ``expm1(u)`` as ``tanh(u/2)*(exp(u) + 1)``, the identity XLA's own expm1 computes (an
  exp and a tanh): with ``exp(u)`` computed anyway (ELU's forward ``expm1(min(x, 0))``,
  its local factor ``exp(min(x, 0))``) the exp is shared, one call fewer. Each factor is
  accurate relative to itself, so the product is too (no cancellation, unlike
  ``exp(u) - 1`` near 0, or JAX's ``expm1(u) + 1`` for ``exp(u)`` at u = -30).

A rewrite is

* proven equal to the form it replaces (:func:`derive.proof.prove_rewrite`), and
* kept only when, evaluated in float64 on the edges of the domain (±1e-8 ... ±1000, and
  every pair of them for two inputs), it agrees with the stable form within 1e-13
  relative (and is finite wherever that is): numerical evidence, not a proof, which is
  why the rewrite stays in the JAX backend.

>>> import sympy as sp
>>> from derive.codegen.stable import sigmoid
>>> x = sp.Symbol("x", real=True)
>>> fewer_calls([x*sigmoid(x), sigmoid(x)*(x*sigmoid(-x) + 1)], [x])[1]
(x*(1 - sigmoid(x)) + 1)*sigmoid(x)
>>> fewer_calls([sigmoid(x), 1/sigmoid(-x)], [x])[1]    # 1/(1 - s) loses every digit
1/sigmoid(-x)
>>> from sympy.codegen.cfunctions import expm1
>>> u = sp.Min(0, x)
>>> fewer_calls([2*expm1(u) + sp.Max(0, x)], [x], also=[2*sp.exp(u)])[0]
2*(exp(Min(0, x)) + 1)*tanh(Min(0, x)/2) + Max(0, x)
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import ProofError
from ..proof import prove_rewrite
from sympy.codegen.cfunctions import expm1

from .stable import _unfold, sigmoid

__all__ = ["fewer_calls"]

_EDGES = (0.0, 1e-8, 1e-4, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 36.0, 37.0, 40.0,
          50.0, 100.0, 700.0, 1000.0)


def _np_sigmoid(u):
    u = np.asarray(u, dtype=np.float64)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_MODULES = [{"sigmoid": _np_sigmoid, "softplus": lambda u: np.logaddexp(0.0, u),
             "logaddexp": np.logaddexp, "expm1": np.expm1, "log1p": np.log1p,
             "erf": np.vectorize(__import__("math").erf)}, "numpy"]


def _points(symbols) -> list:
    grid = np.array(sorted({s * e for e in _EDGES for s in (1.0, -1.0)}))
    if len(symbols) == 1:
        return [grid]
    mesh = np.meshgrid(*[grid] * len(symbols))
    return [m.ravel() for m in mesh]


def _harmless(before, after, symbols) -> bool:
    """True when ``after`` agrees with ``before`` within 1e-13 relative on the edges."""
    try:
        f = sp.lambdify(symbols, before, modules=_MODULES)
        g = sp.lambdify(symbols, after, modules=_MODULES)
        with np.errstate(all="ignore"):
            pts = _points(symbols)
            want = np.broadcast_to(np.asarray(f(*pts), dtype=np.float64), pts[0].shape)
            got = np.broadcast_to(np.asarray(g(*pts), dtype=np.float64), pts[0].shape)
    except Exception:      # a form numpy cannot evaluate here: keep the stable one
        return False
    ok = np.isfinite(want)
    if not np.isfinite(got[ok]).all():
        return False
    return bool(np.all(np.abs(got[ok] - want[ok]) <= 1e-13 * np.abs(want[ok]) + 1e-300))


def _sigmoid_pair(c):
    """sigmoid(-u) → (the call it needs, sigmoid(u); its replacement)."""
    u = c.args[0]
    return (sigmoid(-u), 1 - sigmoid(-u)) if u.could_extract_minus_sign() else None


def _expm1_from_exp(c):
    """expm1(u) → (exp(u); tanh(u/2)*(exp(u) + 1))."""
    u = c.args[0]
    return sp.exp(u), sp.tanh(u / 2) * (sp.exp(u) + 1)


#: (what the proof calls the rewrite, the call it replaces, call → (the call it needs
#: computed anyway, the replacement) or None)
RULES = (
    ("1 - sigmoid(u) for sigmoid(-u)", sigmoid, _sigmoid_pair),
    ("tanh(u/2)*(exp(u) + 1) for expm1(u)", expm1, _expm1_from_exp),
)


def fewer_calls(exprs, symbols, subs=None, also=(), applied=None) -> list:
    """``exprs`` with each call of :data:`RULES` written with the call it needs where that
    call appears among them (or in ``also``: computed alongside, not rewritten),
    expression by expression when proven equal and harmless.

    ``symbols``: the inputs the expressions are evaluated at; ``subs``: values for the
    other symbols (``out`` as the forward, a parameter's default), for the check only;
    ``applied``: a list the names of the rules that rewrote something are added to.
    """
    subs = subs or {}
    calls = {a for e in [*exprs, *also] for a in sp.preorder_traversal(e)
             if isinstance(a, sp.Function)}
    out = list(exprs)
    for what, kind, rule in RULES:
        found = {c: rule(c) for c in calls if isinstance(c, kind)}
        swap = {c: r[1] for c, r in found.items() if r is not None and r[0] in calls}
        if not swap:
            continue
        done = []
        for e in out:
            cand = e.xreplace(swap)
            if cand != e:
                try:
                    prove_rewrite(_unfold(e), _unfold(cand), what=what)
                except ProofError:
                    cand = e
            if cand != e and not _harmless(e.xreplace(subs), cand.xreplace(subs), symbols):
                cand = e
            done.append(cand)
        if applied is not None and done != out:
            applied.append(what)
        out = done
    return out


# relative cost of a call in an XLA CPU fusion (the logistic function is one exp and a
# divide; expm1 and log1p take a branch for small arguments; logaddexp is exp + log1p)
_XLA_COST = {"sigmoid": 1, "exp": 1, "tanh": 1, "log": 1, "erf": 2, "expm1": 2, "log1p": 2,
             "softplus": 3, "logaddexp": 3}


def xla_cost(e) -> int:
    """The transcendental calls of ``e``, weighted for XLA (:data:`_XLA_COST`)."""
    return sum(_XLA_COST.get(type(a).__name__, 1) for a in sp.preorder_traversal(e)
               if isinstance(a, sp.Function))


def from_input_when_cheaper(cached, spec, out_value):
    """A cached factor that reads ``out`` computed from the input instead when the
    derivative's stable form costs XLA less (softplus: ``sigmoid(x)`` for
    ``-expm1(-out)``; logsigmoid: ``sigmoid(-x)`` for ``-expm1(out)``), proven equal
    (:func:`derive.codegen.elementwise.input_form`).

    ``out_value``: the forward, which ``out`` stands for in the proof."""
    from ..steps import out as out_sym
    from .elementwise import input_form

    def cheaper(e):
        return lambda fx: xla_cost(fx) < xla_cost(e) and out_sym not in fx.free_symbols
    return [(sym, input_form(e, spec, cheaper(e), out_value, what="cached factor from the input")
             if sym.is_real else e) for sym, e in cached]
