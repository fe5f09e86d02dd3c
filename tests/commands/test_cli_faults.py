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


# -- item 5: each of these was an "internal error" ----------------------------------------------

def _cli(tmp_path, capsys, text: str, *args: str) -> tuple[int, str]:
    path = tmp_path / "in.rnn"
    path.write_text(text)
    rc = main([args[0], str(path), *args[1:]])
    err = capsys.readouterr().err
    assert "internal error" not in err, err
    return rc, err


@pytest.mark.parametrize("text, command, expected", [
    ("y[t] = x(x[t])\n", ["run"], "1:8: 'x' is read with a time index elsewhere"),
    ("h[t] = tanh(W h[t-1] + U x[t])\nx[t] in R^0\ndim h = 2\n", ["run"], "2:1: a size is at least 1"),
    ("h[t] = tanh(W h[t-1] + U x[t])\ndim h = 1e308\ndim x = 2\n", ["run"],
     "2:5: 'h' would have 1e+308 entries, more than the 1,000,000"),
    ("h[t] = tanh(W h[t-1] + U x[t])\ndim x = 100000000\n", ["run"], "2:5: 'x' would have 100,000,000 entries"),
    ("h[t] = tanh(W h[t-1] + U x[t])\ndim h = 100000, x = 3\n", ["run"],
     "1:13: 'W' would be 100000 x 100000 (10,000,000,000 numbers)"),
    ("h[t] = tanh(W h[t-1] + U x[t])\ndim h = 900, x = 900\n", ["run", "--steps", "100000"],
     "1:1: 100,000 steps of these sizes would keep 180,001,800 numbers"),
    ("h[t] = " + "tanh(" * 488 + "x[t]" + ")" * 488 + "\n", ["run"], "1:332: brackets nest more than 64 deep"),
], ids=["call-of-an-input", "R^0", "dim-1e308", "dim-1e8", "W-1e10", "history", "nested-488"])
def test_errors_with_a_position(tmp_path, capsys, text, command, expected):
    rc, err = _cli(tmp_path, capsys, text, *command)
    assert rc == 1
    assert f"in.rnn:{expected}" in err


def test_a_size_of_R_is_one_number(tmp_path, capsys):
    rc, _ = _cli(tmp_path, capsys, "h[t] = tanh(W h[t-1] + x[t])\nh[t] in R\nx = [1, 2]\n", "run")
    assert rc == 0


def test_a_matrix_literal_in_an_equation(tmp_path, capsys):
    """[[1, 2], [3, 4]] is the constant vector [1, 2, 3, 4]; it is not spread over time."""
    import numpy as np

    from rnnviz import forward, load_model

    text = "h[t] = [[1, 2], [3, 4]] R x[t]\ndim x = 3, h = 4\n"
    rc, _ = _cli(tmp_path, capsys, text, "run", "--steps", "5")
    assert rc == 0
    trace = forward(load_model(text), steps=5)
    for t in (1, 3, 5):
        np.testing.assert_allclose(trace.value("h", t), np.array([1, 2, 3, 4]) * (trace.params["R"] @ trace.value("x", t)))


def test_a_constant_vector_times_a_scalar_in_grad(tmp_path, capsys):
    """d sum(h[2]) / dU = (1 + 2) x_2 and d sum(h[2]) / dx_2 = (1 + 2) U (was an unbroadcast error)."""
    rc, _ = _cli(tmp_path, capsys, "h[t] = [1, 2] U x[t]\nU = 0.5, x = [1, 2, 3]\n", "grad", "--of", "h[2]")
    assert rc == 0
    from rnnviz import forward, gradients, load_model

    model = load_model("h[t] = [1, 2] U x[t]\nU = 0.5, x = [1, 2, 3]\n")
    g = gradients(model, forward(model), "h[2]")
    assert float(g.params["U"]) == pytest.approx(6.0)


