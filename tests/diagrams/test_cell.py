"""The cell views (rnnviz.diagrams.cell, rnnviz.diagrams.cell_dot): operation graph, JSON, layout, golden DOT.

Set RNNVIZ_REGEN_GOLDEN=1 to rewrite the golden files after an intended change
(and look at the pictures before committing them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rnnviz import load, load_model
from rnnviz.diagrams.cell import OPS, cell_graph, graph
from rnnviz.diagrams.cell_dot import build, to_dot
from rnnviz.diagrams.cell_layout import levels
from rnnviz.diagrams.cell_phased import build as build_phased
from rnnviz.errors import ValueSpecError
from rnnviz.language import expr as E
from tests.conftest import EXAMPLES as EXAMPLES_DIR
from tests.conftest import one_phase_example_paths

#: The examples over one sequence; an encoder-decoder's two cells are tested below.
EXAMPLES = one_phase_example_paths()
GOLDEN = Path(__file__).parent / "golden"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
MODEL_ROLES = {"input", "state", "hidden", "output"}

GRU_SEPARATE = """
z_t = \\sigma(W_z x_t + U_z h_{t-1} + b_z)
r_t = \\sigma(W_r x_t + U_r h_{t-1} + b_r)
\\hat{h}_t = \\tanh(W_h x_t + U_h (r_t \\odot h_{t-1}) + b_h)
h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\hat{h}_t
"""
PEEPHOLE = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + P_f c[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + P_i c[t-1] + b_i)
c[t] = f[t] * c[t-1] + i[t] * tanh(W_c x[t] + U_c h[t-1] + b_c)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + P_o c[t] + b_o)
h[t] = o[t] * tanh(c[t])
"""
FORMS = {"gru_separate": GRU_SEPARATE, "peephole": PEEPHOLE,
         "scaled": "h[t] = relu(0.5 * h[t-1] - 2 x[t])\ny[t] = -(V h[t])"}


def _models():
    out = [(p.stem, load(str(p))) for p in EXAMPLES]
    out += [(k, load_model(v)) for k, v in FORMS.items()]
    return out


