"""The folded view reads like the book's circuit diagrams (Deep Learning, Fig. 10.2-10.5).

Measured on every example's rendered SVG, so the tests hold whatever the DOT
looks like: each delay square sits right beside the variable it delays, each
parameter label is nearer its own edge than any other, and no label covers
another edge (where a label box once cut a white notch in it).
"""

from __future__ import annotations

import math
import shutil

import pytest

from rnnviz.diagrams.diagram import draw
from rnnviz.language import load_model
from tests import svg_geometry as geo
from tests.conftest import example_paths
from tests.diagrams.measures import _bezier

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

#: The largest gap, in points, between a delay square and the variable it delays (the book
#: draws the square on a loop about as long as the node is wide; 379 points at first).
SQUARE_GAP = 56.0


def _folded(path) -> str:
    return draw(load_model(path.read_text(encoding="utf-8"), path.name), "folded").svg()


def _gap(a: geo.Box, b: geo.Box) -> float:
    """The distance between two boxes (0 when they touch)."""
    dx = max(a[0] - b[2], b[0] - a[2], 0.0)
    dy = max(a[1] - b[3], b[1] - a[3], 0.0)
    return math.hypot(dx, dy)


def _lines(edge: geo.Edge) -> list[list[tuple[float, float]]]:
    return [_bezier(points, 48) for points in edge.paths if len(points) >= 2]


def _box_to_line(box: geo.Box, line: list[tuple[float, float]]) -> float:
    """The distance from a box to a polyline sampled finely (0 when the line enters the box)."""
    return min(_gap(box, (x, y, x, y)) for x, y in line)


def _crosses(box: geo.Box, line: list[tuple[float, float]], inset: float = 1.0) -> bool:
    """Whether the polyline passes through the box shrunk by ``inset`` points."""
    x0, y0, x1, y1 = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    for (ax, ay), (bx, by) in zip(line, line[1:]):
        for k in range(9):
            t = k / 8
            x, y = ax + t * (bx - ax), ay + t * (by - ay)
            if x0 <= x <= x1 and y0 <= y <= y1:
                return True
    return False


def square_gaps(svg: str) -> dict[str, float]:
    """Delay square -> its gap to the variable it delays (the one on its "read later" wire)."""
    pic = geo.parse(svg)
    out = {}
    for e in geo.edges(svg):
        if e.tooltip.endswith((" step later", " steps later")):
            a, b = (end.split(":")[0] for end in e.title.split("->"))
            square, var = (a, b) if a.startswith("delay_") else (b, a)
            out[square] = _gap(pic.nodes[square], pic.nodes[var])
    return out


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_delay_square_sits_beside_its_variable(path):
    """Every delay square is within SQUARE_GAP points of the variable it delays, on a short loop."""
    svg = _folded(path)
    gaps = square_gaps(svg)
    assert gaps, "the folded view has delay squares"
    squares = {n for n in geo.parse(svg).nodes if n.startswith("delay_")}
    assert set(gaps) == squares, "every square is wired to the variable it delays"
    far = {q: round(g) for q, g in gaps.items() if g > SQUARE_GAP}
    assert not far, f"squares far from their variables (points): {far}"


def misplaced_labels(edges: list[geo.Edge]) -> list[str]:
    """Labels nearer another edge's path than their own."""
    edges = [e for e in edges if e.paths]
    wrong = []
    for e in edges:
        if e.label is None:
            continue
        own = min(_box_to_line(e.label, line) for line in _lines(e))
        for other in edges:
            if other is not e:
                d = min(_box_to_line(e.label, line) for line in _lines(other))
                if d < own:
                    wrong.append(f"{e.title} ({e.tooltip}): {own:.1f} pt from its edge, {d:.1f} from {other.title}")
    return wrong


def covering_labels(edges: list[geo.Edge]) -> list[str]:
    """Labels whose box another edge's path passes through."""
    edges = [e for e in edges if e.paths]
    return [f"{e.title} covers {other.title}" for e in edges if e.label is not None
            for other in edges if other is not e and any(_crosses(e.label, line) for line in _lines(other))]


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_every_label_is_nearest_its_own_edge(path):
    """A parameter label is nearer its own edge than any other edge, so it is read with it."""
    edges = geo.edges(_folded(path))
    assert any(e.label is not None for e in edges), "the folded view labels its edges"
    wrong = misplaced_labels(edges)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_no_label_covers_another_edge(path):
    """No label box lies on another edge's path (nor has a background that would notch one)."""
    svg = _folded(path)
    assert not geo.parse(svg).labels, "folded labels have no background box"
    covered = covering_labels(geo.edges(svg))
    assert not covered, "\n".join(covered)


def test_a_label_on_the_wrong_edge_is_caught():
    """The measures are not vacuous: a label beside one edge is fine; moved onto another, both report it."""
    up = [(0.0, 0.0), (0.0, 30.0), (0.0, 60.0), (0.0, 90.0)]  # two vertical edges 72 points apart
    beside = geo.Edge("a->b", [up], (4.0, 40.0, 16.0, 50.0))
    other = geo.Edge("c->d", [[(72.0 + x, y) for x, y in up]], None)
    assert misplaced_labels([beside, other]) == [] and covering_labels([beside, other]) == []
    moved = geo.Edge("a->b", [up], (66.0, 40.0, 78.0, 50.0))
    assert len(misplaced_labels([moved, other])) == 1 and covering_labels([moved, other]) == ["a->b covers c->d"]


#: Edge crossings of the folded gated cells (2 each for the LSTM and the GRU once the squares sat
#: beside their variables: o's wire into h over c-tilde's into c, h[t-1]'s read by z over the loop).
@pytest.mark.parametrize("stem, most", [("lstm", 0), ("gru", 0), ("lstm_stack", 0), ("seq2seq_gru", 1)])
def test_folded_gated_cells_cross_little(stem, most):
    """The folded LSTM, GRU and stacked LSTM are drawn without a crossing, the GRU encoder-decoder
    with one (7 at first): a wire rising past a rank goes up the side away from the squares, and
    the GRU's h[t-1] reaches its gates through one junction, with x, as the LSTM's does."""
    from tests.diagrams.measures import crossing_list

    path = next(p for p in example_paths() if p.stem == stem)
    found = crossing_list(_folded(path))
    assert len(found) <= most, "\n".join(f"{c.first} x {c.second}" for c in found)


def test_a_variable_read_by_itself_and_its_gates_has_one_square():
    """The GRU's h[t-1] feeds h itself (on the loop) and the gates (through the junction): one square
    does both, as the book draws one square per delayed variable."""
    path = next(p for p in example_paths() if p.stem == "gru")
    svg = _folded(path)
    squares = [n for n in geo.parse(svg).nodes if n.startswith("delay_")]
    assert squares == ["delay_1"], squares
    wired = {tuple(end.split(":")[0] for end in e.title.split("->")) for e in geo.edges(svg)}
    assert ("junction", "delay_1") in wired and ("h", "delay_1") in wired, sorted(wired)
