"""d2l.ai's deep, bidirectional and GRU blocks, pasted as the book prints them, against PyTorch (float64).

The blocks are the corpus' (tests/data/pastes, files 13 and 14): row vectors (X_t W_xh), one bias per
layer (PyTorch's b_ih + b_hh), \\phi the activation (given as tanh), the deep stack's L = 3 and its input
H^{(0)}, the bidirectional H_t the concatenation [\\overrightarrow{H}_t; \\overleftarrow{H}_t] that
d2l.ai's prose says and its output block reads. PyTorch: nn.RNN(num_layers=3) and
nn.RNN(bidirectional=True), each with an nn.Linear on its last layer; d2l.ai's GRU (the reset gate
before W_hh, unlike nn.GRU) against d2l.ai's own from-scratch PyTorch code of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from rnnviz.numeric.shapes import parameter_count
from tests.conftest import ROOT

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

PASTES = ROOT / "tests" / "data" / "pastes"
T, B, D, H, Q = 4, 3, 3, 5, 2
TOL = 1e-6


def _np(t, grad=False):
    return (t.grad if grad else t.detach()).numpy()


def _layer(net, k: int, suffix: str = "", grad: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layer k's (or its reverse direction's) W_xh, W_hh (transposed, d2l.ai's row form) and b_ih + b_hh."""
    w_ih, w_hh = getattr(net, f"weight_ih_l{k}{suffix}"), getattr(net, f"weight_hh_l{k}{suffix}")
    b_ih, b_hh = getattr(net, f"bias_ih_l{k}{suffix}"), getattr(net, f"bias_hh_l{k}{suffix}")
    if grad:  # d b_h = d b_ih = d b_hh: one bias where PyTorch has two
        return _np(w_ih, True).T, _np(w_hh, True).T, _np(b_ih, True)
    return _np(w_ih).T, _np(w_hh).T, _np(b_ih) + _np(b_hh)


def test_d2l_deep_rnn_with_three_layers_equals_pytorch():
    torch.manual_seed(3)
    net = torch.nn.RNN(D, H, num_layers=3).double()
    lin = torch.nn.Linear(H, Q).double()
    x = torch.randn(T, B, D, dtype=torch.float64, requires_grad=True)
    out = lin(net(x)[0])
    out.sum().backward()
    text = (PASTES / "14-d2l-deep-rnn.txt").read_text(encoding="utf-8") + (
        f"\nL = 3, \\phi_l = \\tanh, H_t^{{(0)}} \\in \\mathbb{{R}}^{D}, H_t^{{(l)}} \\in \\mathbb{{R}}^{H}, "
        f"O_t \\in \\mathbb{{R}}^{Q}\n")
    model = load_model(text, "deep.rnn")
    values = {"H^(0)": _np(x), "W_hq": _np(lin.weight).T, "b_q": _np(lin.bias)}
    for k in range(3):
        values[f"W_xh{k + 1}"], values[f"W_hh{k + 1}"], values[f"b_h{k + 1}"] = _layer(net, k)
    tr = forward(model, batch=B, values=values)
    got = np.stack([tr.value("O", t) for t in range(1, T + 1)])
    np.testing.assert_allclose(got, _np(out), atol=TOL, rtol=0)
    g = gradients(model, tr, "sum(O)")
    for k in range(3):
        for name, want in zip(("W_xh", "W_hh", "b_h"), _layer(net, k, grad=True)):
            np.testing.assert_allclose(g.params[f"{name}{k + 1}"], want, atol=TOL, rtol=0, err_msg=f"{name}{k + 1}")
    np.testing.assert_allclose(g.params["W_hq"], _np(lin.weight, True).T, atol=TOL, rtol=0)
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("H^(0)", t)], _np(x.grad)[t - 1], atol=TOL, rtol=0)
    # d2l.ai's count, one bias per layer: (dh + h^2 + h) + 2 (2h^2 + h) ... as the corpus states it.
    assert parameter_count(model) == (D * H + H * H + H) + 2 * (2 * H * H + H) + H * Q + Q


