"""Cross-entropy losses: cross_entropy(o_t, y_t), the book's -log yhat_{y_t}, and the mean over time.

Checked against nn.CrossEntropyLoss (float64, summed and averaged over the steps, class
indices and one-hot targets): the loss and its gradient with respect to every parameter,
and against finite differences.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnviz
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from tests.conftest import assert_error_at, run_cli

LOGITS = r"""
h_t = \tanh(W h_{t-1} + U x_t + b)
o_t = V h_t + c
L_t = cross_entropy(o_t, y_t)
L = \sum_t L_t
dim x = 3, h = 4, o = 5
"""

# Goodfellow et al., eq. 10.8-10.14: the softmax output and the negative log-likelihood of the
# target class, written as the book writes it.
BOOK = r"""
a^{(t)} = b + W h^{(t-1)} + U x^{(t)}
h^{(t)} = \tanh(a^{(t)})
o^{(t)} = c + V h^{(t)}
\hat{y}^{(t)} = \mathrm{softmax}(o^{(t)})
L^{(t)} = -\log \hat{y}^{(t)}_{y^{(t)}}
\mathcal{L} = \sum_{t=1}^{T} L^{(t)}
dim x = 3, h = 4, o = 5
"""

CLASSES = [0, 4, 2, 2, 1]


def _torch_loss(trace, targets, reduction):
    """nn.CrossEntropyLoss over the steps of the same RNN with the same parameters, and its gradients."""
    torch = pytest.importorskip("torch")
    P = {n: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for n, v in trace.params.items()}
    h = torch.zeros(4, dtype=torch.float64)
    logits = []
    for t in range(1, trace.steps + 1):
        x = torch.tensor(np.asarray(trace.value("x", t)))
        h = torch.tanh(P["W"] @ h + P["U"] @ x + P["b"])
        logits.append(P["V"] @ h + P["c"])
    loss = torch.nn.CrossEntropyLoss(reduction=reduction)(torch.stack(logits), targets)
    loss.backward()
    return loss.item(), {n: p.grad.numpy() for n, p in P.items()}


def _max_error(model, trace, target, torch_loss, torch_grads, total):
    g = gradients(model, trace, target)
    err = abs(total - torch_loss)
    for n, grad in torch_grads.items():
        err = max(err, float(np.max(np.abs(np.asarray(g.params[n]) - grad))))
    return err


@pytest.mark.parametrize("text", [LOGITS, BOOK], ids=["cross_entropy", "book"])
def test_class_indices_against_nn_cross_entropy_loss(text):
    """Class indices, reduction='sum' over the steps: the same loss and gradients within 1e-9."""
    torch = pytest.importorskip("torch")
    model = rnnviz.load_model(text + f"y = {CLASSES}\n")
    trace = forward(model, seed=3)
    loss, grads = _torch_loss(trace, torch.tensor(CLASSES), "sum")
    total = sum(float(trace.value("L", t)) for t in range(1, 6))
    assert _max_error(model, trace, "L", loss, grads, total) < 1e-9


def test_one_hot_targets_and_the_mean_against_nn_cross_entropy_loss():
    """One-hot vectors as targets, and L = 1/T sum_t L_t as reduction='mean'."""
    torch = pytest.importorskip("torch")
    onehot = np.eye(5)[CLASSES]
    text = LOGITS.replace(r"L = \sum_t L_t", r"L = \frac{1}{T} \sum_{t=1}^{T} L_t")
    model = rnnviz.load_model(text + f"y = {onehot.tolist()}\n")
    assert model.means == ("L",)
    trace = forward(model, seed=3)
    loss, grads = _torch_loss(trace, torch.tensor(onehot), "mean")
    mean = sum(float(trace.value("L", t)) for t in range(1, 6)) / 5
    assert _max_error(model, trace, "L", loss, grads, mean) < 1e-9
    # The same model with class indices gives the same numbers.
    indexed = rnnviz.load_model(text + f"y = {CLASSES}\n")
    again = forward(indexed, seed=3)
    assert [float(again.value("L", t)) for t in range(1, 6)] == pytest.approx(
        [float(trace.value("L", t)) for t in range(1, 6)], abs=1e-12)


def test_the_book_and_cross_entropy_give_one_loss():
    book = rnnviz.load_model(BOOK + f"y = {CLASSES}\n")
    logits = rnnviz.load_model(LOGITS + f"y = {CLASSES}\n")
    assert book.totals == (("L", "L"),) and book.role("y") == "input" and logits.role("y") == "input"
    a, b = forward(book, seed=1), forward(logits, seed=1)
    for p in ("W", "U", "b", "V", "c"):
        np.testing.assert_array_equal(a.params[p], b.params[p])
    assert [float(a.value("L", t)) for t in range(1, 6)] == pytest.approx(
        [float(b.value("L", t)) for t in range(1, 6)], abs=1e-12)
    assert any("read as log" in n for n in book.notes)  # -\log without parentheses is said


def test_gradients_equal_finite_differences_with_respect_to_scores_and_one_hot_targets():
    """d L / d every parameter, and d L / d y_t where the target is a vector."""
    text = LOGITS.replace(r"L = \sum_t L_t", r"L = \frac{1}{T} \sum_{t=1}^{T} L_t")
    model = rnnviz.load_model(text + "y_1 = [0.2, 0.3, 0.1, 0.4, 0]\ny_2 = [0, 0, 1, 0, 0]\n")
    trace = forward(model, seed=5)
    g = gradients(model, trace, "L")

    def loss(values):
        tr = forward(model, seed=5, values=values)
        return sum(float(tr.value("L", t)) for t in range(1, 3)) / 2

    eps = 1e-6
    for p in ("W", "U", "b", "V", "c"):
        v = np.asarray(trace.params[p])
        for idx in list(np.ndindex(v.shape))[:6]:
            up, down = v.copy(), v.copy()
            up[idx] += eps
            down[idx] -= eps
            fd = (loss({p: up}) - loss({p: down})) / (2 * eps)
            assert abs(fd - g.params[p][idx]) < 1e-7, (p, idx)
    ys = np.array([trace.value("y", 1), trace.value("y", 2)])
    for k in range(5):
        up, down = ys.copy(), ys.copy()
        up[0, k] += eps
        down[0, k] -= eps
        fd = (loss({"y": up}) - loss({"y": down})) / (2 * eps)
        assert abs(fd - g.inputs[("y", 1)][k]) < 1e-7, k


def test_class_indices_drawn_at_random_are_classes():
    """Without values, a class index is drawn as a whole number 0..n-1 (and announced)."""
    model = rnnviz.load_model(LOGITS)
    trace = forward(model, steps=20, seed=0)
    drawn = [float(trace.value("y", t)) for t in range(1, 21)]
    assert all(v.is_integer() and 0 <= v < 5 for v in drawn) and len(set(drawn)) > 1
    assert "y" in trace.drawn


def test_run_and_grad_take_the_total(write, capsys):
    path = write(LOGITS + f"y = {CLASSES}\n")
    code, out, _ = run_cli(capsys, "run", path, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["totals"]["L"] == pytest.approx(sum(forward(rnnviz.load(path)).value("L", t) for t in range(1, 6)))
    code, out, _ = run_cli(capsys, "grad", path, "--wrt", "c", "--json")
    assert code == 0 and json.loads(out)["of"] == "sum(L)"
    mean = write(LOGITS.replace(r"L = \sum_t L_t", r"L = \frac{1}{T}\sum_{t=1}^{T} L_t") + f"y = {CLASSES}\n",
                 "mean.rnn")
    code, out, _ = run_cli(capsys, "grad", mean, "--wrt", "c", "--json")
    assert code == 0 and json.loads(out)["of"] == "mean(L)"
    code, out, _ = run_cli(capsys, "run", mean)
    assert code == 0 and "(the mean of L over t = 1..5)" in out


def _run_error(text):
    with pytest.raises(rnnviz.RnnvizError) as info:
        forward(rnnviz.load_model(text, "m.rnn"))
    return info.value


@pytest.mark.parametrize("values, line, column, words", [
    ("y = [0, 5, 2]", 7, 1, "y[2] = 5 is not a class: the scores have 5 entries, classes 0..4"),
    ("y = [0, 1.5, 2]", 7, 1, "y[2] = 1.5 is not a whole number"),
    ("y = [0, -1, 2]", 7, 1, "y[2] = -1 is not a class"),
    ("y_1 = [0, 1, 0]", 4, 26, "a cross-entropy of scores with 5 entries and a target y with 3"),
])
def test_misused_targets_are_errors_with_positions(values, line, column, words):
    err = _run_error(LOGITS + values + "\n")
    assert (err.span.line, err.span.column) == (line, column), err.format()
    assert words in err.format()


def test_a_class_index_is_an_input():
    err = _run_error("h_t = tanh(W h_{t-1} + x_t)\no_t = V h_t\n"
                     "L_t = cross_entropy(o_t, 3)\ndim x = 4, o = 3\n")
    assert err.span.line == 3 and "a class index is an input" in err.format()


@pytest.mark.parametrize("text, line, column, words", [
    ("h_t = tanh(W h_{t-1} + x_t)\nL_t = cross_entropy(h_t)", 2, 7, "here it has 1"),
    ("h_t = tanh(W h_{t-1} + x_t)\nL_t = cross_entropy(h_t, y_t, z_t)", 2, 7, "takes two arguments"),
    ("h_t = tanh(W h_{t-1} + x_t)\np^{(t)}_{y_t} = h_t", 2, 1, "picks an entry"),
    ("h_t = tanh(W h_{t-1} + x_t)\np_{y_t} = h_t", 2, 2, "read only for a variable at step t"),
])
def test_misused_cross_entropy_is_an_error_with_a_position(text, line, column, words):
    assert_error_at(text, line, column, words)


def test_scores_that_are_a_number_are_refused():
    err = _run_error("h_t = tanh(W h_{t-1} + x_t)\nL_t = cross_entropy(h_t, y_t)\ny = [1, 0]\nx = [1, 2]\n")
    assert err.span.line == 2 and "a vector of scores" in err.format()


def test_the_gradient_formula_of_a_cross_entropy_is_softmax_minus_the_target(write, capsys):
    """Goodfellow et al. eq. 10.18: dL/do_t = softmax(o_t) - onehot(y_t), the loss's row in the chain."""
    path = write(LOGITS + f"y = {CLASSES}\n")
    code, out, _ = run_cli(capsys, "formula", path, "--of", "L", "--grad", "V")
    assert code == 0 and "dL_t^+/dV = (softmax(o_t) - onehot(y_t))^T do_t^+/dV" in out
    code, out, _ = run_cli(capsys, "formula", path, "--of", "L[2]", "--grad", "W", "--latex")
    assert code == 0 and r"\left(\mathrm{softmax}\left(o_{2}\right) - \operatorname{onehot}\left(y_{2}\right)" \
                         r"\right)^{\top}" in out
    # The book's pick by a target: the derivative of the picked entry is onehot(y_t)^T, then the log's.
    book = write(BOOK + f"y = {CLASSES}\n", "book.rnn")
    code, out, _ = run_cli(capsys, "formula", book, "--of", "L", "--grad", "V")
    assert code == 0 and "onehot(y_t)^T" in out and "diag(log'(" in out, out


