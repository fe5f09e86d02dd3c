"""Write rnnviz/diagrams/font_metrics.py: how wide Graphviz sets each character of a symbol label.

The circles of the unrolled view are sized by rnnviz itself (every circle of a row as large
as the row's largest label needs, :mod:`rnnviz.diagrams.textsize`), without asking Graphviz:
so it needs the width Graphviz gives each label. Graphviz (with its cairo/pango plugin, as
``-Tsvg`` and ``-Tpng`` are built everywhere) lays text out with pango at 96 dpi, with
metrics hinted to whole pixels: each glyph advances its width in the font at
``size * 96 / 72`` pixels per em, rounded to a whole pixel, and a sub- or superscript is set
at 1/1.2 of its ``POINT-SIZE``. Pango's sizes, in 1/1024 of a pixel, come out a hair larger
than the exact ones: an advance within 0.02 pixel below a half rounds up (without that, 24
of the 1088 characters of the table came out a pixel narrower than Graphviz sets them, the
bold script digits among them; with it, none, and 10 a pixel wider). This script reads the
advances from the font files (FreeType, through matplotlib's ``ft2font``) for every
character a symbol label can hold, in the four faces of the symbol font (regular, italic,
bold, bold italic) at the two sizes the diagrams use (``style.FONT_SIZE`` for a name,
``style.SCRIPT_SIZE`` for its scripts).

Which faces: ``Times-Roman`` is what the DOT asks for, and fontconfig gives what it has.
On a machine without a Times (this one, and many Linux boxes) that is DejaVu Serif, among
the widest serif faces; with a Times (macOS, TeX Live's Termes, Liberation Serif) it is a
Times-metric face. The table keeps, per character, the larger advance of DejaVu Serif and
of STIX General (a Times-metric face matplotlib ships), so a circle sized from it holds its
label with either kind of font; with DejaVu Serif the sizes are Graphviz's own to the point.
A character DejaVu Serif lacks (``ℓ``) is set by fontconfig in another face: DejaVu Sans
counts too for it.

The result depends on the font files only, never on this machine's fontconfig, so the DOT
rnnviz writes (and its golden files) is the same everywhere. Run it again only when the
sizes in ``rnnviz/diagrams/style.py`` change (tests/diagrams/test_row_sizes.py fails then):

    python scripts/generate_font_metrics.py
"""

from __future__ import annotations

import math
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rnnviz" / "diagrams" / "font_metrics.py"
sys.path.insert(0, str(ROOT))

#: Face name -> (DejaVu Serif, STIX General, DejaVu Sans: the fallback of a character DejaVu
#: Serif lacks), files of matplotlib's bundled fonts.
FACES = {
    "regular": ("DejaVuSerif.ttf", "STIXGeneral.ttf", "DejaVuSans.ttf"),
    "italic": ("DejaVuSerif-Italic.ttf", "STIXGeneralItalic.ttf", "DejaVuSans-Oblique.ttf"),
    "bold": ("DejaVuSerif-Bold.ttf", "STIXGeneralBol.ttf", "DejaVuSans-Bold.ttf"),
    "bolditalic": ("DejaVuSerif-BoldItalic.ttf", "STIXGeneralBolIta.ttf", "DejaVuSans-BoldOblique.ttf"),
}
#: Pango's resolution in Graphviz, and its scale of a sub- or superscript.
DPI = 96
SCRIPT_SCALE = 1 / 1.2
#: How far below a half pixel an advance still rounds up (pango's sizes are a hair larger).
ROUND_UP_FROM = 0.48


def characters() -> str:
    """Every character a symbol label of the variable views can hold: printable ASCII (names,
    subscripts, times such as ``t+1``), the Greek letters the language knows, the minus of
    ``t−1`` and the prime. Accents are combining marks, which take no width."""
    from rnnviz.language.syntax import GREEK_LETTERS

    chars = {chr(c) for c in range(32, 127)} | set(GREEK_LETTERS.values()) | {"\u2212", "\u2032"}
    return "".join(sorted(c for c in chars if not unicodedata.combining(c)))


def advances(path: Path, points: float, chars: str) -> dict[str, int]:
    """Character -> advance in whole pixels (at DPI), as pango counts it, of the font at ``points``."""
    from matplotlib import ft2font

    font = ft2font.FT2Font(str(path))
    font.set_size(points, DPI)
    out = {}
    for c in chars:
        if font.get_char_index(ord(c)) == 0:  # not in this font: left to the other one
            continue
        glyph = font.load_char(ord(c), flags=ft2font.LoadFlags.NO_HINTING)
        out[c] = math.floor(glyph.linearHoriAdvance / 65536 + 1 - ROUND_UP_FROM)
    return out


def tables() -> dict[str, dict[str, dict[str, int]]]:
    """size name ("text", "script") -> face -> character -> advance in pixels."""
    import matplotlib

    from rnnviz.diagrams import style

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    chars = characters()
    sizes = {"text": style.FONT_SIZE, "script": style.SCRIPT_SIZE * SCRIPT_SCALE}
    out: dict[str, dict[str, dict[str, int]]] = {}
    for size_name, points in sizes.items():
        out[size_name] = {}
        for face, files in FACES.items():
            serif, times, sans = (advances(fonts / file, points, chars) for file in files)
            merged = {c: max(serif.get(c, sans.get(c, 0)), times.get(c, 0)) for c in chars}
            merged = {c: a for c, a in merged.items() if a > 0}
            out[size_name][face] = dict(sorted(merged.items()))
    return out


def _literal(table: dict[str, int], indent: str) -> list[str]:
    """A dict literal of ``table``, eight entries a line."""
    items = [f"{c!r}: {a}" for c, a in table.items()]
    return [indent + ", ".join(items[i:i + 8]) + "," for i in range(0, len(items), 8)]


def generate() -> str:
    import matplotlib

    from rnnviz.diagrams import style

    lines = [
        '"""Advance widths, in whole pixels at 96 dpi, of the symbol font as Graphviz sets labels.',
        "",
        "Generated by scripts/generate_font_metrics.py (see there for the faces and the method),",
        f"with matplotlib {matplotlib.__version__}'s fonts; do not edit by hand.",
        '"""',
        "",
        "#: The point sizes the tables were read at: a name, and a sub- or superscript (its",
        "#: ``POINT-SIZE``, which pango sets at 1/1.2 of it).",
        f"TEXT_POINTS = {style.FONT_SIZE}",
        f"SCRIPT_POINTS = {style.SCRIPT_SIZE}",
        f"DPI = {DPI}",
        "",
        "#: size (\"text\", \"script\") -> face -> character -> advance in pixels.",
        "ADVANCES: dict[str, dict[str, dict[str, int]]] = {",
    ]
    for size_name, faces in tables().items():
        lines.append(f"    {size_name!r}: {{")
        for face, table in faces.items():
            lines.append(f"        {face!r}: {{")
            lines.extend(_literal(table, " " * 12))
            lines.append("        },")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.write_text(generate(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
