"""Values a student mistypes: each error says what is wrong with that value, where it is written."""

from __future__ import annotations

import pytest

import rnnviz
from rnnviz.errors import ParseError, ShapeError, ValueSpecError
from rnnviz.language import parse_assignment
from rnnviz.numeric.forward_pass import forward

VANILLA = "h[t] = tanh(W_hh h[t-1] + W_xh x[t] + b_h)\ny[t] = W_hy h[t] + b_y\ndim x = 3, h = 5, y = 2\n"


@pytest.mark.parametrize("value, word", [("W_hh = nan", "nan"), ("W_hh = -inf", "inf"), ("b_h = NaN", "NaN")])
def test_nan_and_inf_are_refused_as_values(value, word):
    """`W = nan` is refused as a value that is not a finite number, not as 'an equation with no time index'."""
    model = rnnviz.load_model(VANILLA)
    with pytest.raises(ValueSpecError) as info:
        model.with_values(parse_assignment(value))
    text = info.value.format()
    assert f"'{word}' is not a number" in text and "time index" not in text
    assert info.value.span.column == value.index("=") + 3


def test_nan_in_the_equation_file_is_refused_there():
    """The same holds for a value line in the equation file itself."""
    with pytest.raises(ValueSpecError) as info:
        rnnviz.load_model("h[t] = tanh(W h[t-1] + x[t])\nW = inf\n")
    assert info.value.span.line == 2 and "finite" in info.value.format()


def test_a_flat_sequence_for_a_vector_input_says_how_to_write_vectors():
    """`x = [1, 2, 3]` with dim x = 3 explains the list of lists, instead of calling x a scalar."""
    model = rnnviz.load_model(VANILLA).with_values(parse_assignment("x = [1, 2, 3]"))
    with pytest.raises(ShapeError) as info:
        forward(model)
    text = info.value.format()
    assert "each step of 'x' is a scalar" in text and "x = [[" in text


@pytest.mark.parametrize("text, column, width", [("x = []", 5, 2), ("x = [ ]", 5, 3), ("x = [[]]", 6, 2)])
def test_empty_brackets_say_they_hold_nothing(text, column, width):
    """An empty list is 'holds nothing' at the brackets, not 'nothing opened it'."""
    with pytest.raises(ParseError) as info:
        parse_assignment(text)
    err = info.value
    assert "holds nothing" in err.format() and "nothing opened" not in err.format()
    assert (err.span.column, err.span.end_column - err.span.column) == (column, width)


def test_a_real_extra_parenthesis_is_still_unbalanced():
    """A closing parenthesis with no opener keeps its own message."""
    with pytest.raises(ParseError) as info:
        rnnviz.load_model("h[t] = tanh(W h[t-1] + x[t]))")
    assert "nothing opened it" in info.value.format() and info.value.span.column == 29


@pytest.mark.parametrize("sizes", [
    r"x_t \in \mathbb{R}^{3 \times 1}, h_t \in \mathbb{R}^{5}",
    r"x_t \in \mathbb{R}^{1 \times 3}, h_t \in \mathbb{R}^{5 \times 1}",
    "dim x = 3, h = 5, W = 5x3",
    "dim x = 3, h = 5, W = 5 x 3",
    "x_t ∈ ℝ³, hₜ ∈ ℝ⁵",
    "W ∈ ℝ⁵ˣ³, h \\in ℝ⁵",
])
def test_sizes_as_sheets_write_them(sizes):
    """A column (n x 1) or row (1 x n) size of a vector, and 5x3 for a matrix, give the usual shapes."""
    from rnnviz.numeric.shapes import infer_shapes
    from rnnviz.numeric.values import given_values

    model = rnnviz.load_model("h_t = tanh(W x_t + U h_{t-1})\n" + sizes)
    shapes = infer_shapes(model, given_values(model))
    assert (shapes.of("x"), shapes.of("h"), shapes.of("W"), shapes.of("U")) == ((3,), (5,), (5, 3), (5, 5))


def test_a_bare_x_is_not_a_size():
    """`dim W = x` is still refused as a size."""
    with pytest.raises(ValueSpecError):
        rnnviz.load_model("h_t = tanh(W x_t)\ndim W = x")


@pytest.mark.parametrize("sizes", ["dim x = 2; h = 3", "dim x = 2 and h = 3", "dim x = 2, h = 3"])
def test_dim_line_separators(sizes):
    """A dim line separates its sizes with ',', ';' or 'and', as value lines do."""
    from rnnviz.numeric.shapes import infer_shapes
    from rnnviz.numeric.values import given_values

    model = rnnviz.load_model("h_t = tanh(W h_{t-1} + U x_t)\n" + sizes)
    shapes = infer_shapes(model, given_values(model))
    assert (shapes.of("W"), shapes.of("U")) == ((3, 3), (3, 2))
