"""The expanded gradient formulas stay readable when a cell state is called s (Goodfellow's LSTM)."""

from __future__ import annotations

import re

import pytest

import rnnviz
from rnnviz.formulas.gradient import gradient_formula

GOODFELLOW = r"""
f_t = \sigma(b^f + U^f x_t + W^f h_{t-1})
g_t = \sigma(b^g + U^g x_t + W^g h_{t-1})
q_t = \sigma(b^q + U^q x_t + W^q h_{t-1})
s_t = f_t s_{t-1} + g_t \sigma(b + U x_t + W h_{t-1})
h_t = \text{ReLU}(s_t) * q_t
o_t = \sigma(h_t * V + c)
"""
LSTM = """
i[t] = sigmoid(W_i x[t] + U_i h[t-1])
f[t] = sigmoid(W_f x[t] + U_f h[t-1])
o[t] = sigmoid(W_o x[t] + U_o h[t-1])
c[t] = f[t] * c[t-1] + i[t] * tanh(W_c x[t] + U_c h[t-1])
h[t] = o[t] * tanh(c[t])
"""


@pytest.mark.parametrize("text, joint, wrt", [
    (GOODFELLOW, "S", "W"), (GOODFELLOW, "S", "h[0]"), (LSTM, "s", "W_f"), (LSTM, "s", "h[0]"),
])
def test_stacked_state_letter_is_not_a_variable(text, joint, wrt):
    """The stacked state gets a letter the equations do not use, so 'S_t = (s_t, h_t)' is not 's_t = (s_t, ...)'."""
    model = rnnviz.load_model(text)
    target = "o[2]" if "o_t" in text or "o[t]" in text else "h[2]"
    out = gradient_formula(model, target, wrt)
    line = next(l for l in out.splitlines() if re.match(r"^\w_t = \(", l))
    assert line.startswith(f"{joint}_t = (")
    assert f"d{joint}_j/d{joint}_{{j-1}}" in out


def test_stacked_product_is_bracketed_once():
    """The block of a stacked product is written [prod ...]_h, not [[prod ...]]_h; o reads h only, and
    the h block carries the path through s, so no s block is added to it."""
    out = gradient_formula(rnnviz.load_model(GOODFELLOW), "o[2]", "h[0]")
    assert "[[" not in out and "]]" not in out and "]_h" in out and "]_s" not in out
