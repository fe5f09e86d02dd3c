"""Backprop through time against PyTorch autograd (CPU, float64) for nn.RNN, nn.LSTM, nn.GRU."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from tests.torch_cells import equations, per_gate

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

T, B, I, H = 6, 3, 3, 5
TOL = 1e-6

CASES = {"RNN": ("rnn", torch.nn.RNN), "LSTM": ("lstm", torch.nn.LSTM), "GRU": ("gru", torch.nn.GRU)}


@pytest.mark.parametrize("cell", sorted(CASES))
def test_parameter_gradients_equal_autograd(cell):
    """sum over steps, batch and units of h: every parameter gradient equals PyTorch's within 1e-6."""
    kind, cls = CASES[cell]
    torch.manual_seed(7)
    net = cls(I, H).double()
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, B, H, dtype=torch.float64, requires_grad=True)
    values = dict(per_gate(net, kind, H), x=x.detach().numpy(), h=h0.detach().numpy()[0])
    if cell == "LSTM":
        c0 = torch.randn(1, B, H, dtype=torch.float64, requires_grad=True)
        out, _ = net(x, (h0, c0))
        values["c"] = c0.detach().numpy()[0]
    else:
        out, _ = net(x, h0)
    out.sum().backward()

    model = rnnviz.load_model(equations(kind, inputs=I, hidden=H))
    trace = forward(model, batch=B, values=values)
    np.testing.assert_allclose(trace.value("h", T), out[-1].detach().numpy(), atol=TOL)
    g = gradients(model, trace, "sum(h)")
    expected = per_gate(net, kind, H, grad=True)
    assert set(expected) == set(g.params)
    for name, want in expected.items():
        np.testing.assert_allclose(g.params[name], want, atol=TOL, err_msg=name)
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("x", t)], x.grad[t - 1].numpy(), atol=TOL)
    np.testing.assert_allclose(g.initial[("h", 0)], h0.grad[0].numpy(), atol=TOL)
    if cell == "LSTM":
        np.testing.assert_allclose(g.initial[("c", 0)], c0.grad[0].numpy(), atol=TOL)


EXERCISE_7 = r"""
h^{(t)} = \tanh(W_{hx} x^{(t)} + W_{hh} h^{(t-1)} + b_h)
p^{(t)} = W_{ph} h^{(t)} + b_p
x^{(t)} \in \mathbb{R}^3, h^{(t)} \in \mathbb{R}^5, p^{(t)} \in \mathbb{R}^2
"""


@pytest.mark.parametrize("target", ["sum(p)", "p[4]", "p[6][1]"])
def test_exercise_7_output_layer(target):
    """Exercise 7: dL/dW_ph and dL/dW_hh of a vanilla RNN with an output layer equal autograd."""
    model = rnnviz.load_model(EXERCISE_7)
    trace = forward(model, steps=T, seed=3)
    g = gradients(model, trace, target)
    P = {n: torch.tensor(np.asarray(v), requires_grad=True) for n, v in trace.params.items()}
    h = torch.tensor(np.asarray(trace.value("h", 0)))
    ps = []
    for t in range(1, T + 1):
        x = torch.tensor(np.asarray(trace.value("x", t)))
        h = torch.tanh(P["W_hx"] @ x + P["W_hh"] @ h + P["b_h"])
        ps.append(P["W_ph"] @ h + P["b_p"])
    if target == "sum(p)":
        loss = torch.stack(ps).sum()
    elif target == "p[4]":
        loss = ps[3].sum()
    else:
        loss = ps[5][1]
    loss.backward()
    for name in ("W_ph", "W_hh", "W_hx", "b_h", "b_p"):
        np.testing.assert_allclose(g.params[name], P[name].grad.numpy(), atol=TOL, err_msg=name)
