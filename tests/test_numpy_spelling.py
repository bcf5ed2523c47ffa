"""Derive speaks its parser's language: every result it prints reads back as the same
expression (issue 9, item 6).

Driven by the tables: every catalogue layer, and one user formula per elementwise entry
of the rule table (:data:`derive.rules.SPELLINGS`), each spelling of it parsed too. The
JSON ``result``/``cache``/``forward`` text is parsed back with the safe parser and
compared with the derived expression, exactly and at random points.
"""
from __future__ import annotations

import json
import random
import re
from decimal import Decimal, localcontext

import pytest
import sympy as sp

from derive import branches, catalogue, derive
from derive.branches import prune_branches
from derive.errors import DeriveError
from derive.parse import parse_formula
from derive.proof import Proof, compare
from derive.render.json import to_dict
from derive.render.printers import latex, text
from derive.rules import SPELLINGS, Rule

#: SymPy's own spellings that the parser refuses, and NumPy names written without np.
FORBIDDEN = re.compile(r"Abs\(|Piecewise\(|Max\(|Min\(|Heaviside|DiracDelta|(?<![\w.])"
                       r"(where|maximum|minimum|exp|log|tanh|sqrt|sign|abs|erf)\(|\bE\b|"
                       r"(?<![\w.])pi\b")

#: a fraction with a long denominator: what a decimal constant must not become
LONG_FRACTION = re.compile(r"/\d{7,}")

#: one formula per elementwise entry; {f} is the spelling, arguments kept in the domain
FORMULAS = {
    "log": "{f}(x*x + 1)", "log2": "{f}(x*x + 1)", "log10": "{f}(x*x + 1)",
    "sqrt": "{f}(x*x + 1)", "reciprocal": "{f}(x*x + 1)", "log1p": "{f}(x*x)",
    "arcsin": "{f}(np.tanh(x)/2)", "arccos": "{f}(np.tanh(x)/2)",
    "arctanh": "{f}(np.tanh(x)/2)", "tan": "{f}(np.tanh(x))", "arccosh": "{f}(x*x + 2)",
    "floor": "x*{f}(x)", "ceil": "x*{f}(x)", "rint": "x*{f}(x)", "sign": "x*{f}(x)",
    "abs": "{f}(x - t)", "absolute": "{f}(x - t)", "fabs": "{f}(x - t)",
    "maximum": "{f}(x*t, 1 - x)", "minimum": "{f}(x*t, 1 - x)", "fmax": "{f}(x, 0.5*t)",
    "fmin": "{f}(x, 0.5*t)", "max": "{f}(x, t)", "min": "{f}(x, t)",
    "power": "{f}(x*x + 1, t)", "float_power": "{f}(x*x + 1, 1.5)",
    "logaddexp": "{f}(x, t)", "logaddexp2": "{f}(x, t)", "hypot": "{f}(x, t)",
    "heaviside": "x*{f}(x, 0.5)", "clip": "{f}(x, -1, 1.5)",
    "add": "{f}(x, t*t)", "subtract": "{f}(x, t*t)", "multiply": "{f}(x, t*t)",
    "divide": "{f}(x, t*t + 1)", "true_divide": "{f}(x, t*t + 1)",
    "negative": "x*{f}(x)", "positive": "x*{f}(x)",
    "where": "{f}(x > t, x*t, np.exp(x))",
    "logical_and": "np.where({f}(x > 0, t < 1), x*t, -x)",
    "logical_or": "np.where({f}(x > 0, t < 1), x*t, -x)",
    "logical_not": "np.where({f}(x > t), x, 0.5*x)",
}
DEFAULT = "{f}(x)"

#: decimals, constants and several kinks, as people write activations
EXTRA = [
    "1.0507009873554805*np.where(x > 0, x, 1.6732632423543772*np.expm1(x))",   # SELU
    "0.5*x*(1 + np.tanh(np.sqrt(2/np.pi)*(x + 0.044715*x**3)))",                 # tanh-GELU
    "np.where(np.abs(x - t) < 1, 0.5*(x - t)**2, np.abs(x - t) - 0.5)",          # Huber
    "np.maximum(0, 1 - t*x)**2",                                                  # squared hinge
    "np.minimum(np.maximum(x + 3, 0), 6)/6",                                      # hard sigmoid
    "np.e**x*t + 0.001*x",
    "np.where((x > 0) & (t > 0), x*t, np.where((x < -1) | (t < -1), -x, 0))",
]


