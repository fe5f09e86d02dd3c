"""Targets, unrolled formulas and the expansion of derivatives over time."""

from __future__ import annotations

import glob

import pytest

import rnnviz
from rnnviz.formulas.gradient import gradient_formula
from rnnviz.formulas.unrolled import At, Printer, unroll, unrolled_formula
from rnnviz.language import expr as E
from rnnviz.numeric.target import Target, TargetError, parse_target
from tests.conftest import one_phase_example_paths

VANILLA = "h[t] = f(W h[t-1] + U x[t])"
TWO_LAYER = "examples/two_layer.rnn"
EXAMPLES = sorted(glob.glob("examples/*.rnn"))
#: The expansions of one sequence (an encoder-decoder's is tested on its own below).
ONE_PHASE = [str(p.relative_to(p.parents[1])) for p in one_phase_example_paths()]


@pytest.mark.parametrize("text, expected", [
    ("h[3]", Target("h", 3)),
    ("h_3", Target("h", 3)),
    ("h^{(3)}", Target("h", 3)),
    ("h[3][1]", Target("h", 3, 1)),
    ("sum(h)", Target("h", None, None, True)),
    ("sum(h[2])", Target("h", 2, None, True)),
])
def test_target_spellings(text, expected):
    """Every spelling of a target names the same variable, step and component."""
    assert parse_target(text, rnnviz.load_model(VANILLA)) == expected


@pytest.mark.parametrize("text, expected", [
    ("h1[3]", Target("h_1", 3)),
    ("h_1[3]", Target("h_1", 3)),
    ("h_{1,3}", Target("h_1", 3)),
    ("h_1^{(2)}", Target("h_1", 2)),
    ("y_2", Target("y", 2)),
])
def test_target_with_subscripted_names(text, expected):
    """A name that carries a subscript of its own keeps it; the last number is the step."""
    assert parse_target(text, rnnviz.load(TWO_LAYER)) == expected


@pytest.mark.parametrize("text, words", [
    ("q[2]", "not a variable"),
    ("W[1]", "is a parameter"),
    ("x[1]", "is an input"),
    ("h", "needs a step"),
    ("h[0]", "initial value"),
    ("h[t]", "names the step t"),
    ("((", "cannot read"),
    ("", "empty target"),
])
def test_bad_targets(text, words):
    """A target that names nothing computed is a TargetError that says why."""
    with pytest.raises(TargetError) as err:
        parse_target(text, rnnviz.load_model(VANILLA))
    assert words in err.value.message
    assert err.value.format().startswith("--of:1:")


def test_target_beyond_the_run():
    """A step after the last one of the run is reported with the number of steps."""
    with pytest.raises(TargetError, match="beyond the last step"):
        Target("h", 9).check_steps(3)


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_vanilla_unrolled_formula_nests_once_per_step(step):
    """h_T of a vanilla RNN nests f T times and reads x_1..x_T and h_0."""
    text = unrolled_formula(rnnviz.load_model(VANILLA), f"h[{step}]")
    lhs, rhs = text.split(" = ")
    assert lhs == f"h_{step}"
    assert rhs.count("f(") == step
    assert "h_0" in rhs and all(f"x_{k}" in rhs for k in range(1, step + 1))
    assert f"x_{step + 1}" not in rhs


def test_unrolled_formula_matches_the_textbook():
    """The issue's own example comes out character for character."""
    assert unrolled_formula(rnnviz.load_model(VANILLA), "h[3]") == \
        "h_3 = f(W f(W f(W h_0 + U x_1) + U x_2) + U x_3)"


@pytest.mark.parametrize("path", EXAMPLES)
def test_unrolled_leaves_are_inputs_initial_states_and_parameters(path):
    """After unrolling, no computed variable at a step >= 1 is left in any example."""
    m = rnnviz.load(path)
    for name in m.variables:
        tree = unroll(m, name, 2)
        for node in E.walk(tree):
            assert not isinstance(node, E.Var)
            if isinstance(node, At):  # a backward chain starts after the last step (x has 3 here)
                assert node.name in m.inputs or node.step <= 0 or node.name in m.backward and node.step == 4


