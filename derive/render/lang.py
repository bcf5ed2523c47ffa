"""The student's language: the walkthrough's prose in English, Korean or Japanese.

The mathematics is never translated: :func:`derive.render.document` builds its blocks in
English, and :func:`localize` rewrites only their prose, at render time. Two kinds of
prose, two tables per language (``lang_ko.py``, ``lang_ja.py`` and their ``_notes`` halves):

* **keys** — a paragraph's (or a clause's, a heading's, a page caption's) fixed wording,
  with numbered placeholders for what it embeds: ``"node {0} ({1}), rule {2}: the
  gradient to {3}"``. The translation is a template that may reorder them.
* **phrases** — prose built from data (a step's note, a proof's detail, a spec's notes):
  English templates whose ``{0}`` slots hold data kept verbatim (a formula, a name,
  a count) and whose ``{p0}`` slots hold prose translated in turn. A text is read as
  phrases joined by ``"; "``, the longest phrase first; a piece that is only a formula
  (``e = out*S``) needs no entry.

A missing translation falls back to the English; inside :func:`collect_missing` every
fallback is recorded instead, so a test can list exactly what is missing.

>>> localize_text("the gradient passes unchanged", "ko")
'기울기가 그대로 전해진다'
>>> localize_text("x feeds 2 nodes; their gradients add", "ja")
'x は 2 個のノードに分岐している。それぞれの勾配を足し合わせる'
>>> localize_key("Computational graph", "ja")
'計算グラフ'
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import import_module

LANGS = ("en", "ko", "ja")
SEP = "; "


@dataclass(frozen=True)
class Data:
    """Data inside prose (a name, a count, a shape): inserted verbatim in every language."""
    source: str


@dataclass(frozen=True)
class Prose:
    """Prose made of data (a note, a proof's detail): translated phrase by phrase."""
    source: str


_missing: list | None = None


@contextmanager
def collect_missing():
    """Record every untranslated key or phrase (English) in the yielded list, in order."""
    global _missing
    saved, _missing = _missing, []
    try:
        yield _missing
    finally:
        _missing = saved


def _miss(lang: str, kind: str, text: str) -> None:
    if _missing is not None and (lang, kind, text) not in _missing:
        _missing.append((lang, kind, text))


def check_lang(lang: str) -> str:
    from ..errors import DeriveError
    if lang not in LANGS:
        raise DeriveError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return lang


@lru_cache(maxsize=None)
def tables(lang: str):
    """(keys, phrases) of ``lang``: exact keys, and phrase templates compiled to regexes."""
    keys, phrases = {}, {}
    for module in (f"lang_{lang}", f"lang_{lang}_notes", f"lang_{lang}_titles"):
        mod = import_module(f"derive.render.{module}")
        keys.update(getattr(mod, "KEYS", {}))
        phrases.update(getattr(mod, "PHRASES", {}))
    compiled = [(_pattern(en), en, out) for en, out in phrases.items() if "{" in en]
    compiled.sort(key=lambda t: -len(t[1]))      # the most specific template first
    return keys, {en: out for en, out in phrases.items() if "{" not in en}, compiled


_SLOT = re.compile(r"\{(p?\d+)\}")


def _pattern(template: str):
    out, pos = [], 0
    for m in _SLOT.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        name = m.group(1)
        out.append(f"(?P<s{name}>.+)" if name.startswith("p") else f"(?P<s{name}>.+?)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out), re.S)


_WORDS = re.compile(r"[A-Za-z]{2,} [A-Za-z]")
_FUNCTIONS = re.compile(r"\b(log|exp|sqrt|tanh|sigmoid|softplus|sin|cos)\b")


def is_formula(text: str) -> bool:
    """Data, not prose: no two words in a row (``x``, ``×(−1)``, ``t*x - 1``, ``A[:, :H]``,
    ``Σ_k t[n,k]·log y[n,k]``).

    >>> is_formula("t*x - 1"), is_formula("the previous line")
    (True, False)
    """
    return not _WORDS.search(_FUNCTIONS.sub("f", text))


def _fill(template: str, values: dict) -> str:
    return _SLOT.sub(lambda m: values[m.group(1)], template)


def _phrase(text: str, lang: str):
    """One phrase in ``lang``, or None when no entry reads it."""
    _, exact, compiled = tables(lang)
    if text in exact:
        return exact[text]
    for regex, _, out in compiled:
        m = regex.fullmatch(text)
        if not m:
            continue
        values = {}
        for name, value in m.groupdict().items():
            slot = name[1:]
            if slot.startswith("p"):
                values[slot] = localize_text(value, lang)
            elif is_formula(value):
                values[slot] = value
            else:
                break
        else:
            return _fill(out, values)
    if ("=" in text or "<" in text or ">" in text) and is_formula(text):
        return text       # a formula alone (a rewrite's equation) is the same in every language
    return None


def localize_text(text: str, lang: str) -> str:
    """Prose made of data, in ``lang``: the longest known phrase at each place, joined by
    the separators between them; an unknown piece stays English (and is recorded)."""
    if lang == "en" or not text:
        return text
    cuts = [m.start() for m in re.finditer(re.escape(SEP), text)] + [len(text)]
    out, i = [], 0
    while i < len(text):
        for j in reversed([c for c in cuts if c > i]):
            done = _phrase(text[i:j], lang)
            if done is not None:
                break
        else:
            j = next(c for c in cuts if c > i)
            done = text[i:j]
            _miss(lang, "phrase", done)
        out.append(done)
        i = j
        if i < len(text):
            out.append(tables(lang)[0].get(SEP, SEP))
            i += len(SEP)
    return "".join(out)


def localize_key(key: str, lang: str) -> str:
    """A fixed wording (placeholders ``{0}``…) in ``lang``; a key without letters is its own
    translation."""
    if lang == "en":
        return key
    out = tables(lang)[0].get(key)
    if out is None:
        if re.search(r"[A-Za-z]", _SLOT.sub("", key)):
            _miss(lang, "key", key)
        return key
    return out


def title(spec, lang: str) -> str:
    """A layer's title in ``lang`` (the catalogue's titles are phrases, formulas kept)."""
    return localize_text(spec.title, lang)


def t(key: str, lang: str, *args) -> str:
    """:func:`localize_key` with its placeholders filled (a page's own text)."""
    out = localize_key(key, lang)
    return _fill(out, {str(k): str(a) for k, a in enumerate(args)}) if args else out


# --- blocks ---

def clause_key(parts) -> str:
    """The key of a clause: its str parts, ``{k}`` for the k-th other part (braces doubled)."""
    out, k = [], 0
    for p in parts:
        if isinstance(p, str):
            out.append(p.replace("{", "{{").replace("}", "}}"))
        else:
            out.append("{%d}" % k)
            k += 1
    return "".join(out)


def _clause(parts, lang: str) -> list:
    from . import Code, Math
    args = [p for p in parts if not isinstance(p, str)]
    template = localize_key(clause_key(parts), lang)
    out = []
    for piece in re.split(r"(\{\d+\}|\{\{|\}\})", template):
        if piece in ("{{", "}}"):
            out.append(piece[0])
        elif re.fullmatch(r"\{\d+\}", piece):
            arg = args[int(piece[1:-1])]
            if isinstance(arg, (Math, Code)):
                out.append(arg)
            elif isinstance(arg, Prose):
                out.append(localize_text(arg.source, lang))
            else:
                out.append(arg.source)
        elif piece:
            out.append(piece)
    return out


def localize_parts(parts, lang: str) -> tuple:
    """A paragraph's parts in ``lang``: str, :class:`Math` and :class:`Code` only.

    ``parts`` is one clause (str, Math, Code, :class:`Data`, :class:`Prose`) or a tuple of
    clauses (tuples), each translated on its own key.
    """
    clauses = parts if parts and all(isinstance(p, tuple) for p in parts) else (parts,)
    out = []
    for c in clauses:
        for p in _clause(c, lang):
            if isinstance(p, str) and out and isinstance(out[-1], str):
                out[-1] += p
            else:
                out.append(p)
    return tuple(out)


def localize(blocks, lang: str = "en") -> list:
    """Blocks as the format modules read them: headings filled, paragraphs in ``lang``."""
    from . import Edges, Heading, Para
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            args = [localize_text(a.source, lang) if isinstance(a, Prose) else
                    getattr(a, "source", a) for a in b.args]
            out.append(replace(b, text=t(b.text, lang, *args) if args else
                               localize_key(b.text, lang), args=()))
        elif isinstance(b, Para):
            out.append(replace(b, parts=localize_parts(b.parts, lang)))
        elif isinstance(b, Edges):
            out.append(replace(b, caption=localize_parts(b.caption, lang)))
        else:
            out.append(b)
    return out
