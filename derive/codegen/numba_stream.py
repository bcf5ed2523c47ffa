"""Nontemporal ("streaming") stores for the numba loops whose arrays are far larger than the
caches.

An ordinary store to a line that is not in cache first reads the line (read-for-ownership):
a loop ``g = dout*local`` over 1e7 float64 moves 80 MB more than it needs to. A store with
LLVM's ``!nontemporal`` metadata writes the line to memory without reading it (and without
evicting what is in cache). Measured on an AMD EPYC (Zen 4, 1 MiB L2 a core, 32 MiB L3),
one thread, loops alone at 1e7 float64: ``g = dout*local`` 14.8 -> 9.0 ms, square's forward
10.5 -> 7.0 ms, sigmoid's backward from out 11.2 -> 7.7 ms. But a loop that computes much
per element gets *slower* with them: softplus's forward 24.7 -> 45 ms, tanh's 17.7 -> 20 ms,
``dout*sigmoid(x)`` 16.4 -> 27.4 ms, softsign's backward (a division) 11.1 -> 11.6 ms,
hardswish's (selects) no better, relu's (a bool mask) 7.3 -> 9.6 ms. So only the loops of
additions, multiplications and ``abs`` with float results get a streaming variant
(:func:`streams`): every class's backward ``dout*local``, the functions' backward of a few
operations (sigmoid's, tanh's, exp's, square's), the forward of mul, add and square.
Forward+backward of the classes (the module's calls, pooled buffers), the time with
streaming over the time without, at 1e7 float64 (three runs) and 1e6 (two): tanh
0.86/0.84/0.86x and 0.85/0.81x, softplus 0.90/0.93/0.92x and 0.88/0.91x, gelu
0.91/0.91/0.91x and 0.92/0.88x, mish 0.94/0.92/0.94x and 0.87/0.90x, square
0.69/0.74/0.69x and 0.83/0.90x; 1e7 float32: tanh 0.94x, softplus 0.96x, gelu 0.98x, mish
0.96x, square 0.79x; a chain tanh -> softplus -> gelu and back 0.91x at 1e7, 0.95x at 1e6.

How: :data:`STREAM_SOURCE` (copied into the module) has the intrinsic ``_store_nt(a, i, v)``,
``a[i] = v`` as a nontemporal store. LLVM's loop vectorizer keeps such a store only if the
target has a nontemporal vector store of its alignment (x86's need the address aligned to
16 bytes or more; unaligned, the loop is not vectorized, with one ``movntsd`` per element):
the store claims 16 bytes, the alignment of NumPy's allocations, so the vectorized loop
writes ``vmovntpd`` of 16 bytes (a 64-byte vector as four: the write-combining buffer joins
them into one line; as fast as 64-byte ones, measured) and the scalar remainder ``movntsd``,
which needs no alignment. The claim must hold where the vector stores land: the streaming
loop first runs the ordinary loop on the elements before the results' first 16-byte
boundary (``_nt_head``: none when the results are aligned, all of them when they are not
aligned alike), then streams the rest as views from 0 (from an index ``head`` numba's
wraparound of a possibly negative index makes LLVM gather the loads). ``_sfence`` at the
end orders the weakly ordered stores before what the caller does next (another thread
reading the results). The ``prange`` loops (``PARALLEL``) keep ordinary stores: their chunks
start anywhere.

A call streams when each result is at least :data:`STREAM_MIN_BYTES` (smaller ones are still
in cache for the next loop, and streaming them costs):

>>> "def _store_nt(" in STREAM_SOURCE and "STREAM_MIN_BYTES = " in STREAM_SOURCE
True
>>> import sympy as sp
>>> x, dout, local = sp.symbols("x dout local")
>>> streams([("g", dout*local)], ()), streams([("g", dout/(1 + abs(x))**2)], ())
(True, False)
"""
from __future__ import annotations

import sympy as sp

__all__ = ["STREAM_SOURCE", "stream_call", "streams"]

