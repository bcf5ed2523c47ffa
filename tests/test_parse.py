"""The safe parser: correct parses, hostile input, error messages, random formulas."""
from __future__ import annotations

import ast
import builtins
import math
import warnings
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import derive.parse as parse_module
from derive.errors import DeriveError, ParseError
from derive.parse import Formula, parse, parse_formula

x, y, dout, out, alpha = sympy.symbols("x y dout out alpha", real=True)


def mask(condition):
    return sympy.Piecewise((1, condition), (0, True))


def same(a, b) -> bool:
    return a == b or sympy.simplify(a - b) == 0


# -- correct parses, expected values built by hand ------------------------------

GOOD = [
    ("dout * (1.0 - out) * out", dout * (1 - out) * out),
    ("np.log1p(np.exp(x))", sympy.log(1 + sympy.exp(x))),
    ("log(1 + exp(x))", sympy.log(1 + sympy.exp(x))),
    ("numpy.log1p(x)", sympy.log(1 + x)),
    ("math.log1p(x)", sympy.log(1 + x)),
    ("np.expm1(x)", sympy.exp(x) - 1),
    ("np.where(x > 0, dout, alpha*dout)", sympy.Piecewise((dout, x > 0), (alpha * dout, True))),
    ("np.where(x <= 1, x, 1)", sympy.Piecewise((x, x <= 1), (1, True))),
    ("np.where((x > 0) & (x < 1), dout, 0)", sympy.Piecewise((dout, sympy.And(x > 0, x < 1)), (0, True))),
    ("np.where((x < 0) | (x > 1), 0, dout)", sympy.Piecewise((0, sympy.Or(x < 0, x > 1)), (dout, True))),
    ("dout*(x > 0)", dout * mask(x > 0)),
    ("(x > 0) * 1.0", mask(x > 0)),
    ("(x >= 0) & (x < 1)", mask(sympy.And(x >= 0, x < 1))),
    ("~(x > 0)", mask(x <= 0)),
    ("np.maximum(x, 0)", sympy.Max(x, 0)),
    ("np.minimum(x, 0)", sympy.Min(x, 0)),
    ("max(x, y)", sympy.Piecewise((x, x >= y), (y, True))),     # ties to the first
    ("min(x, 6)", sympy.Piecewise((x, x <= 6), (6, True))),
    ("np.maximum(x, 0)", sympy.Max(0, x)),                        # the ReLU primitive
    ("np.clip(x, -1, 2)", sympy.Piecewise((-1, x < -1), (2, x > 2), (x, True))),
    ("2**x", sympy.Pow(2, x)),
    ("np.exp2(x)", sympy.Pow(2, x)),
    ("np.logaddexp(x, y)", sympy.log(sympy.exp(x) + sympy.exp(y))),
    ("np.hypot(x, y)", sympy.sqrt(x**2 + y**2)),
    ("np.arctan(x) + np.arcsinh(y)", sympy.atan(x) + sympy.asinh(y)),
    ("np.logical_and(x > 0, y < 1)", sympy.Piecewise((1, (x > 0) & (y < 1)), (0, True))),
    ("np.where((x > 0) | ~(y < 1), x, y)", sympy.Piecewise((x, (x > 0) | (y >= 1)), (y, True))),
    ("np.where(x == y, 1, 0)", sympy.Piecewise((1, sympy.Eq(x, y)), (0, True))),
    ("np.exp(x) + numpy.exp(y)", sympy.exp(x) + sympy.exp(y)),
    ("math.exp(x)", sympy.exp(x)),
    ("np.sqrt(x)", sympy.sqrt(x)),
    ("np.square(x)", x**2),
    ("np.abs(x) + np.absolute(y) + np.fabs(x) + abs(y)", 2 * sympy.Abs(x) + 2 * sympy.Abs(y)),
    ("np.tanh(x) + np.sinh(x) + np.cosh(x)", sympy.tanh(x) + sympy.sinh(x) + sympy.cosh(x)),
    ("erf(x) + math.erf(x) + scipy.special.erf(x) + special.erf(x) + np.erf(x)", 5 * sympy.erf(x)),
    ("np.sign(x)", sympy.sign(x)),
    ("sigmoid(x)", 1 / (1 + sympy.exp(-x))),
    ("np.power(x, 3)", x**3),
    ("x**-2", 1 / x**2),
    ("x ** y", x**y),
    ("-x + +y", y - x),
    ("pi*x + np.pi + math.pi + numpy.pi", sympy.pi * x + 3 * sympy.pi),
    ("np.e**x", sympy.exp(x)),
    ("math.e + numpy.e", 2 * sympy.E),
    ("0.5*x*(1 + np.tanh(0.7978845608*(x + 0.044715*x**3)))",
     sympy.Rational(1, 2) * x * (1 + sympy.tanh(sympy.Rational(7978845608, 10**10)
                                                * (x + sympy.Rational(44715, 10**6) * x**3)))),
    ("np.float64(2)*x + float(0.5)*numpy.float64(y)", 2 * x + y / 2),   # casts: the value
    ("(x\n + y)", x + y),
    ("  x + 1", x + 1),
]


