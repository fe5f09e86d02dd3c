"""Tests of ``rnnviz draw`` through rnnviz.cli.main: outputs, formats, stdin, errors."""

from __future__ import annotations

import io
import json
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rnnviz.cli import main
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

RNN = "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]\n"


@pytest.fixture
def rnn(tmp_path) -> Path:
    p = tmp_path / "net.rnn"
    p.write_text(RNN)
    return p


def test_default_writes_both_views_next_to_the_input(rnn, capsys, monkeypatch, tmp_path):
    """Without -o, STEM.folded.svg and STEM.unrolled.svg appear next to FILE and their paths are printed."""
    monkeypatch.chdir(tmp_path.parent)
    assert main(["draw", str(rnn)]) == 0
    printed = capsys.readouterr().out.split()
    expected = [rnn.parent / "net.folded.svg", rnn.parent / "net.unrolled.svg"]
    assert [Path(p) for p in printed] == expected
    for p in expected:
        ET.fromstring(p.read_text())


@pytest.mark.parametrize("out", ["figs/", "existing"])
def test_output_folder(rnn, tmp_path, out, capsys):
    """-o DIR/ (created if needed) or an existing folder receives STEM.VIEW.EXT for each view."""
    (tmp_path / "existing").mkdir()
    target = tmp_path / out
    assert main(["draw", str(rnn), "-o", str(target) + ("/" if out.endswith("/") else ""), "--format", "png"]) == 0
    names = sorted(p.name for p in Path(target).iterdir())
    assert names == ["net.folded.png", "net.unrolled.png"]
    assert (Path(target) / "net.folded.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name, check", [
    ("a.svg", lambda b: ET.fromstring(b.decode())),
    ("a.png", lambda b: b.startswith(b"\x89PNG") or pytest.fail("not PNG")),
    ("a.pdf", lambda b: b.startswith(b"%PDF") or pytest.fail("not PDF")),
    ("a.dot", lambda b: b.startswith(b'digraph "rnnviz"') or pytest.fail("not DOT")),
    ("a.json", lambda b: json.loads(b)["view"] == "unrolled" or pytest.fail("wrong view")),
])
def test_output_file_format_from_extension(rnn, tmp_path, name, check, capsys):
    """-o FILE writes one view in the format its extension names."""
    out = tmp_path / name
    assert main(["draw", str(rnn), "-o", str(out), "--view", "unrolled"]) == 0
    check(out.read_bytes())
    assert capsys.readouterr().out.strip() == str(out)


