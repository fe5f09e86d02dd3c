"""Deep RNNs written by layer index (exercise 10, Goodfellow et al. §10.5, d2l.ai)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.language import expr as E
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.shapes import parameter_count
from tests.conftest import assert_error_at

EXERCISE_10 = r"""
H_t^{(0)} = X_t
H_t^{(l)} = \tanh(H_t^{(l-1)} W_{xh}^{(l)} + H_{t-1}^{(l)} W_{hh}^{(l)} + b_h^{(l)})
O_t = H_t^{(L)} W_{hq} + b_q

L = 3, X_t \in \mathbb{R}^{1 \times 5}, H_t^{(l)} \in \mathbb{R}^{1 \times 8}, O_t \in \mathbb{R}^{1 \times 2}
"""


def test_exercise_10_parameter_count():
    """Layer 1 has 5·8 + 8·8 + 8 = 112, layers 2 and 3 have 136 each, the output 18: 402 in all."""
    model = rnnviz.load_model(EXERCISE_10)
    assert model.variables == ["H_1", "H_2", "H_3", "O"]
    counts = rnnviz.parameter_counts(model) if hasattr(rnnviz, "parameter_counts") else None
    assert parameter_count(model) == 402
    per_layer = {n: int(np.prod(forward(model, steps=1).params[n].shape)) for n in model.parameters}
    assert sum(v for k, v in per_layer.items() if k.endswith("1")) == 112
    assert sum(v for k, v in per_layer.items() if k.endswith("2")) == 136
    assert per_layer["W_hq"] + per_layer["b_q"] == 18
    del counts


def test_exercise_10_draws_one_row_per_layer():
    """Fig. 10.13: one row per layer, layer 1 at the bottom, the output on top."""
    from rnnviz.diagrams.graph import build
    from rnnviz.diagrams.layout import levels

    lv = levels(build(rnnviz.load_model(EXERCISE_10), "unrolled", steps=3))
    assert lv["X"] < lv["H_1"] < lv["H_2"] < lv["H_3"] < lv["O"]


def test_the_layer_index_is_the_explicit_stack():
    """Written by layer index or layer by layer, the model is the same."""
    by_index = rnnviz.load_model(r"""
h_t^{(l)} = \phi(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)} + b^{(l)})
h_t^{(0)} = x_t
o_t = V h_t^{(L)} + c
\phi = relu
L = 3
""")
    explicit = rnnviz.load_model("""
h_1[t] = phi(W_1 x[t] + U_1 h_1[t-1] + b_1)
h_2[t] = phi(W_2 h_1[t] + U_2 h_2[t-1] + b_2)
h_3[t] = phi(W_3 h_2[t] + U_3 h_3[t-1] + b_3)
o[t] = V h_3[t] + c
phi = relu
""")
    assert [(eq.target, E.to_text(eq.expr)) for eq in by_index.equations] == \
        [(eq.target, E.to_text(eq.expr)) for eq in explicit.equations]


def test_two_layers_when_L_is_not_given_with_a_note():
    model = rnnviz.load_model("h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)})\nh_t^{(0)} = x_t")
    assert model.variables == ["h_1", "h_2"]
    assert model.notes == ["<input>: L (the number of layers) was not given; 2 layers"]


def test_concrete_layers_are_a_superscript_beside_a_time():
    """H_t^{(1)} is layer 1 at time t, not two time indices; h^{(0)} alone is still step 0."""
    model = rnnviz.load_model(r"""
H_t^{(1)} = \tanh(X_t W_1 + H_{t-1}^{(1)} W_2)
H_t^{(2)} = \tanh(H_t^{(1)} W_3 + H_{t-1}^{(2)} W_4)
H_1[0] = 1
dim X = 2, H_1 = 3, H_2 = 3
""")
    assert model.variables == ["H_1", "H_2"]
    tr = forward(model, steps=2)
    np.testing.assert_array_equal(tr.value("H_1", 0), np.ones(3))
    assert rnnviz.load_model("h^{(t)} = tanh(W h^{(t-1)} + x^{(t)})\nh^{(0)} = 2").values[0].time == 0


def test_values_for_layer_l_hold_for_every_layer():
    model = rnnviz.load_model(r"""
h_t^{(l)} = \tanh(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)})
h_t^{(0)} = x_t
h_0^{(l)} = 0.5, L = 2, x = [1, 2]
""")
    tr = forward(model)
    assert float(tr.value("h_1", 0)) == 0.5 and float(tr.value("h_2", 0)) == 0.5


def test_a_layer_0_defined_nowhere_is_the_input_of_the_stack_with_a_note():
    """d2l.ai writes H_t^{(l)} = phi_l(H_t^{(l-1)} W_xh^{(l)} + ...) and says H_t^{(0)} = X_t in its prose."""
    model = rnnviz.load_model(r"h_t^{(l)} = \phi_l(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)})" "\nL = 3", "m.rnn")
    assert model.inputs == ["h^(0)"] and model.variables == ["h_1", "h_2", "h_3"]
    assert [n for n in model.notes if "defined nowhere" in n] == [
        "m.rnn:1:28: h_t^{(0)}, the layer below the first, is defined nowhere: it is read as the input of the "
        "stack; write h_t^{(0)} = x_t to name the input"]
    # \phi_l is the activation of layer l: one per layer, each given its own meaning.
    assert [s for s, sym in model.symbols.items() if sym.kind == "function"] == ["phi_1", "phi_2", "phi_3"]


@pytest.mark.parametrize("text, line, column, words", [
    ("o_t = V h_t^{(L)}\nh_t = tanh(W h_{t-1} + x_t)", 1, 9, "no equation is written for every layer"),
    ("h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)})\nh_t^{(0)} = x_t\no_t = V h_t^{(l)}", 3, 9,
     "l is only defined in an equation written for every layer"),
    ("h_t^{(l)} = tanh(W^{(l)} h_t^{(l+1)})\nh_t^{(0)} = x_t\nL = 2", 1, 26, "above the top layer L = 2"),
    ("h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)})\nh_t^{(0)} = x_t\nL = 1.5", 3, 5, "whole number"),
    ("h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)})\nh_t^{(0)} = 3\nL = 2", 2, 13, "layer 0 is the input"),
])
def test_layer_misuses_are_errors_with_positions(text, line, column, words):
    err = assert_error_at(text, line, column, words)
    assert err.format().startswith(f"m.rnn:{line}:{column}:")


def test_a_layer_0_given_for_another_name_is_an_error_not_a_new_input():
    err = assert_error_at("h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)})\nH_t^{(0)} = x_t", 1, 26,
                          "is not defined (only H_t^{(0)} is)")
    assert "add h_t^{(0)} = x_t" in err.format()
