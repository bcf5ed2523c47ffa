"""Check a user's NumPy backward line for a matrix layer: proven, checked, or refuted.

>>> check_matrix("affine", "np.dot(x.T, dout)", "W").verdict
'proven'
>>> r = check_matrix("affine", "np.dot(dout.T, x)", "W")
>>> r.verdict, r.reason
('refuted', 'shape')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DeriveError
from .. import index
from . import numeric, specs
from .derivation import _free, derive_matrix
from .parse import parse_matrix
from .tensor import ShapeError, show_shape

NUMERIC_SIZES = ({"N": 1, "D": 2, "M": 3, "C": 3}, {"N": 3, "D": 4, "M": 2, "C": 4},
                 {"N": 5, "D": 3, "M": 4, "C": 2})


@dataclass
class MatrixCheck:
    verdict: str          # proven | checked | refuted
    reason: str           # "" | "shape" | "values" | "parse"
    message: str
    expected: str

    def __str__(self):
        return f"{self.verdict}: {self.message}"


def check_matrix(name: str, text: str, wrt: str) -> MatrixCheck:
    """Is ``text`` the gradient of layer ``name`` with respect to ``wrt``?"""
    layer = specs.get(name)
    if wrt not in layer.inputs:
        raise DeriveError(f"--wrt {wrt}: {name} has inputs {', '.join(layer.inputs)}")
    d = derive_matrix(name, wrt)
    expected = d.tensors[wrt]
    want = layer.inputs[wrt]
    try:
        mine = parse_matrix(text, layer)
    except ShapeError as exc:
        return MatrixCheck("refuted", "shape", f"shape error for all sizes: {exc}", expected.numpy())
    if tuple(mine.shape) != tuple(want) and not (mine.shape == () and False):
        return MatrixCheck("refuted", "shape",
                           f"shape mismatch: the line is {show_shape(mine.shape)} but d{wrt} must be "
                           f"{show_shape(want)} (like {wrt})", expected.numpy())
    idx = _free(want)
    rules = layer.rule_table(("assumption",))
    a = index.expand_cached(mine.element(idx), layer.definitions())
    b = index.expand_cached(expected.element(idx), layer.definitions())
    bad = _numeric(layer, mine, expected)
    if bad:
        if _near_miss(layer, mine, expected, _ones) == "equal" and not _uses_dout(layer, mine):
            return MatrixCheck("refuted", "dout", DOUT_ONE, expected.numpy())
        factor = _near_miss(layer, mine, expected, _random)
        extra = f"{factor}; " if factor != "unrelated" else ""
        return MatrixCheck("refuted", "values", f"values differ: {extra}{bad}", expected.numpy())
    try:
        same = index.equal(a, b, rules)
    except DeriveError:
        same = False
    assume = [r.text for r in layer.rules if r.kind == "assumption"]
    if same:
        extra = f", assuming {'; '.join(assume)}" if assume else ""
        return MatrixCheck("proven", "", f"equal to {expected.numpy()} for all shapes "
                           f"(index notation, symbolic N, D, M, C){extra}; "
                           f"numeric cross-check at {len(NUMERIC_SIZES)} sizes", expected.numpy())
    sizes = "; ".join(",".join(f"{k}={v}" for k, v in s.items()) for s in NUMERIC_SIZES)
    return MatrixCheck("checked", "", f"agrees with {expected.numpy()} numerically at sizes {sizes} "
                       "(random points) but was not proven symbolically", expected.numpy())


DOUT_ONE = ("your formula leaves out dout; it is correct when dout = 1, as for a final loss "
            "(multiply by dout to pass the upstream gradient on)")


def _random(rng, shape):
    return rng.standard_normal(shape) if shape else float(rng.standard_normal())


def _ones(rng, shape):
    return np.ones(shape) if shape else 1.0


def _values(layer, mine, expected, make_dout, scale=1.0):
    """(sizes, yours, expected) at each of NUMERIC_SIZES, random inputs, dout from make_dout."""
    rng = np.random.default_rng(7)
    for sizes in NUMERIC_SIZES:
        env = numeric.random_env(layer, sizes, rng)
        out_shape = numeric.concrete(layer.shapes()[layer.output], sizes)
        env["dout"] = make_dout(rng, out_shape) * scale
        for alias, target in layer.aliases.items():
            env[alias] = env[target]
        u, v = np.broadcast_arrays(*(np.asarray(t.evaluate(env), float) for t in (mine, expected)))
        yield sizes, u, v


def _uses_dout(layer, mine) -> bool:
    once = [u for _, u, _ in _values(layer, mine, mine, _random)]
    twice = [u for _, u, _ in _values(layer, mine, mine, _random, 2.0)]
    return any(not np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(once, twice))


def _near_miss(layer, mine, expected, make_dout) -> str:
    """"equal", "it has the wrong sign", "it is 2 times the expected gradient" or "unrelated"."""
    from fractions import Fraction
    factor = None
    try:
        for _, u, v in _values(layer, mine, expected, make_dout):
            if u.shape != v.shape:
                return "unrelated"
            if factor is None and np.any(np.abs(v) > 1e-9):
                factor = float(np.sum(u * v) / np.sum(v * v))
            if not np.allclose(u, (factor if factor is not None else 1.0) * v,
                               rtol=1e-9, atol=1e-12):
                return "unrelated"
    except (ValueError, ArithmeticError):
        return "unrelated"
    if factor is None or abs(factor - 1) < 1e-9:
        return "equal"
    if abs(factor + 1) < 1e-9:
        return "it has the wrong sign: it is minus the expected gradient"
    nice = Fraction(factor).limit_denominator(100)
    shown = str(nice) if abs(float(nice) - factor) < 1e-9 * abs(factor) else f"{factor:.6g}"
    return f"it is {shown} times the expected gradient"


def _numeric(layer, mine, expected):
    for sizes, u, v in _values(layer, mine, expected, _random):
        if u.shape != v.shape or not np.allclose(u, v, rtol=1e-9, atol=1e-12):
            where = np.unravel_index(np.argmax(np.abs(u - v)), u.shape) if u.shape else ()
            at = ", ".join(f"{k}={s}" for k, s in sizes.items())
            return (f"at sizes {at}, random inputs: entry {tuple(int(i) for i in where)} is "
                    f"{u[where]:.6g}, expected {v[where]:.6g}")
    return None
