"""Numbers for the expression language: NumPy evaluation at concrete sizes, random inputs.

The numeric cross-checks of tensor steps (and ``derive check``'s counterexamples for
tensor layers) evaluate expressions here with float64 arrays: a tree walk over the
SymPy data, each primitive by its NumPy spelling from the rule table. Nothing is
compiled or executed from text.

>>> import sympy as sp
>>> from derive.tensor import Arr, AxisSum, dims
>>> N, D = dims("N D")
>>> x = Arr("x", (N, D))
>>> evaluate(AxisSum(x**2, 0, 1), {"x": np.ones((2, 3)), "N": 2, "D": 3}).tolist()
[3.0, 3.0]
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .errors import DeriveError
from .rules import RULES, STRUCTURAL, UNARY
from .gather import Gather, ScatterAdd
from .tensor import Arr, shape_of

__all__ = ["evaluate", "concrete", "random_env"]


def concrete(shape, env) -> tuple:
    """A symbolic shape at the sizes in ``env`` (dimension name -> int)."""
    return tuple(int(_scalar(s, env)) for s in shape)


def _scalar(e, env):
    if e.is_Number:
        return float(e)
    return float(evaluate(e, env))


def _erf(v):
    from numeric.special import erf
    return erf(np.asarray(v, dtype=np.float64))


_OWN = {"gather": "gather", "scatter_add": "gather", "outputs": "outputs", "part": "outputs",
        "slice": "slices", "place": "slices", "concatenate": "slices", "windows": "windows",
        "fold": "windows", "einsum": "windows", "first_max": "windows"}


def _structural(e, env):
    op = STRUCTURAL[type(e)]
    if op in _OWN:                  # primitives whose module evaluates them (evaluate_np)
        from . import gather, outputs, slices, windows
        module = {"gather": gather, "outputs": outputs, "slices": slices,
                  "windows": windows}[_OWN[op]]
        return module.evaluate_np(e, evaluate, env)
    a = _value(e.args[0], env)
    if op == "matmul":
        return np.matmul(a, _value(e.args[1], env))
    if op == "transpose":
        return np.asarray(a).T
    if op in ("sum", "mean", "max"):
        fn = {"sum": np.sum, "mean": np.mean, "max": np.max}[op]
        return fn(a, axis=e.axes, keepdims=e.keepdims)
    if op == "broadcast":
        return np.broadcast_to(a, concrete(e.args[1:], env))
    if op == "expand_dims":
        return np.expand_dims(a, e.axes)
    if op == "reshape":
        return np.reshape(a, concrete(e.args[1:], env))
    raise DeriveError(f"no NumPy evaluation for {op}")


_RELATIONS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
              "==": np.equal, "!=": np.not_equal}


def evaluate(e, env: dict):
    """``e`` as a float64 NumPy value; names (and dimensions) from ``env``.

    Quiet: a sample point outside the domain (the square root of a negative sum) gives
    NaN, which the caller sees and skips, not a RuntimeWarning on the user's terminal."""
    with np.errstate(all="ignore"):
        return _value(e, env)


def _value(e, env: dict):
    if isinstance(e, (int, float)):
        return float(e)
    if e is sp.true or e is sp.false:
        return bool(e)
    if e.is_Number or isinstance(e, sp.NumberSymbol):
        return float(e)
    if isinstance(e, sp.Symbol):
        try:
            return env[e.name]
        except KeyError:
            raise DeriveError(f"no value for {e.name}") from None
    if type(e) in STRUCTURAL:
        return _structural(e, env)
    args = e.args
    if e.is_Add:
        return sum(_value(a, env) for a in args)
    if e.is_Mul:
        return math.prod((_value(a, env) for a in args), start=1.0)
    if e.is_Pow:
        base, ex = _value(args[0], env), _value(args[1], env)
        return np.power(np.asarray(base, dtype=np.float64), ex)
    if isinstance(e, sp.Piecewise):
        conds = [np.asarray(_value(c, env), dtype=bool) for _, c in args]
        vals = [_value(v, env) for v, _ in args]
        shape = np.broadcast_shapes(*(np.shape(v) for v in vals + conds))
        return np.select([np.broadcast_to(c, shape) for c in conds],
                         [np.broadcast_to(v, shape) for v in vals])
    if isinstance(e, sp.core.relational.Relational):
        return _RELATIONS[e.rel_op](_value(e.lhs, env), _value(e.rhs, env))
    if isinstance(e, sp.And):
        return np.logical_and.reduce([_value(a, env) for a in args])
    if isinstance(e, sp.Or):
        return np.logical_or.reduce([_value(a, env) for a in args])
    if isinstance(e, sp.Not):
        return np.logical_not(_value(args[0], env))
    if isinstance(e, sp.Max):
        return np.maximum.reduce([np.asarray(_value(a, env), float) for a in args])
    if isinstance(e, sp.Min):
        return np.minimum.reduce([np.asarray(_value(a, env), float) for a in args])
    if type(e) in UNARY:
        rule = RULES[UNARY[type(e)]]
        fn = _erf if rule.name == "erf" else getattr(np, rule.numpy)
        return fn(_value(args[0], env))
    if isinstance(e, sp.atanh):
        return np.arctanh(_value(args[0], env))
    raise DeriveError(f"no NumPy evaluation for {type(e).__name__}")


def random_env(names: dict, sizes: dict, rng, *, positive=(), rows_sum_to_one=()) -> dict:
    """Random float64 values for ``names`` (name -> shape) at ``sizes``.

    ``positive`` names are drawn in [0.5, 2]; a ``(name, axis)`` in ``rows_sum_to_one``
    is drawn non-negative and normalised to sum to 1 along that axis (an assumption such
    as "each row of t sums to 1" must hold at every sample).
    """
    env = dict(sizes)
    normal = {n: ax for n, ax in rows_sum_to_one}
    for name, shape in names.items():
        shp = concrete(shape, env)
        bound = getattr(shape, "bound", None)
        if bound is not None:        # an index array: row numbers of the array it indexes
            env[name] = rng.integers(0, int(_scalar(bound, env)), shp).astype(np.float64)
        elif name in normal:
            v = rng.uniform(0.1, 1.0, shp)
            env[name] = v / np.sum(v, axis=normal[name], keepdims=True)
        elif name in positive:
            env[name] = rng.uniform(0.5, 2.0, shp) if shp else float(rng.uniform(0.5, 2.0))
        else:
            env[name] = rng.standard_normal(shp) if shp else float(rng.standard_normal())
    return env


class IndexShape(tuple):
    """The shape of an index array, with ``bound``: the size of the axis it indexes
    (random values are drawn in ``range(bound)``)."""

    def __new__(cls, shape, bound):
        obj = super().__new__(cls, shape)
        obj.bound = bound
        return obj


def names_of(*exprs) -> dict:
    """name -> shape of every Symbol/Arr in ``exprs`` (dimensions excluded)."""
    out = {}
    bounds = {g.args[1].name: shape_of(g.args[0])[0] for e in exprs for g in e.atoms(Gather)
              if isinstance(g.args[1], Arr)}
    bounds.update({g.args[1].name: shape_of(g.args[2])[0] for e in exprs
                   for g in e.atoms(ScatterAdd) if isinstance(g.args[1], Arr)})
    for e in exprs:
        for s in e.free_symbols:
            if isinstance(s, Arr) and s.name in bounds:
                out[s.name] = IndexShape(s.shape, bounds[s.name])
            elif isinstance(s, Arr):
                out[s.name] = s.shape
            elif not (s.is_integer and s.is_nonnegative):    # sizes, strides, pads
                out[s.name] = ()
    return out
