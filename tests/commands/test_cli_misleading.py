"""Messages that used to point the wrong way: each now names what is wrong, where it is."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli as run

MODEL = "h[t] = tanh(W h[t-1] + U x[t])\n"


def test_set_with_a_word_says_a_value_is_a_number(capsys, write):
    code, _, err = run(capsys, "run", write(MODEL), "--set", "W=abc")
    assert code == 1
    assert "the value of 'W' must be a number" in err and "time index" not in err


def test_missing_parenthesis_before_another_line_points_at_the_parenthesis(capsys, write):
    code, _, err = run(capsys, "run", write("h[t] = tanh(W h[t-1] + U x[t]\ny[t] = V h[t]\n"))
    assert code == 1
    assert err.splitlines()[0].endswith("model.rnn:1:12: '(' is never closed; expected ')' before the end of line 1")


def test_unclosed_subscript_brace_says_so(capsys, write):
    code, _, err = run(capsys, "run", write("h_t = tanh(W_{hh h_{t-1} + U x_t)\n"))
    assert code == 1
    assert "model.rnn:1:14: '{' is never closed; expected '}'" in err and "needs letters" not in err


@pytest.mark.parametrize("command", ["draw", "plot"])
def test_output_ending_and_format_that_disagree_are_refused(capsys, write, tmp_path, command):
    out = tmp_path / "x.png"
    code, _, err = run(capsys, command, write(MODEL), "-o", str(out), "--format", "svg")
    assert code == 2 and "asks for PNG by its ending, but --format asks for SVG" in err
    assert not out.exists()


def test_output_ending_and_format_that_agree_are_fine(capsys, write, tmp_path):
    out = tmp_path / "x.svg"
    code, _, _ = run(capsys, "draw", write(MODEL), "-o", str(out), "--format", "svg")
    assert code == 0 and out.read_text().lstrip().startswith("<?xml")


def test_draw_values_before_the_file_takes_it_as_the_file(capsys, write, tmp_path):
    """`draw --values model.rnn`: --values took the only file name; it is FILE, and the values are shown."""
    path = write(MODEL + "W = 0.5, U = 1, h_0 = 0, x = [1, 2]\n")
    out = tmp_path / "m.svg"
    code, _, err = run(capsys, "draw", "--values", path, "-o", str(out))
    assert code == 0, err
    assert "0.762" in out.read_text()  # h_1 = tanh(1), written under the unrolled node


def test_draw_without_any_file_still_asks_for_it(capsys):
    code, _, err = run(capsys, "draw")
    assert code == 2 and "FILE" in err
