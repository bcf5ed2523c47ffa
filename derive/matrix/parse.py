"""Safe parser for NumPy matrix lines: ``np.dot(x.T, dout)``, ``np.sum(dout, axis=0)``.

Like :mod:`derive.parse`, the text goes through ``ast.parse(..., mode="eval")``
and a whitelist; nothing is evaluated.  The result is a
:class:`~derive.matrix.tensor.Tensor` whose shape is checked as it is built.

>>> from .specs import get
>>> parse_matrix("np.dot(x.T, dout)", get("affine")).numpy()
'x.T @ dout'
>>> parse_matrix("__import__('os')", get("affine"))
Traceback (most recent call last):
...
derive.errors.ParseError: column 1: name '__import__' is not allowed
"""
from __future__ import annotations

import ast
from fractions import Fraction

import sympy as sp

from ..errors import ParseError
from . import tensor as tz
from .specs import SYMBOLS

MAX_CHARS, MAX_NODES = 1000, 200
_PREFIXES = ("np.", "numpy.", "")
_MATMUL = {"dot", "matmul"}
_ELEMENTWISE = {"exp": tz.exp, "log": tz.log, "sqrt": tz.sqrt}
_REDUCE = {"sum": False, "mean": True}


def _fn_name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy"):
        return node.attr
    return None


class _Walker:
    def __init__(self, text, names):
        self.text, self.names = text, names

    def error(self, msg, node=None):
        col = node.col_offset + 1 if node is not None and hasattr(node, "col_offset") else None
        return ParseError(msg, column=col, text=self.text)

    def walk(self, node):
        try:
            return self._walk(node)
        except tz.ShapeError as exc:
            raise exc
        except (TypeError, ValueError) as exc:
            raise self.error(f"cannot build: {exc}", node) from None

    def _walk(self, node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.error("only numbers are allowed as constants", node)
            f = Fraction(ast.get_source_segment(self.text, node) or repr(node.value))
            return tz.Scalar(sp.Rational(f.numerator, f.denominator))
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise self.error(f"name '{node.id}' is not allowed", node)
            if node.id in self.names:
                return self.names[node.id]
            raise self.error(f"unknown name '{node.id}' (known: {', '.join(sorted(self.names))})", node)
        if isinstance(node, ast.Attribute):
            if node.attr == "T":
                return tz.Transpose(self.walk(node.value))
            raise self.error(f"attribute '.{node.attr}' is not allowed (only .T)", node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = self.walk(node.left), self.walk(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.Div: lambda: a / b, ast.MatMult: lambda: tz.MatMul(a, b)}
            if isinstance(node.op, ast.Pow):
                if not isinstance(b, tz.Scalar) or not b.value.is_Rational or abs(b.value) > 8:
                    raise self.error("only small constant powers are allowed", node.right)
                return tz.Pow(a, b.value)
            if type(node.op) not in ops:
                raise self.error(f"operator {type(node.op).__name__} is not allowed", node)
            return ops[type(node.op)]()
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.error(f"{type(node).__name__} is not allowed", node)

    def call(self, node):
        name = _fn_name(node.func)
        method = isinstance(node.func, ast.Attribute) and name is None and node.func.attr in _REDUCE
        if method:                                        # dout.sum(axis=0)
            name, args = node.func.attr, [node.func.value] + list(node.args)
        else:
            args = list(node.args)
        if name is None:
            raise self.error("only np.dot, np.matmul, np.sum, np.mean, np.exp, np.log, np.sqrt may be called", node)
        kw = {}
        for k in node.keywords:
            if k.arg not in ("axis", "keepdims"):
                raise self.error(f"keyword {k.arg}= is not supported", k)
            kw[k.arg] = self.literal(k.value)
        if name in _MATMUL and len(args) == 2 and not kw:
            return tz.MatMul(self.walk(args[0]), self.walk(args[1]))
        if name in _ELEMENTWISE and len(args) == 1 and not kw:
            return _ELEMENTWISE[name](self.walk(args[0]))
        if name in _REDUCE and 1 <= len(args) <= 2:
            if len(args) == 2:
                kw["axis"] = self.literal(args[1])
            return tz.Reduce(self.walk(args[0]), kw.get("axis"), bool(kw.get("keepdims", False)),
                             mean=_REDUCE[name])
        raise self.error(f"unknown function or wrong arguments: {name}", node)

    def literal(self, node):
        if isinstance(node, ast.Constant) and (isinstance(node.value, (bool, int)) or node.value is None):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -node.operand.value
        if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) for e in node.elts):
            return tuple(e.value for e in node.elts)
        raise self.error("axis and keepdims must be literal numbers or True/False", node)


def names_for(layer) -> dict:
    names = {n: tz.Arr(n, s) for n, s in layer.shapes().items()}
    for alias, target in layer.aliases.items():
        names[alias] = tz.Arr(target, names[target].shape)
    names["dout"] = tz.Arr("dout", names[layer.output].shape)
    names.update({k: tz.Scalar(v) for k, v in SYMBOLS.items()})
    return names


def parse_matrix(text: str, layer) -> tz.Tensor:
    if not isinstance(text, str) or not text.strip():
        raise ParseError("the backward line is empty")
    if len(text) > MAX_CHARS:
        raise ParseError(f"line is too long ({len(text)} characters, limit {MAX_CHARS})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"syntax error: {exc.msg}", column=exc.offset, text=text) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ParseError(f"line is too large ({count} syntax nodes, limit {MAX_NODES})")
    walker = _Walker(text.strip(), names_for(layer))
    for node in ast.walk(tree):                   # reserved names first, before anything is built
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise walker.error(f"name '{node.id}' is not allowed", node)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise walker.error(f"attribute '.{node.attr}' is not allowed", node)
    return walker.walk(tree.body)
