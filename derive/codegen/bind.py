"""NumPy names bound once at module level: ``np.multiply(...)`` in a layer's code becomes
``_np_multiply(...)`` with ``_np_multiply = np.multiply`` above the layers.

A call through ``np.`` looks up the global ``np`` and then its attribute on every call; a
module global is one lookup. At 1e3 elements a layer's forward+backward makes ten to
twenty such calls, and the two lookups cost 4-9% of the call (Exp, L1, Celu, Hardsigmoid,
measured against the same code with the names bound). Only code is rewritten: the
docstrings and comments that spell the derivation (``np.exp(x)``) are tokens of their
own and stay as they are.

>>> block, (text,) = bind_numpy(["def f(x):\\n    'np.exp(x)'\\n    return np.exp(x) + np.pi"])
>>> print(block)
_np_exp = np.exp
_np_pi = np.pi
>>> print(text)
def f(x):
    'np.exp(x)'
    return _np_exp(x) + _np_pi
"""
from __future__ import annotations

import io
import tokenize

__all__ = ["bind_numpy", "PREFIX"]

PREFIX = "_np_"


def _uses(text: str) -> list:
    """(row, start column, end column, attribute) of each ``np.<attribute>`` in code."""
    toks = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.COMMENT)]
    found = []
    for a, dot, attr in zip(toks, toks[1:], toks[2:]):
        if (a.type == tokenize.NAME and a.string == "np" and dot.string == "."
                and attr.type == tokenize.NAME and a.end == dot.start and dot.end == attr.start):
            found.append((a.start[0], a.start[1], attr.end[1], attr.string))
    return found


def _rewrite(text: str, uses) -> str:
    lines = text.split("\n")
    for row, start, end, attr in reversed(uses):     # right to left: columns stay valid
        line = lines[row - 1]
        lines[row - 1] = line[:start] + PREFIX + attr + line[end:]
    return "\n".join(lines)


def bind_numpy(texts) -> tuple:
    """(the binding lines, ``texts`` with each ``np.<name>`` of their code as
    ``_np_<name>``); the lines bind the names in sorted order."""
    uses = [_uses(t) for t in texts]
    names = sorted({u[3] for us in uses for u in us})
    block = "\n".join(f"{PREFIX}{n} = np.{n}" for n in names)
    return block, [_rewrite(t, us) for t, us in zip(texts, uses)]
