"""The Sphinx extension, on the fixture projects in tests/site/data/sphinx_*: reST and MyST Markdown."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.sitebuild import PageParser

pytest.importorskip("sphinx")
DATA = Path(__file__).parent / "data"


def build(case: str, tmp_path: Path, *, replace: tuple[str, str] | None = None,
          warnings_are_errors: bool = True) -> tuple[subprocess.CompletedProcess, Path]:
    """Copy tests/site/data/<case> to a temporary folder and run ``sphinx-build -W`` there."""
    src = tmp_path / case
    shutil.copytree(DATA / case, src)
    if replace:
        page = next(src.glob("index.*"))
        text = page.read_text(encoding="utf-8")
        assert replace[0] in text
        page.write_text(text.replace(*replace), encoding="utf-8")
    out = tmp_path / f"{case}-html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "--keep-going", str(src), str(out)]
    if warnings_are_errors:
        cmd.insert(-2, "-W")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env), out


def _parse(path: Path) -> tuple[str, PageParser]:
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    return text, parser


@pytest.fixture(scope="module")
def rst(tmp_path_factory):
    proc, out = build("sphinx_rst", tmp_path_factory.mktemp("rst"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def myst(tmp_path_factory):
    proc, out = build("sphinx_myst", tmp_path_factory.mktemp("myst"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_a_rest_page_shows_diagrams_tables_and_cells(rst):
    """``.. rnnviz::`` with options on its line, as directive options and from ``file=`` builds with -W."""
    html, page = _parse(rst / "index.html")
    # An unrolled view too small for a phone also holds its copy for narrow screens.
    wide = [s for s in page.svgs if "data-search-exclude" not in s]
    assert len(wide) == 3, "unrolled, unrolled with values, LSTM cell"
    assert 'class="rnnviz rnnviz-table"' in html and "The exam network" in html
    rows = re.findall(r"<tr><th>(\d+)</th>(.*?)</tr>", html)
    assert [re.findall(r"<td>([^<]*)</td>", c)[-1] for _, c in rows][1:] == ["6", "0", "3"]
    assert len(page.ids) == len(set(page.ids)), "no id twice on a page"


def test_a_myst_page_shows_the_same_blocks(myst):
    """The MyST fence ```{rnnviz} takes the options on its line or as :key: value lines."""
    html, page = _parse(myst / "index.html")
    assert len([s for s in page.svgs if "data-search-exclude" not in s]) == 2
    assert r"\tanh" in html and 'class="rnnviz rnnviz-math"' in html
    assert "The exam network" in html


@pytest.mark.parametrize("case", ["sphinx_rst", "sphinx_myst"])
def test_the_css_js_and_katex_are_shipped_and_linked(case, rst, myst):
    """The page links rnnviz's CSS and JS and the offline KaTeX copy, all in _static/rnnviz/."""
    out = rst if case == "sphinx_rst" else myst
    _, page = _parse(out / "index.html")
    linked = {url.split("?")[0] for _, url in page.assets}
    for name in ("rnnviz.css", "rnnviz.js", "rnnviz-steps.js", "katex.min.css", "katex.min.js", "rnnviz-math.js"):
        assert f"_static/rnnviz/{name}" in linked, name
        assert (out / "_static" / "rnnviz" / name).is_file(), name
    assert not [u for u in linked if re.match(r"(?:https?:)?//", u)], "nothing from another host"


@pytest.mark.parametrize("case, bad, where", [
    ("sphinx_rst", ("tanh(W h[t-1] + U x[t])", "tahn(W h[t-1] + U x[t])"), "index.rst:8:8: unknown function 'tahn'"),
    ("sphinx_myst", ("h[t] = tanh(W h[t-1] + U x[t])\n```\n\nThe same", "h[t] = tahn(W h[t-1] + U x[t])\n```\n\nThe same"),
     "index.md:6:8: unknown function 'tahn'"),
])
def test_bad_equations_fail_the_build_naming_file_line_and_column(tmp_path, case, bad, where):
    """A block with bad equations fails ``-W`` with page:line:col and the caret; without -W the page shows a box."""
    proc, _ = build(case, tmp_path, replace=bad)
    assert proc.returncode != 0
    assert where in proc.stderr, proc.stderr
    assert "^" in proc.stderr and "Traceback" not in proc.stderr
    proc, out = build(case, tmp_path / "lax", replace=bad, warnings_are_errors=False)
    assert proc.returncode == 0, proc.stderr
    assert "rnnviz-error" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("bad, line, words", [
    ((":view: unrolled\n   :values:", ":view: sideways\n   :values:"), 12, "view='sideways' is not one of"),
    (("view=unrolled unroll=4", "view=unrolled colour=red"), 6, "unknown option 'colour'"),
    (("view=unrolled unroll=4", "view=unrolled unroll=0"), 6, "unroll='0' must be a whole number from 1"),
])
def test_a_bad_option_is_an_error_at_its_line(tmp_path, bad, line, words):
    """A bad option names itself and the directive's file and line, like the MkDocs fence's."""
    proc, _ = build("sphinx_rst", tmp_path, replace=bad)
    assert proc.returncode != 0
    assert f"index.rst:{line}: ERROR: rnnviz: {words}" in proc.stderr, proc.stderr


def test_the_directive_and_the_fence_share_one_option_list():
    """Every fence option is a directive option, checked by the same function."""
    from rnnviz.site import blocks, fence
    from rnnviz.site.sphinx import RnnvizDirective

    assert set(RnnvizDirective.option_spec) == set(blocks.OPTIONS) == set(fence.OPTIONS)
    assert fence.OPTIONS is blocks.OPTIONS
