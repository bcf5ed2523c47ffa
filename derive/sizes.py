"""The prover's size bounds, checked before a tactic starts (the time bounds are
:mod:`derive.budget`'s).

Each walk visits each distinct sub-expression once, so an expression that is exponential as a
tree but small in its shared form is measured, and refused, in no time.

>>> import sympy as sp
>>> tree_size((1 + 2*sp.Symbol("x"))**2)     # Pow, Add, 1, Mul, 2, x, 2
7
>>> e = sp.Symbol("x")
>>> for _ in range(60):                      # over 2**60 nodes as a tree; distinct: x, 1, 2
...     e = (e + 1) * (e + 2)                # and per level e + 1, e + 2 and their product
>>> tree_size(e), dag_size(e)                # the tree at its cap, 3 + 3*60 distinct
(100000, 183)
"""
from __future__ import annotations

__all__ = ["tree_size", "has_any", "dag_size", "hold_big_exponents", "BIG_EXPONENT"]


def tree_size(e, cap: int = 100_000) -> int:
    """Nodes of ``e`` as a tree (shared sub-trees counted each time), at most ``cap``.

    Linear in the distinct sub-expressions (each is measured once), so a tree that
    is exponential in its shared form is measured, and refused, in no time.
    """
    sizes: dict = {}

    def size(node) -> int:
        known = sizes.get(node)
        if known is not None:
            return known
        total = 1
        for arg in getattr(node, "args", ()):
            total += size(arg)
            if total >= cap:
                break
        sizes[node] = total = min(total, cap)
        return total

    try:
        return size(e)
    except RecursionError:
        return cap


def has_any(e, types) -> bool:
    """``e.has(*types)`` for classes, visiting each distinct sub-expression once
    (SymPy's own walks the tree, which is exponential in the shared form)."""
    seen, stack = set(), [e]
    while stack:
        node = stack.pop()
        if isinstance(node, types):
            return True
        for arg in getattr(node, "args", ()):
            if arg not in seen:
                seen.add(arg)
                stack.append(arg)
    return False


def dag_size(e, cap: int = 100_000) -> int:
    """Distinct sub-expressions of ``e`` (what a memoised walk visits), at most ``cap``."""
    seen, stack = {e}, [e]
    while stack and len(seen) < cap:
        for arg in getattr(stack.pop(), "args", ()):
            if arg not in seen:
                seen.add(arg)
                stack.append(arg)
    return min(len(seen), cap)


#: a rational in an exponent with a numerator or denominator beyond this is held as an atom
BIG_EXPONENT = 10**6


def hold_big_exponents(e):
    """(``e`` with each ``exp(k*u)`` or power whose exponent carries a huge rational held as
    a fresh symbol, the map back).

    SymPy's polynomial tactics (``factor``, ``cancel``, ``simplify``) write ``exp(p/q*u)`` as
    ``exp(u/q)**p``: with SELU's 31-digit constants that is a dense polynomial of degree
    10**30, which no memory holds. Held as atoms, an identity proven in them holds for any
    value of the atoms, so for these too (the tactics stay sound, they may only prove less).

    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> held, back = hold_big_exponents(2 * sp.exp(u * sp.Rational(10**40 + 1, 10**40)))
    >>> held.has(sp.exp), held.xreplace(back) == 2 * sp.exp(u * sp.Rational(10**40 + 1, 10**40))
    (False, True)
    """
    import sympy as sp

    def big(ex) -> bool:
        return any(max(abs(r.p), r.q) > BIG_EXPONENT for r in ex.atoms(sp.Rational))

    atoms = [a for a in e.atoms(sp.exp, sp.Pow)
             if big(a.args[0] if isinstance(a, sp.exp) else a.exp)]
    if not atoms:
        return e, {}
    held = {a: sp.Dummy("held", real=True) for a in atoms}
    return e.xreplace(held), {s: a for a, s in held.items()}