@pytest.mark.parametrize("path", EXAMPLES)
def test_latex_formula_has_balanced_braces(path):
    """LaTeX formulas of every example keep braces and \\left/\\right balanced."""
    m = rnnviz.load(path)
    text = unrolled_formula(m, f"{m.variables[-1]}[2]", latex=True)
    assert text.count("{") == text.count("}")
    assert text.count("\\left") == text.count("\\right")


@pytest.mark.parametrize("source, latex_bits", [
    ("h[t] = tanh(W h[t-1])", [r"\tanh"]),
    ("h[t] = sigmoid(W h[t-1])", [r"\sigma"]),
    (r"\tilde{c}_t = \tanh(W_{hh} \tilde{c}_{t-1})", [r"\tilde{c}_{2} = ", r"\tilde{c}_{0}", "W_{hh}"]),
    (r"h_t = \phi(U^g h_{t-1})", [r"\phi\left(", "U^{g}"]),
])
def test_latex_spelling(source, latex_bits):
    """Functions, accents, subscripts and superscripts are typeset as LaTeX."""
    m = rnnviz.load_model(source)
    text = unrolled_formula(m, f"{m.variables[-1]}[2]", latex=True)
    for bit in latex_bits:
        assert bit in text


def test_depth_keeps_earlier_states_as_names():
    """With depth 0 only the cell's intermediates are substituted, not earlier steps."""
    m = rnnviz.load("examples/lstm.rnn")
    text = unrolled_formula(m, "h[3]", depth=0)
    assert "h_2" in text and "c_2" in text and "x_2" not in text
    assert "o_3" not in text and "f_3" not in text


def test_sum_target_is_not_unrolled():
    """sum(h) asks for every step at once; the formula asks for one step instead."""
    with pytest.raises(TargetError, match="unroll one step"):
        unrolled_formula(rnnviz.load_model(VANILLA), "sum(h)")


def test_printer_names():
    """Names at steps: plain h_3, subscripted names get the step as a superscript."""
    m = rnnviz.load(TWO_LAYER)
    assert Printer(m).name("h_1", 3) == "h_1^(3)"
    assert Printer(m, latex=True).name("h_1", "j-1") == "h_{1}^{(j-1)}"
    assert Printer(m).name("x", "j-1") == "x_{j-1}"


def test_vanilla_gradient_expansion():
    """dh_3/dW is a sum over k of products of diag(f'(a_j)) W, as the textbook writes it."""
    text = gradient_formula(rnnviz.load_model(VANILLA), "h[3]", "W")
    assert "dh_3/dW = sum_{k=1}^{3} (prod_{j=k+1}^{3} dh_j/dh_{j-1}) dh_k^+/dW" in text
    assert "dh_j/dh_{j-1} = diag(f'(a_j)) W" in text
    assert "a_j = W h_{j-1} + U x_j" in text


def test_output_weight_has_no_sum_over_time():
    """Exercise 7: dp/dW_ph involves no sum over time, dp/dW_hh goes through the state."""
    m = rnnviz.load_model("h[t] = tanh(W_hx x[t] + W_hh h[t-1] + b_h)\np[t] = W_ph h[t] + b_p")
    ph = gradient_formula(m, "p[3]", "W_ph")
    assert "sum_" not in ph and "d(W_ph h_3)/dW_ph" in ph
    hh = gradient_formula(m, "p[3]", "W_hh")
    assert "dp_3/dh_3 dh_3/dW_hh" in hh and "sum_{k=1}^{3}" in hh
    assert "dh_j/dh_{j-1} = diag(tanh'(a_j)) W_hh" in hh


def test_lstm_jacobian_blocks_go_through_the_gates():
    """The LSTM's state Jacobian lists its blocks, each through the gates that carry it."""
    text = gradient_formula(rnnviz.load("examples/lstm.rnn"), "h[3]", "U_f")
    assert "s_t = (c_t, h_t)" in text
    assert "dc_j/dc_{j-1} = diag(f_j)" in text
    assert "df_j/dh_{j-1} = diag(sigmoid'(a^f_j)) U_f" in text


