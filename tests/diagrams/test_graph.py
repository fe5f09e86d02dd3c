"""Tests of rnnviz.diagrams.graph: the folded and unrolled variable graphs and their JSON contract."""

from __future__ import annotations

import json

import pytest

from rnnviz.diagrams.graph import ELLIPSIS, build, folded, levels, reads_of, unrolled
from rnnviz.errors import ValueSpecError
from rnnviz.language import expr as E
from rnnviz.language import load_model
from tests.conftest import EXAMPLES, example_paths, one_phase_example_paths

EXERCISE_1 = (r"$$\begin{aligned}h_1^{(t)} &= \tanh(U x^{(t)} + V h_1^{(t-1)} + W h_2^{(t-1)} + b) \\"
              r"h_2^{(t)} &= \tanh(R h_1^{(t)} + S h_2^{(t-1)} + T y^{(t-1)} + c) \\"
              r"y^{(t)} &= \text{softmax}(P x^{(t)} + Q h_2^{(t)} + d).\end{aligned}$$")

#: The folded edges the solution sheet of exercise 1 lists: (source, target, parameter, delayed).
EXERCISE_1_EDGES = {
    ("x", "h_1", "U", False), ("h_1", "h_1", "V", True), ("h_2", "h_1", "W", True),
    ("h_1", "h_2", "R", False), ("h_2", "h_2", "S", True), ("y", "h_2", "T", True),
    ("x", "y", "P", False), ("h_2", "y", "Q", False),
}