@pytest.mark.parametrize("text, expected", GOOD, ids=[t for t, _ in GOOD])
def test_parses_to_hand_built_expression(text, expected):
    assert same(parse(text), expected)


@pytest.mark.parametrize("text, expected", [
    ("1e-7", sympy.Rational(1, 10**7)),
    ("0.044715", sympy.Rational(44715, 10**6)),
    ("0.1 + 0.2", sympy.Rational(3, 10)),          # exact: a float would give 0.30000000000000004
    ("2.5e3", sympy.Integer(2500)),
    ("1_000.5", sympy.Rational(2001, 2)),
    (".5", sympy.Rational(1, 2)),
    ("7", sympy.Integer(7)),
])
def test_floats_become_exact_rationals(text, expected):
    result = parse(text)
    assert isinstance(result, sympy.Rational)
    assert result == expected


def test_one_point_zero_is_the_integer_one():
    result = parse("1.0")
    assert result == 1 and isinstance(result, sympy.Integer)


@pytest.mark.parametrize("text, names", [
    ("apple*apple_num*tax", ("apple", "apple_num", "tax")),
    ("dout * (1.0 - out) * out", ("dout", "out")),
    ("y*x + x", ("y", "x")),
    ("np.exp(b) + pi*a + log(b)", ("b", "a")),
    ("np.where(x > 0, dout, alpha*dout)", ("x", "dout", "alpha")),
    ("x**y", ("x", "y")),
])
def test_names_in_order_of_first_appearance(text, names):
    assert parse_formula(text).names == names


def test_free_mode_symbols_are_real_and_shared():
    assert parse("x") == sympy.Symbol("x", real=True)
    assert parse("x") == parse("x + 0")
    assert parse("x + x") == 2 * sympy.Symbol("x", real=True)
    assert parse("e") == sympy.Symbol("e", real=True)         # bare e is an ordinary name


def test_names_map_to_given_symbols_and_win_over_constants():
    a, b = sympy.symbols("a b")                                  # no assumptions: distinct from free mode
    formula = parse_formula("x*y + pi", {"x": a, "y": b, "pi": b})
    assert formula == Formula(a * b + b, ("x", "y", "pi"))
    assert parse("np.pi", {"pi": b}) == sympy.pi


def test_tuple_mode():
    assert parse("dout*y, dout*x", allow_tuple=True) == (dout * y, dout * x)
    assert parse("(x, y > 0)", allow_tuple=True) == (x, mask(y > 0))
    assert parse_formula("dout*y, dout*x", allow_tuple=True).names == ("dout", "y", "x")
    with pytest.raises(ParseError, match="tuple"):
        parse("dout*y, dout*x")
    with pytest.raises(ParseError, match="tuple"):
        parse("x + (x, y)", allow_tuple=True)


