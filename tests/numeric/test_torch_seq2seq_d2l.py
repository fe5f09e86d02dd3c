"""d2l.ai's seq2seq in d2l.ai's own notation, against PyTorch (float64).

The encoder runs over t = 1, ..., T; the context is d2l.ai's ``c = q(h_1, ..., h_T)`` with the
choice the chapter names, ``q(h_1, ..., h_T) = h_T``; the decoder runs over t' = 1, ..., T',
starts from the context (``s_0 = c``: "the final hidden state of the encoder is used to
initiate the hidden state of the decoder") and reads the context at every step, concatenated
with its input y_{t'-1} (the embedding of the previous target token; y_0 is <bos>). The GRU is
written as ``nn.GRU`` computes it (the reset gate on W_hn h + b_hn), which d2l.ai's concise
``Seq2SeqEncoder``/``Seq2SeqDecoder`` use. PyTorch: an ``nn.GRU`` encoder, an ``nn.GRU`` decoder
over the sequence of [y_{t'-1}; c] started from the encoder's last state, an ``nn.Linear``.
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

T, TD, B, I, E, H, V = 5, 4, 3, 4, 3, 6, 7
TOL = 1e-6

ENCODER = r"""
$$\mathbf{r}_t = \sigma(\mathbf{W}_{ir} \mathbf{x}_t + \mathbf{b}_{ir} + \mathbf{W}_{hr} \mathbf{h}_{t-1} + \mathbf{b}_{hr})$$
$$\mathbf{z}_t = \sigma(\mathbf{W}_{iz} \mathbf{x}_t + \mathbf{b}_{iz} + \mathbf{W}_{hz} \mathbf{h}_{t-1} + \mathbf{b}_{hz})$$
$$\mathbf{n}_t = \tanh(\mathbf{W}_{in} \mathbf{x}_t + \mathbf{b}_{in} + \mathbf{r}_t \odot (\mathbf{W}_{hn} \mathbf{h}_{t-1} + \mathbf{b}_{hn}))$$
$$\mathbf{h}_t = (1 - \mathbf{z}_t) \odot \mathbf{n}_t + \mathbf{z}_t \odot \mathbf{h}_{t-1}$$
"""

CONTEXT = r"""
$$\mathbf{c} =  q(\mathbf{h}_1, \ldots, \mathbf{h}_T).$$

For example, when choosing $q(\mathbf{h}_1, \ldots, \mathbf{h}_T) = \mathbf{h}_T$ such as in :numref:`fig_seq2seq`,
the context variable is just the hidden state $\mathbf{h}_T$
of the input sequence at the final time step.

