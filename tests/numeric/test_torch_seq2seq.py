"""An encoder-decoder against PyTorch, float64: an ``nn.GRU`` encoder, an ``nn.GRUCell`` decoder.

The seq2seq of d2l.ai: the encoder's last state is the context, the decoder starts from it
(``s_0 = c``) and reads it at every step beside its own input (``GRUCell([u_t; c], s_{t-1})``),
and a linear layer reads each decoder state. The equations are PyTorch's, with its two
biases per gate; outputs, every gradient (autograd) and the parameter count must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from rnnviz.numeric.shapes import parameter_count
from tests.torch_cells import GATES, per_gate

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

T, TD, B, I, U, H, O = 5, 4, 3, 4, 3, 6, 2
TOL = 1e-6

EQUATIONS = f"""
r[t] = sigmoid(W_ir x[t] + b_ir + W_hr h[t-1] + b_hr)
z[t] = sigmoid(W_iz x[t] + b_iz + W_hz h[t-1] + b_hz)
n[t] = tanh(W_in x[t] + b_in + r[t] * (W_hn h[t-1] + b_hn))
h[t] = (1 - z[t]) * n[t] + z[t] * h[t-1]
c = h[T]
s[0] = c
q[t] = sigmoid(V_ir [u[t]; c] + d_ir + V_hr s[t-1] + d_hr)
k[t] = sigmoid(V_iz [u[t]; c] + d_iz + V_hz s[t-1] + d_hz)
m[t] = tanh(V_in [u[t]; c] + d_in + q[t] * (V_hn s[t-1] + d_hn))
s[t] = (1 - k[t]) * m[t] + k[t] * s[t-1]
o[t] = W_o s[t] + b_o
dim x = {I}, h = {H}, u = {U}, s = {H}, o = {O}
"""


def _cell_weights(cell, grad: bool = False) -> dict[str, np.ndarray]:
    """A GRUCell's weights under the decoder's names (V for weights, d for biases)."""
    out = {}
    for kind in ("ih", "hh"):
        for what, prefix in (("weight", "V"), ("bias", "d")):
            tensor = getattr(cell, f"{what}_{kind}")
            full = (tensor.grad if grad else tensor.detach()).numpy()
            for j, gate in enumerate(GATES["gru"]):
                out[f"{prefix}_{kind[0]}{gate}"] = full[j * H:(j + 1) * H]
    return out


def _linear(lin, grad: bool = False) -> dict[str, np.ndarray]:
    pick = (lambda t: t.grad.numpy()) if grad else (lambda t: t.detach().numpy())
    return {"W_o": pick(lin.weight), "b_o": pick(lin.bias)}


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(7)
    enc = torch.nn.GRU(I, H).double()
    dec = torch.nn.GRUCell(U + H, H).double()
    lin = torch.nn.Linear(H, O).double()
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    u = torch.randn(TD, B, U, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, B, H, dtype=torch.float64, requires_grad=True)
    _, last = enc(x, h0)
    c = last[0]
    s = c
    outs = []
    for t in range(TD):
        s = dec(torch.cat([u[t], c], dim=-1), s)
        outs.append(lin(s))
    out = torch.stack(outs)
    out.sum().backward()
    model = load_model(EQUATIONS)
    values = {**per_gate(enc, "gru", H), **_cell_weights(dec), **_linear(lin),
              "x": x.detach().numpy(), "u": u.detach().numpy(), "h": h0.detach().numpy()[0]}
    trace = forward(model, batch=B, values=values, keep_nodes=True)
    return dict(enc=enc, dec=dec, lin=lin, x=x, u=u, h0=h0, c=c, out=out, model=model, trace=trace)


def test_the_file_reads_as_an_encoder_and_a_decoder(nets):
    ph = nets["model"].phases
    assert ph.contexts == ("c",) and ph.starts == (("s", "s_0"),)
    assert ph.encoder.variables[:4] == ["r", "z", "n", "h"]
    assert ph.decoder.variables == ["q", "k", "m", "s", "o"]


def test_context_and_outputs_equal_pytorch(nets):
    tr = nets["trace"]
    assert (tr.steps, tr.decoder_steps) == (T, TD)
    np.testing.assert_allclose(tr.value("c", T), nets["c"].detach().numpy(), atol=TOL, rtol=0)
    got = np.stack([tr.value("o", t) for t in range(1, TD + 1)])
    np.testing.assert_allclose(got, nets["out"].detach().numpy(), atol=TOL, rtol=0)


def test_gradients_equal_autograd(nets):
    """d sum(o) / d every weight of both GRUs and the output layer, every x and u, and h_0."""
    g = gradients(nets["model"], nets["trace"], "sum(o)")
    want = {**per_gate(nets["enc"], "gru", H, grad=True), **_cell_weights(nets["dec"], grad=True),
            **_linear(nets["lin"], grad=True)}
    assert set(g.params) == set(want)
    for name, w in want.items():
        np.testing.assert_allclose(g.params[name], w, atol=TOL, rtol=0, err_msg=name)
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("x", t)], nets["x"].grad[t - 1].numpy(), atol=TOL, rtol=0)
    for t in range(1, TD + 1):
        np.testing.assert_allclose(g.inputs[("u", t)], nets["u"].grad[t - 1].numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(g.initial[("h", 0)], nets["h0"].grad[0].numpy(), atol=TOL, rtol=0)


def test_parameter_count_equals_pytorch(nets):
    expected = sum(p.numel() for net in ("enc", "dec", "lin") for p in nets[net].parameters())
    assert parameter_count(nets["model"]) == expected == 3 * (I * H + H * H + 2 * H) \
        + 3 * ((U + H) * H + H * H + 2 * H) + H * O + O
