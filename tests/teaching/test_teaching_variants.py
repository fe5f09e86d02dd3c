"""Drawn variants: 20 of each task are distinct, solvable (their keys pass check) and not degenerate."""

from __future__ import annotations

from fractions import Fraction

import pytest

from rnnviz import load_model
from rnnviz.language import expr as E
from rnnviz.language.gates import analyze
from rnnviz.teaching.check import check_text
from rnnviz.teaching.scalar import ScalarPass
from rnnviz.teaching.sheet import answer_key, build_sheet
from rnnviz.teaching.tasks import TASKS
from tests.teaching.sheet_models import RELU, LSTM, BIDIRECTIONAL, DEEP, ENCODER_DECODER, LOSS

N = 20


def _model_for(task: str):
    return load_model({"gates": LSTM, "loss": LOSS}.get(task, RELU))


@pytest.mark.parametrize("task", list(TASKS))
def test_twenty_variants_of_each_task_are_distinct_solvable_and_not_degenerate(task):
    """Every task: 20 drawn variants differ, their answer keys pass check, no ReLU all dead, no zero gradient."""
    sheet = build_sheet(_model_for(task), [task], variants=N, seed=7)
    assert [sv.variant.index for sv in sheet.variants] == list(range(1, N + 1))
    sources = [sv.variant.source for sv in sheet.variants]
    assert len(set(sources)) == N
    for sv in sheet.variants:
        model = sv.variant.model
        part = sv.parts[0]
        assert part.question and part.solution
        if part.answers:
            report = check_text(answer_key(sheet, sv), "key.txt")
            assert report.ok, report.describe()
        if task == "params":
            continue  # drawn sizes make vectors; counting needs no forward pass
        run = ScalarPass.from_model(model, seeds=["V"] if task != "gates" else ())
        relu_args = [a.v for (target, node, t), a in run.args.items()]
        if task not in ("gates", "loss"):  # the ReLU model
            assert any(a > 0 for a in relu_args), f"every ReLU dead in\n{sv.variant.source}"
            # hand-sized: small numbers with small denominators
            for d in run.vals.values():
                assert abs(d.v) <= 1000 and (not isinstance(d.v, Fraction) or d.v.denominator <= 1000)
        if task == "grad":
            assert part.answers[0].value != 0
        if task == "loss":  # L, then dL/dW, dL/dU, dL/dV: none of them 0
            assert [a.key for a in part.answers] == ["L", "d L / d W", "d L / d U", "d L / d V"]
            assert all(abs(float(a.value)) > 1e-9 for a in part.answers)


def test_variants_of_the_gates_task_shuffle_the_names():
    """The gates get the names g_1, g_2, g_3 in more than one order over 20 variants; roles stay a permutation."""
    sheet = build_sheet(load_model(LSTM), ["gates"], variants=N, seed=3)
    orders = set()
    for sv in sheet.variants:
        roles = analyze(sv.variant.model).roles
        assert sorted(roles) == ["g_1", "g_2", "g_3"]
        assert sorted(roles.values()) == ["forget", "input", "output"]
        orders.add(tuple(roles[g] for g in ("g_1", "g_2", "g_3")))
    assert len(orders) > 1


def test_variants_rename_parameters_named_after_a_gate():
    """In the LSTM of colah's notation, W_f follows f when f becomes g_k: the names give nothing away."""
    text = _lstm_colah()
    sheet = build_sheet(load_model(text), ["gates"], variants=3, seed=0)
    for sv in sheet.variants:
        params = sv.variant.model.parameters
        assert not any(p in params for p in ("W_f", "W_i", "W_o", "U_f", "b_o"))
        assert sorted(analyze(sv.variant.model).roles) == ["g_1", "g_2", "g_3"]


def _lstm_colah() -> str:
    return """f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + b_i)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + b_o)
c~[t] = tanh(W_c x[t] + U_c h[t-1] + b_c)
c[t] = f[t] * c[t-1] + i[t] * c~[t]
h[t] = o[t] * tanh(c[t])
"""


def test_values_follow_the_file_style():
    """Integers where the file has integers, one decimal where it has decimals, fractions where it writes them."""
    ints = build_sheet(load_model(RELU), ["forward"], variants=5, seed=1)
    for sv in ints.variants:
        for v in sv.variant.model.values:
            if v.kind == "value":
                vals = v.value if isinstance(v.value, list) else [v.value]
                assert all(float(x).is_integer() and abs(x) <= 4 for x in vals)
    fracs = build_sheet(load_model("h_t = relu(V h_{t-1} + W x_t)\nV = \\frac{1}{2}, W = \\frac{2}{3}, h_0 = 0, "
                                   "x = [1, 2, 3]\n"), ["forward"], variants=5, seed=1)
    denominators = set()
    for sv in fracs.variants:
        for a in sv.parts[0].answers:
            assert isinstance(a.value, Fraction)
            denominators.add(a.value.denominator)
    assert denominators - {1}, "fractions stay fractions"
    assert "\\frac{" in fracs.variants[0].variant.source


