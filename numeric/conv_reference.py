"""Book-style convolution and pooling layers (chapter 7 of volume 1), written for this project.

Volume 1's API: the constructor takes the weights, ``forward(x)`` caches what the
backward pass needs, ``backward(dout)`` returns ``dx`` and stores the weight
gradients on the layer as ``dW`` and ``db``.  Images are (N, C, H, W) and a window
of FH x FW moved by ``stride`` over the zero-padded image gives

    OH = 1 + (H + 2*pad - FH) // stride,    OW = 1 + (W + 2*pad - FW) // stride.

Both layers go through ``im2col``, which lays every window out as one row of
C*FH*FW numbers (channel slowest, then window row, then window column), and back
through its adjoint ``col2im``, which adds each row back onto the windows it came
from (so a pixel that lies in several windows receives the sum).  Rows that do not
fit a whole window (when ``H + 2*pad - FH`` is not a multiple of ``stride``) are
never read, and their gradient is 0.

``Relu``, ``Affine`` (which flattens 4-D input and reshapes ``dx`` back) and
``SoftmaxWithLoss`` are the existing ones of numeric.reference and
numeric.matrix_reference, re-exported here so that a small CNN can be built from
this module alone.

>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> im2col(x, 2, 2, stride=2).tolist()
[[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0], [8.0, 9.0, 12.0, 13.0], [10.0, 11.0, 14.0, 15.0]]
>>> col2im(np.ones((9, 4)), (1, 1, 4, 4), 2, 2)[0, 0].tolist()   # windows per pixel
[[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from numeric.matrix_reference import Affine, SoftmaxWithLoss
from numeric.reference import Relu

__all__ = ["Affine", "Convolution", "Pooling", "Relu", "SoftmaxWithLoss",
           "col2im", "im2col", "output_size"]


def output_size(size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """1 + (size + 2*pad - filter_size) // stride, the number of window positions.

    >>> output_size(5, 3, stride=2, pad=1), output_size(6, 3, stride=2)
    (3, 2)
    """
    out = 1 + (size + 2 * pad - filter_size) // stride
    if out < 1:
        raise ValueError(f"a {filter_size}-wide window does not fit {size} + 2*{pad}")
    return out


def im2col(x, FH, FW, stride=1, pad=0):
    """(N, C, H, W) -> (N*OH*OW, C*FH*FW): one row per window, rows in (n, oh, ow) order."""
    N, C, H, W = x.shape
    OH, OW = output_size(H, FH, stride, pad), output_size(W, FW, stride, pad)
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    # windows[n, c, oh, ow, i, j] = img[n, c, oh*stride + i, ow*stride + j]
    windows = sliding_window_view(img, (FH, FW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :OH, :OW]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * FH * FW)


def col2im(col, x_shape, FH, FW, stride=1, pad=0):
    """The adjoint of im2col: add every row back onto its window; returns x_shape.

    For each offset (i, j) inside the window, the pixels at that offset of all
    windows form one strided slice of the padded image, so one slice-add per
    offset places them; different offsets overlap, which is where the sums arise.
    """
    N, C, H, W = x_shape
    OH, OW = output_size(H, FH, stride, pad), output_size(W, FW, stride, pad)
    col = col.reshape(N, OH, OW, C, FH, FW).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for i in range(FH):
        for j in range(FW):
            img[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += col[:, :, i, j]
    return img[:, :, pad:pad + H, pad:pad + W]


class Convolution:
    """out[n, f] = sum over channels and window of W[f] * window + b[f], through im2col.

    Forward: col (N*OH*OW, C*FH*FW) @ W.reshape(FN, -1).T + b, reshaped to
    (N, OH, OW, FN) and transposed to (N, FN, OH, OW).  Backward undoes the layout
    of dout to (N*OH*OW, FN), then db = column sums, dW = (col.T @ dout) back in
    W's shape, dx = col2im(dout @ col_W.T).

    >>> conv = Convolution(np.ones((1, 1, 2, 2)), np.array([0.5]))
    >>> conv.forward(np.arange(9.0).reshape(1, 1, 3, 3))[0, 0].tolist()
    [[8.5, 12.5], [20.5, 24.5]]
    >>> conv.backward(np.ones((1, 1, 2, 2)))[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    >>> conv.dW[0, 0].tolist(), conv.db.tolist()
    ([[8.0, 12.0], [20.0, 24.0]], [4.0])
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.x = self.col = self.col_W = self.dW = self.db = None

    def forward(self, x):
        FN, _, FH, FW = self.W.shape
        N, H, W = x.shape[0], x.shape[2], x.shape[3]
        OH = output_size(H, FH, self.stride, self.pad)
        OW = output_size(W, FW, self.stride, self.pad)
        self.x = x
        self.col = im2col(x, FH, FW, self.stride, self.pad)
        self.col_W = self.W.reshape(FN, -1).T
        out = self.col @ self.col_W + self.b
        return out.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = (self.col.T @ dout).T.reshape(FN, C, FH, FW)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    """Max pooling over pool_h x pool_w windows, channel by channel, through im2col.

    The arg-max of each window is cached (``np.argmax`` over the window in row-major
    order), and backward puts each dout entry at that position only; col2im then
    sums what overlapping windows send to the same pixel.

    Conventions (the book's): at a tie the FIRST maximum in window order (row by
    row, left to right) receives the whole gradient and the other equal entries
    get 0.  Padding is with zeros, which take part in the max: a padded window
    whose real entries are all negative has max 0 and sends its gradient into the
    padding, that is nowhere.

    >>> pool = Pooling(2, 2, stride=2)
    >>> pool.forward(np.array([[[[1.0, 3.0], [3.0, 2.0]]]])).tolist()
    [[[[3.0]]]]
    >>> pool.backward(np.array([[[[5.0]]]]))[0, 0].tolist()   # the first 3 gets it all
    [[0.0, 5.0], [0.0, 0.0]]
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.x = self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        OH = output_size(H, self.pool_h, self.stride, self.pad)
        OW = output_size(W, self.pool_w, self.stride, self.pad)
        # each im2col row holds C windows one after the other: one window per row here
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x = x
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        return out.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        pool_size = self.pool_h * self.pool_w
        dout = dout.transpose(0, 2, 3, 1)            # (N, OH, OW, C), the rows' order
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(dout.size), self.arg_max] = dout.ravel()
        N, OH, OW, C = dout.shape
        dcol = dmax.reshape(N * OH * OW, C * pool_size)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
