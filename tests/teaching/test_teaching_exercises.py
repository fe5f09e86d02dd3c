"""Each worked exercise (1-11) turned into a sheet: its solution gives the exercise's answers (9 once it reads)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients
from rnnviz.teaching.check import check_text
from rnnviz.teaching.document import Chain, Figure, Para, plain_text
from rnnviz.teaching.sheet import answer_key, build_sheet, sheet_markdown
from tests.teaching.sheet_models import ENCODER_DECODER, SMALL_VECTORS, VECTOR_ENCODER_DECODER, VECTOR_LOSS

EXERCISE_1 = (r"$$\begin{aligned}h_1^{(t)} &= \tanh(U x^{(t)} + V h_1^{(t-1)} + W h_2^{(t-1)} + b) \\"
              r"h_2^{(t)} &= \tanh(R h_1^{(t)} + S h_2^{(t-1)} + T y^{(t-1)} + c) \\"
              r"y^{(t)} &= \text{softmax}(P x^{(t)} + Q h_2^{(t)} + d).\end{aligned}$$")
EXERCISE_2 = r"""h_t = \text{ReLU}(V \cdot h_{t-1} + W \cdot x_t)
V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1
"""
EXERCISE_3 = r"h_t = \tanh(V \cdot h_{t-1} + W \cdot x_t + b)" "\n" r"x_t \in \mathbb{R}^3, h_t \in \mathbb{R}^5" "\n"
EXERCISE_4 = r"""f_t = \sigma(b^f + U^f x_t + W^f h_{t-1})
g_t = \sigma(b^g + U^g x_t + W^g h_{t-1})
q_t = \sigma(b^q + U^q x_t + W^q h_{t-1})
s_t = f_t s_{t-1} + g_t \sigma(b + U x_t + W h_{t-1})
h_t = \text{ReLU}(s_t) * q_t
o_t = \sigma(h_t * V + c)

U^g = 0.3   W^g = -0.3   b^g = 0.1
U^f = 0.25  W^f = 0.3    b^f = 0
U^q = 0.4   W^q = 0.3    b^q = 0.2
U = 0.01    W = 0.1      b = 1
V = 5       c = -1
h_0 = 0     s_0 = 0
x = [0.7, 0.5, 0.7]
"""
EXERCISE_5 = r"""g_1 = \sigma(W_1 \cdot x_t + U_1 \cdot h_{t-1}),
g_2 = \sigma(W_2 \cdot x_t + U_2 \cdot h_{t-1}),
g_3 = \sigma(W_3 \cdot x_t + U_3 \cdot h_{t-1}),
\tilde{c}_t = \tanh(W_c \cdot x_t + U_c \cdot h_{t-1}),
c_t = g_2 \circ c_{t-1} + g_3 \circ \tilde{c}_t,
h_t = g_1 \circ c_t,
"""
EXERCISE_6 = r"""z_t = \sigma(W_z \cdot [h_{t-1}, x_t])
r_t = \sigma(W_r \cdot [h_{t-1}, x_t])
\tilde{h}_t = \tanh(W \cdot [r_t * h_{t-1}, x_t])
h_t = (1 - z_t) * h_{t-1} + z_t * \tilde{h}_t
"""
EXERCISE_7 = r"""h^{(t)} = \tanh(W_{hx} x^{(t)} + W_{hh} h^{(t-1)} + b_h)
p^{(t)} = W_{ph} h^{(t)} + b_p
"""


def answers(sheet, task: str) -> dict:
    part = next(p for p in sheet.variants[0].parts if p.task == task)
    return {a.key: a.value for a in part.answers}


def solution_text(sheet, task: str) -> str:
    """Every plain spelling in a task's solution, one block a line."""
    part = next(p for p in sheet.variants[0].parts if p.task == task)
    out = []
    for b in part.solution:
        if isinstance(b, Para):
            out.append(plain_text(b.parts))
        elif isinstance(b, Chain):
            out.append(" = ".join([b.lhs.plain] + [r.plain for r in b.rhs]))
    return "\n".join(out)


def figures(sheet, task: str) -> list[Figure]:
    part = next(p for p in sheet.variants[0].parts if p.task == task)
    return [b for b in part.solution if isinstance(b, Figure)]


def test_exercise_1_draw_gives_the_folded_edges():
    """Exercise 1: the solution draws the folded network with the eight edges the exercise lists."""
    sheet = build_sheet(load_model(EXERCISE_1), ["draw"])
    figs = figures(sheet, "draw")
    assert [f.name for f in figs] == ["v1-folded", "v1-unrolled"]
    text = solution_text(sheet, "draw")
    for edge in ("x -> h_1 (U)", "h_1 -> h_1 (V, delayed)", "h_2 -> h_1 (W, delayed)", "h_1 -> h_2 (R)",
                 "h_2 -> h_2 (S, delayed)", "y -> h_2 (T, delayed)", "x -> y (P)", "h_2 -> y (Q)"):
        assert edge in text
    assert figs[0].render("svg").startswith(b"<?xml")
    # the exercise sheet has no diagram: drawing is the student's task
    assert "```rnnviz" not in sheet_markdown(sheet, solution=False)
    assert "```rnnviz {view=folded}" in sheet_markdown(sheet, solution=True)


