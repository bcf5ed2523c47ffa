"""Helpers for convolution and pooling, copied into generated modules (NumPy only).

``_windows`` is the book's im2col: one strided copy per window offset (no Python loop
over N, H or W) into a contiguous (N, OH, OW, C, FH, FW) array — the book's rows —
returned as the (N, C, FH, FW, OH, OW) view the derivation names, so the tensordots
that follow reshape it without a copy. ``_fold`` is col2im, ``_first_max`` the mask of
each window's first maximum (np.argmax's order: at a tie the first takes it).
"""
from __future__ import annotations

import numpy as np

from .runtime import HELPERS


def _windows(x, FH, FW, stride, pad):
    """The windows of x (N, C, H, W): element [n, c, p, q, i, j] = x[n, c, i*stride + p - pad, j*stride + q - pad], 0 in the padding."""
    N, C, H, W = np.shape(x)
    OH = (H + 2 * pad - FH) // stride + 1
    OW = (W + 2 * pad - FW) // stride + 1
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.empty((N, OH, OW, C, FH, FW), dtype=np.result_type(x, np.float32))
    rows = col.transpose(0, 3, 4, 5, 1, 2)
    for p in range(FH):
        for q in range(FW):
            rows[:, :, p, q] = x[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride]
    return rows


def _fold(G, H, W, stride, pad):
    """col2im: the windows G (N, C, FH, FW, OH, OW) added back where they were read."""
    G = np.ascontiguousarray(G)        # one copy, then contiguous reads per offset
    N, C, FH, FW, OH, OW = np.shape(G)
    out = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1),
                   dtype=np.result_type(G, np.float32))
    for p in range(FH):
        for q in range(FW):
            out[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] += G[:, :, p, q]
    return out[:, :, pad:pad + H, pad:pad + W]


def _first_max(a, axes):
    """1.0 at the first maximum of each window over ``axes`` (np.argmax's order), else 0."""
    rest = [i for i in range(np.ndim(a)) if i not in axes]
    moved = np.transpose(a, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    mask = np.zeros(flat.shape)
    np.put_along_axis(mask, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return mask.reshape(moved.shape).transpose(np.argsort(rest + list(axes)))


def _offsets(x, FH, FW, stride, pad):
    """(p, q, the (N, C, OH, OW) view of x at offset p, q) for each window offset."""
    N, C, H, W = np.shape(x)
    OH = (H + 2 * pad - FH) // stride + 1
    OW = (W + 2 * pad - FW) // stride + 1
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    for p in range(FH):
        for q in range(FW):
            yield p, q, x[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride]


def _window_max(x, FH, FW, stride, pad):
    """np.max(_windows(x, ...), axis=(2, 3)) without the windows: a running maximum."""
    out = None
    for _, _, v in _offsets(x, FH, FW, stride, pad):
        out = np.array(v, dtype=np.result_type(v, np.float32)) if out is None else \
            np.maximum(out, v, out=out)
    return out


def _window_first_max(x, FH, FW, stride, pad):
    """_first_max(_windows(x, ...), (2, 3)) without the windows: the first offset (in
    window order) holding the maximum wins, as np.argmax."""
    best = arg = None
    for k, (_, _, v) in enumerate(_offsets(x, FH, FW, stride, pad)):
        if best is None:
            best = np.array(v, dtype=np.result_type(v, np.float32))
            arg = np.zeros(np.shape(v), dtype=np.intp)
            continue
        wins = v > best                 # strictly greater: an earlier maximum keeps a tie
        np.copyto(best, v, where=wins)
        arg[wins] = k
    mask = np.empty((arg.shape[0], arg.shape[1], FH, FW) + arg.shape[2:], dtype=bool)
    for k in range(FH * FW):
        np.equal(arg, k, out=mask[:, :, k // FW, k % FW])
    return mask


HELPERS.update({"_windows": _windows, "_fold": _fold, "_first_max": _first_max,
                "_offsets": _offsets, "_window_max": _window_max, "_window_first_max": _window_first_max})
