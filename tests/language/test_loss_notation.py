"""Losses as course texts write them: a function of what they depend on, a mean, a sum of an expression."""

from __future__ import annotations

import math

import pytest

import rnnviz
from rnnviz.language.paste import clean
from rnnviz.numeric.forward_pass import forward
from tests.conftest import assert_error_at

RNN = "h_t = \\tanh(W h_{t-1} + U x_t)\no_t = V h_t\n"


def test_a_loss_written_as_a_function_of_step_t_is_the_loss_at_each_step():
    """deeplearning.ai: L(yhat^{<t>}, y^{<t>}) = ... and L(yhat, y) = sum_{t=1}^{T_y} L(yhat^{<t>}, y^{<t>})."""
    text = (r"\mathcal{L}(\hat{y}^{<t>}, y^{<t>}) = -y^{<t>} \log(\hat{y}^{<t>}) - (1-y^{<t>})\log(1-\hat{y}^{<t>})"
            "\n" r"\mathcal{L}(\hat{y}, y) = \sum_{t=1}^{T_y} \mathcal{L}(\hat{y}^{<t>}, y^{<t>})" "\n"
            r"y = [1, 0], \hat{y} = [0.8, 0.3]")
    model = rnnviz.load_model(text, "m.rnn")
    plain = rnnviz.load_model(r"L_t = -y_t \log(\hat{y}_t) - (1-y_t)\log(1-\hat{y}_t)" "\n" r"L = \sum_t L_t")
    assert model.equations == plain.equations and model.totals == (("L", "L"),)
    assert any("m.rnn:1:10: 'L(...)' with arguments at step t is the loss at each step" in n for n in model.notes)
    trace = forward(model)
    assert [round(float(trace.value("L", t)), 6) for t in (1, 2)] == [0.223144, 0.356675]  # -log 0.8, -log 0.7


def test_a_mean_over_the_steps_of_an_expression_is_a_loss_at_each_step():
    """d2l.ai: L(x_1, ..., x_T, y_1, ..., y_T, w_h, w_o) = 1/T sum_{t=1}^T l(y_t, o_t)."""
    model = rnnviz.load_model(RNN + r"L(x_1, \ldots, x_T, w_\textrm{h}) = \frac{1}{T}\sum_{t=1}^T "
                                    r"\frac{1}{2}(o_t - y_t)^2", "m.rnn")
    plain = rnnviz.load_model(RNN + r"L_t = \frac{1}{2}(o_t - y_t)^2" "\n" r"L = \frac{1}{T} \sum_t L_t")
    assert model.equations == plain.equations and model.means == ("L",) == plain.means
    assert any("the sum's body is read as the loss at each step" in n for n in model.notes)
    assert any("the arguments of 'L(...)' say what the total depends on" in n for n in model.notes)


def test_two_pieces_of_math_on_one_line_are_two_equations():
    """Prose between two $...$ ends the first equation: never one chain that swallows both."""
    text = "The loss is $L_t = (o_t - y_t)^2$ and the total is $L = \\sum_t L_t$."
    assert ";" in clean(text).text
    model = rnnviz.load_model("$o_t = V x_t$\n" + text)
    assert model.totals == (("L", "L"),) and model.variables == ["o", "L"]


@pytest.mark.parametrize("text, line, column, words", [
    (RNN + "f(x) = x^2", 3, 1, "defines a function of its arguments"),
    (RNN + "L(o_{t-1}, y_t) = (o_t - y_t)^2", 3, 3, "takes its arguments at step t"),
    # An argument that is an expression (found by the fuzz test: a pasted `x^{(t-1)}T`) is searched
    # for the read off step t, which is where the error points; no traceback.
    (RNN + "L(o_t x_{t-1}, y_t) = (o_t - y_t)^2", 3, 7, "takes its arguments at step t"),
    (RNN + "L(o_t, y_t) = (o_t - y_t)^2\nJ = \\sum_t L(o_t, x_t)", 4, 12, "the sum calls it with others"),
    (RNN + "L_t = (o_t - y_t)^2\nL = \\sum_t \\frac{1}{2}(o_t - y_t)^2", 4, 12, "computes L_t already"),
    (RNN + "L_t = -\\sum_{w \\in V} y_{t,w} V_{w}", 3, 8, "over components is not part of the equation language"),
    # Inside a mean over time, a sum over the classes that is no cross-entropy (a glued \hat{y}h): refused, no traceback.
    ("\\[\\hat{y}_t = \\tanh(W x_t)\\]\n\\[\\ell=-\\frac{1}{T}\\sum_{t=1}^T\\sum_{j=1}^{|V|}{y_{t,j}\\log "
     "\\hat{y}h_{t,j}}\\]", 2, 32, "is not part of the equation language"),
])
def test_misused_loss_notation_is_an_error_with_a_position(text, line, column, words):
    assert_error_at(text, line, column, words)


def test_the_entry_picked_by_a_target_is_said_and_only_of_a_variable_at_step_t():
    model = rnnviz.load_model(RNN + r"\hat{y}_t = softmax(o_t)" "\n" r"L_t = -\log(\hat{y}^{(t)}_{y_t})", "m.rnn")
    assert any("is read as the entry of y_hat that the class index y_t picks" in n for n in model.notes)
    assert_error_at(RNN + r"k_t = \tanh(E_{x_t})", 3, 14, "read only for a variable at step t")


