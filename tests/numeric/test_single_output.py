"""A single output at the end (Goodfellow et al., Fig. 10.5): o = V h_T + c."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.cli import main
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from tests.conftest import assert_error_at

MODEL = r"""
h_t = \tanh(W h_{t-1} + U x_t + b)
o = V h_T + c
W = 0.5, U = 1, b = 0, V = 2, c = 1, h_0 = 0, x = [1, 0, -1]
"""


@pytest.mark.parametrize("read", ["h_T", "h[T]", r"h^{(\tau)}", "h^{(T)}", r"h_\tau"])
def test_spellings_of_the_last_step(read):
    model = rnnviz.load_model(MODEL.replace("h_T", read))
    assert model.once == ["o"] and model.sweeps[-1].direction == "end"
    tr = forward(model)
    assert float(tr.value("o", 3)) == pytest.approx(2 * float(np.tanh(0.5 * tr.value("h", 2) - 1)) + 1)
    assert tr.values["o"][:3] == [None, None, None]


def test_softmax_of_the_last_state():
    """\\hat{y} = softmax(V h^{(\\tau)}): one distribution for the whole sequence."""
    model = rnnviz.load_model(r"""
h^{(t)} = \tanh(W h^{(t-1)} + U x^{(t)})
\hat{y} = \mathrm{softmax}(V h^{(\tau)})
x^{(t)} \in \mathbb{R}^3, h^{(t)} \in \mathbb{R}^4, \hat{y} \in \mathbb{R}^2
""")
    tr = forward(model, steps=4)
    assert model.once == ["y_hat"] and float(np.sum(tr.value("y_hat", 4))) == pytest.approx(1.0)


def test_reading_before_the_end():
    """o = V h_{T-1} reads one step before the last."""
    model = rnnviz.load_model(MODEL.replace("h_T", "h_{T-1}"))
    tr = forward(model)
    assert float(tr.value("o", 3)) == pytest.approx(2 * float(tr.value("h", 2)) + 1)


def test_gradients_of_the_single_output_equal_finite_differences():
    model = rnnviz.load_model(MODEL)
    g = gradients(model, forward(model), "o")
    eps = 1e-6
    for p in ("W", "U", "b", "V", "c"):
        f = [float(forward(model, values={p: v}).value("o", 3))
             for v in (float(forward(model).params[p]) + eps, float(forward(model).params[p]) - eps)]
        assert abs((f[0] - f[1]) / (2 * eps) - float(g.params[p])) < 1e-8, p


def test_views_and_commands(tmp_path, capsys):
    from rnnviz.diagrams.graph import build

    model = rnnviz.load_model(MODEL)
    g = build(model, "unrolled", steps=3)
    assert [n.id for n in g.nodes if n.name == "o"] == ["o@3"]
    assert {(e.source, e.target) for e in g.edges if e.target == "o@3"} == {("h@3", "o@3")}
    path = tmp_path / "end.rnn"
    path.write_text(MODEL)
    assert main(["grad", str(path), "--of", "o", "--wrt", "W"]) == 0
    assert main(["grad", str(path), "--of", "o[2]"]) != 0
    assert "computed once, at the last step" in capsys.readouterr().err
    assert main(["formula", str(path), "--of", "o"]) == 0
    assert capsys.readouterr().out.startswith("o_3 = V tanh(W tanh(")
    from rnnviz.site.htmlblocks import latex_equations

    assert latex_equations(model)[1] == r"o &= V \, h^{(T)} + c"
    for view in ("folded", "unrolled", "cell", "cell-unrolled"):
        assert main(["draw", str(path), "--view", view, "--format", "dot", "-o", str(tmp_path / f"{view}.dot")]) == 0


@pytest.mark.parametrize("text, line, column, words", [
    ("h_t = tanh(W h_{t-1} + x_t + h_T)", 1, 30, "reads the last step"),
    ("h_t = tanh(W h_{t-1} + x_t)\no = V h_T + U x_t", 2, 7, "reads the last step"),
    ("h_t = tanh(W h_{t-1} + x_t)\nx_T = 1", 2, 1, "the last step of x"),
    ("h_t = tanh(W h_{t-1} + x_t + o)\no = V h_T", 1, 30, "cannot read it"),
])
def test_misuses_are_errors_with_positions(text, line, column, words):
    assert_error_at(text, line, column, words)


def test_a_name_with_a_subscript_T_stays_a_name_where_nothing_has_steps():
    """W_T is a parameter (W has no steps), and T alone is a matrix (exercise 1)."""
    model = rnnviz.load_model("h_t = tanh(W_T h_{t-1} + T x_t)")
    assert model.parameters == ["W_T", "T"]