STREAM_SOURCE = '''
# The loops of a few operations per element (their `_nt` variants) write each result with
# nontemporal stores from STREAM_MIN_BYTES up: measured on an AMD EPYC (Zen 4, 32 MiB L3),
# one thread, forward+backward of tanh with every call streaming, at 1e5/2e5/5e5 float64
# took 1.03-1.07/1.02-1.06/0.88-0.90x the time of ordinary stores, square's 1.9/1.8/0.92-1.13x;
# from 4 MiB up (5.3e5/7e5/1e6/1e7 float64) tanh 0.87/0.79-0.92/0.81-0.85/0.84-0.86x,
# square 0.84-1.08/0.84-0.93/0.83-0.90/0.69-0.74x.
STREAM_MIN_BYTES = 4 << 20


@intrinsic
def _store_nt(typingctx, a, i, value):
    """``a[i] = value`` as a nontemporal store (claiming 16-byte alignment: see _nt_head)."""
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"
            and isinstance(i, types.Integer)):
        return None
    sig = types.void(a, i, value)

    def codegen(context, builder, signature, args):
        aty, ity, vty = signature.args
        data = context.make_array(aty)(context, builder, args[0]).data
        ptr = builder.gep(data, [context.cast(builder, args[1], ity, types.intp)], inbounds=True)
        v = context.cast(builder, args[2], vty, aty.dtype)
        store = builder.store(context.data_model_manager[aty.dtype].as_data(builder, v), ptr,
                              align=16)
        store.set_metadata("nontemporal", builder.module.add_metadata(
            [context.get_constant(types.int32, 1)]))
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _address(typingctx, a):
    """The address of ``a``'s first element."""
    if not isinstance(a, types.Array):
        return None
    sig = types.intp(a)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.ptrtoint(data, context.get_value_type(types.intp))
    return sig, codegen


@intrinsic
def _sfence(typingctx):
    """An sfence: the nontemporal stores before it are seen before any store after it."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.x86.sse.sfence", fnty=ir.FunctionType(
            ir.VoidType(), []))
        builder.call(fn, [])
        return context.get_dummy_value()
    return sig, codegen


@njit(cache=True)
def _nt_head(n, *results):
    """How many of the n elements come before the results' first 16-byte boundary (so that
    a streaming loop from there stores every vector on a boundary): n (all of them, none
    streamed) when the results are not all the same distance from one."""
    off = _address(results[0]) % 16
    for a in results:
        if _address(a) % 16 != off or off % a.itemsize != 0:
            return n
    return min(n, (16 - off) % 16 // results[0].itemsize)
'''


def _plain(e, scalars) -> bool:
    """Whether ``e`` is additions, multiplications, ``abs``, whole powers and reciprocals of
    parameters (``inv_alpha``, computed before the loop) only: few operations per element."""
    for a in sp.preorder_traversal(e):
        if a.is_Pow:
            if not ((a.exp.is_Integer and a.exp > 0)
                    or (a.exp == -1 and a.base.is_Symbol and a.base.name in scalars)):
                return False
        elif not (a.is_Symbol or a.is_Number or a.is_Add or a.is_Mul or isinstance(a, sp.Abs)):
            return False
    return True


def streams(results, booleans, scalars=()) -> bool:
    """Whether a loop storing ``results`` (``(name, expr)``; bool inputs ``booleans``) gets
    a streaming variant: only a loop of few operations per element with float results,
    no bool input, gets faster with nontemporal stores (measured: see the module)."""
    return not booleans and all(_plain(e, set(scalars)) and not e.is_Boolean
                                for _, e in results)


def stream_call(loop: str, args, itemsize: str = "work.itemsize") -> str:
    """The call of ``loop`` (with ``_p`` and ``_nt`` variants): the ``prange`` one with
    ``PARALLEL``, else the streaming one when its results (of ``n`` elements of ``itemsize``
    bytes) are at least ``STREAM_MIN_BYTES`` each."""
    return (f"({loop}_p if PARALLEL else {loop}_nt if n*{itemsize} >= STREAM_MIN_BYTES "
            f"else {loop})({', '.join(args)})")
