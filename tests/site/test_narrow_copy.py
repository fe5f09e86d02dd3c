"""A diagram too small to read on a phone comes with a copy for narrow columns (``narrow=``)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from rnnviz.diagrams.svginline import svg_ids, svg_text_px
from rnnviz.site import blocks, fence
from rnnviz.site.blocks import BlockOptionError, parse_header, parse_options
from tests.conftest import EXAMPLES, ROOT
from tests.site.test_mkdocs_fence import DATA, convert, needs_diagram, page
from tests.sitebuild import build_site

VANILLA = (EXAMPLES / "vanilla.rnn").read_text(encoding="utf-8")
PAIR = re.compile(r'<div class="rnnviz-pair rnnviz-below-(\d+)" style="contain-intrinsic-inline-size:(\d+)px">'
                  r'<div class="rnnviz-wide">(<svg.*?</svg>)</div><div class="rnnviz-tall">(<svg.*?</svg>)'
                  r'(?:<p class="rnnviz-narrow-note"[^>]*>[^<]*</p>)?</div></div>',
                  re.S)


def _block(header: str, text: str = VANILLA) -> str:
    return convert(f"```rnnviz {{{header}}}\n{text}\n```")


@pytest.mark.parametrize("header, expected", [
    ("narrow=auto", "auto"), ("narrow=off", "off"),
    ('narrow="unroll=2 values=false"', {"unroll": 2, "values": False}),
    ('narrow="orient=vertical precision=2"', {"orient": "vertical", "precision": 2}),
])
def test_narrow_option_values(header, expected):
    assert parse_options(parse_header(header))["narrow"] == expected


@pytest.mark.parametrize("header, message", [
    ("narrow", "narrow needs a value"),
    ('narrow="view=cell"', "not 'view'"),
    ('narrow="unroll=0"', "unroll='0' must be a whole number"),
    ("view=cell orient=vertical", "not view=cell"),
    ("view=cell-unrolled orient=vertical", "the cell views have no vertical layout"),
    ('view=cell narrow="orient=vertical"', "not view=cell"),
])
def test_bad_narrow_and_orient_options_are_refused(header, message):
    """A narrow copy changes layout and numbers, never the view; no cell view turns vertical."""
    with pytest.raises(BlockOptionError, match=re.escape(message)):
        parse_options(parse_header(header))


@needs_diagram
def test_a_wide_unrolled_view_ships_its_vertical_layout_for_phones():
    """The unrolled vanilla RNN with its numbers is 5.8 px on a phone; its vertical copy reads
    larger, has its own ids, steps and tooltips, and is left out of the search index."""
    html = _block("view=unrolled unroll=3 values=true")
    m = PAIR.search(html)
    assert m, html[:300]
    below, drawn_px, wide, tall = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    assert svg_text_px(wide, blocks.PHONE_COLUMN_PX) < blocks.READABLE_PX <= svg_text_px(tall, blocks.PHONE_COLUMN_PX)
    # The copy takes over where the wide drawing's text falls under 8 px, not before.
    assert svg_text_px(wide, below) >= blocks.READABLE_PX > svg_text_px(wide, below - blocks.NARROW_STEP_PX)
    assert abs(drawn_px - float(re.search(r"width:([\d.]+)pt", wide).group(1)) * 4 / 3) < 1
    ids = svg_ids(html)
    assert len(ids) == len(set(ids)) and set(svg_ids(wide)).isdisjoint(svg_ids(tall))
    assert "data-search-exclude" in tall.split(">", 1)[0] and "data-search-exclude" not in wide
    for svg in (wide, tall):
        assert 'data-step="3"' in svg and "xlink:title=" in svg and 'class="rnnviz-svg"' in svg
    # time runs down in the copy: taller than wide
    w, h = (float(v) for v in re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', tall).groups())
    assert h > w


@needs_diagram
@pytest.mark.parametrize("header", [
    "view=folded", "view=cell", "view=unrolled unroll=1", "view=unrolled unroll=3 values=true narrow=off",
    "view=unrolled unroll=3 values=true orient=vertical", "show=table"])
def test_no_copy_where_it_would_not_help(header):
    """A drawing that reads on a phone, is turned already, or was told not to, stays one."""
    html = _block(header)
    assert "rnnviz-pair" not in html and "rnnviz-narrow-note" not in html


@needs_diagram
def test_no_copy_when_the_vertical_layout_reads_no_better():
    """The stacked LSTM turned is wider than across (three layers' gates side by side): one drawing."""
    stack = (EXAMPLES / "lstm_stack.rnn").read_text(encoding="utf-8")
    assert "rnnviz-pair" not in _block("view=unrolled unroll=1", stack)


@needs_diagram
def test_the_gru_turned_is_the_narrower_copy():
    """Turned, the GRU's columns stand close: three steps with values read larger on a phone."""
    gru = (EXAMPLES / "gru.rnn").read_text(encoding="utf-8")
    assert "rnnviz-pair" in _block("view=unrolled unroll=3 values=true", gru)


@needs_diagram
def test_narrow_options_draw_the_copy():
    """narrow="unroll=2" draws the phone's copy over two steps (the wide one keeps three)."""
    gru = (EXAMPLES / "gru.rnn").read_text(encoding="utf-8")
    html = _block('view=unrolled unroll=3 values=true narrow="unroll=2"', gru)
    m = PAIR.search(html)
    assert m and 'data-step="3"' in m.group(3) and 'data-step="3"' not in m.group(4)
    assert re.search(r'<p class="rnnviz-narrow-note" data-search-exclude="">Steps 1 to 2 of 3 on a narrow screen;'
                     r'[^<]*</p></div></div>', html)
    assert 'data-step="2"' in m.group(4)
    assert svg_text_px(m.group(4), blocks.PHONE_COLUMN_PX) >= blocks.READABLE_PX


@needs_diagram
def test_two_same_blocks_on_a_page_share_no_id():
    """Two identical blocks with copies: four drawings, no id twice."""
    body = f"```rnnviz {{view=unrolled unroll=4}}\n{VANILLA}\n```\n\n" * 2
    html = convert(body)
    assert html.count("rnnviz-pair") == 2
    ids = svg_ids(html)
    assert len(ids) == len(set(ids))


def test_the_style_sheet_has_a_rule_for_every_breakpoint():
    css = (blocks.ASSETS / "rnnviz.css").read_text(encoding="utf-8")
    for px in range(blocks.NARROW_MIN_PX, blocks.NARROW_MAX_PX + 1, blocks.NARROW_STEP_PX):
        rule = re.search(rf"@container \(max-width: ([\d.]+)px\) \{{ \.rnnviz-below-{px} > \.rnnviz-wide \{{ "
                         rf"display: none; \}} \.rnnviz-below-{px} > \.rnnviz-tall \{{ display: block; \}} \}}", css)
        assert rule and px - 1 < float(rule.group(1)) < px, px
    assert ".rnnviz .rnnviz-tall { display: none; }" in css


def test_a_notebook_gets_one_drawing():
    """Jupyter ships no rnnviz.css: a cell shows the drawing across, never two."""
    pytest.importorskip("rnnviz.diagrams.diagram")
    from rnnviz.site.jupyter import cell_html

    assert "rnnviz-pair" not in cell_html("view=unrolled unroll=3 values=true", VANILLA)


@needs_diagram
def test_full_size_link_and_downloads_hold_the_wide_drawing(tmp_path, monkeypatch):
    """"Open full size" opens the wide drawing alone (one <svg>), and the narrow options do not
    make a second download of one picture."""
    monkeypatch.setattr(fence.CONTEXT, "page", "index.md")
    monkeypatch.setattr(fence.CONTEXT, "page_url", "")
    monkeypatch.setattr(fence.CONTEXT, "fullsize", {})
    monkeypatch.setattr(fence.CONTEXT, "downloads", {})
    monkeypatch.setattr(fence.CONTEXT, "memory", {})
    monkeypatch.setattr(fence.CONTEXT, "cache_dir", None)
    html = _block("view=unrolled unroll=3 values=true download=v") + _block(
        'view=unrolled unroll=3 values=true download=v narrow="unroll=2"')
    assert html.count("rnnviz-pair") == 2 and "Open full size" in html
    assert len(fence.CONTEXT.fullsize) == 2
    for full in fence.CONTEXT.fullsize.values():
        assert full.count("<svg") == 1 and "data-search-exclude" not in full and 'data-step="3"' in full
    assert list(fence.CONTEXT.downloads) == ["v"] and "narrow" not in fence.CONTEXT.downloads["v"][2]


@needs_diagram
def test_the_search_index_holds_each_diagram_once(tmp_path):
    """Material's search leaves out the narrow copy (data-search-exclude): its words are the wide one's."""
    pytest.importorskip("material")
    root = tmp_path / "two_diagrams"
    shutil.copytree(DATA / "two_diagrams", root)
    (root / "mkdocs.yml").write_text("site_name: search\ntheme:\n  name: material\n  font: false\n"
                                     "plugins:\n  - search\n  - rnnviz\n", encoding="utf-8")
    site = root / "site"
    proc = build_site(site, config=root / "mkdocs.yml")
    assert proc.returncode == 0, proc.stderr
    assert "rnnviz-pair" in (site / "index.html").read_text(encoding="utf-8")
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["text"] for doc in index["docs"])
    # The unrolled block's title is said once per drawing that is indexed.
    assert text.count("unrolled diagram of h, y") == 1, text[:500]
    drawn = [s for s in page(site).svgs if "rnnviz-svg" in s.get("class", "")]
    assert len(drawn) == 4  # two folded, the unrolled one and its copy


def test_docs_name_the_option():
    """docs/fence.md lists narrow= with its values."""
    doc = (ROOT / "docs" / "fence.md").read_text(encoding="utf-8")
    assert "| `narrow` |" in doc and "narrow=off" in doc


@needs_diagram
def test_a_narrow_copy_that_cannot_be_drawn_stops_the_build():
    """narrow="unroll=2" under grad=h[3]: the copy has no step 3; the message says which option."""
    with pytest.raises(fence.FenceOptionError, match=r'narrow="unroll=2": the copy for narrow screens cannot be '
                                                     r"drawn: .*h\[3\]"):
        _block('view=unrolled unroll=3 grad=h[3] narrow="unroll=2"')
