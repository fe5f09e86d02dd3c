"""The project's own site: builds with --strict, and every page is sound and offline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ROOT
from tests.sitebuild import html_pages, parse, real_site

_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def site():
    dest, proc = real_site()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


@pytest.fixture(scope="module")
def pages(site):
    return {str(p.relative_to(site)): parse(p) for p in html_pages(site)}


def test_site_builds_strict(site):
    """mkdocs build --strict of the project's site succeeds and makes every nav page."""
    for page in ("index.html", "getting-started/index.html", "language/index.html", "cli/index.html",
                 "python/index.html", "gallery/index.html", "gallery/lstm/index.html",
                 "vanishing/index.html", "teachers/index.html", "fence/index.html"):
        assert (site / page).is_file(), page


def test_every_page_names_the_version_that_built_it(site):
    """The footer of each page shows ``rnnviz X.Y.Z``, the version pyproject.toml gives."""
    from rnnviz.version import version_in_pyproject

    expected = version_in_pyproject((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for path in html_pages(site):
        assert f"Built with rnnviz {expected}" in path.read_text(encoding="utf-8"), path


def test_no_duplicate_ids(pages):
    """No page has two elements with the same id (several diagrams per page included)."""
    for name, page in pages.items():
        dupes = sorted({i for i in page.ids if page.ids.count(i) > 1})
        assert not dupes, f"{name}: {dupes[:5]}"


def test_every_svg_has_a_viewbox(pages):
    """Every diagram and plot SVG on every page scales by its viewBox."""
    count = 0
    for name, page in pages.items():
        for svg in page.svgs:
            if "rnnviz-svg" in svg.get("class", "") or "rnnviz-plot" in svg.get("class", ""):
                count += 1
                assert "viewbox" in svg, f"{name}: {svg}"
                assert "width" not in svg and "height" not in svg, f"{name}: fixed size {svg}"
    assert count > 0 or not _diagram_available()


def test_no_external_assets(pages, site):
    """No page loads a script, style, image or font from another host."""
    for name, page in pages.items():
        ext = [url for _, url in page.assets if _EXTERNAL.match(url)]
        assert not ext, f"{name}: {ext}"
        for css in page.inline_styles:
            assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css), name
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"@import\s+url\(\s*['\"]?(?:https?:)?//|url\(\s*['\"]?https?://", text), css


def test_math_is_shipped_and_marked(site, pages):
    """KaTeX comes with the site, and gallery pages hold math for it to typeset."""
    assert (site / "assets/rnnviz/katex.min.js").is_file()
    html = (site / "gallery/lstm/index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex' in html and "assets/rnnviz/katex.min.js" in html


def test_katex_only_on_pages_with_math(site):
    """A page without math loads neither KaTeX's script nor its style sheet; a page with math loads both."""
    with_math = without = 0
    for path in html_pages(site):
        html = path.read_text(encoding="utf-8")
        has_math = 'class="arithmatex' in html
        loads = "katex.min.js" in html or "katex.min.css" in html or "rnnviz-math.js" in html
        assert loads == has_math, path
        with_math += has_math
        without += not has_math
    assert with_math and without


def _diagram_available() -> bool:
    try:
        import rnnviz.diagrams.diagram  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _diagram_available(), reason="rnnviz.diagrams.diagram not available")
def test_gallery_has_every_cell_with_its_numbers(site):
    """Every gallery page shows diagrams, a forward-pass table, parameters and a gradient view;
    every download exists as SVG, PNG and PDF that are what they say."""
    for cell in ("vanilla", "two-layer", "lstm", "lstm-goodfellow", "gru", "relu-1d", "encoder-decoder", "char-rnn"):
        page = parse(site / "gallery" / cell / "index.html")
        html = (site / "gallery" / cell / "index.html").read_text(encoding="utf-8")
        assert len(page.svgs) >= 3, cell
        assert "rnnviz-table" in html and "rnnviz-params" in html, cell
        assert "rnnviz-missing" not in html and "rnnviz-error" not in html, cell
    from PIL import Image  # comes with matplotlib

    heads = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF"}
    stems = {p.stem for p in (site / "downloads").iterdir()}
    assert {"lstm-cell", "relu-1d-folded"} <= stems
    for name in sorted(stems):
        for ext, head in heads.items():
            data = (site / "downloads" / f"{name}.{ext}").read_bytes()
            assert head in data[:400], f"{name}.{ext}"
        # ... and open: the SVG parses as XML, the PNG decodes, the PDF is complete.
        assert ET.parse(site / "downloads" / f"{name}.svg").getroot().tag.endswith("svg")
        with Image.open(site / "downloads" / f"{name}.png") as png:
            png.verify()
        assert (site / "downloads" / f"{name}.pdf").read_bytes().rstrip().endswith(b"%%EOF")
    for full in (site / "assets" / "rnnviz" / "full").glob("*.svg"):
        assert full.read_text(encoding="utf-8").startswith("<?xml"), full.name


def test_every_local_link_resolves(site, pages):
    """Download links, full-size diagrams, thumbnails and every other link or image inside the site
    point at a file."""
    from html.parser import HTMLParser
    from urllib.parse import urldefrag, urlparse

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href")
            if tag == "a" and href:
                self.hrefs.append(href)
            src = dict(attrs).get("src")
            if tag == "img" and src:
                self.hrefs.append(src)

    broken, checked = [], 0
    for name in pages:
        parser = Links()
        parser.feed((site / name).read_text(encoding="utf-8"))
        for href in parser.hrefs:
            url = urldefrag(href)[0]
            if not url or urlparse(url).scheme or url.startswith("//"):
                continue
            # 404.html links from the site root, since it is served for any folder.
            target = site / url.lstrip("/") if url.startswith("/") else (site / name).parent / url
            target = target / "index.html" if url.endswith("/") or target.is_dir() else target
            checked += 1
            if not target.resolve().is_file():
                broken.append(f"{name}: {href}")
    assert checked > 0 and not broken, broken[:10]


def test_search_index_and_tooltips_speak_the_readers_language(site, pages):
    """Neither the search index nor a diagram's hover text holds internal ids such as x@1->h@1
    or f.2@1: what a reader finds and sees names variables as they do ("x at t = 1")."""
    import json

    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    # An edge's id (x@1->h_1@1) or an operation's (f.2@1); the JSON page's examples of ids are
    # documentation, written in code blocks, not a diagram's text.
    internal = re.compile(r"\w@\d+(?:-&gt;|->)\w|\w\.\d+@\d|relay\.")
    found = [(doc["location"], m.group(0)) for doc in index["docs"] for m in internal.finditer(doc["text"])]
    assert not found, found[:5]
    tips = [t for name in pages for t in re.findall(r'xlink:title="([^"]*)"', (site / name).read_text(encoding="utf-8"))]
    assert tips and not [t for t in tips if re.search(r"\w@\d|relay\.|\w\.\d@", t)], \
        [t for t in tips if re.search(r"\w@\d|relay\.|\w\.\d@", t)][:5]
