"""Tests of rnnviz.diagrams.dot: golden DOT files, layout conventions, escaping and annotations.

Set RNNVIZ_REGEN_GOLDEN=1 to rewrite the golden files after an intended change
(then look at the diff and at the pictures before committing them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rnnviz.diagrams.diagram import draw
from rnnviz.diagrams.dot import format_number, format_value, to_dot
from rnnviz.diagrams.graph import Edge, Graph, Node
from rnnviz.language import load_model
from rnnviz.language.syntax import Name
from tests.conftest import EXAMPLES, example_paths, one_phase_example_paths

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("RNNVIZ_REGEN_GOLDEN") == "1"
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz dot not installed")


def _model(path: Path):
    return load_model(path.read_text(encoding="utf-8"), path.name)


@pytest.mark.parametrize("view", ["folded", "unrolled"])
@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_golden_dot(path, view):
    """The DOT text of every example and view equals its golden file."""
    text = draw(_model(path), view, 3).dot()
    golden = GOLDEN / f"{path.stem}.{view}.dot"
    if REGEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with RNNVIZ_REGEN_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_dot_is_deterministic(path):
    """Two runs, even from two separately loaded models, give byte-identical DOT."""
    for view in ("folded", "unrolled"):
        assert draw(_model(path), view, 4).dot() == draw(_model(path), view, 4).dot()


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_node_ids_are_quoted_and_never_ports(path):
    """Every node statement uses a quoted id without ':' (DOT would read a port)."""
    text = draw(_model(path), "unrolled", 3).dot()
    ids = re.findall(r'^  "([^"]+)" \[', text, re.M)
    assert ids and not any(":" in i for i in ids)


def test_folded_delays_go_through_black_squares():
    """Each delayed read of the folded view passes through its own small square; k > 1 is written on it."""
    model = load_model("h[t] = tanh(V h[t-1] + W h[t-2] + U x[t])")
    text = draw(model, "folded").dot()
    squares = re.findall(r'^  "(delay_\d+)" \[([^\n]*)\];$', text, re.M)
    assert len(squares) == 2
    labels = sorted(re.search(r'label="([^"]*)"', attrs).group(1) for _, attrs in squares)
    assert labels == ["", "2"]
    assert all('shape="square"' in attrs for _, attrs in squares)


@needs_dot
@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_folded_puts_inputs_below_outputs(path):
    """In the laid-out folded view every input is below every output (Goodfellow's orientation)."""
    model = _model(path)
    pos = _layout(draw(model, "folded").dot())
    outputs = [n for n in model.variables if model.role(n) == "output"]
    from rnnviz.diagrams.graph import targets_of

    for i in set(model.inputs) - targets_of(model):  # a target sits beside its loss (Fig. 10.3)
        for o in outputs:
            assert pos[i][1] < pos[o][1]


@needs_dot
@pytest.mark.parametrize("path", one_phase_example_paths(), ids=lambda p: p.stem)
def test_unrolled_columns_look_alike(path):
    """Unrolled: time runs left to right and column t+1 is column t shifted by one fixed step."""
    model = _model(path)
    pos = _layout(draw(model, "unrolled", 4).dot())
    names = list(model.inputs) + list(model.variables)
    shifts = set()
    for name in names:
        xs = [pos[f"{name}@{t}"] for t in range(1, 5)]
        assert all(a[0] < b[0] for a, b in zip(xs, xs[1:]))
        assert len({round(p[1], 2) for p in xs}) == 1  # same row at every step
        shifts |= {round(b[0] - a[0], 2) for a, b in zip(xs, xs[1:])}
    assert len(shifts) == 1
    lowest = min(pos[f"{i}@1"][1] for i in model.inputs)
    assert all(pos[f"{o}@1"][1] > lowest for o in model.variables if model.role(o) == "output")


def _layout(dot_text: str) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y) in inches, as Graphviz lays it out (y grows upwards)."""
    out = subprocess.run([DOT, "-Tplain"], input=dot_text, capture_output=True, text=True, check=True).stdout
    pos = {}
    for line in out.splitlines():
        if line.startswith("node "):
            parts = _plain_split(line)
            pos[parts[1]] = (float(parts[2]), float(parts[3]))
    return pos


def _plain_split(line: str) -> list[str]:
    return [p.strip('"') for p in re.findall(r'"[^"]*"|\S+', line)]


EVIL = ['<script>alert(1)</script>', '"];evil[label="x', "a & b", "{ }", "</TD></TR>", "\\N\\G"]


@needs_dot
@pytest.mark.parametrize("evil", EVIL)
def test_names_and_titles_cannot_inject_markup(evil):
    """A node name, a parameter and a title holding markup characters are drawn literally."""
    g = Graph("folded", 0, (Node(evil, evil, None, "input", Name(evil)), Node("h", "h", None, "output", Name("h"))),
              (Edge(evil, "h", evil, 0),))
    text = to_dot(g, displays={evil: Name(evil)}, title=evil)
    proc = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "<script" not in proc.stdout and "evil[" not in proc.stdout.replace("&quot;];evil[", "")
    assert "<text" in proc.stdout


@pytest.mark.parametrize("x, precision, text", [(0.123456, 3, "0.123"), (6.0, 3, "6"), (-0.5, 3, "\u22120.5"),
                                                (123456.0, 3, "1.23e+05"), (0.98765, 2, "0.99"), (0.0, 3, "0")])
def test_numbers_use_significant_digits(x, precision, text):
    """Numbers show `precision` significant digits with a typographic minus."""
    assert format_number(x, precision) == text


def test_values_short_vector_shows_entries_long_vector_shows_strip():
    """Two entries sit on a line; a longer vector is a colour strip, its first two entries and its norm."""
    assert "[1, 2]" in format_value([1.0, 2.0])
    column = format_value([1.0, 2.0, 3.0])
    assert "BGCOLOR" in column
    texts = re.findall(r">([^<>]+)</FONT>", column)
    assert texts == ["1,", "2,", "‖3.74‖"], texts
    long = format_value([3.0, 4.0] + [0.0] * 10)
    assert long.count("BGCOLOR") == 12 and "‖5‖" in long and "[" not in long


def test_node_tooltip_reads_like_the_page():
    """A node's tooltip names the variable, its step and the whole value, not an internal id."""
    from rnnviz.diagrams.dot import value_text

    assert value_text([0.5, -1.25, 2.0, 3.0, 4.0]) == "[0.5, −1.25, 2, 3, 4]"
    text = draw(_model(EXAMPLES / "lstm.rnn"), "unrolled", 2, values=True).dot()
    tips = re.findall(r'tooltip="([^"]*)"', text)
    assert any(t.startswith("c̃ at t = 1: [") and t.count(",") == 3 for t in tips), tips
    assert not any("@" in t for t in tips), tips


