"""Scalar code for numba loops: one element's values as straight-line Python.

:class:`ScalarPrinter` prints a SymPy expression of scalars with the branch-free kernels
of :mod:`.numba_kernels` (``exp`` → ``_k_exp``, ``Piecewise`` → nested ``_k_where``: both
sides computed, then a select), constants as floats and small integer powers as
products. :func:`loop_source` turns expressions into one ``@njit`` loop over raveled
arrays: each element's inputs are loaded once (as float64), the expressions share their
common subexpressions (``sympy.cse``), and each result is stored into its array. Before
that, kernels that share work are called once: ``exp(-|u|)`` for sigmoid and softplus and
``exp(-u**2)`` for erf (:func:`share_exp`), ``1 + erf(u)`` as one kernel
(:func:`erf_plus_one`), ``exp(u)`` and ``expm1(u)`` as one pair (:func:`pair_exp_expm1`),
calls of one ``exp(-|u|)`` that repeat work as one tuple kernel
(:func:`.numba_pairs.pair_z_calls`);
a division by a parameter is a multiply by its reciprocal, computed before the loop.

>>> x = sp.Symbol("x", real=True)
>>> ScalarPrinter().doprint(sp.Piecewise((x**2, x > 0), (sp.exp(x) / 2, True)))
'_k_where((x > 0.0), (x*x), (0.5)*_k_exp(x))'
>>> print(loop_source("_f", ["x"], [], [("out", sp.sqrt(x) + x**-1)]))
@njit(error_model="numpy", cache=True, fastmath={"contract"})
def _f(x_, out_):
    for i in range(x_.shape[0]):
        x = np.float64(x_[i])
        out_[i] = math.sqrt(x) + (1.0/(x))
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter
from sympy.printing.precedence import precedence

from ..branches import guarded
from ..errors import DeriveError
from .reciprocal import shared_reciprocals

__all__ = ["ScalarPrinter", "distinct_calls", "erf_plus_one", "pair_exp_expm1", "loop_source", "share_exp", "unify_calls"]

class SigmoidZ(sp.Function):
    """sigmoid(u) given z = exp(-|u|) (so that one exp serves sigmoid(u), sigmoid(-u) and
    softplus(±u) in a loop: :func:`share_exp`)."""
    nargs = 2


class SoftplusZ(sp.Function):
    """softplus(u) given z = exp(-|u|)."""
    nargs = 2


class TanhSoftplusZ(sp.Function):
    """tanh(softplus(u)) given z = exp(-|u|)."""
    nargs = 2


class ErfZ(sp.Function):
    """erf(u) given z = exp(-u**2) (when the loop computes that exp anyway: gelu's local
    factor)."""
    nargs = 2


class Erf1pZ(sp.Function):
    """1 + erf(u) given z = exp(-u**2): gelu's ``(erf(u) + 1)/2``, that needs erf near 0
    only to an absolute 1e-17 and erf near -1 as erfc (:func:`erf_plus_one`)."""
    nargs = 2


class ExpExpm1(sp.Function):
    """The pair (exp(u), expm1(u)) from one kernel call (:func:`pair_exp_expm1`)."""
    nargs = 1


class First(sp.Function):
    """Item 0 of a pair."""
    nargs = 1


class Second(sp.Function):
    """Item 1 of a pair."""
    nargs = 1


_CALLS = {"ExpExpm1": "_k_exp_expm1", "ErfZ": "_k_erf_z", "Erf1pZ": "_k_erf1p_z", "SigmoidZ": "_k_sigmoid_z", "SoftplusZ": "_k_softplus_z",
          "TanhSoftplusZ": "_k_tanh_softplus_z", "LogisticZM": "_k_logistic_zm",
          "TanhSoftplusSechZ": "_k_tanh_softplus_sech_z", "exp": "_k_exp", "expm1": "_k_expm1", "log": "_k_log", "log1p": "_k_log1p",
          "tanh": "_k_tanh", "erf": "_k_erf", "sigmoid": "_k_sigmoid",
          "softplus": "_k_softplus", "logaddexp": "_k_logaddexp", "sign": "_k_sign"}


# functions without a branch-free kernel of ours: numba's scalar NumPy ufuncs (a libm call
# per element, so the loop is not vectorized; np.floor stays a float, where math.floor
# gives an int; no exception outside the domain: nan, as NumPy gives)
_SCALAR_CALLS = {"sin": "np.sin", "cos": "np.cos", "tan": "np.tan", "asin": "np.arcsin",
                 "acos": "np.arccos", "atan": "np.arctan", "sinh": "np.sinh", "cosh": "np.cosh",
                 "asinh": "np.arcsinh", "acosh": "np.arccosh", "atanh": "np.arctanh",
                 "floor": "np.floor", "ceiling": "np.ceil", "erfc": "math.erfc",
                 "cbrt": "np.cbrt", "rint": "np.rint"}


class ScalarPrinter(PythonCodePrinter):
    """One element's value in numba-compilable, vectorizable Python."""

    def __init__(self, settings=None):
        super().__init__({"fully_qualified_modules": False, **(settings or {})})
        self.known_functions = {}           # every function goes through _print_Function

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Expr) and expr.is_number and not expr.free_symbols:
            if expr.is_extended_real is False:   # atanh(1.05): not real, nan as NumPy's is
                return "np.nan"
            try:
                v = float(expr)
            except TypeError:       # a call SymPy does not evaluate (softplus(1.05)): printed
                return super()._print(expr, **kwargs)
            return f"({v!r})" if v < 0 else repr(v)
        return super()._print(expr, **kwargs)

    def _print_Function(self, e):
        name = _CALLS.get(type(e).__name__) or _SCALAR_CALLS.get(type(e).__name__)
        if name is None:
            raise DeriveError(f"the numba backend has no kernel for {type(e).__name__}: "
                              "export this layer with --backend numpy (or jax)")
        return f"{name}({', '.join(self._print(a) for a in e.args)})"

    _print_exp = _print_expm1 = _print_log = _print_log1p = _print_tanh = _print_erf = \
        _print_sigmoid = _print_softplus = _print_logaddexp = _print_sign = _print_Function
    # (PythonCodePrinter prints these as math.* by name, past _print_Function)
    _print_sin = _print_cos = _print_tan = _print_asin = _print_acos = _print_atan = \
        _print_sinh = _print_cosh = _print_asinh = _print_acosh = _print_atanh = \
        _print_floor = _print_ceiling = _print_erfc = _print_Function

    def _print_Mul(self, e):
        # a constant divisor (gelu's 1/sqrt(pi)) folded into one float factor: a multiply
        # per element, not a division (1/sqrt(pi) rounded once, as sqrt(pi) was)
        numbers = [a for a in e.args if a.is_number and not a.free_symbols]
        if not any(a.is_Pow and a.exp.is_negative for a in numbers) or len(numbers) == len(e.args):
            return super()._print_Mul(e)
        c = float(sp.Mul(*numbers))
        rest = self.parenthesize(sp.Mul(*(a for a in e.args if a not in numbers)),
                                 precedence(e), strict=False)
        return f"({c!r})*{rest}" if c < 0 else f"{c!r}*{rest}"

    def _print_First(self, e):
        return f"{self._print(e.args[0])}[0]"

    def _print_Second(self, e):
        return f"{self._print(e.args[0])}[1]"

    def _print_Item(self, e):
        return f"{self._print(e.args[1])}[{int(e.args[0])}]"

    def _print_Abs(self, e):
        return f"abs({self._print(e.args[0])})"

    def _minmax(self, e, name):
        args = [self._print(a) for a in e.args]
        text = args[0]
        for a in args[1:]:
            text = f"{name}({text}, {a})"
        return text

    def _print_Max(self, e):
        return self._minmax(e, "_k_max")

    def _print_Min(self, e):
        return self._minmax(e, "_k_min")

    def _print_Piecewise(self, e):
        (value, cond), rest = e.args[0], e.args[1:]
        if cond == sp.true:
            return self._print(value)
        other = "np.nan" if not rest else self._print(sp.Piecewise(*rest)) if \
            rest[0][1] != sp.true else self._print(rest[0][0])
        return f"_k_where({self._print(cond)}, {self._print(value)}, {other})"

    def _print_And(self, e):
        return "(" + " & ".join(self._print(a) for a in e.args) + ")"

    def _print_Or(self, e):
        return "(" + " | ".join(self._print(a) for a in e.args) + ")"

    def _print_Not(self, e):
        return f"(not {self._print(e.args[0])})"

    def _print_BooleanTrue(self, e):
        return "True"

    def _print_BooleanFalse(self, e):
        return "False"

    def _print_Pow(self, e, rational=False):
        base, ex = e.args
        b = self.parenthesize(base, precedence(e), strict=False)
        if ex == sp.Rational(1, 2):
            return f"math.sqrt({self._print(base)})"
        if ex == -sp.Rational(1, 2):
            return f"(1.0/math.sqrt({self._print(base)}))"
        if ex.is_Integer and 1 <= abs(int(ex)) <= 4:
            product = "*".join([b] * abs(int(ex)))
            return f"({product})" if ex > 0 else f"(1.0/({product}))"
        # the exponent in parentheses unless it is one symbol or a positive number: 3**(x*y)
        # printed as 3.0**x*y was (3**x)*y (** binds tighter than *)
        x = self._print(ex)
        return f"{b}**{x}" if ex.is_Symbol or (ex.is_number and not x.startswith("(")
                                                and ex.is_nonnegative) else f"{b}**({x})"