def _entries() -> dict:
    """entry name -> every spelling of it, for the elementwise entries of the table."""
    out: dict = {}
    for spelled, entry in SPELLINGS.items():
        if isinstance(entry, Rule) and entry.structural:
            continue
        out.setdefault(entry.name, []).append(spelled)
    return out


ENTRIES = _entries()
USER = [FORMULAS.get(name, DEFAULT).format(f=spelled[0]) for name, spelled in ENTRIES.items()]


def _derive(formula: str):
    try:
        return derive(expr=formula)
    except DeriveError as exc:         # the engine's limits are other tests' business
        pytest.skip(f"derive refuses {formula}: {exc}")


def _value(e, point):
    v = complex(e.xreplace(point).evalf(30))
    return v if v.imag == 0 and abs(v.real) < 1e100 else None


def _agree_numerically(back, expected, symbols, seed: int) -> int:
    """The two expressions at random points (where the expected one is real and finite);
    returns how many points were compared."""
    rng = random.Random(seed)
    compared = 0
    for _ in range(40):
        point = {s: sp.Float(rng.randint(-3000, 3000) / 1000, 30) for s in symbols}
        want = _value(expected, point)
        if want is None:
            continue
        got = _value(back, point)
        assert got is not None and abs(got - want) <= 1e-12 * max(1.0, abs(want)), \
            (back, expected, point)
        compared += 1
    return compared


def _assert_reads_back(shown: str, expected, names, seed: int = 0) -> None:
    assert not FORBIDDEN.search(shown) and not LONG_FRACTION.search(shown), shown
    back = parse_formula(shown, names).expr
    if back == expected:
        return
    from derive.tensor import shape_of
    if shape_of(expected):               # arrays: the tensor prover, at random arrays
        from derive.tensorproof import numeric_compare, prove_tensor
        prove_tensor(back, expected)
        agreed, bad = numeric_compare(back, expected)
        assert bad is None and agreed >= 4, (shown, bad)
        return
    proof = compare(back, expected)      # the engine's prover: regions for the branches
    assert isinstance(proof, Proof) and not proof.kink_note, (shown, expected, proof)
    symbols = sorted(expected.free_symbols | back.free_symbols, key=str)
    assert _agree_numerically(back, expected, symbols, seed) >= 10


def _assert_every_text_reads_back(d) -> None:
    data = to_dict(d)
    names = d.spec.symbols()
    for name, shown in data["result"].items():
        _assert_reads_back(shown, d.result[name], names)
    inputs = {s.name: s for s in (*d.spec.differentiable, *d.spec.consts, *d.spec.params)}
    inputs.update({dim.name: dim for dim in d.spec.dims()})
    for name, shown in data["cache"].items():
        _assert_reads_back(shown, d.spec.named()[name], inputs)
    for step in data["steps"]:
        for key in ("expr", "upstream", "local"):
            assert not FORBIDDEN.search(step.get(key) or ""), (key, step)
    assert not FORBIDDEN.search(data["forward"])
    assert not FORBIDDEN.search(json.dumps(data["statements"]))
    for node in data["graph"]["nodes"]:
        assert not FORBIDDEN.search(node["expr"]), node
    displayed = [line for line in d.to_text().splitlines() if line.startswith("    ")
                 and "─" not in line]      # the graph's edge list draws node labels, not code
    assert displayed and not any(FORBIDDEN.search(line) for line in displayed), [
        line for line in displayed if FORBIDDEN.search(line)]


@pytest.mark.parametrize("name", catalogue.names())
def test_catalogue_results_read_back(name):
    _assert_every_text_reads_back(derive(name))


@pytest.mark.parametrize("formula", USER + EXTRA)
def test_user_results_read_back(formula):
    d = _derive(formula)
    _assert_every_text_reads_back(d)
    for name, shown in to_dict(d)["result"].items():   # and at numbers, always
        back = parse_formula(shown, d.spec.symbols()).expr
        symbols = sorted(d.result[name].free_symbols, key=str)
        assert _agree_numerically(back, d.result[name], symbols, seed=len(formula)) >= 10