def test_exercise_2_forward_pass_worked_and_exact():
    """Exercise 2: h = 6, 0, 3, each step worked out as the exam's solution writes it."""
    sheet = build_sheet(load_model(EXERCISE_2), ["forward"])
    assert answers(sheet, "forward") == {"h[1]": 6, "h[2]": 0, "h[3]": 3}
    assert all(isinstance(v, Fraction) for v in answers(sheet, "forward").values())
    text = solution_text(sheet, "forward")
    assert "h_1 = relu(V h_0 + W x_1) = relu(-3·0 + 3·2) = relu(6) = 6" in text
    assert "h_2 = relu(V h_1 + W x_2) = relu(-3·6 + 3·3) = relu(-9) = 0" in text
    question = plain_text(sheet.variants[0].parts[0].question[0].parts)
    assert question == "Calculate h_1, h_2 and h_3 where V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1."


def test_exercise_3_parameter_count_written_as_the_sum():
    """Exercise 3: 3×5 + 5×5 + 5 = 45."""
    sheet = build_sheet(load_model(EXERCISE_3), ["params"])
    assert answers(sheet, "params") == {"parameters": 45}
    assert "parameters = 3×5 + 5×5 + 5 = 45" in solution_text(sheet, "params")


def test_exercise_4_lstm_forward_plot_and_the_t1_t3_question():
    """Exercise 4: the forward pass matches numpy's, the plot is drawn, and o_1 != o_3 is explained."""
    model = load_model(EXERCISE_4)
    sheet = build_sheet(model, ["forward", "plot"])
    trace = forward(model)
    got = answers(sheet, "forward")
    for name in model.variables:
        for t in (1, 2, 3):
            assert math.isclose(float(got[f"{name}[{t}]"]), float(trace.value(name, t)), rel_tol=1e-12)
    assert round(float(got["o[1]"]), 4) == 0.5757 and round(float(got["o[3]"]), 4) == 0.8140
    fig = figures(sheet, "plot")[0]
    assert fig.render("png").startswith(b"\x89PNG")
    text = solution_text(sheet, "plot")
    assert "No: o_1 = 0.5757 but o_3 = 0.814" in text and "state carried from the earlier steps" in text
    # exact where exact: the first gate's argument 0 + 0.25·0.7 + 0.3·0 = 0.175
    assert "f_1 = sigmoid(b^f + U^f x_1 + W^f h_0) = sigmoid(0 + 0.25·0.7 + 0.3·0) = sigmoid(0.175) = 0.5436" \
        in solution_text(sheet, "forward")


def test_exercise_5_gates_assigned_with_the_reason():
    """Exercise 5: g1 output, g2 forget, g3 input (update); c is the cell state."""
    sheet = build_sheet(load_model(EXERCISE_5), ["gates"])
    assert answers(sheet, "gates") == {"g_1": "output gate", "g_2": "forget gate", "g_3": "input gate",
                                       "cell state": "c"}
    text = solution_text(sheet, "gates")
    assert "g_1^(t) is the output gate: it multiplies c[t], which becomes h[t]." in text
    assert "c_t is the cell state" in text
    question = plain_text(sheet.variants[0].parts[0].question[0].parts)
    assert question.startswith("Assign these gates to the forget, input and output gates")


def test_exercise_6_gru_gates_and_drawing():
    """Exercise 6: z is the update gate, r the reset gate; the GRU is drawn."""
    sheet = build_sheet(load_model(EXERCISE_6), ["draw", "gates"])
    assert answers(sheet, "gates") == {"r": "reset gate", "z": "update gate"}
    assert len(figures(sheet, "draw")) == 2


def test_exercise_7_gradients_no_sum_for_the_output_weight_a_sum_for_the_recurrent_one():
    """Exercise 7: dp/dW_ph has no sum over time, dp/dW_hh is a sum of products of Jacobians."""
    model = load_model(EXERCISE_7)
    ph = build_sheet(model, ["grad"], wrt="W_ph")
    hh = build_sheet(model, ["grad"], wrt="W_hh")
    assert "sum_" not in solution_text(ph, "grad") and "\\sum" not in _latex(ph)
    assert "\\sum_{k=1}^{3}" in _latex(hh) and "\\prod_{j=k+1}^{3}" in _latex(hh)
    variant = hh.variants[0].variant.model  # the file gives no values: the sheet drew them
    value = answers(hh, "grad")["d p[3] / d W_hh"]
    ref = gradients(variant, forward(variant), "p[3]").params["W_hh"]
    assert float(value) == pytest.approx(float(ref), rel=1e-12)


def test_exercise_7_jacobian_explains_vanishing():
    """Exercise 7: the Jacobian task expands dh_t/dh_{t-1} and says why the product vanishes or explodes."""
    sheet = build_sheet(load_model(EXERCISE_7), ["jacobian"])
    assert "vanishing gradient" in solution_text(sheet, "jacobian")


def _latex(sheet) -> str:
    part = sheet.variants[0].parts[0]
    return "\n".join(b.lhs.latex + " = " + " = ".join(r.latex for r in b.rhs)
                     for b in part.solution if isinstance(b, Chain))


@pytest.mark.parametrize("text", [EXERCISE_2, EXERCISE_3, EXERCISE_4, EXERCISE_5, EXERCISE_6, EXERCISE_7],
                         ids=["ex2", "ex3", "ex4", "ex5", "ex6", "ex7"])
