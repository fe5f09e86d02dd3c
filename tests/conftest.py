"""Shared fixtures: the bundled examples and the worked exercises."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"


def example_paths() -> list[Path]:
    """Every bundled example file, sorted by name."""
    return sorted(EXAMPLES.glob("*.rnn"))


def one_phase_example_paths() -> list[Path]:
    """The bundled examples over one sequence: all but the encoder-decoders (two sequences), for
    what is drawn or written for one (the cell views, the expansion of a gradient over time)."""
    from rnnviz import load_model

    return [p for p in example_paths() if load_model(p.read_text(encoding="utf-8"), p.name).phases is None]


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The README's commands that install rnnviz into another project, run in a copy of the
    project with a fresh venv first on the PATH (tests/installs.py); slow, so only the
    tests marked slow ask for it."""
    from tests.installs import install_as_the_readme_says

    return install_as_the_readme_says(tmp_path_factory.mktemp("install"))


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(params=example_paths(), ids=lambda p: p.stem)
def example_path(request) -> Path:
    """Each bundled example in turn."""
    return request.param


# The fixture sites and Sphinx projects are inputs, not tests (two conf.py would clash).
collect_ignore_glob = ["site/data/*"]


def assert_error_at(text: str, line: int, column: int, words: str):
    """Building ``text`` (as file m.rnn) fails with an rnnviz error at line:column that says ``words``."""
    import rnnviz

    with pytest.raises(rnnviz.RnnvizError) as info:
        rnnviz.load_model(text, "m.rnn")
    err = info.value
    assert (err.span.line, err.span.column) == (line, column), err.format()
    assert words in err.format()
    return err


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``rnnviz ARGV``: the exit code, standard output and standard error."""
    from rnnviz.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def write(tmp_path):
    """Write a model file into the test's folder and give its path."""
    def _write(text: str, name: str = "model.rnn") -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return _write
