"""In the gated models unrolled by variable, every parameter label stands clear by its arrowhead.

Measured on the rendered SVG: no edge label's box overlaps another label, a
node's shape, or the path of another edge. The stacked LSTM's labels
(W_xc1 / W_hc1 ...) lay on the neighbouring gates before the gate slots left
room for them (18 of 39 on a node).
"""

from __future__ import annotations

import shutil

import pytest

from rnnviz.diagrams.diagram import draw
from rnnviz.language import load_model
from tests import svg_geometry as geo
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


@pytest.mark.parametrize("name", ["lstm", "lstm_goodfellow", "gru", "lstm_stack"])
def test_head_labels_clear_of_labels_nodes_and_other_edges(name):
    path = EXAMPLES / f"{name}.rnn"
    pic = geo.parse(draw(load_model(path.read_text(encoding="utf-8"), path.name), "unrolled", 3).svg())
    assert len(pic.labels) >= 9, "the parameters are drawn as edge labels"
    problems = ([("label on label", a, b) for a, b in geo.label_clashes(pic)]
                + [("label on node", a, b) for a, b in geo.labels_on_nodes(pic)]
                + [("label on edge", a, b) for a, b in geo.labels_on_paths(pic)])
    assert not problems, f"{name}: {len(problems)} of {len(pic.labels)} labels clash: {problems[:6]}"


def test_labels_on_paths_sees_an_edge_through_a_label():
    """The measure itself: a label that an unrelated edge runs through is reported, its own edge is not."""
    svg = geo.render_svg('digraph { layout=neato; node [shape=box, width=0.3, height=0.3];'
                         'a [pos="0,0!"]; b [pos="0,3!"]; c [pos="-1.5,1.5!"]; d [pos="1.5,1.5!"];'
                         'a -> b [label=<<TABLE BORDER="0" STYLE="rounded" BGCOLOR="#ffffff"><TR><TD>W</TD></TR></TABLE>>];'
                         'c -> d; }')
    pic = geo.parse(svg)
    assert pic.labels, "the label's pale box is read"
    assert geo.labels_on_paths(pic) == [("a->b", "c->d")]
