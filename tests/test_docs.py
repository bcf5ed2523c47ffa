"""derive docs: every file, determinism, safe writes, staleness of the committed output/."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from derive import catalogue, derive, docs
from derive.cli import main

REPO = Path(__file__).resolve().parent.parent
LAYERS = catalogue.names()          # elementwise and matrix layers


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    assert main(["docs", "--out", str(out), "--quiet"]) == 0
    return out


def _expected_files():
    names = {"index.html", "README.md", "derivations.tex", docs.MANIFEST}
    for layer in LAYERS:
        names |= {f"{layer}.html", f"{layer}.md", f"{layer}.svg", f"{layer}.tex"}
    return names


def _tree(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_every_file_is_written(site):
    assert set(_tree(site)) == _expected_files()
    manifest = json.loads((site / docs.MANIFEST).read_text())
    assert set(manifest["files"]) == _expected_files() - {docs.MANIFEST}


AGAIN = ["sigmoid", "relu", "affine", "batchnorm", "lstm", "convolution", "time_rnn"]


def test_two_runs_are_byte_identical(site, tmp_path):
    """A second run (of a sample of layers, each kind of page) writes the same bytes."""
    assert main(["docs", "--out", str(tmp_path), "--layers", ",".join(AGAIN), "--quiet"]) == 0
    again, first = _tree(tmp_path), _tree(site)
    pages = [n for n in again if n.split(".")[0] in AGAIN]
    assert len(pages) >= 4 * len(AGAIN)
    assert {n: again[n] for n in pages} == {n: first[n] for n in pages}


def test_committed_output_is_up_to_date(site):
    """Fails when output/ is stale: run `derive docs` and commit output/."""
    committed = REPO / "output"
    fresh = _tree(site)
    old = _tree(committed) if committed.is_dir() else {}
    stale = sorted(n for n in fresh if old.get(n) != fresh[n])
    assert not stale, f"output/ is stale ({', '.join(stale[:5])}...): run `derive docs`"


@pytest.mark.parametrize("layer", LAYERS)
def test_html_is_self_contained_with_mathml_and_graph(site, layer):
    page = (site / f"{layer}.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<math") >= 3 and "<svg" in page
    assert "prefers-color-scheme" in page
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "Exported NumPy code" in page and "Three-way verification" in page


@pytest.mark.parametrize("layer", LAYERS)
def test_markdown_has_display_math_and_the_graph_image(site, layer):
    md = (site / f"{layer}.md").read_text()
    assert "\n$$\n" in md
    assert f"]({layer}.svg)" in md and (site / f"{layer}.svg").exists()


def _prose_lines(md: str):
    """Lines GitHub's Markdown parser reads as text: outside ``$$`` blocks and code fences."""
    inside = None
    for line in md.splitlines():
        if inside:
            inside = None if line.strip() == inside else inside
        elif line.strip() in ("$$", "```") or line.startswith("```"):
            inside = "$$" if line.strip() == "$$" else "```"
        else:
            yield line


@pytest.mark.parametrize("name", [f"{layer}.md" for layer in LAYERS] + ["README.md"])
def test_markdown_maths_is_what_github_renders(site, name):
    md = (site / name).read_text()
    assert "align*" not in md and "\\mathit" not in md
    for line in _prose_lines(md):
        assert "\\begin" not in line, line
        # inline maths only as code-math $`...`$: Markdown never sees its _ and *
        rest = re.sub(r"`[^`]*`", "", re.sub(r"\$`[^`]*`\$", "", line))
        assert "$" not in rest, line


def test_markdown_inline_maths_golden(site):
    md = (site / "mul.md").read_text()
    assert "inputs: $`x, y`$; forward:" in md
    assert "node $`z`$ ($`\\times`$), rule `mul`: the gradient to $`x`$" in md
    assert "# Multiply (MulLayer): layer mul\n" in md


def _balanced(tex: str) -> bool:
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", tex):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            return False
    return not stack


@pytest.mark.parametrize("name", [f"{layer}.tex" for layer in LAYERS] + ["derivations.tex"])
def test_tex_is_a_balanced_standalone_document(site, name):
    tex = (site / name).read_text()
    assert tex.startswith("\\documentclass") and "amsmath" in tex
    assert tex.count("\\begin{document}") == 1 and tex.rstrip().endswith("\\end{document}")
    assert _balanced(tex)


def test_all_derivations_have_a_table_of_contents(site):
    tex = (site / "derivations.tex").read_text()
    assert "\\tableofcontents" in tex
    assert tex.count("\\addcontentsline{toc}{section}") == len(LAYERS)