$$\mathbf{s}_0 = \mathbf{c}$$
"""

DECODER = r"""
$$\mathbf{r}^{d}_{t^\prime} = \sigma(\mathbf{V}_{ir} [\mathbf{y}_{t^\prime-1}; \mathbf{c}] + \mathbf{d}_{ir} + \mathbf{V}_{hr} \mathbf{s}_{t^\prime-1} + \mathbf{d}_{hr})$$
$$\mathbf{z}^{d}_{t^\prime} = \sigma(\mathbf{V}_{iz} [\mathbf{y}_{t^\prime-1}; \mathbf{c}] + \mathbf{d}_{iz} + \mathbf{V}_{hz} \mathbf{s}_{t^\prime-1} + \mathbf{d}_{hz})$$
$$\mathbf{n}^{d}_{t^\prime} = \tanh(\mathbf{V}_{in} [\mathbf{y}_{t^\prime-1}; \mathbf{c}] + \mathbf{d}_{in} + \mathbf{r}^{d}_{t^\prime} \odot (\mathbf{V}_{hn} \mathbf{s}_{t^\prime-1} + \mathbf{d}_{hn}))$$
$$\mathbf{s}_{t^\prime} = (1 - \mathbf{z}^{d}_{t^\prime}) \odot \mathbf{n}^{d}_{t^\prime} + \mathbf{z}^{d}_{t^\prime} \odot \mathbf{s}_{t^\prime-1}$$
$$\mathbf{o}_{t^\prime} = \mathbf{W}_o \mathbf{s}_{t^\prime} + \mathbf{b}_o$$
"""

SIZES = f"dim x = {I}, h = {H}, y = {E}, s = {H}, o = {V}\nT' = {TD}\n"


def _decoder_weights(net, grad: bool = False) -> dict[str, np.ndarray]:
    """An nn.GRU's weights under the decoder's names (V for weights, d for biases)."""
    out = {}
    for kind in ("ih", "hh"):
        for what, prefix in (("weight", "V"), ("bias", "d")):
            tensor = getattr(net, f"{what}_{kind}_l0")
            full = (tensor.grad if grad else tensor.detach()).numpy()
            for j, gate in enumerate(GATES["gru"]):
                out[f"{prefix}_{kind[0]}{gate}"] = full[j * H:(j + 1) * H]
    return out


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(11)
    enc = torch.nn.GRU(I, H).double()
    dec = torch.nn.GRU(E + H, H).double()
    dense = torch.nn.Linear(H, V).double()
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    # The decoder's inputs y_0 (<bos>), y_1, ..., y_{T'-1}: the embedded targets, shifted by one. The
    # step before the first is zero in rnnviz unless the file gives it, so <bos> embeds as zero here.
    y = torch.cat([torch.zeros(1, B, E, dtype=torch.float64), torch.randn(TD - 1, B, E, dtype=torch.float64)])
    y.requires_grad_(True)
    _, state = enc(x)                     # state: (1, B, H), the encoder's last state
    context = state[-1].repeat(TD, 1, 1)  # d2l.ai: broadcast to every step, concatenated with the input
    outputs, _ = dec(torch.cat((y, context), -1), state)
    out = dense(outputs)
    out.sum().backward()
    model = load_model(ENCODER + CONTEXT + DECODER + SIZES, "seq2seq_d2l.rnn")
    values = {**per_gate(enc, "gru", H), **_decoder_weights(dec), "W_o": dense.weight.detach().numpy(),
              "b_o": dense.bias.detach().numpy(), "x": x.detach().numpy(),
              "y": y.detach().numpy()[1:]}
    trace = forward(model, batch=B, values=values, keep_nodes=True)
    return dict(enc=enc, dec=dec, dense=dense, x=x, y=y, state=state, out=out, model=model, trace=trace)


def test_d2l_notation_reads_as_an_encoder_and_a_decoder(nets):
    model = nets["model"]
    ph = model.phases
    assert ph.contexts == ("c",) and ph.starts == (("s", "s_0"),)
    assert ph.encoder.variables[:4] == ["r", "z", "n", "h"]
    assert ph.decoder.variables == ["r^d", "z^d", "n^d", "s", "o"]
    assert any("read by the text's choice of q" in n and "c = h_T" in n for n in model.notes), model.notes
    assert any("t' the decoder's" in n for n in model.notes), model.notes


def test_context_and_outputs_equal_pytorch(nets):
    tr = nets["trace"]
    assert (tr.steps, tr.decoder_steps) == (T, TD)
    np.testing.assert_allclose(tr.value("c", T), nets["state"][-1].detach().numpy(), atol=TOL, rtol=0)
    got = np.stack([tr.value("o", t) for t in range(1, TD + 1)])
    np.testing.assert_allclose(got, nets["out"].detach().numpy(), atol=TOL, rtol=0)


def test_gradients_equal_autograd(nets):
    g = gradients(nets["model"], nets["trace"], "sum(o)")
    want = {**per_gate(nets["enc"], "gru", H, grad=True), **_decoder_weights(nets["dec"], grad=True),
            "W_o": nets["dense"].weight.grad.numpy(), "b_o": nets["dense"].bias.grad.numpy()}
    assert set(g.params) == set(want)
    for name, w in want.items():
        np.testing.assert_allclose(g.params[name], w, atol=TOL, rtol=0, err_msg=name)
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("x", t)], nets["x"].grad[t - 1].numpy(), atol=TOL, rtol=0)
    for t in range(1, TD):
        np.testing.assert_allclose(g.inputs[("y", t)], nets["y"].grad[t].numpy(), atol=TOL, rtol=0)


def test_parameter_count_equals_pytorch(nets):
    expected = sum(p.numel() for net in ("enc", "dec", "dense") for p in nets[net].parameters())
    assert parameter_count(nets["model"]) == expected