def test_each_exercise_answer_key_passes_check(text):
    """The answer key of every exercise's sheet (all tasks that have answers) passes rnnviz check."""
    model = load_model(text)
    # The GRU of exercise 6 gives no sizes, and its concatenations need them: gates only.
    tasks = ["gates"] if text is EXERCISE_6 else ["forward", "params", "grad"] + (["gates"] if "sigma" in text else [])
    sheet = build_sheet(model, tasks)
    report = check_text(answer_key(sheet, sheet.variants[0]), "key.txt")
    assert report.ok, report.describe()
    assert len(report.verdicts) >= (2 if text is EXERCISE_6 else 3)


def test_exercise_2_grad_bptt_terms():
    """dh_3/dV of exercise 2 with ReLU'(0) = 0: every term of the BPTT sum written, and 0 (h_2 = 0 cuts the path)."""
    sheet = build_sheet(load_model(EXERCISE_2), ["grad"])
    assert answers(sheet, "grad") == {"d h[3] / d V": 0}
    text = solution_text(sheet, "grad")
    assert "dh_2/dh_1 = 0" in text and "dh_3/dh_2 = -3" in text
    assert "term k = 1 = (-3)·0·0 = 0" in text
    question = plain_text(sheet.variants[0].parts[0].question[0].parts)
    assert question.endswith("Use that ReLU'(0) = 0.")


EXERCISE_8 = r"""h^{(t)} = \tanh(W h^{(t-1)} + U x^{(t)} + b)
g^{(t)} = \tanh(R g^{(t+1)} + S x^{(t)} + c)
o^{(t)} = V h^{(t)} + Q g^{(t)} + d

W = 0.5, U = 1, b = 0, R = -0.5, S = 1, c = 0, V = 1, Q = 1, d = 0
h^{(0)} = 0, g^{(4)} = 0, x = [1, 0, -1]
"""
EXERCISE_10 = r"""H_t^{(0)} = X_t
H_t^{(l)} = \tanh(H_t^{(l-1)} W_{xh}^{(l)} + H_{t-1}^{(l)} W_{hh}^{(l)} + b_h^{(l)})
O_t = H_t^{(L)} W_{hq} + b_q

L = 3, X_t \in \mathbb{R}^{1 \times 5}, H_t^{(l)} \in \mathbb{R}^{1 \times 8}, O_t \in \mathbb{R}^{1 \times 2}
"""


def _readable(text: str):
    """The model of an exercise of chapter 10 (the language reads 8, 10 and 11 as written)."""
    return load_model(text)


def test_exercise_8_bidirectional_outputs():
    """Exercise 8: h, g and o at 6 decimals as the exercise gives them."""
    sheet = build_sheet(_readable(EXERCISE_8), ["forward"])
    got = answers(sheet, "forward")
    six = lambda name: [round(float(got[f"{name}[{t}]"]), 6) for t in (1, 2, 3)]
    assert six("h") == [0.761594, 0.363399, -0.674144]
    assert six("g") == [0.674144, 0.363399, -0.761594]
    assert six("o") == [1.435738, 0.726799, -1.435738]
    # the answer lines give them as the exercise does, to six decimals
    key = answer_key(sheet, sheet.variants[0])
    for line in ("h_1 = 0.761594", "g_3 = -0.761594", "o_1 = 1.435738", "o_2 = 0.726799", "o_3 = -1.435738"):
        assert line in key.splitlines()


def test_exercise_8_backward_chain_worked_from_t_down_to_1():
    """The hand-worked steps take g from t = 3 down to 1, each reading the step after it with its number."""
    sheet = build_sheet(_readable(EXERCISE_8), ["forward"])
    text = solution_text(sheet, "forward")
    assert "Backward, from t = 3 down to 1" in text
    g3, g2, g1 = (text.index(f"g_{t} = tanh(R g_{t + 1}") for t in (3, 2, 1))
    assert text.index("h_3 = tanh") < g3 < g2 < g1
    # g_2 reads g_3 = -0.7616: the number is in the worked step
    assert "g_2 = tanh(R g_3 + S x_2 + c) = tanh(-0.5·(-0.7616) + 1·0 + 0) = tanh(0.3808) = 0.3634" in text
    question = " ".join(plain_text(p.parts) for p in sheet.variants[0].parts[0].question)
    assert "g_t runs backward in time: compute it from t = 3 down to 1" in question
    # the answers come in the order computed: a key read top to bottom follows the calculation
    keys = list(answers(sheet, "forward"))
    assert keys.index("g[3]") < keys.index("g[2]") < keys.index("g[1]")


def test_exercise_8_check_names_the_first_wrong_step_of_the_backward_chain():
    """A wrong g_2 goes astray before g_1 and o_1, which are right for it: they build on it."""
    model = _readable(EXERCISE_8)
    sheet = build_sheet(model, ["forward"])
    key = answer_key(sheet, sheet.variants[0])
    assert check_text(key).ok
    # Right for g_2 = 0.5: g_1 = tanh(-0.5·0.5 + 1) = tanh(0.75), o_1 = h_1 + g_1.
    g1 = math.tanh(0.75)
    o1 = math.tanh(1.0) + g1
    wrong = (key.replace("g_2 = 0.363399", "g_2 = 0.5").replace("g_1 = 0.674144", f"g_1 = {g1:.6f}")
             .replace("o_1 = 1.435738", f"o_1 = {o1:.6f}"))
    assert wrong.count("g_2 = 0.5") == 1
    report = check_text(wrong)
    assert report.summary() == f"g_2 should be 0.363399; g_1 = {g1:.6f}, o_1 = {o1:.6f} build on it"
    assert [v.answer.lhs for v in report.verdicts if not v.right] == ["g_2", "g_1", "o_1"]