@pytest.mark.parametrize("value", [0.5, [1.0, -2.0], [0.123, -4.56, 7.89], [1.0, 2.0, 3.0, 4.0], [0.1] * 20])
def test_value_extent_grows_with_what_is_shown(value):
    """The size estimate the layout uses is positive and a column vector is taller than one number."""
    from rnnviz.diagrams.dot import value_extent

    w, h = value_extent(value)
    assert w > 0 and h > 0
    n = len(value) if isinstance(value, list) else 1
    if 3 <= n <= 4:
        assert h > 2 * value_extent(0.5)[1]


def test_delayed_variable_has_one_square_fanning_out():
    """Folded: one black square per delayed variable (and delay), feeding every equation that reads it."""
    model = _model(EXAMPLES / "lstm_goodfellow.rnn")
    d = draw(model, "folded")
    delayed = {(e["source"], e["delay"]) for e in d.graph["edges"] if e["delay"] != 0}
    readers = [e for e in d.graph["edges"] if e["delay"] != 0]
    text = d.dot()
    squares = re.findall(r'^  "(delay_\d+)" \[', text, re.M)
    assert len(squares) == len(delayed) < len(readers)
    for q in squares:  # every square is on as many edges as the reads it stands for, plus one
        assert len(re.findall(rf'"{q}"', text)) >= 2


