"""The prover's memo tables, cleared together with SymPy's own cache.

What the prover decided about an expression (a proof, a refutation, that a set of facts is
infeasible) does not change, so it is remembered -- but ``sympy.core.cache.clear_cache()``
clears these tables too, so a benchmark that clears SymPy's cache measures from scratch.
Nothing the time budget left undecided is ever stored.

>>> t = table()
>>> t["k"] = 1
>>> from sympy.core.cache import clear_cache
>>> clear_cache(); len(t)
0
"""
from __future__ import annotations

from sympy.core.cache import CACHE

LIMIT = 20_000      # entries per table before it starts afresh (bounded memory)


class _Tables:
    """Registered in SymPy's cache list: ``clear_cache`` finds ``cache_clear`` here."""

    __name__ = "derive prover memo"
    __wrapped__ = None

    def __init__(self):
        self.clearers = []

    def cache_clear(self) -> None:
        for clear in self.clearers:
            clear()


_TABLES = _Tables()
CACHE.append(_TABLES)


def table() -> dict:
    """A new dict that ``clear_cache`` empties."""
    d: dict = {}
    _TABLES.clearers.append(d.clear)
    return d


def also_clear(clear) -> None:
    """Have ``clear_cache`` call ``clear`` too (e.g. an ``lru_cache``'s ``cache_clear``)."""
    _TABLES.clearers.append(clear)


def remember(d: dict, key, value) -> None:
    """``d[key] = value``, starting afresh when ``d`` is full."""
    if len(d) >= LIMIT:
        d.clear()
    d[key] = value