def test_selu_constants_read_as_typed():
    """λ stays as typed; λ·α is one exact decimal (computed here with Python's decimal)."""
    lam, alpha = "1.0507009873554805", "1.6732632423543772"
    shown = to_dict(_derive(EXTRA[0]))["result"]["x"]
    assert f"{lam}*dout" in shown
    with localcontext() as exact:
        exact.prec = 60
        product = str((Decimal(lam) * Decimal(alpha)).normalize())
    assert product == "1.7580993408473767818340515842446"
    assert f"{product}*dout*np.exp(x)" in shown


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_spelling_of_an_entry_means_the_same(name):
    """The formula of each entry, written with each of its spellings, parses to one
    expression, and that expression printed reads back as itself."""
    template = FORMULAS.get(name, DEFAULT)
    parsed = {s: parse_formula(template.format(f=s)).expr for s in ENTRIES[name]}
    first = next(iter(parsed.values()))
    assert all(e == first for e in parsed.values()), parsed
    _assert_reads_back(text(first), first, None)


# --- the printer, against spellings written from NumPy's documentation ------------------------

x, t = sp.symbols("x t", real=True)


@pytest.mark.parametrize("expr, want", [
    (sp.exp(x) + sp.log(t), "np.exp(x) + np.log(t)"),
    (sp.Abs(x), "np.abs(x)"),
    (sp.sign(x) * sp.tanh(t), "np.tanh(t)*np.sign(x)"),     # SymPy orders the factors
    (sp.sqrt(x), "np.sqrt(x)"),
    (1 / sp.sqrt(x), "1/np.sqrt(x)"),
    (sp.Max(x, t), "np.maximum(t, x)"),
    (sp.Min(x, t, 1), "np.minimum(1, np.minimum(t, x))"),
    (sp.Piecewise((x, x > 0), (t, x < -1), (0, True)),
     "np.where(x > 0, x, np.where(x < -1, t, 0))"),
    (sp.Piecewise((x, (x > 0) | (t < 1)), (0, True)), "x*((x > 0) | (t < 1))"),
    (sp.Piecewise((1, ~((x > 0) & (t > 0))), (2, True)), "np.where(~((t > 0) & (x > 0)), 1, 2)"),
    (sp.Piecewise((x, sp.Eq(x, 0)), (t, True)), "np.where(x == 0, x, t)"),
    (sp.Piecewise((x, sp.Ne(x, 0) & (t > 0)), (0, True)), "x*((t > 0) & (x != 0))"),
    (sp.pi * x + sp.E, "np.pi*x + np.e"),
    (sp.atan(x) + sp.asinh(t), "np.arcsinh(t) + np.arctan(x)"),
    (sp.ceiling(x), "np.ceil(x)"),
    (sp.erf(x), "scipy.special.erf(x)"),
    (sp.Heaviside(x), "np.heaviside(x, 1/2)"),
])
def test_text_spells_functions_as_numpy(expr, want):
    assert text(expr) == want
    _assert_reads_back(want, expr, {"x": x, "t": t})


@pytest.mark.parametrize("literal, want_text, want_latex", [
    ("1.0507009873554805", "1.0507009873554805*x", "1.0507009873554805 x"),
    ("0.044715", "0.044715*x", "0.044715 x"),
    ("-0.01", "-0.01*x", "-0.01 x"),
    ("1e-20", "1e-20*x", "10^{-20} x"),
    ("2.5e-12", "2.5e-12*x", r"2.5 \cdot 10^{-12} x"),
    ("0.5", "x/2", r"\frac{x}{2}"),          # a fraction no longer than the decimal stays
    ("0.25", "x/4", r"\frac{x}{4}"),
])
def test_decimal_constants_stay_decimal(literal, want_text, want_latex):
    value = parse_formula(literal).expr
    expr = value * x
    assert text(expr) == want_text and latex(expr) == want_latex
    assert parse_formula(want_text, {"x": x}).expr == expr       # the very same Rational


@pytest.mark.parametrize("value, want", [
    (sp.Rational(1, 3), "x/3"), (sp.Rational(2, 7), "2*x/7"), (sp.Rational(3, 2), "3*x/2"),
])
def test_other_rationals_stay_fractions(value, want):
    assert text(value * x) == want


