"""Convolution and pooling primitives: sliding windows, their fold, einsum, the first maximum.

Four structural primitives, each one entry of the rule table (:mod:`derive.rules`), with
its index form, vector-Jacobian product and NumPy evaluation here:

* ``Windows(x, FH, FW, stride, pad)`` — the sliding windows of a 4-D ``x`` (N, C, H, W),
  shape (N, C, FH, FW, OH, OW) with OH = 1 + (H + 2·pad − FH)//stride (the book's
  im2col before its reshape). Element [n, c, p, q, i, j] is x[n, c, i·s+p−pad, j·s+q−pad],
  read as 0 outside x (the zero padding): an :class:`InRange` factor gates each offset;
* ``Fold(G, H, W, stride, pad)`` — col2im: the windows added back onto an (N, C, H, W)
  array, dx[n,c,h,w] = Σ_{p,q,i,j} G[n,c,p,q,i,j]·δ(h, i·s+p−pad)·δ(w, j·s+q−pad). It is
  the VJP of ``Windows``;
* ``Einsum(a, b, subscripts)`` — ``np.einsum('ncpqij,fcpq->nfij', col, W)``: a sum over
  the letters the output lacks. Its VJPs are einsums;
* ``FirstMax(a, axes)`` — the 0/1 array marking, in each window, the first maximum in
  window order (np.argmax's convention). ``np.max`` over the axes passes the gradient
  there: the VJP of ``AxisMax`` is the arriving gradient spread over the window times it.

Stride and pad are symbols (integer parameters of the layer) or integers; the index form
keeps them symbolic, so the proofs hold for every stride and pad as for every size.

>>> from derive.tensor import Arr, dims, shape_of
>>> N, C, H, W, FH, FW = dims("N C H W FH FW")
>>> shape_of(Windows(Arr("x", (N, C, H, W)), FH, FW, 1, 0))
(N, C, FH, FW, -FH + H + 1, -FW + W + 1)
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .errors import ShapeError
from .tensor import BroadcastTo, ExpandDims, Structural, shape_of, show_shape

__all__ = ["Windows", "Fold", "Einsum", "FirstMax", "InRange", "out_size", "einsum"]


def out_size(size, window, stride, pad) -> sp.Expr:
    """1 + (size + 2·pad − window)//stride, the number of window positions along an axis."""
    return sp.floor((size + 2 * pad - window) / stride) + 1


class InRange(sp.Function):
    """``InRange(e, n)``: 1 when 0 ≤ e < n, else 0 (an index inside an axis of size n)."""

    nargs = 2

    @classmethod
    def eval(cls, e, n):
        lo, hi = sp.sympify(e).is_nonnegative, (n - e).is_positive
        if lo is False or hi is False:
            return sp.Integer(0)
        if lo and hi:
            return sp.Integer(1)
        return None

    def _eval_is_nonnegative(self):
        return True

    def _eval_derivative(self, s):       # a function of indices only
        return sp.Integer(0)


class Windows(Structural):
    """The sliding windows of x (N, C, H, W): shape (N, C, FH, FW, OH, OW)."""

    nargs = 5

    @classmethod
    def eval(cls, x, fh, fw, stride, pad):
        s = shape_of(x)
        if len(s) != 4:
            raise ShapeError(f"windows(x, ...) needs a 4-D x (N, C, H, W), got shape {show_shape(s)}")
        for size, w in ((s[2], fh), (s[3], fw)):
            if (out_size(size, w, stride, pad) - 1).is_negative:
                raise ShapeError(f"a window of {w} does not fit an axis of {size} with pad {pad}")
        return None

    def shape(self):
        x, fh, fw, stride, pad = self.args
        n, c, h, w = shape_of(x)
        return (n, c, fh, fw, out_size(h, fh, stride, pad), out_size(w, fw, stride, pad))


class Fold(Structural):
    """col2im: windows G (N, C, FH, FW, OH, OW) added back onto (N, C, H, W)."""

    nargs = 5

    @classmethod
    def eval(cls, g, h, w, stride, pad):
        s = shape_of(g)
        if len(s) != 6:
            raise ShapeError(f"fold needs a 6-D array of windows, got shape {show_shape(s)}")
        return None

    def _eval_is_nonnegative(self):
        return self.args[0].is_nonnegative

    def shape(self):
        g, h, w = self.args[:3]
        s = shape_of(g)
        return (s[0], s[1], h, w)


def _letters(codes) -> str:
    return "".join(chr(int(c)) for c in codes)


def einsum(subscripts: str, a, b) -> "Einsum":
    """``np.einsum(subscripts, a, b)`` for two operands and an explicit output.

    >>> from derive.tensor import Arr, dims
    >>> N, D, M = dims("N D M")
    >>> shape_of(einsum("nd,dm->nm", Arr("x", (N, D)), Arr("W", (D, M))))
    (N, M)
    """
    left, _, out = subscripts.replace(" ", "").partition("->")
    sa, _, sb = left.partition(",")
    codes = [sp.Tuple(*(sp.Integer(ord(ch)) for ch in part)) for part in (sa, sb, out)]
    return Einsum(a, b, *codes)


