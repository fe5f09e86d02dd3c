"""Shape inference from sizes and values, products in both conventions, counts, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnviz import ShapeError, load, load_model
from rnnviz.numeric.shapes import (
    infer_shapes,
    parameter_count,
    parameter_shapes,
    product_kind,
)
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("text,expected", [
    # column vectors: U x[t] added into h of size 5 with x of size 3 makes U 5x3
    ("h[t] = tanh(U x[t] + V h[t-1] + b)\ndim x = 3, h = 5", {"U": (5, 3), "V": (5, 5), "b": (5,)}),
    # row vectors, as d2l.ai writes them
    ("h[t] = tanh(x[t] W_xh + h[t-1] W_hh + b)\ndim x = 3, h = 5", {"W_xh": (3, 5), "W_hh": (5, 5), "b": (5,)}),
    # concatenation
    ("h[t] = tanh(W [h[t-1], x[t]] + b)\ndim x = 3, h = 4", {"W": (4, 7), "b": (4,)}),
    # scalars everywhere
    ("h_t = relu(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]", {"V": (), "W": ()}),
    # a scalar weight scales a vector
    ("h[t] = tanh(a h[t-1] + U x[t])\na = 0.5\ndim x = 2, h = 3", {"a": (), "U": (3, 2)}),
    # a scalar input multiplied by a weight into a vector state gives a vector weight
    ("h[t] = tanh(W h[t-1] + U x[t])\nx = [1, 2]\ndim h = 3", {"W": (3, 3), "U": (3,)}),
    # the size of the state comes from a value of a weight
    ("h[t] = tanh(W h[t-1] + U x[t])\nU = [[1, 2], [3, 4], [5, 6]]", None),
    # gates: element-wise products carry sizes to the gate weights
    ("z[t] = sigmoid(W_z x[t])\nh[t] = (1 - z[t]) * h[t-1] + z[t] * tanh(U x[t])\ndim x = 2, h = 3",
     {"W_z": (3, 2), "U": (3, 2)}),
])
def test_parameter_shapes(text, expected):
    """Each parameter's shape follows from the sizes that are known."""
    m = load_model(text)
    shapes = parameter_shapes(m)
    if expected is None:  # the last case: x and h follow from U alone, and W from h
        s = infer_shapes(m)
        assert (s.of("x"), s.of("h"), s.of("W")) == ((2,), (3,), (3, 3))
    else:
        for name, shape in expected.items():
            assert shapes[name] == shape


def test_node_shapes_follow_walk_order():
    """Every node of a tree has a shape, indexed in walk pre-order."""
    m = load_model("h[t] = tanh(U x[t] + V h[t-1])\ndim x = 3, h = 5")
    s = infer_shapes(m)
    assert s.nodes["h"] == [(5,), (5,), (5,), (5, 3), (3,), (5,), (5, 5), (5,)]


def test_vanilla_rnn_has_45_parameters():
    """Exercise 3: h_t = tanh(V h_{t-1} + W x_t + b), x in R^3, h in R^5 has 3*5 + 5*5 + 5 = 45."""
    m = load_model("h_t = \\tanh(V \\cdot h_{t-1} + W \\cdot x_t + b)\nx_t \\in \\mathbb{R}^3, h_t \\in \\mathbb{R}^5")
    assert parameter_count(m) == 3 * 5 + 5 * 5 + 5


def test_every_example_has_shapes(example_path):
    """Every bundled example has a shape for every symbol."""
    m = load(str(example_path))
    s = infer_shapes(m)
    assert set(s.symbols) == {n for n, sym in m.symbols.items() if sym.kind != "function"}


def test_contradiction_names_expression_and_both_shapes():
    """A matrix that does not fit its vector names the product and both shapes at its span."""
    m = load_model("h[t] = tanh(U x[t] + V h[t-1])\ndim x = 3, h = 5\n"
                   "U = [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]")
    with pytest.raises(ShapeError) as info:
        infer_shapes(m)
    err = info.value
    assert err.message == "U x[t]: U is 5x4 but x has 3 entries"
    assert (err.span.line, err.span.column) == (1, 13)


def test_sum_of_different_sizes_is_an_error():
    """Adding vectors of different sizes names both sides."""
    m = load_model("y[t] = tanh(a[t] + b[t])\na[t] = x[t]\nb[t] = z[t]\ndim x = 3, z = 2")
    with pytest.raises(ShapeError) as info:
        infer_shapes(m)
    assert info.value.message.startswith("a[t] + b[t]: a has 3 entries but b has 2 entries")
    assert info.value.span.line == 1


def test_right_side_of_wrong_size_is_an_error():
    """A right side whose size differs from the variable's dim is an error at the equation."""
    m = load_model("h[t] = tanh(a[t] + x[t])\na[t] = x[t]\ndim x = 3, h = 2")
    with pytest.raises(ShapeError) as info:
        infer_shapes(m)
    assert info.value.message == "h[t] has 2 entries but its right side has 3 entries"


def test_size_and_value_disagree():
    """A value whose shape contradicts a dim line is an error at the value."""
    m = load_model("h[t] = tanh(W h[t-1] + U x[t])\ndim x = 3, h = 2\nx = [[1, 2]]")
    with pytest.raises(ShapeError) as info:
        infer_shapes(m)
    assert info.value.span.line == 3


def test_missing_size_names_the_symbol():
    """A size no value fixes says which symbol needs dim."""
    m = load_model("h[t] = tanh(U x[t] + V h[t-1])\ndim x = 3")
    with pytest.raises(ShapeError) as info:
        infer_shapes(m)
    assert "'h'" in info.value.message and "dim h" in info.value.hint


def test_variable_given_as_matrix_size_is_an_error():
    """A variable holds a vector per step: a two-number size is refused."""
    with pytest.raises(ShapeError):
        infer_shapes(load_model("h[t] = tanh(W h[t-1])\ndim h = 3 \\times 2"))


@pytest.mark.parametrize("left,right,kind", [
    ((), (3,), "mul"), ((3,), (), "mul"), ((3,), (3,), "mul"), ((5, 3), (3,), "matvec"),
    ((3,), (3, 5), "vecmat"), ((2, 3), (3, 4), "matmul"), ((5, 4), (3,), None), ((3,), (4,), None),
])
def test_product_kind(left, right, kind):
    """Products follow the language: scaling, element-wise, matrix-vector in either order."""
    assert product_kind(left, right) == kind


@pytest.mark.parametrize("n_x,n_h", [(1, 1), (3, 5), (7, 2), (16, 32)])
def test_lstm_and_gru_counts_follow_the_formula(n_x, n_h):
    """An LSTM has 4 h (x + h + 1) parameters; a GRU in concatenation form without biases 3 h (h + x)."""
    assert parameter_count(load(str(EXAMPLES / "lstm.rnn")).with_values(*_dims(n_x, n_h))) == \
        4 * n_h * (n_x + n_h + 1)
    assert parameter_count(load(str(EXAMPLES / "gru.rnn")).with_values(*_dims(n_x, n_h))) == 3 * n_h * (n_h + n_x)


def _dims(n_x: int, n_h: int):
    from rnnviz.language.parse import parse_text

    return [parse_text(f"dim x = {n_x}, h = {n_h}", "--set")]
