"""Text, LaTeX (align*), MathML and Markdown for a :class:`~.derivation.MatrixDerivation`."""
from __future__ import annotations

import latex2mathml.converter


def _header(d) -> list:
    info = d.info()
    lines = [f"{info['title']} [{info['name']}]",
             "inputs: " + ", ".join(f"{k} {v}" for k, v in info["inputs"].items())]
    if info["params"]:
        lines.append("constants: " + ", ".join(f"{k} {v}" for k, v in info["params"].items()))
    lines += [f"assumption: {a}" for a in info["assumptions"]] + [f"note: {n}" for n in info["notes"]]
    return lines


def text(d) -> str:
    lines = _header(d) + [""]
    for i, s in enumerate(d.steps, 1):
        lines.append(f"{i:2d}. [{s.rule}] {s.description}")
        lines.append(f"    {s.text}")
        lines.append(f"    proof: {s.proof}")
    lines.append("")
    lines += [f"d{k} = {v}" for k, v in d.result.items()]
    return "\n".join(lines) + "\n"


def latex(d, standalone: bool = False) -> str:
    rows = [s.latex.replace(" = ", " &= ", 1) + r" && \text{" + s.rule.replace("_", r"\_") + "}"
            for s in d.steps]
    body = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    if not standalone:
        return body
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
            + body + "\\end{document}\n")


def mathml(d) -> str:
    return "\n".join(latex2mathml.converter.convert(s.latex) for s in d.steps) + "\n"


def markdown(d) -> str:
    lines = ["# " + d.layer.title, ""] + [f"- {h}" for h in _header(d)[1:]] + [""]
    lines += ["| step | rule | matrix form | proof |", "|---|---|---|---|"]
    for i, s in enumerate(d.steps, 1):
        lines.append(f"| {i} | {s.rule} | ${s.latex}$ | {s.proof.method} ({s.proof.points} points) |")
    lines += ["", "```python"] + [f"d{k} = {v}" for k, v in d.result.items()] + ["```"]
    return "\n".join(lines) + "\n"