@pytest.mark.parametrize("path", ONE_PHASE)
def test_gradient_formula_for_every_parameter(path):
    """Every parameter of every example gets an expansion, in plain text and in LaTeX."""
    m = rnnviz.load(path)
    target = f"{m.variables[-1]}[3]"
    if m.backward:  # each weight of one direction is expanded along it
        for p in m.parameters:
            assert gradient_formula(m, target, p).startswith(f"d{m.variables[-1]}_3/d{p} = ")
        return
    for p in m.parameters:
        plain = gradient_formula(m, target, p)
        assert plain.startswith(f"d{Printer(m).name(m.variables[-1], 3)}/d")
        latex = gradient_formula(m, target, p, latex=True)
        assert latex.count("{") == latex.count("}")


@pytest.mark.parametrize("wrt", ["x", "W[1]", "h[2]", "q", "x[4]", "h[1]"])
def test_gradient_formula_rejects_what_it_cannot_expand(wrt):
    """--grad takes a parameter, an initial state or an input at a step of the target."""
    with pytest.raises(TargetError):
        gradient_formula(rnnviz.load_model(VANILLA), "h[3]", wrt)


@pytest.mark.parametrize("wrt, head", [
    ("h[0]", "dh_3/dh_0 = prod_{j=1}^{3} dh_j/dh_{j-1}"),
    ("h_0", "dh_3/dh_0 = prod_{j=1}^{3} dh_j/dh_{j-1}"),
    ("x[1]", "dh_3/dx_1 = (prod_{j=2}^{3} dh_j/dh_{j-1}) dh_1/dx_1"),
    ("x_3", "dh_3/dx_3 = diag(f'(a_3)) U"),
])
def test_gradient_formula_through_the_states(wrt, head):
    """d h_3 / d h_0 is the product of Jacobians that vanishes or explodes; inputs enter at their step."""
    text = gradient_formula(rnnviz.load_model(VANILLA), "h[3]", wrt)
    assert text.splitlines()[0] == head
    if "prod" in head:
        assert "dh_j/dh_{j-1} = diag(f'(a_j)) W" in text and "vanishes or explodes" in text


def test_gradient_formula_of_an_output_through_the_states():
    """An output reads the state of its step: dp_3/dh_0 = dp_3/dh_3 times the product."""
    m = rnnviz.load_model("h[t] = tanh(W_hh h[t-1] + W_hx x[t])\np[t] = W_ph h[t] + b_p")
    text = gradient_formula(m, "p[3]", "h[0]")
    assert text.splitlines()[0] == "dp_3/dh_0 = dp_3/dh_3 [prod_{j=1}^{3} dh_j/dh_{j-1}]"
    assert "dp_3/dh_3 = W_ph" in text


def test_gradient_formula_lstm_initial_cell():
    """For several states the product is of the stacked state's Jacobian, and one block is taken."""
    text = gradient_formula(rnnviz.load("examples/lstm.rnn"), "h[3]", "c[0]")
    assert text.splitlines()[0] == "dh_3/dc_0 = [prod_{j=1}^{3} ds_j/ds_{j-1}]_h"
    assert "dc_j/dc_{j-1} = diag(f_j)" in text
    latex = gradient_formula(rnnviz.load("examples/lstm.rnn"), "h[3]", "c[0]", latex=True)
    assert latex.count("{") == latex.count("}") and "\\right]" in latex


def test_gradient_formula_of_a_squared_norm_loss():
    """||o_t - y_t||^2 differentiates to the row 2 (o_t - y_t)^T, chained with do_t/dh_t."""
    m = rnnviz.load_model("h_t = tanh(W h_{t-1} + U x_t)\no_t = V h_t\nL_t = \\|o_t - y_t\\|^2\nL = \\sum_t L_t\n"
                   "dim x = 2, h = 3, o = 2")
    text = gradient_formula(m, "L", "W")
    assert "dL_t/dh_t = 2 (o_t - y_t)^T do_t/dh_t" in text
    assert r"2\left(o_{t} - y_{t}\right)^{\top}" in gradient_formula(m, "L", "W", latex=True)


