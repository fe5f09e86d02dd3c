"""The rnnviz Markdown fence and the MkDocs plugin, on fixture sites in tests/site/data/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

from rnnviz.diagrams.svginline import inline_svg, svg_ids
from rnnviz.site import fence
from tests.conftest import ROOT

DATA = Path(__file__).parent / "data"


def _has_diagram() -> bool:
    try:
        import rnnviz.diagrams.diagram  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


needs_diagram = pytest.mark.skipif(not _has_diagram(), reason="rnnviz.diagrams.diagram or Graphviz not available")


class _Ids(HTMLParser):
    """Collects ids and the attributes of every <svg> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.svgs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "svg":
            self.svgs.append(attrs)


def build(case: str, tmp_path: Path, *, strict: bool = True) -> tuple[subprocess.CompletedProcess, Path]:
    """Copy tests/site/data/<case> to a temporary folder and run ``mkdocs build`` there."""
    root = tmp_path / case
    shutil.copytree(DATA / case, root)
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(root / "mkdocs.yml"), "-d", str(root / "site")]
    if strict:
        cmd.append("--strict")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return proc, root / "site"


def page(site: Path, name: str = "index.html") -> _Ids:
    parser = _Ids()
    parser.feed((site / name).read_text(encoding="utf-8"))
    return parser


def convert(text: str) -> str:
    md = markdown.Markdown(extensions=["pymdownx.superfences"],
                           extension_configs={"pymdownx.superfences": {"custom_fences": [fence.FENCE]}})
    return md.convert(text)


@pytest.mark.parametrize("inputs, expected", [
    ({"view": "unrolled", "unroll": "4", "values": "true"}, {"view": "unrolled", "unroll": 4, "values": True}),
    ({"values": None}, {"values": True}),
    ({"values": "false", "precision": "2"}, {"values": False, "precision": 2}),
    ({"show": "math", "file": "examples/gru.rnn"}, {"show": "math", "file": "examples/gru.rnn"}),
    ({"download": "lstm-cell"}, {"download": "lstm-cell"}),
])
def test_options_are_parsed(inputs, expected):
    """Fence options are checked and converted to Python values."""
    assert fence.parse_options(inputs) == expected


@pytest.mark.parametrize("inputs, words", [
    ({"colour": "red"}, "unknown option 'colour'"),
    ({"view": "sideways"}, "not one of folded"),
    ({"unroll": "0"}, "whole number from 1"),
    ({"unroll": "four"}, "whole number"),
    ({"values": "maybe"}, "true or false"),
    ({"download": "../x"}, "file stem"),
])
def test_bad_options_raise(inputs, words):
    """An unknown option or a bad value raises an error that names it."""
    with pytest.raises(fence.FenceOptionError, match=re.escape(words)):
        fence.parse_options(inputs)


def test_math_block_without_mkdocs():
    """The fence works in plain Python-Markdown with only superfences configured."""
    out = convert("```rnnviz {show=math}\nh_t = \\tanh(W h_{t-1} + U x_t)\n```")
    assert '<div class="rnnviz rnnviz-math">' in out
    assert r"h^{(t)} &amp;= \tanh" in out


def test_inline_svg_prefixes_every_id_and_reference():
    """inline_svg renames ids and the references to them, and drops the prolog and fixed size."""
    doc = ('<?xml version="1.0"?><!DOCTYPE svg><svg width="10pt" height="5pt" viewBox="0 0 10 5">'
           '<defs><clipPath id="c"/></defs><g id="g" clip-path="url(#c)"><use xlink:href="#g"/></g></svg>')
    out = inline_svg(doc, "p")
    assert out.startswith("<svg") and "<?xml" not in out and "DOCTYPE" not in out
    assert svg_ids(out) == ["p-c", "p-g"]
    assert 'url(#p-c)' in out and 'href="#p-g"' in out
    assert 'width=' not in out and 'viewBox="0 0 10 5"' in out