def test_zero_gradient_at_the_head_cuts_the_edge():
    """An edge into a node whose gradient is exactly zero is drawn as a cut path, whatever its source has."""
    model = load_model("h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]")
    grads = {("h", 1): 0.5, ("h", 2): 1.0, ("y", 1): 0.0, ("y", 2): 1.0, ("x", 1): 0.2, ("x", 2): 0.3, ("h", 0): 0.1}
    text = draw(model, "unrolled", 2, grads=grads).dot()
    into_y1 = next(l for l in text.splitlines() if l.startswith('  "h@1" -> "y@1"'))
    into_y2 = next(l for l in text.splitlines() if l.startswith('  "h@2" -> "y@2"'))
    assert "dashed" in into_y1 and "penwidth" not in into_y1
    assert "dashed" not in into_y2 and "penwidth" in into_y2


def test_values_appear_under_unrolled_nodes():
    """Given values are written in the label of their (name, step) node."""
    model = load_model("h[t] = relu(V h[t-1] + W x[t])")
    text = draw(model, "unrolled", 3, values={("h", 0): 0.0, ("h", 1): 6.0, ("h", 2): 0.0, ("h", 3): 3.0,
                                               ("x", 1): 2.5}).dot()
    line = next(l for l in text.splitlines() if l.startswith('  "h@1"'))
    assert ">6<" in line
    assert ">2.5<" in next(l for l in text.splitlines() if l.startswith('  "x@1"'))


def test_gradients_set_edge_width_by_magnitude_and_cut_zero_paths():
    """A larger gradient at an edge's source gives a wider edge; a zero gradient gives a dashed grey path."""
    model = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    grads = {("h", 0): 0.0, ("h", 1): 1e-4, ("h", 2): 1e-2, ("h", 3): 1.0,
             ("x", 1): 1e-4, ("x", 2): 1e-2, ("x", 3): 1.0}
    text = draw(model, "unrolled", 3, grads=grads).dot()

    def edge(a, b):
        return next(l for l in text.splitlines() if l.startswith(f'  "{a}" -> "{b}"'))

    def width(line):
        return float(re.search(r'penwidth="([\d.]+)"', line).group(1))

    assert width(edge("h@1", "h@2")) < width(edge("h@2", "h@3"))
    assert 'style="dashed"' in edge("h@0", "h@1")
    assert "dashed" in next(l for l in text.splitlines() if l.startswith('  "h@0"'))


def test_folded_view_shows_the_last_steps_numbers():
    """The folded view shows the values and gradients of the last step given, and says which step."""
    model = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    text = draw(model, "folded", values={("h", 1): 1.0, ("h", 2): 0.25}, grads={("h", 2): 2.0}).dot()
    assert "values at t = 2" in text and ">0.25</FONT>" in text and "∇ 2" in text and ">1</FONT>" not in text


def test_collapsed_view_draws_ellipsis_nodes_and_dashed_edges():
    """A long unroll draws a ⋯ node per row and dashed edges into and out of it."""
    text = draw(load_model((EXAMPLES / "vanilla.rnn").read_text()), "unrolled", 50).dot()
    assert text.count("⋯") == 3
    assert re.search(r'"h@3" -> "h@\.\.\." \[[^\]]*style="dashed"', text)


@pytest.mark.parametrize("steps, max_columns", [(10, 6), (50, 6), (12, 8), (7, 6)])
def test_ellipsis_column_names_the_steps_left_out_and_the_chain_runs_through(steps, max_columns):
    """A collapsed unroll says which steps it leaves out, and the recurrent chain enters and leaves the ⋯."""
    model = load_model("h[t] = tanh(w h[t-1] + u x[t])\ny[t] = v h[t]")
    d = draw(model, "unrolled", steps, max_columns=max_columns)
    first, last = d.graph["collapsed"]
    text = d.dot()
    caption = f"step {first}" if first == last else f"steps {first}–{last}"
    assert f'label="{caption}"' in text
    assert f'"h@{first - 1}" -> "h@..."' in text and f'"h@..." -> "h@{last + 1}"' in text
    assert f'"h@{steps}"' in text  # the last steps are drawn in full


