"""Self-contained HTML: MathML for every formula, the graph as inline SVG, no script, no CDN.

The walkthrough's blocks come from :func:`derive.render.document` spelled for
LaTeX, and each formula is converted to MathML by latex2mathml, so the page
shows the same mathematics as the ``.tex`` and ``.md`` files. Light and dark
colours follow ``prefers-color-scheme``; fonts are the reader's system fonts.

>>> from derive import derive
>>> page = render(derive("sigmoid"))
>>> page.startswith("<!DOCTYPE html>") and "<math" in page and "<svg" in page
True
>>> "<script" in page
False
"""
from __future__ import annotations

import re
from html import escape

from . import Display, Heading, Para, document, forward_rows, join_parts, spelling
from . import svg as svg_render
from .lang import t, title
from .mathml import math as _math

NOT_AVAILABLE = "not available"

CSS = """
:root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fdfdfc;--muted:#5b5b66;--rule:#d9d9de;
--box:#f3f3f1;--accent:#1d5fa8;--bwd:#c0392b;--ok:#1e7b34;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--bg:#1e1f22;--muted:#a4a4ad;
--rule:#3b3c42;--box:#2a2b30;--accent:#8ab4f8;--bwd:#ff8a75;--ok:#7ed492;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1.25rem 4rem}
nav{font-size:.9rem;color:var(--muted)}
a{color:var(--accent)}
h1{font-size:1.8rem;line-height:1.25;margin:.6rem 0 1rem}
h2{font-size:1.3rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--rule)}
h3{font-size:1.08rem;margin:1.4rem 0 .4rem}
p{margin:.5rem 0}
.m{overflow-x:auto;overflow-y:hidden;padding:.15rem 0}
math{font-size:1.12em}
math[display=block]{margin:.4rem 0}
math mtd{padding:.1em .7em .1em 0}
math mtable[columnspacing="0em 2em"]>mtr>mtd{padding:.15em 0}
math mtd[columnalign=right]{text-align:right}math mtd[columnalign=left]{text-align:left}
.proof{color:var(--muted);font-size:.88rem}
.step{border-left:3px solid var(--rule);padding:.1rem 0 .1rem .9rem;margin:.9rem 0}
.result{background:var(--box);border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
figure{margin:1rem 0;overflow-x:auto;background:var(--box);border-radius:6px;padding:.6rem}
figure svg{display:block;max-width:none}
figcaption{font-size:.88rem;color:var(--muted);margin-top:.3rem}
.fwd{font-weight:600}.bwd{color:var(--bwd);font-weight:600}
pre{background:var(--box);border-radius:6px;padding:.8rem 1rem;overflow-x:auto;
font:14px/1.45 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em}
.na{color:var(--muted);font-style:italic}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th:nth-child(1){width:16%}th:nth-child(2){width:30%}th:nth-child(4){width:9%}
.t{display:inline-block;white-space:normal;line-height:2}.t math{margin-right:.2em}
td:first-child{overflow-wrap:anywhere}td:last-child{white-space:nowrap}
td,th{border-bottom:1px solid var(--rule);padding:.5rem .6rem;text-align:left;vertical-align:middle}
th{font-size:.9rem;color:var(--muted);font-weight:600}
"""


def mathml(latex: str, display: bool = False) -> str:
    """LaTeX → MathML (latex2mathml, accents set on their letter), display or inline."""
    return _math(latex, display)


def _display(rows) -> str:
    body = r" \\ ".join(f"{lhs} &= {rhs}" for lhs, rhs in rows)
    math = mathml(r"\begin{align*}" + body + r"\end{align*}", True)
    return f'<div class="m">{math}</div>'


def _para(parts, cls="") -> str:
    attr = f' class="{cls}"' if cls else ""
    body = join_parts(parts, mathml, lambda c: f"<code>{escape(c)}</code>", escape)
    return f"<p{attr}>{body}</p>"


def fit(svg: str) -> str:
    """Let a wide graph shrink to the column, down to 3/4 of its size (then it scrolls).

    >>> fit('<svg viewBox="0 0 800 100" width="800" height="100" class="graph">')
    '<svg style="width:100%;max-width:800px;min-width:600px;height:auto" viewBox="0 0 800 100" width="800" height="100" class="graph">'
    """
    m = re.search(r'<svg[^>]*\swidth="([0-9.]+)"', svg)
    if not m:
        return svg
    w = float(m.group(1))
    style = f"width:100%;max-width:{w:g}px;min-width:{0.75 * w:g}px;height:auto"
    return svg.replace("<svg ", f'<svg style="{style}" ', 1)


def figure(d, lang: str = "en") -> str:
    """The graph picture with a caption saying how to read it."""
    caption = t('Forward values (<span class="fwd">above</span> the arrows, going right) '
                'and backward gradients (<span class="bwd">below</span>, going left); hover a '
                "label for its full formula. Labels use the walkthrough's names and NumPy's "
                "functions.", lang)
    return ("<figure>" + fit(svg_render.render(d, lang=lang)) +
            f"<figcaption>{caption}</figcaption></figure>")


def im2col_figure(d, lang: str = "en") -> str:
    """For a layer that reads windows (convolution, pooling): how they unroll into rows."""
    from .windows_svg import uses_windows, windows_svg
    if not uses_windows(d.spec):
        return ""
    caption = t("The windows of the forward (windows(x, FH, FW, stride, pad) on the page) are "
                "the book's im2col: each window of x becomes one row; the derivation keeps them "
                "as a 6-D array (N, C, FH, FW, OH, OW), which is the same numbers before the "
                "reshape.", lang)
    return ("<figure>" + fit(windows_svg(lang)) + f"<figcaption>{escape(caption, False)}"
            "</figcaption></figure>")


