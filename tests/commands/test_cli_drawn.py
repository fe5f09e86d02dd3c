"""Nothing drawn at random in silence: a value a file forgets is announced, and --strict refuses it.

On an exam sheet that gives V, h_0 and x but forgets W = 3, a silent random W would
answer h = 0, 0, 0 as if that were the sheet's answer.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli as run

FORGOT_W = "h_t = \\text{ReLU}(V h_{t-1} + W x_t)\nV = -3, h_0 = 0, x = [2, 3, 1]\n"
ALL_GIVEN = FORGOT_W.replace("V = -3", "V = -3, W = 3")
SIZES_ONLY = "h[t] = tanh(W h[t-1] + U x[t])\ndim x = 3, h = 4\n"


@pytest.fixture
def write(tmp_path):
    def _write(text: str) -> str:
        p = tmp_path / "sheet.rnn"
        p.write_text(text)
        return str(p)
    return _write


@pytest.mark.parametrize("command", [["run"], ["grad", "--of", "h[3]"], ["draw", "--values", "-o", "{tmp}"],
                                     ["plot", "-o", "{tmp}"]])
def test_a_forgotten_parameter_is_announced(capsys, write, tmp_path, command):
    path = write(FORGOT_W)
    argv = [a.replace("{tmp}", str(tmp_path / "out.svg")) for a in command]
    code, _, err = run(capsys, argv[0], path, *argv[1:])
    assert code == 0
    assert f"note: {path}:1:31: W was not given; drawn at random (seed 0): give W = ... to fix it" in err


@pytest.mark.parametrize("command", [["run"], ["grad", "--of", "h[3]"], ["draw", "--values", "-o", "{tmp}"]])
def test_strict_refuses_it_at_the_first_use(capsys, write, tmp_path, command):
    path = write(FORGOT_W)
    argv = [a.replace("{tmp}", str(tmp_path / "out.svg")) for a in command]
    code, out, err = run(capsys, argv[0], path, *argv[1:], "--strict")
    assert code == 1 and out == ""
    assert f"{path}:1:31: no value gives W; --strict draws nothing at random" in err
    assert not (tmp_path / "out.svg").exists()


def test_json_lists_what_was_drawn(capsys, write):
    code, out, _ = run(capsys, "run", write(FORGOT_W), "--json", "--seed", "4")
    assert code == 0 and json.loads(out)["drawn"] == ["W"]


def test_the_seed_is_named(capsys, write):
    _, _, err = run(capsys, "run", write(FORGOT_W), "--seed", "7")
    assert "drawn at random (seed 7)" in err


@pytest.mark.parametrize("text", [ALL_GIVEN, SIZES_ONLY])
def test_no_note_when_everything_or_nothing_is_given(capsys, write, text):
    """A file with every value has nothing to announce; a file of sizes only is a demo that draws all."""
    code, _, err = run(capsys, "run", write(text), "--strict")
    assert code == 0 and "drawn at random" not in err


def test_a_forgotten_input_is_announced(capsys, write):
    _, _, err = run(capsys, "run", write("h_t = tanh(W h_{t-1} + x_t)\nW = 0.5, h_0 = 1\n"), "--steps", "2")
    assert "x was not given; drawn at random" in err


def test_notes_on_the_reading_go_to_stderr(capsys, write):
    code, out, err = run(capsys, "run", write("$h_t=tanh(W_hh_{t-1}+W_xx_t)$\nW_h = 1, W_x = 1, x = [1]\n"))
    assert code == 0
    assert "sheet.rnn:1:11: note: 'W_hh_{t-1}' is read as W_h h_{t-1}" in err
    assert "note" not in out
