"""The worked exercises' forward passes and parameter counts, as the sheets write them."""

from __future__ import annotations

import json
import math

import pytest

from rnnviz import load_model
from rnnviz.cli import main
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.shapes import parameter_count

EXERCISE_2 = r"""
h_t = \text{ReLU}(V \cdot h_{t-1} + W \cdot x_t)
V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1
"""

EXERCISE_3 = r"h_t = \tanh(V \cdot h_{t-1} + W \cdot x_t + b)" "\n" r"x_t \in \mathbb{R}^3, h_t \in \mathbb{R}^5"

EXERCISE_4 = r"""
f_t = \sigma(b^f + U^f x_t + W^f h_{t-1})
g_t = \sigma(b^g + U^g x_t + W^g h_{t-1})
q_t = \sigma(b^q + U^q x_t + W^q h_{t-1})
s_t = f_t s_{t-1} + g_t \sigma(b + U x_t + W h_{t-1})
h_t = \text{ReLU}(s_t) * q_t
o_t = \sigma(h_t * V + c)

U^g = 0.3   W^g = -0.3   b^g = 0.1
U^f = 0.25  W^f = 0.3    b^f = 0
U^q = 0.4   W^q = 0.3    b^q = 0.2
U = 0.01    W = 0.1      b = 1
V = 5       c = -1
h_0 = 0     s_0 = 0
x = [0.7, 0.5, 0.7]
"""


def test_exercise_2_relu_rnn():
    """Exercise 2: h_1 = 6, h_2 = 0, h_3 = 3."""
    tr = forward(load_model(EXERCISE_2))
    assert [float(tr.value("h", t)) for t in (1, 2, 3)] == [6.0, 0.0, 3.0]


def test_exercise_3_parameter_count(capsys, tmp_path):
    """Exercise 3: 3*5 + 5*5 + 5 = 45 parameters, also through rnnviz params --json."""
    assert parameter_count(load_model(EXERCISE_3)) == 45
    path = tmp_path / "ex3.rnn"
    path.write_text(EXERCISE_3)
    assert main(["params", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"total": 45, "parameters": {"V": [5, 5], "W": [5, 3], "b": [5]}}


def _by_hand():
    """Exercise 4 computed with plain Python math, independently of rnnviz."""
    sig = lambda z: 1.0 / (1.0 + math.exp(-z))  # noqa: E731
    h = s = 0.0
    rows = []
    for x in (0.7, 0.5, 0.7):
        f = sig(0.0 + 0.25 * x + 0.3 * h)
        g = sig(0.1 + 0.3 * x - 0.3 * h)
        q = sig(0.2 + 0.4 * x + 0.3 * h)
        s = f * s + g * sig(1.0 + 0.01 * x + 0.1 * h)
        h = max(s, 0.0) * q
        o = sig(h * 5.0 - 1.0)
        rows.append({"f": f, "g": g, "q": q, "s": s, "h": h, "o": o})
    return rows


def test_exercise_4_lstm_forward_pass():
    """Exercise 4: every gate, state and output agrees with plain Python math at every step."""
    tr = forward(load_model(EXERCISE_4))
    assert tr.steps == 3
    for t, row in enumerate(_by_hand(), start=1):
        for name, value in row.items():
            assert float(tr.value(name, t)) == pytest.approx(value, abs=1e-12), (name, t)


def test_exercise_4_output_differs_at_steps_1_and_3():
    """The same input at t = 1 and t = 3 gives different outputs: the state remembers t = 1, 2."""
    tr = forward(load_model(EXERCISE_4))
    assert float(tr.value("x", 1)) == float(tr.value("x", 3))
    assert float(tr.value("o", 3)) > float(tr.value("o", 1)) + 0.1
    assert float(tr.value("s", 0)) != float(tr.value("s", 2))
