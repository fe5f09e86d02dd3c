"""The encoder-decoder's diagrams: Fig. 10.12's layout, the context between the two chains.

Unrolled: the encoder's columns, the context's column, then the decoder's, each phase's
columns alike, the two chains on one baseline, the context's edges fanning into the decoder.
Folded: the start enters its chain through a delay square. Numbers and gradients land on the
nodes of their own phase's steps.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from rnnviz.diagrams.diagram import draw
from rnnviz.language import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from tests.conftest import EXAMPLES

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz dot not installed")


def _model(stem: str):
    path = EXAMPLES / f"{stem}.rnn"
    return load_model(path.read_text(encoding="utf-8"), path.name)


def _layout(dot_text: str) -> dict[str, tuple[float, float, float, float]]:
    """Node id -> (x, y, width, height) in inches, as Graphviz lays the DOT out."""
    out = subprocess.run([DOT, "-Tplain"], input=dot_text, capture_output=True, text=True, check=True).stdout
    pos = {}
    for line in out.splitlines():
        if line.startswith("node "):
            parts = [p.strip('"') for p in re.findall(r'"[^"]*"|\S+', line)]
            pos[parts[1]] = tuple(float(v) for v in parts[2:6])
    return pos


def test_the_unrolled_graph_has_each_phase_on_its_own_steps():
    g = draw(_model("encoder_decoder"), "unrolled", 2).graph
    assert g["steps"] == 2 and g["decoder_steps"] == 3
    phase = {n["id"]: n.get("phase") for n in g["nodes"]}
    assert {i for i, p in phase.items() if p == "encoder"} == {"x@1", "x@2", "h@0", "h@1", "h@2"}
    assert {i for i, p in phase.items() if p == "context"} == {"c@2"}
    assert {i for i, p in phase.items() if p == "decoder"} == {
        "y@0", "y@1", "y@2", "s@0", "s@1", "s@2", "s@3", "o@1", "o@2", "o@3"}
    edges = {(e["source"], e["target"], e["param"]) for e in g["edges"]}
    # The context feeds the start (s_0 = tanh(D c)) and every decoder step (C c).
    assert {("c@2", "s@0", "D"), ("c@2", "s@1", "C"), ("c@2", "s@2", "C"), ("c@2", "s@3", "C")} <= edges
    assert ("h@2", "c@2", None) in edges and ("y@0", "s@1", "B") in edges and ("s@0", "s@1", "A") in edges
    # Nothing of the decoder reads the encoder at a step.
    assert not {(a, b) for a, b, _ in edges if phase[a] == "encoder" and phase[b] == "decoder"}


@needs_dot
@pytest.mark.parametrize("stem", ["encoder_decoder", "seq2seq_gru"])
@pytest.mark.parametrize("steps", [2, 4])
def test_encoder_context_decoder_side_by_side_on_one_baseline(stem, steps):
    m = _model(stem)
    ph = m.phases
    pos = _layout(draw(m, "unrolled", steps).dot())
    T, n = steps, draw(m, "unrolled", steps).graph["decoder_steps"]
    enc_chain, dec_chain = "h", "s"
    enc = [pos[f"{enc_chain}@{t}"] for t in range(0, T + 1)]
    dec = [pos[f"{dec_chain}@{t}"] for t in range(0, n + 1)]
    # Each phase's columns alike: one fixed shift from step to step, the chain on one row.
    for chain in (enc, dec):
        assert len({round(b[0] - a[0], 2) for a, b in zip(chain, chain[1:])}) == 1
        assert len({round(p[1], 2) for p in chain}) == 1
    assert round(enc[0][1], 2) == round(dec[0][1], 2)  # one baseline for both chains
    context = [pos[f"{c}@{T}"] for c in ph.contexts]
    for c in context:  # between the encoder's last column and the decoder's first, above the chains
        assert enc[-1][0] < c[0] < dec[0][0] and c[1] > enc[0][1]
    # No two nodes overlap (the invisible corners of the context's bus are not nodes).
    boxes = [b for k, b in pos.items() if not k.startswith("bend_")]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert abs(a[0] - b[0]) >= (a[2] + b[2]) / 2 or abs(a[1] - b[1]) >= (a[3] + b[3]) / 2, (a, b)


def test_the_folded_start_enters_its_chain_one_step_later():
    g = draw(_model("encoder_decoder"), "folded").graph
    edges = {(e["source"], e["target"], e["param"], e["delay"]) for e in g["edges"]}
    assert ("c", "s_0", "D", 0) in edges and ("s_0", "s", None, 1) in edges and ("c", "s", "C", 0) in edges
    roles = {n["id"]: (n["role"], n["phase"]) for n in g["nodes"]}
    assert roles["c"] == ("hidden", "context") and roles["s_0"] == ("state", "context")
    assert roles["s"][1] == roles["o"][1] == "decoder" and roles["h"][1] == "encoder"


def test_values_and_gradients_sit_on_their_phases_steps():
    m = _model("encoder_decoder")
    tr = forward(m, keep_nodes=True)
    dot = draw(m, "unrolled", tr.steps, values=tr, grads=gradients(m, tr, "o[3]")).dot()
    node = {i: attrs for i, attrs in re.findall(r'^  "([^"]+)" \[(.*)\];$', dot, re.M)}
    assert "−0.551" in node["c@2"] and "−0.501" in node["s@0"] and "−0.912" in node["o@3"]
    assert "∇ 0.218" in node["y@0"] and "∇ 1" in node["o@3"] and "∇ 0" in node["o@1"]


def test_the_context_is_named_without_a_step():
    """Fig. 10.12 writes C, not C^(2): the context is one value, computed once at T; its
    tooltip says when."""
    for stem in ("encoder_decoder", "seq2seq_gru"):
        text = draw(_model(stem), "unrolled", 2).dot()
        (line,) = [ln for ln in text.splitlines() if ln.startswith('  "c@2" [')]
        assert "label=<<I>c</I>>" in line and "<SUP>" not in line
        assert "computed once at the encoder's last step t = T = 2" in line


@needs_dot
@pytest.mark.parametrize("values", [False, True], ids=["plain", "values"])
def test_the_context_reaches_the_chain_along_one_bus(values):
    """Fig. 10.12's context feeds every decoder step: its edges run down from it to one bus
    between the chain and the outputs, along it and into each step, never through a node;
    no two labels touch (C beside A at the last step) and no label lies on a node."""
    from tests.svg_geometry import label_clashes, labels_on_nodes, parse

    model = _model("encoder_decoder")
    trace = forward(model)
    d = draw(model, "unrolled", trace.steps, values=trace if values else None)
    text = d.dot()
    bends = [ln for ln in text.splitlines() if ln.startswith('  "bend_') and "->" not in ln]
    pos = {m.group(1): tuple(float(v) / 72 for v in m.group(2, 3))
           for m in re.finditer(r'^  "([^"]+)" \[.*pos="([-\d.]+),([-\d.]+)!"', text, re.M)}
    ys = {round(pos[b.split('"')[1]][1], 2) for b in bends}
    assert len(bends) == 2 * 3 and len(ys) == 1  # two corners per decoder step, all on one line
    (bus,) = ys
    assert pos["s@1"][1] < bus < pos["o@1"][1] and bus < pos["c@2"][1]
    pic = parse(d.svg())
    assert label_clashes(pic) == [] and labels_on_nodes(pic) == []


@needs_dot
def test_a_gated_decoder_reads_the_context_along_one_bus_through_its_junctions():
    """A GRU decoder reads [y_{t-1}; c] and s_{t-1} in every gate: each step joins them at one
    junction under its gates (as the encoder joins x_t and h_{t-1}), and the context reaches the
    junctions along one bus, down its own column and level under the gates, as in Fig. 10.12,
    not in a sheaf of long lines into every gate (85 crossings at first; none now)."""
    from tests import svg_geometry as geo
    from tests.diagrams.measures import crossing_list

    model = _model("seq2seq_gru")
    svg = draw(model, "unrolled", 3).svg()
    found = crossing_list(svg)
    assert not found, "\n".join(f"{c.first} x {c.second}" for c in found)
    pic = geo.parse(svg)
    runs = [e for e in geo.edges(svg) if e.title.startswith("c@3->") or "->junction_d" in e.title]
    into_gates = [e.title for e in runs if re.match(r"c@3->(z|r|s~|s_tilde)", e.title)]
    assert not into_gates, into_gates  # the context reaches no gate but through a junction
    junctions = sorted(n for n in pic.nodes if n.startswith("junction_d"))
    assert len(junctions) == 3
    bus = {round((pic.nodes[j][1] + pic.nodes[j][3]) / 2, 1) for j in junctions}
    assert len(bus) == 1, bus  # every step's junction on one line
    (y,) = bus
    gates = [b for n, b in pic.nodes.items() if re.match(r"(z|r)\^d@\d", n)]
    inputs = [b for n, b in pic.nodes.items() if re.match(r"y@\d", n)]
    assert gates and inputs and all(b[3] < y for b in gates) and all(b[1] > y for b in inputs)
    # The context's wire drops down its own column, then runs level along the junctions' row.
    cx = (pic.nodes["c@3"][0] + pic.nodes["c@3"][2]) / 2
    drops = [e for e in geo.edges(svg) if e.title.startswith("c@3->bend_")]
    assert drops and all(abs(p[0] - cx) < 1.0 for e in drops for path in e.paths for p in path)
    assert geo.label_clashes(pic) == [] and geo.labels_on_nodes(pic) == []


@needs_dot
@pytest.mark.parametrize("orient, values", [("vertical", False), ("horizontal", True)], ids=["vertical", "values"])
def test_a_gated_decoder_uncrossed_turned_and_with_numbers(orient, values):
    """Turned a quarter (the bus level from the context, then down the junctions' column) and with
    the forward pass's numbers, the GRU encoder-decoder's edges do not cross (85 and 75 at first)."""
    from tests.diagrams.measures import crossing_list

    model = _model("seq2seq_gru")
    trace = forward(model) if values else None
    svg = draw(model, "unrolled", trace.steps if values else 3, values=trace, orient=orient).svg()
    found = crossing_list(svg)
    assert not found, "\n".join(f"{c.first} x {c.second}" for c in found)
