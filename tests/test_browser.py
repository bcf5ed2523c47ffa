"""The generated pages in a real browser: every formula and the graph take up space on screen.

Headless Debian chromium (installed by .ci/run) driven by playwright's Python
package; screenshots go to tests/screenshots/ (gitignored) for a human to look at.
"""
from pathlib import Path

import pytest

from derive import catalogue
from derive.cli import main

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent / "screenshots"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing; .ci/run installs it", allow_module_level=True)

LAYERS = ["sigmoid", "affine", "batchnorm"]   # matrix layers: their pages draw the node graph


def test_affine_is_a_layer_derive_docs_builds():
    assert "affine" in catalogue.names()

MEASURE = """() => {
  const size = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  const svg = document.querySelector('figure svg.graph');
  return {maths: [...document.querySelectorAll('math')].map(size),
          svg: svg ? size(svg) : null,
          requests: performance.getEntriesByType('resource').map(r => r.name)};
}"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("layer", LAYERS)
def test_page_renders_maths_and_graph(browser, tmp_path, layer, scheme):
    assert main(["docs", "--out", str(tmp_path), "--layers", layer, "--format", "html",
                 "--quiet"]) == 0
    page = browser.new_page(viewport={"width": 1000, "height": 900}, color_scheme=scheme,
                            java_script_enabled=True)   # JS only to measure; the page has none
    page.goto((tmp_path / f"{layer}.html").as_uri())
    got = page.evaluate(MEASURE)
    assert got["maths"], "no <math> element on the page"
    empty = [i for i, (w, h) in enumerate(got["maths"]) if not (w > 0 and h > 0)]
    assert not empty, f"<math> elements {empty} have no rendered size"
    assert got["svg"] and got["svg"][0] > 100 and got["svg"][1] > 40
    assert got["requests"] == []          # nothing fetched: works offline
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{layer}-{scheme}.png"), full_page=True)
    page.close()


def test_index_renders(browser, tmp_path):
    assert main(["docs", "--out", str(tmp_path), "--format", "html", "--quiet"]) == 0
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto((tmp_path / "index.html").as_uri())
    got = page.evaluate(MEASURE)
    assert len(got["maths"]) >= 2 * len(catalogue.names())
    assert all(w > 0 and h > 0 for w, h in got["maths"])
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "index.png"), full_page=True)
    page.close()



def test_korean_page_renders(browser, tmp_path):
    assert main(["docs", "--out", str(tmp_path), "--layers", "sigmoid", "--format", "html",
                 "--lang", "ko", "--quiet"]) == 0
    page = browser.new_page(viewport={"width": 1000, "height": 900}, java_script_enabled=True)
    page.goto((tmp_path / "ko" / "sigmoid.html").as_uri())
    got = page.evaluate(MEASURE)
    assert got["maths"] and all(w > 0 and h > 0 for w, h in got["maths"])
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert "역전파" in page.inner_text("body")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "sigmoid-ko.png"), full_page=True)
    page.close()