# -- hostile input -----------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('touch /tmp/pwned')", "'__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", "'.__class__'"),
    ("np.__dict__", "'.__dict__'"),
    ("x.__class__", "'.__class__'"),
    ("x.real", "'.real'"),
    ("os.system('ls')", "'.system'"),
    ("np.linalg.norm(x)", "not allowed"),
    ("lambda: 1", "lambda"),
    ("[i for i in range(10)]", "comprehension"),
    ("(i for i in x)", "generator"),
    ("open('/tmp/x','w')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("exec('1')", "unknown function 'exec'"),
    ("getattr(x, 'y')", "unknown function 'getattr'"),
    ("(x + 1)(2)", "whitelisted"),
    ("np.exp(x)(1)", "whitelisted"),
    ("9**9**9**9", "exponent 387420489 is too large (limit 64)"),
    ("x**(10**10)", "exponent 10000000000 is too large"),
    ("2**1000000", "exponent 1000000 is too large"),
    ("np.power(x, 100)", "exponent 100 is too large"),
    ("(2**64)**64", "outside"),
    ("10.0**-64*1e-300", "outside"),
    ("(-2)**x", "only a positive base"),
    ("0**x", "only a positive base"),
    ("np.clip(x, 2, 1)", "above hi"),
    ("((1.000001**64)**64)**64", "too many digits"),
    ("((np.sqrt(3)*7**(1/3))**64)**64", "too many digits"),
    ("((x**64)**64)**2", "limit 4096"),
    ("+".join(["x"] * 80), "nested too deeply"),
    ('"a"', "a string is not allowed"),
    ("b'a'", "a string is not allowed"),
    ('f"{x}"', "f-strings"),
    ("(y := 1)", ":="),
    ("x if x else 1", "np.where"),
    ("x[0]", "subscript"),
    ("*x", "syntax error"),
    ("np.exp(*x)", "starred"),
    ("{x: 1}", "dict"),
    ("{x}", "set"),
    ("[x]", "list"),
    ("("*5000 + "x" + ")"*5000, "too long"),
    ("("*150 + "x" + ")"*150, "nested too deeply"),
    ("np.exp(" * 61 + "x" + ")" * 61, "nested too deeply"),
    ("-"*1999 + "x", "nested too deeply"),
    ("+".join(["(x*y + y*x)"] * 60), "too large"),
    ("x"*5000, "too long"),
    ("x\x00", "NUL"),
    ("1e999", "too large"),
    ("1e-999", "too small"),
    ("1" + "0"*400, "too large"),
    ("x is y", "<, <=, >, >=, ==, !="),
    ("x in y", "<, <=, >, >=, ==, !="),
    ("0 < x < 1", "chained"),
    ("x > 0 and x < 1", "'and'"),
    ("not x", "'not'"),
    ("x & y", "comparison"),
    ("np.where(x, 1, 2)", "comparison"),
    ("x // 2", "'//'"),
    ("x % 2", "'%'"),
    ("x @ y", "'@' needs arrays"),
    ("x ^ 2", "**"),
    ("x << 2", "'<<'"),
    ("1j", "a complex number is not allowed"),
    ("True", "True is not allowed"),
    ("None", "None is not allowed"),
    ("...", "Ellipsis"),
    ("1/0", "division by zero"),
    ("np.log(0)", "undefined"),
    ("x*np.arctanh(1.05)", "not a real number"),
    ("np.where(x > 9, x, np.sqrt(-2.0))", "not a real number"),
    ("np.exp", "call it"),
    ("np", "module"),
    ("exp + 1", "call it"),
    ("np.foo(x)", "unknown function 'np.foo'"),
    ("np.sum(x, axis=0)", "axis 0 is out of range for shape () (a scalar"),
    ("np.gamma(x)", "unknown function 'np.gamma'"),
    ("np.exp(x, out=y)", "keyword"),
    ("np.exp(x, y)", "np.exp() takes 1 argument, got 2"),
    ("np.where(x > 0, x)", "takes 3 arguments"),
    ("x" * 33, "32 characters"),
    ("x +", "syntax error"),
    ("2if x else 3", "syntax error"),
    ("", "empty"),
    ("   \n ", "empty"),
    ("await x", ""),
    ("(yield x)", ""),
    ("x, y", "tuple"),
]


