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
        return MatrixCheck("refuted", "values", f"values differ: {bad}", expected.numpy())
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


def _numeric(layer, mine, expected):
    rng = np.random.default_rng(7)
    for sizes in NUMERIC_SIZES:
        env = numeric.random_env(layer, sizes, rng)
        out_shape = numeric.concrete(layer.shapes()[layer.output], sizes)
        env["dout"] = rng.standard_normal(out_shape) if out_shape else float(rng.standard_normal())
        for alias, target in layer.aliases.items():
            env[alias] = env[target]
        u, v = np.broadcast_arrays(*(np.asarray(t.evaluate(env), float) for t in (mine, expected)))
        if u.shape != v.shape or not np.allclose(u, v, rtol=1e-9, atol=1e-12):
            where = np.unravel_index(np.argmax(np.abs(u - v)), u.shape) if u.shape else ()
            at = ", ".join(f"{k}={s}" for k, s in sizes.items())
            return (f"at sizes {at}, random inputs: entry {tuple(int(i) for i in where)} is "
                    f"{u[where]:.6g}, expected {v[where]:.6g}")
    return None