def test_exercise_10_deep_rnn_parameter_count():
    """Exercise 10: layer 1 has 5·8 + 8·8 + 8 = 112, layers 2 and 3 have 136 each, the output 18: 402."""
    sheet = build_sheet(_readable(EXERCISE_10), ["params"])
    assert answers(sheet, "params") == {"parameters of layer 1": 112, "parameters of layer 2": 136,
                                        "parameters of layer 3": 136, "parameters of O": 18, "parameters": 402}
    text = solution_text(sheet, "params")
    assert "parameters of layer 1 = 5×8 + 8×8 + 8 = 112" in text
    assert "parameters of layer 2 = 8×8 + 8×8 + 8 = 136" in text
    assert "parameters of O = 8×2 + 2 = 18" in text
    assert "parameters = 112 + 136 + 136 + 18 = 402" in text
    # counting needs the sizes only: the sheet lists no weights
    assert "W_xh1 =" not in sheet.variants[0].variant.source and "dim X = 5" in sheet.variants[0].variant.source


def test_exercise_10_check_finds_a_wrong_layer_count_and_the_total_built_on_it():
    """parameters of layer 2 = 128 (the bias forgotten twice) is wrong, and a total of 394 builds on it."""
    sheet = build_sheet(_readable(EXERCISE_10), ["params"])
    key = answer_key(sheet, sheet.variants[0])
    assert check_text(key).ok
    report = check_text(key.replace("layer 2 = 136", "layer 2 = 128").replace("parameters = 402", "parameters = 394"))
    assert report.summary() == "parameters of layer 2 should be 136; parameters = 394 builds on it"
    report = check_text(key.replace("parameters of layer 3 = 136", "parameters of layer 3 = 112"))
    assert [v.answer.lhs for v in report.verdicts if not v.right] == ["parameters of layer 3"]
    # the layers can be named by their variable as well
    assert check_text(key.replace("parameters of layer 1", "parameters of H_1")).ok
    assert check_text(key.replace("parameters of O", "parameters of the output")).ok


EXERCISE_11 = r"""a^{(t)} = b + W h^{(t-1)} + U x^{(t)}
h^{(t)} = \tanh(a^{(t)})
o^{(t)} = c + V h^{(t)}
L^{(t)} = \frac{1}{2}(o^{(t)} - y^{(t)})^2
L = \sum_{t} L^{(t)}

W = 0.5, U = 1, b = 0, V = 2, c = 0, h^{(0)} = 0
x = [1, 0], y = [1, 1]
"""


def test_exercise_11_loss_and_its_gradient():
    """Exercise 11: L = 0.174182; dL/dW = -0.361182, dL/dU = 0.339866, dL/dV = 0.299176."""
    sheet = build_sheet(_readable(EXERCISE_11), ["loss"])
    got = {k: round(float(v), 6) for k, v in answers(sheet, "loss").items()}
    assert got == {"L": 0.174182, "d L / d W": -0.361182, "d L / d U": 0.339866, "d L / d V": 0.299176}
    question = plain_text(sheet.variants[0].parts[0].question[0].parts)
    assert question.startswith("Compute the loss L = L_1 + L_2 and its derivatives dL/dW, dL/dU and dL/dV")


def test_exercise_11_backward_sums_written_out():
    """Each step's derivative collects the paths through what reads it; each weight's is a sum over the steps."""
    sheet = build_sheet(_readable(EXERCISE_11), ["loss"])
    text = solution_text(sheet, "loss")
    assert "L = L_1 + L_2 = 0.1369 + 0.03732 = 0.1742" in text
    assert "L_1 = 0.5 (o_1 - y_1)^2 = 0.5·(1.523 - 1)^2 = 0.5·(0.5232)^2 = 0.1369" in text
    # h_1 feeds o_1 and a_2: two paths
    assert "dL/dh_1 = dL/do_1·do_1/dh_1 + dL/da_2·da_2/dh_1 = 0.5232·2 + (-0.4742)·0.5 = 0.8093" in text
    assert "dL/dW = dL/da_1·da_1/dW + dL/da_2·da_2/dW = 0.3399·0 + (-0.4742)·0.7616 = -0.3612" in text
    assert "dL/dV = dL/do_1·do_1/dV + dL/do_2·do_2/dV = 0.5232·0.7616 + (-0.2732)·0.3634 = 0.2992" in text
    # backward: t = 2 comes before t = 1
    assert text.index("dL/da_2 =") < text.index("dL/da_1 =")


