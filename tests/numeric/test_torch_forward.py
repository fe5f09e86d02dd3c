"""The numpy forward pass against PyTorch's own recurrent layers, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.shapes import parameter_count
from tests.torch_cells import equations, per_gate

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

STEPS, BATCH, HIDDEN, INPUT = 20, 4, 8, 5

def _layer(kind: str, act: str):
    torch.manual_seed(0)
    if kind == "rnn":
        return torch.nn.RNN(INPUT, HIDDEN, nonlinearity=act, batch_first=False).double()
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    return cls(INPUT, HIDDEN, batch_first=False).double()


CASES = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("gru", None)]


def _model(kind: str, act: str | None):
    return load_model(equations(kind, inputs=INPUT, hidden=HIDDEN, act=act or "tanh"))


@pytest.mark.parametrize("kind,act", CASES)
def test_outputs_match_pytorch(kind, act):
    """Random weights copied into rnnviz give PyTorch's outputs within 1e-6 over 20 steps, batch 4."""
    layer = _layer(kind, act or "tanh")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((STEPS, BATCH, INPUT))
    h0 = rng.standard_normal((BATCH, HIDDEN)) * 0.5
    values = {**per_gate(layer, kind, HIDDEN), "x": x, "h": h0}
    state = torch.tensor(h0[None])
    if kind == "lstm":
        c0 = rng.standard_normal((BATCH, HIDDEN)) * 0.5
        values["c"] = c0
        state = (state, torch.tensor(c0[None]))
    with torch.no_grad():
        expected, _ = layer(torch.tensor(x), state)
    trace = forward(_model(kind, act), batch=BATCH, values=values)
    assert trace.steps == STEPS
    got = np.stack([trace.value("h", t) for t in range(1, STEPS + 1)])
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind,act", CASES)
def test_parameter_counts_match_pytorch(kind, act):
    """The parameter count of the equations equals PyTorch's for the same layer."""
    layer = _layer(kind, act or "tanh")
    assert parameter_count(_model(kind, act)) == sum(p.numel() for p in layer.parameters())
