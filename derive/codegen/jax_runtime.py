"""Helpers copied into the JAX module (as source: generating code never imports jax).

* ``_like(x)``: a zero-size array carrying x's shape and dtype (``(0, *shape)``), the
  residual a backward keeps when it needs only an input's shape (no bytes held);
* ``_fit(g, like)``: a cotangent summed over the axes its input was broadcast along and
  cast to the input's dtype, as ``jax.custom_vjp`` requires (``mul(x, 2.0)``);
* the window helpers of convolution and pooling, in ``jnp``: ``_windows`` (im2col, the
  (N, C, FH, FW, OH, OW) windows the derivation names), ``_fold`` (col2im, its adjoint),
  ``_first_max`` (the mask of each window's first maximum, argmax's order) and
  ``_window_max``/``_window_first_max`` without the windows;
* ``_scatter_add`` (the gradient of ``W[idx]``) and ``_place`` (of a slice).

>>> sorted(HELPERS)[:4]
['_first_max', '_fit', '_fold', '_like']
>>> "def _fit(g, like):" in helper_source("_fit")
True
"""
from __future__ import annotations

import ast

__all__ = ["HELPERS", "helper_source"]

_SOURCE = '''
def _like(x):
    """A zero-size array with x's shape after its first axis and x's dtype."""
    return jnp.zeros((0,) + jnp.shape(x), jnp.result_type(x))


def _fit(g, like):
    """g as the cotangent of the input ``like`` stands for (:func:`_like`): summed over
    the axes it was broadcast along, in the input's dtype."""
    shape = like.shape[1:]
    g = jnp.asarray(g)
    if g.shape != tuple(shape):
        if g.ndim > len(shape):
            g = jnp.sum(g, axis=tuple(range(g.ndim - len(shape))))
        axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
        if axes:
            g = jnp.sum(g, axis=axes, keepdims=True)
        g = jnp.broadcast_to(g, shape)
    return g.astype(like.dtype)


def _out_size(H, W, FH, FW, stride, pad):
    return (H + 2 * pad - FH) // stride + 1, (W + 2 * pad - FW) // stride + 1


def _offsets(x, FH, FW, stride, pad):
    """(p, q, the (N, C, OH, OW) values of x at window offset p, q) for each offset."""
    N, C, H, W = jnp.shape(x)
    OH, OW = _out_size(H, W, FH, FW, stride, pad)
    if pad:
        x = jnp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    for p in range(FH):
        for q in range(FW):
            yield p, q, x[:, :, p:p + stride * (OH - 1) + 1:stride,
                          q:q + stride * (OW - 1) + 1:stride]


def _windows(x, FH, FW, stride, pad):
    """The windows of x (N, C, H, W): element [n, c, p, q, i, j] = x[n, c, i*stride + p - pad, j*stride + q - pad], 0 in the padding."""
    N, C = jnp.shape(x)[:2]
    views = [v for _, _, v in _offsets(x, FH, FW, stride, pad)]
    col = jnp.stack(views, axis=2)
    return col.reshape((N, C, FH, FW) + col.shape[3:])


def _fold(G, H, W, stride, pad):
    """col2im: the windows G (N, C, FH, FW, OH, OW) added back where they were read."""
    N, C, FH, FW, OH, OW = jnp.shape(G)
    out = jnp.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), G.dtype)
    for p in range(FH):
        for q in range(FW):
            out = out.at[:, :, p:p + stride * (OH - 1) + 1:stride,
                         q:q + stride * (OW - 1) + 1:stride].add(G[:, :, p, q])
    return out[:, :, pad:pad + H, pad:pad + W]


def _first_max(a, axes):
    """1.0 at the first maximum of each window over ``axes`` (argmax's order), else 0."""
    rest = [i for i in range(jnp.ndim(a)) if i not in axes]
    moved = jnp.transpose(a, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    mask = jax.nn.one_hot(jnp.argmax(flat, axis=-1), flat.shape[-1], dtype=a.dtype)
    back = [0] * jnp.ndim(a)
    for k, i in enumerate(rest + list(axes)):
        back[i] = k
    return mask.reshape(moved.shape).transpose(back)


def _window_max(x, FH, FW, stride, pad):
    """jnp.max(_windows(x, ...), axis=(2, 3)) without the windows: a running maximum."""
    out = None
    for _, _, v in _offsets(x, FH, FW, stride, pad):
        out = v if out is None else jnp.maximum(out, v)
    return out


def _window_first_max(x, FH, FW, stride, pad):
    """_first_max(_windows(x, ...), (2, 3)) without the windows: the first offset (in
    window order) holding the maximum wins, as argmax."""
    best = arg = None
    for k, (_, _, v) in enumerate(_offsets(x, FH, FW, stride, pad)):
        if best is None:
            best, arg = v, jnp.zeros(jnp.shape(v), jnp.int32)
            continue
        wins = v > best                 # strictly greater: an earlier maximum keeps a tie
        best, arg = jnp.where(wins, v, best), jnp.where(wins, k, arg)
    mask = jnp.stack([arg == k for k in range(FH * FW)], axis=2)
    return mask.reshape(arg.shape[:2] + (FH, FW) + arg.shape[2:]).astype(x.dtype)


def _scatter_add(g, idx, shape):
    """Zeros of ``shape`` with each row of g added at its row number in idx (repeated
    indices accumulate): the gradient of W[idx]."""
    return jnp.zeros(shape, g.dtype).at[idx].add(g)


def _place(g, shape, axis, start, stop):
    """Zeros of ``shape`` with g written at [start, stop) along ``axis``."""
    index = [slice(None)] * len(shape)
    index[axis] = slice(start, stop)
    return jnp.zeros(shape, g.dtype).at[tuple(index)].set(g)
'''


def _parse() -> dict:
    tree = ast.parse(_SOURCE)
    return {n.name: ast.get_source_segment(_SOURCE, n) for n in tree.body
            if isinstance(n, ast.FunctionDef)}


HELPERS = _parse()
_NEEDS = {"_windows": ("_offsets",), "_window_max": ("_offsets",),
          "_window_first_max": ("_offsets",), "_offsets": ("_out_size",)}


def needed(names) -> list:
    """The helpers ``names`` call, with what they call, in file order."""
    todo, seen = list(names), set()
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(_NEEDS.get(n, ()))
    return [n for n in HELPERS if n in seen]


def helper_source(name: str) -> str:
    """The source of one helper, as the JAX module carries it."""
    return HELPERS[name]
