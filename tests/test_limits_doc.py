"""Every limit docs/limits.md lists gives the message the page shows, from the input it names."""

from __future__ import annotations

import shutil

import pytest

from rnnviz.cli import main
from tests.conftest import EXAMPLES, ROOT

PAGE = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
RNN = "h[t] = tanh(W h[t-1] + U x[t])\n"

#: message shown on the page -> (input text or None for examples/lstm.rnn, arguments after FILE)
CASES = {
    "the input is larger than 10 MB": (RNN + "# pad\n" * 2_000_000, ["run"]),
    "brackets nest more than 64 deep here": ("h[t] = " + "tanh(" * 65 + "x[t]" + ")" * 65 + "\n", ["run"]),
    "this expression is more than 200 operations deep": ("h[t] = " + " + ".join(["x[t]"] * 300) + "\n", ["run"]),
    "'x' would have 100,000,000 entries, more than the 1,000,000 rnnviz allows": (RNN + "dim x = 100000000\n",
                                                                                   ["run"]),
    "'W' would be 100000 x 100000 (10,000,000,000 numbers), more than the 1,000,000 rnnviz allows": (
        RNN + "dim h = 100000, x = 3\n", ["run"]),
    "100,000 steps of these sizes would keep 180,001,800 numbers, more than the 150,000,000 rnnviz allows": (
        RNN + "dim h = 900, x = 900\n", ["run", "--steps", "100000"]),
    "expected at most 100000 steps, got 200000": (RNN, ["run", "--steps", "200000"]),
    "at most 2000 columns can be drawn": (RNN, ["draw", "--view", "unrolled", "--max-columns", "2001",
                                               "--format", "dot", "-o", "-"]),
    "h[12] written out would be about 5,426,509,443 characters, more than the 1,000,000 rnnviz writes": (
        None, ["formula", "--of", "h[12]"]),
    "h[2000] nests too many steps to write out in full": ("h[t] = tanh(W h[t-1] + U x[t])\n",
                                                          ["formula", "--of", "h[2000]"]),
    "expected a resolution from 1 to 2400 dpi, got 9600": (RNN, ["draw", "--dpi", "9600"]),
    "a size is at least 1; 'x' cannot have 0 entries": (RNN + "dim h = 2\nx[t] in R^0\n", ["run"]),
}


@pytest.mark.parametrize("message", list(CASES))
def test_the_page_shows_the_message_a_user_sees(message, tmp_path, capsys):
    assert message in PAGE
    text, args = CASES[message]
    path = EXAMPLES / "lstm.rnn" if text is None else tmp_path / "in.rnn"
    if text is not None:
        path.write_text(text)
    command, *rest = args
    assert main([command, str(path), *rest]) != 0
    assert message in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_the_graphviz_message(tmp_path, capsys, monkeypatch):
    from rnnviz.limits import GRAPHVIZ_TIMEOUT

    assert f"Graphviz did not finish drawing this diagram within {GRAPHVIZ_TIMEOUT:g} seconds" in PAGE
    monkeypatch.setenv("RNNVIZ_GRAPHVIZ_TIMEOUT", "0.001")
    path = tmp_path / "in.rnn"
    path.write_text(RNN)
    assert main(["draw", str(path), "--view", "unrolled", "--unroll", "300", "--max-columns", "300",
                 "-o", str(tmp_path / "u.svg")]) == 1
    assert "Graphviz did not finish drawing this diagram within 0.001 seconds" in capsys.readouterr().err


def test_the_page_lists_every_limit_of_the_module():
    from rnnviz import limits

    shown = {"MAX_INPUT_BYTES": "10 MB", "MAX_NESTING": "| 64 |", "MAX_DEPTH": "| 200 |",
             "MAX_ENTRIES": "| 1,000,000 |", "MAX_HISTORY_ENTRIES": "150,000,000",
             "MAX_FORMULA_CHARS": "characters of a written-out formula", "MAX_COLUMNS": "| 2000 |",
             "GRAPHVIZ_TIMEOUT": "60 seconds", "PDFLATEX_TIMEOUT": "120 seconds"}
    assert set(shown) == set(limits.__all__)
    for piece in shown.values():
        assert piece in PAGE, piece