def test_the_character_level_example_against_nn_rnn_and_cross_entropy_loss():
    """examples/char_rnn.rnn ("hell" -> "ello") is nn.RNN, nn.Linear and nn.CrossEntropyLoss(reduction="sum"):
    the same total loss and the same gradients of every parameter, float64, within 1e-10."""
    torch = pytest.importorskip("torch")
    from tests.conftest import EXAMPLES

    model = rnnviz.load(str(EXAMPLES / "char_rnn.rnn"))
    trace = forward(model)
    P = {n: np.asarray(v, dtype=np.float64) for n, v in trace.params.items()}
    rnn = torch.nn.RNN(4, 3, nonlinearity="tanh", dtype=torch.float64)
    out = torch.nn.Linear(3, 4, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(P["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.tensor(P["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.tensor(P["b_h"]))
        rnn.bias_hh_l0.zero_()
        out.weight.copy_(torch.tensor(P["W_hy"]))
        out.bias.copy_(torch.tensor(P["b_y"]))
    x = torch.tensor(np.stack([np.asarray(trace.value("x", t), dtype=np.float64) for t in range(1, 5)]))
    y = torch.tensor([int(trace.value("y", t)) for t in range(1, 5)])
    states, _ = rnn(x.unsqueeze(1))
    loss = torch.nn.CrossEntropyLoss(reduction="sum")(out(states.squeeze(1)), y)
    loss.backward()
    assert abs(sum(float(trace.value("L", t)) for t in range(1, 5)) - loss.item()) < 1e-10
    g = gradients(model, trace, "L")
    want = {"W_xh": rnn.weight_ih_l0.grad, "W_hh": rnn.weight_hh_l0.grad, "b_h": rnn.bias_ih_l0.grad,
            "W_hy": out.weight.grad, "b_y": out.bias.grad}
    for name, grad in want.items():
        np.testing.assert_allclose(np.asarray(g.params[name]), grad.numpy(), atol=1e-10, err_msg=name)
