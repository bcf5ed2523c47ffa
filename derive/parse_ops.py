"""The operators the safe parser accepts (and what it says about the ones it refuses)."""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Callable

import sympy

from derive.parse_limits import _power, _Refuse
from derive.tensor import MatProd, shape_of


@dataclass(frozen=True)
class _Op:
    spelling: str
    build: Callable
    logical: bool = False               # operands are conditions, result is a condition


def _matmul(a, b):
    if not shape_of(a) or not shape_of(b):
        raise _Refuse("matrix product '@' needs arrays: declare their shapes (--shape x=N,D)")
    return MatProd(a, b)


_BINOPS = {
    ast.MatMult: _Op("@", _matmul),
    ast.Add: _Op("+", operator.add), ast.Sub: _Op("-", operator.sub),
    ast.Mult: _Op("*", operator.mul), ast.Div: _Op("/", operator.truediv),
    ast.Pow: _Op("**", _power),
    ast.BitAnd: _Op("&", sympy.And, logical=True), ast.BitOr: _Op("|", sympy.Or, logical=True),
}
_UNARYOPS = {
    ast.USub: _Op("-", operator.neg), ast.UAdd: _Op("+", operator.pos),
    ast.Invert: _Op("~", sympy.Not, logical=True),
}
_COMPARISONS = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge,
                ast.Eq: sympy.Eq, ast.NotEq: sympy.Ne}
_REFUSED_OPS = {     # operator or node type -> what to tell the user
    ast.FloorDiv: "floor division '//' is not supported", ast.Mod: "remainder '%' is not supported",
    ast.BitXor: "'^' is not supported (for powers write **)",
    ast.LShift: "shift '<<' is not supported", ast.RShift: "shift '>>' is not supported",
    ast.Not: "'not' is not supported; write ~(condition)",
    ast.And: "'and' is not supported; write (a) & (b)", ast.Or: "'or' is not supported; write (a) | (b)",
    **dict.fromkeys((ast.Is, ast.IsNot, ast.In, ast.NotIn),
                    "only the comparisons <, <=, >, >=, ==, != are supported"),
    ast.Lambda: "lambda is not allowed",
    **dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
                    "comprehensions and generators are not allowed"),
    ast.Subscript: "subscripts like x[0] are not allowed (only x.shape[i], W[idx] with idx an index array, and slices such as A[:, H:2*H])", ast.Starred: "starred '*' is not allowed",
    **dict.fromkeys((ast.List, ast.Dict, ast.Set), "list, dict and set literals are not allowed"),
    ast.JoinedStr: "f-strings are not allowed", ast.NamedExpr: "assignment ':=' is not allowed",
    ast.IfExp: "'a if c else b' is not allowed; write np.where(c, a, b)",
    **dict.fromkeys((ast.Await, ast.Yield, ast.YieldFrom), "'await' and 'yield' are not allowed"),
    ast.Tuple: "a tuple is allowed only as the whole formula, where several outputs are expected",
}