class Einsum(Structural):
    """``np.einsum('<a>,<b>-><out>', a, b)``: args (a, b, a's letters, b's, the output's)."""

    nargs = 5

    def _eval_is_nonnegative(self):
        return None

    _eval_is_positive = _eval_is_nonnegative

    @classmethod
    def eval(cls, a, b, sa, sb, so):
        la, lb, lo = _letters(sa), _letters(sb), _letters(so)
        sizes = {}
        for letters, arr in ((la, a), (lb, b)):
            shape = shape_of(arr)
            if len(letters) != len(shape) or len(set(letters)) != len(letters):
                raise ShapeError(f"einsum: subscripts {letters!r} for shape {show_shape(shape)}")
            for ch, d in zip(letters, shape):
                if sizes.setdefault(ch, d) != d:
                    raise ShapeError(f"einsum: letter {ch} has sizes {sizes[ch]} and {d}")
        if len(set(lo)) != len(lo) or any(ch not in sizes for ch in lo):
            raise ShapeError(f"einsum: output {lo!r} must use distinct letters of the operands")
        return None

    @property
    def subscripts(self) -> str:
        sa, sb, so = (_letters(c) for c in self.args[2:])
        return f"{sa},{sb}->{so}"

    def sizes(self) -> dict:
        out = {}
        for codes, arr in ((self.args[2], self.args[0]), (self.args[3], self.args[1])):
            out.update(zip(_letters(codes), shape_of(arr)))
        return out

    def shape(self):
        sizes = self.sizes()
        return tuple(sizes[ch] for ch in _letters(self.args[4]))


class FirstMax(Structural):
    """1 at the first maximum of each window of ``a`` over ``axes`` (np.argmax's order), else 0."""

    @classmethod
    def eval(cls, a, *axes):
        return None

    def _eval_is_nonnegative(self):
        return True

    @property
    def axes(self) -> tuple:
        return tuple(int(v) for v in self.args[1:])

    def shape(self):
        return shape_of(self.args[0])


# ---- index form ---------------------------------------------------------------------------

def _offset(i, p, stride, pad):
    return i * stride + p - pad


def element_windows(e, idx, element):
    x, fh, fw, stride, pad = e.args
    n, c, p, q, i, j = idx
    h, w = shape_of(x)[2:]
    rows, cols = _offset(i, p, stride, pad), _offset(j, q, stride, pad)
    return element(x, (n, c, rows, cols)) * InRange(rows, h) * InRange(cols, w)


def element_fold(e, idx, element, fresh):
    g, h, w, stride, pad = e.args
    n, c, hh, ww = idx
    _, _, fh, fw, oh, ow = shape_of(g)
    p, q, i, j = (fresh(ch) for ch in "pqij")
    rows, cols = _offset(i, p, stride, pad), _offset(j, q, stride, pad)
    # the gates are 1 wherever a delta is (0 <= hh < h): written so both sides of the
    # Windows VJP carry the same factors
    body = (element(g, (n, c, p, q, i, j)) * sp.KroneckerDelta(hh, rows) * InRange(rows, h)
            * sp.KroneckerDelta(ww, cols) * InRange(cols, w))
    limits = [(v, 0, size - 1) for v, size in ((p, fh), (q, fw), (i, oh), (j, ow)) if size != 1]
    body = body.xreplace({v: 0 for v, size in ((p, fh), (q, fw), (i, oh), (j, ow)) if size == 1})
    return sp.Sum(body, *limits) if limits else body


def element_einsum(e, idx, element, fresh):
    sa, sb, so = (_letters(c) for c in e.args[2:])
    sizes = e.sizes()
    at = dict(zip(so, idx))
    summed = [ch for ch in dict.fromkeys(sa + sb) if ch not in at]
    limits = []
    for ch in summed:
        if sizes[ch] == 1:
            at[ch] = sp.Integer(0)
        else:
            at[ch] = fresh(ch)
            limits.append((at[ch], 0, sizes[ch] - 1))
    body = element(e.args[0], tuple(at[ch] for ch in sa)) * element(e.args[1],
                                                                    tuple(at[ch] for ch in sb))
    return sp.Sum(body, *limits) if limits else body


def element_first_max(e, idx, element):
    """Held as an opaque 0/1 array of a's shape: what is proven with it holds for any mask
    that is locally constant in a (the first maximum's is, away from ties)."""
    return sp.IndexedBase(sp.Symbol(f"argmax⟨{e.args[0]}; {e.axes}⟩"))[tuple(idx)]


MAX_PROOF = ("np.max over axes is Σ_window M·a with M the 0/1 mask of the first maximum of "
             "each window; M is locally constant in a away from ties (a fixed entry is the "
             "maximum there), so SymPy's derivative of Σ G·(Σ_window M·a), with M held as "
             "such an array, has the canonical form of the rule's G·M for every size; central "
             "differences at random points (no ties) agree. At a tie the rule is a convention: "
             "the first maximum takes the whole gradient (np.argmax)")


