"""Exercise 8 (a bidirectional RNN, Goodfellow et al. §10.3) and backward recurrences in general."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnviz
from rnnviz.cli import main
from rnnviz.errors import RnnvizError
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from tests.conftest import assert_error_at

EXERCISE_8 = r"""
h^{(t)} = \tanh(W h^{(t-1)} + U x^{(t)} + b)
g^{(t)} = \tanh(R g^{(t+1)} + S x^{(t)} + c)
o^{(t)} = V h^{(t)} + Q g^{(t)} + d

W = 0.5, U = 1, b = 0, R = -0.5, S = 1, c = 0, V = 1, Q = 1, d = 0
h^{(0)} = 0, g^{(4)} = 0, x = [1, 0, -1]
"""


def test_exercise_8_answers():
    """The sheet's answers to 6 decimals: g runs from t = 3 down to 1."""
    model = rnnviz.load_model(EXERCISE_8)
    assert [(s.direction, s.targets) for s in model.sweeps] == [("forward", ("h",)), ("backward", ("g", "o"))]
    tr = forward(model)
    answers = {"h": [0.761594, 0.363399, -0.674144], "g": [0.674144, 0.363399, -0.761594],
               "o": [1.435738, 0.726799, -1.435738]}
    for name, want in answers.items():
        assert [round(float(tr.value(name, t)), 6) for t in (1, 2, 3)] == want
    assert float(tr.value("g", 4)) == 0.0 and tr.initial["g"] == {4: 0.0}


@pytest.mark.parametrize("start", ["g^{(4)} = 0.3", "g[T+1] = 0.3", "g_{T+1} = 0.3", "g^{(T+1)} = 0.3"])
def test_the_starting_value_is_step_T_plus_1(start):
    """g[T+1], g_{T+1}, g^{(T+1)} and the concrete g^{(4)} give the same start."""
    model = rnnviz.load_model(EXERCISE_8.replace("g^{(4)} = 0", start))
    tr = forward(model)
    assert float(tr.value("g", 4)) == 0.3
    assert round(float(tr.value("g", 3)), 6) == round(float(np.tanh(-0.5 * 0.3 - 1)), 6)


def test_backward_start_defaults_to_zero():
    model = rnnviz.load_model(EXERCISE_8.replace("g^{(4)} = 0,", ""))
    assert float(forward(model).value("g", 4)) == 0.0


def _finite_differences(model, target: str, eps: float = 1e-6) -> dict[str, np.ndarray]:
    trace = forward(model)
    name, step = target.rstrip("]").split("[")
    out = {}
    for p, v in trace.params.items():
        v = np.asarray(v, dtype=float)
        num = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            up, down = v.copy(), v.copy()
            up[idx] += eps
            down[idx] -= eps
            f = [float(np.sum(forward(model, values={p: a}).value(name, int(step)))) for a in (up, down)]
            num[idx] = (f[0] - f[1]) / (2 * eps)
        out[p] = num
    return out


@pytest.mark.parametrize("target", ["o[1]", "o[2]", "o[3]"])
def test_exercise_8_gradients_equal_finite_differences(target):
    """Backprop runs the backward chain forward again (t = 1..T) and the forward chain backward."""
    model = rnnviz.load_model(EXERCISE_8)
    g = gradients(model, forward(model), target)
    for p, want in _finite_differences(model, target).items():
        np.testing.assert_allclose(g.params[p], want, atol=1e-7, err_msg=p)


VECTORS = r"""
\overrightarrow{h}_t = \tanh(W_f \overrightarrow{h}_{t-1} + U_f x_t + b_f)
\overleftarrow{h}_t = \tanh(W_b \overleftarrow{h}_{t+1} + U_b x_t + b_b)
y_t = \mathrm{softmax}(V [\overrightarrow{h}_t; \overleftarrow{h}_t] + c)
x_t \in \mathbb{R}^3, \overrightarrow{h}_t \in \mathbb{R}^4, \overleftarrow{h}_t \in \mathbb{R}^4, y_t \in \mathbb{R}^2
"""


def test_vector_bidirectional_gradients_equal_finite_differences():
    model = rnnviz.load_model(VECTORS)
    assert model.variables == ["h_fwd", "h_bwd", "y"] and model.backward == ["h_bwd"]
    g = gradients(model, forward(model, steps=4), "y[2][0]")
    trace = forward(model, steps=4)
    eps = 1e-6
    for p in ("W_b", "U_f", "V"):
        v = np.asarray(trace.params[p])
        for idx in list(np.ndindex(v.shape))[:6]:
            up, down = v.copy(), v.copy()
            up[idx] += eps
            down[idx] -= eps
            f = [float(forward(model, steps=4, values={p: a}).value("y", 2)[0]) for a in (up, down)]
            assert abs((f[0] - f[1]) / (2 * eps) - g.params[p][idx]) < 1e-7, (p, idx)


def test_arrow_accents_are_names_shown_with_their_arrows():
    model = rnnviz.load_model(VECTORS)
    assert model.symbols["h_fwd"].display.accent == "fwd"
    assert model.symbols["h_bwd"].display.accent == "bwd"
    dot = rnnviz.draw(model, view="folded").dot()
    assert "h\u20d7" in dot and "h\u20d6" in dot
    latex = rnnviz.unrolled_formula(model, "y[1]", latex=True, steps=2)
    assert r"\overleftarrow{h}_{3}" in latex and r"\overrightarrow{h}_{0}" in latex


