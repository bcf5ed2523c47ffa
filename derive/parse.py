"""The safe parser: every formula a user types becomes a SymPy expression here.

The text is parsed with ``ast.parse(text, mode="eval")`` and the tree is walked
against whitelists (operators, functions, constants), building SymPy objects
directly.  Nothing the user typed is ever run: no ``eval``/``exec``, no
``sympify``/``parse_expr`` on the text.  Whatever is not whitelisted raises
:class:`~derive.errors.ParseError` with a 1-based column.

The function whitelist is built from the rule table (:data:`derive.rules.SPELLINGS`),
so the parser accepts exactly what the engine can derive. Arrays (names bound to
:class:`~derive.tensor.Arr`) add NumPy's tensor vocabulary: ``@``, ``np.dot``,
``np.matmul``, ``.T``, ``np.transpose``, ``np.sum``/``np.mean``/``np.max`` with ``axis``
and ``keepdims`` (also as methods, ``x.sum(axis=1)``), ``reshape`` to a given shape,
``np.broadcast_to``, ``np.expand_dims`` and ``x.shape[0]``; shapes are checked as the
formula is built, with NumPy's broadcasting.

Columns count characters from the start of the whole text (a formula is one
line in practice; for a multi-line text the column is the position in it).
"""
from __future__ import annotations

import ast
import difflib
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Mapping

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom, BooleanFunction

from derive.errors import FormulaShapeError, ParseError, ShapeError
from derive.parse_limits import (MAX_NAME_CHARS, _LOG10_LIMIT, _Refuse, _power, read_tree,
                                 size_problem)
from derive.rules import SPELLINGS, Rule, Sugar, u0, u1, u2

_CONDITION = (Relational, BooleanFunction, BooleanAtom)   # not Boolean: a Symbol is one too
from derive.parse_ops import _BINOPS, _COMPARISONS, _REFUSED_OPS, _UNARYOPS
from derive.parse_tensor import subscript
from derive.tensor import Transposed, shape_of

__all__ = ["Formula", "parse_formula", "parse", "FUNCTIONS", "CONSTANTS"]

#: every function spelling the parser accepts -> its rule-table entry (built from the table)
FUNCTIONS: dict = dict(SPELLINGS)
_SPELLINGS = FUNCTIONS
_METHODS = ("sum", "mean", "max", "reshape", "transpose")


#: Spelling -> SymPy constant.  A key of ``names`` wins over a bare constant.
CONSTANTS: dict[str, sympy.Expr] = {
    "pi": sympy.pi, "np.pi": sympy.pi, "numpy.pi": sympy.pi, "math.pi": sympy.pi,
    "np.e": sympy.E, "numpy.e": sympy.E, "math.e": sympy.E,
}

