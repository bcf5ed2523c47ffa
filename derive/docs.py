"""The derivation site: every catalogue layer (and the user's own) as HTML, Markdown and LaTeX, plus the indexes.

Each layer is derived once and rendered into every format asked for. Files are
written safely by :func:`derive.files.write_site`: staged, then switched into
place in one step that a re-run finishes after any interruption; the names
written are kept in a manifest (:data:`MANIFEST`), and a file the tool did not
write is never overwritten unless ``force`` is given. The output is
deterministic: two runs give byte-identical files.

>>> site = build(["sigmoid"], ("md",))
>>> sorted(site.files)
['README.md', 'sigmoid.md', 'sigmoid.svg']
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import budget, catalogue, files
from .derivation import derive_spec
from .errors import DeriveError
from .render import forward_rows, html, latex, markdown, spelling, tikz
from .render import svg as svg_render
from .render.lang import LANGS, t, title

FORMATS = ("html", "md", "tex")
MANIFEST = files.MANIFEST


@dataclass
class Site:
    """Generated files (relative name → text) and the seconds each layer took."""

    files: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


def parse_list(text: str | None, known, what: str) -> tuple:
    """``"a,b"`` → ('a', 'b'), each checked against ``known``; None → all of ``known``."""
    if text is None:
        return tuple(known)
    items = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    if not items:
        raise DeriveError(f"--{what}: give at least one of {', '.join(known)}")
    for t in items:
        if t not in known:
            raise DeriveError(f"--{what}: unknown {t!r}; choose from {', '.join(known)}")
    return items


# --- the exported code and the verification report ---

def exported_code(d) -> str | None:
    """The layer's exported NumPy module, generated from this derivation (what
    ``derive export`` writes for it)."""
    from .codegen import emit_module
    return emit_module([d])


def verification_report(d, code: str | None) -> str | None:
    """The three-way verification report of the code this page shows, as text; None when
    the layer has no numeric case."""
    from .verification import report_text
    try:
        return report_text(d, code)
    except DeriveError:
        return None


# --- rendering ---

def _latex_verbatim(title: str, text: str | None, lang: str = "en") -> str:
    head = latex.escape(title, lang)
    if text is None:
        return f"\\subsection*{{{head}}}\n{latex.escape(t('{0}: not available.', lang, title), lang)}\n"
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return f"\\subsection*{{{head}}}\n\\begin{{verbatim}}\n{ascii_text}\\end{{verbatim}}\n"


def _tex_extras(code, report, lang="en") -> str:
    return "\n" + _latex_verbatim(t("Exported NumPy code", lang), code, lang) + "\n" + \
        _latex_verbatim(t("Three-way verification", lang), report, lang)


def _markdown(d, code, report, lang="en") -> str:
    md = markdown.render(d, lang)
    image = f"![{t('computational graph of {0}', lang, d.spec.name)}]({d.spec.name}.svg)\n\n" \
            + t("Forward values above the arrows (going right), backward gradients below "
                "(going left, in red).", lang) + "\n"
    head = f"## {markdown.escape(t('Computational graph', lang))}\n"
    md = md.replace(head, head + "\n" + image, 1) if head in md else md + "\n" + image
    md = f"[{t('← all layers', lang)}](README.md)\n\n" + md
    for title, text, fence in ((t("Exported NumPy code", lang), code, "python"),
                               (t("Three-way verification", lang), report, "text")):
        body = f"```{fence}\n{text.rstrip()}\n```" \
            if text is not None else f"*{t('{0}: not available.', lang, title)}*"
        md += f"\n## {title}\n\n{body}\n"
    return md


def render_layer(d, formats, lang: str = "en") -> dict:
    """name → text for one derived layer, its prose in ``lang``."""
    name = d.spec.name
    code = exported_code(d)
    report = verification_report(d, code)
    files = {}
    if "html" in formats:
        files[f"{name}.html"] = html.render(d, code=code, verification=report, lang=lang)
    if "md" in formats:
        files[f"{name}.svg"] = svg_render.render(d, lang=lang)
        files[f"{name}.md"] = _markdown(d, code, report, lang)
    if "tex" in formats:
        tex = latex.render(d, standalone=True, lang=lang)
        end = "\\end{document}\n"
        files[f"{name}.tex"] = tex[:-len(end)] + _tex_extras(code, report, lang) + end
    return files


def _catalogue_md(derived, formats, lang="en") -> str:
    lines = [f"# {t('derive: the layer catalogue', lang)}", "",
             t("Every backward pass is derived node by node on the computational graph; "
               "every step is proven.", lang), ""]
    for d in derived:
        name = d.spec.name
        heading = title(d.spec, lang)
        link = f"[{heading}]({name}.md)" if "md" in formats else heading
        extra = " · ".join(f"[{f}]({name}.{f})" for f in ("html", "tex") if f in formats)
        lines += [f"## {link}", "", f"`{name}`" + (f" — {extra}" if extra else ""), ""]
        s = spelling(d, latex=True)
        for a, b in forward_rows(d, s):
            lines += ["$$", f"{a} = {b}", "$$", ""]
        for n in d.wrt:
            lines += ["$$", f"{s.grad(n)} = {s.expr(d.result[n])}", "$$", ""]
    return "\n".join(lines)


def _tex_chunk(d, lang="en") -> str:
    return latex.render(d, lang=lang).replace(
        "}\n", "}\n\\addcontentsline{toc}{section}{%s}\n" % latex.escape(title(d.spec, lang),
                                                                         lang), 1)


def _all_tex(derived, lang="en") -> str:
    chunks = [_tex_chunk(d, lang) for d in derived]
    title = latex.escape(t("derive: all derivations", lang), lang)
    return ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n"
            "\\usepackage{amsmath,amssymb}\n" + tikz.PREAMBLE + latex.CJK.get(lang, "") +
            f"\\title{{{title}}}\n\\date{{}}\n"
            "\\begin{document}\n\\maketitle\n\\tableofcontents\n\n"
            + "\n\\clearpage\n".join(chunks) + "\n\\end{document}\n")


def build(names, formats=FORMATS, progress=None, specs=(), lang: str = "en") -> Site:
    """Derive each layer once and render every file of the site, in memory.

    ``specs``: extra layers (e.g. from ``docs --file``), after the catalogue's; ``lang``:
    the language of the prose (the mathematics is the same in every language).
    """
    site, derived = Site(), []
    todo = [(n, None) for n in names] + [(s.name, s) for s in specs]
    for k, (name, spec) in enumerate(todo, 1):
        if progress:
            progress(f"[{k}/{len(todo)}] {name}")
        start = time.perf_counter()
        budget.restart()                # --timeout bounds each layer, not the catalogue
        d = derive_spec(spec if spec is not None else catalogue.get(name))
        derived.append(d)
        site.files.update(render_layer(d, formats, lang))
        site.timings[name] = time.perf_counter() - start
    links = {d.spec.name: {f: f"{d.spec.name}.{f}" for f in formats} for d in derived}
    if "html" in formats:
        site.files["index.html"] = html.index([(d, links[d.spec.name]) for d in derived], lang)
    if "md" in formats or "html" in formats:
        site.files["README.md"] = _catalogue_md(derived, formats, lang)
    if "tex" in formats:
        site.files["derivations.tex"] = _all_tex(derived, lang)
    return site


# --- writing (derive.files: atomic, never a foreign file, one switch for the whole site) ---

def read_manifest(out: Path) -> set:
    return files.read_manifest(out, MANIFEST)


def ready_folder(out) -> Path:
    """Create ``out`` if needed and make sure it can be written (before any work is done)."""
    return files.ready_folder(out)


def write(site: Site, out, force: bool = False) -> list:
    """Write the site into ``out`` in one switch; refuse (before writing anything) to replace
    foreign files or write through links (see :func:`derive.files.write_site`)."""
    return files.write_site(out, site.files, force=force, manifest=MANIFEST)


def lang_folder(out, lang: str) -> Path:
    """Where the site in ``lang`` goes: ``out`` for English, ``out/<lang>`` for the others
    (the same file names, a site of its own with its own manifest).

    >>> str(lang_folder("output", "ko"))
    'output/ko'
    """
    return Path(out) if lang == "en" else Path(out) / lang


def generate(out="output", formats=FORMATS, layers=None, force=False, progress=None,
             specs=(), lang: str = "en") -> Site:
    """Build and write the site; ``layers`` None means the whole catalogue; a language other
    than English goes into :func:`lang_folder`."""
    if lang not in LANGS:
        raise DeriveError(f"--lang: unknown {lang!r}; choose from {', '.join(LANGS)}")
    ready_folder(out)
    folder = lang_folder(out, lang)
    ready_folder(folder)
    site = build(tuple(catalogue.names() if layers is None else layers), tuple(formats),
                 progress, specs, lang)
    write(site, folder, force)
    return site
