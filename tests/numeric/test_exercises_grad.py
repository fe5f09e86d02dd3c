"""The derivative questions of the exercise sheets, answered through ``rnnviz grad`` and ``formula``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnviz
from rnnviz.cli import main
from rnnviz.numeric.forward_pass import forward

# Exercise 2: a one-dimensional ReLU RNN, as the exam writes it.
EXERCISE_2 = r"""
h_t = \text{ReLU}(V \cdot h_{t-1} + W \cdot x_t)
V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1
"""

# Exercise 7: a vanilla RNN with an output layer.
EXERCISE_7 = r"""
h^{(t)} = \tanh(W_{hx} x^{(t)} + W_{hh} h^{(t-1)} + b_h)
p^{(t)} = W_{ph} h^{(t)} + b_p
x^{(t)} \in \mathbb{R}^3, h^{(t)} \in \mathbb{R}^4, p^{(t)} \in \mathbb{R}^2
"""


def grad_json(tmp_path, capsys, text: str, *argv: str) -> dict:
    path = tmp_path / "exercise.rnn"
    path.write_text(text)
    assert main(["grad", str(path), *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["grad"]


@pytest.mark.parametrize("r0", [0, 1])
def test_exercise_2_derivatives(tmp_path, capsys, r0):
    """dh_3/dV and dh_3/dW by the chain rule: relu'(a_3) (h_2 + V dh_2/dV) and likewise for W."""
    grads = grad_json(tmp_path, capsys, EXERCISE_2 + f"relu'(0) = {r0}\n", "--of", "h_3", "--wrt", "V", "W")
    V, W, h0, xs = -3.0, 3.0, 0.0, [2.0, 3.0, 1.0]
    hs, pre = [h0], []
    for x in xs:
        pre.append(V * hs[-1] + W * x)
        hs.append(max(pre[-1], 0.0))
    assert hs[1:] == [6.0, 0.0, 3.0]  # the sheet's forward answer
    d = [1.0 if a > 0 else (r0 if a == 0 else 0.0) for a in pre]
    dV1, dW1 = d[0] * h0, d[0] * xs[0]
    dV2, dW2 = d[1] * (hs[1] + V * dV1), d[1] * (xs[1] + V * dW1)
    dV3, dW3 = d[2] * (hs[2] + V * dV2), d[2] * (xs[2] + V * dW2)
    assert grads == {"V": dV3, "W": dW3}


def test_exercise_2_formula(capsys, tmp_path):
    """The unrolled formula of exercise 2 nests the ReLU three times."""
    path = tmp_path / "exercise.rnn"
    path.write_text(EXERCISE_2)
    assert main(["formula", str(path), "--of", "h_3"]) == 0
    assert capsys.readouterr().out.strip() == "h_3 = relu(V relu(V relu(V h_0 + W x_1) + W x_2) + W x_3)"


def _textbook_7(model, steps: int, target_step: int):
    """dL/dW_ph and dL/dW_hh for L = sum of p_T, by the textbook's sum of Jacobian products."""
    tr = forward(model, steps=steps)
    W_hh, W_ph = np.asarray(tr.params["W_hh"]), np.asarray(tr.params["W_ph"])
    h = {t: np.asarray(tr.value("h", t)) for t in range(steps + 1)}
    dL_dp = np.ones(W_ph.shape[0])
    dL_dW_ph = np.outer(dL_dp, h[target_step])  # one step: no sum over time
    dL_dh = W_ph.T @ dL_dp
    dL_dW_hh = np.zeros_like(W_hh)
    for k in range(1, target_step + 1):
        jac = np.eye(len(h[0]))  # dh_T/dh_k = prod_{j=k+1}^{T} diag(1 - h_j^2) W_hh
        for j in range(target_step, k, -1):
            jac = jac @ (np.diag(1 - h[j] ** 2) @ W_hh)
        delta = np.diag(1 - h[k] ** 2) @ (jac.T @ dL_dh)
        dL_dW_hh += np.outer(delta, h[k - 1])
    return dL_dW_ph, dL_dW_hh


@pytest.mark.parametrize("steps, target_step", [(3, 3), (5, 2), (6, 6)])
def test_exercise_7_textbook_expansion(tmp_path, capsys, steps, target_step):
    """Exercise 7: rnnviz grad equals the textbook sum over time of products of Jacobians."""
    model = rnnviz.load_model(EXERCISE_7)
    want_ph, want_hh = _textbook_7(model, steps, target_step)
    grads = grad_json(tmp_path, capsys, EXERCISE_7, "--of", f"p[{target_step}]", "--steps", str(steps),
                      "--wrt", "W_ph", "W_hh")
    np.testing.assert_allclose(grads["W_ph"], want_ph, atol=1e-12)
    np.testing.assert_allclose(grads["W_hh"], want_hh, atol=1e-12)


def test_exercise_7_formula_says_where_the_sum_is(capsys, tmp_path):
    """formula --grad: dp/dW_ph has no sum over time, dp/dW_hh a sum of diag(tanh') W_hh products."""
    path = tmp_path / "exercise.rnn"
    path.write_text(EXERCISE_7)
    assert main(["formula", str(path), "--of", "p[3]", "--grad", "W_ph"]) == 0
    assert "sum_" not in capsys.readouterr().out
    assert main(["formula", str(path), "--of", "p[3]", "--grad", "W_hh"]) == 0
    out = capsys.readouterr().out
    assert "sum_{k=1}^{3}" in out and "dh_j/dh_{j-1} = diag(tanh'(a_j)) W_hh" in out
