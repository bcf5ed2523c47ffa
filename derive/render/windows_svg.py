"""A picture of im2col for the convolution and pooling pages: windows unrolled into rows.

A 4×4 input (one channel) and a 3×3 window at stride 1: the four window positions are
drawn on the input in four colours, and each becomes one row of the unrolled matrix
(its 9 entries in window order p, q). Convolution is then that matrix times the filters
reshaped to columns (the book's im2col → matmul → reshape), and its backward folds the
rows back, adding where windows overlap (col2im). The numbers are the input's own cell
labels x₀₀ … x₃₃, so the reader can follow each one.

>>> svg = windows_svg()
>>> svg.startswith("<svg") and svg.count("<rect") == 16 + 4 + 4 * 9
True
"""
from __future__ import annotations

from html import escape

from .lang import t

__all__ = ["windows_svg", "uses_windows"]

_COLOURS = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a")
_CELL = 30


def uses_windows(spec) -> bool:
    from ..windows import Windows
    return bool(spec.forward.atoms(Windows))


def _cell(x, y, text, fill="none", stroke="#888", size=_CELL, cls="") -> str:
    return (f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{fill}" '
            f'stroke="{stroke}"{cls}/>'
            f'<text x="{x + size / 2}" y="{y + size / 2 + 4}" text-anchor="middle" '
            f'font-size="10">{escape(text)}</text>')


def windows_svg(lang: str = "en", H: int = 4, W: int = 4, F: int = 3) -> str:
    """The SVG: input grid with each window outlined, and the unrolled rows."""
    OH, OW = H - F + 1, W - F + 1
    parts = []
    top, left = 40, 20
    for i in range(H):
        for j in range(W):
            parts.append(_cell(left + j * _CELL, top + i * _CELL, f"x{i}{j}"))
    for k, (i, j) in enumerate((i, j) for i in range(OH) for j in range(OW)):
        colour = _COLOURS[k % len(_COLOURS)]
        inset = 2 + 2 * k
        parts.append(f'<rect x="{left + j * _CELL + inset}" y="{top + i * _CELL + inset}" '
                     f'width="{F * _CELL - 2 * inset}" height="{F * _CELL - 2 * inset}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"/>')
    right = left + W * _CELL + 70
    parts.append(f'<text x="{left}" y="{top - 24}" font-size="12">'
                 f'{t("x: {0}, one channel", lang, f"{H}×{W}")}</text>')
    parts.append(f'<text x="{left}" y="{top - 8}" font-size="12">'
                 f'{t("{0} windows, stride 1", lang, f"{F}×{F}")}</text>')
    parts.append(f'<text x="{right}" y="{top - 8}" font-size="12">'
                 f'{t("im2col: one row per window ({0})", lang, f"{OH * OW} × {F * F}")}</text>')
    parts.append(f'<path d="M{left + W * _CELL + 10},{top + H * _CELL / 2} '
                 f'h40" stroke="#444" marker-end="url(#arrow)"/>')
    for k, (i, j) in enumerate((i, j) for i in range(OH) for j in range(OW)):
        colour = _COLOURS[k % len(_COLOURS)]
        y = top + k * (_CELL + 6)
        for m, (p, q) in enumerate((p, q) for p in range(F) for q in range(F)):
            parts.append(_cell(right + m * (_CELL - 4), y, f"x{i + p}{j + q}", fill=colour + "33",
                               stroke=colour, size=_CELL - 4))
    width = right + F * F * (_CELL - 4) + 20
    height = top + max(H * _CELL, OH * OW * (_CELL + 6)) + 56
    parts.append(f'<text x="{left}" y="{height - 30}" font-size="12">'
                 + t("forward: the rows @ the filters reshaped to columns, then reshaped to "
                     "(N, FN, OH, OW)", lang) + '</text>')
    parts.append(f'<text x="{left}" y="{height - 12}" font-size="12">'
                 + t("backward: the rows are folded back into x, overlapping windows adding "
                     "up (col2im)", lang) + '</text>')
    defs = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker>'
            '</defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" class="im2col" role="img" '
            f'aria-label="{t("im2col: each window of x becomes one row", lang)}">{defs}{"".join(parts)}</svg>')