def _is_call(e) -> bool:
    return isinstance(e, sp.Function) and all(isinstance(a, sp.Expr) for a in e.args)


def _key(call):
    return (call.func, tuple(sp.expand(a) for a in call.args))


def unify_calls(exprs) -> list:
    """The expressions with calls whose arguments expand to the same polynomial written
    one way (the first met), so that ``sympy.cse`` computes them once: gelu_tanh's
    forward reads ``tanh(c*(0.044715*x**3 + x))`` and its cache ``tanh(c*x*(0.044715*x**2
    + 1))``.

    >>> x = sp.Symbol("x")
    >>> unify_calls([sp.tanh(x**3 + x), sp.tanh(x*(x**2 + 1)) + 1])
    [tanh(x**3 + x), tanh(x**3 + x) + 1]
    """
    first, swap = {}, {}
    for e in exprs:
        for call in sp.preorder_traversal(e):
            if _is_call(call):
                key = _key(call)
                if key in first and first[key] != call:
                    swap[call] = first[key]
                first.setdefault(key, call)
    return [e.xreplace(swap) for e in exprs] if swap else list(exprs)


def _kernels_of(call) -> list:
    """The primitive kernel calls one call compiles to (as in :mod:`.numba_kernels`), so
    that the ``exp(-|u|)`` that sigmoid(u) and softplus(u) both compute counts once."""
    name, args = type(call).__name__, call.args
    if name == "sigmoid":
        return [("exp", sp.expand(-sp.Abs(args[0])))]
    if name == "softplus":
        return [("exp", sp.expand(-sp.Abs(args[0]))), ("log1p", sp.expand(args[0]))]
    if name == "tanh" and type(args[0]).__name__ == "softplus":
        return [("exp", sp.expand(-sp.Abs(args[0].args[0])))]
    if name == "tanh":
        return [("expm1", sp.expand(-2 * sp.Abs(args[0])))]
    return [(name, tuple(sp.expand(a) for a in args))]


