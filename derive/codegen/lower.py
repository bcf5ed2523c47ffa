"""Lowering: an expression into NumPy ufunc calls that write into buffers it allocated.

Each ufunc is a full pass over memory and a fresh array is a page-faulting mapping, so
the lowering reuses the buffers it owns (``out=``) and never writes an array it did not
allocate (``dout``, cached values). Subexpressions are shared by ``sympy.cse``. A buffer
whose last reader has run is dead: a later fresh value of the same shape and dtype is
written into it instead of a new array (see :meth:`Lowering.key_of`).

Results keep the arrays' floating dtype (float32 in, float32 out): constants print as
Python floats, which NumPy does not let widen an array; where a value is made of
constants alone (``np.where(c, 1/6, 0.0)``) they take the dtype of ``like``, an array
of the computation (the first input in forward, ``dout`` in backward).
"""
from __future__ import annotations

import keyword

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ..branches import float_safe, masked_product
from ..errors import DeriveError
from ..rules import RULES, UNARY
from .cse_passes import shared_form
from .lower_buffers import BufferKeys, _last_readers
from .lower_select import SelectLowering, _Operand, only_in_branches
from .stable import logaddexp, sigmoid, softplus

__all__ = ["lower", "Lowering", "rename"]


def rename(lines, old: str, new: str):
    """Lines with the name ``old`` replaced by ``new`` (whole words only)."""
    import re
    pat = re.compile(rf"\b{re.escape(old)}\b")
    return [pat.sub(new, line) for line in lines]

_UFUNC1 = {**{fn: RULES[name].numpy for fn, name in UNARY.items() if not RULES[name].helper},
           expm1: "expm1", log1p: "log1p"}


_NOT_IN_PLACE = {"sign"}


