"""Convolution and max pooling: the exported classes against book-style im2col classes.

Forward + backward, median of repeated runs in one process, at the sizes of issue 10:
(N, C, H, W, FN, FH) = (100, 1, 28, 28, 30, 5) and (32, 16, 32, 32, 32, 3), and 2×2
stride-2 max pooling on the first one's output. A ratio below 1 means the exported
class is faster. The reference classes follow the book's chapter 7 (written here).

    python bench/conv_bench.py [--repeat 15]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def im2col(x, fh, fw, stride=1, pad=0):
    """The book's im2col: (N·OH·OW, C·FH·FW) rows, one strided copy per window offset."""
    N, C, H, W = x.shape
    oh, ow = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, fh, fw, oh, ow))
    for y in range(fh):
        y_max = y + stride * oh
        for xx in range(fw):
            x_max = xx + stride * ow
            col[:, :, y, xx, :, :] = img[:, :, y:y_max:stride, xx:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * oh * ow, -1)


def col2im(col, shape, fh, fw, stride=1, pad=0):
    N, C, H, W = shape
    oh, ow = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    col = col.reshape(N, oh, ow, C, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(fh):
        y_max = y + stride * oh
        for xx in range(fw):
            x_max = xx + stride * ow
            img[:, :, y:y_max:stride, xx:x_max:stride] += col[:, :, y, xx, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class BookConvolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        oh = 1 + (H + 2 * self.pad - FH) // self.stride
        ow = 1 + (W + 2 * self.pad - FW) // self.stride
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        self.x, self.col, self.col_W = x, col, col_W
        return out.reshape(N, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class BookPooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        N, C, H, W = x.shape
        oh = 1 + (H + 2 * self.pad - self.pool_h) // self.stride
        ow = 1 + (W + 2 * self.pad - self.pool_w) // self.stride
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.arg_max = np.argmax(col, axis=1)
        self.x = x
        return np.max(col, axis=1).reshape(N, oh, ow, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape(dout.shape + (size,)).reshape(dout.shape[0] * dout.shape[1]
                                                          * dout.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


def _medians(ours, book, x, dout, repeat):
    """Medians of forward + backward, the two classes interleaved (a shared machine's
    load then weighs on both alike)."""
    times = ([], [])
    for _ in range(repeat):
        for layer, out in zip((ours, book), times):
            t = time.perf_counter()
            layer.forward(x)
            layer.backward(dout)
            out.append(time.perf_counter() - t)
    return statistics.median(times[0]), statistics.median(times[1])


def run(repeat: int = 15) -> list:
    from numeric.matrix_generated import Convolution, Pooling
    rng = np.random.default_rng(0)
    rows = []
    for N, C, H, FN, FH in ((100, 1, 28, 30, 5), (32, 16, 32, 32, 3)):
        x = rng.standard_normal((N, C, H, H))
        W, b = rng.standard_normal((FN, C, FH, FH)) * 0.1, rng.standard_normal(FN)
        ours, book = Convolution(W, b), BookConvolution(W, b)
        dout = rng.standard_normal(np.shape(book.forward(x)))
        np.testing.assert_allclose(ours.forward(x), book.forward(x), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours.backward(dout), book.backward(dout), rtol=1e-9, atol=1e-9)
        rows.append((f"convolution {(N, C, H, H, FN, FH)}", *_medians(ours, book, x, dout, repeat)))
        if FH == 5:
            y = ours.forward(x)
            p_ours, p_book = Pooling(2, 2, 2, 0), BookPooling(2, 2, 2, 0)
            pdout = rng.standard_normal(np.shape(p_book.forward(y)))
            np.testing.assert_allclose(p_ours.forward(y), p_book.forward(y))
            np.testing.assert_allclose(p_ours.backward(pdout), p_book.backward(pdout))
            rows.append((f"pooling 2x2 stride 2 on {y.shape}",
                         *_medians(p_ours, p_book, y, pdout, repeat)))
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args(argv)
    print(f"{'case':45} {'exported ms':>12} {'book ms':>10} {'ratio':>7}")
    for name, ours, book in run(args.repeat):
        print(f"{name:45} {ours * 1e3:12.2f} {book * 1e3:10.2f} {ours / book:7.2f}")


if __name__ == "__main__":
    main()
