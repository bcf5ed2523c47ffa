"""Which NumPy backward functions run block by block (``_blocked`` in the generated module).

Each NumPy call is a pass over whole arrays. A function of many passes at 1e5 elements
and up streams every temporary through memory, and at the benchmark's fixed mmap
threshold (numeric.backend_bench.FIXED_MALLOC_ENV) each fresh one page-faults in.
Block by block (16000 elements) the temporaries stay in the cache. The measured effect,
``<layer>_backward`` ÷ the book's backward at 1e5/1e6/1e7 (bench/numpy_bench.py's
setting, one core):

* gelu: 2.7/3.6/6.6 -> 1.6/1.6/1.5;
* mish: 1.8/2.0/2.4 -> 1.1/1.2/1.1;
* hardswish: 1.0/1.2/1.1 -> 0.8/0.8/0.7.

A function of few passes loses instead: tanhshrink, three passes, goes from
1.45 -> 1.86 at 1e5. Each block costs its calls' overhead, and each gradient one copy
out of the block. So :func:`worth_blocking` counts passes:

>>> passes(["tmp = np.square(x)", "np.multiply(tmp, dout, out=tmp)", "m = (x > 0.0) & (x < 6.0)"])
5
>>> passes(["s = _sigmoid(x)", "np.multiply(s, dout, out=s)"]), passes(["e = erf(x)"])
(5, 25)
>>> worth_blocking(["tmp = np.square(x)"] * 6, 1), worth_blocking(["tmp = np.square(x)"] * 7, 1)
(False, True)
>>> worth_blocking(["tmp = np.square(x)"] * 9, 2)
False
"""
from __future__ import annotations

import re

__all__ = ["passes", "worth_blocking"]

# passes a helper makes (erf: the table's Horner steps, each a gather and two ufuncs)
_HELPER_PASSES = {"erf": 25, "_sigmoid": 4, "_sigmoid2": 7, "_softplus": 6}
_CALL = re.compile(r"\b(np\.\w+|_clip|erf|_sigmoid2?|_softplus)\(")
_ELEMENTWISE_OPERATOR = re.compile(r" (?:[<>]=?|==|!=|&|\|) |~")

# measured (module docstring): one gradient gains from 7 passes on (selu, hardsigmoid:
# 7; celu, 5, and elu, 4, lose), and each further gradient costs a copy per block (hinge,
# 8 passes and two gradients, gains 0-0.2; bce, 10, gains 0.05-0.45)
MIN_PASSES = 7
PER_GRADIENT = 3


def passes(lines) -> int:
    """The passes over whole arrays the lowered ``lines`` make: NumPy calls, helpers
    (:data:`_HELPER_PASSES`) and elementwise operators (comparisons, ``&``, ``~``)."""
    n = 0
    for line in lines:
        for m in _CALL.finditer(line):
            n += _HELPER_PASSES.get(m.group(1), 1)
        n += len(_ELEMENTWISE_OPERATOR.findall(line))
    return n


def worth_blocking(lines, gradients: int) -> bool:
    """Whether a backward function of ``lines`` and ``gradients`` outputs runs faster
    block by block at 1e5 elements and more (module docstring)."""
    return passes(lines) >= MIN_PASSES + PER_GRADIENT * (gradients - 1)
