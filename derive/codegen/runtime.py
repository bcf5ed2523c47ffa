"""Helpers copied into generated modules (by ``inspect.getsource``), NumPy only.

The generated module imports numpy alone, so what it calls beyond NumPy is copied in:
:func:`_floating` and :func:`_as_arrays` (arrays in the inputs' floating dtype:
float32 stays float32), an overflow-safe :func:`_sigmoid` (finite and warning-free at
±1000: ``exp(-u)`` may overflow to inf, and 1/(1 + inf) is the correct 0), :func:`_softplus`,
``_clip`` (``np.clip``'s ufunc, without its Python wrapper) and ``erf`` from
:mod:`numeric.special` (only the definitions it needs).
"""
from __future__ import annotations

import ast
import inspect

import numpy as np

__all__ = ["HELPERS", "helper_source", "erf_source"]


def _floating(*values):
    """The floating dtype the values are computed in: that of their float arrays (float32
    stays float32; float32 with float64 is float64), float64 when none is floating; in the
    machine's byte order (a big-endian array's results are native arrays)."""
    first = values[0] if values else None
    if type(first) is np.ndarray:     # the common case first, without the general walk
        d = first.dtype
        if d.kind == "f" and d.isnative:
            for v in values[1:]:
                if type(v) is not np.ndarray or v.dtype != d:
                    break
            else:
                return d
    floats = [d for d in (np.asarray(v).dtype for v in values
                          if not isinstance(v, (int, float))) if d.kind == "f"]
    d = np.result_type(*floats) if floats else np.dtype(np.float64)
    return d if d.isnative else d.newbyteorder("=")


def _as_arrays(*values):
    """Arrays of at least one dimension in one floating dtype (:func:`_floating`); views
    where possible, never written to."""
    dtype = _floating(*values)
    return [v if type(v) is np.ndarray and v.dtype == dtype and v.ndim else
            np.atleast_1d(np.asarray(v, dtype=dtype)) for v in values]


def _broadcast(*values):
    """``(shape, shapes, *arrays)``: the values' broadcast shape; each value's own shape
    when one differs from it, else None (a gradient is then summed back to its input's
    shape: :func:`_unbroadcast`); the values as :func:`_as_arrays` makes them, broadcast to
    that shape (read-only views, at least 1-d)."""
    shapes = tuple(np.shape(v) for v in values)
    shape = np.broadcast_shapes(*shapes)
    full = shape or (1,)
    arrays = [a if a.shape == full else np.broadcast_to(a, full) for a in _as_arrays(*values)]
    return (shape, None if all(s == shape for s in shapes) else shapes, *arrays)


def _summed_to(g, to):
    """The gradient ``g`` of an input of shape ``to`` that was broadcast to ``g``'s shape,
    summed over the axes it was broadcast along (NumPy's rules: leading axes added, axes of
    length 1 stretched)."""
    to = tuple(to)
    if g.shape == to:
        return g
    if g.ndim > len(to):
        g = g.sum(axis=tuple(range(g.ndim - len(to))))
    axes = tuple(i for i, k in enumerate(to) if k == 1 and g.shape[i] != 1)
    return (g.sum(axis=axes, keepdims=True) if axes else g).reshape(to)


def _unbroadcast(shapes, which, grads):
    """``grads`` (one array, or a tuple) of the inputs numbered ``which``, each summed back to
    its input's shape in ``shapes`` (:func:`_summed_to`)."""
    if len(which) == 1:
        return _summed_to(grads, shapes[which[0]])
    return tuple(_summed_to(g, shapes[i]) for g, i in zip(grads, which))


def _sigmoid(u):
    """1/(1 + exp(-u)) in four in-place passes: where exp(-u) overflows (u < -709.78) it is
    inf and the result the correct 0 (quietly: the overflow is not an error here)."""
    s = np.negative(u)
    with np.errstate(over="ignore"):
        np.exp(s, out=s)
    np.add(s, 1.0, out=s)
    np.divide(1.0, s, out=s)
    return s


def _sigmoid2(u):
    """(sigmoid(u), sigmoid(-u)) from one exp: e = exp(-u), 1/(1 + e) and 1/(1 + 1/e) in
    seven passes and one errstate (two _sigmoid calls: eight passes and two). Where e
    overflows (u < -709.78) they are the correct 0 and 1, where it is 0 (u > 745.13) 1 and 0
    (quietly: neither the overflow nor 1/0 is an error here)."""
    s = np.negative(u)
    with np.errstate(over="ignore", divide="ignore"):
        np.exp(s, out=s)
        t = np.divide(1.0, s)
    np.add(s, 1.0, out=s)
    np.divide(1.0, s, out=s)
    np.add(t, 1.0, out=t)
    np.divide(1.0, t, out=t)
    return s, t


def _softplus(u):
    """log(1 + exp(u)) as max(u, 0) + log1p(exp(-|u|)) (the identity is proven in
    derive.codegen.stable.HELPER_IDENTITIES): exp only of -|u| <= 0, so finite and
    warning-free everywhere; six passes, where np.logaddexp is a scalar loop ~15x slower."""
    s = np.abs(u)
    np.negative(s, out=s)
    np.exp(s, out=s)
    np.log1p(s, out=s)
    np.add(s, _clip(u, 0.0, np.inf), out=s)       # max(u, 0): clip is the fast one
    return s


