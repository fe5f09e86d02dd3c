"""Overflow and log errors point at the sub-expression that failed, also where it is computed for all steps at once."""

from __future__ import annotations

import pytest

import rnnviz
from rnnviz.errors import NumericError
from rnnviz.numeric.forward_pass import forward


@pytest.mark.parametrize("text, step, where, words", [
    ("h[t] = tanh(W h[t-1] + U x[t])\nW = 1, U = 1e200\nx = [1e200]", 1, "U x[t]", "overflow"),
    ("h[t] = tanh(W h[t-1] + U x[t] + b)\nW = 1, U = 1e200, b = 1\nx = [1, 1e200]", 2, "U x[t]", "overflow"),
    ("h[t] = tanh(W h[t-1] + U * x[t])\nW = 1, U = 1e200\nx = [1e200]", 1, "U * x[t]", "overflow"),
    ("h[t] = tanh(W h[t-1] + log(x[t]))\nW = 1\nx = [1, -1]", 2, "log(x[t])", "log of a number <= 0"),
    ("h[t] = log(W h[t-1] + x[t])\nW = 1, h_0 = 1\nx = [1, -3]", 2, "log(W h[t-1] + x[t])", "log of a number <= 0"),
])
def test_numeric_errors_name_the_failing_node(text, step, where, words):
    """The caret spans the product or call that overflowed, not one of its operands, at the right step."""
    model = rnnviz.load_model(text)
    with pytest.raises(NumericError) as info:
        forward(model)
    err = info.value
    line = text.splitlines()[0]
    assert err.step == step and words in str(err)
    assert line[err.span.column - 1:err.span.end_column - 1] == where

