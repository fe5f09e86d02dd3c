"""The encoder-decoder's numbers: exercise 9 as the sheet writes it, the decoder's length, backprop.

Exercise 9 (Goodfellow et al., §10.4) is checked to its six decimals; the gradients through
the decoder, the context and into the encoder's parameters by central differences.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnviz import RnnvizError, load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from rnnviz.numeric.shapes import parameter_count
from tests.conftest import SHARED, run_cli

EXERCISE_9 = r"""
h_t = \tanh(W h_{t-1} + U x_t)              % encoder, t = 1, ..., T
c = h_T                                     % the context: the encoder's last state
s_0 = \tanh(D c)
s_t = \tanh(A s_{t-1} + B y_{t-1} + C c)    % decoder, reads the previous target
o_t = E s_t

W = 0.5, U = 1, h_0 = 0, x = [1, -1]
A = 0.5, B = 1, C = 1, D = 1, E = 2
y_0 = 0, y_1 = 1, y_2 = 0
"""


def test_exercise_9_is_the_sheets_text():
    sheet = (SHARED / "exercises" / "README.md").read_text()
    block = sheet.split("## 9.")[1].split("```")[1].strip()
    assert block == EXERCISE_9.strip()


def test_exercise_9_answers():
    """c = h_2 = -0.550573, s_0 = -0.500949, s = -0.664622, 0.116584, -0.456025; o = 2 s."""
    m = load_model(EXERCISE_9)
    tr = forward(m)
    assert (tr.steps, tr.decoder_steps) == (2, 3)
    assert round(float(tr.value("c", 2)), 6) == round(float(tr.value("h", 2)), 6) == -0.550573
    assert round(float(tr.value("s_0", 2)), 6) == round(float(tr.value("s", 0)), 6) == -0.500949
    assert [round(float(tr.value("s", t)), 6) for t in (1, 2, 3)] == [-0.664622, 0.116584, -0.456025]
    assert [round(float(tr.value("o", t)), 6) for t in (1, 2, 3)] == [-1.329244, 0.233167, -0.91205]
    assert parameter_count(m) == 7


def test_exercise_9_on_the_command_line(capsys, tmp_path):
    path = tmp_path / "ex9.rnn"
    path.write_text(EXERCISE_9)
    code, out, err = run_cli(capsys, "run", str(path), "--precision", "6")
    assert code == 0 and err == ""
    enc, once, dec = out.split("\n\n")
    assert enc.splitlines()[0] == "encoder, t = 1..T (T = 2)"
    assert enc.splitlines()[-1].split() == ["2", "-1", "-0.550573"]
    assert once.splitlines()[1:] == ["c    -0.550573", "s_0  -0.500949"]
    assert dec.splitlines()[0] == "decoder, t = 1..T' (T' = 3)"
    assert [r.split() for r in dec.splitlines()[2:]] == [
        ["0", "0", "-0.500949"], ["1", "1", "-0.664622", "-1.329244"], ["2", "0", "0.116584", "0.233167"],
        ["3", "-0.456025", "-0.91205"]]
    code, out, _ = run_cli(capsys, "run", str(path), "--json", "--precision", "6")
    doc = json.loads(out)
    assert doc["context"] == {"c": -0.550573, "s_0": -0.500949}
    assert doc["encoder"]["steps"] == 2 and doc["decoder"]["steps"] == 3
    assert doc["decoder"]["values"]["o"] == [None, -1.329244, 0.233167, -0.91205]
    assert doc["decoder"]["values"]["y"] == [0.0, 1.0, 0.0, None]
    code, out, _ = run_cli(capsys, "run", str(path), "--csv", "--precision", "6")
    rows = out.splitlines()
    assert rows[0] == "phase,t,x,h,c,s_0,y,s,o"
    assert rows[4] == "context,2,,,-0.550573,-0.500949,,,"
    assert rows[-1] == "decoder,3,,,,,,-0.456025,-0.91205"


def _finite_difference(model, target: str, name: str, eps: float = 1e-6) -> float:
    base = np.asarray(forward(model).params[name], dtype=float)

    def f(d: float) -> float:
        tr = forward(model, values={name: base + d})
        step = int(target[2:-1])
        return float(tr.value(target[0], step))

    return (f(eps) - f(-eps)) / (2 * eps)


@pytest.mark.parametrize("target", ["o[1]", "o[3]"])
def test_backprop_through_the_decoder_the_context_and_the_encoder(target):
    m = load_model(EXERCISE_9)
    g = gradients(m, forward(m, keep_nodes=True), target)
    assert list(g.params) == ["W", "U", "D", "A", "B", "C", "E"]
    for name in g.params:
        assert float(g.params[name]) == pytest.approx(_finite_difference(m, target, name), abs=1e-7), name


def test_a_target_in_the_encoder_reaches_the_encoder_only():
    m = load_model(EXERCISE_9)
    g = gradients(m, forward(m, keep_nodes=True), "c")
    assert float(g.params["A"]) == float(g.params["E"]) == 0.0
    assert float(g.params["W"]) == pytest.approx(_finite_difference(m, "h[2]", "W"), abs=1e-7)


def test_grad_on_the_command_line(capsys, tmp_path):
    path = tmp_path / "ex9.rnn"
    path.write_text(EXERCISE_9)
    code, out, _ = run_cli(capsys, "grad", str(path), "--of", "o[3]", "--wrt", "W", "C", "y")
    assert code == 0
    assert out.splitlines()[0] == "d o[3] / d ...  (T = 2 encoder steps, T' = 3 decoder steps)"
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["W", "C", "y[0]", "y[1]", "y[2]"]
    code, out, err = run_cli(capsys, "grad", str(path), "--of", "o[4]")
    assert code != 0 and "beyond the decoder's last step: it runs 3 steps" in err and "T' = 4" in err


def test_a_loss_over_the_decoders_steps():
    """L = \\sum_t L_t over the decoder's T' steps; grad without --of takes it."""
    m = load_model(EXERCISE_9.replace("o_t = E s_t\n", "o_t = E s_t\nL_t = (o_t - y_t)^2\nL = \\sum_t L_t\n")
                   .replace("y_2 = 0", "y_2 = 0, y_3 = 1"))
    tr = forward(m, keep_nodes=True)
    want = sum((float(tr.value("o", t)) - y) ** 2 for t, y in zip((1, 2, 3), (1, 0, 1)))
    assert float(sum(tr.decoder.value("L", t) for t in (1, 2, 3))) == pytest.approx(want, abs=1e-12)
    g = gradients(m, tr, "L")
    eps = 1e-6

    def total(d):
        t2 = forward(m, values={"W": 0.5 + d})
        return sum(float(t2.value("L", t)) for t in (1, 2, 3))

    assert float(g.params["W"]) == pytest.approx((total(eps) - total(-eps)) / (2 * eps), abs=1e-7)


def test_a_decoder_that_reads_its_own_output_needs_its_length():
    text = ("h_t = \\tanh(W h_{t-1} + U x_t)\nc = h_T\ns_0 = c\ns_t = \\tanh(A s_{t-1} + B o_{t-1})\n"
            "o_t = E s_t\nW = 0.5, U = 1, A = 0.5, B = 1, E = 2, x = [1, -1]\n")
    with pytest.raises(RnnvizError) as info:
        forward(load_model(text, "m.rnn"))
    assert "m.rnn:4:1: the decoder's length is not known" in info.value.format()
    tr = forward(load_model(text + "T' = 4\n"))
    s, o = [float(tr.value("s", 0))], [0.0]
    for _ in range(4):  # by hand
        s.append(np.tanh(0.5 * s[-1] + o[-1]))
        o.append(2 * s[-1])
    assert tr.decoder_steps == 4
    assert [float(tr.value("o", t)) for t in range(1, 5)] == pytest.approx(o[1:], abs=1e-15)


def test_the_decoders_length_follows_its_inputs():
    """y = [1, 2, 3] read as y_{t-1}: three steps reading y_0 = 0, y_1, y_2 (one per value given)."""
    text = "h_t = \\tanh(W h_{t-1} + U x_t)\nc = h_T\ns_t = \\tanh(A s_{t-1} + B y_{t-1} + C c)\nx = [1]\n"
    assert forward(load_model(text + "y = [1, 2, 3]")).decoder_steps == 3
    assert forward(load_model(text + "y_0 = 5, y_1 = 1")).decoder_steps == 2
    with pytest.raises(RnnvizError) as info:
        forward(load_model(text + "y = [1, 2]\nT' = 5\n", "m.rnn"))
    assert "'y' is given up to step 2, but 5 decoder steps read y[0..4]" in info.value.format()


def test_the_decoders_length_from_the_command_line(capsys, tmp_path):
    path = tmp_path / "ex9.rnn"
    path.write_text(EXERCISE_9)
    code, out, _ = run_cli(capsys, "run", str(path), "--set", "T'=2", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["decoder"]["steps"] == 2 and len(doc["decoder"]["values"]["o"]) == 3
    code, _, err = run_cli(capsys, "run", str(path), "--set", "n_y=1.5")
    assert code != 0 and "n_y is the decoder's length" in err


def test_a_batched_input_read_at_t_minus_1_may_leave_out_its_unread_last_step():
    """From Python, a batch of y_1..y_{T'-1} (y_0 zero) is what a decoder reading y_{t-1} reads over T' steps;
    a batch shorter than that is an error that names the steps, never a failed reshape."""
    text = "h_t = \\tanh(W h_{t-1} + U x_t)\nc = h_T\ns_t = \\tanh(A s_{t-1} + B y_{t-1} + C c)\nT' = 3\n"
    model = load_model(text)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    tr = forward(model, batch=4, values={"x": x, "y": y})
    one = forward(model, values={"x": x[:, 1], "y": y[:, 1]})
    assert tr.decoder_steps == one.decoder_steps == 3
    np.testing.assert_allclose(tr.value("s", 3)[1], one.value("s", 3), atol=1e-15)
    with pytest.raises(RnnvizError, match=r"'y' is given up to step 1, but 3 decoder steps read y\[0..2\]"):
        forward(model, batch=4, values={"x": x, "y": y[:1]})
