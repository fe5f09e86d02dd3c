"""The Exercise sheets page: its generated sheets are up to date, its check example prints what it shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rnnviz.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
PAGE = ROOT / "docs" / "exercises.md"


def _generating_commands() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("rnnviz exercise")
            and "-o docs/exercises/" in line]


@pytest.mark.parametrize("cmd", _generating_commands())
def test_the_generated_sheets_are_up_to_date(tmp_path, monkeypatch, capsys, cmd):
    """Running the page's command again gives the sheets committed in docs/exercises/, byte for byte."""
    monkeypatch.chdir(ROOT)
    argv = shlex.split(cmd)[1:]
    argv[argv.index("-o") + 1] = str(tmp_path) + "/"
    assert main(argv) == 0
    written = [Path(p) for p in capsys.readouterr().out.split()]
    assert written
    for path in written:
        committed = ROOT / "docs" / "exercises" / path.name
        assert committed.read_text() == path.read_text(), \
            f"docs/exercises/{path.name} is out of date: run `{cmd}`"


def test_the_check_example_prints_what_the_page_shows(monkeypatch, capsys):
    """The page's `rnnviz check` block: same output, exit status 1 (the sheet is wrong)."""
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(r"```output\n\$ (rnnviz check [^\n]+)\n(.*?)```", text, re.S)
    sheet = re.search(r"```text\n(% Exam.*?)```", text, re.S).group(1)
    assert (ROOT / "docs" / "exercises" / "exam-solution.txt").read_text() == sheet
    monkeypatch.chdir(ROOT / "docs" / "exercises")
    assert main(shlex.split(block.group(1))[1:]) == 1
    assert capsys.readouterr().out == block.group(2)