def test_exercise_11_gradient_matches_pytorch():
    """The loss and its derivatives agree with PyTorch's autograd on the same network."""
    torch = pytest.importorskip("torch")
    W, U, V = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.5, 1.0, 2.0))
    h, L = torch.tensor(0.0, dtype=torch.float64), 0.0
    for x, y in ((1.0, 1.0), (0.0, 1.0)):
        h = torch.tanh(W * h + U * x)
        L = L + 0.5 * (V * h - y) ** 2
    L.backward()
    got = answers(build_sheet(_readable(EXERCISE_11), ["loss"]), "loss")
    assert float(got["L"]) == pytest.approx(L.item(), rel=1e-12)
    for name, t in (("W", W), ("U", U), ("V", V)):
        assert float(got[f"d L / d {name}"]) == pytest.approx(t.grad.item(), rel=1e-12)


def test_exercise_11_check_finds_a_wrong_loss_and_gradient():
    """A wrong L, a wrong dL/dW are found; a wrong L_1 with an L right for it: L builds on it."""
    sheet = build_sheet(_readable(EXERCISE_11), ["forward", "loss"])
    key = answer_key(sheet, sheet.variants[0])
    assert check_text(key).ok
    report = check_text(key.replace("dL/dW = -0.361182", "dL/dW = -0.474245"))  # the h_1 factor forgotten
    assert report.summary() == "dL/dW should be -0.361182"
    report = check_text(key.replace("L = 0.174182", "L = 0.136863"))  # L_2 left out
    assert report.summary() == "L should be 0.174182"
    report = check_text(key.replace("L_1 = 0.136863", "L_1 = 0.2").replace("L = 0.174182", "L = 0.237319"))
    assert report.summary() == "L_1 should be 0.136863; L = 0.237319 builds on it"


EXERCISE_9 = ENCODER_DECODER
#: Exercise 9's answers as the exercise writes them.
EXERCISE_9_ANSWERS = """c = h_2 = -0.550573
s_0 = -0.500949
s_1 = -0.664622
s_2 = 0.116584
s_3 = -0.456025
o_1 = -1.329244
o_2 = 0.233167
o_3 = -0.912050
"""


def test_exercise_9_encoder_decoder_outputs():
    """Exercise 9: c = h_2 = -0.550573, s_0 = -0.500949, s = -0.664622, 0.116584, -0.456025;
    o = -1.329244, 0.233167, -0.912050 (the exercise's answer lines pass check as written)."""
    model = load_model(EXERCISE_9)
    sheet = build_sheet(model, ["forward"])
    got = answers(sheet, "forward")
    for line in EXERCISE_9_ANSWERS.splitlines():
        *names, number = (p.strip() for p in line.split("="))
        key = names[0] if names[0] in ("c", "s_0") else f"{names[0][0]}[{names[0][2]}]"
        assert f"{float(got[key]):.6f}" == number, line
    assert got["h[2]"] == got["c"]
    key = answer_key(sheet, sheet.variants[0])
    assert check_text(key).ok
    report = check_text(EXERCISE_9 + EXERCISE_9_ANSWERS)
    assert report.ok and len(report.verdicts) == 9, report.describe()  # c = h_2 answers c and h_2


def test_exercise_9_forward_is_worked_over_encoder_context_decoder():
    """The solution works the encoder's steps, then the context and the start once, then the decoder's steps,
    each with its numbers, in that order."""
    text = solution_text(build_sheet(load_model(EXERCISE_9), ["forward"]), "forward")
    steps = ["The encoder, from t = 1 to 2:",
             "h_2 = tanh(W h_1 + U x_2) = tanh(0.5·0.7616 + 1·(-1)) = tanh(-0.6192) = -0.5506",
             "Once, at the encoder's last step (t = T = 2): the context c and the decoder's start s_0:",
             "c = h_2 = -0.5506",
             "s_0 = tanh(D c) = tanh(1·(-0.5506)) = tanh(-0.5506) = -0.5009",
             "The decoder, from t = 1 to 3, reading c at every step:",
             "s_1 = tanh(A s_0 + B y_0 + C c) = tanh(0.5·(-0.5009) + 1·0 + 1·(-0.5506)) = tanh(-0.801) = -0.6646",
             "o_3 = E s_3 = 2·(-0.456) = -0.912"]
    at = [text.index(s) for s in steps]
    assert at == sorted(at)
    question = plain_text(next(p for p in build_sheet(load_model(EXERCISE_9), ["forward"]).variants[0].parts)
                          .question[0].parts)
    assert "Run the encoder over x_1 and x_2 (T = 2 steps)" in question and "T' = 3 steps" in question
    assert "y_0 = 0, y_1 = 1 and y_2 = 0" in question


def test_exercise_9_plot_draws_each_phase_against_its_own_steps():
    """The plot task of an encoder-decoder: the encoder's panels over t = 1..T, the decoder's over t = 1..T'."""
    sheet = build_sheet(load_model(EXERCISE_9), ["plot"])
    fig = figures(sheet, "plot")[0]
    assert "t = 1..T'" in fig.alt
    svg = fig.render("svg").decode()
    assert "encoder" in svg and "decoder" in svg
    assert fig.render("png").startswith(b"\x89PNG")
    question = plain_text(sheet.variants[0].parts[0].question[0].parts)
    assert "input sequence and then the output sequence" in question


