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
    col = np.empty((N, OH, OW, C, FH, FW))
    rows = col.transpose(0, 3, 4, 5, 1, 2)
    for p in range(FH):
        for q in range(FW):
            rows[:, :, p, q] = x[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride]
    return rows


def _fold(G, H, W, stride, pad):
    """col2im: the windows G (N, C, FH, FW, OH, OW) added back where they were read."""
    N, C, FH, FW, OH, OW = np.shape(G)
    out = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
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


HELPERS.update({"_windows": _windows, "_fold": _fold, "_first_max": _first_max})
