"""Unit-index notation (the Deep Learning book's LSTM, eq. 10.40-10.44) is the vector model.

The book writes each unit i of its LSTM: ``f_i^{(t)} = \\sigma(b_i^f + \\sum_j U_{i,j}^f x_j^{(t)}
+ \\sum_j W_{i,j}^f h_j^{(t-1)})``. rnnviz reads it as the vector equation, so the book's own
LSTM, with the choices of exercise 4 of the worked exercises (a ReLU on the state, the
output gate's bias b^q, an output o), is that exercise: the same trees, roles, diagrams and
numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import rnnviz
from rnnviz.diagrams.diagram import draw
from rnnviz.errors import RnnvizError
from rnnviz.numeric.forward_pass import forward
from tests.numeric.test_exercises_forward import EXERCISE_4, _by_hand

VALUES = EXERCISE_4[EXERCISE_4.index("U^g = 0.3"):]

BOOK_EXERCISE_4 = r"""
$$f_i^{(t)} = \sigma\left(b_i^f + \sum_j U_{i,j}^f x_j^{(t)} + \sum_j W_{i,j}^f h_j^{(t-1)}\right)$$
$$g_i^{(t)} = \sigma\left(b_i^g + \sum_j U_{i,j}^g x_j^{(t)} + \sum_j W_{i,j}^g h_j^{(t-1)}\right)$$
$$q_i^{(t)} = \sigma\left(b_i^q + \sum_j U_{i,j}^q x_j^{(t)} + \sum_j W_{i,j}^q h_j^{(t-1)}\right)$$
$$s_i^{(t)} = f_i^{(t)} s_i^{(t-1)} + g_i^{(t)} \sigma\left(b_i + \sum_j U_{i,j} x_j^{(t)} + \sum_j W_{i,j} h_j^{(t-1)}\right)$$
$$h_i^{(t)} = \text{ReLU}(s_i^{(t)}) * q_i^{(t)}$$
$$o_i^{(t)} = \sigma(h_i^{(t)} * V + c)$$
""" + VALUES

PASTES = Path(__file__).resolve().parent.parent / "data" / "pastes"

BOOK_VECTOR = r"""
f^{(t)} = \sigma(b^f + U^f x^{(t)} + W^f h^{(t-1)})
s^{(t)} = f^{(t)} s^{(t-1)} + g^{(t)} \sigma(b + U x^{(t)} + W h^{(t-1)})
g^{(t)} = \sigma(b^g + U^g x^{(t)} + W^g h^{(t-1)})
h^{(t)} = \tanh(s^{(t)}) \cdot q^{(t)}
q^{(t)} = \sigma(b^o + U^o x^{(t)} + W^o h^{(t-1)})
"""


def _trees(model):
    return [(e.target, e.expr) for e in model.equations], {n: s.role for n, s in model.symbols.items()}


def test_the_books_lstm_is_exercise_4():
    """Same trees and roles, same gates, same diagrams, same numbers as exercise 4 in vector notation."""
    book, sheet = rnnviz.load_model(BOOK_EXERCISE_4), rnnviz.load_model(EXERCISE_4)
    assert _trees(book) == _trees(sheet)
    assert rnnviz.language.analyze(book).to_json() == rnnviz.language.analyze(sheet).to_json() == {
        "gates": {"f": "forget", "g": "input", "q": "output"}, "cell_state": "s"}
    for view in ("folded", "unrolled", "cell"):
        assert draw(book, view, 3).dot() == draw(sheet, view, 3).dot()
    a, b = forward(book), forward(sheet)
    for t, row in enumerate(_by_hand(), start=1):
        for name, value in row.items():
            assert float(a.value(name, t)) == pytest.approx(value, abs=1e-12)
            assert float(a.value(name, t)) == float(b.value(name, t))


@pytest.mark.parametrize("file", ["43-goodfellow-notes-lstm-unit-index.txt", "45-goodfellow-tutorial-lstm-tagged.txt"])
def test_pasted_book_lstm_is_the_vector_lstm(file):
    """Eq. 10.40-10.44 as pasted from two sets of notes (one writes h_j^{t-1}, the other \\tag{...})."""
    assert _trees(rnnviz.load_model((PASTES / file).read_text(encoding="utf-8"))) == _trees(
        rnnviz.load_model(BOOK_VECTOR))


SAME = {
    "U_{ij} without a comma": (r"h_i^{(t)} = \tanh(\sum_j U_{ij} x_j^{(t)} + \sum_j W_{ij} h_j^{(t-1)} + b_i)",
                               "h[t] = tanh(U x[t] + W h[t-1] + b)"),
    "a bare time superscript before the unit index, h^{t-1}_j": (
        r"h_i^{(t)} = \tanh(\sum_j W_{i,j} h^{t-1}_j + b_i)", "h[t] = tanh(W h[t-1] + b)"),
    "a bracketed component [W x]_i": (r"h_i^{(t)} = \tanh([W x^{(t)}]_i + [U h^{(t-1)}]_i)",
                                      "h[t] = tanh((W x[t]) + (U h[t-1]))"),
    "a component around a gated product": (
        r"r_j^{(t)} = \sigma([W_r x^{(t)}]_j)" "\n" r"h_j^{(t)} = \tanh([W x^{(t)}]_j + [U(r^{(t)} \odot h^{(t-1)})]_j)",
        "r[t] = sigmoid(W_r x[t])\nh[t] = tanh(W x[t] + U (r[t] * h[t-1]))"),
    "a gated sum over j (eq. 10.45)": (r"h_i^{(t)} = \sigma(\sum_j W_{i,j} r_j^{(t-1)} h_j^{(t-1)})",
                                       "h[t] = sigmoid(W (r[t-1] * h[t-1]))"),
}


@pytest.mark.parametrize("unit, vector", SAME.values(), ids=list(SAME))
def test_unit_index_spelling_is_the_vector_model(unit, vector):
    assert _trees(rnnviz.load_model(unit)) == _trees(rnnviz.load_model(vector))


REFUSED = {
    "a summed index outside its sum": (r"h_i^{(t)} = \tanh(\sum_j U_{i,j} x_j^{(t)} + b_j)", 46, "not summed here"),
    "a weight indexed the other way": (r"h_i^{(t)} = \tanh(\sum_j U_{j,i} x_j^{(t)})", 26, "indexed (j,i)"),
    "a sum over the free index": (r"h_i^{(t)} = \tanh(\sum_i U_{i,i} x_i^{(t)})", 19, "free index"),
    "a sum without a weight": (r"h_i^{(t)} = \tanh(\sum_j x_j^{(t)})", 19, "needs a weight"),
    "a component of another index": (r"h_i^{(t)} = \tanh([W x^{(t)}]_j)", 19, "does not match"),
    "a sum over time of what nothing computes": (r"L = \sum_t L_t" "\nh_t = tanh(W h_{t-1})", 1, "sums L over time"),
    "a sum outside unit-index notation": (r"L_t = -\sum_i y_{t,i} p_{t,i}", 8, "over components"),
}


@pytest.mark.parametrize("text, column, words", REFUSED.values(), ids=list(REFUSED))
def test_an_index_used_inconsistently_is_an_error_at_its_position(text, column, words):
    with pytest.raises(RnnvizError) as info:
        rnnviz.load_model(text)
    assert info.value.span.column == column, info.value.format()
    assert words in info.value.format()


def test_unit_index_reading_comes_with_a_note():
    notes = rnnviz.load_model(SAME["U_{ij} without a comma"][0]).notes
    assert any("unit-index notation" in n for n in notes)


def test_a_unit_superscript_beside_the_whole_vector_is_the_vector_equation():
    """Goodfellow et al. §10.9.1, leaky units: h_t^{(i)} <- alpha h_{t-1}^{(i)} + (1-alpha) f(h_{t-1}, x_t; theta)."""
    book = rnnviz.load_model(r"h_t^{(i)} \leftarrow \alpha h_{t-1}^{(i)} + (1-\alpha) f(h_{t-1}, x_t; \theta)",
                             "m.rnn")
    plain = rnnviz.load_model(r"h_t = \alpha h_{t-1} + (1-\alpha) f(h_{t-1}, x_t; \theta)")
    assert book.equations == plain.equations and book.parameters == ["alpha", "theta"]
    assert any("m.rnn:1:1: the superscript (i) of h marks unit i" in n for n in book.notes), book.notes


@pytest.mark.parametrize("text, variables", [
    # Without the whole vector beside it, ^{(i)} stays part of the name (an input gate's h^{(i)}).
    (r"h_t^{(i)} = \tanh(W^{(i)} h_{t-1}^{(i)} + x_t)", ["h^i"]),
    # A layer written i: h^{(i-1)} is no unit.
    (r"h_t^{(i)} = \tanh(W h_t^{(i-1)} + h_{t-1})" "\n" r"h_t^{(i-1)} = x_t", ["h^i-1", "h^i"]),
])
def test_a_superscript_i_stays_a_name_where_nothing_shows_a_unit(text, variables):
    try:
        model = rnnviz.load_model(text)
    except rnnviz.RnnvizError as err:  # refused is fine too: never read as the vector equation silently
        assert err.span is not None
        return
    assert sorted(model.variables) == sorted(variables)