def walkthrough(d, lang: str = "en") -> str:
    """The blocks of the walkthrough, with the graph picture under its heading."""
    out = []
    for block in document(d, spelling(d, latex=True), lang):
        if isinstance(block, Heading):
            if block.level == 1:
                continue   # the page has its own title
            out.append(f"<h2>{escape(block.text)}</h2>")
            if block.kind == "graph":
                out.append(figure(d, lang))
                out.append(im2col_figure(d, lang))
        elif isinstance(block, Para):
            out.append(_para(block.parts, block.kind))
        elif isinstance(block, Display):
            out.append(_display(block.rows))
    return "\n".join(out)


def results(d) -> str:
    """The final, cached-form gradients in one box."""
    s = spelling(d, latex=True)
    rows = [(s.grad(name), s.expr(d.result[name])) for name in d.wrt]
    return f'<div class="result">{_display(rows)}</div>'


def forward(d) -> str:
    return _display(tuple(forward_rows(d, spelling(d, latex=True))))


def fragment(d, lang: str = "en") -> str:
    """Forward formula, graph and result without the page around it (for notebooks)."""
    attr = f' lang="{lang}"' if lang != "en" else ""
    return "\n".join([f"<div{attr}><p><strong>{escape(title(d.spec, lang))}</strong></p>",
                      forward(d),
                      figure(d, lang), results(d), "</div>"])


def _section(title, body) -> str:
    return f"<h2>{escape(title)}</h2>\n{body}"


def _pre_or_na(text, what, lang="en") -> str:
    if text is None:
        return f'<p class="na">{escape(t("{0}: not available.", lang, what))}</p>'
    return f"<pre><code>{escape(text)}</code></pre>"


def page(head_title: str, body: str, lang: str = "en") -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="color-scheme" content="light dark">\n'
            f"<title>{escape(head_title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<main>\n{body}\n</main>\n</body>\n</html>\n")


def render(d, *, code: str | None = None, verification: str | None = None,
           index_href: str | None = "index.html", lang: str = "en") -> str:
    """The full page for one layer; ``code``/``verification`` None → "not available"."""
    nav = f'<nav><a href="{escape(index_href)}">{escape(t("← all layers", lang))}</a></nav>\n' \
        if index_href else ""
    body = "\n".join([
        nav + f"<h1>{escape(title(d.spec, lang))} <small><code>{escape(d.spec.name)}</code>"
        "</small></h1>",
        f'<p>{escape(t("Result (proven; in the cached form the backward pass uses):", lang))}</p>',
        results(d), walkthrough(d, lang),
        _section(t("Exported NumPy code", lang),
                 _pre_or_na(code, t("exported code", lang), lang)),
        _section(t("Three-way verification", lang),
                 _pre_or_na(verification, t("verification report", lang), lang)),
    ])
    return page(f"{title(d.spec, lang)} — derive", body, lang)


def wrapped(lhs: str, expr, s) -> str:
    """``lhs = expr`` as inline MathML that a narrow column can wrap: a sum is cut into its
    terms, one ``<math>`` each, so the line breaks between terms (MathML does not break
    inside a formula); a formula wider than the column still scrolls (``.m``).

    >>> import sympy as sp
    >>> from derive.render import Spelling
    >>> x = sp.Symbol("x")
    >>> wrapped("y", x**2 - 3*x + 1, Spelling.for_latex()).count("<math")
    3
    """
    from .printers import _positive_first
    terms = _positive_first(expr.as_ordered_terms()) if expr.is_Add else [expr]
    pieces = [f"{lhs} = {s.expr(terms[0])}"]
    for t in terms[1:]:
        negative = t.could_extract_minus_sign()
        pieces.append(("- " if negative else "+ ") + s.expr(-t if negative else t))
    return '<span class="t">' + " ".join(mathml(p) for p in pieces) + "</span>"


def _index_maths(d):
    """(forward MathML, gradients MathML) of an index row, each formula wrapping at its
    terms."""
    s = spelling(d, latex=True)
    spec = d.spec
    fwd = [(s.name(sym.name), v) for sym, v in spec.program] + [
        (s.name("out"), spec.output_in_names)]
    fwd = "<br>".join(wrapped(a, v, s) for a, v in fwd)
    grads = "<br>".join(wrapped(s.grad(n), d.result[n], s) for n in d.wrt)
    return fwd, grads


def index(entries, lang: str = "en") -> str:
    """The catalogue page: ``entries`` are (derivation, {format: href}) pairs."""
    rows = []
    for d, links in entries:
        fwd, grads = _index_maths(d)
        main = links.get("html")
        name = (f'<a href="{escape(main)}">{escape(title(d.spec, lang))}</a>' if main
                else escape(title(d.spec, lang)))
        other = " · ".join(f'<a href="{escape(h)}">{escape(f)}</a>'
                           for f, h in links.items() if f != "html")
        code = escape(d.spec.name).replace("_", "_<wbr>")      # breaks after an underscore
        rows.append(f"<tr><td>{name}<br><code>{code}</code></td>"
                    f'<td><div class="m">{fwd}</div></td><td><div class="m">{grads}</div></td>'
                    f"<td>{other}</td></tr>")
    head = "".join(f"<th>{escape(t(h, lang))}</th>"
                   for h in ("layer", "forward", "gradient (cached form)", "also"))
    table = ("<table>\n<thead><tr>" + head + "</tr></thead>\n<tbody>\n" + "\n".join(rows) +
             "\n</tbody></table>")
    body = (f"<h1>{escape(t('derive: the layer catalogue', lang))}</h1>\n<p>" +
            escape(t("Every backward pass below is derived node by node on the computational "
                     "graph; every step is proven.", lang)) + "</p>\n" + table)
    return page(t("derive — layer catalogue", lang), body, lang)