_TEX_FILES = [f"{layer}.tex" for layer in LAYERS] + ["derivations.tex"]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", _TEX_FILES)
def test_tex_compiles_with_pdflatex(site, tmp_path, name):
    shutil.copy(site / name, tmp_path / name)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_indexes_link_every_layer(site):
    index = (site / "index.html").read_text()
    readme = (site / "README.md").read_text()
    for layer in LAYERS:
        assert f'href="{layer}.html"' in index
        assert f"]({layer}.md)" in readme
    assert index.count("<math") >= 2 * len(LAYERS)


def test_refuses_to_overwrite_a_foreign_file(tmp_path, capsys):
    (tmp_path / "sigmoid.html").write_text("mine")
    assert main(["docs", "--out", str(tmp_path), "--layers", "sigmoid", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "sigmoid.html" in err and "--force" in err and "Traceback" not in err
    assert (tmp_path / "sigmoid.html").read_text() == "mine"
    assert not (tmp_path / "sigmoid.md").exists()          # nothing written at all
    assert main(["docs", "--out", str(tmp_path), "--layers", "sigmoid", "--quiet",
                 "--force"]) == 0
    assert "<math" in (tmp_path / "sigmoid.html").read_text()


def test_rewrites_its_own_files_and_keeps_foreign_ones(tmp_path):
    (tmp_path / "notes.txt").write_text("keep")
    assert main(["docs", "--out", str(tmp_path), "--layers", "exp", "--quiet"]) == 0
    assert main(["docs", "--out", str(tmp_path), "--layers", "exp", "--quiet"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_folder_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["docs", "--out", str(blocker / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: error: cannot create the output folder")
    assert len(err.strip().splitlines()) == 1


def test_corrupt_manifest_is_exit_2(tmp_path, capsys):
    (tmp_path / docs.MANIFEST).write_text("{not json")
    assert main(["docs", "--out", str(tmp_path), "--layers", "exp", "--quiet"]) == 2
    assert "manifest" in capsys.readouterr().err


def test_formats_and_layers_choose_what_is_written(tmp_path):
    assert main(["docs", "--out", str(tmp_path), "--format", "md", "--layers", "exp,tanh",
                 "--quiet"]) == 0
    assert set(_tree(tmp_path)) == {"exp.md", "exp.svg", "tanh.md", "tanh.svg", "README.md",
                                    docs.MANIFEST}


@pytest.mark.parametrize("argv", [["--format", "pdf"], ["--layers", "sigmod"],
                                  ["--layers", ","]])
def test_bad_choices_are_exit_2(tmp_path, argv, capsys):
    assert main(["docs", "--out", str(tmp_path), *argv]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_progress_on_stderr_and_quiet(tmp_path, capsys):
    assert main(["docs", "--out", str(tmp_path / "a"), "--layers", "exp,log"]) == 0
    err = capsys.readouterr().err
    assert "[1/2] exp" in err and "[2/2] log" in err
    assert main(["docs", "--out", str(tmp_path / "b"), "--layers", "exp,log", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_notebook_display():
    d = derive("sigmoid")
    html = d._repr_html_()
    assert "<math" in html and "<svg" in html and "<html" not in html
    assert d._repr_latex_().startswith("$$") and "\\frac{\\partial L}{\\partial x}" in \
        d._repr_latex_()
    md = d._repr_markdown_()
    assert md.startswith("# Sigmoid") and "\n$$\n" in md and "<svg" not in md


# --- tensor layers ----------------------------------------------------------------------------------

TENSOR = [n for n in LAYERS if derive(n).tensor]


@pytest.mark.parametrize("layer", TENSOR)
def test_tensor_page_has_the_graph_steps_and_the_code_it_verifies(site, layer):
    """The page shows the code generated from this derivation, and verifies that code."""
    from html import escape

    from derive.codegen import emit_module
    page = (site / f"{layer}.html").read_text()
    assert 'class="graph"' in page and page.count('class="node op g-node"') >= 1
    assert "index form (all sizes)" in page
    code = emit_module([derive(layer)])
    body = code[code.index("def "):]
    assert escape(body[:300]) in page
    assert "Three-way verification" in page and "PASS" in page and "FAIL" not in page
    svg = (site / f"{layer}.svg").read_text()
    assert svg.startswith("<svg") and 'data-dst="' in svg
    md = (site / f"{layer}.md").read_text()
    assert f"]({layer}.svg)" in md and "\\frac{\\partial L}" in md
    tex = (site / f"{layer}.tex").read_text()
    assert "\\section*{" in tex and "\\begin{align*}" in tex and tex.isascii()


def test_affine_graph_is_the_books_dot_and_plus_nodes(site):
    svg = (site / "affine.svg").read_text()
    for src, dst in (("x", "a"), ("W", "a"), ("a", "out"), ("b", "out")):
        assert f'data-src="{src}" data-dst="{dst}"' in svg, (src, dst)
    svg = (site / "softmax.svg").read_text()
    assert 'data-src="e" data-dst="S"' in svg and 'data-src="e" data-dst="out"' in svg


def test_docs_file_adds_the_users_layers(tmp_path):
    layer = tmp_path / "my_layers.py"
    layer.write_text("import numpy as np\n\n"
                     "def rms_norm(x: \"N, D\", g: weight(\"D\"), eps: param = 1e-6):\n"
                     "    \"\"\"RMSNorm\"\"\"\n"
                     "    ms = np.mean(x**2, axis=1, keepdims=True)\n"
                     "    return x * g / np.sqrt(ms + eps)\n\n"
                     "def swish(x):\n    return x / (1 + np.exp(-x))\n")
    out = tmp_path / "site"
    assert main(["docs", "--out", str(out), "--layers", "sigmoid", "--file", str(layer),
                 "--quiet"]) == 0
    names = set(_tree(out))
    assert {"rms_norm.html", "swish.html", "sigmoid.html"} <= names
    page = (out / "rms_norm.html").read_text()
    assert "class RmsNorm:" in page and "PASS" in page
    assert 'href="rms_norm.html"' in (out / "index.html").read_text()


def test_docs_file_refuses_a_clash_and_a_bad_file(tmp_path, capsys):
    clash = tmp_path / "a.py"
    clash.write_text("def sigmoid(x):\n    return x\n")
    assert main(["docs", "--out", str(tmp_path / "s"), "--layers", "sigmoid", "--file",
                 str(clash), "--quiet"]) == 2
    assert "already in the site" in capsys.readouterr().err
    bad = tmp_path / "b.py"
    bad.write_text("import os\nos.system('touch pwned')\n")
    assert main(["docs", "--out", str(tmp_path / "t"), "--file", str(bad), "--quiet"]) == 2
    assert not (tmp_path / "pwned").exists()


def test_index_breaks_long_names_and_links_the_other_formats(site):
    page = (site / "index.html").read_text()
    assert "<code>softmax_<wbr>with_<wbr>loss</code>" in page
    assert ('<td><a href="softmax_with_loss.md">md</a> · '
            '<a href="softmax_with_loss.tex">tex</a></td>') in page


def test_wide_graphs_shrink_to_the_column(site):
    page = (site / "silu.html").read_text()
    m = re.search(r'<svg style="width:100%;max-width:([0-9.]+)px;min-width:([0-9.]+)px;'
                  r'height:auto"[^>]*\swidth="([0-9.]+)"', page)
    assert m, "the graph has no shrink-to-fit style"
    full = float(m[3])
    assert full > 900                                  # silu's graph is wider than the column
    assert float(m[1]) == full and abs(float(m[2]) - 0.75 * full) <= 1  # shrinks to 3/4, no less


def test_input_names_fit_left_of_the_graph(site):
    svg = (site / "batchnorm.svg").read_text()
    x = float(re.search(r'<text x="([0-9.]+)"[^>]*class="g-in">(?:<title>[^<]*</title>)gamma', svg)[1])
    assert x >= 18 + 5 * 9.0          # PAD + "gamma" in bold 14px: not cut at the left edge


def test_page_verification_shows_rounding_level_errors_as_a_floor(site):
    """A page's verification row carries no digits of rounding-level errors: those depend on
    the machine's BLAS kernels (0.0 on one CPU, 4.4e-16 on another), and the pages must come
    out byte-identical on any machine. Errors from the finite differences show their decade:
    their leading digit varies with the machine too (time_rnn: 2.0e-08 on one CPU, 2.3e-08 on
    another)."""
    from derive.verification import PAGE_FLOOR
    for layer in ("time_affine", "convolution", "affine", "sigmoid"):
        text = (site / f"{layer}.md").read_text()
        row = next(line for line in text.splitlines() if line.startswith(f"{layer} "))
        cells = row.split()
        fwd, exp_ref, exp_fd = cells[1], cells[2], cells[3]
        for cell in (fwd, exp_ref):
            assert cell == f"<{PAGE_FLOOR:.0e}" or float(cell) >= PAGE_FLOOR, (layer, row)
        assert re.fullmatch(r"<1e-\d\d", exp_fd), (layer, row)
        assert "below that power of ten" in text
