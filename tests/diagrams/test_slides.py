"""Tests of the files a teacher takes to slides and print: PDF, PNG, stand-alone SVG, captions."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from rnnviz.cli import main
from rnnviz.diagrams.diagram import draw
from rnnviz.diagrams.labels import CAPTION_WIDTH, caption_lines
from rnnviz.language import load_model
from tests.conftest import example_paths, one_phase_example_paths

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
SVG_NS = "{http://www.w3.org/2000/svg}"
VIEWS = ["folded", "unrolled", "cell", "cell-unrolled"]
LONG_TITLE = ("Elman network: the hidden state carries information from one time step to the next "
              "through the recurrent weights, and the output reads the hidden state at every step")


def _model(path):
    return load_model(path.read_text(encoding="utf-8"), path.name)


def _needs(program: str):
    return pytest.mark.skipif(shutil.which(program) is None, reason=f"{program} (poppler-utils) not installed")


def _svg_size_pt(svg: str) -> tuple[float, float]:
    head = re.search(r"<svg\b[^>]*>", svg).group(0)
    w, h = (float(re.search(rf'{k}="([\d.]+)pt"', head).group(1)) for k in ("width", "height"))
    return w, h


def _pdf_page_size(path) -> tuple[float, float]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", out).groups()
    return float(w), float(h)


def _png(data: bytes):
    from PIL import Image  # comes with matplotlib

    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
@_needs("pdfinfo")
def test_pdf_page_fits_the_drawing(path, view, tmp_path):
    """The PDF page is the drawing plus its small pad (no 36 pt Graphviz margin), so \\includegraphics fits it."""
    d = draw(_model(path), view, 3)
    w, h = _svg_size_pt(d.svg())
    out = d.save(tmp_path / "x.pdf")
    pw, ph = _pdf_page_size(out)
    # The SVG size already holds the 0.15 in pad; the PDF adds at most a few points of rounding.
    assert w - 2 <= pw <= w + 4 and h - 2 <= ph <= h + 4, (pw, ph, w, h)


@pytest.mark.parametrize("path", one_phase_example_paths()[:3], ids=lambda p: p.stem)
@_needs("pdffonts")
def test_pdf_fonts_are_embedded_and_text_selectable(path, tmp_path):
    """Every font of the PDF is embedded, and the caption and labels are text (selectable), not outlines."""
    out = draw(_model(path), "unrolled", 3, title="Forward pass, three steps").save(tmp_path / "x.pdf")
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows, fonts
    for row in rows:
        emb = row[-5]  # columns: name type [type] encoding emb sub uni object ID
        assert emb == "yes", row
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "Forward pass, three steps" in text


@_needs("pdfimages")
def test_pdf_is_vector(tmp_path):
    """The PDF draws with vector paths and text: it holds no raster image."""
    out = draw(_model(example_paths()[0]), "cell-unrolled", 3).save(tmp_path / "x.pdf")
    listing = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    assert len(listing.strip().splitlines()) == 2, listing  # the two header lines, no image row


@pytest.mark.parametrize("view", ["folded", "cell"])
def test_pdf_and_png_are_byte_identical_twice(view):
    """Rendering twice gives the same bytes (the PDF's creation date is left out)."""
    d = draw(_model(example_paths()[0]), view, 3)
    e = draw(_model(example_paths()[0]), view, 3)
    for fmt in ("pdf", "png", "svg"):
        assert d.render(fmt) == e.render(fmt), fmt
    assert b"/CreationDate" not in d.render("pdf")


@pytest.mark.parametrize("view", ["folded", "cell-unrolled"])
def test_png_pixel_size_follows_dpi(view):
    """Doubling --dpi doubles the pixel size (within rounding): 300 dpi is crisp, not upscaled; the dpi is in the file."""
    d = draw(_model(example_paths()[0]), view, 3)
    small = _png(d.render("png", dpi=150)).size
    big = _png(d.render("png", dpi=300)).size
    w, h = _svg_size_pt(d.svg())
    assert abs(small[0] - w * 150 / 72) <= 3 and abs(small[1] - h * 150 / 72) <= 3, (small, w, h)
    assert abs(big[0] - 2 * small[0]) <= 3 and abs(big[1] - 2 * small[1]) <= 3, (small, big)
    # The resolution is recorded, so a slide tool places the image at its drawn size.
    assert round(_png(d.render("png", dpi=300)).info["dpi"][0]) == 300


@pytest.mark.parametrize("view", VIEWS)
def test_png_background_is_opaque_white(view):
    """PNG pages are opaque white, so a viewer or dark slide never shows dark text on black."""
    im = _png(draw(_model(example_paths()[0]), view, 3, title="caption").render("png", dpi=72)).convert("RGBA")
    w, h = im.size
    for corner in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]:
        assert im.getpixel(corner) == (255, 255, 255, 255), corner
    alphas = im.getchannel("A").getextrema()
    assert alphas == (255, 255)