D2L = r"""
\overrightarrow{H}_t = \phi(X_t W_{xh}^{(f)} + \overrightarrow{H}_{t-1} W_{hh}^{(f)} + b_h^{(f)})
\overleftarrow{H}_t = \phi(X_t W_{xh}^{(b)} + \overleftarrow{H}_{t+1} W_{hh}^{(b)} + b_h^{(b)})
O_t = H_t W_{hq} + b_q
\phi = tanh
dim X = 2, \overrightarrow{H} = 3, \overleftarrow{H} = 3, O = 2
"""


def test_bare_H_is_the_concatenation_with_a_note(capsys, tmp_path):
    """d2l.ai computes only the arrowed forms and reads H_t: the two, concatenated."""
    model = rnnviz.load_model(D2L)
    assert rnnviz.language.expr.to_text(model.equation("H").expr) == "[H_fwd[t], H_bwd[t]]"
    assert model.notes and "concatenation" in model.notes[0]
    tr = forward(model, steps=3)
    np.testing.assert_array_equal(tr.value("H", 2), np.concatenate([tr.value("H_fwd", 2), tr.value("H_bwd", 2)]))
    path = tmp_path / "d2l.rnn"
    path.write_text(D2L)
    assert main(["run", str(path), "--steps", "2"]) == 0
    assert "note: H is not computed; it is read as the concatenation" in capsys.readouterr().err


@pytest.mark.parametrize("text, line, column, words", [
    ("h[t] = tanh(W h[t-1] + V g[t+1])\ng[t] = tanh(R h[t-1] + x[t])", 1, 26,
     "no order in time computes h -> g -> h: h reads g[t+1] (a later step) while g reads h[t-1]"),
    ("h[t] = tanh(W h[t-1] + x[t])\ny[t] = V h[t+1]", 2, 10, "h is not a backward chain"),
    ("g[t] = tanh(R g[t+1] + x[t])\ny[t] = V g[t-1]", 2, 10, "'g' runs backward"),
    ("g[t] = tanh(R g[t+1] + x[t])\ng[0] = 1", 2, 1, "only its value after the last step"),
    ("h[t] = tanh(W h[t-1] + x[t])\nh[T+1] = 1", 2, 1, "only initial values"),
])
def test_misuses_are_errors_with_positions(text, line, column, words):
    assert_error_at(text, line, column, words)


def test_a_start_given_inside_the_run_is_an_error():
    """g[2] with T = 3 is computed, not given."""
    model = rnnviz.load_model("g[t] = tanh(R g[t+1] + x[t])\ng[2] = 1\nx = [1, 2, 3]", "m.rnn")
    with pytest.raises(RnnvizError) as info:
        forward(model)
    assert "its starting value is g[4]" in info.value.format() and info.value.span.line == 2


def test_commands_on_exercise_8(tmp_path, capsys):
    path = tmp_path / "bi.rnn"
    path.write_text(EXERCISE_8)
    assert main(["run", str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[-1].split() == ["4", "0"]  # g's start at T+1
    assert main(["grad", str(path), "--of", "o[1]", "--wrt", "R", "g[T+1]", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["grad"]
    assert set(got) == {"R", "g[4]"}
    assert main(["formula", str(path), "--of", "o[1]"]) == 0
    assert "g_4" in capsys.readouterr().out
    assert main(["formula", str(path), "--of", "o[1]", "--grad", "R"]) == 0  # from T down to 1
    assert "dg_1/dR = sum_{k=1}^{3} (prod_{j=1}^{k-1} dg_j/dg_{j+1}) dg_k^+/dR" in capsys.readouterr().out
    for view in ("folded", "unrolled", "cell", "cell-unrolled"):
        assert main(["draw", str(path), "--view", view, "--format", "dot", "-o", str(tmp_path / f"{view}.dot")]) == 0
    assert main(["draw", str(path), "--view", "unrolled", "--grad", "o[1]", "--format", "svg",
                 "-o", str(tmp_path / "g.svg")]) == 0
    folded = (tmp_path / "folded.dot").read_text()
    assert 'label="+1"' in folded and 'tooltip="read 1 step ahead"' in folded  # the square of g[t+1]


def test_unrolled_graph_puts_the_backward_row_above_and_its_start_at_the_right():
    from rnnviz.diagrams.graph import build
    from rnnviz.diagrams.layout import levels

    g = build(rnnviz.load_model(EXERCISE_8), "unrolled", steps=3)
    lv = levels(g)
    assert lv["x"] < lv["h"] < lv["g"] < lv["o"]
    assert "g@4" in [n.id for n in g.nodes] and "g@0" not in [n.id for n in g.nodes]
    assert g.node("g@2").to_json()["direction"] == "backward"
    back = [e for e in g.edges if e.source.startswith("g@") and e.target.startswith("g@")]
    assert {(e.source, e.target) for e in back} == {("g@4", "g@3"), ("g@3", "g@2"), ("g@2", "g@1")}
