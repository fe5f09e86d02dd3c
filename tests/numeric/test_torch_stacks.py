"""Bidirectional and stacked layers against PyTorch (``bidirectional=True``, ``num_layers``), float64.

The equations are PyTorch's own, layer by layer and direction by direction (two biases per
gate), written by :func:`tests.torch_cells.stack_equations`; the backward direction reads
``h[t+1]`` and starts from its state at T+1.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from rnnviz.numeric.shapes import parameter_count
from tests.torch_cells import stack_equations, stack_states, stack_weights

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

T, B, I, H = 7, 3, 4, 5
TOL = 1e-6
CLASSES = {"rnn": lambda: torch.nn.RNN, "lstm": lambda: torch.nn.LSTM, "gru": lambda: torch.nn.GRU}
CASES = [(kind, layers, bi) for kind in ("rnn", "lstm", "gru") for layers, bi in ((1, True), (2, False), (3, False),
                                                                                   (2, True))]


def _net(kind: str, layers: int, bidirectional: bool):
    torch.manual_seed(11)
    return CLASSES[kind]()(I, H, num_layers=layers, bidirectional=bidirectional).double()


def _run(kind, layers, bidirectional):
    """PyTorch's outputs and gradients (of the sum of the outputs) and rnnviz's trace of the same net."""
    net = _net(kind, layers, bidirectional)
    dirs = 2 if bidirectional else 1
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers * dirs, B, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layers * dirs, B, H, dtype=torch.float64, requires_grad=True)
    out, _ = net(x, (h0, c0)) if kind == "lstm" else net(x, h0)
    out.sum().backward()
    model = load_model(stack_equations(kind, inputs=I, hidden=H, layers=layers, bidirectional=bidirectional))
    values = dict(stack_weights(net, kind, H), x=x.detach().numpy())
    # PyTorch's h_0 of the reverse direction is the state it starts from: rnnviz's h_b[T+1].
    for name, which, k in stack_states(net, kind):
        values[name] = (h0 if which == "h" else c0).detach().numpy()[k]
    trace = forward(model, batch=B, values=values)
    return net, model, trace, x, h0, c0, out


@pytest.mark.parametrize("kind,layers,bidirectional", CASES)
def test_outputs_equal_pytorch(kind, layers, bidirectional):
    """The top layer's outputs (both directions, concatenated as PyTorch does) within 1e-6."""
    net, model, trace, x, h0, c0, out = _run(kind, layers, bidirectional)
    top = [f"h_f{layers}"] + ([f"h_b{layers}"] if bidirectional else [])
    got = np.stack([np.concatenate([trace.value(n, t) for n in top], axis=-1) for t in range(1, T + 1)])
    np.testing.assert_allclose(got, out.detach().numpy(), atol=TOL, rtol=0)


@pytest.mark.parametrize("kind,layers,bidirectional", CASES)
def test_gradients_equal_autograd(kind, layers, bidirectional):
    """d sum(outputs) / d every weight, every input step and every starting state, within 1e-6."""
    net, model, trace, x, h0, c0, out = _run(kind, layers, bidirectional)
    top = [f"h_f{layers}"] + ([f"h_b{layers}"] if bidirectional else [])
    from rnnviz.numeric.grad import backprop

    seeds = {(n, t): np.ones((B, H)) for n in top for t in range(1, T + 1)}
    params, adj = backprop(trace, seeds)
    expected = stack_weights(net, kind, H, grad=True)
    assert set(expected) == set(params)
    for name, want in expected.items():
        np.testing.assert_allclose(params[name], want, atol=TOL, err_msg=name)
    for t in range(1, T + 1):
        np.testing.assert_allclose(adj[("x", t)], x.grad[t - 1].numpy(), atol=TOL)
    for name, which, k in stack_states(net, kind):
        start = T + 1 if name.split("_")[1].startswith("b") else 0
        want = (h0 if which == "h" else c0).grad[k].numpy()
        np.testing.assert_allclose(adj.get((name, start), np.zeros_like(want)), want, atol=TOL, err_msg=name)


@pytest.mark.parametrize("kind,layers,bidirectional", CASES)
def test_parameter_counts_equal_pytorch(kind, layers, bidirectional):
    model = load_model(stack_equations(kind, inputs=I, hidden=H, layers=layers, bidirectional=bidirectional))
    net = _net(kind, layers, bidirectional)
    assert parameter_count(model) == sum(p.numel() for p in net.parameters())


def test_backward_start_is_pytorch_reverse_h0():
    """One backward step by hand: PyTorch's reverse direction at its first step (t = T) reads h_0[1]."""
    net, model, trace, x, h0, c0, out = _run("rnn", 1, True)
    w = stack_weights(net, "rnn", H)
    xT = x.detach().numpy()[T - 1]
    start = h0.detach().numpy()[1]
    by_hand = np.tanh(xT @ w["W_ih_b1"].T + w["b_ih_b1"] + start @ w["W_hh_b1"].T + w["b_hh_b1"])
    np.testing.assert_allclose(trace.value("h_b1", T), by_hand, atol=1e-12)
    np.testing.assert_allclose(trace.value("h_b1", T + 1), start, atol=0)


LAYER_CASES = [(kind, layers) for kind in ("rnn", "lstm", "gru") for layers in (2, 3)]


@pytest.mark.parametrize("kind,layers", LAYER_CASES)
def test_layer_index_notation_equals_pytorch_num_layers(kind, layers):
    """h_t^{(l)} written once, L = 2 or 3: outputs, gradients and the parameter count equal PyTorch's."""
    from tests.torch_cells import layer_index_equations, layer_index_weights

    net = _net(kind, layers, False)
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True)
    out, _ = net(x, (h0, c0)) if kind == "lstm" else net(x, h0)
    out.sum().backward()
    model = load_model(layer_index_equations(kind, inputs=I, hidden=H, layers=layers))
    assert model.variables[-1] == f"h_{layers}" and parameter_count(model) == sum(p.numel() for p in net.parameters())
    values = dict(layer_index_weights(net, kind, H), x=x.detach().numpy())
    for k in range(layers):
        values[f"h_{k + 1}"] = h0.detach().numpy()[k]
        if kind == "lstm":
            values[f"c_{k + 1}"] = c0.detach().numpy()[k]
    trace = forward(model, batch=B, values=values)
    got = np.stack([trace.value(f"h_{layers}", t) for t in range(1, T + 1)])
    np.testing.assert_allclose(got, out.detach().numpy(), atol=TOL, rtol=0)
    g = gradients(model, trace, f"sum(h_{layers})")
    for name, want in layer_index_weights(net, kind, H, grad=True).items():
        np.testing.assert_allclose(g.params[name], want, atol=TOL, err_msg=name)
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("x", t)], x.grad[t - 1].numpy(), atol=TOL)
    for k in range(layers):
        np.testing.assert_allclose(g.initial[(f"h_{k + 1}", 0)], h0.grad[k].numpy(), atol=TOL)
