"""The stacked LSTM unrolled by variable reads like the single LSTM, once per layer.

Measured on the rendered SVG: every layer of every step joins its two inputs
(h_{l-1}[t] and h_l[t-1]; x[t] and h_1[t-1] for layer 1) at a junction of its own,
which sits in that layer's band, under its gates; and the edges cross far less
than when only layer 1 had a junction (77 crossings over 3 steps at first).
"""

from __future__ import annotations

import re
import shutil

import pytest

from rnnviz.diagrams.diagram import draw
from rnnviz.language import load_model
from tests import svg_geometry as geo
from tests.conftest import EXAMPLES
from tests.diagrams import measures

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

#: Edge crossings of the 3-step stacked LSTM unrolled by variable (77 with one junction per step;
#: 12 while the gates stood too close for their labels, which then lay on the neighbouring gates;
#: their wider slots move each output gate out, and its wire into h crosses the c line once).
STACK_CROSSINGS = 15


@pytest.fixture(scope="module")
def stack_svg() -> str:
    path = EXAMPLES / "lstm_stack.rnn"
    return draw(load_model(path.read_text(encoding="utf-8"), path.name), "unrolled", 3).svg()


def _centre(box):
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def test_every_layer_joins_its_inputs_at_its_own_junction(stack_svg):
    """Each gate of layer l at step t is fed from one junction, the same for the layer's four
    gates and a different one per layer; the junction is under those gates and over h_{l-1}[t]."""
    pic = geo.parse(stack_svg)
    feeds: dict[str, set[str]] = {}
    for e in geo.edges(stack_svg):
        a, b = e.title.split("->")
        if a.startswith("junction_"):
            feeds.setdefault(a, set()).add(b)
    by_layer_step: dict[tuple[int, int], str] = {}
    for j, gates in feeds.items():
        found = {(int(m.group(2)), int(m.group(3))) for g in gates if (m := re.match(r"([ifog])_(\d)@(\d)$", g))}
        assert len(found) == 1, f"{j} feeds gates of several layers or steps: {sorted(gates)}"
        (layer, step), = found
        assert {g[0] for g in gates} == set("ifog"), (j, gates)
        by_layer_step[(layer, step)] = j
        jy = _centre(pic.nodes[j])[1]  # SVG: y grows downwards
        assert all(_centre(pic.nodes[g])[1] < jy for g in gates), f"{j} is not under its gates"
        source = "x" if layer == 1 else f"h_{layer - 1}"
        assert jy < _centre(pic.nodes[f"{source}@{step}"])[1], f"{j} is not over {source}@{step}"
    assert sorted(by_layer_step) == [(layer, t) for layer in (1, 2, 3) for t in (1, 2, 3)]


def test_stacked_lstm_crosses_little(stack_svg):
    """The 3-step stacked LSTM's edges cross at most STACK_CROSSINGS times."""
    found = measures.crossing_list(stack_svg)
    assert len(found) <= STACK_CROSSINGS, "\n".join(f"{c.first} x {c.second}" for c in found)
