"""Forward passes and gradients of models the other tests leave out, against PyTorch autograd (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TOL = 1e-9
T = 5


def _tensors(trace):
    """The run's parameters as leaf tensors, so autograd can differentiate them."""
    return {n: torch.tensor(np.asarray(v, dtype=float), requires_grad=True) for n, v in trace.params.items()}


def _inputs(trace, name, steps):
    """Inputs at the given steps as leaf tensors."""
    return {t: torch.tensor(np.asarray(trace.value(name, t), dtype=float), requires_grad=True) for t in steps}


def _check(g, P, X, name="x", initial=None):
    """Every parameter, input and initial-state gradient equals autograd's."""
    def grad(a):  # autograd leaves None where the target does not depend on a
        return a.grad.numpy() if a.grad is not None else np.zeros(a.shape)

    for n, p in P.items():
        np.testing.assert_allclose(g.params[n], grad(p), atol=TOL, err_msg=n)
    for t, x in X.items():
        np.testing.assert_allclose(g.inputs[(name, t)], grad(x), atol=TOL, err_msg=f"{name}[{t}]")
    for key, h in (initial or {}).items():
        np.testing.assert_allclose(g.initial[key], grad(h), atol=TOL, err_msg=str(key))


DELAY2 = """
h[t] = tanh(W h[t-1] + A h[t-2] + U x[t] + b)
y[t] = V h[t]
dim x = 2, h = 3, y = 2
h[0] = [0.1, -0.2, 0.3]
h[-1] = [0.5, 0.4, -0.6]
"""


@pytest.mark.parametrize("target", ["sum(y)", "y[5][1]", "h[3]"])
def test_delay_of_two(target):
    """A state read two steps back: values, parameter, input and both initial-state gradients."""
    model = rnnviz.load_model(DELAY2)
    trace = forward(model, steps=T, seed=11)
    P, X = _tensors(trace), _inputs(trace, "x", range(1, T + 1))
    h = {0: torch.tensor(trace.value("h", 0), requires_grad=True),
         -1: torch.tensor(trace.value("h", -1), requires_grad=True)}
    hs, ys = dict(h), {}
    for t in range(1, T + 1):
        hs[t] = torch.tanh(P["W"] @ hs[t - 1] + P["A"] @ hs[t - 2] + P["U"] @ X[t] + P["b"])
        ys[t] = P["V"] @ hs[t]
        np.testing.assert_allclose(trace.value("h", t), hs[t].detach().numpy(), atol=TOL)
    loss = {"sum(y)": lambda: torch.stack(list(ys.values())).sum(), "y[5][1]": lambda: ys[5][1],
            "h[3]": lambda: hs[3].sum()}[target]()
    loss.backward()
    _check(gradients(model, trace, target), P, X, initial={("h", 0): h[0], ("h", -1): h[-1]})


ROW_GRU = r"""
R_t = \sigma(X_t W_{xr} + H_{t-1} W_{hr} + b_r)
Z_t = \sigma(X_t W_{xz} + H_{t-1} W_{hz} + b_z)
\tilde{H}_t = \tanh(X_t W_{xh} + (R_t \odot H_{t-1}) W_{hh} + b_h)
H_t = Z_t \odot H_{t-1} + (1 - Z_t) \odot \tilde{H}_t
dim X = 3, H = 4
"""


@pytest.mark.parametrize("batch", [None, 3])
def test_row_vector_gru_of_d2l(batch):
    """d2l.ai's GRU with row vectors (X_t W), alone and batched, against autograd."""
    model = rnnviz.load_model(ROW_GRU)
    trace = forward(model, steps=T, seed=5, batch=batch)
    P, X = _tensors(trace), _inputs(trace, "X", range(1, T + 1))
    H = torch.tensor(np.asarray(trace.value("H", 0), dtype=float))
    total = 0
    for t in range(1, T + 1):
        R = torch.sigmoid(X[t] @ P["W_xr"] + H @ P["W_hr"] + P["b_r"])
        Z = torch.sigmoid(X[t] @ P["W_xz"] + H @ P["W_hz"] + P["b_z"])
        Ht = torch.tanh(X[t] @ P["W_xh"] + (R * H) @ P["W_hh"] + P["b_h"])
        H = Z * H + (1 - Z) * Ht
        np.testing.assert_allclose(trace.value("H", t), H.detach().numpy(), atol=TOL)
        total = total + H.sum()
    total.backward()
    _check(gradients(model, trace, "sum(H)"), P, X, name="X")


