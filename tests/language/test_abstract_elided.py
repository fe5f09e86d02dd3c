"""An elided list (\\dots) in a chain's earlier side: the last side defines, the elision is never read."""

from __future__ import annotations

import pytest

import rnnviz
from tests.conftest import assert_error_at


def test_an_elided_earlier_side_of_a_chain_is_not_read():
    """Goodfellow et al. eq. 10.5-10.7: h^{(t)} = g^{(t)}(x^{(t)}, ..., x^{(1)}) = f(h^{(t-1)}, x^{(t)}; theta)."""
    model = rnnviz.load_model(r"h^{(t)} = g^{(t)}(x^{(t)}, x^{(t-1)}, \dots x^{(2)}, x^{(1)}) = "
                              r"f(h^{(t-1)}, x^{(t)}; \theta)", "m.rnn")
    plain = rnnviz.load_model("h[t] = f(h[t-1], x[t]; theta)")
    assert model.equations == plain.equations
    assert any("chain of 2 right sides; the last one defines it" in n for n in model.notes)


@pytest.mark.parametrize("text, column", [
    (r"h_t = f(x_t, \dots, x_1)", 14),
    (r"h_t = \tanh(W h_{t-1} + \ldots)", 25),
    (r"h_t = f(x_t) = g(x_t, \cdots, h_{t-1})", 23),
])
def test_an_elided_list_where_it_would_be_read_is_an_error_naming_it(text, column):
    err = assert_error_at(text, 1, column, "an elided list")
    assert "is not part of the equation language" in err.format() and "write every term" in err.format()
