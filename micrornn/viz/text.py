"""Typesetting: label text as Graphviz HTML, with widths from the font's metrics, and numbers as a picture prints them.

Every label, title, caption and token a picture or stepper page shows passes through ``_printable``;
``_math`` typesets the notes' notation (W^H_3) without SVG baseline shifts, so a browser reads it as a PNG does.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

_FONT = "Arial"  # see _REGULAR

def _fmt(x: float) -> str:
    """A number in 4 significant digits; exactly 0 as "0"."""
    return "0" if x == 0 else f"{x:.4g}"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# Shown as their escape: control characters (dot stops with a "syntax error" at a NUL byte), lone surrogates
# (UTF-8 cannot encode them) and invisible format characters — the bidi controls U+202A–U+202E, U+2066–U+2069,
# U+200E/F, U+061C would reverse the text around them in a browser (a label "a\u202eb" could pass for
# another), and zero-width ones hide there. An escape keeps each one visible, so a teacher sees it is there.
_ESCAPED_CATEGORIES = ("Cc", "Cs", "Cf")


def _printable(text: str) -> str:
    r"""``text`` as a picture can show it: a line break → ⏎, a tab → a space, any other control, format
    (bidi, zero-width) or lone surrogate character → its escape, e.g. ``\x00``, ``\u202e``. Every label,
    title, caption and token a picture or stepper page shows passes through here.

    >>> _printable("a\nb\x00"), _printable("a\u202eb")
    ('a⏎b\\x00', 'a\\u202eb')
    """
    if text.isprintable():  # str.isprintable() is False for every character escaped below
        return text
    text = _LINE_BREAK.sub("⏎", text).replace("\t", " ")
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _ESCAPED_CATEGORIES
                   else ch for ch in text)


def _escaped(text: str) -> str:
    r"""``text`` for a Graphviz label, plain or HTML-like: printable, entities escaped, and a backslash
    doubled (dot reads ``\N``, ``\G``, ``\l`` … as escapes, in HTML-like labels too)."""
    return html.escape(_printable(text)).replace("\\", "\\\\")


# Advance widths of Arial (= Helvetica = Liberation Sans: metric-compatible) in 1/1000 em, regular and
# bold. Pictures name Arial, not Helvetica: on Linux, Graphviz (pango) resolved "Helvetica" to DejaVu Sans,
# 10% wider, while Chromium drew Liberation Sans, so text runs placed by Graphviz came apart in the browser.
# "Arial" is Liberation Sans for both there, and Arial itself on macOS and Windows. Characters outside the
# tables (Σ ∂ ∇ …) come from a fallback font.
_REGULAR = dict(zip(" !\"#$%&'()*+,-./0123456789:;<=>?@", [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389,
                                                          584, 278, 333, 278, 278] + [556] * 10 + [278, 278, 584,
                                                          584, 584, 556, 1015]))
_REGULAR.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
                                                  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]))
_REGULAR.update(zip("[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", [278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
                                                              556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
                                                              556, 556, 556, 333, 500, 278, 556, 500, 722, 500,
                                                              500, 500, 334, 260, 334, 584]))
_BOLD = {**_REGULAR, **dict(zip("bdfghijklnopqrtuy", [611, 611, 333, 611, 611, 278, 278, 556, 278, 611, 611, 611,
                                                       611, 389, 333, 611, 556])), "c": 556, "s": 556, "x": 556,
         "z": 500, "m": 889, "v": 556, "w": 778,
         "A": 722, "B": 722, "E": 667, "J": 556, "K": 722, "L": 611, "P": 667, "R": 722, "Y": 667}
_OTHER = 800  # Σ ∂ ∇ … in a fallback font: a generous width, as a box that is too wide only looks roomy


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in points of ``text`` at ``size`` points, from the font metrics above."""
    table = _BOLD if bold else _REGULAR
    return sum(table.get(ch, _OTHER) for ch in text) * size / 1000


@dataclass(frozen=True)
class _Piece:
    """A run of label text as Graphviz HTML, with its width and height in points."""

    html: str
    width: float
    height: float
    table: bool = False  # a small table (super/subscripts): it needs a cell of its own


