"""A matrix given by its blocks, [W_aa W_ax] = W_a, and a zero vector written with an arrow (deeplearning.ai)."""

from __future__ import annotations

import pytest

import rnnviz
from rnnviz.numeric.forward_pass import forward
from tests.conftest import assert_error_at

LONG = r"a^{<t>} = g_1(W_{aa} a^{<t-1>} + W_{ax} x^{<t>} + b_a)"
COMPACT = r"a^{<t>} = g_1(W_{a} [a^{<t-1>}, x^{<t>}] + b_a)"


@pytest.mark.parametrize("definition", [r"[W_{aa} W_{ax}] = W_a", r"W_a = [W_{aa} W_{ax}]"])
def test_the_compact_form_with_its_blocks_is_the_same_equation(definition):
    both = rnnviz.load_model(f"{LONG}\n{COMPACT}\n{definition}\n", "m.rnn")
    compact = rnnviz.load_model(f"{COMPACT}\n{definition}\n")
    long = rnnviz.load_model(LONG)
    assert both.equations == long.equations == compact.equations
    assert both.parameters == ["W_aa", "W_ax", "b_a"]
    assert any("is written again in the compact form of line 1" in n for n in both.notes)
    assert any("gives W_a by its blocks" in n for n in both.notes)


@pytest.mark.parametrize("zero", [r"\overrightarrow{0}", r"\vec{0}", r"\mathbf{0}"])
def test_a_zero_vector_with_an_arrow_is_zero(zero):
    model = rnnviz.load_model(f"{LONG}\na^{{<0>}} = {zero}\ng_1 = tanh\ndim x = 2, a = 3\n")
    assert forward(model).value("a", 0).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("text, line, column, words", [
    (f"{LONG}\n" + r"a^{<t>} = g_1(W_{aa} a^{<t-1>} + b_a)", 2, 1, "computed twice"),
    (r"a^{<t>} = g_1(W_a a^{<t-1>} + b_a)" "\n" r"[W_{aa} W_{ax}] = W_a", 1, 15, "it multiplies a concatenation"),
    (r"a^{<t>} = g_1(W_a [a^{<t-1>}, x_t, x_{t-1}] + b_a)" "\n" r"[W_{aa} W_{ax}] = W_a", 1, 15,
     "concatenation of 2"),
])
def test_misused_blocks_are_errors_with_positions(text, line, column, words):
    assert_error_at(text, line, column, words)
