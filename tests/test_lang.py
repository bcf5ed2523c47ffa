"""The student's language: every catalogue page in Korean and Japanese, nothing left in English.

Every layer is rendered (text and HTML) in ``ko`` and ``ja`` inside
:func:`derive.render.lang.collect_missing`; a key or phrase with no translation fails the
test with the exact English to add to ``derive/render/lang_<lang>*.py``. The mathematics
(every Math, Code and displayed row) is the same in every language, and ``lang="en"`` is
the default output.
"""
from __future__ import annotations

import re
from functools import lru_cache

import pytest

from derive import catalogue, docs
from derive.cli import main
from derive.derivation import derive_spec
from derive.render import Code, Display, Heading, Math, Para, document, html, spelling, text
from derive.render import lang as L

LANGS = ("ko", "ja")


@lru_cache(maxsize=None)
def derived():
    return tuple(derive_spec(catalogue.get(n)) for n in catalogue.names())


def _report(missing) -> str:
    """The missing entries as lines to paste into the tables: ``lang kind: 'English'``."""
    return "\n".join(f"  {lang} {kind}: {en!r}" for lang, kind, en in missing)


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalogue_page_is_translated(lang):
    ds = derived()
    with L.collect_missing() as missing:
        for d in ds:
            text.render(d, lang)
            html.render(d, code="x = 1", verification=None, lang=lang)
            docs._markdown(d, None, "report", lang)
        docs._tex_extras(None, None, lang)
        html.index([(d, {"html": "a.html", "md": "a.md"}) for d in ds[:2]], lang)
        docs._catalogue_md(ds[:2], ("md", "html"), lang)
        docs._all_tex(ds[:1], lang)
    assert not missing, (f"{len(missing)} untranslated (add them to "
                         f"derive/render/lang_{lang}*.py):\n" + _report(missing))


def _maths(blocks) -> list:
    """Everything that is not prose: Math/Code parts (in any order) and displayed rows."""
    out = []
    for b in blocks:
        if isinstance(b, Para):
            out += sorted(repr(p) for p in b.parts if isinstance(p, (Math, Code)))
        elif isinstance(b, Display):
            out.append(repr(b.rows))
        elif isinstance(b, Heading):
            out.append(("heading", b.level, b.kind))
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_the_mathematics_is_the_same_in_every_language(lang):
    for d in derived():
        for latex in (False, True):
            s = spelling(d, latex=latex)
            english, other = document(d, s), document(d, s, lang)
            assert _maths(other) == _maths(english), d.spec.name


def test_english_is_the_default():
    for d in derived()[:6] + derived()[-3:]:
        assert d.to_text(lang="en") == d.to_text()
        assert html.render(d, lang="en") == html.render(d)
        assert d.to_markdown(lang="en") == d.to_markdown()
    page = html.render(derived()[3], lang="ko")
    assert page.startswith('<!DOCTYPE html>\n<html lang="ko">') and "계산 그래프" in page


def test_a_missing_translation_is_listed_exactly():
    with L.collect_missing() as missing:
        out = L.localize_text("the gradient passes unchanged; a brand new remark", "ja")
        L.localize_key("A heading nobody translated", "ko")
    assert out == "勾配はそのまま伝わる。a brand new remark"
    assert missing == [("ja", "phrase", "a brand new remark"),
                       ("ko", "key", "A heading nobody translated")]


def test_phrases_keep_their_data():
    assert L.localize_text("hs feeds 4 nodes; their gradients add", "ko") == \
        "hs에서 노드 4개로 갈라진다. 각 기울기를 더한다"
    assert L.localize_text("e = out*S; S = e/out", "ja") == "e = out*S; S = e/out"   # formulas
    detail = ("cases x < 0; x > 0 once the output is replaced by its forward formula; "
              "against the previous line")
    assert L.localize_text(detail, "ja") == \
        "出力を順伝播の式に置き換えると x < 0; x > 0 に分ける。直前の行と照合"


def test_show_lang(capsys):
    assert main(["show", "sigmoid", "--lang", "ko"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sigmoid (계층 sigmoid)\n") and "역전파" in out
    assert "∂L/∂x = (∂L/∂y)*y*(1 - y)" in out
    assert main(["show", "relu", "--lang", "ja", "--format", "latex", "--standalone"]) == 0
    tex = capsys.readouterr().out
    assert "\\usepackage{luatexja}" in tex and "計算グラフ" in tex
    assert main(["show", "relu", "--lang", "xx"]) == 2
    capsys.readouterr()


def test_docs_lang_writes_a_site_per_language(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["docs", "-o", str(out), "--layers", "relu", "--format", "html,md",
                 "--lang", "en,ko", "--quiet"]) == 0
    assert (out / "relu.html").read_text().startswith('<!DOCTYPE html>\n<html lang="en">')
    page = (out / "ko" / "relu.html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="ko">') and "← 모든 계층" in page
    assert re.search(r"## 계산 그래프\n\n!\[relu의 계산 그래프\]\(relu\.svg\)",
                     (out / "ko" / "relu.md").read_text(encoding="utf-8"))
    assert sorted(p.name for p in (out / "ko").iterdir() if not p.name.startswith(".")) == \
        ["README.md", "index.html", "relu.html", "relu.md", "relu.svg"]
    # each language folder is a site of its own: a file derive did not write there is refused
    other = tmp_path / "other"
    (other / "ja").mkdir(parents=True)
    (other / "ja" / "relu.html").write_text("mine")
    assert main(["docs", "-o", str(other), "--layers", "relu", "--format", "html",
                 "--lang", "ja", "--quiet"]) == 2
    assert "relu.html" in capsys.readouterr().err
    assert (other / "ja" / "relu.html").read_text() == "mine"