def distinct_calls(exprs) -> int:
    """The number of different kernel calls in ``exprs`` once compiled (LLVM computes a
    repeated one once).

    >>> x = sp.Symbol("x", real=True)
    >>> from derive.codegen.stable import sigmoid, softplus
    >>> distinct_calls([softplus(x), sigmoid(x)]), distinct_calls([softplus(x), sp.exp(x)])
    (2, 3)
    """
    return len({k for e in exprs for c in sp.preorder_traversal(e) if _is_call(c)
                for k in _kernels_of(c)})


def erf_plus_one(e):
    """``e`` with each sum ``c*erf(u) + c + ...`` (ErfZ, the same constant c) written
    ``c*(1 + erf(u)) + ...``: the same value, the kernel of 1 + erf one select and one
    series where erf's are two, exact at the tail where erf(u) + 1 cancels.

    >>> u, z, x = sp.symbols("u z x")
    >>> erf_plus_one(x*(ErfZ(u, z) + 1)/2 + ErfZ(u, z)/2 + sp.Rational(1, 2))
    x*Erf1pZ(u, z)/2 + Erf1pZ(u, z)/2
    """
    def fold(a):
        if not isinstance(a, sp.Add):
            return a
        terms = list(a.args)
        for t in list(terms):
            c, rest = t.as_coeff_Mul()
            if isinstance(rest, ErfZ) and c in terms:
                terms.remove(t)
                terms.remove(c)
                terms.append(c * Erf1pZ(*rest.args))
        return sp.Add(*terms)
    return e.replace(lambda a: isinstance(a, sp.Add), fold)


