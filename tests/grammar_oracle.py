"""The numeric oracle of the grammar fuzz: 50-digit central differences of the forward.

:func:`agreement` checks each derived gradient (text, as ``derive show --format json``
gives it) against central differences of the forward in mpmath at 50 digits, at random
points where the forward is real and finite, away from its kinks and switches: a
condition's two sides or a kink's argument within :data:`NEAR`, one-sided differences that
disagree, or two step sizes that do not settle all skip the point. Written independently of
the engine: its own evaluator (:func:`evaluate`) walks the SymPy tree the safe parser
builds; only functions it does not know fall back to SymPy's evalf.
"""
from __future__ import annotations

from collections import Counter

DIGITS = 50
NEAR = 1e-6            # a switch (a condition's two sides, a kink's argument) this close: skip


class Undefined(Exception):
    """The value is not real, not finite, or outside float range at this point."""


def _mp():
    import mpmath
    return mpmath


def _unary_table():
    import sympy as sp
    m = _mp()
    return {sp.exp: m.exp, sp.log: m.log, sp.tanh: m.tanh, sp.sinh: m.sinh, sp.cosh: m.cosh,
            sp.sin: m.sin, sp.cos: m.cos, sp.tan: m.tan, sp.asin: m.asin, sp.acos: m.acos,
            sp.atan: m.atan, sp.asinh: m.asinh, sp.acosh: m.acosh, sp.atanh: m.atanh,
            sp.erf: m.erf, sp.erfc: m.erfc, sp.Abs: abs, sp.sign: m.sign,
            sp.floor: m.floor, sp.ceiling: m.ceil}


def _by_name():
    """NumPy functions the rule table may define as its own SymPy classes, by NumPy's
    meaning (np.cbrt is the real cube root, np.rint rounds halves to even)."""
    m = _mp()
    return {"rint": m.nint, "cbrt": lambda u: m.sign(u) * m.cbrt(abs(u))}


_GROWS = ("exp", "sinh", "cosh")     # their argument is bounded first (exp(1e9) is not computed)


def evaluate(e, point: dict, memo=None):
    """``e`` (SymPy) at ``point`` (input name -> mpf), in mpmath at the working precision.

    Lazy in Piecewise branches (as the chosen branch is all that counts); raises
    :class:`Undefined` where a value is not real or leaves the float range.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> float(evaluate(sp.Piecewise((sp.log(x), x > 0), (0, True)), {"x": _mp().mpf(-1)}))
    0.0
    """
    memo = {} if memo is None else memo
    if e in memo:
        return memo[e]
    m = _mp()
    value = _compute(e, point, memo)
    if isinstance(value, m.mpc):
        if value.imag != 0:
            raise Undefined("not real")
        value = value.real
    if not isinstance(value, bool) and not (m.isfinite(value) and abs(value) < m.mpf(10) ** 300):
        raise Undefined("outside float range")
    memo[e] = value
    return value


