"""Every circle of a row of the unrolled view is drawn the same size (issue 13, item 4).

Graphviz sizes a circle to its own label: the LSTM's gate i came out 50.9 points wide beside
o's 56.6, and h^(10) wider than h^(9). rnnviz computes each label's size as Graphviz will
(:mod:`rnnviz.diagrams.textsize`, from a table of font metrics, without running Graphviz) and
gives every circle of a row the row's largest. Measured here on the rendered SVG: the circles
of one row (the same variable across the steps, the gates of one row) have one radius, and
every label lies inside its circle; and, against Graphviz's own sizing, no label needs a
larger circle than the one it is given.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from rnnviz.diagrams import dot as dot_module
from rnnviz.diagrams import font_metrics, style, textsize
from rnnviz.diagrams.diagram import draw
from rnnviz.diagrams.graph import build
from rnnviz.diagrams.labels import dot_attrs, dot_html
from rnnviz.language import load_model
from tests import svg_geometry as geo
from tests.conftest import example_paths

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

#: How far, in points, two radii of one row may differ (Graphviz writes two decimals).
TOLERANCE = 0.5

_ELLIPSE = re.compile(r'<ellipse[^>]*cx="([-\d.]+)" cy="([-\d.]+)" rx="([-\d.]+)" ry="([-\d.]+)"')


def _model(stem: str):
    path = next(p for p in example_paths() if p.stem == stem)
    return load_model(path.read_text(encoding="utf-8"), path.name)


def circles(svg: str) -> dict[str, tuple[float, float, float, float, int, list[geo.Box]]]:
    """Node title -> centre, outer radii, number of rings and text boxes, of every circle
    (the junctions' dots are left out)."""
    out = {}
    for kind, title, body in geo._GROUP.findall(svg):
        rings = [tuple(map(float, m)) for m in _ELLIPSE.findall(body)]
        if kind != "node" or not rings or max(r[2] for r in rings) < 6:
            continue
        cx, cy, rx, ry = max(rings, key=lambda r: r[2])
        out[html.unescape(title)] = (cx, cy, rx, ry, len(rings), geo.text_boxes(body))
    return out


def check_rows(svg: str, vertical: bool = False) -> None:
    """One radius per row (per column when turned a quarter) and kind of ring; each label inside."""
    found = circles(svg)
    assert found
    rows: dict[tuple[int, int], list[str]] = {}
    for title, (cx, cy, rx, ry, rings, _) in found.items():
        rows.setdefault((round(cx if vertical else cy), rings), []).append(title)
    for members in rows.values():
        radii = [found[t][2] for t in members] + [found[t][3] for t in members]
        assert max(radii) - min(radii) <= TOLERANCE, {t: found[t][2:4] for t in members}
    for title, (cx, cy, rx, ry, _, boxes) in found.items():
        assert boxes, title
        for x0, y0, x1, y1 in boxes:
            for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
                assert ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0, f"{title}: label outside its circle"


@needs_dot
@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_circles_of_a_row_are_one_size(path):
    """In every example's unrolled view, one size per row, and each label inside its circle."""
    model = load_model(path.read_text(encoding="utf-8"), path.name)
    check_rows(draw(model, "unrolled").svg())


@needs_dot
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_one_size_past_nine_steps_and_turned(name):
    """h^(10) is as large as h^(9); turned a quarter, a column of the picture is a row."""
    check_rows(draw(_model(name), "unrolled", steps=11).svg())
    check_rows(draw(_model(name), "unrolled", orient="vertical").svg(), vertical=True)


def _circle_nodes(steps_list=(3, 12)):
    """(shape, penwidth, label, width given) of every circle of every example's unrolled view."""
    out = set()
    width = re.compile(r'shape="((?:double)?circle)".*?penwidth="([\d.]+)", label=(<.*?>), tooltip=.*?'
                       r'width="([\d.]+)"')
    for path in example_paths():
        model = load_model(path.read_text(encoding="utf-8"), path.name)
        for steps in steps_list:
            text = dot_module.to_dot(build(model, "unrolled", steps=steps),
                                     displays={n: s.display for n, s in model.symbols.items()})
            for line in text.splitlines():
                m = width.search(line)
                if m:
                    out.add(m.groups())
    return sorted(out)


@needs_dot
def test_no_circle_is_smaller_than_graphviz_makes_it():
    """Graphviz's own sizes of every circle of the examples (up to 12 steps, 200 labels): the
    width rnnviz gives each is at least as large, so Graphviz never grows one past its row's
    (and every label fits); the sizes computed from the table are Graphviz's to 0.1 point where
    fontconfig gives DejaVu Serif for Times-Roman (as on the machines the goldens are made on)."""
    nodes = _circle_nodes()
    assert len(nodes) > 150
    lines = ["digraph {", f"  node {dot_attrs({'fontname': style.FONT, 'fontsize': str(style.FONT_SIZE)})};"]
    for i, (shape, pen, label, _) in enumerate(nodes):
        lines.append(f"  n{i} {dot_attrs({'shape': shape, 'penwidth': pen, 'label': dot_html(label[1:-1])})};")
    lines.append("}")
    out = subprocess.run(["dot", "-Tjson"], input="\n".join(lines).encode("utf-8"), capture_output=True, check=True)
    natural = {o["name"]: float(o["width"]) for o in json.loads(out.stdout.decode("utf-8"))["objects"]}
    ring = dot_module.DOUBLE_RING / 72
    too_small = {label: (given, natural[f"n{i}"]) for i, (shape, _, label, given) in enumerate(nodes)
                 if float(given) + (ring if shape == "doublecircle" else 0.0) < natural[f"n{i}"] - 0.001}
    assert not too_small, too_small
    font = subprocess.run(["fc-match", style.FONT], capture_output=True, text=True).stdout if shutil.which("fc-match") else ""
    if "DejaVu Serif" in font:
        off = {label: (textsize.circle_diameter(label[1:-1]) / 72, natural[f"n{i}"] - (ring if shape == "doublecircle" else 0.0))
               for i, (shape, _, label, _) in enumerate(nodes)}
        off = {k: v for k, v in off.items() if abs(v[0] - v[1]) * 72 > 0.1}
        assert not off, off


def test_sizes_are_computed_without_graphviz(monkeypatch):
    """The DOT is computed from the table alone: no program is run, whatever fonts are installed,
    and every circle of a row carries the same width and height."""
    def no_run(*args, **kwargs):
        raise AssertionError("a program was run to write the DOT")

    monkeypatch.setattr(subprocess, "run", no_run)
    monkeypatch.setattr(subprocess, "Popen", no_run)
    model = _model("lstm")
    text = dot_module.to_dot(build(model, "unrolled", steps=11), displays={n: s.display for n, s in model.symbols.items()})
    sizes: dict[str, set[str]] = {}
    for line in text.splitlines():
        m = re.search(r'shape="(?:double)?circle".*tooltip="([^"]*) at t = \d+", width="([\d.]+)", height="([\d.]+)"', line)
        if m:
            assert m.group(2) == m.group(3)
            sizes.setdefault(m.group(1), set()).add(m.group(2))
    assert set(sizes) == {"f", "i", "o", "c̃", "c", "h"}
    assert all(len(v) == 1 for v in sizes.values()), sizes
    # The gates of one row share one size; h^(10) made every h as large as itself.
    assert len({next(iter(sizes[g])) for g in ("f", "i", "o", "c̃")}) == 1
    assert float(next(iter(sizes["h"]))) > float(dot_module.to_dot(
        build(model, "unrolled"), displays={n: s.display for n, s in model.symbols.items()}
    ).split('tooltip="h at t = 1", width="')[1][:5])


def test_table_is_for_the_sizes_the_diagrams_use():
    """The table was read at the sizes of style.py: run scripts/generate_font_metrics.py again
    when they change."""
    assert (font_metrics.TEXT_POINTS, font_metrics.SCRIPT_POINTS) == (style.FONT_SIZE, style.SCRIPT_SIZE)
    for size in ("text", "script"):
        assert set(font_metrics.ADVANCES[size]) == {"regular", "italic", "bold", "bolditalic"}
        for table in font_metrics.ADVANCES[size].values():
            assert all(c in table for c in "abcxyzABCWXYZ0123456789(),+−αβγθσ")


def test_label_width_as_graphviz_counts_it():
    """Spans each rounded up to a point, scripts in the smaller size, accents taking no room,
    entities read as their characters, a line break starting a new line."""
    h1 = '<I>h</I><FONT POINT-SIZE="11"><SUP>(1)</SUP></FONT>'
    assert textsize.label_width(h1) == 11 + 14  # as Graphviz 2.42 with DejaVu Serif sets it
    assert textsize.label_width('<I>h</I><FONT POINT-SIZE="11"><SUP>(10)</SUP></FONT>') == 11 + 20
    assert textsize.label_width("<I>c\u0303</I>") == textsize.label_width("<I>c</I>")
    assert textsize.label_width("<I>a&amp;b</I>") == textsize.label_width("<I>a&#38;b</I>")
    assert textsize.label_width("<I>ab</I><BR/><I>a</I>") == textsize.label_width("<I>ab</I>")
    assert textsize.label_height("<I>ab</I><BR/><I>a</I>") == 2 * textsize.label_height("<I>ab</I>")
    # A character the table lacks counts as its widest: never narrower than drawn.
    assert textsize.label_width("<I>\u4e00</I>") >= textsize.label_width("<I>W</I>")
