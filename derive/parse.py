"""The safe parser: every formula a user types becomes a SymPy expression here.

The text is parsed with ``ast.parse(text, mode="eval")`` and the tree is walked
against whitelists (operators, functions, constants), building SymPy objects
directly.  Nothing the user typed is ever run: no ``eval``/``exec``, no
``sympify``/``parse_expr`` on the text.  Whatever is not whitelisted raises
:class:`~derive.errors.ParseError` with a 1-based column.

Columns count characters from the start of the whole text (a formula is one
line in practice; for a multi-line text the column is the position in it).
"""
from __future__ import annotations

import ast
import difflib
import math
import operator
import re
import warnings
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Mapping

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom, BooleanFunction

from derive.errors import ParseError

__all__ = ["Formula", "parse_formula", "parse", "FUNCTIONS", "CONSTANTS"]

MAX_CHARS = 2000
MAX_NODES = 400
MAX_DEPTH = 60
MAX_EXPONENT = 64
MAX_NAME_CHARS = 32
_LOG10_LIMIT = 300                      # numbers must stay within 1e-300 .. 1e300
_BIG = sympy.Integer(10) ** _LOG10_LIMIT
_MAX_BITS = 4096                        # numerator + denominator of any exact number
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
_CONDITION = (Relational, BooleanFunction, BooleanAtom)   # not Boolean: a Symbol is one too


class _Refuse(Exception):
    """Raised by a builder; ``arg`` is the index of the operand to blame."""

    def __init__(self, message: str, arg: int | None = None):
        super().__init__(message)
        self.arg = arg


def _power(base, exponent):
    """``base ** exponent``, refused before SymPy could build a huge number."""
    if exponent.is_Number:
        if abs(exponent) > MAX_EXPONENT:
            raise _Refuse(f"exponent {exponent} is too large (limit {MAX_EXPONENT})", arg=1)
        if base.is_Number:
            if base == 0 and exponent < 0:
                raise _Refuse("division by zero (0 raised to a negative power)")
            log10 = math.log10(abs(base.p)) - math.log10(base.q) if base else 0.0
            if abs(float(exponent) * log10) > _LOG10_LIMIT:
                raise _Refuse(f"the power is outside 1e-{_LOG10_LIMIT}..1e{_LOG10_LIMIT}")
            if abs(exponent) * (base.p.bit_length() + base.q.bit_length()) > _MAX_BITS:
                raise _Refuse("the power has too many digits for exact arithmetic")
    elif base.is_Number:
        raise _Refuse("a number raised to a symbolic power is not allowed; "
                      "write exp(x*log(a)) instead of a**x", arg=1)
    return sympy.Pow(base, exponent)


@dataclass(frozen=True)
class _Fn:
    """One whitelisted function: arity, builder, which arguments are conditions."""

    arity: int
    build: Callable[..., sympy.Expr]
    spellings: tuple[str, ...] = ("", "np.", "numpy.")
    conditions: tuple[int, ...] = ()


_NP_MATH = ("", "np.", "numpy.", "math.")

#: The one function table: canonical name -> spec.  Adding a function is one entry.
FUNCTIONS: dict[str, _Fn] = {
    "exp": _Fn(1, sympy.exp, _NP_MATH), "log": _Fn(1, sympy.log, _NP_MATH),
    "log1p": _Fn(1, lambda u: sympy.log(1 + u), _NP_MATH),
    "expm1": _Fn(1, lambda u: sympy.exp(u) - 1, _NP_MATH),
    "sqrt": _Fn(1, sympy.sqrt, _NP_MATH), "square": _Fn(1, lambda u: _power(u, sympy.Integer(2))),
    "abs": _Fn(1, sympy.Abs), "absolute": _Fn(1, sympy.Abs), "fabs": _Fn(1, sympy.Abs, _NP_MATH),
    "tanh": _Fn(1, sympy.tanh, _NP_MATH), "sinh": _Fn(1, sympy.sinh, _NP_MATH),
    "cosh": _Fn(1, sympy.cosh, _NP_MATH),
    "erf": _Fn(1, sympy.erf, _NP_MATH + ("scipy.special.", "special.")),
    "maximum": _Fn(2, sympy.Max), "minimum": _Fn(2, sympy.Min),
    "max": _Fn(2, sympy.Max, ("",)), "min": _Fn(2, sympy.Min, ("",)),   # np.max is a reduction
    "where": _Fn(3, lambda c, a, b: sympy.Piecewise((a, c), (b, True)), conditions=(0,)),
    "power": _Fn(2, _power),
    "sign": _Fn(1, sympy.sign), "heaviside": _Fn(2, sympy.Heaviside),
    "sigmoid": _Fn(1, lambda u: 1 / (1 + sympy.exp(-u)), ("",)),
}

