"""Chapter 10 in the book's notation (Goodfellow et al.) and in d2l.ai's, through every command.

Each case is a refusal or a misreading an audit of the chapter's models found, now read as meant:
the single output at the end written o^{(\\tau)} (Fig. 10.5), d2l.ai's per-layer activation \\phi_l,
the input of a stack by layer index given values as H^{(0)}, an exercise sheet keeping a generic
activation's function, a plot of d2l.ai's bidirectional chains, and the gradient norms of the
backward chain of a bidirectional RNN.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.cli import main
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients, recurrent_spectra, state_grad_norms
from tests.conftest import EXAMPLES, ROOT

PASTES = ROOT / "tests" / "data" / "pastes"

FIG_10_5 = r"""h^{(t)} = \tanh(b + W h^{(t-1)} + U x^{(t)})
o^{(\tau)} = c + V h^{(\tau)}
L^{(\tau)} = \frac{1}{2}(o^{(\tau)} - y^{(\tau)})^2
W = 0.5, U = 1, b = 0, V = 2, c = 0, h^{(0)} = 0
x = [1, 0, -1], y = [0, 0, 1]
"""


def test_single_output_at_the_end_in_the_books_notation():
    """Fig. 10.5: o^{(\\tau)} and L^{(\\tau)} on the left are computed once, after the last step."""
    model = load_model(FIG_10_5, "fig10_5.rnn")
    assert set(model.once) == {"o", "L"}
    assert any("'o' at the last step T" in n for n in model.notes), model.notes
    tr = forward(model)
    h = [0.0]
    for x in (1, 0, -1):
        h.append(math.tanh(0.5 * h[-1] + x))
    o = 2 * h[3]
    assert float(tr.value("o", 3)) == pytest.approx(o, abs=1e-12)
    assert float(tr.value("L", 3)) == pytest.approx(0.5 * (o - 1) ** 2, abs=1e-12)
    g = gradients(model, tr, "L")
    assert float(g.params["V"]) == pytest.approx((o - 1) * h[3], abs=1e-12)
    # The same model written with an untimed left side reads the same.
    plain = FIG_10_5.replace(r"o^{(\tau)} =", "o =").replace(r"L^{(\tau)} =", "L =").replace(
        r"(o^{(\tau)} - ", "(o - ")
    assert float(forward(load_model(plain)).value("L", 3)) == pytest.approx(float(tr.value("L", 3)), abs=1e-15)


def d2l_deep(extra: str = "") -> str:
    return (PASTES / "14-d2l-deep-rnn.txt").read_text(encoding="utf-8") + (
        "\nL = 3, \\phi_l = \\tanh, H_t^{(0)} \\in \\mathbb{R}^3, H_t^{(l)} \\in \\mathbb{R}^4, "
        "O_t \\in \\mathbb{R}^2\n" + extra)


def test_d2l_per_layer_activation_and_the_stacks_input():
    """d2l.ai's deep RNN: \\phi_l = \\tanh gives every layer's activation; H^{(0)} = [...] is the input."""
    model = load_model(d2l_deep("H^{(0)} = [[1, 2, 3], [3, 4, 5]]\n"), "deep.rnn")
    assert [model.function_binding(f"phi_{l}") for l in (1, 2, 3)] == ["tanh"] * 3
    tr = forward(model)
    assert tr.steps == 2
    np.testing.assert_array_equal(tr.value("H^(0)", 2), [3, 4, 5])
    W, U, b = (np.asarray(tr.params[n]) for n in ("W_xh1", "W_hh1", "b_h1"))
    h1 = np.tanh(np.array([1.0, 2, 3]) @ W + b)  # d2l.ai's row vectors, H_0 = 0
    np.testing.assert_allclose(tr.value("H_1", 1), h1, atol=1e-12)
    np.testing.assert_allclose(tr.value("H_1", 2), np.tanh(np.array([3.0, 4, 5]) @ W + h1 @ U + b), atol=1e-12)


def test_exercise_sheets_keep_the_files_activation_and_stack_input(tmp_path, capsys):
    for name, text in (("rnn", (PASTES / "01-d2l-rnn-hidden-and-output.txt").read_text(encoding="utf-8")
                        + "\ndim X = 3, H = 4, O = 2\n\\phi = \\tanh\n"), ("deep", d2l_deep())):
        path = tmp_path / f"{name}.rnn"
        path.write_text(text, encoding="utf-8")
        assert main(["exercise", str(path), "-o", str(tmp_path / name)]) == 0, capsys.readouterr().err
        assert "= tanh" in (tmp_path / name / f"{name}.solutions.md").read_text(encoding="utf-8")


def test_plots_of_d2l_bidirectional_chains(tmp_path, capsys):
    path = tmp_path / "birnn.rnn"
    path.write_text((PASTES / "13-d2l-birnn-with-output.txt").read_text(encoding="utf-8")
                    + "\ndim X = 3, H_fwd = 4, H_bwd = 4, O = 2\n\\phi = \\tanh\n", encoding="utf-8")
    assert main(["plot", str(path), "-o", str(tmp_path / "p.svg")]) == 0, capsys.readouterr().err
    assert main(["plot", str(path), "--grad-norms", "--of", "O[2]", "-o", str(tmp_path / "g.svg")]) == 0
    assert "W_hh^b: spectral radius" in capsys.readouterr().out


def test_gradient_norms_of_a_bidirectional_rnn_hold_the_backward_chain():
    """Exercise 8: o_2 depends on h at steps 0..2 and on g at steps 2..T+1; g has no step 0."""
    model = load_model((EXAMPLES / "bidirectional.rnn").read_text(encoding="utf-8"))
    tr = forward(model)
    norms = state_grad_norms(model, tr, "o[2]")
    assert set(norms) == {"h", "g"} and len(norms["g"]) == tr.steps + 2 and math.isnan(norms["g"][0])
    g = gradients(model, tr, "o[2]")
    for t in range(1, tr.steps + 2):
        assert norms["g"][t] == pytest.approx(abs(float(g.nodes[("g", t)])))
    assert norms["g"][1] == 0 and norms["g"][2] == pytest.approx(1.0) and norms["h"][3] == 0
    assert set(recurrent_spectra(model, tr)) == {"W", "R"}
