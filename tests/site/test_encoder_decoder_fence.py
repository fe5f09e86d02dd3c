"""The fence on an encoder-decoder: the math as the book writes it, both phases' tables and plots."""

from __future__ import annotations

import pytest

from rnnviz import load
from rnnviz.site import blocks
from rnnviz.site.htmlblocks import latex_equations
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def model():
    return load(str(EXAMPLES / "encoder_decoder.rnn"))


def test_the_context_is_written_without_a_time(model):
    lines = latex_equations(model)
    assert lines[1] == "c &= h^{(T)}"
    assert lines[2] == r"s_{0} &= \tanh\left(D \, c\right)"
    assert lines[3].endswith(r"C \, c\right)")


def test_the_table_shows_the_encoder_the_context_and_the_decoder(model):
    html = blocks.render(model, {"show": "table", "precision": 6})
    assert html.index("encoder, t = 1..T (T = 2)") < html.index("-0.550573") < html.index("decoder, t = 1..T")
    assert "<td>-0.500949</td>" in html and "<td>-0.456025</td>" in html


def test_the_plot_shows_both_phases(model):
    """show=plot: the encoder's panels and the decoder's, each over its own steps."""
    html = blocks.render(model, {"show": "plot"})
    assert "rnnviz-plot" in html and "rnnviz-error" not in html  # its panels: tests/diagrams/test_plot.py


def test_gradient_norms_are_a_table_per_phase(model):
    """show=gradnorms: the encoder's table over t = 0..T, the decoder's over t = 0..T', each norm the one
    `rnnviz grad` backpropagates (checked here against central differences of o_3 in each state)."""
    import re

    import numpy as np

    from rnnviz.numeric.forward_pass import forward

    html = blocks.render(model, {"show": "gradnorms", "grad": "o[3]", "precision": 6})
    enc, dec = html.split("</table>")[:2]
    assert r"\text{encoder: } t = 0, \ldots, T = 2" in enc and r"\partial h^{(t)}" in enc
    assert r"\text{decoder: } t = 0, \ldots, T' = 3" in dec and r"\partial s^{(t)}" in dec
    rows = lambda part: [float(v) for v in re.findall(r"<td>([^<]+)</td>", part)]  # noqa: E731
    assert len(rows(enc)) == 3 and len(rows(dec)) == 4
    assert "spectral radius 0.5" in html and html.count("rnnviz-plot") == 1
    # The decoder's last column: d o_3 / d s_3 = E = 2; the encoder's: through the context and the start.
    assert rows(dec)[3] == pytest.approx(2.0)
    tr = forward(model)
    eps = 1e-6

    def o3(**values) -> float:
        return float(forward(model, values=values).value("o", 3))

    h2 = float(tr.value("h", 2))
    # h_2, the encoder's last state, moves o_3 through the context c = h_T and the start s_0 = tanh(D c):
    # d o_3/d x_2 = d o_3/d h_2 (1 - h_2^2) U, with U = 1.
    fd = (o3(x=np.array([1.0, -1.0 + eps])) - o3(x=np.array([1.0, -1.0 - eps]))) / (2 * eps)
    assert abs(fd) / (1 - h2 ** 2) == pytest.approx(rows(enc)[2], rel=1e-6)


def test_gradient_norms_need_a_target(model):
    with pytest.raises(blocks.BlockOptionError, match="needs grad=TARGET"):
        blocks.render(model, {"show": "gradnorms"})


def test_every_view_with_values_takes_the_files_steps(model):
    """Without unroll=, a diagram with values or a gradient runs over the file's sequences, as
    `rnnviz draw --values` does: the encoder's 2 steps and the decoder's 3 (never a default of 3
    encoder steps that x = [1, -1] cannot give)."""
    for view in ("folded", "unrolled", "cell", "cell-unrolled"):
        for extra in ({"values": True}, {"grad": "o[3]"}):
            html = blocks.render(model, {"view": view, **extra})
            assert "<svg" in html and "rnnviz-error" not in html, (view, extra)
    from rnnviz.numeric.forward_pass import forward

    o3 = float(forward(model).value("o", 3))
    unrolled = blocks.render(model, {"view": "unrolled", "values": True, "precision": 6})
    assert f"{o3:.6g}".replace("-", "\u2212") in unrolled  # the decoder's third step, with its value