def _compute(e, point, memo):
    import sympy as sp
    from sympy.core.relational import Relational
    m = _mp()

    def ev(a):
        return evaluate(a, point, memo)

    if e.is_Symbol:
        return point[e.name]
    if e is sp.true or e is sp.false:
        return bool(e)
    if e.is_Rational:
        return m.mpf(e.p) / e.q
    if e.is_Float:
        return m.mpf(e)
    if e in (sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise Undefined("outside float range")
    if e is sp.pi or e is sp.E:
        return m.pi if e is sp.pi else m.e
    if isinstance(e, sp.Add):
        return m.fsum(ev(a) for a in e.args)
    if isinstance(e, sp.Mul):
        return m.fprod(ev(a) for a in e.args)
    if isinstance(e, sp.Pow):
        return _power(ev(e.base), e.exp, ev)
    if isinstance(e, Relational):
        left, right = ev(e.lhs), ev(e.rhs)
        return {"<": left < right, "<=": left <= right, ">": left > right,
                ">=": left >= right, "==": left == right, "!=": left != right}[e.rel_op]
    if isinstance(e, sp.And):
        return all(ev(a) for a in e.args)
    if isinstance(e, sp.Or):
        return any(ev(a) for a in e.args)
    if isinstance(e, sp.Not):
        return not ev(e.args[0])
    if isinstance(e, sp.ITE):           # SymPy's if-then-else of conditions
        return ev(e.args[1]) if ev(e.args[0]) else ev(e.args[2])
    if isinstance(e, sp.Piecewise):
        for value, condition in e.args:
            if ev(condition):
                return ev(value)
        raise Undefined("no branch")
    if isinstance(e, (sp.Max, sp.Min)):
        return (max if isinstance(e, sp.Max) else min)(ev(a) for a in e.args)
    if isinstance(e, sp.Heaviside):
        u = ev(e.args[0])
        return m.mpf(u > 0) if u != 0 else (ev(e.args[1]) if len(e.args) > 1 else m.mpf(0.5))
    if isinstance(e, sp.DiracDelta):
        if ev(e.args[0]) == 0:
            raise Undefined("outside float range")
        return m.mpf(0)
    args = [ev(a) for a in e.args]
    if any(isinstance(a, bool) for a in args):
        raise Undefined(f"a condition as the argument of {e.func}")
    fn = _unary_table().get(e.func) or _by_name().get(e.func.__name__)
    if fn is not None and len(args) == 1:
        if e.func.__name__ in _GROWS and (args[0] if e.func is sp.exp else abs(args[0])) > 700:
            raise Undefined("outside float range")      # exp(-800) is only tiny
        if e.func is sp.log and args[0] <= 0:
            raise Undefined("not real" if args[0] < 0 else "outside float range")
        return fn(args[0])
    # any other function (a primitive added later): SymPy's own evalf at the point
    try:
        value = e.func(*(sp.Float(a, DIGITS + 10) for a in args)).evalf(DIGITS + 5)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise Undefined(f"{e.func.__name__} does not evaluate ({type(exc).__name__})") from None
    if not (value.is_Number and value.is_real):
        raise Undefined("not real")
    return m.mpf(str(sp.Float(value, DIGITS + 5)))


def _power(base, exponent, ev):
    m = _mp()
    if exponent.is_Integer:
        if base == 0 and exponent < 0:
            raise Undefined("outside float range")
        if base != 0 and int(exponent) * m.log(abs(base)) > 700:
            raise Undefined("outside float range")
        return base ** int(exponent)
    power = ev(exponent)
    if base < 0:
        raise Undefined("not real")
    if base == 0:
        if power > 0:
            return m.mpf(0)
        raise Undefined("outside float range")
    if power * m.log(base) > 700:
        raise Undefined("outside float range")
    return base ** power


def switches(e) -> list:
    """(expression, kind) pairs whose zero is a kink or a switch of ``e``: a condition's
    two sides, the argument of abs/sign/Heaviside, the pairs of a max/min; for floor-like
    steps ("step") the argument's distance to an integer counts."""
    import sympy as sp
    from sympy.core.relational import Relational
    out = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, Relational):
            out.append((node.lhs - node.rhs, "zero"))
        elif isinstance(node, (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta)):
            out.append((node.args[0], "zero"))
        elif isinstance(node, (sp.Max, sp.Min)):
            out += [(a - b, "zero") for i, a in enumerate(node.args) for b in node.args[i + 1:]]
        elif getattr(node.func, "__name__", "") in ("floor", "ceiling", "rint", "trunc", "round"):
            out.append((node.args[0] * 2, "step"))      # integers and half-integers alike
    return out


def _near_switch(found, point) -> bool:
    m = _mp()
    for expr, kind in found:
        try:
            gap = evaluate(expr, point)
        except (Undefined, KeyError, TypeError):
            continue
        if isinstance(gap, bool):
            continue
        if kind == "step":
            gap = gap - m.nint(gap)
        if abs(gap) < NEAR:
            return True
    return False


def central_difference(forward, point: dict, name: str):
    """d forward / d name at ``point`` by 50-digit central differences; None when a kink is
    near (the one-sided differences disagree) or the differences do not settle."""
    m = _mp()
    v, f0 = point[name], evaluate(forward, point)
    scale = max(m.mpf(1), abs(v))

    def at(h):
        return evaluate(forward, {**point, name: v + h})

    h = m.mpf("1e-7") * scale
    right, left = (at(h) - f0) / h, (f0 - at(-h)) / h
    if abs(right - left) > m.mpf("1e-3") * (1 + abs(right) + abs(left)):
        return None
    wide, narrow = (m.mpf(k) * scale for k in ("1e-15", "1e-18"))
    d1 = (at(wide) - at(-wide)) / (2 * wide)
    d2 = (at(narrow) - at(-narrow)) / (2 * narrow)
    if abs(d1 - d2) > m.mpf("1e-18") * (1 + abs(d1)) + m.mpf("1e-28") * abs(f0):
        return None
    return d2