@pytest.mark.parametrize("text, fragment", HOSTILE, ids=[repr(t[:30]) for t, _ in HOSTILE])
def test_hostile_input_is_refused(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, DeriveError)


@pytest.mark.parametrize("payload", [
    "open({path!r}, 'w')",
    "__import__('pathlib').Path({path!r}).touch()",
    "().__class__.__base__.__subclasses__()[0]({path!r})",
    "[open({path!r}, 'w') for _ in (1,)]",
    "np.where(open({path!r}, 'w'), 1, 2)",
])
def test_hostile_input_has_no_side_effect(tmp_path, payload):
    target = tmp_path / "pwned"
    with pytest.raises(ParseError):
        parse(payload.format(path=str(target)))
    assert not target.exists()


def test_parser_never_runs_or_sympifies_text(monkeypatch):
    real_compile = builtins.compile

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile() used to produce code"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("forbidden call")

    monkeypatch.setattr(builtins, "compile", ast_only_compile)
    for module, name in [(builtins, "eval"), (builtins, "exec"), (sympy, "sympify"),
                         (sympy, "parse_expr"), (sympy, "lambdify")]:
        monkeypatch.setattr(module, name, forbidden)
    assert same(parse("np.where(x > 0, dout, 0.01*dout) + np.log1p(np.exp(x))"),
                sympy.Piecewise((dout, x > 0), (dout / 100, True)) + sympy.log(1 + sympy.exp(x)))


def test_source_names_no_code_runner():
    tree = ast.parse(Path(parse_module.__file__).read_text())
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not used & {"eval", "exec", "compile", "sympify", "parse_expr", "S", "lambdify", "__import__"}


# -- error messages ------------------------------------------------------------------

@pytest.mark.parametrize("text, column", [
    ("x + __foo", 5),
    ("  x + __foo", 7),
    ("x.__class__", 2),
    ("np.exp(x) + y.real", 14),
    ("__import__('os').system('ls')", 1),
    ("x + y[0]", 5),
    ("1 +* 2", 4),
    ("é + 1j", 5),                     # columns count characters, not UTF-8 bytes
    ("x\x00", 2),
])
def test_error_column(text, column):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.column == column
    assert str(caught.value).startswith(f"column {column}: ")
    assert caught.value.text == text


def test_unknown_name_lists_known_names_and_suggests():
    names = {"x": x, "out": out, "dout": dout}
    with pytest.raises(ParseError) as caught:
        parse("dout*outt", names)
    message = str(caught.value)
    assert message.startswith("column 6: unknown name 'outt' (known: dout, out, x)")
    assert "did you mean out" in message
    with pytest.raises(ParseError, match=r"column 1: unknown name 'y' \(known: dout, out, x\)"):
        parse("y", names)


def test_suspicious_literal_is_refused_without_printing_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ParseError, match="column 1: syntax error"):
            parse("1or x")
    assert caught == []


def test_unknown_function_suggests_close_spelling():
    with pytest.raises(ParseError, match="did you mean np.exp"):
        parse("np.epx(x)")


# -- random formulas, compared with an independent math evaluation --------------------

NUMBERS = st.tuples(st.integers(0, 30), st.integers(0, 9)).map(
    lambda t: ("num", f"{t[0]}.{t[1]}" if t[1] else str(t[0])))
