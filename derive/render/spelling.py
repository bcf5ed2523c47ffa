"""Spellings per output language: a printer plus the few non-expression spellings a
walkthrough needs, and the NumPy names of SymPy's functions and numbers.

>>> import sympy as sp
>>> numpy_name(sp.exp), numpy_name(sp.Abs), numpy_name(sp.erf)
('np.exp', 'np.abs', 'scipy.special.erf')
>>> decimal(sp.Rational(10507009873554805, 10**16)), decimal(sp.Rational(1, 3))
('1.0507009873554805', None)
"""
from __future__ import annotations

from functools import cache

from sympy.core.function import AppliedUndef

from ..rules import RULES, SPELLINGS, UNARY

#: how a few array names of the book print in LaTeX (others: SymPy's own spelling)
LATEX_NAMES = {"lam": r"\lambda", "xn": r"\hat{x}", "xc": r"x_{c}", "std": r"\sigma_{\epsilon}",
               "var": r"\sigma^{2}", "mask": r"\mathrm{mask}", "eps": r"\epsilon", "mu": r"\mu"}

#: spellings that read another name's letter (var as σ², std as σ_ε = √(σ² + ε)): a layer
#: with a name of its own ``sigma`` keeps the code names instead, so no letter means two things
BORROWED = {"var": ("sigma", r"\mathrm{var}"), "std": ("sigma", r"\mathrm{std}")}

#: names that print as their Greek letter in LaTeX (others longer than a letter: \\mathrm)
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "lambda", "lam", "mu", "sigma", "tau",
         "theta", "phi", "pi", "rho", "eta", "kappa", "omega", "nu", "xi", "zeta", "chi", "psi"}

#: SymPy function names whose NumPy spelling differs (used when the rule table has no entry)
NUMPY_NAMES = {"atan": "np.arctan", "asin": "np.arcsin", "acos": "np.arccos",
               "asinh": "np.arcsinh", "acosh": "np.arccosh", "atanh": "np.arctanh",
               "atan2": "np.arctan2", "ceiling": "np.ceil", "Abs": "np.abs",
               "erf": "scipy.special.erf", "erfc": "scipy.special.erfc",
               "loggamma": "scipy.special.gammaln", "gamma": "scipy.special.gamma",
               **{f: "np." + f for f in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp",
                                         "log", "sign", "floor", "sqrt", "cbrt", "rint")}}

#: SymPy's constants as NumPy spells them (the parser reads np.pi and np.e)
NUMPY_CONSTANTS = {"Exp1": "np.e", "Pi": "np.pi", "Infinity": "np.inf",
                   "NegativeInfinity": "-np.inf", "NaN": "np.nan"}


@cache
def numpy_name(func) -> str:
    """How NumPy spells the SymPy function class ``func``, in a spelling the parser reads.

    A primitive's name comes from the rule table (``np.`` + its ``numpy`` name; a helper
    with no NumPy ufunc, such as erf, the ``scipy.special`` spelling the parser accepts);
    other classes from :data:`NUMPY_NAMES`; a function NumPy does not have keeps its name.

    >>> import sympy as sp
    >>> numpy_name(sp.atan), numpy_name(sp.ceiling), numpy_name(sp.DiracDelta)
    ('np.arctan', 'np.ceil', 'DiracDelta')
    """
    rule = RULES.get(UNARY.get(func))
    if rule is not None:
        prefixes = ("scipy.special.", "np.", "") if rule.helper else ("np.", "")
        for name in dict.fromkeys((rule.numpy, rule.name)):
            for prefix in prefixes:
                if SPELLINGS.get(prefix + name) is rule:
                    return prefix + name
        spelled = sorted((s for s, entry in SPELLINGS.items() if entry is rule),
                         key=lambda s: (not s.startswith("np."), len(s)))
        if spelled:
            return spelled[0]
    name = func.__name__
    if issubclass(func, AppliedUndef):
        return name
    if name in NUMPY_NAMES:
        return NUMPY_NAMES[name]
    return "np." + name if "np." + name in SPELLINGS else name


def _multiplicity(p: int, n: int) -> tuple[int, int]:
    count = 0
    while n % p == 0:
        n, count = n // p, count + 1
    return count, n


def decimal(r) -> str | None:
    """The exact decimal of the rational ``r`` (``1.0507009873554805``, ``1e-20``) when its
    denominator is 2^a·5^b and the decimal is shorter than ``p/q``; else None (1/3, 1/2,
    and integers, print as they are).

    The parser reads the decimal back as the same exact Rational.

    >>> import sympy as sp
    >>> [decimal(sp.Rational(*pq)) for pq in [(8943, 200000), (-1, 100), (1, 10**20), (1, 2)]]
    ['0.044715', '-0.01', '1e-20', None]
    """
    p, q = int(r.p), int(r.q)
    twos, rest = _multiplicity(2, q)
    fives, rest = _multiplicity(5, rest)
    if q == 1 or rest != 1:
        return None
    places = max(twos, fives)
    digits = str(abs(p) * 10**places // q)          # exact: q divides 10**places
    padded = digits.rjust(places + 1, "0")
    plain = padded[:-places] + "." + padded[-places:]
    mantissa = digits.rstrip("0")
    exponent = len(digits) - 1 - places
    scientific = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "") + f"e{exponent}"
    best = min(plain, scientific, key=len)
    if len(best) >= len(f"{abs(p)}/{q}"):
        return None
    return ("-" if p < 0 else "") + best