def test_gradient_formula_of_an_encoder_decoder_evaluates_to_the_finite_difference():
    """Exercise 9: formula --of o[3] --grad W prints the chain through the context and the start,
    do_3/dW = do_3/dc dc/dW + do_3/ds_0 ds_0/dW, each factor expanded in its own phase. Evaluated
    with the run's numbers (every factor is a number here), the printed lines give the finite
    difference of o_3 with respect to W."""
    import math

    from rnnviz.numeric.forward_pass import forward
    from tests.conftest import EXAMPLES

    model = rnnviz.load(str(EXAMPLES / "encoder_decoder.rnn"))
    text = gradient_formula(model, "o[3]", "W")
    for line in ("do_3/dW = do_3/dc dc/dW + do_3/ds_0 ds_0/dW",
                 "do_3/dc = do_3/ds_3 ds_3/dc", "with ds_3/dc = sum_{k=1}^{3} (prod_{j=k+1}^{3} ds_j/ds_{j-1}) ds_k^+/dc",
                 "do_3/ds_3 = E", "ds_j/ds_{j-1} = diag(tanh'(a_j)) A", "ds_k^+/dc = diag(tanh'(a_k)) C",
                 "a_j = A s_{j-1} + B y_{j-1} + C c", "dc/dW = dc/dh_2 dh_2/dW", "dc/dh_2 = I",
                 "dh_j/dh_{j-1} = diag(tanh'(a^h_j)) W", "dh_k^+/dW = diag(tanh'(a^h_k)) d(W h_{k-1})/dW",
                 "do_3/ds_0 = do_3/ds_3 [prod_{j=1}^{3} ds_j/ds_{j-1}]", "ds_0/dh_2 = diag(tanh'(a^s_0_2)) D dc/dh_2"):
        assert line in text, line
    tr = forward(model)
    v = {n: float(tr.params[n]) for n in "WUABCDE"}
    h = [float(tr.value("h", t)) for t in range(3)]
    x = [None] + [float(tr.value("x", t)) for t in (1, 2)]
    s = [float(tr.value("s", t)) for t in range(4)]
    y = [float(tr.value("y", t)) for t in range(3)]
    c = float(tr.value("c", 2))
    tp = lambda a: 1 - math.tanh(a) ** 2  # noqa: E731  tanh'
    a = [None] + [v["A"] * s[j - 1] + v["B"] * y[j - 1] + v["C"] * c for j in (1, 2, 3)]  # a_j, as printed
    ah = [None] + [v["W"] * h[j - 1] + v["U"] * x[j] for j in (1, 2)]  # a^h_j
    step = lambda j: tp(a[j]) * v["A"]  # noqa: E731  ds_j/ds_{j-1}
    prod = lambda lo, hi, f: math.prod(f(j) for j in range(lo, hi + 1))  # noqa: E731
    do3_dc = v["E"] * sum(prod(k + 1, 3, step) * tp(a[k]) * v["C"] for k in (1, 2, 3))
    dh2_dW = sum(prod(k + 1, 2, lambda j: tp(ah[j]) * v["W"]) * tp(ah[k]) * h[k - 1] for k in (1, 2))
    dc_dW = 1.0 * dh2_dW
    do3_ds0 = v["E"] * prod(1, 3, step)
    ds0_dW = tp(v["D"] * c) * v["D"] * 1.0 * dh2_dW
    printed = do3_dc * dc_dW + do3_ds0 * ds0_dW

    def o3(w: float) -> float:
        return float(forward(model, values={"W": w}).value("o", 3))

    eps = 1e-6
    assert printed == pytest.approx((o3(v["W"] + eps) - o3(v["W"] - eps)) / (2 * eps), abs=1e-7)