def test_an_overflowing_gradient_norm_is_drawn(tmp_path, capsys):
    """The norm of a gradient of 1e180 overflows when squared; the edges are still drawn."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot not installed")
    rc, _ = _cli(tmp_path, capsys, "h[t] = W h[t-1] + U x[t]\nW = 1e60, x = [1, 1, 1, 1]\n",
                 "draw", "--grad", "h[4]", "--view", "unrolled", "--format", "dot", "-o", str(tmp_path / "g.dot"))
    assert rc == 0


def test_grad_norms_without_overflow_warnings(tmp_path, capsys, recwarn):
    rc, err = _cli(tmp_path, capsys, "h[t] = W h[t-1] + U x[t]\nW = 1e60, x = [1, 1, 1, 1]\n",
                   "plot", "--grad-norms", "--of", "h[4]", "-o", str(tmp_path / "n.svg"))
    assert rc == 0
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# -- item 7: bounded work ---------------------------------------------------------------------------

def test_a_formula_too_large_names_the_limit_and_depth(capsys):
    from tests.conftest import EXAMPLES

    rc = main(["formula", str(EXAMPLES / "lstm.rnn"), "--of", "h[12]"])
    err = capsys.readouterr().err
    assert rc == 2  # --of asks for too much: a usage error, like a formula too deep
    assert "h[12] written out would be about" in err and "more than the 1,000,000 rnnviz writes" in err
    assert "--depth K" in err
    assert main(["formula", str(EXAMPLES / "lstm.rnn"), "--of", "h[12]", "--depth", "1"]) == 0


def test_a_formula_of_fifty_variables(tmp_path, capsys):
    lines = ["h1[t] = tanh(W1 h1[t-1] + U1 x[t])"] + [
        f"h{k}[t] = tanh(W{k} h{k}[t-1] + U{k} h{k - 1}[t])" for k in range(2, 51)]
    rc, err = _cli(tmp_path, capsys, "\n".join(lines) + "\n", "formula", "--of", "h50[8]")
    assert rc == 2 and "written out would be about" in err


@pytest.mark.parametrize("target", ["h[500]", "h[2000]"])
def test_a_formula_too_deep_from_the_library(target):
    """Was a RecursionError from unrolled_formula(model, "h[500]")."""
    from rnnviz.errors import RnnvizError
    from rnnviz.formulas.unrolled import unrolled_formula
    from rnnviz.language import load_model

    model = load_model("h[t] = tanh(W h[t-1] + U x[t])\n")
    with pytest.raises(RnnvizError) as info:
        unrolled_formula(model, target)
    assert info.value.span is not None and "--depth" in info.value.hint


def test_too_many_columns(rnn, tmp_path, capsys):
    rc = main(["draw", str(rnn), "--view", "unrolled", "--unroll", "100000", "--max-columns", "100000",
               "--format", "dot", "-o", str(tmp_path / "u.dot")])
    assert rc == 2  # a usage error of --max-columns
    assert "error: at most 2000 columns can be drawn (--max-columns), got 100000" in capsys.readouterr().err
    assert not (tmp_path / "u.dot").exists()


@needs_dot
def test_graphviz_has_a_time_limit(rnn, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNVIZ_GRAPHVIZ_TIMEOUT", "0.01")
    rc = main(["draw", str(rnn), "--view", "unrolled", "--unroll", "400", "--max-columns", "400",
               "-o", str(tmp_path / "u.svg")])
    err = capsys.readouterr().err
    assert rc == 1
    assert "Graphviz did not finish drawing this diagram within 0.01 seconds" in err
    assert "RNNVIZ_GRAPHVIZ_TIMEOUT" in err
    assert not (tmp_path / "u.svg").exists()


# -- item 9: a PNG that Graphviz scaled down records the resolution it has ---------------------------

@needs_dot
@pytest.mark.slow
def test_a_scaled_down_png_records_its_real_resolution(rnn, tmp_path):
    """Graphviz caps a bitmap at 32767 pixels; the file says the dpi it has, not the one asked."""
    from PIL import Image

    def inches(dpi: int) -> tuple[int, float, float]:
        out = tmp_path / f"wide{dpi}.png"
        assert main(["draw", str(rnn), "--view", "unrolled", "--unroll", "100", "--max-columns", "100",
                     "--dpi", str(dpi), "-o", str(out)]) == 0
        with Image.open(out) as im:
            return im.size[0], im.info["dpi"][0], im.size[0] / im.info["dpi"][0]

    width, dpi, wide = inches(600)  # too wide at 600 dpi: scaled down to fit
    _, small_dpi, wide_small = inches(20)  # fits: drawn at the dpi asked
    assert width <= 32767 and dpi < 590
    assert small_dpi == pytest.approx(20, abs=0.1)
    assert wide == pytest.approx(wide_small, rel=0.03)  # the same drawing, the same size in inches


# -- item 9: nothing silent -------------------------------------------------------------------------

def test_inputs_of_different_lengths_are_not_cut_unsaid(tmp_path, capsys):
    text = "h[t] = tanh(W h[t-1] + U x[t] + V z[t])\nx = [1, 2, 3]\nz = [1, 2]\n"
    rc, err = _cli(tmp_path, capsys, text, "run")
    assert rc == 1
    assert "in.rnn:3:1: the inputs have different lengths: 'x' has 3 steps but 'z' has 2 steps" in err
    assert "--steps 2" in err
    rc, _ = _cli(tmp_path, capsys, text, "run", "--steps", "2")  # asked for: the first two steps
    assert rc == 0


@pytest.mark.parametrize("value, words", [
    ("1e400", "relu'(0) takes a finite number, not inf"),
    ("-1e400", "relu'(0) takes a finite number, not -inf"),
])
def test_relu_derivative_must_be_finite(tmp_path, capsys, value, words):
    rc, err = _cli(tmp_path, capsys, f"h[t] = relu(W h[t-1] + U x[t])\nrelu'(0) = {value}\n", "run")
    assert rc == 1 and f"in.rnn:2:12: {words}" in err


@pytest.mark.parametrize("line, column, word", [
    ("W = [[1, nan], [0, 1]]", 5, "nan"), ("x = [1, 2, Inf]", 5, "Inf"), ("W = -nan", 5, "nan")])
def test_nan_inside_a_list_is_named(tmp_path, capsys, line, column, word):
    """Was 'this equation has no time index on its left side'."""
    rc, err = _cli(tmp_path, capsys, f"h[t] = tanh(W h[t-1] + U x[t])\n{line}\n", "run")
    assert rc == 1
    assert f"in.rnn:2:{column}: '{word}' is not a number rnnviz can compute with" in err


@needs_dot
@pytest.mark.parametrize("title", ["A\\GB", "\\N \\L \\E", "back\\\\slash"])
def test_backslashes_in_a_title_stay_as_written(rnn, tmp_path, title):
    """Graphviz expands \\G (the graph's name), \\N, \\L... in labels; a title shows them as typed."""
    out = tmp_path / "t.svg"
    assert main(["draw", str(rnn), "--view", "folded", "--title", title, "-o", str(out)]) == 0
    svg = out.read_text()
    assert f">{title}</text>" in svg
    assert "rnnvizB" not in svg


# -- found by the long fuzz run ----------------------------------------------------------------------

def test_component_zero_of_a_scalar_is_the_scalar(tmp_path, capsys):
    """grad --of 'h[1][0]' on a model of numbers was an IndexError."""
    path = tmp_path / "s.rnn"
    path.write_text("h_t = tanh(w h_{t-1} + x_t)\nw = 0.5, h_0 = 0, x = [1, 1, 1]\n")
    assert main(["grad", str(path), "--of", "h[1][0]"]) == 0
    with_component = capsys.readouterr().out
    assert main(["grad", str(path), "--of", "h[1]"]) == 0
    whole = capsys.readouterr().out
    assert "x[1] = 0.419974" in whole
    assert with_component.replace("h[1][0]", "h[1]") == whole
    assert main(["grad", str(path), "--of", "h[1][1]"]) == 1
    assert "h has 1 entry (components 0..0)" in capsys.readouterr().err