def decimal_coefficient(expr):
    """``(sign, decimal, rest)`` when ``expr`` is a decimal constant times ``rest``, else None.

    >>> import sympy as sp
    >>> decimal_coefficient(-sp.Rational(3, 10) * sp.Symbol("x"))
    ('-', '0.3', x)
    """
    coeff, rest = expr.as_coeff_Mul()
    shown = decimal(abs(coeff)) if coeff.is_Rational and rest != 1 else None
    if shown is None:
        return None
    return ("-" if coeff < 0 else ""), shown, rest


def latex_decimal(shown: str) -> str:
    """A :func:`decimal` in LaTeX: ``1e-20`` as ``10^{-20}``, ``1.5e-8`` as
    ``1.5 \\cdot 10^{-8}``."""
    mantissa, e, exponent = shown.partition("e")
    if not e:
        return shown
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("-")
    power = f"10^{{{int(exponent)}}}"
    return sign + (power if mantissa == "1" else mantissa + r" \cdot " + power)


def axis_letters(e) -> str:
    """The index letters of a reduction's axes in LaTeX: axis 0 is n, then j, k, l."""
    letters = ("n", "j", "k", "l")
    return ",".join(letters[a] if a < len(letters) else f"i_{a}" for a in e.axes)


def latex_names(taken=()) -> dict:
    r""":data:`LATEX_NAMES` for a layer whose names are ``taken``: var is σ² and std is σ_ε,
    unless the layer has a ``sigma`` of its own.

    >>> print(latex_names()["var"], latex_names({"sigma", "var"})["var"])
    \sigma^{2} \mathrm{var}
    """
    names = dict(LATEX_NAMES)
    for name, (letter, fallback) in BORROWED.items():
        if letter in taken:
            names[name] = fallback
    return names


def out_name_for(spec, taken=()) -> str:
    """How the mathematics spells the output ``out``: ``y``, as the book; ``z`` when the layer
    already has a name ``y`` (mul, add, a statement y of a loss); ``out`` when it has both.

    ``taken`` adds names the spec does not list (the graph's node names). A loss layer's
    output is spelled the same way: its upstream gradient ∂L/∂y is dout, 1 when the layer's
    output is the final loss L. The code keeps ``out`` and ``dout`` whatever the letter.

    >>> out_name_for(None), out_name_for(None, {"y"}), out_name_for(None, {"y", "z"})
    ('y', 'z', 'out')
    """
    names = set(spec.symbols()) if spec is not None else set()
    names = (names | set(taken)) - {"out", "dout"}
    return next((c for c in ("y", "z") if c not in names), "out")


def layer_names(d) -> set:
    """Every name a derivation ``d`` shows: the spec's symbols and the graph's node names."""
    return set(d.spec.symbols()) | {n.name for n in d.graph.nodes}


class Spelling:
    """A printer plus the walkthrough's non-expression spellings, for one output language.

    >>> import sympy as sp
    >>> s = Spelling.for_text()
    >>> s.grad("c"), s.partial("out", "c"), s.grad("out"), s.expr(sp.Symbol("dout")), s.arrow
    ('∂L/∂c', '∂y/∂c', '∂L/∂y', '∂L/∂y', ' → ')
    >>> Spelling.for_latex().grad("a")
    '\\\\frac{\\\\partial L}{\\\\partial a}'
    """

    def __init__(self, printer, *, arrow, times, is_latex):
        self.printer = printer
        self.arrow, self.times, self.is_latex = arrow, times, is_latex

    @classmethod
    def for_text(cls, spec=None, gradients=None, taken=()) -> "Spelling":
        """The text walkthrough's mathematics: the output is y (as on every page), its
        gradient ∂L/∂y; NumPy's function names; ``taken``: names the layer shows."""
        from .printers import DeriveStrPrinter
        y = out_name_for(spec, taken)
        printer = DeriveStrPrinter({"gradients": dict(gradients or {}), "out_name": y,
                                    "dout_name": f"∂L/∂{y}"})
        return cls(printer, arrow=" → ", times=" × ", is_latex=False)

    @classmethod
    def for_latex(cls, spec=None, gradients=None, taken=()) -> "Spelling":
        from .printers import DeriveLatexPrinter
        names = set(taken) | (set(spec.symbols()) if spec is not None else set())
        printer = DeriveLatexPrinter({"out_name": out_name_for(spec, taken),
                                      "gradients": dict(gradients or {}),
                                      "names": latex_names(names)})
        return cls(printer, arrow=r" \to ", times=r" \cdot ", is_latex=True)

    def expr(self, e) -> str:
        return self.printer.doprint(e)

    def factor(self, e) -> str:
        """``e`` as a factor of a product: parenthesized when it is a sum or negative."""
        s = self.expr(e)
        if e.is_Add or (e.could_extract_minus_sign() if hasattr(e, "could_extract_minus_sign")
                        else False):
            return r"\left(%s\right)" % s if self.is_latex else f"({s})"
        return s

    def grad(self, name: str) -> str:
        return self.printer.grad(name)

    def partial(self, of: str, wrt: str) -> str:
        return self.printer.partial(of, wrt)

    def name(self, name: str) -> str:
        return self.printer.name(name)

    def label(self, node) -> str:
        """A graph node's operation: ``×(−1)``, ``exp``, ``+1``; in LaTeX from the rule table."""
        if node.op == "input":
            return self.name(node.name)
        if not self.is_latex:
            return node.label()
        template = node.rule.latex
        const = node.const
        if node.op == "add_const" and const is not None and const.could_extract_minus_sign():
            return "-" + self.expr(-const)
        try:
            label = template.format(c=self.expr(const) if const is not None else "")
        except (KeyError, IndexError, ValueError):
            label = template   # a template with literal braces and no constant
        return label + r"\cdot" if label.endswith("/") else label