def pair_exp_expm1(exprs) -> list:
    """The expressions with ``exp(u)`` and ``expm1(u)`` of the same u (elu's out and local
    factor) read from one pair, so that ``sympy.cse`` computes the pair once.

    >>> from sympy.codegen.cfunctions import expm1
    >>> x = sp.Symbol("x")
    >>> pair_exp_expm1([expm1(x) + 1, sp.exp(x) + sp.exp(2*x)])
    [Second(ExpExpm1(x)) + 1, exp(2*x) + First(ExpExpm1(x))]
    """
    def args(kind):
        return {a.args[0] for e in exprs for a in sp.preorder_traversal(e)
                if type(a).__name__ == kind}
    both = args("exp") & args("expm1")
    if not both:
        return list(exprs)
    swap = {sp.exp(u): First(ExpExpm1(u)) for u in both}
    out = []
    for e in exprs:
        e = e.xreplace(swap)
        e = e.replace(lambda a: type(a).__name__ == "expm1" and a.args[0] in both,
                      lambda a: Second(ExpExpm1(a.args[0])))
        out.append(e)
    return out


def share_exp(exprs) -> list:
    """The expressions with ``sigmoid(u)``, ``softplus(u)`` and ``tanh(softplus(u))`` given
    ``z = exp(-|U|)`` as an argument, ``U`` one sign of ``u`` chosen the same way for ``u``
    and ``-u``, so that ``sympy.cse`` computes each such exp once (log_cosh's
    ``softplus(2t - 2x)`` and ``sigmoid(2x - 2t)``; mish's ``tanh(softplus(x))`` and
    ``sigmoid(x)``); ``erf(u)`` given ``exp(-u**2)`` when that exp is there anyway (gelu's
    ``erf(x/sqrt 2)`` and ``exp(-x**2/2)``). tanh(softplus(u)) is ``((1 + e**u)**2 - 1)/((1 + e**u)**2 + 1)``, a
    rational function of z (the kernel ``_k_tanh_softplus_z``).

    >>> x, t = sp.symbols("x t", real=True)
    >>> from derive.codegen.stable import sigmoid, softplus
    >>> share_exp([softplus(2*t - 2*x) + sigmoid(2*x - 2*t)])
    [SigmoidZ(-2*t + 2*x, exp(-Abs(2*t - 2*x))) + SoftplusZ(2*t - 2*x, exp(-Abs(2*t - 2*x)))]
    """
    def z(u):
        u = sp.expand(u)
        return sp.exp(-sp.Abs(-u if u.could_extract_minus_sign() else u))

    def is_(name):
        return lambda e: type(e).__name__ == name
    exps = {a for e in exprs for a in sp.preorder_traversal(e) if isinstance(a, sp.exp)}
    out = []
    for e in exprs:
        e = e.replace(lambda a: isinstance(a, sp.erf) and sp.exp(-sp.expand(a.args[0] ** 2))
                      in exps, lambda a: ErfZ(a.args[0], sp.exp(-sp.expand(a.args[0] ** 2))))
        e = erf_plus_one(e)
        e = e.replace(lambda a: isinstance(a, sp.tanh) and is_("softplus")(a.args[0]),
                      lambda a: TanhSoftplusZ(a.args[0].args[0], z(a.args[0].args[0])))
        e = e.replace(is_("softplus"), lambda a: SoftplusZ(a.args[0], z(a.args[0])))
        e = e.replace(is_("sigmoid"), lambda a: SigmoidZ(a.args[0], z(a.args[0])))
        out.append(e)
    return out


