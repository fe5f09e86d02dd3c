"""Backprop through time against PyTorch autograd (CPU, float64) for nn.RNN, nn.LSTM, nn.GRU."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.grad import gradients
from rnnviz.numeric import forward

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

T, B, I, H = 6, 3, 3, 5
TOL = 1e-6

# PyTorch's equations, gate by gate (torch.nn docs); its stacked weights are split per gate.
RNN = """
h[t] = tanh(W_ih x[t] + b_ih + W_hh h[t-1] + b_hh)
dim x = 3, h = 5
"""
LSTM = """
i[t] = sigmoid(W_ii x[t] + b_ii + W_hi h[t-1] + b_hi)
f[t] = sigmoid(W_if x[t] + b_if + W_hf h[t-1] + b_hf)
g[t] = tanh(W_ig x[t] + b_ig + W_hg h[t-1] + b_hg)
o[t] = sigmoid(W_io x[t] + b_io + W_ho h[t-1] + b_ho)
c[t] = f[t] * c[t-1] + i[t] * g[t]
h[t] = o[t] * tanh(c[t])
dim x = 3, h = 5, c = 5
"""
GRU = """
r[t] = sigmoid(W_ir x[t] + b_ir + W_hr h[t-1] + b_hr)
z[t] = sigmoid(W_iz x[t] + b_iz + W_hz h[t-1] + b_hz)
n[t] = tanh(W_in x[t] + b_in + r[t] * (W_hn h[t-1] + b_hn))
h[t] = (1 - z[t]) * n[t] + z[t] * h[t-1]
dim x = 3, h = 5
"""
CASES = {"RNN": (RNN, "", torch.nn.RNN), "LSTM": (LSTM, "ifgo", torch.nn.LSTM), "GRU": (GRU, "rzn", torch.nn.GRU)}


def _split(net, gates: str) -> dict[str, np.ndarray]:
    """PyTorch's stacked parameters, one array per gate, under the names the equations use."""
    out = {}
    for kind in ("ih", "hh"):
        w = getattr(net, f"weight_{kind}_l0").detach().numpy()
        b = getattr(net, f"bias_{kind}_l0").detach().numpy()
        if not gates:
            out[f"W_{kind}"], out[f"b_{kind}"] = w, b
            continue
        for k, gate in enumerate(gates):
            rows = slice(k * H, (k + 1) * H)
            out[f"W_{kind[0]}{gate}"], out[f"b_{kind[0]}{gate}"] = w[rows], b[rows]
    return out


def _torch_grads(net, gates: str) -> dict[str, np.ndarray]:
    out = {}
    for kind in ("ih", "hh"):
        for what, prefix in (("weight", "W"), ("bias", "b")):
            g = getattr(net, f"{what}_{kind}_l0").grad.numpy()
            if not gates:
                out[f"{prefix}_{kind}"] = g
                continue
            for k, gate in enumerate(gates):
                out[f"{prefix}_{kind[0]}{gate}"] = g[k * H:(k + 1) * H]
    return out


@pytest.mark.parametrize("cell", sorted(CASES))
def test_parameter_gradients_equal_autograd(cell):
    """sum over steps, batch and units of h: every parameter gradient equals PyTorch's within 1e-6."""
    text, gates, cls = CASES[cell]
    torch.manual_seed(7)
    net = cls(I, H).double()
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, B, H, dtype=torch.float64, requires_grad=True)
    values = dict(_split(net, gates), x=x.detach().numpy(), h=h0.detach().numpy()[0])
    if cell == "LSTM":
        c0 = torch.randn(1, B, H, dtype=torch.float64, requires_grad=True)
        out, _ = net(x, (h0, c0))
        values["c"] = c0.detach().numpy()[0]
    else:
        out, _ = net(x, h0)
    out.sum().backward()

    model = rnnviz.load_model(text)
    trace = forward(model, batch=B, values=values)
    np.testing.assert_allclose(trace.value("h", T), out[-1].detach().numpy(), atol=TOL)
    g = gradients(model, trace, "sum(h)")
    expected = _torch_grads(net, gates)
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
