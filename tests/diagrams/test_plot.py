"""Per-step plots and gradient-norm plots: formats, panels, typeset titles, safe writing."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest

from rnnviz import load_model
from rnnviz.cli import main
from rnnviz.diagrams.labels import name_of
from rnnviz.diagrams.plot import (
    MAX_LINES,
    figure_bytes,
    mathtext,
    plot_grad_norms,
    plot_steps,
    target_mathtext,
)
from rnnviz.numeric.forward_pass import forward

EX4 = r"""
f_t = \sigma(b^f + U^f x_t + W^f h_{t-1})
s_t = f_t s_{t-1} + \sigma(U x_t)
h_t = \text{ReLU}(s_t)
U^f = 0.25, W^f = 0.3, b^f = 0, U = 0.01, h_0 = 0, s_0 = 0
x = [0.7, 0.5, 0.7]
"""
VEC = "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = softmax(V h[t])\ndim x = 2, h = {h}, y = 3\n"

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}


@pytest.mark.parametrize("canonical,time,component,expected", [
    ("h_1", "t", None, "$h_{1}^{(t)}$"),
    ("c_tilde", "t", None, r"$\tilde{c}^{(t)}$"),
    ("U^g", None, None, "$U^{g}$"),
    ("theta_c", 2, None, r"$\theta_{c}^{(2)}$"),
    ("h", "t", 3, "$h_{3}^{(t)}$"),
])
def test_mathtext_titles(canonical, time, component, expected):
    """Names are typeset as mathtext: subscripts, accents, Greek, the step as (t)."""
    assert mathtext(name_of(canonical), time, component) == expected


def test_one_panel_per_variable_with_typeset_titles():
    """Each input and variable gets a panel titled like h^(t), with integer steps on x."""
    tr = forward(load_model(EX4))
    fig = plot_steps(tr)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in axes] == ["$x^{(t)}$", "$f^{(t)}$", "$s^{(t)}$", "$h^{(t)}$"]
    for ax in axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert all(float(t).is_integer() for t in ticks)
        assert ax.get_xlabel() == "$t$"


def test_vectors_are_lines_or_a_heat_map():
    """Up to MAX_LINES components are lines with a legend; more make a heat map."""
    small = plot_steps(forward(load_model(VEC.format(h=4)), steps=5), ["h"])
    assert len(small.axes[0].get_lines()) >= 4 and small.axes[0].get_legend() is not None
    big = plot_steps(forward(load_model(VEC.format(h=MAX_LINES + 4)), steps=5), ["h"])
    assert len(big.axes[0].images) == 1
    forced = plot_steps(forward(load_model(VEC.format(h=4)), steps=5), ["h"], style="heatmap")
    assert len(forced.axes[0].images) == 1


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_formats(fmt):
    """SVG, PNG and PDF come out with their magic bytes; SVG is well-formed XML."""
    data = figure_bytes(plot_steps(forward(load_model(EX4))), fmt)
    assert data.startswith(MAGIC[fmt])
    if fmt == "svg":
        ET.fromstring(data)


def test_cli_writes_next_to_the_input(tmp_path, capsys):
    """Without -o the plot lands next to FILE as STEM.steps.svg."""
    src = tmp_path / "ex4.rnn"
    src.write_text(EX4)
    assert main(["plot", str(src)]) == 0
    assert (tmp_path / "ex4.steps.svg").read_bytes().startswith(b"<?xml")
    assert "ex4.steps.svg" in capsys.readouterr().out


@pytest.mark.parametrize("name,fmt", [("a.png", "png"), ("a.pdf", "pdf"), ("a.svg", "svg")])
def test_cli_format_from_extension(tmp_path, name, fmt):
    """The extension of -o picks the format."""
    src = tmp_path / "ex4.rnn"
    src.write_text(EX4)
    out = tmp_path / name
    assert main(["plot", str(src), "-o", str(out), "--vars", "h", "s"]) == 0
    assert out.read_bytes().startswith(MAGIC[fmt])


@pytest.mark.parametrize("argv", [["--vars", "nope"], ["-o", "{out}.jpg"], ["--grad-norms"], ["--of", "h[3]"]])
def test_cli_usage_errors_leave_no_file(tmp_path, capsys, argv):
    """Unknown variables, formats or a missing --of exit 2 and write nothing."""
    src = tmp_path / "ex4.rnn"
    src.write_text(EX4)
    argv = [a.replace("{out}", str(tmp_path / "x")) for a in argv]
    assert main(["plot", str(src), *argv]) == 2
    assert sorted(os.listdir(tmp_path)) == ["ex4.rnn"]


def test_cli_bad_model_keeps_old_output(tmp_path, capsys):
    """A failing run leaves an existing output file untouched."""
    src = tmp_path / "bad.rnn"
    src.write_text("h[t] = tanh(W h[t-1] + U x[t])\nW = [[1, 2], [3]]\n")
    out = tmp_path / "old.svg"
    out.write_bytes(b"old")
    assert main(["plot", str(src), "-o", str(out)]) == 1
    assert out.read_bytes() == b"old"
    assert "different lengths" in capsys.readouterr().err


@pytest.mark.parametrize("target,expected", [("y[20]", "$y^{(20)}$"), ("h[3][0]", "$h_{1}^{(3)}$"),
                                             ("sum(h)", r"$\Sigma_t\,h^{(t)}$"), ("weird", "weird")])
def test_target_mathtext(target, expected):
    """Gradient targets are typeset; components are shown counted from 1."""
    assert target_mathtext(target) == expected


def test_grad_norm_plot_is_log_scale():
    """Gradient norms are drawn on a log axis; zeros are marked, not dropped silently."""
    fig = plot_grad_norms({"h": [0.0, 1e-4, 1e-2, 1.0]}, "h[3]")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()) == 2  # the line and the zero markers


def test_cli_grad_norms(tmp_path, capsys):
    """--grad-norms --of plots the norms and prints each recurrent matrix's spectrum."""
    pytest.importorskip("rnnviz.numeric.grad")
    src = tmp_path / "v.rnn"
    src.write_text("h[t] = tanh(W_hh h[t-1] + W_xh x[t])\ny[t] = W_hy h[t]\ndim x = 3, h = 5, y = 2\n")
    out = tmp_path / "flow.svg"
    assert main(["plot", str(src), "--grad-norms", "--of", "y[6]", "--steps", "6", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "W_hh: spectral radius" in text and "largest singular value" in text
    assert out.read_bytes().startswith(b"<?xml")


def _phased():
    from tests.conftest import EXAMPLES

    return forward(load_model((EXAMPLES / "encoder_decoder.rnn").read_text(encoding="utf-8")))


def test_an_encoder_decoder_plots_its_two_phases_side_by_side():
    """The encoder's panels over t = 1..T on the left, the decoder's over its own t = 1..T' on the
    right, each side titled with its phase; the points are the run's numbers (exercise 9)."""
    from rnnviz.diagrams.plot import plot_phases

    tr = _phased()
    fig = plot_phases(tr)
    left, right = fig.subfigs
    assert left._suptitle.get_text().startswith("encoder") and "T = 2" in left._suptitle.get_text()
    assert right._suptitle.get_text().startswith("decoder") and "T' = 3" in right._suptitle.get_text()
    titles = lambda sf: [ax.get_title(loc="left") for ax in sf.axes if ax.get_visible()]  # noqa: E731
    assert titles(left) == ["$x^{(t)}$", "$h^{(t)}$"] and titles(right) == ["$y^{(t)}$", "$s^{(t)}$", "$o^{(t)}$"]
    (s_line,) = [ax for ax in right.axes if ax.get_title(loc="left") == "$s^{(t)}$"][0].get_lines()[:1]
    assert list(s_line.get_xdata()) == [0, 1, 2, 3]
    assert [round(float(v), 6) for v in s_line.get_ydata()] == [-0.500949, -0.664622, 0.116584, -0.456025]
    only = plot_phases(tr, ["h", "o"])  # --vars of both phases: each on its own side
    assert [titles(sf) for sf in only.subfigs] == [["$h^{(t)}$"], ["$o^{(t)}$"]]


def test_an_encoder_decoder_plots_the_gradient_norms_of_each_phase(tmp_path, capsys):
    """plot --grad-norms: each phase's states over its own steps, the norms of backprop's gradients."""
    import numpy as np

    from rnnviz.numeric.grad import gradients

    from tests.conftest import EXAMPLES

    out = tmp_path / "flow.svg"
    assert main(["plot", str(EXAMPLES / "encoder_decoder.rnn"), "--grad-norms", "--of", "o[3]", "-o", str(out)]) == 0
    assert "W: spectral radius 0.5" in capsys.readouterr().out and out.read_bytes().startswith(b"<?xml")
    from rnnviz.numeric.grad import phased_state_grad_norms

    tr = _phased()
    norms = phased_state_grad_norms(tr.model, tr, "o[3]")
    g = gradients(tr.model, tr, "o[3]")
    assert len(norms["encoder"]["h"]) == 3 and len(norms["decoder"]["s"]) == 4
    assert norms["decoder"]["s"][3] == pytest.approx(float(np.abs(g.nodes[("s", 3)])))
    assert norms["encoder"]["h"][0] == pytest.approx(float(np.abs(g.nodes[("h", 0)])))
    assert main(["plot", str(EXAMPLES / "seq2seq_gru.rnn"), "--vars", "h", "s", "-o", str(tmp_path / "p.png")]) == 0
