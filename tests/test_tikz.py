"""The graph figure of the LaTeX pages: one TikZ node per graph node, labels as the walkthrough
spells them, strips cut clear of nodes, and pages that pdflatex compiles."""
import dataclasses
import re
import shutil
import subprocess

import pytest
import sympy as sp

from derive import derive, docs
from derive.derivation import derive_spec
from derive.render import spelling, svg, tikz
from derive.spec import from_expr

NODE = re.compile(r"\\node\[g (op|in)[^\]]*\] \(n(\d+)\) at \([^)]*\) \{\$(.*)\$\};")
LAYERS = ["sigmoid", "silu", "affine", "softmax", "batchnorm", "lstm"]


def _nodes(fig):
    """(kind, node id, label) of every graph node drawn in the figure."""
    return [(k, int(i), label) for k, i, label in NODE.findall(fig)]


@pytest.mark.parametrize("name", LAYERS)
def test_one_tikz_node_per_graph_node(name):
    d = derive(name)
    drawn = _nodes(tikz.figure(d))
    assert sorted(i for _, i, _ in drawn) == [n.id for n in d.graph.nodes]
    assert sorted(i for k, i, _ in drawn if k == "op") == [n.id for n in d.graph.op_nodes]
    assert sorted(i for k, i, _ in drawn if k == "in") == [n.id for n in d.graph.nodes
                                                           if n.is_leaf]


@pytest.mark.parametrize("name", LAYERS)
def test_labels_are_the_walkthroughs_latex(name):
    d = derive(name)
    s = spelling(d, latex=True)
    fig = tikz.figure(d)
    nodes = {n.id: n for n in d.graph.nodes}
    for kind, i, label in _nodes(fig):
        n = nodes[i]
        assert label == (s.name(n.name) if n.is_leaf else s.label(n))
    assert fig.isascii()                        # no ×, −, ∂ or · left for pdflatex
    assert s.grad("out") in fig and fig.count("{") == fig.count("}")


def test_greek_and_subscripted_names_are_spelled_not_pasted():
    fig = tikz.figure(derive("batchnorm"))
    assert r"{$\gamma$}" in fig and r"{$\beta$}" in fig and "{$gamma$}" not in fig
    assert r"{$h_{prev}$}" in tikz.figure(derive("lstm"))


def test_caption_escapes_the_title():
    x = sp.Symbol("x", real=True)
    spec = dataclasses.replace(from_expr(sp.exp(x)), title="50% of a_b & c#")
    fig = tikz.figure(derive_spec(spec))
    assert r"Computational graph of 50\% of a\_b \& c\#" in fig


def test_forward_and_backward_labels_follow_the_svg():
    fig = tikz.figure(derive("sigmoid"))
    assert r"{$e^{- x}$}" in fig                # a forward value, as the SVG's exp(−x)
    assert fig.count(r"\draw[g bwd]") == fig.count(r"\draw[g fwd]") == 5    # 4 edges + out


def test_a_narrow_graph_is_one_picture_a_wide_one_strips_cut_between_nodes():
    d = derive("sigmoid")
    assert tikz.strip_count(svg.layout(d.graph, d.steps)) == 1
    assert r"\usebox" not in tikz.figure(d)
    d = derive("lstm")
    lay = svg.layout(d.graph, d.steps)
    n = tikz.strip_count(lay)
    assert n > 1 and tikz.figure(d).count(r"\usebox{\derivegraph}") == n
    for x in tikz.cuts(lay, d, n):
        for node in d.graph.op_nodes:
            cx, half = lay.pos[node.id][0], svg.half_width(node)
            assert not cx - half <= x <= cx + half, (x, node.name)


def test_standalone_and_fragment_carry_the_figure():
    d = derive("affine")
    page = d.to_latex(standalone=True)
    assert r"\usepackage{tikz}" in page.split(r"\begin{document}")[0]
    heading = page.index(r"\subsection*{Computational graph}")
    assert heading < page.index(r"\begin{tikzpicture}") < page.index(r"\subsection*{Backward")
    assert r"\begin{tikzpicture}" in d.to_latex()


def _pdflatex(folder, name):
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name],
                         cwd=folder, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (folder / name.replace(".tex", ".pdf")).stat().st_size > 0


# CI (.ci/run) installs texlive-pictures for tikz.sty; without pdflatex the page cannot be built
needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                    reason="pdflatex is not installed")


@needs_pdflatex
@pytest.mark.parametrize("name", ["sigmoid", "affine", "lstm"])
def test_standalone_page_compiles(name, tmp_path):
    (tmp_path / f"{name}.tex").write_text(derive(name).to_latex(standalone=True))
    _pdflatex(tmp_path, f"{name}.tex")


@needs_pdflatex
def test_all_derivations_compile(tmp_path):
    site = docs.build(["sigmoid", "affine", "lstm"], ("tex",))
    tex = site.files["derivations.tex"]
    assert tex.count(r"\begin{tikzpicture}") >= 3
    (tmp_path / "derivations.tex").write_text(tex)
    _pdflatex(tmp_path, "derivations.tex")