def test_a_target_beside_its_prediction_is_an_input_but_a_lone_bare_name_is_no_silent_input():
    model = rnnviz.load_model(RNN + r"\hat{y}_t = softmax(o_t)" "\n" r"L_t = \|\hat{y}_t - y_t\|^2")
    assert model.role("y") == "input"
    assert_error_at(r"\hat{h}_t = \tanh(W h_{t-1} + U x_t)", 1, 21, "but computed nowhere, while 'h_hat'")


CE_RNN = "h_t = \\tanh(W h_{t-1} + U x_t)\n\\hat{y}_t = \\text{softmax}(V h_t)\n"
CE_VALUES = "dim x = 2, h = 3, y = 3\nx = [[0.5, -1], [1, 0.2], [0.3, 0.3]]\ny = [[0, 1, 0], [1, 0, 0], [0, 0, 1]]\n"


@pytest.mark.parametrize("loss", [
    r"J_t = -\sum_{w \in V} y_{t,w}\log\hat{y}_{t,w}",          # CS224n, a sum over the vocabulary
    r"J^{(t)}(\theta)=-\sum_{j=1}^{|V|}{y_{t,j}\log \hat{y}_{t,j}}",  # the same with bounds, as a function of theta
    r"J_t = -\log \hat{y}_{y_t}^{(t)}",                            # the entry the target picks
    r"J_t = cross_entropy(V h_t, y_t)",
])
def test_cross_entropy_spellings_give_one_loss(loss):
    """-sum_w y_w log yhat_w, -log yhat_{y_t} and cross_entropy(V h_t, y_t) are one loss, as torch computes it."""
    torch = pytest.importorskip("torch")
    model = rnnviz.load_model(CE_RNN + loss + "\nJ = \\frac{1}{T} \\sum_{t=1}^{T} J_t\n" + CE_VALUES)
    trace = forward(model)
    p = {k: torch.tensor(v) for k, v in trace.params.items()}
    x = torch.tensor([[0.5, -1], [1, 0.2], [0.3, 0.3]], dtype=torch.float64)
    h, scores = torch.zeros(3, dtype=torch.float64), []
    for t in range(3):
        h = torch.tanh(p["W"] @ h + p["U"] @ x[t])
        scores.append(p["V"] @ h)
    want = torch.nn.functional.cross_entropy(torch.stack(scores), torch.tensor([1, 0, 2]))
    mean = sum(float(trace.value("J", t)) for t in (1, 2, 3)) / 3
    assert model.means == ("J",) and mean == pytest.approx(float(want), abs=1e-12)


def test_a_sum_over_time_of_a_negated_term_picked_by_the_next_input():
    """CS224n: J(theta) = 1/T sum_t J^{(t)}(theta) = 1/T sum_{t=1}^T -log yhat^{(t)}_{x_{t+1}}: the target is the
    next input, and the last side is the right side of J^{(t)} again."""
    text = (CE_RNN + r"J^{(t)}(\theta) = -\log \hat{y}_{x_{t+1}}^{(t)}" "\n"
            r"J(\theta)=\frac{1}{T} \sum_{t=1}^{T} J^{(t)}(\theta)=\frac{1}{T} \sum_{t=1}^{T}-\log "
            r"\hat{y}_{x_{t+1}}^{(t)}" "\ndim x = 3, h = 4\n")
    model = rnnviz.load_model(text, "m.rnn")
    plain = rnnviz.load_model(CE_RNN + "J_t = -log(sum(onehot(x[t+1]) * y_hat[t]))\nJ = \\frac{1}{T} \\sum_t J_t\n"
                              "dim x = 3, h = 4")
    assert model.equations == plain.equations and model.means == ("J",) and model.totals == (("J", "J"),)
    assert any("m.rnn:4:" in n and "the right side of J_t (line 3) again" in n for n in model.notes), model.notes
    assert any("the target (a class index or a one-hot vector) x_{t+1} picks" in n for n in model.notes)
    a, b = forward(model, steps=3), forward(plain, steps=3)
    assert [float(a.value("J", t)) for t in (1, 2, 3)] == [float(b.value("J", t)) for t in (1, 2, 3)]


def test_a_negated_total_written_as_a_function_adds_every_entry():
    """E(y, yhat) = -sum_t y_t log(yhat_t): the total of -(y_t * log yhat_t) over the steps and the entries,
    which for one-hot y_t is the cross-entropy the notes mean."""
    text = r"E(y,\hat{y}) = -\sum_{t} y_t log(\hat{y_t})" "\n" + "y = [[0, 1], [1, 0]]\n\\hat{y} = [[0.2, 0.8], [0.6, 0.4]]"
    model = rnnviz.load_model(text, "m.rnn")
    assert model.totals == (("E", "E"),) and model.means == ()
    trace = forward(model)
    total = sum(float(trace.value("E", t).sum()) for t in (1, 2))
    assert total == pytest.approx(-(math.log(0.8) + math.log(0.6)))


def test_a_line_break_inside_the_picked_entrys_index_is_read_as_no_space():
    """Found by the fuzz test: CS224n's `\\hat{y}_{x_{t+1}}` with the line broken inside `t+1`
    stopped on an internal ValueError."""
    text = "\\[\nJ(\\theta)=\\frac{1}{T} \\sum_{t=1}^{T}-\\log \\hat{\\mathbf{y}}_{\\mathbf{x}_{t+\n1}}^{(t)}\n\\]\n"
    unbroken = text.replace("t+\n1", "t+1")
    assert rnnviz.load_model(text).equations == rnnviz.load_model(unbroken).equations
