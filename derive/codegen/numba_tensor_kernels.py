"""The numba helpers the fused tensor kernels (:mod:`.numba_tensor`) call: a row's sum
and maximum in interleaved lanes, and exp in the work dtype (float32's own, 8 lanes to a
vector where float64's has 4).

A row's lanes are of the row's dtype; a sum's lanes are added into a float64 total every
:data:`_BLOCK` elements, so a float32 row's sum is float32 over at most
``_BLOCK / _LANES`` terms a lane (a relative error of about 1e-6 at worst, where a float32
sum over a row of 1000 would be 1e-5). ``_k_exp_w(x)`` is ``_k_exp32`` for a float32
``x``, the module's float64 ``_k_exp`` otherwise (a numba ``overload``, chosen when the
kernel is compiled).

>>> "def _k_exp32(x):" in EXP_KERNELS and "@overload(_k_exp_w" in EXP_KERNELS
True
"""
from __future__ import annotations

__all__ = ["EXP_KERNELS", "ROW_KERNELS"]

_LANES = 8
_BLOCK = 256


def _row_kernel(op) -> str:
    init, step = {"sum": ("wt(0.0)", "a{k} += a_[j + {k}]"),
                  "max": ("wt(-np.inf)", "a{k} = a_[j + {k}] if a_[j + {k}] > a{k} else a{k}")}[op]
    lanes = [f"a{k}" for k in range(_LANES)]
    what = (f"in float64: {_LANES} interleaved lanes of the row's dtype\n    over each "
            f"block of {_BLOCK} (the loop vectorizes), the block's added into a float64 total"
            ) if op == "sum" else \
        f"in {_LANES} interleaved lanes of the row's dtype (the loop vectorizes)"
    lines = ['@njit(error_model="numpy", cache=True, fastmath={"contract"})',
             f"def _k_row_{op}(a_):",
             f'    """The {op} of a row {what}."""',
             "    wt = a_.dtype.type",
             "    n = a_.shape[0]",
             f"    m = n - n % {_LANES}"]
    pairs, top = [], lanes
    while len(top) > 1:       # pairwise
        pairs += [(a, f"{a} + {b}" if op == "sum" else f"max({a}, {b})")
                  for a, b in zip(top[::2], top[1::2])]
        top = top[::2]
    if op == "sum":             # whole blocks, then the rest's lanes, then its tail
        def lanes_over(indent, start, stop):
            return [f"{indent}{' = '.join(lanes)} = {init}",
                    f"{indent}for j in range({start}, {stop}, {_LANES}):",
                    *(f"{indent}    " + step.format(k=k) for k in range(_LANES)),
                    *(f"{indent}{a} = {p}" for a, p in pairs), f"{indent}total += a0"]
        lines = lines[:-1] + [f"    m = n - n % {_BLOCK}", "    total = 0.0",
                              f"    for b in range(0, m, {_BLOCK}):",
                              *lanes_over("        ", "b", f"b + {_BLOCK}"),
                              f"    r = n - n % {_LANES}", *lanes_over("    ", "m", "r"),
                              "    for j in range(r, n):", "        total += a_[j]",
                              "    return total"]
        return "\n".join(lines)
    lines += [f"    {' = '.join(lanes)} = {init}", f"    for j in range(0, m, {_LANES}):"]
    lines += ["        " + step.format(k=k) for k in range(_LANES)]
    lines += ["    for j in range(m, n):", "        " + step.format(k=0).replace("j + 0", "j")]
    lines += [f"    {a} = {p}" for a, p in pairs]
    lines.append("    return a0")
    return "\n".join(lines)


#: the row reductions the kernels call
ROW_KERNELS = _row_kernel("sum") + "\n\n\n" + _row_kernel("max")

#: exp in float32 (Cody-Waite reduction by ln 2 split in a 9-bit and a small part, so that
#: k*ln2_hi is exact; Taylor to degree 7 on |r| <= ln2/2, 5e-9 relative; 2**k as two powers
#: so that k = -150 reaches the subnormals) and the choice by the argument's type
EXP_KERNELS = '''@intrinsic
def _from_bits32(typingctx, bits):
    """The float32 whose bits are the int32 ``bits``."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))
    return sig, codegen


@njit(inline="always", error_model="numpy", cache=True, fastmath={"contract"})
def _k_exp32(x):
    """exp(x) of a float32, in float32; inf above 88.72284, 0 below -103.98"""
    f = np.float32
    xc = f(-104.0) if x < f(-104.0) else (f(88.8) if x > f(88.8) else x)
    kf = (xc*f(1.4426950408889634) + f(12582912.0)) - f(12582912.0)
    r = (xc - kf*f(0.693359375)) - kf*f(-2.1219444005469057e-04)
    k = np.int32(kf)
    k1 = k >> np.int32(1)
    s1 = _from_bits32((k1 + np.int32(127)) << np.int32(23))
    s2 = _from_bits32((k - k1 + np.int32(127)) << np.int32(23))
    r2 = r*r
    p = (f(0.5) + r*f(1.0 / 6.0)) + r2*((f(1.0 / 24.0) + r*f(1.0 / 120.0))
                                        + r2*(f(1.0 / 720.0) + r*f(1.0 / 5040.0)))
    y = (((f(1.0) + r) + r2*p)*s1)*s2
    y = f(np.inf) if x > f(88.72284) else y
    return y if x == x else x


def _k_exp_w(x):
    """exp(x) in the type of ``x``: float32's own kernel for float32 (the overload below)."""
    return math.exp(x)


def _overload_exp_w():
    """Registers the choice of ``_k_exp_w`` by the argument's type (numba's overload; this
    module's header imports only what its elementwise loops use)."""
    from numba.extending import overload

    @overload(_k_exp_w, inline="always")
    def _k_exp_w_of(x):
        if x == types.float32:
            return lambda x: _k_exp32(x)
        return lambda x: _k_exp(x)


_overload_exp_w()'''