MODELS = _models()
IDS = [m[0] for m in MODELS]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.parametrize("unrolled", [False, True], ids=["cell", "cell_unrolled"])
def test_golden_dot(path, unrolled):
    """The DOT text of every example in both cell views equals its golden file."""
    text, _ = build(load(str(path)), unrolled=unrolled, steps=2)
    golden = GOLDEN / f"{'cell_unrolled' if unrolled else 'cell'}.{path.stem}.dot"
    if os.environ.get("RNNVIZ_REGEN_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with RNNVIZ_REGEN_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_output_is_deterministic_and_ids_have_no_colon(name, model):
    """Building twice gives byte-identical DOT and JSON, and no id contains ':'."""
    a = build(model, unrolled=True, steps=3)
    b = build(model, unrolled=True, steps=3)
    assert a == b
    ids = [n["id"] for n in a[1]["nodes"]]
    assert len(ids) == len(set(ids)) and not any(":" in i for i in ids)
    for stmt in re.findall(r'^\s*"([^"]*)"\s*(?:->|\[)', a[0], re.M):
        assert ":" not in stmt


def _operations(model) -> int:
    """Operation nodes a tree needs: sums and products as written, n-ary chains merged."""
    count = 0
    for eq in model.equations:
        def visit(e, parent=None):
            nonlocal count
            merged = (isinstance(e, E.Add) and isinstance(parent, E.Add)) or (
                _ew(e) and _ew(parent))
            if not isinstance(e, (E.Var, E.Param, E.Num)) and not merged:
                count += 1
            for c in E.children(e):
                visit(c, e)
        visit(eq.expr)
    return count


def _ew(e) -> bool:
    from rnnviz.language.gates import is_elementwise
    return e is not None and is_elementwise(e)


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_every_operation_is_a_node(name, model):
    """Each operation of the expression trees is one op node; each parameter use one box."""
    g = graph(model)
    ops = [n for n in g["nodes"] if n["role"] == "op"]
    params = [n for n in g["nodes"] if n["role"] == "parameter"]
    assert len(ops) == _operations(model)
    uses = sum(1 for eq in model.equations for n in E.walk(eq.expr) if isinstance(n, E.Param))
    assert len(params) == uses
    assert all(n["op"] in OPS for n in ops)


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
@pytest.mark.parametrize("unrolled", [False, True])
def test_json_contract(name, model, unrolled):
    """The JSON graph has the view, steps, typed nodes and edges between existing nodes."""
    g = graph(model, unrolled=unrolled, steps=2)
    assert g["view"] == ("cell-unrolled" if unrolled else "cell")
    assert g["steps"] == (2 if unrolled else 0)
    ids = {n["id"] for n in g["nodes"]}
    for n in g["nodes"]:
        assert set(n) >= {"id", "name", "time", "role"}
        assert n["role"] in MODEL_ROLES | {"op", "parameter", "constant"}
        if n["role"] in MODEL_ROLES:
            assert n["name"] in model.symbols
        if n["role"] == "parameter":
            assert n["time"] is None and model.symbols[n["name"]].kind == "parameter"
    for e in g["edges"]:
        assert e["source"] in ids and e["target"] in ids
        assert set(e) >= {"source", "target", "param", "delay"}
        assert e["param"] is None or model.symbols[e["param"]].kind == "parameter"


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_unrolled_steps_connect_column_to_column(name, model):
    """Unrolled, a read at delay k joins a node of step t-k to an operation of step t."""
    g = graph(model, unrolled=True, steps=3)
    nodes = {n["id"]: n for n in g["nodes"]}
    for e in g["edges"]:
        if e["delay"]:
            src, dst = nodes[e["source"]], nodes[e["target"]]
            assert dst["time"] - src["time"] == e["delay"]
    per_step = [sum(1 for n in g["nodes"] if n["role"] == "op" and n["time"] == t) for t in (1, 2, 3)]
    assert per_step[0] == per_step[1] == per_step[2] == _operations(model)


@pytest.mark.parametrize("text, lane, gates", [
    (None, "c", {"f": "forget", "i": "input", "o": "output"}),
    (GRU_SEPARATE, "h", {"z": "update", "r": "reset"}),
    (PEEPHOLE, "c", {"f": "forget", "i": "input", "o": "output"}),
], ids=["lstm", "gru", "peephole"])
def test_gates_and_highway_are_marked(text, lane, gates):
    """Gate variables carry their role; the additive path runs from lane[t-1] to lane[t]."""
    model = load(str(EXAMPLES[[p.stem for p in EXAMPLES].index("lstm")])) if text is None else load_model(text)
    g = graph(model)
    marked = {n["name"]: n["gate"] for n in g["nodes"] if n["role"] in MODEL_ROLES and "gate" in n}
    assert marked == gates
    hw = [e for e in g["edges"] if e.get("highway")]
    nodes = {n["id"]: n for n in g["nodes"]}
    # The highway edges form one path from the previous value to the new one.
    succ = {e["source"]: e["target"] for e in hw}
    start = next(n for n in succ if nodes[n]["name"] == lane and nodes[n]["time"] == -1)
    path = [start]
    while path[-1] in succ:
        path.append(succ[path[-1]])
    assert len(path) == len(hw) + 1
    assert nodes[path[-1]]["name"] == lane and nodes[path[-1]]["time"] == 0
    text_dot, _ = build(model, unrolled=False, steps=1)
    for role in set(gates.values()):
        assert f"{role} gate" in text_dot


def test_plain_rnn_has_no_highway_and_no_gate():
    """A vanilla RNN's cell has operations but no gate and no highway."""
    g = graph(load(str(EXAMPLES[[p.stem for p in EXAMPLES].index("vanilla")])))
    assert not any(n.get("gate") or n.get("highway") for n in g["nodes"])
    assert not any(e.get("highway") for e in g["edges"])


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_rows(name, model):
    """Inputs are on the bottom row; each highway is one row; gate activations share a row."""
    cg = cell_graph(model)
    rows = levels(cg)
    assert rows is not None
    for n in cg.nodes.values():
        if n.role == "input":
            assert rows[n.id] == 0
    for lane in cg.report.highways:
        assert len({rows[n.id] for n in cg.nodes.values() if n.lane == lane}) == 1
    gate_acts = [n.id for n in cg.nodes.values() if n.role == "op" and n.gate]
    if name in ("lstm", "lstm_goodfellow", "gru", "gru_separate"):
        assert len({rows[i] for i in gate_acts}) == 1


def _positions(dot_text: str) -> dict[str, tuple[float, float]]:
    out = subprocess.run(["dot", "-Tplain"], input=dot_text.encode(), capture_output=True, check=True).stdout
    pos = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            name = parts[1].strip('"')
            pos[name] = (float(parts[2]), float(parts[3]))
    return pos


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("stem, unrolled", [("lstm", False), ("lstm_goodfellow", False), ("gru", False),
                                            ("lstm", True), ("gru", True), ("lstm_stack", True)])
def test_layout_highway_is_one_straight_line_left_to_right(stem, unrolled):
    """Rendered, the additive path is one horizontal line running left to right, inputs below it."""
    model = load(str(EXAMPLES[[p.stem for p in EXAMPLES].index(stem)]))
    cg = cell_graph(model, unrolled=unrolled, steps=3)
    pos = _positions(to_dot(cg))
    lane = cg.report.highways[0]
    on = [n for n in cg.nodes.values() if n.lane == lane]
    ys = {round(pos[n.id][1], 2) for n in on}
    assert len(ys) == 1
    ends = sorted((n for n in on if n.role != "op"), key=lambda n: n.time)
    xs = [pos[n.id][0] for n in ends]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    lane_y = pos[on[0].id][1]
    assert all(pos[n.id][1] < lane_y for n in cg.nodes.values() if n.role == "input")
    if lane != "h":  # an LSTM: the hidden state leaves above the cell state
        assert all(pos[n.id][1] > lane_y for n in cg.nodes.values() if n.name == "h" and n.role == "output")


def test_steps_below_one_is_an_error():
    """Unrolling over zero steps is refused with a plain message."""
    with pytest.raises(ValueSpecError, match="at least 1 step"):
        cell_graph(load_model("h[t] = tanh(W h[t-1] + U x[t])"), unrolled=True, steps=0)


def test_parameters_are_typeset_inside_their_product():
    """A parameter box is typeset with its subscript inside the product's node."""
    text, _ = build(load_model("h[t] = tanh(W_hh h[t-1] + W_xh x[t])"), unrolled=False, steps=1)
    assert "<SUB>hh</SUB>" in text and "<SUB>xh</SUB>" in text
    assert '"p.W_hh' not in text  # the box is part of the product node, not a node of its own


def test_draw_api_uses_the_cell_view():
    """rnnviz.diagrams.diagram.draw(view='cell') gives the DOT of the cell view."""
    diagram = pytest.importorskip("rnnviz.diagrams.diagram")
    model = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    assert diagram.draw(model, view="cell").dot() == build(model, unrolled=False, steps=3)[0]


def _mutations():
    from hypothesis import strategies as st

    pieces = list("htxWUVbczfgq123[](){}_^=+-*,~ ") + ["\\sigma", "\\tanh", "\\odot", "[t-1]", "_{t-1}", "1 - "]

    @st.composite
    def mutated(draw):
        text = draw(st.sampled_from([p.read_text(encoding="utf-8") for p in EXAMPLES] + list(FORMS.values())))
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + draw(st.sampled_from(pieces)) + text[i + draw(st.integers(0, 1)):]
        return text

    return mutated()


def test_any_model_gives_a_cell_diagram():
    """Every text that makes a model also makes both cell views and a gate report, without crashing."""
    hypothesis = pytest.importorskip("hypothesis")
    from rnnviz.errors import RnnvizError
    from rnnviz.language.gates import analyze

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(_mutations())
    def run(text):
        try:
            model = load_model(text)
        except RnnvizError:
            return
        report = analyze(model)
        assert set(report.roles) <= set(model.variables)
        for unrolled in (False, True):
            dot_text, data = build(model, unrolled=unrolled, steps=2)
            assert dot_text.endswith("}\n") and data["nodes"]

    run()


@pytest.mark.parametrize("steps, max_columns, shown, collapsed", [
    (8, 4, [1, 2, 8], [3, 7]),
    (6, 5, [1, 2, 5, 6], [3, 4]),
    (4, 4, [1, 2, 3, 4], None),
])
def test_long_unroll_collapses_middle_cells(steps, max_columns, shown, collapsed):
    """Beyond max_columns cells the middle steps become one ellipsis the states run through."""
    model = load(str(EXAMPLES[[p.stem for p in EXAMPLES].index("lstm")]))
    g = graph(model, unrolled=True, steps=steps, max_columns=max_columns)
    assert g.get("collapsed") == collapsed
    assert sorted({n["time"] for n in g["nodes"] if n["role"] == "op"}) == shown
    if collapsed:
        dots = {n["id"]: n for n in g["nodes"] if n.get("ellipsis")}
        assert {n["name"] for n in dots.values()} == {"c", "h"}
        # The cell state's highway runs from c@0 through the ellipsis to the last step.
        succ = {e["source"]: e["target"] for e in g["edges"] if e.get("highway")}
        node, seen = "c@0", ["c@0"]
        while node in succ:
            node = succ[node]
            seen.append(node)
        assert "c@..." in seen and seen[-1] == f"c@{steps}"


def test_max_columns_below_three_is_an_error():
    """A collapse needs room for a first cell, the ellipsis and a last cell."""
    with pytest.raises(ValueSpecError, match="at least 3"):
        cell_graph(load_model("h[t] = tanh(W h[t-1] + U x[t])"), unrolled=True, steps=9, max_columns=2)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("stem", ["lstm_goodfellow", "vanilla", "two_layer", "lstm"])
def test_unrolled_cell_outputs_stand_over_their_own_step(stem):
    """Rendered, the outputs of successive steps stand a good part of a step apart, not bunched together."""
    model = load(str(EXAMPLES[[p.stem for p in EXAMPLES].index(stem)]))
    cg = cell_graph(model, unrolled=True, steps=3)
    pos = _positions(to_dot(cg))
    for role in ("output", "input"):
        names = {n.name for n in cg.nodes.values() if n.role == role}
        for name in names:
            xs = [pos[f"{name}@{t}"][0] for t in (1, 2, 3) if f"{name}@{t}" in pos]
            assert xs == sorted(xs), name
    inputs = sorted(pos[n.id][0] for n in cg.nodes.values() if n.role == "input" and n.name == model.inputs[0])
    step = min(b - a for a, b in zip(inputs, inputs[1:]))
    for name in {n.name for n in cg.nodes.values() if n.role == "output"}:
        xs = [pos[f"{name}@{t}"][0] for t in (1, 2, 3)]
        assert min(b - a for a, b in zip(xs, xs[1:])) > 0.3 * step, name


@pytest.mark.parametrize("text", [(EXAMPLES[[p.stem for p in EXAMPLES].index("gru")]).read_text(),
                                  "h[t] = tanh(W [h[t-1], x[t]] + b)",
                                  "h[t] = tanh(W_h [h[t-1], x[t]])\ny[t] = V [h[t], x[t]]"])
def test_concatenation_is_drawn_inside_its_product(text):
    """A [ , ] read only by a product is the product's last cell: no node of its own, its inputs enter that cell."""
    cg = cell_graph(load_model(text))
    dot_text = to_dot(cg)
    concats = [n for n in cg.nodes.values() if n.op == "concat"]
    assert concats
    for n in concats:
        assert not re.search(rf'^  "{re.escape(n.id)}" \[', dot_text, re.M)
        user = next(e.target for e in cg.edges if e.source == n.id)
        line = next(l for l in dot_text.splitlines() if l.startswith(f'  "{user}" ['))
        assert 'PORT="in"' in line
        joined = {e.source for e in cg.edges if e.target == n.id}
        into = re.findall(rf'^  "([^"]+)" -> "{re.escape(user)}" \[[^\n]*headport="in:s"', dot_text, re.M)
        # Each joined value enters the cell, directly or through the point where it joins
        # the same values on their way to another gate's [ , ] (the GRU's r and z).
        through = {s for j in into if j.startswith("join.")
                   for s in re.findall(rf'^  "([^"]+)" -> "{re.escape(j)}" \[', dot_text, re.M)}
        direct = set(into) - {j for j in into if j.startswith("join.")}
        assert {s.replace("relay.", "").rsplit(".", 1)[0] if s.startswith("relay.") else s
                for s in direct | through} == joined


def test_a_concatenation_several_sums_read_is_joined_once():
    """[y, c] written in three gates' sums (with V_s s beside it) is one [ , ] node per step; the
    gates whose sums read it and s alone become one node each, fed from one junction."""
    text = ("z[t] = sigmoid(V_z [y[t], c[t]] + U_z s[t-1] + b_z)\n"
            "r[t] = sigmoid(V_r [y[t], c[t]] + U_r s[t-1] + b_r)\n"
            "s~[t] = tanh(V_s [y[t], c[t]] + U_s (r[t] * s[t-1]) + b_s)\n"
            "s[t] = z[t] * s[t-1] + (1 - z[t]) * s~[t]")
    cg = cell_graph(load_model(text), unrolled=True, steps=2)
    dot_text = to_dot(cg)
    for t in (1, 2):
        concats = [n.id for n in cg.nodes.values() if n.op == "concat" and n.time == t]
        assert len(concats) == 3
        drawn = [c for c in concats if re.search(rf'^  "{re.escape(c)}" \[', dot_text, re.M)]
        assert len(drawn) == 1
        line = next(l for l in dot_text.splitlines() if l.startswith(f'  "{drawn[0]}" ['))
        assert 'tooltip="concatenation [y, c] in the equations of z, r and s̃ at t = ' in line
        # Read by the candidate's product and by the junction of the r and z sums.
        readers = re.findall(rf'^  "{re.escape(drawn[0])}" -> "([^"]+)" \[(?!style=invis)', dot_text, re.M)
        assert len(readers) == 2 and sum(r.startswith("join.") for r in readers) == 1
    # The concatenation-form GRU keeps "W_z · [ , ]" as one node (no sum beside it).
    gru = cell_graph(load_model(EXAMPLES[[p.stem for p in EXAMPLES].index("gru")].read_text()))
    assert not any(l.startswith('  "') and 'label="[ , ]"' in l for l in to_dot(gru).splitlines())


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_gru_gate_activation_sits_two_rows_above_the_input():
    """Rendered GRU cell: input row, one product row "W · [h, x]", then the gate's sigma: no row for
    the [ , ] alone (only the point where h[t-1] and x[t] join to feed both gates)."""
    model = load(str(EXAMPLES[[p.stem for p in EXAMPLES].index("gru")]))
    cg = cell_graph(model)
    pos = _positions(to_dot(cg))
    rows = sorted({round(y, 2) for name, (_, y) in pos.items() if not name.startswith("join.")})
    sigma = next(n.id for n in cg.nodes.values() if n.op == "sigmoid")
    assert rows.index(round(pos[sigma][1], 2)) - rows.index(round(pos["x"][1], 2)) == 2


def _layer(n) -> int | None:
    """The layer of a node of the stacked LSTM (i_2, c_2, h_2[t-1] ... -> 2), None for x, y."""
    m = re.search(r"_(\d+)$", n.eq or n.name)
    return int(m.group(1)) if m else None


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("unrolled", [False, True])
def test_stacked_layers_keep_their_own_bands(unrolled):
    """Rendered, each layer of a stack lies in a band above the layer below it: layer 2's gates
    and products (and its own h_2[t-1]) stand above layer 1's cell, not in layer 1's rows; in the
    unrolled view, step t's gates of a layer stand left of step t+1's."""
    model = load_model((EXAMPLES_DIR / "lstm_stack.rnn").read_text(), "lstm_stack.rnn")
    cg = cell_graph(model, unrolled=unrolled, steps=3)
    pos = _positions(to_dot(cg))  # -Tplain: y grows upwards
    for low, high in ((1, 2), (2, 3)):
        # h_l itself is the input of the band above: it sits on that band's bottom row.
        below = [pos[n.id][1] for n in cg.nodes.values() if n.id in pos and _layer(n) == low
                 and not (n.eq is None and n.time is not None and n.time >= 0) and n.name != f"h_{low}"]
        above = [pos[n.id][1] for n in cg.nodes.values() if n.id in pos and _layer(n) == high]
        assert max(below) < min(above), (low, high, max(below), min(above))
    if unrolled:
        for layer in (1, 2, 3):
            for gate in ("i", "f", "o", "g"):
                xs = [pos[f"{gate}_{layer}@{t}"][0] for t in (1, 2, 3)]
                assert xs == sorted(xs), (gate, layer, xs)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("unrolled", [False, True])
def test_layers_read_across_keep_their_own_bands(unrolled):
    """Two layers reading each other's earlier state (h_1 reads h_2[t-1], as in the book's
    two-layer network) each keep their band: layer 2's operations and its state (h_2[0] too,
    as h_2[t-1] enters from the step before) stand above layer 1's, and h_2[t-1] comes into
    layer 2 straight, not from a branch point under layer 1."""
    model = load_model((EXAMPLES_DIR / "two_layer.rnn").read_text(), "two_layer.rnn")
    cg = cell_graph(model, unrolled=unrolled, steps=3)
    text = to_dot(cg)
    pos = _positions(text)  # -Tplain: y grows upwards
    below = [pos[n.id][1] for n in cg.nodes.values() if n.id in pos and _layer(n) == 1 and n.name != "h_1"]
    above = [pos[n.id][1] for n in cg.nodes.values() if n.id in pos and _layer(n) == 2]
    assert below and above and max(below) < min(above), (max(below), min(above))
    assert '"relay.h_2' not in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("stem", ["lstm", "lstm_goodfellow"])
def test_cell_states_of_a_row_are_one_size(stem):
    """The "cell state" caption sits beside the first c, not inside it: every c of the chain
    (c(t-1) and c(t) in the cell) is drawn the same size, as the textbook draws a row of one
    kind of node."""
    from rnnviz.diagrams.diagram import draw
    from tests import svg_geometry as geo

    model = load_model((EXAMPLES_DIR / f"{stem}.rnn").read_text(), f"{stem}.rnn")
    svg = draw(model, "cell-unrolled", 3).svg()
    state = next(iter(cell_graph(model, unrolled=True, steps=3).report.cell_states))
    boxes = geo.parse(svg).nodes
    widths = {round(boxes[f"{state}@{t}"][2] - boxes[f"{state}@{t}"][0], 1) for t in (1, 2, 3)}
    assert len(widths) == 1, widths
    assert "cell state" in svg
    folded = geo.parse(draw(model, "cell").svg()).nodes  # c(t-1) and c(t) alike in the cell too
    assert round(folded[state][2] - folded[state][0], 1) == round(folded[f"{state}@t-1"][2] - folded[f"{state}@t-1"][0], 1)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("stem", ["lstm", "gru", "lstm_stack"])
@pytest.mark.parametrize("unrolled", [False, True])
def test_tooltips_speak_the_readers_language(stem, unrolled):
    """Hovering any node or wire of a cell view names it as a reader would ("f at t = 2",
    "sum in the equation of c at t = 2 → c at t = 2"), never by an internal id (f.2@1, relay.h@1.2)."""
    from rnnviz.diagrams.diagram import draw

    model = load_model((EXAMPLES_DIR / f"{stem}.rnn").read_text(), f"{stem}.rnn")
    svg = draw(model, "cell-unrolled" if unrolled else "cell", 2).svg()
    groups = re.findall(r'<g id="[^"]*" class="(?:node|edge)">(.*?)</g>', svg, re.S)
    tips = [re.search(r'xlink:title="([^"]*)"', body) for body in groups]
    assert groups and all(tips), "a node or edge without a tooltip shows its internal id"
    internal = [t.group(1) for t in tips if re.search(r"@|relay|\.\d|->", t.group(1))]
    assert not internal, internal[:5]


@pytest.mark.parametrize("unrolled", [False, True])
def test_gate_sums_reading_the_same_values_join_them_below_the_gates(unrolled):
    """The LSTM's gates each read x[t] and h[t-1] through their own matrices: each gate's sum is one
    node with its matrices inside ("W_f · U_f · b_f +"), and x[t] and h[t-1] join at one point per
    step that fans out to the gates, rather than two fans crossing 6 times."""
    model = load(str(EXAMPLES[[p.stem for p in EXAMPLES].index("lstm")]))
    cg = cell_graph(model, unrolled=unrolled, steps=3)
    dot_text = to_dot(cg)
    products = [n.id for n in cg.nodes.values() if n.op == "matmul"]
    assert products and not any(re.search(rf'^  "{re.escape(p)}" \[', dot_text, re.M) for p in products)
    joins = re.findall(r'^  "(join\.[^"]+)" \[[^\n]*tooltip="([^"]*)"', dot_text, re.M)
    assert len(joins) == (3 if unrolled else 1)
    for jid, words in joins:
        assert " and " in words and "@" not in words  # "x at t = 2 and h at t = 1"
        fans = re.findall(rf'^  "{re.escape(jid)}" -> "([^"]+)" \[(?!style=invis)', dot_text, re.M)
        assert [cg.nodes[f].op for f in fans if f in cg.nodes and cg.nodes[f].role == "op"] == ["add"] * 4  # f, i, o, c~
    sums = {e.target for e in cg.edges if e.source in products}
    for s in sums:
        line = next(l for l in dot_text.splitlines() if l.startswith(f'  "{s}" ['))
        assert line.count("<TR>") == 2 and "<SUB>" in line  # sum above, its products below


def test_a_single_sum_keeps_its_products():
    """Nothing to join when one sum alone reads the values: the Elman cell keeps its products."""
    text = to_dot(cell_graph(load_model("h[t] = tanh(W h[t-1] + U x[t] + b)")))
    assert "join." not in text and '"h.2" [' in text


PHASED = [p for p in sorted(EXAMPLES_DIR.glob("*.rnn")) if p not in EXAMPLES]


@pytest.mark.parametrize("path", PHASED, ids=[p.stem for p in PHASED])
@pytest.mark.parametrize("unrolled", [False, True], ids=["cell", "cell_unrolled"])
def test_golden_dot_of_an_encoder_decoder(path, unrolled):
    """An encoder-decoder's cell views (the encoder's cells, the context, the decoder's cells) equal their golden files."""
    text, _ = build_phased(load(str(path)), unrolled=unrolled, steps=2, decoder_steps=3)
    golden = GOLDEN / f"{'cell_unrolled' if unrolled else 'cell'}.{path.stem}.dot"
    if os.environ.get("RNNVIZ_REGEN_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with RNNVIZ_REGEN_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", PHASED, ids=[p.stem for p in PHASED])
def test_an_encoder_decoder_draws_both_cells_and_the_context_between(path):
    """Unrolled: T encoder cells, T' decoder cells, one context computed from h at T that feeds
    every decoder cell from below, and the start ending in the decoder's step 0."""
    model = load(str(path))
    text, data = build_phased(model, unrolled=True, steps=2, decoder_steps=3)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert len(nodes) == len(data["nodes"])
    assert all(e["source"] in nodes and e["target"] in nodes for e in data["edges"])
    enc_steps = {n["time"] for n in nodes.values() if n["phase"] == "encoder" and n["role"] == "state"}
    dec_steps = {n["time"] for n in nodes.values() if n["phase"] == "decoder" and n["role"] == "state"}
    assert enc_steps == {0, 1, 2} and dec_steps == {0, 1, 2, 3}
    (ctx,) = [i for i, n in nodes.items() if n["phase"] == "context" and n["name"] == "c"]
    assert nodes[ctx]["time"] is None  # one value, named as the equations write it
    assert ("h@2", ctx) in {(e["source"], e["target"]) for e in data["edges"]}
    entries = sorted(e["target"] for e in data["edges"] if e["source"] == ctx and nodes[e["target"]]["role"] == "context")
    assert entries == ["c.in@1", "c.in@2", "c.in@3"]
    # Each entry feeds its own decoder cell.
    for k, entry in enumerate(entries, start=1):
        assert {nodes[e["target"]]["time"] for e in data["edges"] if e["source"] == entry} == {k}
    assert any(e["target"] == "s@0" and nodes[e["source"]]["phase"] == "context" for e in data["edges"])
    # The context's label has no step: "c", not c^(2).
    (line,) = [ln for ln in text.splitlines() if ln.startswith(f'  "{ctx}" [')]
    assert "<SUP>" not in line and "<I>c</I>" in line


@needs_dot
@pytest.mark.parametrize("path", PHASED, ids=[p.stem for p in PHASED])
@pytest.mark.parametrize("unrolled", [False, True], ids=["cell", "cell_unrolled"])
def test_encoder_band_context_decoder_band_left_to_right(path, unrolled):
    """Rendered: every encoder node left of the context, every decoder cell right of it, and no
    two nodes on top of each other."""
    from tests.svg_geometry import node_clashes, parse, render_svg

    text, data = build_phased(load(str(path)), unrolled=unrolled, steps=2, decoder_steps=2)
    pic = parse(render_svg(text))
    # The points where the context enters the decoder sit at its edge, beside the context.
    phase = {n["id"]: n["phase"] for n in data["nodes"] if n["role"] != "context"}
    centre = {i: (b[0] + b[2]) / 2 for i, b in pic.nodes.items()}
    ctx = [i for i, n in phase.items() if n == "context" and i in pic.nodes]
    enc = [i for i, n in phase.items() if n == "encoder" and i in pic.nodes]
    dec = [i for i, n in phase.items() if n == "decoder" and i in pic.nodes and not i.startswith("s@")]
    c = next(i for i in ctx if i.split("@")[0] == "c")
    assert max(centre[i] for i in enc) < centre[c] < min(centre[i] for i in dec)
    assert node_clashes(pic) == []


def _label_of(text: str, node_id: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.startswith(f'  "{node_id}" [')]
    return line


@pytest.mark.parametrize("stem", ["gru", "vanilla", "lstm"])
def test_values_and_gradients_under_the_variables_of_the_cells(stem):
    """--values and --grad in the cell views: each variable of a cell carries its value at its
    step and the norm of its gradient, the numbers of the forward pass and of backprop."""
    from rnnviz.diagrams.diagram import draw
    from rnnviz.diagrams.dot import format_number, format_value
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients

    model = load(str(EXAMPLES_DIR / f"{stem}.rnn"))
    trace = forward(model, steps=3, seed=0)
    state = model.recurrent[0]
    grads = gradients(model, trace, f"{state}[3]")
    text = draw(model, "cell-unrolled", 3, values=trace, grads=grads).dot()
    for t in (1, 2, 3):
        line = _label_of(text, f"{state}@{t}")
        assert format_value(trace.value(state, t), 3) in line
        norm = float(np.linalg.norm(np.ravel(grads.nodes[(state, t)])))
        assert f"∇ {format_number(norm, 3)}" in line
    x = model.inputs[0]
    assert format_value(trace.value(x, 2), 3) in _label_of(text, f"{x}@2")
    # Folded: the last step's numbers, and the caption says which step.
    folded = draw(model, "cell", 3, values=trace).dot()
    assert format_value(trace.value(state, 3), 3) in _label_of(folded, state)
    assert format_value(trace.value(state, 2), 3) in _label_of(folded, f"{state}@t-1")
    assert "values at t = 3" in folded


def test_values_in_the_cells_of_an_encoder_decoder():
    """Each phase's cells carry their own steps' values, the context its value at T."""
    from rnnviz.diagrams.diagram import draw
    from rnnviz.diagrams.dot import format_value
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients

    model = load(str(EXAMPLES_DIR / "encoder_decoder.rnn"))
    trace = forward(model)
    text = draw(model, "cell-unrolled", trace.steps, values=trace,
                grads=gradients(model, trace, "o[3]")).dot()
    assert "−0.551" in _label_of(text, "c@2") and "−0.551" in _label_of(text, "h@2")  # c = h_2, exercise 9
    for t, want in ((1, "−0.665"), (2, "0.117"), (3, "−0.456")):
        assert want in _label_of(text, f"s@{t}")
    assert format_value(trace.value("o", 3), 3) in _label_of(text, "o@3")
    assert "∇" in _label_of(text, "c@2") and "∇" in _label_of(text, "x@1")  # the gradient reaches the encoder
    folded = draw(model, "cell", trace.steps, values=trace).dot()
    assert "2 (encoder), t = T&#39; = 3 (decoder)" in folded  # the caption says which steps
    assert "−0.456" in _label_of(folded, "s") and "−0.551" in _label_of(folded, "h")