@pytest.mark.parametrize("text, steps", [((EXAMPLES / "two_layer.rnn").read_text(), 30),
                                         ("h[t] = tanh(V h[t-1] + W h[t-2] + U x[t])\ny[t] = Q h[t]", 40)])
def test_large_grids_bend_straight_edges_round_nodes(text, steps):
    """On a grid too large for Graphviz's router, no straight edge segment passes through a node."""
    from rnnviz.diagrams.layout import distance as _distance

    dot_text = draw(load_model(text), "unrolled", steps, max_columns=steps).dot()
    assert 'splines="line"' in dot_text
    pos = {m.group(1): (float(m.group(2)), float(m.group(3)))
           for m in re.finditer(r'^  "([^"]+)" \[[^\n]*pos="([-\d.]+),([-\d.]+)!"', dot_text, re.M)}
    real = [n for n in pos if not n.startswith("bend_")]
    segments = re.findall(r'^  "([^"]+)" -> "([^"]+)"', dot_text, re.M)
    assert any(b.startswith("bend_") for _, b in segments)
    for a, b in segments:
        for n in real:
            if n not in (a, b):
                assert _distance(pos[n], pos[a], pos[b]) >= 0.45, (a, b, n)


def test_scalar_gradient_keeps_its_sign_and_zero_reads():
    """A scalar node shows its signed gradient (dh_3/dh_2 = -3 in exercise 2); zero is drawn dark enough to read."""
    from rnnviz import draw, forward, gradients, load

    model = load(str(EXAMPLES / "relu_1d.rnn"))
    trace = forward(model)
    text = draw(model, view="unrolled", values=trace, grads=gradients(model, trace, "h[3]")).dot()
    shown = re.findall(r'COLOR="(#[0-9a-f]{6})">∇ ([^<]+)<', text)
    assert ("−3" in [g for _, g in shown]) and ("3" in [g for _, g in shown])
    zero_colors = {c for c, g in shown if g == "0"}
    assert zero_colors and all(int(c[1:3], 16) < 128 for c in zero_colors)


@pytest.mark.parametrize("view", ["cell", "cell-unrolled"])
def test_cell_views_draw_values_and_gradients(view):
    """draw() with values or a gradient target in a cell view writes them, never an unchanged picture."""
    model = _model(EXAMPLES / "vanilla.rnn")
    plain = draw(model, view, 3).dot()
    for kw in ({"values": True}, {"grad_target": "y[3]"}):
        text = draw(model, view, 3, **kw).dot()
        assert text != plain and ("∇" in text) == ("grad_target" in kw)


def _node_line(dot: str, node: str) -> str:
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith(f'"{node}" ['))
    return line.split("label=")[0]


@pytest.mark.parametrize("stem, node, carried", [
    ("lstm", "h", True), ("gru", "h", True), ("relu_1d", "h", True),  # outputs that are the state
    ("two_layer", "y", False), ("vanilla", "y", False),  # outputs fed back, or not at all
])
@pytest.mark.parametrize("view", ["folded", "unrolled", "cell", "cell-unrolled"])
def test_an_output_that_is_the_state_is_drawn_as_a_state_with_the_output_mark(stem, node, carried, view):
    """The LSTM's h looks like the Elman h (state fill, state ring) with the output's double ring;
    an output that is not the recurrence's state keeps the output's colours."""
    from rnnviz.diagrams.style import PALETTE

    model = load_model((EXAMPLES / f"{stem}.rnn").read_text(encoding="utf-8"), f"{stem}.rnn")
    dot = draw(model, view, 3).dot()
    ident = node if view in ("folded", "cell") else f"{node}@2"
    attrs = _node_line(dot, ident)
    assert 'shape="doublecircle"' in attrs, attrs
    fill = PALETTE["state" if carried else "output"].fill
    assert f'fillcolor="{fill}"' in attrs, attrs
