"""Plots a teacher puts on a slide: each part sits where the reader looks for it."""

from __future__ import annotations

import rnnviz
from rnnviz.numeric.forward_pass import forward


def test_heat_map_colorbar_sits_beside_its_panel():
    """With a line panel above (its legend on the right), the colorbar still touches the heat map."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rnnviz.diagrams.plot import plot_steps

    model = rnnviz.load_model("h_t = tanh(W h_{t-1} + U x_t)\ndim x = 3, h = 12")
    fig = plot_steps(forward(model, steps=10))
    FigureCanvasAgg(fig).draw()
    heat = next(ax for ax in fig.axes if ax.images)
    bar = heat.images[0].colorbar.ax
    gap = bar.get_window_extent().x0 - heat.get_window_extent().x1
    assert 0 <= gap < 0.03 * fig.bbox.width