def max_reference(value):
    """The witness for np.max's VJP: SymPy's derivative of Σ_o G[o]·Σ_w M[o,w]·a[o,w],
    M the first-maximum mask held as an array (its derivative in a is 0 away from ties)."""
    from .indexform import element, free_indices, fresh
    from .tensor import AxisSum, array
    a = value.args[0]
    written = AxisSum(FirstMax(a, *value.axes) * a, int(value.keepdims), *value.axes)
    shape = shape_of(value)
    up = array("G", shape)
    out = tuple(fresh("i") for _ in shape)
    body = element(up, out) * element(written, out)
    body = body.xreplace({i: 0 for i, s in zip(out, shape) if s == 1})
    limits = [(i, 0, s - 1) for i, s in zip(out, shape) if s != 1]
    total = sp.Sum(body, *limits) if limits else body
    idx = free_indices(shape_of(a))
    return idx, total.diff(element(a, idx)), up


# ---- vector-Jacobian products ---------------------------------------------------------------

def vjp_windows(v, k, G):
    x, fh, fw, stride, pad = v.args
    h, w = shape_of(x)[2:]
    return Fold(G, h, w, stride, pad)


def vjp_fold(v, k, G):
    g, h, w, stride, pad = v.args
    fh, fw = shape_of(g)[2:4]
    return Windows(G, fh, fw, stride, pad)


def vjp_einsum(v, k, G):
    sa, sb, so = (_letters(c) for c in v.args[2:])
    mine, other = (sa, sb) if k == 0 else (sb, sa)
    if any(ch not in so and ch not in other for ch in mine):
        from .errors import MissingRuleError
        raise MissingRuleError(f"einsum {v.subscripts}: a letter summed in one operand only "
                               "has no vector-Jacobian product here")
    return einsum(f"{so},{other}->{mine}", G, v.args[1 - k])


def vjp_max(v, k, G):
    """np.max over axes: G spread over each window, at its first maximum."""
    a = v.args[0]
    spread = G if v.keepdims else ExpandDims(G, *v.axes)
    return BroadcastTo(spread, *shape_of(a)) * FirstMax(a, *v.axes)


# ---- numbers ------------------------------------------------------------------------------

def windows_np(x, fh, fw, stride, pad):
    """The windows of x as a (N, C, FH, FW, OH, OW) array (one strided copy per offset)."""
    x = np.asarray(x, dtype=np.float64)
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    col = np.empty((n, c, fh, fw, oh, ow))
    for p in range(fh):
        for q in range(fw):
            col[:, :, p, q] = xp[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride]
    return col


def fold_np(g, h, w, stride, pad):
    g = np.asarray(g, dtype=np.float64)
    n, c, fh, fw, oh, ow = g.shape
    out = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1))
    for p in range(fh):
        for q in range(fw):
            out[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride] += g[:, :, p, q]
    return out[:, :, pad:pad + h, pad:pad + w]


def first_max_np(a, axes):
    a = np.asarray(a, dtype=np.float64)
    axes = tuple(axes)
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return np.transpose(mask.reshape(moved.shape), np.argsort(rest + list(axes)))


def evaluate_np(e, evaluate, env):
    """NumPy value of one of this module's primitives (``evaluate`` for operands)."""
    from .evaluate import _scalar
    a = evaluate(e.args[0], env)
    if isinstance(e, Einsum):
        return np.einsum(e.subscripts, a, evaluate(e.args[1], env))
    if isinstance(e, FirstMax):
        return first_max_np(a, e.axes)
    ints = [int(round(_scalar(v, env))) for v in e.args[1:]]
    return (windows_np if isinstance(e, Windows) else fold_np)(a, *ints)


def fit_sizes(sizes: dict, exprs, first: bool) -> dict:
    """Sizes at which the windows of ``exprs`` exist: stride 2 and pad 1 in the first set,
    1 and 0 in the second (both conventions exercised), each axis at least its window."""
    sizes = dict(sizes)
    for e in exprs:
        for win in e.atoms(Windows, Fold):
            a, s1, s2, stride, pad = win.args
            for v, value in ((stride, 2 if first else 1), (pad, 1 if first else 0)):
                if isinstance(v, sp.Symbol):
                    sizes[v.name] = value
            pairs = zip(shape_of(a)[2:], (s1, s2)) if isinstance(win, Windows) else \
                zip((s1, s2), shape_of(a)[2:4])
            for axis, window in pairs:
                if isinstance(window, sp.Symbol) and window.name not in sizes:
                    sizes[window.name] = 2          # a window size given as a parameter
                if isinstance(axis, sp.Symbol) and isinstance(window, sp.Symbol):
                    sizes[axis.name] = max(sizes.get(axis.name, 1), sizes.get(window.name, 1) + 1)
    return sizes
