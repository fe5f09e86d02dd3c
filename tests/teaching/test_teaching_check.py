"""rnnviz check: planted errors of every answer kind are found, correct sheets pass, chains are traced."""

from __future__ import annotations

import json

import pytest

from rnnviz.cli import main
from rnnviz.errors import RnnvizError
from rnnviz.teaching.check import check_text

# h_1 = relu(-1/2) = 0, h_2 = relu(0 + 3/2) = 3/2, h_3 = relu(3 + 1/2) = 7/2; dh_3/dV = h_2 = 3/2.
EXAM = r"""h_t = \text{ReLU}(V h_{t-1} + W x_t)
V = 2, W = \frac{1}{2}, h_0 = 0, x = [-1, 3, 1]
"""
RIGHT = EXAM + "h_1 = 0\nh_2 = 3/2\nh_3 = 7/2\ndh_3/dV = 3/2\nparameters = 2\n"
LSTM = r"""g_1 = \sigma(W_1 x_t + U_1 h_{t-1})
g_2 = \sigma(W_2 x_t + U_2 h_{t-1})
g_3 = \sigma(W_3 x_t + U_3 h_{t-1})
\tilde{c}_t = \tanh(W_c x_t + U_c h_{t-1})
c_t = g_2 \circ c_{t-1} + g_3 \circ \tilde{c}_t
h_t = g_1 \circ c_t
"""


def test_a_right_sheet_passes():
    """Every answer of the exam sheet is right."""
    report = check_text(RIGHT)
    assert report.ok and len(report.verdicts) == 5
    assert report.summary() == "all 5 answers are right"


@pytest.mark.parametrize("line, wrong, expected", [
    ("h_2 = 3/2", "h_2 = 2/3", "3/2"),
    ("h_3 = 7/2", "h_3 = 3.4", "7/2"),
    ("dh_3/dV = 3/2", "dh_3/dV = 1", "3/2"),
    ("parameters = 2", "parameters = 3", "2"),
], ids=["value", "decimal", "grad", "params"])
def test_a_planted_error_of_each_numeric_kind_is_found(line, wrong, expected):
    """A wrong value, derivative or count is wrong, with the right value given."""
    report = check_text(RIGHT.replace(line, wrong))
    assert not report.ok
    bad = [v for v in report.verdicts if not v.right]
    assert len(bad) == 1 and report.expected_text(bad[0]) == expected


@pytest.mark.parametrize("line, wrong", [("g_1 = output gate", "g_1 = forget gate"),
                                         ("cell state = c", "cell state = h")], ids=["gate", "cell"])
def test_a_planted_error_in_the_gates_is_found(line, wrong):
    """A wrong gate role or cell state is wrong."""
    sheet = LSTM + "g_1 = output gate\ng_2 = forget gate\ng_3 = input gate\ncell state = c\n"
    assert check_text(sheet).ok
    report = check_text(sheet.replace(line, wrong))
    assert [v.right for v in report.verdicts].count(False) == 1


def test_update_names_the_lstm_input_gate_too():
    """Exercise 5 says g3 = update/input: both words pass for the input gate."""
    assert check_text(LSTM + "g_3 = update gate\n").ok
    assert check_text(LSTM + "g_3 = update/input\n").ok


def test_the_chain_that_went_astray():
    """The exam's error: h_2 = 2/3 where the forward pass gives 3/2, and dh_3/dV = 2/3 built on it."""
    sheet = EXAM + "h_1 = 0\nh_2 = 2/3\ndh_3/dV = 2/3\n"
    report = check_text(sheet)
    assert report.summary() == "h_2 should be 3/2; dh_3/dV = 2/3 builds on it"
    assert report.astray.answer.line == 4
    assert "right for your h_2 = 2/3" in report.describe()


def test_a_later_value_right_for_the_wrong_one_is_carried():
    """h_3 = 2·(2/3) + 1/2 = 11/6 is right for the wrong h_2: carried, not a second mistake."""
    report = check_text(EXAM + "h_2 = 2/3\nh_3 = 11/6\n")
    assert report.summary() == "h_2 should be 3/2; h_3 = 11/6 builds on it"


def test_an_independent_second_error_is_not_carried():
    """A later wrong value that does not follow from the first error is listed wrong, not carried."""
    report = check_text(EXAM + "h_2 = 2/3\nh_3 = 5\n")
    assert report.summary() == "h_2 should be 3/2"
    assert [v.right for v in report.verdicts] == [False, False]


def test_decimals_pass_when_rounded_right():
    """0.667 passes for 2/3 (rounded to the places written); 0.66 does not; an exact 1.5 passes for 3/2."""
    text = "h_t = relu(V h_{t-1} + W x_t)\nV = 1, W = \\frac{1}{3}, h_0 = 0, x = [2, 1]\n"
    assert check_text(text + "h_1 = 0.667\n").ok
    assert not check_text(text + "h_1 = 0.66\n").ok
    assert check_text(EXAM + "h_2 = 1.5\n").ok


