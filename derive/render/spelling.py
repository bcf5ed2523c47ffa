"""A printer plus the few non-expression spellings a walkthrough needs, per language."""
from __future__ import annotations

from .printers import DeriveLatexPrinter, DeriveStrPrinter, out_name_for


class Spelling:
    """A printer plus the walkthrough's non-expression spellings, for one output language.

    >>> s = Spelling.for_text()
    >>> s.grad("c"), s.partial("out", "c"), s.arrow
    ('∂L/∂c', '∂out/∂c', ' → ')
    >>> Spelling.for_latex().grad("a")
    '\\\\frac{\\\\partial L}{\\\\partial a}'
    """

    def __init__(self, printer, *, arrow, times, is_latex):
        self.printer = printer
        self.arrow, self.times, self.is_latex = arrow, times, is_latex

    @classmethod
    def for_text(cls, spec=None, gradients=None) -> "Spelling":
        printer = DeriveStrPrinter({"gradients": dict(gradients or {})})
        return cls(printer, arrow=" → ", times=" × ", is_latex=False)

    @classmethod
    def for_latex(cls, spec=None, gradients=None) -> "Spelling":
        printer = DeriveLatexPrinter({"out_name": out_name_for(spec),
                                      "gradients": dict(gradients or {})})
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