#: Spelling -> SymPy constant.  A key of ``names`` wins over a bare constant.
CONSTANTS: dict[str, sympy.Expr] = {
    "pi": sympy.pi, "np.pi": sympy.pi, "numpy.pi": sympy.pi, "math.pi": sympy.pi,
    "np.e": sympy.E, "numpy.e": sympy.E, "math.e": sympy.E,
}

_SPELLINGS: dict[str, str] = {
    prefix + name: name for name, fn in FUNCTIONS.items() for prefix in fn.spellings
}
_MODULES = frozenset({"np", "numpy", "math", "scipy", "special", "scipy.special"})


@dataclass(frozen=True)
class _Op:
    spelling: str
    build: Callable
    logical: bool = False               # operands are conditions, result is a condition


# Operator tables: '@' becomes one _BINOPS entry when matrices arrive.
_BINOPS = {
    ast.Add: _Op("+", operator.add), ast.Sub: _Op("-", operator.sub),
    ast.Mult: _Op("*", operator.mul), ast.Div: _Op("/", operator.truediv),
    ast.Pow: _Op("**", _power),
    ast.BitAnd: _Op("&", sympy.And, logical=True), ast.BitOr: _Op("|", sympy.Or, logical=True),
}
_UNARYOPS = {
    ast.USub: _Op("-", operator.neg), ast.UAdd: _Op("+", operator.pos),
    ast.Invert: _Op("~", sympy.Not, logical=True),
}
_COMPARISONS = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge}
_REFUSED_OPS = {     # operator or node type -> what to tell the user
    ast.FloorDiv: "floor division '//' is not supported", ast.Mod: "remainder '%' is not supported",
    ast.MatMult: "matrix product '@' is not supported yet",
    ast.BitXor: "'^' is not supported (for powers write **)",
    ast.LShift: "shift '<<' is not supported", ast.RShift: "shift '>>' is not supported",
    ast.Not: "'not' is not supported; write ~(condition)",
    ast.And: "'and' is not supported; write (a) & (b)", ast.Or: "'or' is not supported; write (a) | (b)",
    **dict.fromkeys((ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn),
                    "only the comparisons <, <=, >, >= are supported"),
    ast.Lambda: "lambda is not allowed",
    **dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
                    "comprehensions and generators are not allowed"),
    ast.Subscript: "subscripts like x[0] are not allowed", ast.Starred: "starred '*' is not allowed",
    **dict.fromkeys((ast.List, ast.Dict, ast.Set), "list, dict and set literals are not allowed"),
    ast.JoinedStr: "f-strings are not allowed", ast.NamedExpr: "assignment ':=' is not allowed",
    ast.IfExp: "'a if c else b' is not allowed; write np.where(c, a, b)",
    **dict.fromkeys((ast.Await, ast.Yield, ast.YieldFrom), "'await' and 'yield' are not allowed"),
    ast.Tuple: "a tuple is allowed only as the whole formula, where several outputs are expected",
}


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

    def __init__(self, original: str, names: Mapping[str, sympy.Symbol] | None):
        self.original, self.names = original, names
        self.stripped = original.lstrip()        # ast.parse refuses leading indentation
        self.lead = len(original) - len(self.stripped)
        self.lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", self.stripped)
        self.seen: dict[str, tuple[int, int]] = {}

    # -- positions and errors ------------------------------------------------
    def column(self, lineno: int, byte_col: int) -> int:
        lineno = min(lineno, len(self.lines))
        start = sum(len(line) for line in self.lines[:lineno - 1])
        chars = len(self.lines[lineno - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
        return self.lead + start + chars + 1

    def error(self, message: str, node: ast.AST | None = None, column: int | None = None) -> ParseError:
        if node is not None and hasattr(node, "col_offset"):
            column = self.column(node.lineno, node.col_offset)
        return ParseError(message, column=column, text=self.original)

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
        except _Refuse as refusal:
            blamed = arg_nodes[refusal.arg] if refusal.arg is not None else node
            raise self.error(str(refusal), blamed) from None
        except (TypeError, ValueError, ArithmeticError, NotImplementedError, RecursionError) as exc:
            raise self.error(f"cannot build {what}: {exc}", node) from None
        if isinstance(result, sympy.Basic) and not isinstance(result, _CONDITION):
            self.check_size(result, node, what)
        return result

    def check_size(self, result: sympy.Basic, node: ast.AST, what: str) -> None:
        """SymPy combines numbers and exponents; keep each within bounds so the next step stays cheap."""
        if result.is_Number and result.is_finite and result != 0:
            if abs(result) > _BIG or abs(result) < 1 / _BIG:
                raise self.error(f"{what} gives a number outside 1e-{_LOG10_LIMIT}..1e{_LOG10_LIMIT}", node)
        if result.has(*_UNDEFINED):
            raise self.error(f"{what} is infinite or undefined (division by zero?)", node)
        for atom in result.atoms(sympy.Rational):
            if atom.p.bit_length() + atom.q.bit_length() > _MAX_BITS:
                raise self.error(f"{what} gives a number with too many digits for exact arithmetic", node)
        for power in result.atoms(sympy.Pow):
            if power.exp.is_Number and abs(power.exp) > MAX_EXPONENT ** 2:
                raise self.error(f"{what} gives the exponent {power.exp} (limit {MAX_EXPONENT ** 2} "
                                 "after SymPy combines powers)", node)

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
            raise self.error(message + _suggest(name, known), node)
        if len(name) > MAX_NAME_CHARS:
            raise self.error(f"name '{name[:12]}...' is longer than {MAX_NAME_CHARS} characters", node)
        self.seen.setdefault(name, (node.lineno, node.col_offset))
        return _free_symbol(name)

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
        spelled = self.dotted(node)
        if spelled in CONSTANTS:
            return CONSTANTS[spelled]
        if spelled in _SPELLINGS:
            raise self.error(f"'{spelled}' is a function; call it as {spelled}(...)", node)
        raise self.error(f"unknown name '{spelled}'" + _suggest(spelled, CONSTANTS), node)

    def call(self, node: ast.Call):
        func = node.func
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
        fn = FUNCTIONS[_SPELLINGS[spelled]]
        if node.keywords:
            keyword = node.keywords[0]
            label = f"'{keyword.arg}='" if keyword.arg else "'**'"
            raise self.error(f"keyword arguments are not supported ({spelled} got {label})", keyword)
        if len(node.args) != fn.arity:
            plural = "s" if fn.arity != 1 else ""
            raise self.error(f"{spelled}() takes {fn.arity} argument{plural}, got {len(node.args)}", node)
        args = [self.condition(arg, f"argument {i + 1} of {spelled}") if i in fn.conditions
                else self.value(arg) for i, arg in enumerate(node.args)]
        return self.build(node, fn.build, args, node.args, f"{spelled}(...)")

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
    }


def _check_tree(tree: ast.AST, parser: _Parser) -> None:
    """Size, depth and reserved '_' names, iteratively (no recursion on hostile input).

    Underscore names are reported leftmost first, before anything is built.
    """
    count, stack, reserved = 0, [(tree, 0)], []
    skip = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise parser.error(f"formula is too large (more than {MAX_NODES} syntax nodes)", column=1)
        if depth > MAX_DEPTH:
            raise parser.error(f"formula is nested too deeply (limit {MAX_DEPTH} levels; "
                               "each operator of a chain a+b+c... is one level)", node)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            reserved.append((parser.column(node.lineno, node.col_offset),
                             f"name '{node.id}' is not allowed (names may not start with '_')"))
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            reserved.append((parser.attr_column(node), f"attribute access '.{node.attr}' is not allowed"))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, skip))
    if reserved:
        column, message = min(reserved)
        raise parser.error(message, column=column)


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
    if not isinstance(text, str):
        raise ParseError(f"a formula must be a string, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ParseError(f"formula is too long ({len(text)} characters, limit {MAX_CHARS})", text=text[:80])
    if "\x00" in text:
        raise ParseError("formula contains a NUL byte", column=text.index("\x00") + 1, text=text)
    if not text.strip():
        raise ParseError("formula is empty", text=text)
    depth = 0
    for index, char in enumerate(text):          # before ast.parse: brackets nest its recursion
        depth += (char in "([{") - (char in ")]}")
        if depth > MAX_DEPTH:
            raise ParseError(f"formula is nested too deeply (limit {MAX_DEPTH})", column=index + 1, text=text)
    parser = _Parser(text, names)
    try:
        with warnings.catch_warnings():              # e.g. "1if x else 2": refuse, don't print
            warnings.simplefilter("error")
            tree = ast.parse(parser.stripped, mode="eval")
    except SyntaxError as exc:
        column = (parser.column(exc.lineno, 0) + exc.offset - 1 if exc.lineno and exc.offset
                  else len(text.rstrip()) + 1)          # offset 0: the text ended too early
        raise ParseError(f"syntax error: {exc.msg}", column=column, text=text) from None
    except (RecursionError, MemoryError, ValueError, Warning) as exc:
        raise ParseError(f"formula cannot be parsed ({type(exc).__name__})", text=text) from None
    _check_tree(tree, parser)
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