def test_d2l_bidirectional_rnn_equals_pytorch():
    torch.manual_seed(4)
    net = torch.nn.RNN(D, H, bidirectional=True).double()
    lin = torch.nn.Linear(2 * H, Q).double()
    x = torch.randn(T, B, D, dtype=torch.float64, requires_grad=True)
    out = lin(net(x)[0])  # PyTorch's output concatenates [forward; backward] at each step
    out.sum().backward()
    text = (PASTES / "13-d2l-birnn-with-output.txt").read_text(encoding="utf-8") + (
        f"\ndim X = {D}, H_fwd = {H}, H_bwd = {H}, O = {Q}\n\\phi = \\tanh\n")
    model = load_model(text, "birnn.rnn")
    values = {"X": _np(x), "W_hq": _np(lin.weight).T, "b_q": _np(lin.bias)}
    for suffix, mark in (("", "f"), ("_reverse", "b")):
        values[f"W_xh^{mark}"], values[f"W_hh^{mark}"], values[f"b_h^{mark}"] = _layer(net, 0, suffix)
    tr = forward(model, batch=B, values=values)
    got = np.stack([tr.value("O", t) for t in range(1, T + 1)])
    np.testing.assert_allclose(got, _np(out), atol=TOL, rtol=0)
    g = gradients(model, tr, "sum(O)")
    for suffix, mark in (("", "f"), ("_reverse", "b")):
        for name, want in zip(("W_xh", "W_hh", "b_h"), _layer(net, 0, suffix, grad=True)):
            np.testing.assert_allclose(g.params[f"{name}^{mark}"], want, atol=TOL, rtol=0, err_msg=f"{name}^{mark}")
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("X", t)], _np(x.grad)[t - 1], atol=TOL, rtol=0)


def test_d2l_gru_block_equals_its_pytorch_implementation():
    """d2l.ai's GRU (chapter_recurrent-modern/gru.md), its reset gate on H_{t-1} before W_hh, against
    d2l.ai's own from-scratch PyTorch code of it (autograd for the gradients)."""
    torch.manual_seed(5)
    names = ("W_xr", "W_hr", "b_r", "W_xz", "W_hz", "b_z", "W_xh", "W_hh", "b_h")
    shapes = {"x": (D, H), "h": (H, H), "b": (H,)}
    w = {n: (0.5 * torch.randn(*shapes[n[2] if n[0] == "W" else "b"], dtype=torch.float64)).requires_grad_(True)
         for n in names}
    X = torch.randn(T, B, D, dtype=torch.float64, requires_grad=True)
    Hs, Hc = [], torch.zeros(B, H, dtype=torch.float64)
    for t in range(T):  # d2l.ai's gru(): R, Z, H_tilde, H
        R = torch.sigmoid(X[t] @ w["W_xr"] + Hc @ w["W_hr"] + w["b_r"])
        Z = torch.sigmoid(X[t] @ w["W_xz"] + Hc @ w["W_hz"] + w["b_z"])
        H_tilde = torch.tanh(X[t] @ w["W_xh"] + (R * Hc) @ w["W_hh"] + w["b_h"])
        Hc = Z * Hc + (1 - Z) * H_tilde
        Hs.append(Hc)
    torch.stack(Hs).sum().backward()
    text = (PASTES / "11-d2l-gru-full.txt").read_text(encoding="utf-8") + f"\ndim X = {D}, H = {H}\n"
    model = load_model(text, "gru.rnn")
    tr = forward(model, batch=B, values={"X": _np(X), **{n: _np(v) for n, v in w.items()}})
    got = np.stack([tr.value("H", t) for t in range(1, T + 1)])
    np.testing.assert_allclose(got, torch.stack(Hs).detach().numpy(), atol=TOL, rtol=0)
    g = gradients(model, tr, "sum(H)")
    for n, v in w.items():
        np.testing.assert_allclose(g.params[n], _np(v, True), atol=TOL, rtol=0, err_msg=n)
    for t in range(1, T + 1):
        np.testing.assert_allclose(g.inputs[("X", t)], _np(X.grad)[t - 1], atol=TOL, rtol=0)
