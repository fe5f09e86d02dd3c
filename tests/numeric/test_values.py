"""Value lines become arrays: parameters, initial states, sequences, sizes; later lines win."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import ShapeError, ValueSpecError, load_model
from rnnviz.language import parse_assignment
from rnnviz.language.parse import parse_text
from rnnviz.numeric.values import describe_shape, given_values, to_array

RNN = "h[t] = tanh(W h[t-1] + U x[t])\n"


@pytest.mark.parametrize("line,name,shape", [
    ("W = 0.5", "W", ()),
    ("W = [1, 2]", "W", (2,)),
    ("W = [[0.1, 0.2], [0.3, 0.4]]", "W", (2, 2)),
    ("U = \\frac{3}{2}", "U", ()),
])
def test_parameters_become_arrays_of_their_shape(line, name, shape):
    """A parameter's value line becomes a float array of the shape written."""
    g = given_values(load_model(RNN + line))
    assert g.params[name].shape == shape
    assert g.params[name].dtype == np.float64


@pytest.mark.parametrize("line,steps,shape", [
    ("x = [0.7, 0.5, 0.7]", [1, 2, 3], ()),
    ("x = [[1, 2], [3, 4]]", [1, 2], (2,)),
    ("x_1 = 2, x_2 = 3 and x_3 = 1", [1, 2, 3], ()),
    ("x = 4", [1], ()),
])
def test_input_sequences_start_at_step_one(line, steps, shape):
    """The first axis of a sequence is time, x[1..T]; single steps x_1 = 2 likewise."""
    g = given_values(load_model(RNN + line))
    assert sorted(g.inputs["x"]) == steps
    assert all(a.shape == shape for a in g.inputs["x"].values())


def test_sequence_values_are_in_order():
    """The entries of a sequence land at the steps in the order written."""
    g = given_values(load_model(RNN + "x = [0.7, 0.5, 0.2]"))
    assert [float(g.inputs["x"][t]) for t in (1, 2, 3)] == [0.7, 0.5, 0.2]


def test_initial_values_keep_their_step():
    """h_0 and h[-1] are initial values at steps 0 and -1."""
    m = load_model("h[t] = W h[t-1] + V h[t-2]\nh_0 = 1, h[-1] = 2")
    g = given_values(m)
    assert {t: float(a) for t, a in g.initial["h"].items()} == {0: 1.0, -1: 2.0}


def test_sizes_are_read():
    """dim lines and x[t] in R^3 give sizes."""
    g = given_values(load_model(RNN + "dim x = 3, h = 5\n"))
    assert g.sizes == {"x": (3,), "h": (5,)}
    g = given_values(load_model(RNN + "x[t] \\in \\mathbb{R}^3"))
    assert g.sizes == {"x": (3,)}


def test_later_values_win():
    """A --set after the file replaces the file's value; a whole sequence replaces single steps."""
    m = load_model(RNN + "W = 1\nx_1 = 5, x_2 = 6")
    m = m.with_values(parse_assignment("W=2", "--set #1"), parse_assignment("x=[7]", "--set #2"))
    g = given_values(m)
    assert float(g.params["W"]) == 2.0
    assert {t: float(a) for t, a in g.inputs["x"].items()} == {1: 7.0}


def test_values_file_adds_values():
    """A second file of values adds to the equation file's."""
    m = load_model(RNN).with_values(parse_text("W = 3\nh_0 = 1", "vals.rnn"))
    g = given_values(m)
    assert float(g.params["W"]) == 3.0 and float(g.initial["h"][0]) == 1.0


def test_ragged_matrix_names_the_line():
    """A matrix with rows of different lengths is a ShapeError pointing at its line."""
    with pytest.raises(ShapeError) as info:
        given_values(load_model(RNN + "W = [[1, 2], [3]]"))
    assert info.value.span.line == 2
    assert "different lengths (2, 1)" in info.value.message
    assert "^" in info.value.format()


def test_mixed_numbers_and_lists_are_an_error():
    """A value mixing numbers and lists is a ShapeError, not a crash."""
    with pytest.raises(ShapeError):
        given_values(load_model(RNN + "W = [1, [2, 3]]"))


def test_value_for_computed_step_is_an_error():
    """A value for a step the equation computes (h_2) is refused with its line."""
    with pytest.raises(ValueSpecError) as info:
        given_values(load_model(RNN + "h_2 = 1"))
    assert info.value.span.line == 2


def test_to_array_rejects_too_many_levels():
    """Four levels of brackets are not a value rnnviz can use."""
    with pytest.raises(ShapeError):
        to_array([[[[1.0]]]], load_model(RNN))


@pytest.mark.parametrize("shape,text", [((), "a scalar"), ((1,), "1 entry"), ((3,), "3 entries"),
                                        ((5, 4), "5x4")])
def test_describe_shape(shape, text):
    """Shapes are put in words the way error messages use them."""
    assert describe_shape(shape) == text


def test_infinite_value_is_refused_at_its_line():
    """A number too large for a float (1e400) is an error at its line, not a silent inf."""
    with pytest.raises(ValueSpecError) as info:
        given_values(load_model(RNN + "W = 1e400"))
    assert info.value.span.line == 2
