"""rnnviz installed as a user installs it: from the built wheel, into a virtual environment that
does not see this checkout, and with pipx.

The tests only ever import the checkout otherwise, so a module or data file left out of the
wheel would go unnoticed. Here the README's own install commands run in a copy of the
project with a fresh venv (tests/installs.py), and the installed ``rnnviz`` draws, runs,
differentiates and plots, and its MkDocs plugin builds a site, from a folder that holds
nothing of the checkout; the sdist of ``python -m build`` carries the whole project.
"""

from __future__ import annotations

import re
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.installs import project_version, run

pytestmark = pytest.mark.slow
@pytest.fixture(scope="session")
def venv(installed) -> Path:
    return installed.venv


@pytest.fixture(scope="session")
def wheel(installed) -> Path:
    (found,) = (installed.source / "dist").glob("rnnviz-*.whl")
    return found


@pytest.fixture(scope="module")
def sdist(installed, tmp_path_factory) -> Path:
    """The source distribution of ``python -m build --sdist``."""
    out = tmp_path_factory.mktemp("sdist")
    run([sys.executable, "-m", "build", "--sdist", "--outdir", out, installed.source], cwd=installed.source)
    (found,) = out.glob("rnnviz-*.tar.gz")
    return found


def _package_files() -> set[str]:
    """Every file of the package as it must be installed: modules, the grammar, the assets."""
    pkg = ROOT / "rnnviz"
    files = {p for p in pkg.rglob("*.py")} | set(pkg.glob("language/grammar/*.lark")) | \
        {p for p in (pkg / "site" / "assets").iterdir() if p.is_file()}
    return {p.relative_to(ROOT).as_posix() for p in files if "__pycache__" not in p.parts}


def test_the_wheel_holds_every_module_grammar_and_asset(wheel):
    """Every module and subpackage, the lark grammar and the CSS/JS/KaTeX files are in the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_package_files() - names)
    assert missing == [], f"not in {wheel.name}: {missing}"
    assert wheel.name == f"rnnviz-{project_version()}-py3-none-any.whl"
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(meta).decode()
    assert "rnnviz = rnnviz.cli:run" in entry_points
    assert "rnnviz = rnnviz.site.plugin:RnnvizPlugin" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "examples/", "docs/"))], \
        "the wheel installs only the package"


def test_the_sdist_is_the_whole_project(sdist):
    """The source distribution carries the package and what its tests and site need."""
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    missing = sorted(_package_files() - names)
    assert missing == [], f"not in {sdist.name}: {missing}"
    for path in ("pyproject.toml", "README.md", "Makefile", "mkdocs.yml", "examples/relu_1d.rnn",
                 "docs/index.md", "tests/conftest.py", "scripts/install-deps.sh", ".ci/run"):
        assert path in names, path
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_installed_rnnviz_is_the_wheel_not_the_checkout(venv, tmp_path):
    """In the venv, ``import rnnviz`` finds the installed copy and its version is pyproject's."""
    done = run([venv / "bin" / "python", "-c", "import rnnviz, sys; print(rnnviz.__file__); print(rnnviz.__version__)"],
                cwd=tmp_path)
    where, version = done.stdout.split()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    assert version == project_version()
    assert run([venv / "bin" / "rnnviz", "--version"], cwd=tmp_path).stdout == f"rnnviz {project_version()}\n"


def test_the_installed_command_draws_runs_differentiates_and_plots(venv, tmp_path):
    """``rnnviz draw``, ``run``, ``grad`` and ``plot`` of the installed script work on an example."""
    shutil.copyfile(ROOT / "examples" / "relu_1d.rnn", tmp_path / "relu.rnn")
    shutil.copyfile(ROOT / "examples" / "lstm.rnn", tmp_path / "lstm.rnn")
    rnnviz = venv / "bin" / "rnnviz"
    run([rnnviz, "draw", "relu.rnn", "--view", "unrolled", "--values", "-o", "relu.svg"], cwd=tmp_path)
    assert (tmp_path / "relu.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    run([rnnviz, "draw", "lstm.rnn", "--view", "cell", "-o", "cell.png"], cwd=tmp_path)
    assert (tmp_path / "cell.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = run([rnnviz, "run", "relu.rnn"], cwd=tmp_path).stdout.splitlines()
    assert [row.split()[-1] for row in table[2:]] == ["6", "0", "3"], table
    grads = run([rnnviz, "grad", "relu.rnn", "--of", "h[3]"], cwd=tmp_path).stdout
    assert re.search(r"(?m)^\s*W\s+=\s+1$", grads), grads
    run([rnnviz, "plot", "relu.rnn", "-o", "steps.png"], cwd=tmp_path)
    assert (tmp_path / "steps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_installed_plugin_builds_a_fresh_mkdocs_site(venv, tmp_path):
    """A new MkDocs project with ``plugins: [rnnviz]`` and a fence builds --strict with the venv's mkdocs."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: Course\nplugins:\n  - rnnviz\n", encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text(
        "# RNN\n\n```rnnviz {view=unrolled unroll=3}\nh[t] = tanh(W h[t-1] + U x[t])\n```\n\n"
        "```rnnviz {show=table}\nh[t] = relu(V h[t-1] + W x[t])\nV = -3, W = 3, h[0] = 0, x = [2, 3, 1]\n```\n",
        encoding="utf-8")
    run([venv / "bin" / "mkdocs", "build", "--strict"], cwd=tmp_path)
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 1 and 'class="rnnviz rnnviz-table"' in page
    for asset in ("rnnviz.css", "rnnviz.js", "katex.min.js"):
        assert (tmp_path / "site" / "assets" / "rnnviz" / asset).is_file(), asset


def test_the_installed_mkdocs_serves_the_fence(venv, tmp_path):
    """``mkdocs serve`` of the venv renders a page with a fence, served on the loopback address."""
    import socket
    import subprocess
    import time
    import urllib.request

    from tests.installs import clean_env

    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: Course\nplugins:\n  - rnnviz\n", encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text("# RNN\n\n```rnnviz\nh[t] = tanh(W h[t-1] + U x[t])\n```\n",
                                                encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(venv / "bin" / "mkdocs"), "serve", "--no-livereload", "-a", f"127.0.0.1:{port}"],
                              cwd=tmp_path, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page, deadline = "", time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    page = reply.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.5)
        assert page, server.stderr.read().decode() if server.poll() is not None else "no answer from mkdocs serve"
        assert "<svg" in page and 'class="rnnviz rnnviz-diagram"' in page
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_pipx_installs_the_project_from_its_folder(installed, tmp_path):
    """After ``pipx install .`` the ``rnnviz`` that pipx put on its PATH draws."""
    rnnviz = installed.pipx_bin / "rnnviz"
    assert run([rnnviz, "--version"], cwd=tmp_path).stdout == f"rnnviz {project_version()}\n"
    shutil.copyfile(ROOT / "examples" / "relu_1d.rnn", tmp_path / "relu.rnn")
    run([rnnviz, "draw", "relu.rnn", "-o", "relu.svg"], cwd=tmp_path)
    assert (tmp_path / "relu.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