def test_random_decimals_read_back_exactly():
    """Decimal literals of up to 17 digits: the text parses back to the very same Rational,
    and a long fraction (a denominator of 7 digits or more) is never printed."""
    rng = random.Random(9)
    for _ in range(300):
        digits = rng.randint(1, 17)
        mantissa = rng.randint(1, 10**digits) * rng.choice((1, -1))
        value = sp.Rational(mantissa) * sp.Rational(10) ** rng.randint(-40, 5)
        for expr in (value, value * x, value + x, x**2 / value):
            shown = text(expr)
            assert parse_formula(shown, {"x": x}).expr == expr, (shown, expr)
        if value.q >= 10**6:
            assert "/" not in text(value * x), text(value * x)


# --- pruned branches (derive.branches): what must change, what must not, equal everywhere ---


dout = sp.Symbol("dout", real=True)
PW = sp.Piecewise


def _mask(cond):
    return PW((1, cond), (0, True))


@pytest.mark.parametrize("before, after", [
    # x > 1 cannot hold once x > 0 was not taken
    (PW((x, x > 0), (2 * x, x > 1), (0, True)), PW((x, x > 0), (0, True))),
    # (x <= 0) & (t > 1) after x > 0 was not taken: the x <= 0 is decided
    (PW((t, x > 0), (2 * t, (x <= 0) & (t > 1)), (0, True)),
     PW((t, x > 0), (2 * t, t > 1), (0, True))),
    # one value on both sides: np.where(c, a, a) is a
    (PW((x * t, x > 0), (x * t, True)) + 1, x * t + 1),
    # a mask the branch decides: dout*(x > 0) where x > 1 holds
    (PW((dout * _mask(x > 0), x > 1), (0, True)), PW((dout, x > 1), (0, True))),
    # an |: the disjunct x > 1 cannot hold after x > 0 was not taken
    (PW((1, x > 0), (2, (x > 1) | (t > 0)), (3, True)), PW((1, x > 0), (2, t > 0), (3, True))),
    # (t > 1) & (x > 1) would need (t > 0) & (x > 0), whose branch was taken before
    (PW((1, (x > 0) & (t > 0)), (2, (x > 1) & (t > 1)), (3, True)),
     PW((1, (x > 0) & (t > 0)), (3, True))),
    # one linear form, scaled: 2x - 2t <= 1 leaves no room for x - t > 1
    (PW((1, 2 * x - 2 * t > 1), (2, x - t > 1), (3, True)), PW((1, 2 * x - 2 * t > 1), (3, True))),
    # x = 1 was taken by x > 0; x != 1 always holds once x < 0
    (PW((1, x > 0), (2, sp.Eq(x, 1)), (3, True)), PW((1, x > 0), (3, True))),
    (PW((1, x >= 0), (2, sp.Ne(x, 1)), (3, True)), PW((1, x >= 0), (2, True))),
    # inside a branch: the inner where repeats the outer condition
    (PW((PW((x, t * x < 1), (t, True)), t * x < 1), (0, True)), PW((x, t * x < 1), (0, True))),
    # masks side by side: the one the other decides goes, contradictory ones make 0
    (dout * t * _mask(x > 1) * _mask(x > 0), dout * t * _mask(x > 1)),
    (dout * _mask(t > 0) * _mask(t < -1) + x, x),
    (dout * _mask(x > 0) * (_mask(x <= 0) * t + 2), 2 * dout * _mask(x > 0)),
    # complementary masks in a sum: r*[c] + r*[not c] is r
    (dout * _mask(x > 0) + dout * _mask(x <= 0) + t, dout + t),
    (PW((dout * t, t * x < 1), (0, True)) + PW((dout * t, t * x >= 1), (0, True)), dout * t),
    # adjacent equal values merge into one condition
    (PW((x, x > 1), (x, x < -1), (0, True)), PW((x, (x > 1) | (x < -1)), (0, True))),
    # the kept branches cover everything: the last of them becomes the otherwise (np.clip's
    # three pieces once the where around them is pruned), never a where with no otherwise
    (PW((1, (x >= -2) & (x <= 2)), (2, x < -2), (3, x > 2), (4, True)),
     PW((1, (x >= -2) & (x <= 2)), (2, x < -2), (3, True))),
])
def test_prune_branches_changes(before, after):
    pruned = prune_branches(before)
    assert pruned == after, pruned
    assert _equal_at_points(pruned, before)