def test_exercise_9_draw_params_formula():
    """The draw task's folded and unrolled diagrams (encoder chain, context, decoder chain), 7 parameters,
    the formula of o_3 with its start and context."""
    model = load_model(EXERCISE_9)
    sheet = build_sheet(model, ["draw", "params", "formula"])
    assert [f.name for f in figures(sheet, "draw")] == ["v1-folded", "v1-unrolled"]
    text = solution_text(sheet, "draw")
    for edge in ("h -> h (W, delayed)", "h -> c", "c -> s_0 (D)", "c -> s (C)", "y -> s (B, delayed)"):
        assert edge in text
    question = plain_text(next(p for p in sheet.variants[0].parts if p.task == "draw").question[0].parts)
    assert "the encoder over its T = 2 steps" in question and "the decoder over its T' = 3 steps" in question
    assert answers(sheet, "params")["parameters"] == 7
    formula = solution_text(sheet, "formula")
    assert "o_3 = E tanh(A tanh(A tanh(A s_0 + B y_0 + C c) + B y_1 + C c) + B y_2 + C c)" in formula
    assert "c = h_2 = tanh(W tanh(W h_0 + U x_1) + U x_2)" in formula


def test_exercise_9_gradient_through_the_context_matches_pytorch():
    """do_3/dW backpropagated by hand through the decoder, the context and the encoder, matching autograd."""
    torch = pytest.importorskip("torch")
    sheet = build_sheet(load_model(EXERCISE_9), ["grad"])
    text = solution_text(sheet, "grad")
    assert "do_3/dc = do_3/ds_0·ds_0/dc + do_3/ds_1·ds_1/dc + do_3/ds_2·ds_2/dc + do_3/ds_3·ds_3/dc" in text
    assert text.index("do_3/dc =") < text.index("do_3/dh_2 =") < text.index("do_3/dW =")
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in dict(W=0.5, U=1.0, A=0.5, B=1.0, C=1.0, D=1.0, E=2.0).items()}
    h = torch.tensor(0.0, dtype=torch.float64)
    for x in (1.0, -1.0):
        h = torch.tanh(p["W"] * h + p["U"] * x)
    s = torch.tanh(p["D"] * h)
    for y in (0.0, 1.0, 0.0):
        s = torch.tanh(p["A"] * s + p["B"] * y + p["C"] * h)
    (p["E"] * s).backward()
    assert float(answers(sheet, "grad")["d o[3] / d W"]) == pytest.approx(p["W"].grad.item(), rel=1e-12)


def test_exercise_9_check_finds_a_wrong_context_and_what_builds_on_it():
    """A wrong context c, and an s_0 right for it: the chain went astray at c."""
    wrong = EXERCISE_9_ANSWERS.replace("c = h_2 = -0.550573", "c = -0.5").replace("s_0 = -0.500949",
                                                                                   "s_0 = -0.462117")
    report = check_text(EXERCISE_9 + wrong)
    assert report.summary().startswith("c should be -0.550573; s_0 = -0.462117")
    assert report.verdicts[1].note == "right for your c = -0.5"
    from rnnviz.errors import RnnvizError

    with pytest.raises(RnnvizError, match="the sheet's decoder runs 3 steps; there is no step 4"):
        check_text(EXERCISE_9 + EXERCISE_9_ANSWERS.replace("s_3 = -0.456025", "s_4 = -0.456025"))


def test_vector_steps_are_worked_with_their_sums():
    """A model of 2-vectors: each matrix product's entries as sums, the argument added up, then tanh."""
    model = load_model(SMALL_VECTORS)
    sheet = build_sheet(model, ["forward"])
    text = solution_text(sheet, "forward")
    assert ("h_1 = tanh(W h_0 + U x_1 + b) = tanh([[0.5, -1], [0, 0.5]] [0, 1] + [[1, 0], [0.5, 1]] [1, -1] + "
            "[0, 0.1]) = tanh([0.5·0 + (-1)·1, 0·0 + 0.5·1] + [1·1 + 0·(-1), 0.5·1 + 1·(-1)] + [0, 0.1]) = "
            "tanh([0, 0.1]) = [0, 0.09967]") in text
    assert "y_1 = V h_1 = [[1, 2]] [0, 0.09967] = [1·0 + 2·0.09967] = [0.1993]" in text
    trace = forward(model)
    got = answers(sheet, "forward")
    for t in (1, 2):
        assert [float(v) for v in got[f"h[{t}]"]] == pytest.approx(trace.value("h", t).tolist(), rel=1e-12)


def test_large_vectors_show_the_first_entries_of_each_product():
    """Vectors beyond four entries (exercise 10's 8-vectors): each product's first two entries as their sums,
    the others alike, then the argument and the value; the sums agree with the forward pass."""
    model = load_model(EXERCISE_10)
    sheet = build_sheet(model, ["forward"])
    text = solution_text(sheet, "forward")
    lines = text.splitlines()
    at = lines.index("H_1^(1) = tanh(X_1 W_xh1 + H_1^(0) W_hh1 + b_h1)")
    assert lines[at + 1].startswith("The first entries of each matrix product as their sums")
    first = lines[at + 2]
    assert first.startswith("(X_1 W_xh1)_1 = ") and first.count("·") == 5  # X_t has five entries
    trace = forward(sheet.variants[0].variant.model)
    X1, W = trace.value("X", 1), trace.params["W_xh1"]
    assert float(first.rsplit(" = ", 1)[1]) == pytest.approx(float(X1 @ W[:, 0]), abs=5e-5)
    final = next(line for line in lines[at:] if line.startswith("H_1^(1) = tanh(["))
    assert final.count(" = ") == 2