_MODULES = frozenset({"np", "numpy", "math", "scipy", "special", "scipy.special"})
_PLACEHOLDERS = (u0, u1, u2)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the SymPy expression and the identifiers it uses."""

    expr: sympy.Expr | tuple[sympy.Expr, ...]
    names: tuple[str, ...]


def _suggest(spelled: str, choices) -> str:
    hint = difflib.get_close_matches(spelled, list(choices), n=3)
    return f"; did you mean {', '.join(hint)}?" if hint else ""


@lru_cache(maxsize=1024)
def _free_symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


class _Parser:
    """Walks one checked tree; holds the text (for columns and literals) and the names seen."""

    by_line = False               # programs report "line L, column C"

    def __init__(self, original: str, names: Mapping[str, sympy.Symbol] | None):
        self.original, self.names = original, names
        self.stripped = original.lstrip()        # ast.parse refuses leading indentation
        self.lead = len(original) - len(self.stripped)
        self.lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", self.stripped)
        self.seen: dict[str, tuple[int, int]] = {}
        self.conventions: dict[str, None] = {}   # notes of the functions used (ties, ends)

    # -- positions and errors ------------------------------------------------
    def column(self, lineno: int, byte_col: int) -> int:
        lineno = min(lineno, len(self.lines))
        start = sum(len(line) for line in self.lines[:lineno - 1])
        chars = len(self.lines[lineno - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
        return self.lead + start + chars + 1

    def error(self, message: str, node: ast.AST | None = None, column: int | None = None,
              name: str | None = None) -> ParseError:
        if node is not None and hasattr(node, "col_offset"):
            column = self.column(node.lineno, node.col_offset)
        if self.by_line and column is not None:       # programs: line and column in it
            line = self.original[:column - 1].count("\n") + 1
            start = self.original.rfind("\n", 0, column - 1) + 1
            return ParseError(message, column=column - start, text=self.original, line=line,
                              name=name)
        return ParseError(message, column=column, text=self.original, name=name)

    def position(self, node: ast.AST) -> int:
        return self.column(node.lineno, node.col_offset)

    def attr_column(self, node: ast.Attribute) -> int:
        """Column of the '.' before ``node.attr``."""
        end = self.column(node.end_lineno, node.end_col_offset) - len(node.attr)
        return end - 1 if self.original[end - 2: end - 1] == "." else end

    # -- entry ------------------------------------------------------------------
    def formula(self, body: ast.expr, allow_tuple: bool) -> Formula:
        if isinstance(body, ast.Tuple) and allow_tuple and body.elts:
            expr = tuple(self.value(elt) for elt in body.elts)
        else:
            expr = self.value(body)
        return Formula(expr, tuple(sorted(self.seen, key=self.seen.get)))

    # -- values and conditions ------------------------------------------------
    def value(self, node: ast.AST) -> sympy.Expr:
        """A number-valued expression; a condition used as a value is a 0/1 mask."""
        result = self.walk(node)
        if isinstance(result, _CONDITION):
            return sympy.Piecewise((1, result), (0, True))
        return result

    def condition(self, node: ast.AST, what: str) -> sympy.Basic:
        result = self.walk(node)
        if not isinstance(result, _CONDITION):
            raise self.error(f"{what} needs a comparison such as x > 0", node)
        return result

    def walk(self, node: ast.AST):
        handler = self.HANDLERS.get(type(node))
        if handler is None:
            message = _REFUSED_OPS.get(type(node), f"{type(node).__name__} is not allowed")
            raise self.error(message, node)
        return handler(self, node)

    def build(self, node, build, args, arg_nodes, what):
        """Call a builder, turning its refusals and SymPy's errors into ParseError."""
        try:
            result = build(*args)
            if isinstance(result, sympy.Basic):
                shape_of(result)                      # broadcasting checked as it is built
        except _Refuse as refusal:
            blamed = arg_nodes[refusal.arg] if refusal.arg is not None else node
            raise self.error(str(refusal), blamed) from None
        except ShapeError as exc:
            plain = self.error(str(exc), node)
            hint = ("; did you mean keepdims=True?" if "cannot be broadcast" in str(exc)
                    and "np.sum" in self.original else "")
            raise FormulaShapeError(str(exc) + hint, column=plain.column, text=plain.text,
                                    line=plain.line) from None
        except (TypeError, ValueError, ArithmeticError, NotImplementedError, RecursionError) as exc:
            raise self.error(f"cannot build {what}: {exc}", node) from None
        if isinstance(result, sympy.Basic) and not isinstance(result, _CONDITION):
            self.check_size(result, node, what)
            if isinstance(result, sympy.Expr) and result.is_number and result.is_extended_real is False:
                # np.arctanh(1.05) is nan in NumPy (with a warning): a layer has no use for
                # it, and SymPy cannot compare it (a Piecewise of it raised a TypeError)
                raise self.error(f"{what} is not a real number at these constants (NumPy "
                                 "gives nan)", node)
        return result

    def check_size(self, result: sympy.Basic, node: ast.AST, what: str) -> None:
        problem = size_problem(result, what)
        if problem:
            raise self.error(problem, node)

    # -- node handlers --------------------------------------------------------
    def constant(self, node: ast.Constant):
        value = node.value
        if type(value) not in (int, float):       # bool, None, ..., str, bytes, complex
            kind = {str: "a string", bytes: "a string", complex: "a complex number"}.get(type(value), repr(value))
            raise self.error(f"{kind} is not allowed; only int and float numbers", node)
        if isinstance(value, int):
            if value > 10 ** _LOG10_LIMIT:
                raise self.error(f"number is too large (limit 1e{_LOG10_LIMIT})", node)
            return sympy.Integer(value)
        # a float: exact from its source text, so 0.1 is 1/10 and proofs stay exact
        if not math.isfinite(value) or value > 10.0 ** _LOG10_LIMIT:
            raise self.error(f"number is too large (limit 1e{_LOG10_LIMIT})", node)
        source = ast.get_source_segment(self.stripped, node) or repr(value)
        exact = Fraction(source.replace("_", ""))
        if exact and exact < Fraction(1, 10 ** _LOG10_LIMIT):
            raise self.error(f"number is too small (limit 1e-{_LOG10_LIMIT})", node)
        return sympy.Rational(exact.numerator, exact.denominator)

    def name(self, node: ast.Name):
        name = node.id
        if self.names is not None and name in self.names:
            self.seen.setdefault(name, (node.lineno, node.col_offset))
            return self.names[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in _SPELLINGS:
            raise self.error(f"'{name}' is a function; call it as {name}(...)", node)
        if name in _MODULES:
            raise self.error(f"'{name}' is a module; use it as {name}.NAME(...)", node)
        if self.names is not None:
            known = sorted(self.names)
            message = f"unknown name '{name}' (known: {', '.join(known) or 'none'})"
            raise self.error(message + _suggest(name, known), node, name=name)
        if len(name) > MAX_NAME_CHARS:
            raise self.error(f"name '{name[:12]}...' is longer than {MAX_NAME_CHARS} characters", node)
        self.seen.setdefault(name, (node.lineno, node.col_offset))
        return _free_symbol(name)

    def is_module(self, node: ast.AST) -> bool:
        """True when the leftmost name of an attribute chain is a module (np, math...)."""
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in _MODULES and (
            self.names is None or node.id not in self.names)

    def dotted(self, node: ast.Attribute) -> str:
        """``np.exp`` -> "np.exp"; refuse any other attribute access."""
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base)
            base = base.value
        for attr in reversed(chain):               # report the leftmost offender
            if not isinstance(base, ast.Name):
                raise self.error(f"attribute access '.{attr.attr}' is not allowed",
                                 column=self.attr_column(attr))
        spelled = ".".join([base.id] + [attr.attr for attr in reversed(chain)])
        module = spelled.rsplit(".", 1)[0]
        if module not in _MODULES:
            raise self.error(f"attribute access '.{chain[-1].attr}' is not allowed",
                             column=self.attr_column(chain[-1]))
        return spelled

    def attribute(self, node: ast.Attribute):
        if not self.is_module(node):
            if node.attr == "T":
                return self.build(node, Transposed, [self.value(node.value)], [node.value], ".T")
            allowed = "only .T, .shape[i] and the methods " + ", ".join(_METHODS)
            if node.attr == "shape":
                raise self.error("x.shape needs an axis: write x.shape[0]", node)
            raise self.error(f"attribute access '.{node.attr}' is not allowed ({allowed})",
                             column=self.attr_column(node))
        spelled = self.dotted(node)
        if spelled in CONSTANTS:
            return CONSTANTS[spelled]
        if spelled in _SPELLINGS:
            raise self.error(f"'{spelled}' is a function; call it as {spelled}(...)", node)
        raise self.error(f"unknown name '{spelled}'" + _suggest(spelled, CONSTANTS), node,
                         name=spelled)

    def subscript(self, node: ast.Subscript):
        """``x.shape[i]``, ``W[idx]`` (rows by an index array) or ``A[:, H:2*H]``: see
        :func:`derive.parse_tensor.subscript`."""
        return subscript(self, node)

    # -- calls ------------------------------------------------------------------
    def call(self, node: ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and not self.is_module(func):
            if func.attr not in _METHODS:
                return self.attribute(func)
            return self.tensor_call(func.attr, [func.value] + list(node.args), node,
                                    f".{func.attr}()")
        if isinstance(func, ast.Name):
            spelled = func.id
        elif isinstance(func, ast.Attribute):
            spelled = self.dotted(func)
        else:
            raise self.error("only whitelisted functions can be called, e.g. np.exp(x)", func)
        if spelled not in _SPELLINGS:
            bare = sorted(s for s in _SPELLINGS if "." not in s)
            hint = _suggest(spelled, _SPELLINGS)
            raise self.error(f"unknown function '{spelled}'" + (hint or f" (allowed: {', '.join(bare)})"), func)
        entry = SPELLINGS[spelled]
        if isinstance(entry, Rule) and entry.structural:
            return self.tensor_call(entry.name, list(node.args), node, f"{spelled}()")
        if node.keywords:
            keyword = node.keywords[0]
            label = f"'{keyword.arg}='" if keyword.arg else "'**'"
            raise self.error(f"keyword arguments are not supported ({spelled} got {label})", keyword)
        if len(node.args) != entry.arity:
            plural = "s" if entry.arity != 1 else ""
            raise self.error(f"{spelled}() takes {entry.arity} argument{plural}, got {len(node.args)}", node)
        conditions = entry.conditions if isinstance(entry, Sugar) else ()
        args = [self.condition(arg, f"argument {i + 1} of {spelled}") if i in conditions
                else self.value(arg) for i, arg in enumerate(node.args)]
        result = self.build(node, lambda *a: _instantiate(entry, a), args, node.args,
                            f"{spelled}(...)")
        if isinstance(entry, Sugar) and entry.note and not isinstance(result, (sympy.Max,
                                                                               sympy.Min)):
            self.conventions.setdefault(entry.note)
        return result

    def literal(self, node: ast.AST, what: str):
        """An int, a tuple of ints, None or a bool, as written (never built as SymPy)."""
        if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (int, bool)):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
                isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
            return -node.operand.value
        if isinstance(node, ast.Tuple):
            return tuple(self.literal(e, what) for e in node.elts)
        raise self.error(f"{what} must be a literal integer, a tuple of them, None, True or False",
                         node)

    def dims_literal(self, node: ast.AST):
        """A shape: a tuple of integers, dimension names or x.shape[i]."""
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        out = []
        for item in items:
            v = self.value(item)
            if not (v.is_Integer and v > 0 or v.is_Symbol and v.is_integer and v.is_positive):
                raise self.error("a shape entry must be a positive integer or a dimension", item)
            out.append(v)
        return tuple(out)

    def tensor_call(self, name: str, args: list, node: ast.Call, spelled: str):
        from derive.parse_tensor import build_structural
        return build_structural(self, name, args, node, spelled)

    def operation(self, node: ast.BinOp | ast.UnaryOp):
        nodes = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.operand]
        op = (_BINOPS if len(nodes) == 2 else _UNARYOPS).get(type(node.op))
        if op is None:
            raise self.error(_REFUSED_OPS.get(type(node.op), "operator not supported"), node)
        args = [self.condition(n, f"'{op.spelling}'") if op.logical else self.value(n) for n in nodes]
        return self.build(node, op.build, args, nodes, f"'{op.spelling}'")

    def compare(self, node: ast.Compare):
        if len(node.ops) > 1:
            raise self.error("chained comparisons like 0 < x < 1 are not allowed; "
                             "write (0 < x) & (x < 1)", node)
        relation = _COMPARISONS.get(type(node.ops[0]))
        if relation is None:
            raise self.error(_REFUSED_OPS.get(type(node.ops[0]), "comparison not supported"), node)
        nodes = [node.left, node.comparators[0]]
        return self.build(node, relation, [self.value(n) for n in nodes], nodes, "comparison")

    def boolop(self, node: ast.BoolOp):
        raise self.error(_REFUSED_OPS[type(node.op)], node)

    HANDLERS = {
        ast.Constant: constant, ast.Name: name, ast.Attribute: attribute, ast.Call: call,
        ast.BinOp: operation, ast.UnaryOp: operation, ast.Compare: compare, ast.BoolOp: boolop,
        ast.Subscript: subscript,
    }


