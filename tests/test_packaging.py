"""rnnviz installed as a user installs it: from the built wheel, into a virtual environment that
does not see this checkout, and with pipx.

The tests only ever import the checkout otherwise, so a module or data file left out of the
wheel would go unnoticed; here the wheel is built with ``python -m build`` (sdist first, the
wheel from the sdist, as a package index would), installed into a fresh venv, and the
installed ``rnnviz`` draws, runs, differentiates and plots, and its MkDocs plugin builds a
site, from a folder that holds nothing of the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

#: What a working checkout holds that is no source: build output anywhere, and at the top
#: the folders that the set-up, the site build and the demo write.
_ANYWHERE = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "*.pyc", ".hypothesis", ".pytest_cache")
_AT_THE_TOP = {".venv", "venv", "site", "out", "dist", "build", ".cache", "test-artifacts"}


def _not_source(folder: str, names: list[str]) -> set[str]:
    skip = set(_ANYWHERE(folder, names))
    return skip | (_AT_THE_TOP & set(names) if Path(folder) == ROOT else set())


def _project_version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'(?m)^version\s*=\s*"([^"]+)"', text).group(1)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would let Python find the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PIP_REQUIRE_VIRTUALENV")}
    env.update(NO_MKDOCS_2_WARNING="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=_clean_env(**env))
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the checkout (the build writes its egg-info beside the sources)."""
    src = tmp_path_factory.mktemp("src") / "rnnviz"
    shutil.copytree(ROOT, src, ignore=_not_source)
    return src


@pytest.fixture(scope="module")
def dist(source, tmp_path_factory) -> Path:
    """The folder holding the sdist and the wheel of ``python -m build``."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, source], cwd=source)
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    (found,) = dist.glob("rnnviz-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel and its docs extra."""
    where = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", where], cwd=where.parent)
    _run([where / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[docs]"], cwd=where.parent)
    return where


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
    assert wheel.name == f"rnnviz-{_project_version()}-py3-none-any.whl"
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(meta).decode()
    assert "rnnviz = rnnviz.cli:main" in entry_points
    assert "rnnviz = rnnviz.site.plugin:RnnvizPlugin" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "examples/", "docs/"))], \
        "the wheel installs only the package"


def test_the_sdist_is_the_whole_project(dist):
    """The source distribution carries the package and what its tests and site need."""
    (sdist,) = dist.glob("rnnviz-*.tar.gz")
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
    done = _run([venv / "bin" / "python", "-c", "import rnnviz, sys; print(rnnviz.__file__); print(rnnviz.__version__)"],
                cwd=tmp_path)
    where, version = done.stdout.split()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    assert version == _project_version()
    assert _run([venv / "bin" / "rnnviz", "--version"], cwd=tmp_path).stdout == f"rnnviz {_project_version()}\n"


def test_the_installed_command_draws_runs_differentiates_and_plots(venv, tmp_path):
    """``rnnviz draw``, ``run``, ``grad`` and ``plot`` of the installed script work on an example."""
    shutil.copyfile(ROOT / "examples" / "relu_1d.rnn", tmp_path / "relu.rnn")
    shutil.copyfile(ROOT / "examples" / "lstm.rnn", tmp_path / "lstm.rnn")
    rnnviz = venv / "bin" / "rnnviz"
    _run([rnnviz, "draw", "relu.rnn", "--view", "unrolled", "--values", "-o", "relu.svg"], cwd=tmp_path)
    assert (tmp_path / "relu.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    _run([rnnviz, "draw", "lstm.rnn", "--view", "cell", "-o", "cell.png"], cwd=tmp_path)
    assert (tmp_path / "cell.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = _run([rnnviz, "run", "relu.rnn"], cwd=tmp_path).stdout.splitlines()
    assert [row.split()[-1] for row in table[2:]] == ["6", "0", "3"], table
    grads = _run([rnnviz, "grad", "relu.rnn", "--of", "h[3]"], cwd=tmp_path).stdout
    assert re.search(r"(?m)^\s*W\s+=\s+1$", grads), grads
    _run([rnnviz, "plot", "relu.rnn", "-o", "steps.png"], cwd=tmp_path)
    assert (tmp_path / "steps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_installed_plugin_builds_a_fresh_mkdocs_site(venv, tmp_path):
    """A new MkDocs project with ``plugins: [rnnviz]`` and a fence builds --strict with the venv's mkdocs."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: Course\nplugins:\n  - rnnviz\n", encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text(
        "# RNN\n\n```rnnviz {view=unrolled unroll=3}\nh[t] = tanh(W h[t-1] + U x[t])\n```\n\n"
        "```rnnviz {show=table}\nh[t] = relu(V h[t-1] + W x[t])\nV = -3, W = 3, h[0] = 0, x = [2, 3, 1]\n```\n",
        encoding="utf-8")
    _run([venv / "bin" / "mkdocs", "build", "--strict"], cwd=tmp_path)
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 1 and 'class="rnnviz rnnviz-table"' in page
    for asset in ("rnnviz.css", "rnnviz.js", "katex.min.js"):
        assert (tmp_path / "site" / "assets" / "rnnviz" / asset).is_file(), asset


def test_pipx_installs_the_project_from_its_folder(source, tmp_path):
    """``pipx install .`` in the project's folder gives a working ``rnnviz`` on the PATH it chose."""
    tools = tmp_path / "tools"
    _run([sys.executable, "-m", "venv", tools], cwd=tmp_path)
    _run([tools / "bin" / "python", "-m", "pip", "install", "-q", "pipx"], cwd=tmp_path)
    home, bin_dir = tmp_path / "pipx", tmp_path / "bin"
    _run([tools / "bin" / "pipx", "install", "."], cwd=source, PIPX_HOME=str(home), PIPX_BIN_DIR=str(bin_dir),
         PIPX_MAN_DIR=str(tmp_path / "man"))
    shutil.copyfile(ROOT / "examples" / "relu_1d.rnn", tmp_path / "relu.rnn")
    assert _run([bin_dir / "rnnviz", "--version"], cwd=tmp_path).stdout == f"rnnviz {_project_version()}\n"
    _run([bin_dir / "rnnviz", "draw", "relu.rnn", "-o", "relu.svg"], cwd=tmp_path)
    assert (tmp_path / "relu.svg").is_file()