def test_gradient_formula_of_an_encoder_decoder_without_an_input_sequence(capsys):
    """seq2seq_gru.rnn gives sizes only: --steps T says how many steps the encoder's part runs over,
    as rnnviz run takes it; without it, a clear error that names --steps."""
    from rnnviz.cli import main
    from tests.conftest import EXAMPLES

    path = str(EXAMPLES / "seq2seq_gru.rnn")
    assert main(["formula", path, "--of", "o[2]", "--grad", "W_hz"]) == 1
    err = capsys.readouterr().err
    assert "the encoder's part is expanded over its T steps" in err and "--steps T" in err
    assert main(["formula", path, "--of", "o[2]", "--grad", "W_hz", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    for line in ("do_2/dW_hz = do_2/dc dc/dW_hz + do_2/ds_0 ds_0/dW_hz",
                 "computed once at its last step T = 3", "dc/dW_hz = dc/dh_3 dh_3/dW_hz",
                 "with dh_3/dW_hz = sum_{k=1}^{3} (prod_{j=k+1}^{3} dh_j/dh_{j-1}) dh_k^+/dW_hz"):
        assert line in out, line
    model = rnnviz.load(path)
    assert gradient_formula(model, "o[2]", "W_hz", steps=3) == out.rstrip("\n")
    # Without --steps the context is written once, c = h_T (not c = h_T = h_T); with it, h_3 written out.
    assert unrolled_formula(model, "o[1]", depth=0).splitlines()[-1] == "c = h_T"
    assert unrolled_formula(model, "o[1]", depth=0, steps=3).splitlines()[-1].startswith("c = h_3 = sigmoid(")
    # The file's input sequence, where there is one, is the same T.
    given = rnnviz.load(str(EXAMPLES / "encoder_decoder.rnn"))
    assert gradient_formula(given, "o[3]", "W", steps=2) == gradient_formula(given, "o[3]", "W")


def test_gradient_formula_of_a_bidirectional_rnn_for_the_forward_chains_weights():
    """Exercise 8: the backward chain g does not depend on W, U, b or the output's V, so for them g is a
    given input and the forward expansion is the whole derivative (evaluated: it equals rnnviz grad);
    R, S and c reach g, whose expansion runs from T down, and are refused with a hint."""
    import math

    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients
    from rnnviz.numeric.target import TargetError
    from tests.conftest import EXAMPLES

    model = rnnviz.load(str(EXAMPLES / "bidirectional.rnn"))
    text = gradient_formula(model, "o[2]", "W")
    for line in ("do_2/dW = do_2/dh_2 dh_2/dW", "do_2/dh_2 = V", "dh_j/dh_{j-1} = diag(tanh'(a_j)) W",
                 "a_j = W h_{j-1} + U x_j + b"):
        assert line in text, line
    assert "d(V h_2)/dV" in gradient_formula(model, "o[2]", "V")
    tr = forward(model)
    p = {n: float(tr.params[n]) for n in "WUbV"}
    h = [float(tr.value("h", t)) for t in range(3)]
    a = [None] + [p["W"] * h[j - 1] + p["U"] * float(tr.value("x", j)) + p["b"] for j in (1, 2)]
    tp = lambda z: 1 - math.tanh(z) ** 2  # noqa: E731
    printed = p["V"] * sum(math.prod(tp(a[j]) * p["W"] for j in range(k + 1, 3)) * tp(a[k]) * h[k - 1]
                           for k in (1, 2))
    assert printed == pytest.approx(float(gradients(model, tr, "o[2]").params["W"]), abs=1e-12)
    # A weight that reaches both directions is refused, naming them.
    shared = rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t])\ng[t] = tanh(R g[t+1] + U x[t])\n"
                               "o[t] = h[t] + g[t]\nx = [1, 2]")
    with pytest.raises(TargetError, match=r"U reaches both the forward chain \(h\) and the backward one \(g\)"):
        gradient_formula(shared, "o[1]", "U")