_RELU = {"maximum": sympy.Max, "fmax": sympy.Max, "max": sympy.Max,
         "minimum": sympy.Min, "fmin": sympy.Min, "min": sympy.Min}


def _instantiate(entry, args):
    """A function call from its rule-table entry: the template with the arguments put in."""
    if entry.name in ("power", "float_power"):
        return _power(*args)
    if entry.name in _RELU and any(a == 0 for a in args):
        # np.maximum(0, x) and np.maximum(x, 0): the ReLU primitive, 0 at the tie (the book)
        return _RELU[entry.name](*args)
    if entry.name == "clip" and args[1].is_number and args[2].is_number and args[1] > args[2]:
        raise _Refuse(f"np.clip with lo = {args[1]} above hi = {args[2]}", arg=1)
    if entry.name == "exp2":
        _power(sympy.Integer(2), args[0])
    template = entry.template if isinstance(entry, Sugar) else entry.value
    result = template.xreplace(dict(zip(_PLACEHOLDERS, args)))
    if isinstance(entry, Sugar) and entry.name == "square":
        _power(args[0], sympy.Integer(2))
    return result


def parse_formula(text: str, names: Mapping[str, sympy.Symbol] | None = None, *,
                  allow_tuple: bool = False) -> Formula:
    """Parse ``text`` safely into a :class:`Formula`.

    With ``names``, only those identifiers (plus whitelisted functions and
    constants) are allowed; with ``names=None`` every plain identifier becomes
    a real Symbol.

    >>> import sympy
    >>> x, dout = sympy.symbols("x dout", real=True)
    >>> parse_formula("np.where(x > 0, dout, 0.01*dout)", {"x": x, "dout": dout}).expr
    Piecewise((dout, x > 0), (dout/100, True))
    >>> parse_formula("apple*apple_num*tax").names
    ('apple', 'apple_num', 'tax')
    >>> parse_formula("dout*y, dout*x", allow_tuple=True).expr
    (dout*y, dout*x)
    >>> parse_formula("x + __foo")
    Traceback (most recent call last):
    ...
    derive.errors.ParseError: column 5: name '__foo' is not allowed (names may not start with '_')
    """
    parser = _Parser(text, names)
    tree = read_tree(text, parser, mode="eval")
    return parser.formula(tree.body, allow_tuple)


def parse(text: str, names: Mapping[str, sympy.Symbol] | None = None, *, allow_tuple: bool = False):
    """Convenience: ``parse_formula(...).expr``.

    >>> parse("log(1 + exp(x))") == parse("np.log1p(np.exp(x))")
    True
    >>> parse("0.044715*x**3")
    8943*x**3/200000
    >>> parse("9**9**9**9")
    Traceback (most recent call last):
    ...
    derive.errors.ParseError: column 7: exponent 387420489 is too large (limit 64)
    """
    return parse_formula(text, names, allow_tuple=allow_tuple).expr
