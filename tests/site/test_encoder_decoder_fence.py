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


def test_a_table_of_gradient_norms_over_one_sequence_is_refused(model):
    with pytest.raises(blocks.BlockOptionError, match="an encoder-decoder runs two"):
        blocks.render(model, {"show": "gradnorms", "grad": "o[3]"})
