"""A real Jupyter kernel displays derivations (elementwise and matrix) as MathML + SVG."""
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent  # the kernel starts here, as a user's notebook would


def _run(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


def test_notebook_shows_a_derivation():
    nb = _run(['from derive import derive\nderive("sigmoid")', 'derive("affine")'])
    for cell in nb.cells:
        outputs = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert outputs, cell.outputs
        data = outputs[0]["data"]
        assert "<math" in data["text/html"] and "<svg" in data["text/html"]
        assert data["text/latex"].startswith("$$")
        assert "$$" in data["text/markdown"]
    sigmoid_html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert "Sigmoid" in sigmoid_html