def _blocked(f, arrays, params):
    """``f(*arrays, *params)`` computed block by block (the arrays: one shape, a function
    of the elements alone), in blocks of :data:`_BLOCK` elements, each block's results (one
    array, or a tuple) written into arrays of the whole. A function of many passes over its
    arrays then keeps its temporaries in the cache and small enough to come from the heap,
    not from fresh mappings; the values are those of one call on the whole (elementwise:
    the same operations on each element)."""
    flat = [np.ravel(a) for a in arrays]          # views where the arrays are contiguous
    n = flat[0].size
    whole = None
    for i in range(0, n, _BLOCK):
        got = f(*[a[i:i + _BLOCK] for a in flat], *params)
        parts = got if type(got) is tuple else (got,)
        if whole is None:
            whole = [np.empty(n, dtype=p.dtype) for p in parts]
        for w, p in zip(whole, parts):
            w[i:i + _BLOCK] = p
    shape = np.shape(arrays[0])
    whole = [w.reshape(shape) for w in whole]
    return tuple(whole) if type(got) is tuple else whole[0]


def _blocked_forward(forward, layer, arrays, cached):
    """``forward(layer, *arrays)`` (a class's own forward) by :func:`_blocked`: out and
    each array the forward caches on ``layer`` (the names in ``cached``) made whole, which
    the layer then holds."""
    def block(*a):
        return (forward(layer, *a), *[getattr(layer, c) for c in cached])
    out, *parts = _blocked(block, arrays, ())
    for c, w in zip(cached, parts):
        setattr(layer, c, w)
    return out


# np.clip's ufunc, without np.clip's Python wrapper (~1.4 us a call, NumPy 2.4: at 1e3
# elements longer than the clip itself); ``np.core`` before NumPy 2
_CLIP_SOURCE = '_clip = (np._core if hasattr(np, "_core") else np.core).umath.clip'
_clip = (np._core if hasattr(np, "_core") else np.core).umath.clip

HELPERS = {"_floating": _floating, "_as_arrays": _as_arrays, "_broadcast": _broadcast,
           "_summed_to": _summed_to, "_unbroadcast": _unbroadcast, "_sigmoid": _sigmoid,
           "_sigmoid2": _sigmoid2,
           "_softplus": _softplus, "_clip": _clip, "_blocked": _blocked,
           "_blocked_forward": _blocked_forward}

# 16000 float64 are 125 KiB: a block's temporaries stay under glibc's 128 KiB mmap threshold
# (so they come from the heap, not from fresh mappings) and in the L2 cache; from two blocks
# on a function of many passes gains (bench/numpy_bench.py: gelu_backward ÷ the book 6.6 ->
# 1.5 at 1e7, 2.7 -> 1.6 at 1e5), below that one call on the whole is as fast
_BLOCK = 16000
_BLOCKED_MIN = 2 * _BLOCK
_BLOCK_SOURCE = f"_BLOCK = {_BLOCK}\n_BLOCKED_MIN = 2 * _BLOCK"


def erf_source() -> str:
    """``numeric.special.erf`` and exactly the module-level names it uses, in file order."""
    from numeric import special
    source = inspect.getsource(special)
    tree = ast.parse(source)
    defs = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.Assign)):
            targets = [node.name] if isinstance(node, ast.FunctionDef) else [
                t.id for t in node.targets if isinstance(t, ast.Name)]
            for t in targets:
                defs[t] = node
    needed, todo = set(), ["erf"]
    while todo:
        name = todo.pop()
        if name in needed or name not in defs:
            continue
        needed.add(name)
        todo.extend(n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name))
    keep = [n for n in tree.body if any(defs.get(k) is n for k in needed)]
    return "\n\n".join(ast.get_source_segment(source, n) for n in keep)




def helper_source(name: str) -> str:
    """The source of one helper, as the generated module carries it."""
    if name == "erf":
        return "# erf: numeric/special.py, copied\n" + erf_source()
    if name == "_clip":
        return "# np.clip's ufunc: np.clip's Python wrapper costs more than the clip at 1e3\n" + _CLIP_SOURCE
    if name == "_BLOCK":        # the block sizes of _blocked and _blocked_forward
        return _BLOCK_SOURCE
    if name not in HELPERS:
        from . import window_runtime  # noqa: F401  (registers _windows, _fold, _first_max)
    return inspect.getsource(HELPERS[name])


def _rows(x):
    """x as rows (N, D): a higher-rank x is flattened after its first axis, as the book does."""
    if type(x) is np.ndarray and x.ndim == 2:
        return x                      # rows already: no call (it counts at batch 100)
    return np.reshape(x, (np.shape(x)[0], -1))


def _onehot(t, x):
    """Label indices t (one axis fewer than x) as one-hot rows over x's last axis, in x's
    floating dtype."""
    t = np.asarray(t)
    if t.ndim == np.ndim(x) - 1:
        return np.eye(np.shape(x)[-1], dtype=_floating(x))[t]
    return t


def _scatter_add(g, idx, shape):
    """Zeros of ``shape`` with each row of g added at its row number in idx (repeated
    indices accumulate, as np.add.at does): the gradient of W[idx]."""
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, idx, g)
    return out


def _place(g, shape, axis, start, stop):
    """Zeros of ``shape`` with g written at [start, stop) along ``axis``: the gradient of a
    slice (the slices that tile an axis are one np.concatenate instead)."""
    out = np.zeros(shape, dtype=np.result_type(g))
    index = [slice(None)] * len(shape)
    index[axis] = slice(start, stop)
    out[tuple(index)] = g
    return out


HELPERS.update({"_rows": _rows, "_onehot": _onehot, "_scatter_add": _scatter_add,
                "_place": _place})
