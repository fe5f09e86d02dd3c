"""Turned a quarter (time running down), the level edge x -> h has room for its label.

The vanishing-gradient page draws the tanh RNN this way; its ``u`` sat squeezed
between x and h (62 points between their boxes at first, the label 30 from x and 20 from the
arrowhead's h). Turned columns now stand close (54 points apart, for phones), and the label sits
in the middle: 22 points from x, 20 from h, each more than its width. Measured on the rendered SVG.
"""

from __future__ import annotations

import shutil

import pytest

from rnnviz.diagrams.diagram import draw
from rnnviz.language import load_model
from tests import svg_geometry as geo

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

VANILLA_1D = """h_t = \\tanh(w h_{t-1} + u x_t)
w = 0.9, u = 1, h_0 = 0
x = [1, 0.5, -0.5, 1, 0.5, -0.5, 1, 0.5, -0.5, 1]
"""


def test_the_input_label_has_room_between_x_and_h():
    pic = geo.parse(draw(load_model(VANILLA_1D, "vanilla_1d.rnn"), "unrolled", 10, grad_target="h[10]", orient="vertical").svg())
    for t in (1, 3, 10):  # the steps drawn (the middle ones are left out)
        x, h = pic.nodes[f"x@{t}"], pic.nodes[f"h@{t}"]
        (box,) = [b for title, b in pic.labels if title == f"x@{t}->h@{t}"]
        width = box[2] - box[0]
        assert h[0] - x[2] >= 50, f"t = {t}: only {h[0] - x[2]:.0f} pt between x and h"
        assert box[0] - x[2] >= 1.5 * width and h[0] - box[2] >= width, \
            f"t = {t}: u squeezed ({box[0] - x[2]:.0f} pt from x, {h[0] - box[2]:.0f} pt from h)"