COLAH = r"""
f_t = \sigma(W_f \cdot [h_{t-1}, x_t] + b_f)
i_t = \sigma(W_i \cdot [h_{t-1}, x_t] + b_i)
\tilde{C}_t = \tanh(W_C \cdot [h_{t-1}, x_t] + b_C)
C_t = f_t * C_{t-1} + i_t * \tilde{C}_t
o_t = \sigma(W_o \ [h_{t-1}, x_t] + b_o)
h_t = o_t * \tanh(C_t)
dim x = 2, h = 3
"""


@pytest.mark.parametrize("batch", [None, 2])
def test_colah_lstm_with_concatenation(batch):
    """colah's LSTM, W [h_{t-1}, x_t], alone and batched, against autograd."""
    model = rnnviz.load_model(COLAH)
    trace = forward(model, steps=T, seed=2, batch=batch)
    P, X = _tensors(trace), _inputs(trace, "x", range(1, T + 1))
    h = torch.tensor(np.asarray(trace.value("h", 0), dtype=float), requires_grad=True)
    C = torch.tensor(np.asarray(trace.value("C", 0), dtype=float), requires_grad=True)
    h0, C0 = h, C
    for t in range(1, T + 1):
        hx = torch.cat([h, X[t]], dim=-1)
        gate = {k: hx @ P[f"W_{k}"].T + P[f"b_{k}"] for k in "fiCo"}
        C = torch.sigmoid(gate["f"]) * C + torch.sigmoid(gate["i"]) * torch.tanh(gate["C"])
        h = torch.sigmoid(gate["o"]) * torch.tanh(C)
        np.testing.assert_allclose(trace.value("h", t), h.detach().numpy(), atol=TOL)
    h[..., 1].sum().backward()
    _check(gradients(model, trace, "h[5][1]"), P, X, initial={("h", 0): h0, ("C", 0): C0})


SOFTMAX_LOG = r"""
h_t = \tanh(W x_t + U h_{t-1} + b)
p_t = \text{softmax}(V h_t + c)
l_t = \log(p_t)
dim x = 3, h = 4, p = 5
"""


@pytest.mark.parametrize("target", ["sum(l)", "l[4][2]"])
def test_softmax_then_log(target):
    """A softmax output and its log (a cross-entropy term), against autograd."""
    model = rnnviz.load_model(SOFTMAX_LOG)
    trace = forward(model, steps=T, seed=9)
    P, X = _tensors(trace), _inputs(trace, "x", range(1, T + 1))
    h, ls = torch.zeros(4, dtype=torch.float64), {}
    for t in range(1, T + 1):
        h = torch.tanh(P["W"] @ X[t] + P["U"] @ h + P["b"])
        ls[t] = torch.log(torch.softmax(P["V"] @ h + P["c"], dim=0))
        np.testing.assert_allclose(trace.value("l", t), ls[t].detach().numpy(), atol=TOL)
    (torch.stack(list(ls.values())).sum() if target == "sum(l)" else ls[4][2]).backward()
    _check(gradients(model, trace, target), P, X)


GENERIC = r"""
h_t = f(W h_{t-1} + U x_t + x_{t+1})
y_t = g(V h_t)
o_t = \phi(h_t) \odot \psi(y_t)
dim x = 3, h = 3, y = 3
"""
BINDINGS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "exp": torch.exp,
            "identity": lambda a: a}


@pytest.mark.parametrize("f, g, phi, psi", [("relu", "sigmoid", "tanh", "exp"),
                                            ("tanh", "identity", "sigmoid", "relu")])
def test_generic_activations_and_a_read_ahead(f, g, phi, psi):
    """f, g, \\phi, \\psi bound to functions, and an input read one step ahead, against autograd."""
    model = rnnviz.load_model(GENERIC + rf"f = {f}, g = {g}, \phi = {phi}, \psi = {psi}")
    trace = forward(model, steps=T, seed=4)
    P, X = _tensors(trace), _inputs(trace, "x", range(1, T + 2))
    h, total = torch.zeros(3, dtype=torch.float64), 0
    for t in range(1, T + 1):
        h = BINDINGS[f](P["W"] @ h + P["U"] @ X[t] + X[t + 1])
        o = BINDINGS[phi](h) * BINDINGS[psi](BINDINGS[g](P["V"] @ h))
        np.testing.assert_allclose(trace.value("o", t), o.detach().numpy(), atol=TOL)
        total = total + o.sum()
    total.backward()
    _check(gradients(model, trace, "sum(o)"), P, X)