def test_exercise_8_gradient_backpropagated_value_by_value():
    """do_3/dW of the bidirectional network: each value's derivative as the sum of its paths, matching PyTorch."""
    torch = pytest.importorskip("torch")
    sheet = build_sheet(_readable(EXERCISE_8), ["grad"], wrt="R", target="o[1]")
    text = solution_text(sheet, "grad")
    # o_1 reads g_1, which reads g_2, which reads g_3: the backward chain's derivatives are in the sum
    assert "do_1/dg_2 = do_1/dg_1·dg_1/dg_2" in text
    assert text.index("do_1/dg_2 =") < text.index("do_1/dR =")
    W, U, R, S = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.5, 1.0, -0.5, 1.0))
    xs = [1.0, 0.0, -1.0]
    g = torch.tensor(0.0, dtype=torch.float64)
    gs = {}
    for t in (3, 2, 1):
        g = torch.tanh(R * g + S * xs[t - 1])
        gs[t] = g
    o1 = torch.tanh(U * xs[0]) + gs[1]
    o1.backward()
    assert float(answers(sheet, "grad")["d o[1] / d R"]) == pytest.approx(R.grad.item(), rel=1e-12)


def test_vector_gradient_is_backpropagated_by_hand():
    """A model of 2-vectors: each derivative as the transposed local Jacobians times what reads it, with the
    names, then the numbers, then the value; the weight's as outer products over the steps; all as PyTorch."""
    torch = pytest.importorskip("torch")
    sheet = build_sheet(load_model(SMALL_VECTORS), ["grad"], target="y[2]", wrt="W")
    text = solution_text(sheet, "grad")
    assert ("dy_2/dh_1 = (dh_2/dh_1)^T·dy_2/dh_2 = W^T (tanh'(W h_1 + U x_2 + b) * dy_2/dh_2) = "
            "[[0.5, -1], [0, 0.5]]^T ([0.9901, 0.05285] * [1, 2]) = [0.4951, -0.9373]") in text
    assert "dy_2/dW = (dh_2/dW)^T·dy_2/dh_2 + (dh_1/dW)^T·dy_2/dh_1 = " in text
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in dict(W=[[0.5, -1], [0, 0.5]], U=[[1, 0], [0.5, 1]], b=[0, 0.1], V=[[1, 2]]).items()}
    h = torch.tensor([0.0, 1.0], dtype=torch.float64)
    for x in ([1.0, -1.0], [0.0, 2.0]):
        h = torch.tanh(p["W"] @ h + p["U"] @ torch.tensor(x, dtype=torch.float64) + p["b"])
    (p["V"] @ h).sum().backward()
    got = answers(sheet, "grad")["d y[2] / d W"]
    assert [float(v) for row in got for v in row] == pytest.approx(p["W"].grad.flatten().tolist(), rel=1e-9)


def test_vector_loss_is_backpropagated_by_hand():
    """A squared-error loss over 2-vectors: the forward steps with their sums, then dL/do_t, dL/dh_t and the
    weights by hand; the answer key passes check."""
    sheet = build_sheet(load_model(VECTOR_LOSS), ["loss"])
    text = solution_text(sheet, "loss")
    assert "h_1 = tanh(W h_0 + U x_1) = " in text and "[0.5·0 + 0·0, 0.1·0 + 0.5·0]" in text
    assert "dL/dh_1 = (dh_2/dh_1)^T·dL/dh_2 + (do_1/dh_1)^T·dL/do_1 = " in text
    assert "dL/dV = (do_2/dV)^T·dL/do_2 + (do_1/dV)^T·dL/do_1 = dL/do_2 h_2^T + dL/do_1 h_1^T = " in text
    assert check_text(answer_key(sheet, sheet.variants[0])).ok



def _torch_encoder_decoder():
    """VECTOR_ENCODER_DECODER in PyTorch: the loss, each weight with its gradient, and dL/dc."""
    import torch

    f64 = torch.float64
    p = {k: torch.tensor(v, dtype=f64, requires_grad=True) for k, v in {
        "W": [[0.5, 0], [0.1, 0.5]], "U": [[1, 0], [0, 1]], "D": [[1, 0], [0, 1]], "A": [[0.5, 0], [0, 0.5]],
        "B": [[1], [0]], "C": [[1, 0.5], [0, 1]], "E": [[1, 2]]}.items()}
    h = torch.zeros(2, dtype=f64)
    for x in ([1.0, 0.0], [0.0, -1.0]):
        h = torch.tanh(p["W"] @ h + p["U"] @ torch.tensor(x, dtype=f64))
    c = h
    c.retain_grad()
    s = torch.tanh(p["D"] @ c)
    loss = 0
    for y, z in (([0.0], [1.0]), ([1.0], [0.0])):
        s = torch.tanh(p["A"] @ s + p["B"] @ torch.tensor(y, dtype=f64) + p["C"] @ c)
        loss = loss + 0.5 * ((p["E"] @ s - torch.tensor(z, dtype=f64)) ** 2).sum()
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in p.items()}, c.grad.numpy()