def test_gradient_formula_of_a_bidirectional_rnn_for_the_backward_chains_weights():
    """Exercise 8, the other half: for R, S and c the forward chain h is a given input, and the expansion
    is the forward one with time reversed, the chain rule running through g_t <- g_{t+1} <- ... <- g_T.
    Evaluated, it equals rnnviz grad."""
    import math

    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients
    from tests.conftest import EXAMPLES

    model = rnnviz.load(str(EXAMPLES / "bidirectional.rnn"))
    text = gradient_formula(model, "o[2]", "R")
    for line in ("do_2/dR = do_2/dg_2 dg_2/dR",
                 "with dg_2/dR = sum_{k=2}^{3} (prod_{j=2}^{k-1} dg_j/dg_{j+1}) dg_k^+/dR",
                 "where (^+ : the immediate derivative, later steps held fixed)", "do_2/dg_2 = Q",
                 "dg_j/dg_{j+1} = diag(tanh'(a_j)) R", "dg_k^+/dR = diag(tanh'(a_k)) d(R g_{k+1})/dR",
                 "a_j = R g_{j+1} + S x_j + c"):
        assert line in text, line
    assert "dg_k^+/dS = diag(tanh'(a_k)) d(S x_k)/dS" in gradient_formula(model, "o[2]", "S")
    assert "dg_k^+/dc = diag(tanh'(a_k))\n" in gradient_formula(model, "o[2]", "c")
    assert gradient_formula(model, "h[2]", "R") == "dh_2/dR = 0   (h does not depend on R)"
    assert gradient_formula(model, "g[2]", "W") == "dg_2/dW = 0   (g does not depend on W)"
    tr = forward(model)
    p = {n: float(tr.params[n]) for n in "RScQ"}
    g = {t: float(tr.value("g", t)) for t in range(1, 5)}  # g_4 = g_{T+1} = 0
    x = {t: float(tr.value("x", t)) for t in range(1, 4)}
    a = {j: p["R"] * g[j + 1] + p["S"] * x[j] + p["c"] for j in (1, 2, 3)}
    tp = lambda z: 1 - math.tanh(z) ** 2  # noqa: E731
    immediate = {"R": lambda k: g[k + 1], "S": lambda k: x[k], "c": lambda k: 1.0}
    for t in (1, 2, 3):
        grads = gradients(model, tr, f"o[{t}]").params
        for wrt, u in immediate.items():
            printed = p["Q"] * sum(math.prod(tp(a[j]) * p["R"] for j in range(t, k)) * tp(a[k]) * u(k)
                                   for k in range(t, 4))
            assert printed == pytest.approx(float(grads[wrt]), abs=1e-12), (t, wrt)


def test_gradient_formula_of_a_bidirectional_rnn_reading_both_directions_stacked():
    """An output reading [h; g] (vectors, drawn weights): the printed expansion of dR and of the bias c,
    evaluated with matrices, equals rnnviz grad; so does the d2l.ai block pasted as printed."""
    import numpy as np

    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients

    model = rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t] + b)\ng[t] = tanh(R g[t+1] + S x[t] + c)\n"
                              "o[t] = V [h[t]; g[t]] + d\ndim x = 2, h = 3, g = 4, o = 2")
    text = gradient_formula(model, "o[2][1]", "R", steps=4)
    for line in ("do_2/dR = do_2/dg_2 dg_2/dR",
                 "with dg_2/dR = sum_{k=2}^{4} (prod_{j=2}^{k-1} dg_j/dg_{j+1}) dg_k^+/dR",
                 "do_2/dg_2 = V[:, g_2]", "dg_j/dg_{j+1} = diag(tanh'(a_j)) R"):
        assert line in text, line
    tr = forward(model, steps=4, seed=3)
    P = {n: np.asarray(tr.params[n], dtype=float) for n in ("R", "V")}
    g = {t: np.asarray(tr.value("g", t), dtype=float) for t in range(1, 6)}
    tp = {t: 1 - g[t] ** 2 for t in range(1, 5)}  # tanh'(a_t), a_t the argument that made g_t
    jac = {j: np.diag(tp[j]) @ P["R"] for j in range(1, 5)}  # dg_j/dg_{j+1}
    d_o_dg = P["V"][:, 3:]  # V[:, g_2]: the columns acting on g
    for t in (1, 2, 3, 4):
        grads = gradients(model, tr, f"o[{t}][1]").params
        for wrt, plus in (("R", lambda k: np.einsum("i,ia,b->iab", tp[k], np.eye(4), g[k + 1])),
                          ("c", lambda k: np.diag(tp[k]))):
            total = 0
            for k in range(t, 5):
                chain = np.eye(4)
                for j in range(t, k):
                    chain = chain @ jac[j]
                total = total + np.tensordot(chain, plus(k), axes=1)
            printed = np.tensordot(d_o_dg, total, axes=1)[1]
            np.testing.assert_allclose(printed, np.asarray(grads[wrt], dtype=float), atol=1e-12,
                                       err_msg=f"o[{t}] {wrt}")
    # d2l.ai's block: H = [H_fwd; H_bwd] read as the concatenation, the weights on the right.
    from pathlib import Path

    d2l = rnnviz.load(str(Path(__file__).parents[1] / "data" / "pastes" / "13-d2l-birnn-with-output.txt"))
    text = gradient_formula(d2l, "O[2]", "W_hh^b", steps=3)
    assert "dH_bwd_j/dH_bwd_{j+1} = diag(phi'(a_j)) W_hh^b^T" in text
    assert "with dH_bwd_2/dW_hh^b = sum_{k=2}^{3}" in text


