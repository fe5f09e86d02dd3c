"""One version, written in pyproject.toml, shown by ``rnnviz --version``, ``rnnviz.__version__`` and the site."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

import rnnviz
from rnnviz import version as version_module
from rnnviz.cli import main
from tests.conftest import ROOT

PYPROJECT_VERSION = version_module.version_in_pyproject((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture
def fresh(monkeypatch):
    """rnnviz.version with nothing read yet."""
    monkeypatch.setattr(version_module, "_cached", None)
    return version_module


def test_the_checkout_reads_its_pyproject(fresh):
    """In a source checkout the version is the one pyproject.toml gives, whatever is installed."""
    assert PYPROJECT_VERSION and fresh.version() == PYPROJECT_VERSION
    assert rnnviz.__version__ == PYPROJECT_VERSION


def test_an_installed_copy_reads_its_metadata(fresh, monkeypatch, tmp_path):
    """Without a pyproject.toml beside the package (a wheel, pipx) the metadata answers."""
    monkeypatch.setattr(fresh, "_PYPROJECT", str(tmp_path / "pyproject.toml"))
    monkeypatch.setattr(importlib.metadata, "version", lambda name: {"rnnviz": "7.8.9"}[name])
    assert fresh.version() == "7.8.9"


def test_a_pyproject_of_another_project_is_not_read(fresh, monkeypatch, tmp_path):
    """A pyproject.toml above the package that is not rnnviz's (site-packages of a project) is skipped."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "course"\nversion = "2024.1"\n', encoding="utf-8")
    monkeypatch.setattr(fresh, "_PYPROJECT", str(tmp_path / "pyproject.toml"))
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "7.8.9")
    assert fresh.version() == "7.8.9"


def test_a_copy_that_was_never_installed_says_so(fresh, monkeypatch, tmp_path):
    """No pyproject and no metadata: a version that sorts before every release, not a crash."""
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(fresh, "_PYPROJECT", str(tmp_path / "pyproject.toml"))
    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert fresh.version() == "0+unknown"


def test_the_command_prints_it(capsys):
    """``rnnviz --version`` prints ``rnnviz X.Y.Z``."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"rnnviz {PYPROJECT_VERSION}\n"


def test_importing_rnnviz_does_not_read_the_metadata(tmp_path):
    """``import rnnviz`` and building the command line leave importlib.metadata unimported."""
    code = ("import sys, rnnviz, rnnviz.cli; rnnviz.cli.get_parser(); "
            "print('importlib.metadata' in sys.modules, 'rnnviz.version' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""}, timeout=60)
    assert done.stdout.split() == ["False", "True"], done.stderr


@pytest.mark.parametrize("text", ['version = "1.0"\n', '[project]\nversion = "1.0"\n',
                                  '[tool.rnnviz]\nname = "rnnviz"\nversion = "1.0"\n'])
def test_only_rnnviz_project_tables_count(text):
    """Only ``[project]`` with ``name = "rnnviz"`` gives a version."""
    assert version_module.version_in_pyproject(text) is None