def test_vector_encoder_decoder_loss_is_backpropagated_by_hand():
    """The decoder's steps back, the context as the sum over every step that reads it (and the start s_0),
    then the encoder's; each value and weight against PyTorch's autograd."""
    import numpy as np

    from rnnviz.teaching.vector_backprop import backward_blocks

    model = load_model(VECTOR_ENCODER_DECODER)
    trace = forward(model)
    loss, grads, dc = _torch_encoder_decoder()
    sheet = build_sheet(model, ["loss"])
    text = solution_text(sheet, "loss")
    assert "dL/dc = (ds_2/dc)^T·dL/ds_2 + (ds_1/dc)^T·dL/ds_1 + (ds_0/dc)^T·dL/ds_0 = " in text
    assert "C^T (tanh'(A s_1 + B y_1 + C c) * dL/ds_2)" in text and "D^T (tanh'(D c) * dL/ds_0)" in text
    assert "dL/dh_2 = (dc/dh_2)^T·dL/dc = dL/dc = " in text
    assert "dL/dW = (dh_2/dW)^T·dL/dh_2 + (dh_1/dW)^T·dL/dh_1 = " in text
    assert float(answers(sheet, "loss")["L"]) == pytest.approx(loss, rel=1e-6)
    lines, worked = backward_blocks(model, trace, [("L", 1), ("L", 2)], list(grads),
                                    bare=frozenset({"c", "s_0"}), top=("L", "L"))
    for name, g in grads.items():
        assert np.allclose(worked[name], g, rtol=1e-9, atol=1e-12), name
    context = [line for line in lines if line is not None and line[0][1] == "dL/dc"]
    assert len(context) == 1
    last = context[0][1][-1][1]
    assert [float(v) for v in last.strip("[]").split(", ")] == pytest.approx(dc.tolist(), rel=5e-4)  # 4 digits
    assert check_text(answer_key(sheet, sheet.variants[0])).ok


def test_vector_encoder_decoder_grad_is_worked_through_the_context():
    """do_2/dU by hand: through the decoder, dL/dc collecting both decoder steps and s_0, into the encoder."""
    import torch

    model = load_model(VECTOR_ENCODER_DECODER)
    sheet = build_sheet(model, ["grad"], target="o[2]", wrt="U")
    text = solution_text(sheet, "grad")
    assert "do_2/dc = (ds_2/dc)^T·do_2/ds_2 + (ds_1/dc)^T·do_2/ds_1 + (ds_0/dc)^T·do_2/ds_0 = " in text
    assert "do_2/dU = (dh_2/dU)^T·do_2/dh_2 + (dh_1/dU)^T·do_2/dh_1 = " in text
    f64 = torch.float64
    p = {k: torch.tensor(v, dtype=f64, requires_grad=(k == "U")) for k, v in {
        "W": [[0.5, 0], [0.1, 0.5]], "U": [[1, 0], [0, 1]], "D": [[1, 0], [0, 1]], "A": [[0.5, 0], [0, 0.5]],
        "B": [[1], [0]], "C": [[1, 0.5], [0, 1]], "E": [[1, 2]]}.items()}
    h = torch.zeros(2, dtype=f64)
    for x in ([1.0, 0.0], [0.0, -1.0]):
        h = torch.tanh(p["W"] @ h + p["U"] @ torch.tensor(x, dtype=f64))
    s = torch.tanh(p["D"] @ h)
    for y in ([0.0], [1.0]):
        s = torch.tanh(p["A"] @ s + p["B"] @ torch.tensor(y, dtype=f64) + p["C"] @ h)
    (p["E"] @ s).sum().backward()
    got = answers(sheet, "grad")["d o[2] / d U"]
    assert [float(v) for row in got for v in row] == pytest.approx(p["U"].grad.flatten().tolist(), rel=1e-6)


ENCODER_DECODER_WITH_LOSS = r"""h_t = \tanh(W h_{t-1} + U x_t)
c = h_T
s_0 = \tanh(D c)
s_t = \tanh(A s_{t-1} + B y_{t-1} + C c)
o_t = E s_t
L_t = \frac{1}{2}(o_t - r_t)^2
L = \sum_t L_t
W = 0.5, U = 1, h_0 = 0, x = [1, -1]
A = 0.5, B = 1, C = 1, D = 1, E = 2
y_0 = 0, y_1 = 1, y_2 = 0
r = [1, 0, -1]
"""


def test_encoder_decoder_loss_sums_the_decoders_steps():
    """T = 2 encoder steps, T' = 3 decoder steps: L = L_1 + L_2 + L_3, backpropagated from t = 3."""
    model = load_model(ENCODER_DECODER_WITH_LOSS)
    trace = forward(model)
    ref = gradients(model, trace, "sum(L)").named()
    sheet = build_sheet(model, ["loss"])
    got = answers(sheet, "loss")
    question = plain_text(sheet.variants[0].parts[0].question[0].parts)
    assert question.startswith("Compute the loss L = L_1 + L_2 + L_3 ")
    # the run's own total, over the decoder's three steps (L_1 + L_2 alone would be 2.7399)
    assert float(got["L"]) == pytest.approx(2.74374, abs=1e-5)
    for w in "WUDABCE":
        assert float(got[f"d L / d {w}"]) == pytest.approx(float(ref[w]), rel=1e-9)
    text = solution_text(sheet, "loss")
    assert "from t = 3 down to 1" in text