LEAVES = st.one_of(st.sampled_from([("name", "x"), ("name", "y")]), NUMBERS)
CALLS = {"exp": math.exp, "np.exp": math.exp, "math.exp": math.exp, "log": math.log,
         "np.log": math.log, "tanh": math.tanh, "np.tanh": math.tanh, "numpy.log1p": math.log1p,
         "np.sqrt": math.sqrt, "np.expm1": math.expm1}


def extend(children):
    return st.one_of(
        st.tuples(st.just("bin"), st.sampled_from("+-*/"), children, children),
        st.tuples(st.just("pow"), children, st.integers(-2, 3)),
        st.tuples(st.just("neg"), children),
        st.tuples(st.just("call"), st.sampled_from(sorted(CALLS)), children),
    )


TREES = st.recursive(LEAVES, extend, max_leaves=12)


def to_text(tree) -> str:
    kind = tree[0]
    if kind in ("num", "name"):
        return tree[1]
    if kind == "bin":
        return f"({to_text(tree[2])} {tree[1]} {to_text(tree[3])})"
    if kind == "pow":
        return f"({to_text(tree[1])})**{tree[2]}"
    if kind == "neg":
        return f"-({to_text(tree[1])})"
    return f"{tree[1]}({to_text(tree[2])})"


class IllConditioned(Exception):
    pass


def evaluate(tree, env, sizes) -> float:
    """Plain-float evaluation of the test's own tree; ``sizes`` collects magnitudes."""
    kind = tree[0]
    if kind == "num":
        result = float(tree[1])
    elif kind == "name":
        result = env[tree[1]]
    elif kind == "bin":
        a, b = evaluate(tree[2], env, sizes), evaluate(tree[3], env, sizes)
        result = {"+": a + b, "-": a - b, "*": a * b}[tree[1]] if tree[1] != "/" else a / b
        if tree[1] in "+-" and abs(result) < 1e-4 * max(abs(a), abs(b)):
            raise IllConditioned                      # cancellation: floats and exact differ
    elif kind == "pow":
        result = evaluate(tree[1], env, sizes) ** tree[2]
    elif kind == "neg":
        result = -evaluate(tree[1], env, sizes)
    else:
        function, argument = CALLS[tree[1]], evaluate(tree[2], env, sizes)
        result = function(argument)
        nudged = function(argument * (1 + 1e-7))      # condition number, e.g. log near 1
        if result == 0 or abs(nudged - result) > 1e4 * 1e-7 * abs(result):
            raise IllConditioned
    if isinstance(result, complex) or not math.isfinite(result):
        raise OverflowError
    sizes.append(abs(result))
    return result


POINTS = [(0.7, 1.3), (-0.4, 2.5), (1.5, -0.25)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(TREES)
def test_random_formulas_match_math(tree):
    text = to_text(tree)
    expected = []
    for point in POINTS:
        sizes = []
        try:
            value = evaluate(tree, {"x": point[0], "y": point[1]}, sizes)
        except (ValueError, OverflowError, ZeroDivisionError, IllConditioned):
            assume(False)
        assume(max(sizes) < 1e100 and min(s for s in sizes + [1.0] if s) > 1e-100)
        expected.append((point, value, max(sizes + [1.0])))
    try:
        expr = parse(text)
    except ParseError as exc:
        assume("undefined" not in str(exc))           # exact arithmetic found a zero floats missed
        raise
    for (xv, yv), value, scale in expected:
        subs = {x: sympy.Rational(str(xv)), y: sympy.Rational(str(yv))}
        got = complex(sympy.N(expr.xreplace(subs), 30))
        assert abs(got.imag) <= 1e-9 * scale
        assert abs(got.real - value) <= 1e-9 * scale, (text, got, value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60),
                 st.text(alphabet="xy01239.e+-*/()<>=&|~, np.explogwhere_[]:'", max_size=60)))
def test_arbitrary_text_parses_or_raises_parse_error(text):
    try:
        result = parse(text)
    except ParseError as exc:
        assert str(exc)
    else:
        assert isinstance(result, sympy.Basic)
