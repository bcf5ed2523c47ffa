"""The Python helpers every generated numba module holds (copied in as source): each
class method and function binds its inputs' shape, floating dtype, loop dtype and flat
arrays (:func:`_one`, :func:`_many`), takes its result buffers (:func:`_empty`, with a
pool of large ones) and hands the results back in the input's shape and dtype
(:func:`_done`). The prologue is the whole cost of a call at small sizes: about 2 us for
one input (4 us before the short cuts for contiguous native float arrays).

``POOL_MIN_BYTES``, ``POOL_SIZE``, ``_POOL`` and ``_POOL_LOCK`` are the generated
module's globals (its header defines them).
"""
from __future__ import annotations

import inspect
import sys  # noqa: F401  (the helpers' sys.getrefcount, in the generated module)

import numpy as np

from .runtime import _floating, _summed_to

__all__ = ["runtime_source"]


def _flat(a, shape, dtype=None):
    """``a`` broadcast to ``shape`` as one contiguous 1-D array of ``dtype`` (a view of ``a``
    when it already is one)."""
    if type(a) is np.ndarray and a.shape == shape and (
            dtype is None or a.dtype is dtype or a.dtype == dtype) and a.flags.c_contiguous:
        return a if a.ndim == 1 else a.reshape(-1)
    a = np.asarray(a)
    if a.shape != shape:
        a = np.broadcast_to(a, shape)
    return np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def _one(a):
    """``shape, dtype, work, a_`` of one input, as ``np.shape``, :func:`_floating`,
    :func:`_work` and :func:`_flat` give them; a contiguous native float64 or float32
    array (the common case) takes a short cut: about 1 us less a call."""
    if type(a) is np.ndarray:
        d = a.dtype
        c = d.char
        if (c == "d" or c == "f") and d.isnative and a.flags.c_contiguous:
            return a.shape, d, d, (a if a.ndim == 1 else a.reshape(-1))
    shape, dtype, work, (flat,) = _many(a)
    return shape, dtype, work, flat


def _many(*values):
    """``shape, dtype, work`` and the flat arrays of several inputs, as :func:`_shape_of`,
    :func:`_floating`, :func:`_work` and :func:`_flat` give them; contiguous arrays of one
    shape and one native float64 or float32 dtype take a short cut."""
    first = values[0]
    if type(first) is np.ndarray:
        d, s = first.dtype, first.shape
        c = d.char
        if (c == "d" or c == "f") and d.isnative:
            for v in values:
                if type(v) is not np.ndarray or v.shape != s or (
                        v.dtype is not d and v.dtype != d) or not v.flags.c_contiguous:
                    break
            else:
                return s, d, d, [v if v.ndim == 1 else v.reshape(-1) for v in values]
    shape = _shape_of(*values)
    dtype = _floating(*values)
    work = _work(dtype)
    return shape, dtype, work, [_flat(v, shape, work) for v in values]


def _shape_of(*values):
    """``np.broadcast_shapes`` of the values' shapes; at once when they are arrays of one
    shape (``np.broadcast_shapes`` takes about 2.5 us)."""
    first = values[0]
    if type(first) is np.ndarray:
        s = first.shape
        for v in values[1:]:
            if type(v) is not np.ndarray or v.shape != s:
                break
        else:
            return s
    return np.broadcast_shapes(*(np.shape(v) for v in values))


def _shaped(a, shape):
    """``a.reshape(shape)``, or ``a`` itself when it has that shape already."""
    return a if a.shape == shape else a.reshape(shape)


def _empty(n, dtype):
    """``np.empty(n, dtype)``; from :data:`POOL_MIN_BYTES` up, the memory of an array
    returned earlier that nobody holds any more (not even through a view) is reused,
    already paged in: a fresh 80 MB array (1e7 float64) page-faults in at about the cost of
    the loop that fills it. An 8 MB one (1e6 float64) does not fault (malloc reuses it) but
    lands elsewhere while the pooled one is likely still in cache: forward+backward of
    square/hardswish/leaky_relu ran 0.4-0.75x the time with other calls between. Up to :data:`POOL_SIZE` such buffers are kept;
    :func:`free_buffers` drops them."""
    if type(dtype) is type or type(dtype) is str:     # np.bool_, "f8": not yet a dtype
        dtype = np.dtype(dtype)
    nbytes = n * dtype.itemsize
    if nbytes < POOL_MIN_BYTES:
        return np.empty(n, dtype)
    with _POOL_LOCK:
        for i in range(len(_POOL) - 1, -1, -1):     # the most recently used first: warm
            buf = _POOL[i]
            # held by _POOL, buf and getrefcount's argument only: nobody else has it
            if buf.nbytes == nbytes and sys.getrefcount(buf) == 3:
                del _POOL[i]
                _POOL.append(buf)             # the most recently used last
                return buf.view(dtype)
        buf = None
        if len(_POOL) >= POOL_SIZE:
            free = [i for i in range(len(_POOL)) if sys.getrefcount(_POOL[i]) == 2]
            if not free:
                return np.empty(n, dtype)
            del _POOL[free[0]]                # the least recently used free one
        buf = np.empty(nbytes, np.uint8)
        _POOL.append(buf)
        return buf.view(dtype)


def free_buffers():
    """Drop the buffers :func:`_empty` keeps for reuse (arrays still in use stay valid)."""
    with _POOL_LOCK:
        _POOL.clear()


def _work(dtype):
    """The dtype the loops run in: float32 and float64 as they are, others in float64."""
    c = dtype.char                    # (a native dtype: _floating's)
    return dtype if c == "d" or c == "f" else np.dtype(np.float64)


def _done(a, shape, dtype, to=None):
    """A loop's 1-D result in ``shape`` and ``dtype``; with ``to``, the gradient of an input
    of shape ``to`` that was broadcast to ``shape``: summed over the broadcast axes."""
    if a.dtype is not dtype and a.dtype != dtype:
        a = a.astype(dtype)
    if a.shape != shape:
        a = a.reshape(shape)
    return a if to is None else _summed_to(a, to)


def runtime_source() -> str:
    """The helpers' source, as the generated module holds it."""
    parts = [inspect.getsource(f) for f in (_floating, _flat, _one, _many, _shape_of, _shaped, _empty,
                                             free_buffers, _work, _summed_to, _done)]
    return "\n\n".join(p.rstrip() for p in parts) + "\n"