class Lowering(SelectLowering, BufferKeys):
    """Expression → ufunc calls into owned buffers (``out=``), never writing a caller's array."""

    def __init__(self, printer, arrays, taken, alloc=None, like="dout"):
        self.p = printer
        # alloc: source text of a fresh buffer of the result's shape and floating dtype
        # (e.g. "np.empty_like(dout, dtype=_floating(dout))"); every allocating ufunc
        # writes into one, so 0-d results stay arrays (in-place steps work) and no
        # reshape is needed
        self.alloc, self.like = alloc, like
        self.arrays = set(arrays)
        self.lines: list = []
        self.taken = taken if isinstance(taken, set) else set(taken)
        self.helpers: set = set()
        self.count = 0
        # shared values (cse symbols) whose buffer their last reader may write into:
        # name -> readers left (see _last_readers); buffers: those held in a buffer made here
        self.remaining: dict = {}
        self.buffers: set = set()
        # keys: cse symbol name -> its value's key; dead: [(buffer name, key)] whose last
        # reader has run, most recent last
        self.keys: dict = {}
        self.dead: list = []
        # sigmoid(w) -> (its name, sigmoid(-w)'s name): both from one _sigmoid2 call
        self.pairs: dict = {}
        self.done_pairs: dict = {}     # sigmoid(-w)'s name -> its key, once written
        self.defs: list = []           # the cse symbols' definitions (sym, sub), in order
        # SelectLowering's: masks_inlined's (defs, masks) memo; inside a quiet (errstate)
        # block or not; where the last quiet block ends in lines
        self._masks: tuple | None = None
        self._quiet_depth = 0
        self._quiet_end: int | None = None

    def fresh(self, stem="tmp") -> str:
        name = stem
        while name in self.taken or keyword.iskeyword(name):
            self.count += 1
            name = f"{stem}{self.count}"
        self.taken.add(name)
        return name

    def is_array(self, e) -> bool:
        return bool(e.free_symbols & self.arrays)

    # emission ---------------------------------------------------------------------------
    def ufunc(self, name: str, *args: _Operand) -> _Operand:
        """np.<name>(args), into the first owned array argument when there is one."""
        text = ", ".join(a.text for a in args)
        # np.sign in place (out= its own input) takes ~5x as long as into another array
        # (NumPy 2.4, measured at 1e6): it gets a buffer of its own
        target = None if name in _NOT_IN_PLACE else next((a for a in args if a.owned), None)
        spelt = "_clip" if name == "clip" else f"np.{name}"
        if target is not None:
            self.lines.append(f"{spelt}({text}, out={target.text})")
            self._release(args, target)
            return target
        key = self.key_of(args)
        reused = self._recycled(key)
        if reused is not None:
            self.lines.append(f"{spelt}({text}, out={reused})")
            new = reused
        else:
            new = self.fresh()
            if self.alloc is not None:
                self.lines.append(f"{new} = {spelt}({text}, out={self.alloc})")
            else:
                self.lines.append(f"{new} = {spelt}({text})")
        result = _Operand(new, owned=True, key=key)
        self._release(args, result)
        return result

    def call(self, helper: str, *args: _Operand) -> _Operand:
        self.helpers.add(helper)
        new = self.fresh()
        text = f"{helper}({', '.join(a.text for a in args)})"
        if helper == "erf" and not args[0].scalar:   # erf works in float64: back to the
            text += f".astype({args[0].text}.dtype, copy=False)"   # argument's dtype
        self.lines.append(f"{new} = {text}")
        result = _Operand(new, owned=True, key=self._helper_key(args))
        self._release(args, result)
        return result

    @staticmethod
    def _helper_key(args):
        """A helper's result is a fresh array of its one argument's shape and dtype."""
        key = args[0].key if len(args) == 1 and not args[0].scalar else None
        return key if key is not None and key[1] else None

    def _sigmoid_pair(self, e) -> _Operand:
        """``p, q = _sigmoid2(w)`` for ``e = sigmoid(w)``: ``p`` returned, ``q`` (sigmoid(-w)),
        a name of ``repl`` defined by this line, is read as an array from here on."""
        p, q = self.pairs.pop(e)
        arg = self.value(e.args[0])
        self.helpers.add("_sigmoid2")
        self.taken.update((p, q))
        self.lines.append(f"{p}, {q} = _sigmoid2({arg.text})")
        result = _Operand(p, owned=True, key=self._helper_key([arg]))
        self._release([arg], result)
        self.done_pairs[q] = result.key
        return result

    def typed(self, a: _Operand, b: _Operand) -> tuple:
        """Two constants as scalars of ``like``'s dtype (NumPy would make them float64)."""
        if a.scalar and b.scalar:
            return (_Operand(f"{self.like}.dtype.type({a.text})", scalar=True),
                    _Operand(f"{self.like}.dtype.type({b.text})", scalar=True))
        return a, b

    # lowering ---------------------------------------------------------------------------
    def value(self, e) -> _Operand:
        if not self.is_array(e):
            text = _constant(e) if e.is_number else None
            return _Operand(self.p.doprint(e) if text is None else text, scalar=True)
        if e.is_Symbol:
            key = self.leaf_key(e)
            left = self.remaining.get(e.name)
            if left is not None:
                self.remaining[e.name] = left - 1
                if left == 1 and e.name in self.buffers:   # its last reader: a buffer to reuse
                    return _Operand(e.name, owned=True, key=key)
            return _Operand(self.p.doprint(e), key=key)
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            # 1/np.sqrt(x) where x > 0: nan*0 would be nan; shared masks and values seen
            # through their names (t*t3/x with t3 the mask of t > e: nan at x = 0)
            masked = masked_product(self.masks_inlined(e), lambda r: float_safe(self.expanded(r)))
            if masked is None:
                return self._mul(e)
            return self._piecewise(masked) if isinstance(masked, sp.Piecewise) else \
                self.value(masked)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, (sp.core.relational.Relational, sp.And, sp.Or, sp.Not)):
            new = self.fresh("mask")
            self.lines.append(f"{new} = {self._condition(e)}")
            return _Operand(new, owned=True, key=self.expr_key(e, False))
        if isinstance(e, (sp.Min, sp.Max)) and len(e.args) == 2:
            clipped = self._clip(e)
            if clipped is not None:
                return clipped
            a, b = sorted(e.args, key=lambda q: not self.is_array(q))
            name = "minimum" if isinstance(e, sp.Min) else "maximum"
            return self.ufunc(name, self.value(a), self.value(b))
        if isinstance(e, logaddexp):
            return self.ufunc("logaddexp", *(self.value(a) for a in e.args))
        if isinstance(e, softplus):
            return self.call("_softplus", self.value(e.args[0]))
        if isinstance(e, sigmoid):
            if e in self.pairs:
                return self._sigmoid_pair(e)
            return self.call("_sigmoid", self.value(e.args[0]))
        if isinstance(e, sp.erf):
            return self.call("erf", self.value(e.args[0]))
        for fn, name in _UFUNC1.items():
            if isinstance(e, fn):
                return self.ufunc(name, self.value(e.args[0]))
        raise DeriveError(f"code generation has no NumPy spelling for {type(e).__name__} in {e}")

    def _clip(self, e):
        """``Min``/``Max`` of an array and a scalar (a number or a parameter; nested: both
        bounds) as one ``np.clip``: np.minimum/np.maximum against a scalar take 2-4x as long
        as a multiply, np.clip about one (a bound it lacks is ±inf)."""
        def bounds(q):
            nums = [a for a in q.args if not self.is_array(a)]
            if len(q.args) != 2 or len(nums) != 1 or (nums[0].is_number and not nums[0].is_finite):
                return None
            return nums[0], next(a for a in q.args if self.is_array(a))
        found = bounds(e)
        if found is None:
            return None
        c, a = found
        lo, hi = (sp.S.NegativeInfinity, c) if isinstance(e, sp.Min) else (c, sp.S.Infinity)
        inner = sp.Max if isinstance(e, sp.Min) else sp.Min
        found = bounds(a) if isinstance(a, inner) else None
        if found is not None:
            c2, a2 = found
            lo, hi, a = (c2, c, a2) if isinstance(e, sp.Min) else (c, c2, a2)

        def bound(v):
            if v == sp.oo or v == -sp.oo:
                return _Operand("np.inf" if v == sp.oo else "-np.inf", scalar=True)
            return self.value(v)
        self.helpers.add("_clip")   # the ufunc: np.clip's Python wrapper costs ~1.4 us a call
        return self.ufunc("clip", self.value(a), bound(lo), bound(hi))

    def _ordered(self, terms):
        """Compound terms first (the first one allocates the buffer), then leaves."""
        return sorted(terms, key=lambda q: (q.is_Symbol or not self.is_array(q),))

    def _add(self, e):
        scalar = sp.Add(*[a for a in e.args if not self.is_array(a)])
        terms = []
        for a in self._ordered([a for a in e.args if self.is_array(a)]):
            neg = a.could_extract_minus_sign()
            terms.append((-1 if neg else 1, -a if neg else a))
        terms.sort(key=lambda st: (st[1].is_Symbol, st[0] < 0))
        if scalar != 0:
            neg = scalar.could_extract_minus_sign()
            terms.append((-1 if neg else 1, -scalar if neg else scalar))
        if all(s < 0 for s, _ in terms):
            # -(t*a + (1 - t)*b) as (t - 1)*b - t*a: the negation goes into a sum factor
            # (exact: t - 1 is -(1 - t) in floats), no pass of its own
            k = next((i for i, (_, q) in enumerate(terms) if q.is_Mul and any(
                f.is_Add and self.is_array(f) for f in q.args)), None)
            if k is not None:
                _, q = terms.pop(k)
                terms.insert(0, (1, sp.Mul(-1, *q.args)))
        sign, acc = terms[0][0], self.value(terms[0][1])
        for s, term in terms[1:]:
            v = self.value(term)
            if sign > 0:
                acc = self.ufunc("add" if s > 0 else "subtract", acc, v)
            elif s > 0:
                acc, sign = self.ufunc("subtract", v, acc), 1
            else:
                acc = self.ufunc("add", acc, v)
        return self.ufunc("negative", acc) if sign < 0 else acc

    def _mul(self, e):
        coeff = sp.Mul(*[a for a in e.args if not self.is_array(a)])
        num, den = [], []
        for a in e.args:
            if not self.is_array(a):
                continue
            if a.is_Pow and a.exp.is_number and a.exp < 0:
                den.append(a.base ** -a.exp)
            else:
                num.append(a)
        num, den = self._ordered(num), self._ordered(den)
        negate = coeff.could_extract_minus_sign()
        coeff = -coeff if negate else coeff
        adds = [i for i, f in enumerate(num) if f.is_Add]
        if negate and adds:  # -(a - 1) is 1 - a: no separate negation pass
            flip = max(adds, key=lambda i: sum(t.could_extract_minus_sign()
                                               for t in num[i].args))
            num[flip], negate = -num[flip], False
        elif negate and coeff != 1:  # one multiply by the negative constant
            coeff, negate = -coeff, False
        if num and coeff != 1 and (num[0].is_Symbol or not negate):
            # scale the first factor before the array-array products (measured faster)
            acc = self.ufunc("multiply", self.value(num[0]), self.value(coeff))
            rest, coeff = num[1:], sp.Integer(1)
        elif num:
            acc = self.value(num[0])
            rest = num[1:]
        else:
            acc = self.ufunc("divide", self.value(coeff), self.value(den[0]))
            rest, den, coeff = [], den[1:], sp.Integer(1)
        for f in rest:
            acc = self.ufunc("multiply", acc, self.value(f))
        for d in den:
            acc = self.ufunc("divide", acc, self.value(d))
        if coeff != 1:
            acc = self.ufunc("multiply", acc, self.value(coeff))
        return self.ufunc("negative", acc) if negate else acc

    def _pow(self, e):
        base, ex = e.args
        if not self.is_array(base):
            return self.ufunc("power", self.value(base), self.value(ex))
        if ex == 2:
            return self.ufunc("square", self.value(base))
        if ex == 3:  # x*x**2: two multiplies, not a call to pow
            b = self.value(base)    # read twice: the square must not overwrite it
            return self.ufunc("multiply", self.ufunc("square", _Operand(b.text, key=b.key)), b)
        if ex == sp.Rational(1, 2):
            return self.ufunc("sqrt", self.value(base))
        if ex == -1:
            return self.ufunc("divide", _Operand("1.0", scalar=True), self.value(base))
        if ex in (-2, -3):      # 1/b**2: a square and a divide, not a call to pow (~8x)
            return self.ufunc("divide", _Operand("1.0", scalar=True), self._pow(base ** -ex))
        return self.ufunc("power", self.value(base), self.value(ex))