def _load(name: str, boolean: bool) -> str:
    return f"        {name} = {name}_[i]" if boolean else f"        {name} = np.float64({name}_[i])"


def loop_source(fname: str, arrays, scalars, results, booleans=(), parallel=False,
                stream=None) -> str:
    """An ``@njit`` function ``fname(<array>_..., <result>_..., <scalar>...)`` looping over
    1-D arrays: element i of each array in ``arrays`` is loaded (float64, or as is when
    named in ``booleans``), and each ``(name, expr)`` of ``results`` is stored into
    ``<name>_[i]``; ``scalars`` are float arguments (a layer's parameters). With ``stream``
    (the name of the same loop with ordinary stores), the results are written with
    nontemporal stores (:mod:`.numba_stream`): ``stream`` does the elements before the
    results' first 16-byte boundary, this loop the others."""
    from .numba_pairs import pair_z_calls  # (it imports this module's Functions)
    printer = ScalarPrinter()
    # a mask times what may be inf or nan: a select (0*inf is nan)
    exprs = pair_z_calls(pair_exp_expm1(share_exp(unify_calls([guarded(e) for _, e in results]))))
    taken = {*arrays, *scalars, *(n for n, _ in results)}
    names = (sp.Symbol(f"t{k}") for k in range(10 ** 6) if f"t{k}" not in taken)
    # a division by a parameter (celu's x/alpha) as a multiply by its reciprocal, computed
    # once before the loop: a division per element takes the time of several multiplies
    inverses = {a: sp.Symbol(f"inv_{a.base.name}") for e in exprs for a in sp.preorder_traversal(e)
                if a.is_Pow and a.exp == -1 and a.base.is_Symbol and a.base.name in scalars
                and f"inv_{a.base.name}" not in taken}
    exprs = [e.xreplace(inverses) for e in exprs]
    replacements, reduced = sp.cse(exprs, symbols=names, optimizations=None)
    # several negative powers of one value: one division (softsign: x/u and u**-2)
    replacements, reduced = shared_reciprocals(replacements, reduced, names)
    args = [f"{a}_" for a in arrays] + [f"{n}_" for n, _ in results] + list(scalars)
    loop = "prange" if parallel else "range"
    first = f"{arrays[0]}_" if arrays else f"{results[0][0]}_"
    lines = [f'@njit(error_model="numpy", cache=True, fastmath={{"contract"}}'
             f'{", parallel=True" if parallel else ""})',
             f"def {fname}({', '.join(args)}):",
             *(f"    {v.name} = 1.0/{k.base.name}" for k, v in inverses.items()),
             f"    for i in {loop}({first}.shape[0]):"]
    if stream:
        head = next(h for h in ("head", "head_", "head__") if h not in taken)
        views = args[:len(args) - len(scalars)]
        # the rest as views from 0 (a loop from head would index with a possibly negative
        # i: numba's wraparound select makes LLVM gather the loads)
        lines[-1:] = [f"    {head} = _nt_head({first}.shape[0], "
                      f"{', '.join(f'{n}_' for n, _ in results)})",
                      f"    {stream}({', '.join([f'{a}[:{head}]' for a in views] + list(scalars))})",
                      f"    {', '.join(views)} = {', '.join(f'{a}[{head}:]' for a in views)}",
                      f"    for i in range({first}.shape[0]):"]
    used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    used = {s.name for s in used}
    lines += [_load(a, a in booleans) for a in arrays if a in used]
    for sym, e in replacements:
        lines.append(f"        {sym.name} = {printer.doprint(e)}")
    for (name, _), e in zip(results, reduced):
        lines.append(f"        _store_nt({name}_, i, {printer.doprint(e)})" if stream
                     else f"        {name}_[i] = {printer.doprint(e)}")
    if stream:
        lines.append("    _sfence()")
    return "\n".join(lines)
