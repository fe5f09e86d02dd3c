"""The numpy forward pass against PyTorch's own recurrent layers, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.numeric import forward
from rnnviz.shapes import parameter_count

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

STEPS, BATCH, HIDDEN, INPUT = 20, 4, 8, 5

RNN = """
h[t] = {act}(W_ih x[t] + b_ih + W_hh h[t-1] + b_hh)
dim x = {i}, h = {h}
"""

LSTM = """
i[t] = sigmoid(W_ii x[t] + b_ii + W_hi h[t-1] + b_hi)
f[t] = sigmoid(W_if x[t] + b_if + W_hf h[t-1] + b_hf)
g[t] = tanh(W_ig x[t] + b_ig + W_hg h[t-1] + b_hg)
o[t] = sigmoid(W_io x[t] + b_io + W_ho h[t-1] + b_ho)
c[t] = f[t] * c[t-1] + i[t] * g[t]
h[t] = o[t] * tanh(c[t])
dim x = {i}, h = {h}
"""

# PyTorch's GRU: the reset gate acts on W_hn h + b_hn, not on h.
GRU = """
r[t] = sigmoid(W_ir x[t] + b_ir + W_hr h[t-1] + b_hr)
z[t] = sigmoid(W_iz x[t] + b_iz + W_hz h[t-1] + b_hz)
n[t] = tanh(W_in x[t] + b_in + r[t] * (W_hn h[t-1] + b_hn))
h[t] = (1 - z[t]) * n[t] + z[t] * h[t-1]
dim x = {i}, h = {h}
"""

#: PyTorch stacks the gates in this order in weight_ih_l0 and friends.
GATES = {"rnn": [""], "lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}


def _layer(kind: str, act: str):
    torch.manual_seed(0)
    if kind == "rnn":
        return torch.nn.RNN(INPUT, HIDDEN, nonlinearity=act, batch_first=False).double()
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    return cls(INPUT, HIDDEN, batch_first=False).double()


def _values(kind: str, layer) -> dict[str, np.ndarray]:
    """The layer's weights under the names the equations use."""
    out = {}
    for torch_name, name in (("weight_ih_l0", "W_i"), ("weight_hh_l0", "W_h"),
                             ("bias_ih_l0", "b_i"), ("bias_hh_l0", "b_h")):
        full = getattr(layer, torch_name).detach().numpy()
        for k, gate in enumerate(GATES[kind]):
            block = full[k * HIDDEN:(k + 1) * HIDDEN]
            out[name + (gate or "h")] = block  # the plain RNN's one block is W_ih, W_hh, ...
    return out


CASES = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("gru", None)]


def _model(kind: str, act: str | None):
    text = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[kind]
    return load_model(text.format(act=act, i=INPUT, h=HIDDEN))


@pytest.mark.parametrize("kind,act", CASES)
def test_outputs_match_pytorch(kind, act):
    """Random weights copied into rnnviz give PyTorch's outputs within 1e-6 over 20 steps, batch 4."""
    layer = _layer(kind, act or "tanh")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((STEPS, BATCH, INPUT))
    h0 = rng.standard_normal((BATCH, HIDDEN)) * 0.5
    values = {**_values(kind, layer), "x": x, "h": h0}
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