def test_stdout_output(rnn, capsys):
    """-o - writes one view to standard output and nothing else."""
    assert main(["draw", str(rnn), "-o", "-", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["view"] == "folded" and {n["id"] for n in data["nodes"]} == {"x", "h", "y"}


def test_stdin_input_writes_stdin_files(tmp_path, monkeypatch, capsys):
    """FILE - reads standard input and writes stdin.folded.svg and stdin.unrolled.svg in the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(RNN))
    assert main(["draw", "-"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stdin.folded.svg", "stdin.unrolled.svg"]


@pytest.mark.parametrize("out", ["a.svg", "-"])
def test_both_views_into_one_file_is_a_usage_error(rnn, tmp_path, out, capsys):
    """--view both with -o FILE or -o - exits 2 with advice and writes nothing."""
    target = out if out == "-" else str(tmp_path / out)
    assert main(["draw", str(rnn), "--view", "both", "-o", target]) == 2
    assert "one view" in capsys.readouterr().err
    assert not (tmp_path / "a.svg").exists()


BAD = "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t] +\n"


def test_bad_input_reports_place_and_caret_and_keeps_old_output(tmp_path, capsys):
    """A syntax error exits 1 with file:line:col and a caret; an existing output keeps its content."""
    src = tmp_path / "bad.rnn"
    src.write_text(BAD)
    old = tmp_path / "out.svg"
    old.write_text("old picture")
    assert main(["draw", str(src), "-o", str(old)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{src}:2:") and "^" in err and "Traceback" not in err
    assert old.read_text() == "old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.rnn", "out.svg"]


def test_model_error_creates_no_default_files(tmp_path, capsys):
    """An algebraic loop is reported with its place and no diagram file is created."""
    src = tmp_path / "loop.rnn"
    src.write_text("a[t] = tanh(W b[t])\nb[t] = tanh(V a[t])\n")
    assert main(["draw", str(src)]) == 1
    assert "loop" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["loop.rnn"]


def test_values_annotate_the_unrolled_view_with_the_exercise_answer(capsys):
    """--values writes the forward pass of exercise 2 (h = 6, 0, 3) under the unrolled nodes."""
    path = EXAMPLES / "relu_1d.rnn"
    assert main(["draw", str(path), "--values", "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    for t, v in [(1, "6"), (2, "0"), (3, "3")]:
        assert f">{v}<" in next(l for l in text.splitlines() if l.startswith(f'  "h@{t}"'))


def test_values_file_is_read(tmp_path, capsys):
    """--values=FILE reads values from FILE and shows them."""
    src = tmp_path / "r.rnn"
    src.write_text("h[t] = relu(V h[t-1] + W x[t])\n")
    vals = tmp_path / "v.rnn"
    vals.write_text("V = 2\nW = 1\nh[0] = 0\nx = [1, 2]\n")
    assert main(["draw", str(src), f"--values={vals}", "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    # h1 = 1, h2 = 2*1 + 2 = 4
    assert ">4<" in next(l for l in text.splitlines() if l.startswith('  "h@2"'))


def test_set_overrides_values(capsys):
    """--set changes a value of the file before the forward pass."""
    path = EXAMPLES / "relu_1d.rnn"
    assert main(["draw", str(path), "--values", "--set", "W=1", "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    assert ">2<" in next(l for l in text.splitlines() if l.startswith('  "h@1"'))


def test_grad_annotates_gradients(capsys):
    """--grad TARGET draws gradient norms and cut paths on the unrolled view."""
    assert main(["draw", str(EXAMPLES / "relu_1d.rnn"), "--grad", "h[3]", "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    assert "∇" in text and "dashed" in text


def test_unknown_grad_target_is_an_input_error(capsys):
    """A gradient target that names nothing exits 1 with a message, not a traceback."""
    assert main(["draw", str(EXAMPLES / "relu_1d.rnn"), "--grad", "nope[1]", "-o", "-", "--format", "dot"]) == 1
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("argv, columns", [(["--unroll", "10"], 5), (["--unroll", "10", "--max-columns", "20"], 10),
                                           (["--unroll", "2"], 2)])
def test_unroll_and_max_columns(rnn, capsys, argv, columns):
    """--unroll sets N and --max-columns how many steps are drawn before the ellipsis."""
    assert main(["draw", str(rnn), "--view", "unrolled", "--format", "json", "-o", "-", *argv]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len({n["time"] for n in data["nodes"] if n["time"] is not None and n["time"] >= 1}) == columns


@pytest.mark.parametrize("argv", [["--unroll", "0"], ["--dpi", "-3"], ["--view", "sideways"],
                                  ["--format", "gif"], ["--max-columns", "2"]])
def test_bad_options_exit_2(rnn, argv, capsys):
    """Impossible option values are usage errors (exit 2) with a message."""
    assert main(["draw", str(rnn), *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_missing_file_exits_1(tmp_path, capsys):
    """A file that does not exist is reported in one line."""
    assert main(["draw", str(tmp_path / "nope.rnn")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_help_lists_every_option(capsys):
    """--help documents views, formats, outputs, values and gradients."""
    with pytest.raises(SystemExit):
        main(["draw", "--help"])
    out = capsys.readouterr().out
    for word in ["--view", "--unroll", "--format", "--dpi", "--max-columns", "--values", "--set", "--precision",
                 "--grad", "--seed", "folder", "standard output"]:
        assert word in out


def test_missing_graphviz_exits_1_with_one_sentence_and_writes_nothing(rnn, tmp_path, monkeypatch, capsys):
    """Without Graphviz, draw says so in one line, exits 1, and writes no file; DOT output still works."""
    from rnnviz.diagrams import render
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    assert main(["draw", str(rnn)]) == 1
    err = capsys.readouterr().err
    assert "Graphviz" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["net.rnn"]
    assert main(["draw", str(rnn), "--format", "dot", "-o", str(tmp_path / "net.dot"), "--view", "folded"]) == 0


@pytest.mark.parametrize(
    "args,code,words",
    [(["--seed", "-5"], 2, "--seed"), (["--dpi", "100000"], 2, "--dpi"), (["--unroll", "0"], 2, "--unroll"),
     (["--grad", "q[2]"], 1, "--grad:1:1")],
)
def test_bad_option_values_are_named(tmp_path, capsys, args, code, words):
    """Out-of-range numbers are usage errors, and a bad --grad target is reported under --grad."""
    from rnnviz.cli import main

    out = tmp_path / "d.svg"
    assert main(["draw", str(EXAMPLES / "vanilla.rnn"), "--values", *args, "-o", str(out)]) == code
    assert words in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("view", ["cell", "cell-unrolled"])
@pytest.mark.parametrize("option", [["--values"], ["--grad", "h[3]"]])
def test_cell_views_show_numbers(view, option, capsys):
    """--values or --grad with a cell view writes the numbers under the variables (exercise 2:
    h3 = 3; the gradient of h[3] with respect to itself is 1)."""
    assert main(["draw", str(EXAMPLES / "relu_1d.rnn"), "--view", view, *option, "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    h3 = next(ln for ln in text.splitlines() if ln.startswith('  "h@3" [' if view == "cell-unrolled" else '  "h" ['))
    assert (">3</FONT>" in h3) if option == ["--values"] else ("∇ 1</FONT>" in h3)


def test_cell_views_of_an_encoder_decoder_show_its_numbers(capsys):
    """Exercise 9 in the cell views: the context -0.551, the decoder's s_3 = -0.456."""
    assert main(["draw", str(EXAMPLES / "encoder_decoder.rnn"), "--view", "cell-unrolled", "--values",
                 "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    assert "−0.551" in next(ln for ln in text.splitlines() if ln.startswith('  "c@2" ['))
    assert "−0.456" in next(ln for ln in text.splitlines() if ln.startswith('  "s@3" ['))


def test_folded_view_shows_the_last_steps_values(capsys):
    """--values with the folded view writes the last step's numbers (exercise 2: h3 = 3) and says which step."""
    assert main(["draw", str(EXAMPLES / "relu_1d.rnn"), "--view", "folded", "--values",
                 "--format", "dot", "-o", "-"]) == 0
    text = capsys.readouterr().out
    assert "values at t = 3" in text and ">3</FONT>" in text and 'tooltip="h at t = 3: 3"' in text