@pytest.mark.parametrize("expr", [
    PW((1, x > 0), (2, x < -1), (3, True)),
    PW((1, x > 0), (2, x >= 0), (3, True)),          # x = 0 reaches the second branch
    PW((t, x > 0), (2 * t, (x <= -1) & (t > 1)), (0, True)),    # x <= -1 is still open
    PW((1, x > t), (2, x > 0), (3, True)),           # two different linear forms
    PW((x, t * x > 1), (0, True)),
    PW((1, x > 0)),                                   # no otherwise: undefined stays undefined
    PW((x, x > 0), (-x, True)) * PW((t, t > x), (0, True)),   # different conditions
    sp.exp(x) + 1,
    dout * _mask(x > 0),
    _mask(x > 0) * _mask(x < -1) / x,             # nan at x = 0 (0/0), not 0: left alone
    dout * _mask(x > 0) * _mask(t > 0),
    dout * _mask(x > 0) + dout * _mask(x < 0),        # x = 0 is in neither
    dout * _mask(x > 0) + t * _mask(x <= 0),
])
def test_prune_branches_leaves_alone(expr):
    assert prune_branches(expr) == expr


def _equal_at_points(a, b, n: int = 120, seed: int = 1) -> bool:
    """``a`` and ``b`` agree exactly at rational points, the integers and halves included
    (the conditions' thresholds are there)."""
    rng = random.Random(seed)
    for _ in range(n):
        point = {s: sp.Rational(rng.randint(-8, 8), rng.choice((1, 2, 4))) for s in (x, t, dout)}
        va, vb = a.xreplace(point), b.xreplace(point)
        if va != vb and not (va is sp.nan and vb is sp.nan):
            return False
    return True


def _random_piecewise(rng):
    forms = [x, t, x - t, x + t, 2 * x - t, t * x]
    def cond():
        rel = rng.choice((sp.Gt, sp.Ge, sp.Lt, sp.Le))(rng.choice(forms),
                                                     sp.Rational(rng.randint(-4, 4), 2))
        roll = rng.random()
        if roll < 0.2:
            return rel & cond()
        if roll < 0.3:
            return rel | cond()
        return rel
    values = [x, t, x * t, sp.Integer(1), sp.Integer(0)]
    def value(depth):
        roll = rng.random()
        if depth < 2 and roll < 0.3:
            return rng.choice(values) * piece(depth + 1)
        if depth < 2 and roll < 0.5:
            return rng.choice(values) * _mask(cond()) + rng.choice(values) * _mask(cond())
        return rng.choice(values)
    def piece(depth):
        pieces = [(value(depth), cond()) for _ in range(rng.randint(1, 4))]
        return PW(*pieces, (value(depth), True))
    return piece(0)


def test_prune_branches_is_equal_on_random_branches():
    rng = random.Random(2024)
    changed = 0
    for _ in range(120):
        e = _random_piecewise(rng)
        pruned = prune_branches(e)
        changed += pruned != e
        assert _equal_at_points(pruned, e, n=40, seed=rng.randint(0, 10**6)), (e, pruned)
        assert sp.count_ops(pruned) <= sp.count_ops(e), (e, pruned)
    assert changed >= 20                   # the tidy does something on these, not nothing


def test_prune_branches_is_bounded(monkeypatch):
    expr = PW((x + t, x > 0), (x + t, True))
    assert prune_branches(expr) == x + t
    monkeypatch.setattr(branches, "MAX_NODES", 5)      # more nodes than that: left as it is
    assert prune_branches(expr) is expr


def test_a_nested_where_result_is_pruned():
    """The derived gradient of a nested where carries conditions that cannot hold
    ((t > 0) & (t < -1) ...); pruned, it reads as the formula was written."""
    d = _derive(EXTRA[-1])
    steps = [s for s in d.steps if s.target == "x"]
    k = next(i for i, s in enumerate(steps) if s.rule == "prune branches")   # a shown step
    raw, pruned = steps[k - 1].expr, steps[k].expr
    assert _equal_at_points(pruned, raw)
    assert sp.count_ops(pruned) < sp.count_ops(raw)
    assert pruned == prune_branches(pruned)  # a second pass has nothing left to do
    assert d.result["x"] == pruned
    _assert_reads_back(text(pruned), pruned, d.spec.symbols())