def test_drawn_sizes_vary_the_parameter_count():
    """The params task draws sizes, so the 20 counts are not all the same."""
    sheet = build_sheet(load_model("h_t = tanh(V h_{t-1} + W x_t + b)\nx_t \\in R^3, h_t \\in R^5\n"), ["params"],
                        variants=N, seed=0)
    counts = {sv.parts[0].answers[0].value for sv in sheet.variants}
    assert len(counts) > 5


def test_no_relu_model_gets_decimals():
    """A tanh model without values gets one-decimal values (hand calculation with a calculator)."""
    sheet = build_sheet(load_model("h[t] = tanh(W h[t-1] + U x[t])"), ["forward"], variants=2)
    for sv in sheet.variants:
        assert any(isinstance(n, E.Call) for eq in sv.variant.model.equations for n in E.walk(eq.expr))
        assert "0." in sv.variant.source


def test_twenty_variants_of_a_backward_chain_are_distinct_solvable_and_reach_back():
    """Exercise 8's kind: 20 variants differ, pass check, and each g_t depends on g_{t+1} (the chain is live)."""
    sheet = build_sheet(load_model(BIDIRECTIONAL), ["forward", "grad"], variants=N, seed=7)
    assert len({sv.variant.source for sv in sheet.variants}) == N
    for sv in sheet.variants:
        report = check_text(answer_key(sheet, sv), "key.txt")
        assert report.ok, report.describe()
        assert len(report.verdicts) == 10  # 9 values and the derivative
        run = ScalarPass.from_model(sv.variant.model, seeds=[("g", 4)] + [("g", t) for t in (2, 3)])
        for t in (1, 2):
            step = run.step_partials(t, [("g", t + 1)])["g"].d.get(("g", t + 1), 0)
            assert step != 0, f"g_{t} does not read g_{t + 1} in\n{sv.variant.source}"
        assert sv.parts[1].answers[0].value != 0
        assert run.order.index(("g", 3)) < run.order.index(("g", 2)) < run.order.index(("g", 1))


def test_twenty_variants_of_an_encoder_decoder_are_distinct_solvable_and_reach_the_encoder():
    """Exercise 9's kind: 20 variants differ, pass check, keep the decoder's y_0, y_1, y_2 (T' = 3), and the
    derivative of the decoder's last output by the encoder's recurrent weight is not 0 (it crosses the context)."""
    sheet = build_sheet(load_model(ENCODER_DECODER), ["forward", "grad", "jacobian"], variants=N, seed=3)
    assert len({sv.variant.source for sv in sheet.variants}) == N
    for sv in sheet.variants:
        assert "c = h[T]" in sv.variant.source and "y_0 = " in sv.variant.source
        report = check_text(answer_key(sheet, sv), "key.txt")
        assert report.ok, report.describe()
        assert len(report.verdicts) == 11  # h_1, h_2, c, s_0, s_1..3, o_1..3 and do_3/dW
        grad = sv.parts[1].answers[0]
        assert grad.key == "d o[3] / d W" and grad.value != 0


def test_twenty_variants_of_a_layer_count_are_distinct_and_add_up():
    """Exercise 10's kind: 20 drawn sizes, each layer's count as its sum of fan-in×fan-out terms, adding to the total."""
    from rnnviz.numeric.shapes import infer_shapes, parameter_count

    sheet = build_sheet(load_model(DEEP), ["params"], variants=N, seed=5)
    assert len({sv.variant.source for sv in sheet.variants}) == N
    totals = set()
    for sv in sheet.variants:
        model = sv.variant.model
        shapes = infer_shapes(model)
        got = {a.key: a.value for a in sv.parts[0].answers}
        assert list(got) == ["parameters of layer 1", "parameters of layer 2", "parameters of layer 3",
                             "parameters of O", "parameters"]
        h = [shapes.of(f"H_{k}")[-1] for k in (1, 2, 3)]
        x, o = shapes.of("X")[-1], shapes.of("O")[-1]
        assert got["parameters of layer 1"] == x * h[0] + h[0] * h[0] + h[0]
        assert got["parameters of layer 3"] == h[1] * h[2] + h[2] * h[2] + h[2]
        assert got["parameters of O"] == h[2] * o + o
        assert got["parameters"] == sum(v for k, v in got.items() if k != "parameters") == parameter_count(model)
        assert check_text(answer_key(sheet, sv), "key.txt").ok
        totals.add(got["parameters"])
    assert len(totals) > 10
