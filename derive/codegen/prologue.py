"""The lines around an elementwise layer's code that take its arrays in and give its
results back: the inputs made arrays of one floating dtype and, when there are several,
broadcast to one shape (:func:`prologue`); the results in the input's shape
(:func:`reshaped`); each gradient of a broadcast input summed back to that input's shape,
as NumPy's broadcasting rules ask and the numba module does (:func:`summed_back`,
:func:`returns_summed_back`).

>>> for line in prologue(["x", "t"], ""):
...     print(line)
if type(x) is np.ndarray is type(t) and (ft := x.dtype) is t.dtype and ft.kind == "f" and x.shape == t.shape and x.ndim:
    shape = shapes = None  # used as they are: no conversion, no reshape
else:
    shape, shapes, x, t = _broadcast(x, t)
>>> returns_summed_back(["        return dx, dt"], [0, 1])[-1]
'        return _unbroadcast(self.shapes, (0, 1), (dx, dt))'
"""
from __future__ import annotations

import re

__all__ = ["prologue", "reshaped", "returns_summed_back", "source_tuple", "summed_back"]


def _targets(names) -> str:
    names = list(names)
    return f"{names[0]}," if len(names) == 1 else ", ".join(names)


def prologue(names, indent: str, shapes: bool = True, blocked: str | None = None) -> list:
    """Lines that make ``names`` arrays of one floating dtype, at least 1-d (``_as_arrays``),
    and set ``shape`` to their (broadcast) shape for the results, or to None when they
    already are such arrays of one shape: then they are used as they are, and nothing
    is reshaped (the per-call cost that counts at a thousand elements). Several names are
    broadcast to one shape (``_broadcast``); with ``shapes``, their own shapes are kept in
    ``shapes`` (None when all are that shape), for the gradients (:func:`summed_back`).
    ``blocked``, a call (``"_blocked(gelu_backward, (dout, x), ())"``): arrays used as they
    are, of two blocks or more, return it instead (:mod:`derive.codegen.blocking`)."""
    first, rest = names[0], names[1:]
    # one chain per property (measured: 0.51 -> 0.42 us for three arrays at 1e3, where the
    # ufunc takes ~0.6); dtypes by identity: NumPy's built-in dtypes are singletons, and
    # an equal dtype that is another object only takes the converting path
    test = [" is ".join([f"type({first})", "np.ndarray", *[f"type({n})" for n in rest]])]
    if rest:
        ft = next(v for v in ("ft", "ft_", "ft__") if v not in names)
        test.append(" is ".join([f"({ft} := {first}.dtype)", *[f"{n}.dtype" for n in rest]])
                    + f' and {ft}.kind == "f"')
        test.append(" == ".join(f"{n}.shape" for n in names))
    else:
        test.append(f'{first}.dtype.kind == "f"')
    test.append(f"{first}.ndim")
    block = [f"{indent}    if {first}.size >= _BLOCKED_MIN:",
             f"{indent}        return {blocked}"] if blocked else []
    if rest:        # several arrays: broadcast to one shape (their own shapes kept)
        return [f"{indent}if {' and '.join(test)}:", *block,
                f"{indent}    shape{' = shapes' if shapes else ''} = None  # used as they are: "
                "no conversion, no reshape",
                f"{indent}else:",
                f"{indent}    shape, {'shapes' if shapes else '_'}, {', '.join(names)} = "
                f"_broadcast({', '.join(names)})"]
    return [f"{indent}if {' and '.join(test)}:", *block,
            f"{indent}    shape = None          # used as they are: no conversion, no reshape",
            f"{indent}else:",
            f"{indent}    shape = np.shape({first})",
            f"{indent}    {_targets(names)} = _as_arrays({', '.join(names)})"]


def source_tuple(items) -> str:
    """Python source of a tuple of ``items`` (names or numbers): ``()``, ``(a,)``, ``(a, b)``."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(map(str, items))})"


def summed_back(grads, which, shapes: str, indent: str) -> list:
    """Lines summing ``grads`` (of the inputs numbered ``which`` in ``shapes``) over the
    axes their inputs were broadcast along (:func:`_unbroadcast`), when some were."""
    if not grads:
        return []
    return [f"{indent}if {shapes} is not None:",
            f"{indent}    {', '.join(grads)} = _unbroadcast({shapes}, "
            f"{source_tuple(which)}, {grads[0] if len(grads) == 1 else '(' + ', '.join(grads) + ')'})"]


def reshaped(names, indent: str) -> list:
    """``names`` back in the input's shape where :func:`prologue` converted the inputs."""
    if not names:
        return []
    return [f"{indent}if shape is not None:",
            f"{indent}    {', '.join(names)} = "
            f"{', '.join(f'{n}.reshape(shape)' for n in names)}"]


def returns_summed_back(lines, which) -> list:
    """A backward's ``return R`` lines, each returning R as it is when forward broadcast
    nothing, else summed back to the inputs' shapes (:func:`_unbroadcast`)."""
    out = []
    for line in lines:
        m = re.match(r"^(\s*)return (.+)$", line)
        if m is None:
            out.append(line)
            continue
        ind, r = m.groups()
        out += [f"{ind}if self.shapes is None:", f"{ind}    return {r}",
                f"{ind}return _unbroadcast(self.shapes, {source_tuple(which)}, ({r}))"]
    return out