def _plain(text: str, size: float = 10, bold: bool = False, italic: bool = False) -> _Piece:
    """A run of text. Its leading and trailing spaces are non-breaking: a browser drops them from an SVG
    <text> (Graphviz keeps them), which moved " ∂L/∂" one space left of where Graphviz put it."""
    core = text.strip(" ")
    lead, trail = len(text) - len(text.lstrip(" ")), len(text) - len(text.rstrip(" "))
    body = "&#160;" * lead + _escaped(core) + "&#160;" * trail if core else "&#160;" * len(text)
    if bold:
        body = f"<B>{body}</B>"
    if italic:
        body = f"<I>{body}</I>"
    if size != 10:
        body = f'<FONT POINT-SIZE="{size:g}">{body}</FONT>'
    return _Piece(body, _text_width(text, size, bold), 1.2 * size)


_NOTATION = re.compile(r"([^\^_\[]+)(?:\^([^_\[]+))?(?:_([^\[]+))?(\[.*\])?", flags=re.DOTALL)


def _math(label: str, size: float = 10, bold: bool = False) -> list[_Piece]:
    """'W^H_3[0,1]' typeset: W, then a small H over a small 3 in a two-row table, then [0,1].

    Graphviz writes <SUP>/<SUB> as SVG ``baseline-shift``, which Chromium draws outside the box (W^X
    read "W ^"); stacked cells are plain text at fixed positions, the same in SVG, PNG and PDF.
    """
    m = _NOTATION.fullmatch(label)
    if not m or not (m.group(2) or m.group(3)):
        return [_plain(label, size, bold)]
    name, sup, sub, idx = m.groups()
    small = round(size * 0.7)
    top, bottom = _plain(sup or " ", small, bold), _plain(sub or " ", small, bold)
    stack = (f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD ALIGN="LEFT">{top.html}</TD></TR>'
             f'<TR><TD ALIGN="LEFT">{bottom.html}</TD></TR></TABLE>')
    pieces = [_plain(name, size, bold), _Piece(stack, max(top.width, bottom.width), top.height + bottom.height, True)]
    if idx:
        pieces.append(_plain(idx, size, bold))
    return pieces


def _line(pieces: list[_Piece]) -> _Piece:
    """One line of a label. Several runs go in one row of cells of a fixed-size table: each run is
    positioned by Graphviz, so a browser whose font is a little wider cannot push one run into the next
    (the Σ lines came apart), and the table does not stretch when its box is wider."""
    merged: list[_Piece] = []
    for p in pieces:  # neighbouring plain runs are one run: "∂L/∂" and the W of W^H_t stay one text
        if merged and not p.table and not merged[-1].table:
            q = merged.pop()
            p = _Piece(q.html + p.html, q.width + p.width, max(q.height, p.height))
        merged.append(p)
    pieces = merged
    if len(pieces) == 1 and not pieces[0].table:
        return pieces[0]
    width = 1.05 * sum(p.width for p in pieces) + 2.0 * len(pieces) + 4  # Graphviz rounds each cell up
    height = max(p.height for p in pieces) + 1
    cells = "".join(f"<TD>{p.html}</TD>" for p in pieces)
    return _Piece(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0" FIXEDSIZE="TRUE" WIDTH="{math.ceil(width)}" '
                  f'HEIGHT="{math.ceil(height)}"><TR>{cells}</TR></TABLE>', math.ceil(width), math.ceil(height), True)


def _magnitude(x: Any) -> float:
    """|x| for a number, the Euclidean norm for an array."""
    if x is None:
        return 0.0
    a = np.asarray(x, dtype=np.float64)
    return float(abs(a)) if a.ndim == 0 else float(np.sqrt(np.sum(a * a)))


def _value(x: Any) -> str:
    """A number as a number; an array as its norm between bars, |0.46|. (Not ‖0.46‖: the glyph is there,
    but in Arial-like fonts, where an l is a plain bar, ‖0.46‖ reads "ll0.46ll".)"""
    a = np.asarray(x, dtype=np.float64)
    return _fmt(float(a.reshape(()))) if a.size == 1 else f"|{_fmt(_magnitude(a))}|"