def _draw_point(rng, inputs) -> dict:
    m = _mp()
    point = {}
    for n in inputs:
        r = rng.random()
        v = rng.uniform(0.05, 3) if r < 0.45 else rng.uniform(-3, -0.05) if r < 0.85 else \
            rng.uniform(-0.7, 0.7)
        point[n] = m.mpf(f"{v:.6f}")
    return point


def agreement(text: str, results: dict, cache: dict, inputs, *, points: int = 3,
              seed: int = 0, tries: int = 40) -> dict:
    """input -> ("agree", why) | ("disagree", why) | ("skipped", why): each gradient (text
    in dout, the inputs and the cached names) against 50-digit central differences of the
    forward ``text``, at up to ``points`` random points where the forward is real and
    finite and no switch of the forward or of the gradient is near.

    >>> agreement("np.tanh(x)", {"x": "dout*(1 - out**2)"}, {"out": "tanh(x)"}, ["x"])
    {'x': ('agree', '3 points')}
    >>> agreement("np.tanh(x)", {"x": "dout*(1 - out)"}, {"out": "tanh(x)"}, ["x"])["x"][0]
    'disagree'
    """
    import random

    import sympy as sp

    from derive.parse import parse
    forward = parse(text)
    try:
        cached = {n: parse(v) for n, v in cache.items()}
    except Exception as exc:            # the round trip reports it; no numbers to compare
        return {n: ("skipped", f"the cache does not parse: {type(exc).__name__}") for n in results}
    gradients, verdict = {}, {}
    for name, g in results.items():
        try:
            e = parse(g)
        except Exception as exc:
            verdict[name] = ("skipped", f"the result does not parse: {type(exc).__name__}")
            continue
        repl = {s: cached[s.name] for s in e.free_symbols if s.name in cached}
        e = e.xreplace(repl)
        gradients[name] = e.xreplace({s: sp.Integer(1) for s in e.free_symbols
                                      if s.name == "dout"})
    found = switches(forward) + [s for g in gradients.values() for s in switches(g)]
    rng, agreed, why = random.Random(seed), Counter(), Counter()
    m = _mp()
    with m.workdps(DIGITS):
        for _ in range(tries):
            todo = [n for n in gradients if n not in verdict and agreed[n] < points]
            if not todo:
                break
            point = _draw_point(rng, inputs)
            try:
                f0 = evaluate(forward, point)
            except Undefined as u:
                why[f"forward {u}"] += 1
                continue
            if _near_switch(found, point):
                why["near a switch"] += 1
                continue
            for name in todo:
                try:
                    fd = central_difference(forward, point, name)
                except Undefined:
                    fd = None
                if fd is None:
                    why["near a kink or a domain edge"] += 1
                    continue
                at = ", ".join(f"{n} = {m.nstr(v, 8)}" for n, v in point.items())
                try:
                    g = evaluate(gradients[name], point)
                except Undefined as u:
                    verdict[name] = ("disagree", f"at {at} the gradient is {u}, the forward "
                                     f"{m.nstr(f0, 8)}, differences {m.nstr(fd, 12)}")
                    continue
                if isinstance(g, bool) or abs(g - fd) > m.mpf("1e-12") * (abs(g) + abs(fd)) \
                        + m.mpf("1e-25") * (1 + abs(f0)):
                    verdict[name] = ("disagree", f"at {at}: gradient {m.nstr(g, 12)}, "
                                     f"differences {m.nstr(fd, 12)}")
                    continue
                agreed[name] += 1
    for name in gradients:
        if name not in verdict:
            verdict[name] = (("agree", f"{agreed[name]} points") if agreed[name] else
                             ("skipped", why.most_common(1)[0][0] if why else "no point"))
    return verdict
