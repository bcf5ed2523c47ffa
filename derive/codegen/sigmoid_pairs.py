"""One exponential for ``sigmoid(w)`` and ``sigmoid(-w)`` together.

SiLU's gradient ``(x*sigmoid(-x) + 1)*sigmoid(x)`` reads both logistic values of one
argument. Written as two calls of the helper ``_sigmoid`` they take two ``exp`` passes,
two negations and two ``np.errstate`` blocks (~0.9 us each, NumPy 2.4: at 1e3 elements
the time of an ``exp``). The helper ``_sigmoid2(w)`` returns both from ``e = exp(-w)``:
``1/(1 + e)`` and ``1/(1 + 1/e)`` (a division pass, not a second ``exp``), finite and exact
at the ends (``e`` inf gives 0 and 1, ``e`` 0 gives 1 and 0). Its formulas are proven equal
to the two logistic values (:func:`derive.codegen.stable_functions.prove_helpers`); here
the two values only get names, which changes no value.

>>> import sympy as sp
>>> from derive.codegen.stable import sigmoid
>>> x, y = sp.symbols("x y", real=True)
>>> names = iter(sp.symbols("sg0 sg1", real=True))
>>> paired_sigmoids([], [x*sigmoid(-x) + sigmoid(x), sigmoid(y)], names)
([(sg0, sigmoid(x)), (sg1, sigmoid(-x))], [sg0 + sg1*x, sigmoid(y)], {sg0: sg1})
"""
from __future__ import annotations

import sympy as sp

from .stable_functions import sigmoid

__all__ = ["paired_sigmoids"]


def paired_sigmoids(repl, reduced, names):
    """``(repl, reduced, pairs)`` of a ``sympy.cse``: for each argument ``w`` whose
    ``sigmoid(w)`` and ``sigmoid(-w)`` both occur, two new names ``p``, ``q`` from ``names``
    (``pairs[p] = q``), defined in ``repl`` right after the last value ``w`` reads and used
    in their place; a ``repl`` symbol that was one of them becomes its name."""
    exprs = [v for _, v in repl] + list(reduced)
    found = {a for e in exprs for a in sp.preorder_traversal(e) if isinstance(a, sigmoid)}
    firsts = sorted((a for a in found if sigmoid(-a.args[0]) in found
                     and not a.args[0].could_extract_minus_sign()), key=sp.default_sort_key)
    if not firsts:
        return repl, reduced, {}
    pairs, subs = {}, {}
    for a in firsts:
        p, q = next(names), next(names)
        pairs[p] = q
        subs[a], subs[sigmoid(-a.args[0])] = p, q
    aliases = {}
    for sym, v in repl:                      # a shared value that is one of them: its name
        if v in subs:
            aliases[sym] = subs[v]
    # each pair goes right after the last repl entry its argument reads (0: before all)
    after = {s: i + 1 for i, (s, _) in enumerate(repl)}
    at = {a: max((after[s] for s in a.args[0].free_symbols if s in after), default=0)
          for a in firsts}
    new = []
    for i in range(len(repl) + 1):
        for a in firsts:
            if at[a] == i:
                new.extend([(subs[a], a), (pairs[subs[a]], sigmoid(-a.args[0]))])
        if i < len(repl) and repl[i][0] not in aliases:
            new.append((repl[i][0], repl[i][1].xreplace(subs).xreplace(aliases)))
    return new, [e.xreplace(subs).xreplace(aliases) for e in reduced], pairs
