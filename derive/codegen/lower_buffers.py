"""Which buffers a lowering may recycle: a mixin of :class:`derive.codegen.lower.Lowering`.

A buffer the lowering made is dead once its last reader has run; a later fresh value is
written into it (``out=``) instead of a new array only when both are known to have one
shape and dtype. Each value carries a key for that: with ``alloc`` every fresh buffer is
``alloc``'s; without, the set of arrays it broadcasts and whether it is floating (the
arrays read are of one floating dtype, or bool masks). Unknown is None: never recycled.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["BufferKeys"]

_ALLOC_KEY = (frozenset({"alloc"}), True)    # a buffer made by ``alloc``


class BufferKeys:
    """Keys and the dead buffers; the host class gives ``alloc``, ``arrays``, ``keys``
    (cse symbol name -> its value's key) and ``dead`` ([(name, key)], most recent last)."""

    def leaf_key(self, sym):
        """The key of an array symbol. With ``alloc`` none is needed (every fresh buffer
        is ``alloc``). Without, the arrays the lowering reads are of one floating dtype
        (the callers make them so, or they are bool masks: a symbol not real), so a value
        is known by the set of arrays it broadcasts and whether it is floating: two
        values broadcast from the same arrays have the same shape."""
        if sym.name in self.keys:
            return self.keys[sym.name]
        if self.alloc is not None:
            return None
        return (frozenset({sym.name}), sym.is_real is not False)

    def expr_key(self, e, floating: bool):
        """The key of an elementwise value of ``e`` (a condition: ``floating=False``)."""
        names = set()
        for s in e.free_symbols:
            if s in self.arrays:
                k = self.leaf_key(s)
                if k is None:
                    return None
                names |= k[0]
        return (frozenset(names), floating) if names and self.alloc is None else None

    def key_of(self, args):
        """The key of a ufunc's fresh result: ``alloc``'s, or the arrays its operands
        broadcast (floating when one of them is); None where an operand's is unknown."""
        if self.alloc is not None:
            return _ALLOC_KEY
        keys = [a.key for a in args if not a.scalar]
        if not keys or any(k is None for k in keys) or not any(k[1] for k in keys):
            return None
        return (frozenset().union(*(k[0] for k in keys)), True)

    def _recycled(self, key):
        """A dead buffer of ``key`` taken for a fresh result, or None."""
        if key is None or not key[1]:
            return None
        for i in range(len(self.dead) - 1, -1, -1):
            if self.dead[i][1] == key:
                return self.dead.pop(i)[0]
        return None

    def _release(self, args, result):
        """Owned operands other than the result are dead once read: each owned value is
        read by one consumer (a cse symbol: owned only at its last reader)."""
        for a in args:
            if a.owned and a.key is not None and a.text != result.text \
                    and all(a.text != n for n, _ in self.dead):
                self.dead.append((a.text, a.key))


def _last_readers(repl, reduced) -> dict:
    """{cse symbol name: how many times the lowering reads it}, for the symbols whose last
    reader may write into their buffer (one temporary fewer, and at 1e7 elements each fresh
    buffer page-faults in). Left out: a symbol that is itself a result, and one read inside
    a select or condition (their text is read later than it is emitted, and masked products
    are rewritten before lowering).
    """
    from sympy.logic.boolalg import BooleanFunction
    logic = (sp.core.relational.Relational, BooleanFunction)
    syms = {s for s, _ in repl}
    blocked = {e for e in reduced if e in syms}
    counts: dict = {}
    for e in [sub for _, sub in repl] + list(reduced):
        nodes = list(sp.preorder_traversal(e))
        inner = [a for a in nodes if a in syms]
        if any(isinstance(a, (sp.Piecewise, *logic)) for a in nodes):
            blocked.update(inner)
        # an operand that is the symbol itself is read when its node is emitted, after the
        # other operands: one of them reading it last (t0/(t0 + 1): the sum) may not write
        # into its buffer (it did: np.add(t0, 1.0, out=t0), then np.divide(t0, t0))
        for node in nodes:
            bare = {a for a in node.args if a in syms}
            blocked.update(s for s in bare for a in node.args if a is not s and a.has(s))
        for a in inner:
            counts[a] = counts.get(a, 0) + 1
    return {s.name: n for s, n in counts.items() if s not in blocked}