@pytest.mark.parametrize("view", VIEWS)
def test_svg_file_stands_alone_and_inline_svg_has_no_prolog(view, tmp_path):
    """A written .svg has the XML declaration and the SVG namespace; Diagram.svg() (inline) has no prolog."""
    d = draw(_model(example_paths()[0]), view, 3, title="a < b & c")
    inline = d.svg()
    assert inline.startswith("<svg") and "<?xml" not in inline
    text = d.save(tmp_path / "x.svg").read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == SVG_NS + "svg" and root.get("viewBox")
    assert 'xmlns="http://www.w3.org/2000/svg"' in text and text.endswith("\n")


def test_cli_svg_file_equals_api_file(tmp_path):
    """``rnnviz draw -o x.svg`` writes the same stand-alone file as Diagram.save."""
    path = example_paths()[0]
    assert main(["draw", str(path), "--view", "folded", "-o", str(tmp_path / "cli.svg")]) == 0
    api = draw(_model(path), "folded", 3).save(tmp_path / "api.svg")
    assert (tmp_path / "cli.svg").read_bytes() == api.read_bytes()


@pytest.mark.parametrize("view", VIEWS)
def test_svg_file_fonts_have_fallbacks(view, tmp_path):
    """Every font list of a stand-alone SVG ends in a generic family: serif for symbols, sans-serif for text."""
    text = draw(_model(example_paths()[0]), view, 3, title="t").save(tmp_path / "x.svg").read_text(encoding="utf-8")
    families = set(re.findall(r'font-family="([^"]+)"', text))
    assert families
    generic = {f.split(",")[-1].strip().lower() for f in families}
    assert generic <= {"serif", "sans-serif"} and "serif" in generic, families
    assert any("Times New Roman" in f for f in families) and any("Arial" in f for f in families), families


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_svg_file_opens_in_a_browser(tmp_path):
    """Headless chromium renders the stand-alone SVG file: the screenshot is not blank."""
    out = draw(_model(example_paths()[0]), "cell", 3, title="cell").save(tmp_path / "x.svg")
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=800,800",
                    f"--screenshot={shot}", out.as_uri()], capture_output=True, timeout=60, check=False)
    if not shot.exists():
        pytest.skip("chromium could not take a screenshot here")
    im = _png(shot.read_bytes()).convert("L")
    dark = sum(im.histogram()[:128])
    assert dark > 500, dark  # drawn strokes and text, not an error page or a blank one


@pytest.mark.parametrize("view", VIEWS)
def test_title_shows_in_every_view(view):
    """--title is drawn as a caption in every view, the cell views included."""
    svg = draw(_model(example_paths()[0]), view, 3, title="Caption 42").svg()
    texts = [t.text for t in ET.fromstring(svg).iter(SVG_NS + "text")]
    assert "Caption 42" in texts


