"""rnnviz in Jupyter: a real notebook, executed by a local kernel, shows diagrams, tables and models."""

from __future__ import annotations

import re

import pytest

import rnnviz
from rnnviz.site import jupyter
from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

RELU = "h[t] = relu(V h[t-1] + W x[t])\nV = -3, W = 3, h[0] = 0, x = [2, 3, 1]"
CELLS = [
    "%load_ext rnnviz",
    f"%%rnnviz view=unrolled unroll=3 values title='Three steps'\n{RELU}",
    f"%%rnnviz show=table\n{RELU}",
    "import rnnviz\nrnnviz.load_model('h[t] = tanh(W h[t-1] + U x[t])')",
    "%%rnnviz view=cell\n" + (ROOT / "examples" / "lstm.rnn").read_text(encoding="utf-8"),
    "%%rnnviz\nh[t] = tahn(W h[t-1])",
    "%%rnnviz colour=red\nh[t] = tanh(W h[t-1])",
    "%%rnnviz view=unrolled\nh[t] = tanh(W h[t-1] + U x[t])",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook above, run top to bottom by an ipykernel on this machine."""
    folder = tmp_path_factory.mktemp("notebook")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS])
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    import os

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + old if old else "")
    try:
        client.execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    nbformat.write(nb, folder / "rnnviz.ipynb")  # for a look in Jupyter when a check fails
    return nb


def _html(cell) -> str:
    out = [o["data"]["text/html"] for o in cell.outputs if o.get("output_type") in ("display_data", "execute_result")
           and "text/html" in o.get("data", {})]
    assert len(out) == 1, cell.outputs
    return out[0]


def _stderr(cell) -> str:
    return "".join(o["text"] for o in cell.outputs if o.get("output_type") == "stream" and o["name"] == "stderr")


def test_the_magic_draws_the_cell_inline(executed):
    """``%%rnnviz view=unrolled values`` shows one inline SVG, titled, with the values on the nodes."""
    html = _html(executed.cells[1])
    assert html.count("<svg") == 1 and 'class="rnnviz rnnviz-diagram"' in html
    assert "Three steps" in html
    assert re.search(r">\s*6\s*<", html), "h_1 = 6 is written on its node"


def test_the_magic_shows_the_forward_pass_as_a_table(executed):
    """``show=table`` gives run's table: one row per step, h = 6, 0, 3."""
    html = _html(executed.cells[2])
    rows = re.findall(r"<tr><th>(\d+)</th>(.*?)</tr>", html)
    assert [int(t) for t, _ in rows] == [0, 1, 2, 3]
    assert [re.findall(r"<td>([^<]*)</td>", cells)[-1] for _, cells in rows][1:] == ["6", "0", "3"]


def test_a_model_shows_its_equations_and_folded_diagram(executed):
    """A Model at the end of a cell is its typeset equations and its folded diagram."""
    html = _html(executed.cells[3])
    assert r"\tanh" in html and 'class="arithmatex rnnviz-math"' in html
    assert html.count("<svg") == 1


def test_cell_views_work_in_a_notebook(executed):
    """The cell view of an LSTM draws in a notebook like on a page."""
    assert "<svg" in _html(executed.cells[4])


@pytest.mark.parametrize("index, words", [
    (5, "<cell>:2:8: unknown function 'tahn'"),
    (6, "%%rnnviz: unknown option 'colour'"),
])
def test_a_mistake_is_one_message_not_a_traceback(executed, index, words):
    """Bad equations point at the cell's line and column; a bad option is named; no traceback."""
    cell = executed.cells[index]
    assert words in _stderr(cell)
    assert not [o for o in cell.outputs if o.get("output_type") == "error"]
    assert "Traceback" not in _stderr(cell)


def test_outputs_of_one_notebook_never_share_ids(executed):
    """Two diagrams in one notebook page have ids of their own (the browser holds them all at once)."""
    ids = [i for cell in executed.cells for o in cell.outputs
           for i in re.findall(r'\bid="([^"]+)"', o.get("data", {}).get("text/html", ""))]
    assert ids and len(ids) == len(set(ids))


def test_the_extension_is_reachable_from_the_package_top():
    """``%load_ext rnnviz`` finds ``rnnviz.load_ipython_extension``; it registers one cell magic."""
    seen = []

    class Shell:
        def register_magic_function(self, func, magic_kind, magic_name):
            seen.append((func, magic_kind, magic_name))

    rnnviz.load_ipython_extension(Shell())
    assert seen == [(jupyter.rnnviz_magic, "cell", "rnnviz")]


def test_download_is_refused_in_a_notebook(capsys):
    """``download=`` makes files for a site; in a notebook it says so instead of doing nothing."""
    assert jupyter.rnnviz_magic("download=x", "h[t] = tanh(W h[t-1])") is None
    assert "makes files for a site" in capsys.readouterr().err
