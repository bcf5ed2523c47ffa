"""The parser's limits: size, depth, exponents and numbers, checked before anything is built.

Hostile input must be refused cheaply: ``9**9**9**9`` never reaches SymPy's exact
arithmetic, a 5000-deep bracket never reaches ``ast.parse``'s recursion, and every
number SymPy combines stays within 1e-300 .. 1e300 and 4096 bits.
"""
from __future__ import annotations

import ast
import math
import warnings

import sympy

from derive.errors import ParseError

MAX_CHARS = 2000
MAX_NODES = 400
MAX_DEPTH = 60
MAX_EXPONENT = 64
MAX_NAME_CHARS = 32
_LOG10_LIMIT = 300                      # numbers must stay within 1e-300 .. 1e300
_BIG = sympy.Integer(10) ** _LOG10_LIMIT
_MAX_BITS = 4096                        # numerator + denominator of any exact number
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


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
        if not base.is_positive:
            raise _Refuse(f"{base} raised to a symbolic power is not real for every exponent; "
                          "only a positive base is allowed (2**x)", arg=0)
        if abs(math.log10(abs(base.p)) - math.log10(base.q)) > _LOG10_LIMIT / 10:
            raise _Refuse(f"the base {base} is too large for a symbolic power", arg=0)
    return sympy.Pow(base, exponent)


#: canonical function name -> its rule-table entry (a Rule or a Sugar); built from the table


def size_problem(result: sympy.Basic, what: str) -> str | None:
    """Why SymPy's combined numbers or exponents in ``result`` are out of bounds, or None."""
    if result.is_Number and result.is_finite and result != 0:
        if abs(result) > _BIG or abs(result) < 1 / _BIG:
            return f"{what} gives a number outside 1e-{_LOG10_LIMIT}..1e{_LOG10_LIMIT}"
    if result.has(*_UNDEFINED):
        return f"{what} is infinite or undefined (division by zero?)"
    for atom in result.atoms(sympy.Rational):
        if atom.p.bit_length() + atom.q.bit_length() > _MAX_BITS:
            return f"{what} gives a number with too many digits for exact arithmetic"
    for power in result.atoms(sympy.Pow):
        if power.exp.is_Number and abs(power.exp) > MAX_EXPONENT ** 2:
            return (f"{what} gives the exponent {power.exp} (limit {MAX_EXPONENT ** 2} "
                    "after SymPy combines powers)")
    return None


def check_tree(tree: ast.AST, parser, max_nodes: int = MAX_NODES) -> None:
    """Size, depth and reserved '_' names, iteratively (no recursion on hostile input).

    Underscore names are reported leftmost first, before anything is built.
    """
    count, stack, reserved = 0, [(tree, 0)], []
    skip = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > max_nodes:
            raise parser.error(f"formula is too large (more than {max_nodes} syntax nodes)", column=1)
        if depth > MAX_DEPTH + 3:          # statements and a def add up to three levels
            raise parser.error(f"formula is nested too deeply (limit {MAX_DEPTH} levels; "
                               "each operator of a chain a+b+c... is one level)", node)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            reserved.append((parser.position(node), f"name '{node.id}' is not allowed "
                                                    "(names may not start with '_')"))
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            reserved.append((parser.attr_column(node), f"attribute access '.{node.attr}' is not allowed"))
        if isinstance(node, ast.arg) and node.arg.startswith("_"):
            reserved.append((parser.position(node), f"name '{node.arg}' is not allowed "
                                                    "(names may not start with '_')"))
        stack.extend((child, depth + (0 if isinstance(node, (ast.Module, ast.Expression))
                                      else 1))
                     for child in ast.iter_child_nodes(node) if not isinstance(child, skip))
    if reserved:
        column, message = min(reserved)
        raise parser.error(message, column=column)


def read_tree(text, parser, *, mode: str, max_chars: int = MAX_CHARS,
              max_nodes: int = MAX_NODES) -> ast.AST:
    """``ast.parse`` of ``text`` after the cheap checks, then :func:`check_tree`."""
    if not isinstance(text, str):
        raise ParseError(f"a formula must be a string, not {type(text).__name__}")
    if len(text) > max_chars:
        raise ParseError(f"formula is too long ({len(text)} characters, limit {max_chars})",
                         text=text[:80])
    if "\x00" in text:
        raise ParseError("formula contains a NUL byte", column=text.index("\x00") + 1, text=text)
    if not text.strip():
        raise ParseError("formula is empty", text=text)
    depth = 0
    for index, char in enumerate(text):          # before ast.parse: brackets nest its recursion
        depth += (char in "([{") - (char in ")]}")
        if depth > MAX_DEPTH:
            raise ParseError(f"formula is nested too deeply (limit {MAX_DEPTH})",
                             column=index + 1, text=text)
    try:
        with warnings.catch_warnings():              # e.g. "1if x else 2": refuse, don't print
            warnings.simplefilter("error")
            tree = ast.parse(parser.stripped, mode=mode)
    except SyntaxError as exc:
        column = (parser.column(exc.lineno, 0) + exc.offset - 1 if exc.lineno and exc.offset
                  else len(text.rstrip()) + 1)          # offset 0: the text ended too early
        raise ParseError(f"syntax error: {exc.msg}", column=column, text=text) from None
    except (RecursionError, MemoryError, ValueError, Warning) as exc:
        raise ParseError(f"formula cannot be parsed ({type(exc).__name__})", text=text) from None
    check_tree(tree, parser, max_nodes)
    return tree