def test_basic_site_builds(tmp_path):
    """A site with two plugin lines renders math and gate blocks and ships KaTeX offline."""
    proc, site = build("basic", tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (site / "index.html").read_text(encoding="utf-8")
    assert 'class="rnnviz rnnviz-math"' in html and "forget gate" in html
    for asset in ("rnnviz.css", "katex.min.js", "katex.min.css", "rnnviz-math.js", "KaTeX_Main-Regular.woff2"):
        assert (site / "assets" / "rnnviz" / asset).is_file(), asset
    assert "assets/rnnviz/katex.min.js" in html


@needs_diagram
def test_fence_renders_inline_svg(tmp_path):
    """A diagram block becomes an inline <svg> with a viewBox and no fixed size."""
    proc, site = build("two_diagrams", tmp_path)
    assert proc.returncode == 0, proc.stderr
    p = page(site)
    # Three blocks; an unrolled one too small for a phone also holds its copy for narrow screens.
    assert len([s for s in p.svgs if "data-search-exclude" not in s]) == 3
    for svg in p.svgs:
        assert "viewbox" in svg and "width" not in svg and "rnnviz-svg" in svg.get("class", "")
    assert "<?xml" not in (site / "index.html").read_text(encoding="utf-8")


@needs_diagram
def test_two_diagrams_have_no_duplicate_ids(tmp_path):
    """Several diagrams on one page, even identical ones, never share an id."""
    proc, site = build("two_diagrams", tmp_path)
    assert proc.returncode == 0, proc.stderr
    ids = page(site).ids
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert ids and not dupes


def test_bad_block_fails_strict_with_page_and_line(tmp_path):
    """A block with bad equations fails --strict with page:line:col and shows an error box."""
    proc, site = build("bad_block", tmp_path)
    assert proc.returncode != 0
    assert "index.md:7:8: unknown function 'tahn'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc, site = build("bad_block", tmp_path / "lax", strict=False)
    assert proc.returncode == 0
    assert "rnnviz-error" in (site / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("case, words", [
    ("unknown_option", "unknown option 'colour'"),
    ("bad_value", "view='sideways' is not one of"),
])
def test_bad_option_stops_the_build(tmp_path, case, words):
    """An unknown option or a bad option value stops even a non-strict build, without a traceback."""
    proc, site = build(case, tmp_path, strict=False)
    assert proc.returncode != 0
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert not (site / "index.html").exists()


def test_unchanged_blocks_come_from_the_cache(tmp_path, monkeypatch):
    """A second conversion of an unchanged block does not render again (memory and disk cache)."""
    monkeypatch.setattr(fence.CONTEXT, "memory", {})
    monkeypatch.setattr(fence.CONTEXT, "cache_dir", tmp_path / "cache")
    calls = []
    real = fence._render
    monkeypatch.setattr(fence, "_render", lambda m, o, **kw: calls.append(1) or real(m, o, **kw))
    text = "```rnnviz {show=math}\nh[t] = tanh(W h[t-1] + U x[t])\n```"
    first = convert(text)
    assert convert(text) == first and len(calls) == 1
    monkeypatch.setattr(fence.CONTEXT, "memory", {})  # a new process: only the disk cache is left
    assert convert(text) == first and len(calls) == 1
    assert convert(text.replace("U x", "V x")) != first and len(calls) == 2


@needs_diagram
def test_download_files_are_written_and_linked(tmp_path):
    """download=NAME writes SVG, PNG and PDF under downloads/ and links them from every page."""
    proc, site = build("downloads", tmp_path)
    assert proc.returncode == 0, proc.stderr
    heads = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF"}
    for ext, head in heads.items():
        data = (site / "downloads" / f"elman-folded.{ext}").read_bytes()
        assert head in data[:200], ext
    assert 'href="downloads/elman-folded.svg"' in (site / "index.html").read_text(encoding="utf-8")
    sub = (site / "sub" / "page" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../downloads/elman-folded.pdf"' in sub and "<svg" not in sub.split("rnnviz-downloads")[1]
    # The list of downloads shows what they hold: a thumbnail of the SVG, linking to it.
    assert '<img src="../../downloads/elman-folded.svg"' in sub.split("rnnviz-downloads")[1]
    # The downloads start drawing before the pages are built, from the fences of their
    # sources; a fence quoted in a code block may be drawn then, but is never written.
    assert sorted(p.name for p in (site / "downloads").iterdir()) == [
        "elman-folded.pdf", "elman-folded.png", "elman-folded.svg"]


NUMBERS = "h_t = \\text{ReLU}(V \\cdot h_{t-1} + W \\cdot x_t)\nV = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1"


@pytest.mark.parametrize("options, expected", [
    ("show=table", ["rnnviz-forward", "<td>6</td>", "<td>0</td>", "<td>3</td>"]),
    ("show=params", ["rnnviz-params", "<th>total</th><td></td><th>2</th>"]),
    ("show=gates", ["no gates"]),
    ("show=gradnorms grad=h[3]", ["rnnviz-gradnorms", "<svg", "spectral radius 3"]),
    ("show=plot", ["rnnviz-plot", "viewBox"]),
    ("show=legend", ["rnnviz-legend", "a state that is also the output", r"\(h\)", "one-step delay"]),
])
def test_numbers_blocks(options, expected):
    """show=table/params/gates/gradnorms/plot compute from the block's equations and values."""
    out = convert(f"```rnnviz {{{options}}}\n{NUMBERS}\n```")
    for piece in expected:
        assert piece in out, piece
    assert "rnnviz-error" not in out and "rnnviz-missing" not in out


def test_file_option_reads_relative_to_the_site(monkeypatch):
    """file= reads equations relative to the site's folder; values in the block come after it."""
    from rnnviz import load_model
    from rnnviz.numeric.shapes import parameter_count

    root = ROOT
    monkeypatch.setattr(fence.CONTEXT, "base_dir", root)
    text = (root / "examples" / "vanilla.rnn").read_text(encoding="utf-8")
    alone = parameter_count(load_model(text))
    smaller = parameter_count(load_model(text + "\ndim h = 2"))
    assert smaller != alone
    out = convert("```rnnviz {show=params file=examples/vanilla.rnn}\ndim h = 2\n```")
    assert f"<th>total</th><td></td><th>{smaller}</th>" in out


@needs_diagram
def test_wide_diagrams_fit_the_column_and_link_their_full_size(tmp_path):
    """A wide diagram scales down to the column and links a stand-alone SVG at full size; a small one does not."""
    from rnnviz.diagrams.svginline import svg_width_pt

    proc, site = build("wide", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name, up in (("index.html", ""), ("sub/page.html", "../")):
        html = (site / name).read_text(encoding="utf-8")
        svgs = re.findall(r"<svg\b[^>]*rnnviz-svg[^>]*>", html)
        assert svgs and all("max-width:100%" in s for s in svgs), name
        widths = [svg_width_pt(s) for s in svgs]
        links = re.findall(r'class="rnnviz-fullsize" href="([^"]+)"', html)
        assert len(links) == sum(w > fence.FULL_SIZE_PT for w in widths) >= 1, (name, widths)
        for link in links:
            assert link.startswith(f"{up}assets/rnnviz/full/"), link
            doc = (site / Path(name).parent / link).resolve().read_text(encoding="utf-8")
            assert doc.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in doc
            head = re.search(r"<svg\b[^>]*>", doc).group(0)
            assert re.search(r'\swidth="[\d.]+pt"', head) and "max-width" not in head
    # Links from a page of a site without directory URLs (sub/page.html) climb one folder.
    sub = (site / "sub" / "page.html").read_text(encoding="utf-8")
    assert 'href="../downloads/wide-sub.svg"' in sub and (site / "downloads" / "wide-sub.svg").is_file()


def test_gradnorms_table_is_one_row_per_step_with_typeset_headers():
    """show=gradnorms: one row per step, headers are KaTeX math of the norm (no raw glyphs)."""
    from rnnviz import load_model
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import state_grad_norms

    out = convert(f"```rnnviz {{show=gradnorms grad=h[3]}}\n{NUMBERS}\n```")
    table = out.split('rnnviz-table rnnviz-gradnorms">')[1].split("</table>")[0]
    model = load_model(NUMBERS)
    norms = state_grad_norms(model, forward(model), "h[3]")
    assert table.count("<tr>") == 1 + max(len(v) for v in norms.values())
    head = table.split("</thead>")[0]
    assert "\u2016" not in head and "&#8214;" not in head and "\\lVert" in head
    assert "\\partial h^{(3)} / \\partial h^{(t)}" in head


@pytest.mark.parametrize("theme", ["material", None])
def test_minimal_site_needs_only_the_two_plugin_lines(tmp_path, theme):
    """A site whose mkdocs.yml is site_name, a theme and `plugins: [rnnviz]` gets diagrams, tables and math."""
    root = tmp_path / "minimal"
    shutil.copytree(DATA / "minimal", root)
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert [ln for ln in text.splitlines() if "rnnviz" in ln or ln.startswith("plugins")] == \
        ["plugins:", "  - rnnviz"]
    if theme is None:
        config.write_text(text.replace("theme: material\n", ""), encoding="utf-8")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(root / "site")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="arithmatex"') >= 2, "inline and display math left for KaTeX"
    assert "assets/rnnviz/katex.min.js" in html and "assets/rnnviz/rnnviz.css" in html
    assert 'class="rnnviz-table rnnviz-forward"' in html and "<td>6</td>" in html
    assert "rnnviz-error" not in html and "rnnviz-missing" not in html
    if _has_diagram():
        assert 'class="rnnviz-svg"' in html
    for asset in ("rnnviz.css", "rnnviz.js", "katex.min.js", "katex.min.css", "rnnviz-math.js"):
        assert (root / "site" / "assets" / "rnnviz" / asset).is_file(), asset
    assert "assets/rnnviz/rnnviz.js" in html
    assert (root / ".cache" / "rnnviz").is_dir(), "the cache sits beside mkdocs.yml, not in the cwd"


def test_one_download_name_for_two_pictures_fails_strict(tmp_path):
    """download=NAME repeated for the same picture is fine; for a different one it fails --strict, naming both pages."""
    proc, site = build("download_clash", tmp_path)
    assert proc.returncode != 0
    warnings = [ln for ln in proc.stderr.splitlines() if "download=net-grad" in ln]
    assert len(warnings) == 1 and "other.md" in warnings[0] and "index.md" in warnings[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_dark_scheme_css_follows_the_diagram_colours():
    """The stylesheet retargets exactly the edge, label-halo and delay colours the diagrams use."""
    from rnnviz.diagrams import style
    css = (fence.ASSETS / "rnnviz.css").read_text(encoding="utf-8").lower()
    slate = [rule for rule in css.split("}") if 'data-md-color-scheme="slate"' in rule]
    for colour, what in ((style.EDGE_COLOR, "edges"), (style.LABEL_BG, "edge-label halo"),
                         (style.DELAY_COLOR, "delay square")):
        assert any(colour.lower() in rule for rule in slate), f"{what} {colour} not restyled for the dark scheme"


def test_legend_lists_the_roles_of_the_model_in_the_diagrams_colours(monkeypatch):
    """show=legend has a row per role the model has, its glyph in the colours the diagrams use,
    and only those rows: a plain RNN gets no gate row, an LSTM names its gates and cell state."""
    from rnnviz.diagrams import style

    plain = convert("```rnnviz {show=legend}\nh[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]\n```")
    assert "gate" not in plain and "<td>output (the double ring)" in plain
    assert "wires joining" not in plain  # one sum reads x and h: nothing joins
    assert f'fill="{style.PALETTE["input"].fill}"' in plain and f'fill="{style.PALETTE["state"].fill}"' in plain
    monkeypatch.setattr(fence.CONTEXT, "base_dir", ROOT)
    lstm = convert("```rnnviz {show=legend file=examples/lstm.rnn}\n```")
    for piece in ("gate: a value between 0 and 1", "a state that is also the output", "additive path",
                  "wires joining"):
        assert piece in lstm, piece
    assert "<td>output (the double ring)" not in lstm  # its only output is the state h
    gru = convert("```rnnviz {show=legend file=examples/gru.rnn}\n```")
    assert "wires joining" in gru  # h[t-1] and x[t] join on their way into W_r · [ , ] and W_z · [ , ]
    for example in ("encoder_decoder", "seq2seq_gru"):  # both cells' rows, and where the context enters
        seq2seq = convert(f"```rnnviz {{show=legend file=examples/{example}.rnn}}\n```")
        assert "rnnviz-legend" in seq2seq and "one-step delay" in seq2seq and "rnnviz-error" not in seq2seq
        assert "where the context enters a decoder cell (cell views)" in seq2seq
        assert ("wires joining" in seq2seq) == (example == "seq2seq_gru")  # [y_{t-1}; c] into the GRU's gates
