"""Bad input and faults through the command line: nothing replaced, nothing leaked, no internal error.

Each test here reproduces a fault found by attacking rnnviz: an output over a device or over the
input, a view written when its sibling failed, an internal error where a positioned rnnviz error
belongs, work without a bound.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from rnnviz.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

RNN = "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]\n"


@pytest.fixture
def rnn(tmp_path) -> Path:
    p = tmp_path / "net.rnn"
    p.write_text(RNN)
    return p


# -- item 1: outputs over special files and over the input --------------------------------------

@needs_dot
@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_draw_to_a_device_keeps_the_device(rnn, tmp_path):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    assert main(["draw", str(rnn), "--format", "svg", "-o", str(node)]) == 0
    assert stat.S_ISCHR(os.stat(node).st_mode)


@pytest.mark.parametrize("command", [["draw", "--format", "svg"], ["plot", "--format", "svg"]])
def test_output_naming_the_input_is_refused(rnn, tmp_path, capsys, command):
    """-o net.rnn would replace the equations by a drawing."""
    name, *options = command
    assert main([name, str(rnn), *options, "-o", str(rnn)]) == 2
    assert "-o names the input file" in capsys.readouterr().err
    assert rnn.read_text() == RNN


def test_output_naming_the_values_file_is_refused(rnn, tmp_path, capsys):
    values = tmp_path / "v.txt"
    values.write_text("dim h = 2, x = 2\n")
    assert main(["draw", str(rnn), "--values", str(values), "--format", "svg", "--view", "folded",
                 "-o", str(values)]) == 2
    assert values.read_text() == "dim h = 2, x = 2\n"


# -- item 9: --view both writes both or neither ---------------------------------------------------

@needs_dot
def test_view_both_writes_neither_when_one_cannot_be_written(rnn, tmp_path, capsys):
    out = tmp_path / "figs"
    out.mkdir()
    (out / "net.unrolled.svg").mkdir()  # the second target cannot be a file
    assert main(["draw", str(rnn), "-o", f"{out}/"]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["net.unrolled.svg"]
    assert "internal error" not in capsys.readouterr().err