def _constant(e):
    """A number as Python text: nan for sp.nan and for a constant that is not real
    (``atanh(1.05)`` in a branch), as NumPy's value is (and as the numba printer prints
    them); None for a call SymPy does not evaluate to a float, which the printer spells."""
    if e is sp.nan or e.is_extended_real is False:
        return "np.nan"
    try:
        return repr(float(e))
    except TypeError:
        return None


def _read_in_branches(low, repl, reduced) -> set:
    """The shared symbols read only inside select branches (:func:`only_in_branches`),
    directly or through shared values that are themselves read only there (1/t read by
    t2 = 2**(-t)/t**2, which only a select's branch reads); a mask behind a shared name
    (t5 = t3*[t4 <= 0]) counts as the mask it is."""
    found: set = set()
    for i in range(len(repl) - 1, -1, -1):      # a value's readers come after it
        sym = repl[i][0]
        readers = [*reduced, *(v for t, v in repl[i + 1:] if t not in found)]
        if only_in_branches(sym, [low.masks_inlined(r, but=sym) for r in readers]):
            found.add(sym)
    return found


def lower(exprs, arrays, taken, printer, alloc=None, like="dout"):
    """Lower several expressions (sharing subexpressions) → (lines, result names, helpers)."""
    low = Lowering(printer, arrays, taken, alloc, like)
    repl, reduced, pairs = shared_form(exprs, arrays, taken)
    low.defs = list(repl)
    subs = dict(repl)
    low.pairs = {subs[p]: (p.name, q.name) for p, q in pairs.items()}
    low.remaining = _last_readers(repl, reduced)
    owned = low.buffers     # shared values held in a buffer made here: one result may take it
    in_branches = _read_in_branches(low, repl, reduced)
    for sym, sub in repl:
        low.taken.add(sym.name)
        if sym.name in low.done_pairs:   # sigmoid(-w), written with sigmoid(w)
            low.arrays.add(sym)
            low.keys[sym.name] = low.done_pairs.pop(sym.name)
            owned.add(sym.name)
            continue
        # x**x shared by two selects that use it where x >= 1 only: no warning for x < 0
        quiet = sym in in_branches and not float_safe(low.expanded(sub))
        v = low._quietly(sub) if quiet else low.value(sub)
        if v.scalar:
            low.lines.append(f"{sym.name} = {v.text}")
        else:
            low.lines.append(f"{sym.name} = {v.text}") if v.text != sym.name else None
            low.arrays.add(sym)
            low.keys[sym.name] = v.key
            if v.owned:
                owned.add(sym.name)
    results, seen = {}, set()
    # a result that cannot be computed in place (np.sign) first: a shared value it reads
    # may then be read last by another result, which writes into its buffer (L1's
    # sign(x - t) before |x - t|: two buffers, not three)
    order = sorted(range(len(reduced)), key=lambda i: not isinstance(reduced[i], sp.sign))
    for i in order:
        e = reduced[i]
        v = low.value(e)
        if v.scalar:
            if alloc is not None:
                new = low.fresh()
                low.lines.append(f"{new} = {alloc}")
                low.lines.append(f"{new}.fill({v.text})")
                v = _Operand(new, owned=True)
            else:
                v = low.ufunc("full_like", _Operand(like), v)
        elif v.text in owned and v.text not in seen:
            pass      # later steps read a shared value, never write it: no copy needed
        elif not v.owned or v.text in seen or any(v.text == s.name for s, _ in repl):
            new = low.fresh()
            low.lines.append(f"{new} = np.array({v.text}, dtype=_floating({v.text}))"
                             if alloc is not None
                             else f"{new} = np.copy({v.text})")
            v = _Operand(new, owned=True)
        seen.add(v.text)
        results[i] = v.text
    return [line for line in low.lines if line], [results[i] for i in range(len(reduced))], \
        low.helpers


