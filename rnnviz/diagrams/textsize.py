"""How large Graphviz draws a label, computed from a table of font metrics (no Graphviz run).

Graphviz sizes a circle to its own label, so ``i^(1)`` comes out narrower than ``o^(1)`` and
``h^(10)`` wider than ``h^(9)``. To give every circle of a row one size, rnnviz computes
each label's width as Graphviz will, from the advance widths (in whole pixels) of
:mod:`rnnviz.diagrams.font_metrics` (generated from the font files by
``scripts/generate_font_metrics.py``):

- an HTML-like label is a line of spans, one per run of text between two tags; pango sets
  each span (a sub- or superscript at 1/1.2 of its ``POINT-SIZE``), each glyph a whole number
  of pixels at 96 dpi, and Graphviz rounds each span's width up to the next whole point
  (``int(width + 1)``); the line is as wide as its spans together;
- a circle round a label ``w`` points wide and ``h`` tall is ``sqrt(2) * max(w + 16, h + 8)``
  points across (Graphviz's margins: 8 points each side, 4 above and below).

The widths depend on the table only, never on the fonts installed, so the DOT is the same on
every machine. Graphviz never shrinks a node below the width it is given: where fontconfig
finds a narrower face (a real Times) the circles keep the computed size, and every label fits.

Example:
    >>> label_width('<I>h</I><FONT POINT-SIZE="11"><SUP>(1)</SUP></FONT>')
    25
    >>> round(circle_diameter('<I>h</I><FONT POINT-SIZE="11"><SUP>(1)</SUP></FONT>'), 2)
    57.98
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from . import font_metrics

__all__ = ["label_width", "label_height", "circle_diameter"]

#: Graphviz's room round a node's label: 8 points each side, 4 above and below.
MARGIN_X, MARGIN_Y = 16, 8
#: Height of a line of the label at the size of its name, in points per point of font size
#: (Graphviz gives a line of 16-point symbols, scripts and all, 18 points).
LINE_HEIGHT = 18 / 16

_POINT_SIZE = re.compile(r'POINT-SIZE="([\d.]+)"', re.I)
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    if "&" not in text:
        return text

    def one(m: re.Match) -> str:
        e = m.group(1)
        if e.startswith("#x"):
            return chr(int(e[2:], 16))
        if e.startswith("#"):
            return chr(int(e[1:]))
        return _NAMED[e]

    return _ENTITY.sub(one, text)


#: (size, face) -> the widest advance of that table: what a character it lacks counts.
_WIDEST = {(size, face): max(table.values()) for size, faces in font_metrics.ADVANCES.items()
           for face, table in faces.items()}


def _span_pixels(text: str, face: str, points: float, script: bool) -> float:
    """Width in pixels (96 dpi) pango gives ``text`` in ``face`` at ``points`` (before any
    script scaling; ``script``: set as a sub- or superscript)."""
    key, base = ("script", font_metrics.SCRIPT_POINTS) if script else ("text", font_metrics.TEXT_POINTS)
    table = font_metrics.ADVANCES[key][face]
    px = 0
    for c in text:
        a = table.get(c)
        if a is None:  # an accent sits on the letter before it; a character the table lacks
            a = 0 if unicodedata.combining(c) else _WIDEST[key, face]  # counts as its widest
        px += a
    if points != base:  # another size: the advances scaled, each rounded up
        px = sum(math.ceil(table.get(c, _WIDEST[key, face]) * points / base)
                 for c in text if not unicodedata.combining(c))
    return px


@lru_cache(maxsize=4096)
def _span_points(text: str, face: str, points: float, script: bool) -> int:
    """Width in points Graphviz gives one span: pango's width, rounded up to a whole point."""
    return int(_span_pixels(_unescape(text), face, points, script) * 72 / font_metrics.DPI + 1)


@lru_cache(maxsize=4096)
def _lines(label: str, points: float) -> tuple[tuple[int, float], ...]:
    """(width in points, largest font size) of each line of the inside of an HTML-like label."""
    bold = italic = script = 0
    sizes = [points]
    lines: list[tuple[int, float]] = []
    width, tallest = 0, points
    # The label split at each "<": a tag (and its attributes) up to ">", then the text after it.
    for k, piece in enumerate(label.split("<")):
        if k:
            tag, _, text = piece.partition(">")
            close = tag.startswith("/")
            name = tag[1:] if close else tag
            name = name.split(None, 1)[0].rstrip("/").upper() if name.strip() else ""
            step = -1 if close else 1
            if name == "B":
                bold += step
            elif name == "I":
                italic += step
            elif name in ("SUB", "SUP"):
                script += step
            elif name == "FONT":
                if close:
                    if len(sizes) > 1:
                        sizes.pop()
                else:
                    m = _POINT_SIZE.search(tag)
                    sizes.append(float(m.group(1)) if m else sizes[-1])
            elif name == "BR":
                lines.append((width, tallest))
                width, tallest = 0, sizes[-1]
        else:
            text = piece
        if text:
            face = ("bold" if bold else "") + ("italic" if italic else "") or "regular"
            width += _span_points(text, face, sizes[-1], script > 0)  # Graphviz rounds each span up
            if sizes[-1] > tallest:
                tallest = sizes[-1]
    lines.append((width, tallest))
    return tuple(lines)


def label_width(label: str, points: float = font_metrics.TEXT_POINTS) -> int:
    """Width in points Graphviz gives the inside of an HTML-like text label (its widest line)
    whose font is the symbol font at ``points``."""
    return max(w for w, _ in _lines(label, points))


def label_height(label: str, points: float = font_metrics.TEXT_POINTS) -> float:
    """Height in points of the label's lines."""
    return sum(size * LINE_HEIGHT for _, size in _lines(label, points))


def circle_diameter(label: str, points: float = font_metrics.TEXT_POINTS) -> float:
    """Diameter in points of the (inner) circle Graphviz draws round the label."""
    w, h = label_width(label, points), label_height(label, points)
    return math.sqrt(2) * max(w + MARGIN_X, h + MARGIN_Y)