def _load(path) -> object:
    return load_model(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("source", [EXERCISE_1, (EXAMPLES / "two_layer.rnn").read_text(),
                                    (EXAMPLES / "two_layer_latex.rnn").read_text()])
def test_exercise_1_folded_edges_match_the_solution(source):
    """The folded network of exercise 1 has exactly the eight edges the solution lists."""
    g = folded(load_model(source))
    assert {(e.source, e.target, e.param, e.delay > 0) for e in g.edges} == EXERCISE_1_EDGES
    assert all(e.delay in (0, 1) for e in g.edges)


@pytest.mark.parametrize(
    "text, target, expected",
    [
        ("h[t] = tanh(W_hh h[t-1] + W_xh x[t] + b)", "h", {("h", "W_hh", 1), ("x", "W_xh", 0)}),
        ("c[t] = f[t] * c[t-1]\nf[t] = sigmoid(U x[t])", "c", {("f", None, 0), ("c", None, 1)}),
        ("z[t] = sigmoid(W_z [h[t-1], x[t]])\nh[t] = z[t] * h[t-1]", "z", {("h", "W_z", 1), ("x", "W_z", 0)}),
        ("o[t] = sigmoid(h[t] * V + c)\nh[t] = tanh(U x[t])", "o", {("h", "V", 0)}),
        ("h[t] = tanh(x[t] U + 2 h[t-2])", "h", {("x", "U", 0), ("h", None, 2)}),
        ("y[t] = V tanh(U x[t])", "y", {("x", "V U", 0)}),
        ("h[t] = tanh(W (h[t-1] + x[t]))", "h", {("h", "W", 1), ("x", "W", 0)}),
    ],
)
def test_edge_labels_are_the_parameters_that_multiply_the_read(text, target, expected):
    """Each read is labelled by the parameter(s) multiplying it in the tree, or none."""
    got = {(e.source, e.param, e.delay) for e in folded(load_model(text)).edges if e.target == target}
    assert got == expected


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_folded_graph_has_a_node_per_variable_and_an_edge_per_read(path):
    """Every input and computed variable is a node; every variable read of every equation is an edge."""
    model = _load(path)
    g = folded(model)
    assert {n.id for n in g.nodes} == set(model.inputs) | set(model.variables)
    edges = {(e.source, e.target, e.delay) for e in g.edges}
    for eq in model.equations:
        for node in E.walk(eq.expr):
            if isinstance(node, E.Var):
                assert (node.name, eq.target, node.delay) in edges
    assert all(n.time is None for n in g.nodes)


@pytest.mark.parametrize("path", one_phase_example_paths(), ids=lambda p: p.stem)
@pytest.mark.parametrize("steps", [1, 3, 5])
def test_unrolled_edges_go_from_t_minus_k_to_t(path, steps):
    """An unrolled edge of delay k joins step t-k to step t, and every folded edge appears at every step."""
    model = _load(path)
    g = unrolled(model, steps, max_columns=100)
    by_id = {n.id: n for n in g.nodes}
    for e in g.edges:
        assert by_id[e.target].time - by_id[e.source].time == e.delay
    folded_edges = {(e.source, e.target, e.param, e.delay) for e in folded(model).edges}
    for t in range(1, steps + 1):
        at_t = {(by_id[e.source].name, by_id[e.target].name, e.param, e.delay)
                for e in g.edges if by_id[e.target].time == t}
        assert at_t == folded_edges


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_initial_states_sit_at_step_zero(path):
    """Step 0 holds exactly the recurrent variables and the inputs read at a delay."""
    model = _load(path)
    g = unrolled(model, 3)
    at_zero = {n.name for n in g.nodes if n.time == 0}
    delayed_inputs = {n for n in model.inputs if model.delays(n)}
    assert at_zero == set(model.recurrent) | delayed_inputs


def test_delay_two_reaches_back_two_columns():
    """A read at t-2 needs a step -1 column and keeps delay 2 on its edges."""
    g = unrolled(load_model("h[t] = tanh(W h[t-2] + U x[t])"), 3)
    assert {n.id for n in g.nodes if n.name == "h"} == {"h@-1", "h@0", "h@1", "h@2", "h@3"}
    assert {(e.source, e.target) for e in g.edges if e.delay == 2} == {("h@-1", "h@1"), ("h@0", "h@2"),
                                                                        ("h@1", "h@3")}


def test_input_read_ahead_gets_a_column_after_the_last_step():
    """An input read at t+1 (a bidirectional-style read) appears at step N+1 with delay -1."""
    g = unrolled(load_model("h[t] = tanh(W h[t-1] + U x[t+1])"), 2)
    assert ("x@3", "h@2", -1) in {(e.source, e.target, e.delay) for e in g.edges}


@pytest.mark.parametrize("steps, max_columns, shown", [(3, 6, 3), (6, 6, 6), (7, 6, 5), (10, 6, 5),
                                                        (100, 6, 5), (100, 3, 2), (1000, 9, 8)])
def test_long_unrolls_collapse_into_an_ellipsis_column(steps, max_columns, shown):
    """Beyond max_columns steps the middle steps become one ellipsis node per row, first and last kept."""
    g = unrolled(load_model("h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]"), steps, max_columns=max_columns)
    times = {n.time for n in g.nodes if n.time is not None and n.time >= 1}
    assert len(times) == shown and 1 in times and steps in times
    ellipses = [n for n in g.nodes if n.ellipsis]
    if shown < steps:
        assert {n.name for n in ellipses} == {"x", "h", "y"}
        assert g.collapsed == (min(set(range(1, steps + 1)) - times), max(set(range(1, steps + 1)) - times))
        ids = {n.id for n in g.nodes}
        assert all(e.source in ids and e.target in ids for e in g.edges)
        assert any(e.target == f"h@{ELLIPSIS}" for e in g.edges) and any(e.source == f"h@{ELLIPSIS}" for e in g.edges)
    else:
        assert not ellipses and g.collapsed is None


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
@pytest.mark.parametrize("view", ["folded", "unrolled"])
def test_json_graph_follows_the_contract(path, view):
    """The JSON graph has the documented keys, canonical names, roles and no ':' in ids."""
    model = _load(path)
    data = json.loads(json.dumps(build(model, view, steps=3).to_json()))
    assert data["view"] == view and data["steps"] == (3 if view == "unrolled" else 0)
    ids = [n["id"] for n in data["nodes"]]
    assert len(ids) == len(set(ids)) and not any(":" in i for i in ids)
    for n in data["nodes"]:
        assert set(n) >= {"id", "name", "time", "role"}
        assert n["name"] in model.symbols and n["role"] in ("input", "state", "hidden", "output", "parameter")
        assert (n["time"] is None) == (view == "folded")
    for e in data["edges"]:
        assert e["source"] in ids and e["target"] in ids
        assert e["param"] is None or all(p in model.parameters for p in e["param"].split(" "))
        if view == "folded":
            # Only a backward chain is read ahead among the variables.
            assert e["delay"] >= 0 or e["source"] in model.inputs + model.backward


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_graphs_are_deterministic(path):
    """Building a graph twice gives the same JSON."""
    model = _load(path)
    assert build(model, "unrolled", steps=4).to_json() == build(model, "unrolled", steps=4).to_json()
    assert folded(model).to_json() == folded(_load(path)).to_json()


def test_levels_put_inputs_at_the_bottom_and_outputs_on_top():
    """Inputs are level 0 and each variable is above everything it reads at the same step."""
    model = load_model((EXAMPLES / "lstm.rnn").read_text())
    lv = levels(model)
    assert lv["x"] == 0
    for eq in model.equations:
        for r in reads_of(eq.expr):
            if r.delay == 0:
                assert lv[eq.target] > lv[r.name]


@pytest.mark.parametrize("kwargs", [dict(view="unrolled", steps=0), dict(view="unrolled", max_columns=2),
                                    dict(view="sideways")])
def test_bad_options_are_value_errors(kwargs):
    """Zero steps, fewer than 3 columns and unknown views are reported as rnnviz errors."""
    with pytest.raises(ValueSpecError):
        build(load_model("h[t] = tanh(W h[t-1] + U x[t])"), **kwargs)