@pytest.mark.parametrize("view", VIEWS)
def test_long_title_wraps_and_is_not_cut(view):
    """A long caption wraps into lines no wider than the caption width; every word is drawn; the figure stays narrow."""
    model = _model(example_paths()[0])
    svg = draw(model, view, 3, title=LONG_TITLE).svg()
    texts = [t.text or "" for t in ET.fromstring(svg).iter(SVG_NS + "text")]
    lines = caption_lines(LONG_TITLE)
    assert len(lines) >= 2 and all(line in texts for line in lines)
    assert " ".join(lines).split() == LONG_TITLE.split()
    width = _svg_size_pt(svg)[0]
    short = _svg_size_pt(draw(model, view, 3, title="x" * CAPTION_WIDTH).svg())[0]
    plain = _svg_size_pt(draw(model, view, 3).svg())[0]
    assert width <= max(short, plain) * 1.15, (width, short, plain)


@pytest.mark.parametrize("title, width, expected", [
    ("short", 60, ["short"]),
    ("a b c d", 3, ["a b", "c d"]),
    ("first line\nsecond", 60, ["first line", "second"]),
    ("averyveryverylongword x", 5, ["averyveryverylongword", "x"]),
    ("", 60, [""]),
    ("GRU: forward pass over six steps, with the values under each node", 60,
     ["GRU: forward pass over six steps,", "with the values under each node"]),
])
def test_caption_lines(title, width, expected):
    """Captions keep the title's own line breaks, wrap at the width into even lines and never split a word."""
    assert caption_lines(title, width) == expected


@_needs("pdffonts")
def test_plot_pdf_fonts_are_truetype_not_type3(tmp_path, capfd):
    """``rnnviz plot -o x.pdf`` embeds TrueType fonts (selectable, accepted by print), never Type 3, and says nothing on stderr."""
    out = tmp_path / "steps.pdf"
    assert main(["plot", str(example_paths()[0]), "-o", str(out)]) == 0
    assert capfd.readouterr().err == ""
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("Type 3" not in row and " yes " in row for row in rows), fonts


def _curve(points: list[tuple[float, float]], samples: int = 20) -> list[tuple[float, float]]:
    """Points along a Graphviz edge path (cubic Bézier segments)."""
    out = []
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i:i + 4]
        for k in range(samples + 1):
            t = k / samples
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
            out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


@pytest.mark.parametrize("steps", [3, 6])
@pytest.mark.parametrize("path", one_phase_example_paths(), ids=lambda p: p.stem)
def test_cell_unrolled_reads_cleanly(path, steps):
    """In the cell-unrolled view no node sits on another and no wire runs through a node it does not join."""
    from tests import svg_geometry as geo

    d = draw(_model(path), "cell-unrolled", steps, title="Unrolled cell")
    svg = geo.render_svg(d.dot())
    pic = geo.parse(svg)
    assert geo.node_clashes(pic) == []
    through = set()
    for title, paths in pic.edge_paths.items():
        ends = set(title.split("->"))
        for points in paths:
            for x, y in _curve(points):
                for nid, (x0, y0, x1, y1) in pic.nodes.items():
                    if nid not in ends and x1 - x0 > 3 and x0 + 2 < x < x1 - 2 and y0 + 2 < y < y1 - 2:
                        through.add((title, nid))
    assert through == set()
    # The caption sits above every node (SVG y grows downwards).
    caption_y = max(float(y) for y in re.findall(r'<text[^>]*y="([-\d.]+)"[^>]*>Unrolled cell<', svg))
    assert caption_y < min(box[1] for box in pic.nodes.values())


@pytest.mark.parametrize("max_columns, cells", [(None, 4), (3, 3), (8, 8)])
def test_max_columns_reaches_the_cell_unrolled_view(max_columns, cells):
    """--max-columns also sets how many cells (ellipsis included) the cell-unrolled view draws; by default 4."""
    kwargs = {} if max_columns is None else {"max_columns": max_columns}
    graph = draw(_model(example_paths()[0]), "cell-unrolled", 10, **kwargs).graph
    drawn = {n["time"] for n in graph["nodes"] if n["time"] and n["time"] <= 10}  # steps 1..10 with a cell
    first, last = graph["collapsed"]
    assert len(drawn) + 1 == cells and drawn.isdisjoint(range(first, last + 1)) and 10 in drawn
