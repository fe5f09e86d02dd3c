"""Losses over time and their targets (exercise 11, Goodfellow et al. Fig. 10.3)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnviz
from rnnviz.cli import main
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from tests.conftest import assert_error_at

EXERCISE_11 = r"""
a^{(t)} = b + W h^{(t-1)} + U x^{(t)}
h^{(t)} = \tanh(a^{(t)})
o^{(t)} = c + V h^{(t)}
L^{(t)} = \frac{1}{2}(o^{(t)} - y^{(t)})^2
L = \sum_{t} L^{(t)}

W = 0.5, U = 1, b = 0, V = 2, c = 0, h^{(0)} = 0
x = [1, 0], y = [1, 1]
"""


def test_exercise_11_answers(tmp_path, capsys):
    """L = 0.174182; dL/dW = -0.361182, dL/dU = 0.339866, dL/dV = 0.299176 (backprop through time)."""
    model = rnnviz.load_model(EXERCISE_11)
    assert model.totals == (("L", "L"),) and model.losses == ["L"] and model.role("y") == "input"
    path = tmp_path / "ex11.rnn"
    path.write_text(EXERCISE_11)
    assert main(["run", str(path), "--json"]) == 0
    assert round(json.loads(capsys.readouterr().out)["totals"]["L"], 6) == 0.174182
    assert main(["grad", str(path), "--wrt", "W", "U", "V", "--json"]) == 0  # no --of: the total loss
    got = json.loads(capsys.readouterr().out)
    assert got["of"] == "sum(L)"
    assert {k: round(v, 6) for k, v in got["grad"].items()} == {"W": -0.361182, "U": 0.339866, "V": 0.299176}
    assert main(["run", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("L = 0.1742")


@pytest.mark.parametrize("total", [r"L = \sum_t L^{(t)}", r"L = \sum_{t=1}^{T} L^{(t)}",
                                   r"\mathcal{L} = \sum_{t=1}^{T} L^{(t)}", r"J = \sum_t L^{(t)}"])
def test_spellings_of_the_total(total):
    model = rnnviz.load_model(EXERCISE_11.replace(r"L = \sum_{t} L^{(t)}", total))
    name = "J" if total.startswith("J") else "L"
    assert model.totals == ((name, "L"),)
    g = gradients(model, forward(model), name)
    assert round(float(g.params["W"]), 6) == -0.361182


NORM = r"""
h_t = \tanh(W h_{t-1} + U x_t + b)
o_t = V h_t + c
L_t = \|o_t - y_t\|^2
L = \sum_t L_t
x_t \in \mathbb{R}^3, h_t \in \mathbb{R}^4, o_t \in \mathbb{R}^2
"""


def test_squared_norm_against_autograd():
    """nn.MSELoss(reduction='sum') over every step: the same total and the same gradients."""
    torch = pytest.importorskip("torch")
    model = rnnviz.load_model(NORM)
    trace = forward(model, steps=5, seed=2)
    assert np.shape(trace.value("L", 1)) == ()  # one number per step
    g = gradients(model, trace, "L")
    P = {n: torch.tensor(np.asarray(v), requires_grad=True) for n, v in trace.params.items()}
    h = torch.zeros(4, dtype=torch.float64)
    os_, ys = [], []
    for t in range(1, 6):
        x = torch.tensor(np.asarray(trace.value("x", t)))
        h = torch.tanh(P["W"] @ h + P["U"] @ x + P["b"])
        os_.append(P["V"] @ h + P["c"])
        ys.append(torch.tensor(np.asarray(trace.value("y", t))))
    loss = torch.nn.MSELoss(reduction="sum")(torch.stack(os_), torch.stack(ys))
    loss.backward()
    total = sum(float(trace.value("L", t)) for t in range(1, 6))
    assert abs(total - loss.item()) < 1e-9
    for n, p in P.items():
        np.testing.assert_allclose(g.params[n], p.grad.numpy(), atol=1e-9, err_msg=n)


def test_square_and_norm_gradients_equal_finite_differences():
    model = rnnviz.load_model(NORM.replace(r"\|o_t - y_t\|^2", r"\frac{1}{2}(o_t - y_t)^2 + \|h_t\|^2"))
    trace = forward(model, steps=3, seed=4)
    g = gradients(model, trace, "L")
    eps = 1e-6
    for p in ("W", "V", "b"):
        v = np.asarray(trace.params[p])
        for idx in list(np.ndindex(v.shape))[:5]:
            f = []
            for sign in (1, -1):
                a = v.copy()
                a[idx] += sign * eps
                tr = forward(model, steps=3, seed=4, values={p: a})
                f.append(sum(float(np.sum(tr.value("L", t))) for t in range(1, 4)))
            assert abs((f[0] - f[1]) / (2 * eps) - g.params[p][idx]) < 1e-7, (p, idx)


def test_targets_are_drawn_beside_their_loss():
    """Fig. 10.3: the loss row on top, each target y beside its loss, the inputs x at the bottom."""
    from rnnviz.diagrams.graph import build
    from rnnviz.diagrams.layout import levels

    g = build(rnnviz.load_model(EXERCISE_11), "unrolled", steps=2)
    lv = levels(g)
    assert lv["y"] == lv["L"] > lv["o"] > lv["h"] > lv["x"] == 0
    assert g.node("y@1").to_json()["target"] is True and "target" not in g.node("x@1").to_json()
    assert lv == rnnviz.diagrams.graph.levels(rnnviz.load_model(EXERCISE_11))


@pytest.mark.parametrize("text, line, column, words", [
    ("h_t = tanh(W h_{t-1} + x_t)\nL = \\sum_t q_t", 2, 1, "no equation computes q[t]"),
    ("h_t = tanh(W h_{t-1} + x_t)\nL = \\sum_t h_{t-1}", 2, 12, "one variable at step t"),
    ("h_t = tanh(W h_{t-1} + x_t + \\sum_t h_t)", 1, 30, "a sum over time stands alone"),
    ("h_t = tanh(W h_{t-1} + x_t)\nL_t = (h_t - y_t)^3", 2, 18, "only a square"),
    ("h_t = tanh(W h_{t-1} + x_t)\nL_t = \\sum_t h_t", 2, 1, "without a time on the left"),
])
def test_loss_misuses_are_errors_with_positions(text, line, column, words):
    assert_error_at(text, line, column, words)


def test_grad_without_of_needs_a_total(tmp_path, capsys):
    path = tmp_path / "m.rnn"
    path.write_text("h_t = tanh(W h_{t-1} + x_t)\n")
    assert main(["grad", str(path)]) != 0
    assert "--of" in capsys.readouterr().err
