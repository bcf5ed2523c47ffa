"""The algebra between the node-by-node result and the cached form, step by step.

The expected lines are the book's (volume 1, 5.5.2): dout·y²·e^{−x} written as
1/(1+e^{−x}) · e^{−x}/(1+e^{−x}), then 1/(1+e^{−x}) · (1 − 1/(1+e^{−x})), then y(1−y).
"""
import sympy as sp

from derive import derive
from derive.algebra import book_route, plain, small_steps

x = sp.Symbol("x", real=True)
out = sp.Symbol("out", real=True)
dout = sp.Symbol("dout", real=True)
F = 1 / (1 + sp.exp(-x))


def _held(e):
    return {a.args[0] for a in sp.preorder_traversal(e) if isinstance(a, sp.UnevaluatedExpr)}


def test_sigmoid_follows_the_book():
    d = derive("sigmoid")
    moves = [s for s in d.steps if s.kind == "rewrite" and s.target == "x"]
    assert [s.rule for s in moves] == ["substitute", "split the fraction", "what remains",
                                       "recognise y"]
    assert sp.simplify(plain(moves[0].expr) - dout * sp.exp(-x) / (1 + sp.exp(-x))**2) == 0
    assert _held(moves[1].expr) == {F, sp.exp(-x) / (1 + sp.exp(-x))}
    assert _held(moves[2].expr) == {F, 1 - F}
    assert moves[-1].expr == dout * out * (1 - out)
    assert moves[3].using == (F, out)
    for s in moves:      # every line proven against the one before
        assert s.proof.points > 0 and "previous line" in s.proof.detail


def test_sigmoid_local_derivative_raw_then_cached():
    d = derive("sigmoid")
    step = next(s for s in d.steps if s.kind == "chain" and s.target == "c")
    c = sp.Symbol("c", real=True)
    assert step.raw == -1 / c**2 and step.local == -out**2
    assert "local derivative equals its cached form" in step.proof.detail
    step = next(s for s in d.steps if s.kind == "chain" and s.target == "a")
    assert step.raw == sp.exp(sp.Symbol("a", real=True)) and step.local == sp.exp(-x)


def test_raw_form_left_out_when_it_is_the_cached_form():
    d = derive("sigmoid")
    step = next(s for s in d.steps if s.kind == "chain" and s.target == "x")   # ×(−1)
    assert step.raw is None


def test_book_route_refuses_a_form_without_a_power_of_out():
    assert book_route(dout * sp.exp(x), dout * sp.exp(out), sp.log(x), out) is None
    assert book_route(dout * out, dout * out, x, out) is None


def test_small_steps_multiply_out_then_factor():
    y = sp.Symbol("y")
    moves = small_steps(y * (y + 1) + y, y * (y + 2))
    assert [m[0] for m in moves] == ["multiply out", "factor"]
    assert moves[0][1] == y**2 + 2 * y
    assert small_steps(y + 1, y + 1) == [("simplify", y + 1, "", ())]


def test_batchnorm_dx_reaches_the_compact_form_through_steps():
    d = derive("batchnorm")
    steps = d.steps
    at = max(i for i, s in enumerate(steps) if s.kind == "sum" and s.target == "x")
    moves = [s for s in steps[at + 1:] if s.target == "x" and s.kind == "rewrite"]
    assert len(moves) >= 2                       # not one jump to the closed form
    assert moves[0].rule == "each term"
    assert len(sp.Add.make_args(moves[0].expr)) >= 2         # each term on its own
    assert len(sp.Add.make_args(moves[-1].expr)) == 1       # collected
    for s in moves:
        assert "previous line" in s.proof.detail


def test_batchnorm_xc_substitution_is_shown_with_its_identity():
    d = derive("batchnorm")
    sub = next(s for s in d.steps if s.kind == "rewrite" and s.target == "xc"
               and s.rule == "substitute")
    assert {q.name for q in sub.using[0].free_symbols} == {"xc"}
    assert {q.name for q in sub.using[1].free_symbols} == {"xn", "std"}
