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


# -- the same stack unrolled by operation (cell-unrolled) ----------------------------------

LAYERS, STEPS, GATES = (1, 2, 3), (1, 2, 3), ("f", "i", "g", "o")


@pytest.fixture(scope="module")
def stack_cells() -> geo.Picture:
    path = EXAMPLES / "lstm_stack.rnn"
    return geo.parse(draw(load_model(path.read_text(encoding="utf-8"), path.name), "cell-unrolled", 3).svg())


def _step_span(pic: geo.Picture, layer: int, t: int) -> tuple[float, float]:
    """Left and right end of the boxes of a layer's four gate sums at step t."""
    boxes = [pic.nodes[f"{g}_{layer}.1@{t}"] for g in GATES]
    return min(b[0] for b in boxes), max(b[2] for b in boxes)


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layers_h_rises_straight_in_its_own_steps_column(stack_cells, layer):
    """Every h_l(t) of the stacked LSTM's cell-unrolled view stands straight over the product that
    computes it (o ⊙ tanh c) and within the width of its own step's gates (at first h_1(3) stood
    434 points right of its product, under step 3's gates of the layer above, by a long wire)."""
    pic = stack_cells
    for t in STEPS:
        h, product = _centre(pic.nodes[f"h_{layer}@{t}"]), _centre(pic.nodes[f"h_{layer}.0@{t}"])
        assert abs(h[0] - product[0]) <= 6.0, (layer, t, h, product)
        left, right = _step_span(pic, layer, t)
        assert left <= h[0] <= right, (layer, t, h[0], (left, right))


@pytest.mark.parametrize("layer", LAYERS)
def test_each_steps_cell_state_line_runs_over_its_own_gates(stack_cells, layer):
    """The cell-state line of each layer is straight (one row, left to right) and each step's part
    of it (f ⊙ c, the sum, c(t)) lies over that step's gates: the forget gate's product straight
    over the forget gate, c(t) before the next step's gates begin (at first the line was pulled
    so tight that step 3's c stood left of its own gates)."""
    pic = stack_cells
    line = [f"c_{layer}@0"] + [f"c_{layer}{part}@{t}" for t in STEPS for part in (".1", ".0", "")]
    xs = [_centre(pic.nodes[n])[0] for n in line]
    ys = [_centre(pic.nodes[n])[1] for n in line]
    assert xs == sorted(xs) and max(ys) - min(ys) < 1.0, list(zip(line, xs, ys))
    for t in STEPS:
        left, right = _step_span(pic, layer, t)
        forget, product = _centre(pic.nodes[f"f_{layer}@{t}"]), _centre(pic.nodes[f"c_{layer}.1@{t}"])
        assert abs(forget[0] - product[0]) <= 6.0, (layer, t, forget, product)
        for part in (".1", ".0"):
            x = _centre(pic.nodes[f"c_{layer}{part}@{t}"])[0]
            assert left <= x <= right, (layer, t, part, x, (left, right))
        if t + 1 in STEPS:
            x, following = _centre(pic.nodes[f"c_{layer}@{t}"])[0], _step_span(pic, layer, t + 1)[0]
            assert left <= x <= following, (layer, t, x, (left, following))