def test_gradient_formula_of_two_stacked_backward_chains_counts_each_path_once():
    """Backward chains m and g, g reading m at the same step, o reading g only: the stacked state
    s = (m, g) carries the path through m, so do/dm is not added again. Evaluated, equals rnnviz grad;
    so does the forward mirror (h and k, o reading k)."""
    import numpy as np

    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients

    model = rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t])\nm[t] = tanh(A m[t+1] + B x[t])\n"
                              "g[t] = tanh(R g[t+1] + S x[t] + m[t])\no[t] = V h[t] + Q g[t]\n"
                              "W = 0.5, U = 1, A = 0.3, B = 0.7, R = -0.5, S = 1, V = 1, Q = 1.5\n"
                              "h[0] = 0, g[4] = 0, m[4] = 0, x = [1, 0.5, -1]")
    text = gradient_formula(model, "o[1]", "A")
    assert text.splitlines()[0] == "do_1/dA = do_1/dg_1 dg_1/dA"
    for line in ("with ds_1/dA = sum_{k=1}^{3} (prod_{j=1}^{k-1} ds_j/ds_{j+1}) ds_k^+/dA", "s_t = (m_t, g_t)",
                 "dg_j/dm_{j+1} = diag(tanh'(a^g_j)) dm_j/dm_{j+1}", "dg_k^+/dA = diag(tanh'(a^g_k)) dm_k^+/dA",
                 "the blocks of ds_j/ds_{j+1} not listed are 0"):
        assert line in text, line
    tr = forward(model)
    p = {n: float(tr.params[n]) for n in ("A", "R", "Q")}
    m = {t: float(tr.value("m", t)) for t in range(1, 5)}
    g = {t: float(tr.value("g", t)) for t in range(1, 5)}
    tm = {t: 1 - m[t] ** 2 for t in (1, 2, 3)}
    tg = {t: 1 - g[t] ** 2 for t in (1, 2, 3)}
    jac = {j: np.array([[tm[j] * p["A"], 0], [tg[j] * tm[j] * p["A"], tg[j] * p["R"]]]) for j in (1, 2, 3)}
    plus = {k: np.array([tm[k] * m[k + 1], tg[k] * tm[k] * m[k + 1]]) for k in (1, 2, 3)}
    for t in (1, 2, 3):
        ds = sum(np.linalg.multi_dot([np.eye(2)] + [jac[j] for j in range(t, k)] + [plus[k]]) for k in range(t, 4))
        assert p["Q"] * ds[1] == pytest.approx(float(gradients(model, tr, f"o[{t}]").params["A"]), abs=1e-12)
    fwd = rnnviz.load_model("h[t] = tanh(W h[t-1] + x[t])\nk[t] = tanh(A k[t-1] + h[t])\no[t] = Q k[t]\n"
                            "W = 0.8, A = 0.4, Q = 2\nh[0] = 0, k[0] = 0, x = [1, 2]")
    assert gradient_formula(fwd, "o[1]", "W").splitlines()[0] == "do_1/dW = do_1/dk_1 dk_1/dW"
    tr = forward(fwd)
    h1, h2, k2 = float(tr.value("h", 1)), float(tr.value("h", 2)), float(tr.value("k", 2))
    # do_2/dW = Q dk_2/dW; ds_1^+/dW = 0 (h_0 = 0), dk_2^+/dW = tanh'(a^k_2) tanh'(a^h_2) h_1, once.
    printed = 2 * (1 - k2 ** 2) * (1 - h2 ** 2) * h1
    assert printed == pytest.approx(float(gradients(fwd, tr, "o[2]").params["W"]), abs=1e-12)