def test_latex_derivative_and_step_spellings():
    """\\frac{\\partial h_3}{\\partial V}, h[2] and h^{(2)} are read as the same answers."""
    assert check_text(EXAM + "\\frac{\\partial h_3}{\\partial V} = \\frac{3}{2}\nh[2] = 3/2\n").ok


def test_an_unreadable_answer_is_a_positioned_error():
    """A value that is no number stops the check with its line and column."""
    with pytest.raises(RnnvizError) as err:
        check_text(EXAM + "h_2 = three halves\n", "exam.txt")
    assert str(err.value.span).startswith("exam.txt:3:7")
    assert "cannot read 'three halves'" in err.value.format()


def test_a_step_beyond_the_inputs_is_a_positioned_error():
    """h_5 of a three-step sheet is an error at the answer's left side."""
    with pytest.raises(RnnvizError) as err:
        check_text(EXAM + "h_5 = 1\n", "exam.txt")
    assert "there is no step 5" in err.value.message and err.value.span.line == 3


def test_an_unknown_parameter_in_a_derivative_is_an_error():
    """dh_3/dX with no X is an error naming it."""
    with pytest.raises(RnnvizError, match="'X' is not a parameter"):
        check_text(EXAM + "dh_3/dX = 1\n")


def test_the_command_exits_1_on_a_wrong_sheet(tmp_path, capsys):
    """rnnviz check: 0 for the right sheet, 1 and the chain for the wrong one; --json as data."""
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(RIGHT)
    bad.write_text(EXAM + "h_2 = 2/3\ndh_3/dV = 2/3\n")
    assert main(["check", str(good)]) == 0
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "WRONG   h_2 = 2/3   -> h_2 = 3/2" in out and "h_2 should be 3/2; dh_3/dV = 2/3 builds on it" in out
    assert main(["check", str(bad), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["builds_on_it"] == ["dh_3/dV = 2/3"]


def test_the_command_reports_an_unreadable_line_with_a_caret(tmp_path, capsys):
    """An unreadable answer line: exit 1, file:line:col and a caret, no traceback."""
    path = tmp_path / "exam.txt"
    path.write_text(EXAM + "h_2 = 3//2\n")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3:7" in err and "^" in err and "Traceback" not in err


def test_vector_answers(tmp_path):
    """A vector model's answers are lists, checked entry by entry."""
    text = "h[t] = W h[t-1] + x[t]\nW = [[1, 0], [0, 2]], h_0 = [0, 0], x = [[1, 1], [1, 0]]\n"
    assert check_text(text + "h_2 = [2, 2]\n").ok
    assert not check_text(text + "h_2 = [2, 3]\n").ok


def test_scientific_notation_rounds_like_a_decimal():
    """3.32e-5 passes for a value that rounds to it at the places written."""
    text = "h[t] = W h[t-1] + x[t]\nW = 1, h_0 = 0, x = [0.0000332121]\n"
    assert check_text(text + "h_1 = 3.32121e-5\n").ok
    assert not check_text(text + "h_1 = 3.4e-5\n").ok


def test_every_bundled_example_answer_key_passes(example_path):
    """The answer key of each example's sheet (every task that applies) passes its own check."""
    from rnnviz import load
    from rnnviz.commands.exercise import _default_tasks
    from rnnviz.errors import ShapeError
    from rnnviz.teaching.sheet import answer_key, build_sheet

    model = load(str(example_path))
    try:
        tasks = [t for t in _default_tasks(model) if t in ("forward", "params", "grad", "gates", "loss")]
        sheet = build_sheet(model, tasks)
    except ShapeError:
        pytest.skip("the example gives no sizes its concatenations need")
    report = check_text(answer_key(sheet, sheet.variants[0]), "key.txt")
    assert report.ok, report.describe()


def test_a_derivative_by_a_computed_value():
    """dh_3/dh_1 = V·V = 4 (ReLU alive): the steps of a backpropagation by hand are answers too."""
    text = "h_t = relu(V h_{t-1} + W x_t)\nV = 2, W = 1, h_0 = 0, x = [1, 3, 1]\n"
    assert check_text(text + "dh_3/dh_1 = 4\ndh_3/dh_2 = 2\n").ok
    assert not check_text(text + "dh_3/dh_1 = 2\n").ok


def test_the_backward_steps_of_the_loss_are_answers():
    """dL/dh_1 and dL/da_2 of exercise 11 as the loss sheet works them out."""
    text = r"""a^{(t)} = b + W h^{(t-1)} + U x^{(t)}
h^{(t)} = \tanh(a^{(t)})
o^{(t)} = c + V h^{(t)}
L^{(t)} = \frac{1}{2}(o^{(t)} - y^{(t)})^2
L = \sum_{t} L^{(t)}
W = 0.5, U = 1, b = 0, V = 2, c = 0, h^{(0)} = 0
x = [1, 0], y = [1, 1]
"""
    assert check_text(text + "dL/dh_1 = 0.8093\ndL/da_2 = -0.4742\ndL/dh_2 = -0.5464\n").ok
    assert check_text(text + "dL/dh_1 = 0.5232\n").summary() == "dL/dh_1 should be 0.809254"


def test_a_derivative_by_a_computed_vector_is_a_positioned_error():
    """Where the variables are vectors, dh_2/dh_1 is refused at its place (not checked against a wrong 0)."""
    text = "h[t] = W h[t-1] + x[t]\nW = [[1, 0], [0, 2]], h_0 = [0, 0], x = [[1, 1], [1, 0]]\n"
    with pytest.raises(RnnvizError, match="a derivative by a computed value") as err:
        check_text(text + "dh_2/dh_1 = 1\n", "v.txt")
    assert err.value.span.line == 3


def test_a_backpropagation_by_hand_that_went_astray():
    """dL/da_2 forgets tanh' (-0.5464 for -0.4742): dL/dh_1 and dL/dW built on it are carried, not new errors."""
    text = r"""a^{(t)} = b + W h^{(t-1)} + U x^{(t)}
h^{(t)} = \tanh(a^{(t)})
o^{(t)} = c + V h^{(t)}
L^{(t)} = \frac{1}{2}(o^{(t)} - y^{(t)})^2
L = \sum_{t} L^{(t)}
W = 0.5, U = 1, b = 0, V = 2, c = 0, h^{(0)} = 0
x = [1, 0], y = [1, 1]
"""
    # Right for dL/da_2 = -0.5464: dL/dh_1 = 0.5232·2 + (-0.5464)·0.5, dL/dW = -0.5464·h_1.
    sheet = text + "dL/dh_2 = -0.5464\ndL/da_2 = -0.5464\ndL/dh_1 = 0.7732\ndL/dW = -0.4161\ndL/dV = 0.299176\n"
    report = check_text(sheet)
    assert report.summary() == ("dL/da_2 should be -0.474245 (right with tanh' left out of the chain (taken as 1)); "
                                "dL/dh_1 = 0.7732, dL/dW = -0.4161 build on it")
    assert [v.right for v in report.verdicts] == [True, False, False, False, True]
    # an independent slip is not carried
    report = check_text(sheet.replace("dL/dW = -0.4161", "dL/dW = 0.1"))
    assert report.summary().endswith("; dL/dh_1 = 0.7732 builds on it")


def test_a_transposed_weight_in_a_vector_forward_pass():
    """h_2 computed with W^T h_1 (a planted slip): named, the first step astray, o_2 built on it."""
    import numpy as np

    from tests.teaching.sheet_models import VECTOR_LOSS

    w, v = np.array([[0.5, 0], [0.1, 0.5]]), np.array([[1, -1.0]])
    h1 = np.tanh(np.array([1, 0.0]))
    bad = np.tanh(w.T @ h1 + np.array([0, 1.0]))
    assert not np.allclose(bad, np.tanh(w @ h1 + np.array([0, 1.0])))
    sheet = (VECTOR_LOSS + f"h_1 = [{h1[0]:.6f}, 0]\nh_2 = [{bad[0]:.6f}, {bad[1]:.6f}]\n"
             f"o_2 = [{(v @ bad)[0]:.6f}]\n")
    report = check_text(sheet)
    assert not report.ok
    assert report.astray is not None and report.astray.answer.lhs.strip() == "h_2"
    assert report.astray.note == "right with W^T in place of W: the weight transposed"
    assert [c.answer.lhs.strip() for c in report.carried] == ["o_2"]
    assert "o_2 = " in report.summary() and "builds on it" in report.summary()


def test_a_gradient_in_the_other_orientation():
    """dL/dW written transposed (a planted slip) is named; the right one (from autograd) passes."""
    import numpy as np
    import torch

    from tests.teaching.sheet_models import VECTOR_LOSS

    w = torch.tensor([[0.5, 0], [0.1, 0.5]], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([[1, -1.0]], dtype=torch.float64)
    h, loss = torch.zeros(2, dtype=torch.float64), 0
    for x, y in zip([[1, 0.0], [0, 1.0]], [[1.0], [0.0]]):
        h = torch.tanh(w @ h + torch.tensor(x, dtype=torch.float64))
        loss = loss + 0.5 * ((v @ h - torch.tensor(y, dtype=torch.float64)) ** 2).sum()
    loss.backward()
    g = w.grad.numpy()

    def line(m):
        return "dL/dW = [" + ", ".join("[" + ", ".join(f"{x:.6f}" for x in row) + "]" for row in m) + "]\n"

    assert check_text(VECTOR_LOSS + line(g)).ok
    report = check_text(VECTOR_LOSS + line(g.T))
    assert not report.ok
    assert report.verdicts[0].note.startswith("the transpose of the gradient by W")
    assert np.allclose(np.asarray(report.verdicts[0].expected, dtype=float), g, atol=1e-6)
