"""Gate roles and the cell state, found from structure (rnnviz.language.gates) and `rnnviz gates`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rnnviz import load, load_model
from rnnviz.cli import main
from rnnviz.language.gates import analyze, gate_roles
from tests.conftest import EXAMPLES, SHARED

EXERCISES = SHARED / "exercises" / "README.md"


def exercise_block(number: int) -> str:
    """The first fenced block of exercise ``number`` in the shared exercises."""
    text = EXERCISES.read_text(encoding="utf-8")
    section = re.split(r"^## ", text, flags=re.M)
    body = next(s for s in section if s.startswith(f"{number}."))
    return re.search(r"```\n(.*?)```", body, re.S).group(1)


LSTM_COLAH = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + b_i)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + b_o)
c~[t] = tanh(W_c x[t] + U_c h[t-1] + b_c)
c[t] = f[t] * c[t-1] + i[t] * c~[t]
h[t] = o[t] * tanh(c[t])
"""

# The same cell with gates named g1, g2, g3 in a shuffled order and terms swapped.
LSTM_G123 = """
g_1 = \\sigma(W_1 \\cdot x_t + U_1 \\cdot h_{t-1})
g_2 = \\sigma(W_2 \\cdot x_t + U_2 \\cdot h_{t-1})
g_3 = \\sigma(W_3 \\cdot x_t + U_3 \\cdot h_{t-1})
\\tilde{c}_t = \\tanh(W_c \\cdot x_t + U_c \\cdot h_{t-1})
c_t = \\tilde{c}_t \\circ g_1 + c_{t-1} \\circ g_3
h_t = \\tanh(c_t) \\odot g_2
"""

LSTM_PEEPHOLE = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + P_f c[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + P_i c[t-1] + b_i)
c[t] = f[t] * c[t-1] + i[t] * tanh(W_c x[t] + U_c h[t-1] + b_c)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + P_o c[t] + b_o)
h[t] = o[t] * tanh(c[t])
"""

LSTM_WIKIPEDIA = """
f_t = \\sigma_g(W_f x_t + U_f h_{t-1} + b_f)
i_t = \\sigma_g(W_i x_t + U_i h_{t-1} + b_i)
o_t = \\sigma_g(W_o x_t + U_o h_{t-1} + b_o)
\\tilde{c}_t = \\sigma_c(W_c x_t + U_c h_{t-1} + b_c)
c_t = f_t \\odot c_{t-1} + i_t \\odot \\tilde{c}_t
h_t = o_t \\odot \\sigma_h(c_t)
"""

GRU_SEPARATE = """
z_t = \\sigma(W_z x_t + U_z h_{t-1} + b_z)
r_t = \\sigma(W_r x_t + U_r h_{t-1} + b_r)
\\hat{h}_t = \\tanh(W_h x_t + U_h (r_t \\odot h_{t-1}) + b_h)
h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\hat{h}_t
"""

# d2l.ai: the update gate keeps the old state, 1 - z takes the candidate (row vectors).
GRU_D2L = """
R_t = \\sigma(X_t W_{xr} + H_{t-1} W_{hr} + b_r)
Z_t = \\sigma(X_t W_{xz} + H_{t-1} W_{hz} + b_z)
\\tilde{H}_t = \\tanh(X_t W_{xh} + (R_t \\odot H_{t-1}) W_{hh} + b_h)
H_t = Z_t \\odot H_{t-1} + (1 - Z_t) \\odot \\tilde{H}_t
"""

# Reset applied after the matrix product (the cuDNN variant).
GRU_RESET_AFTER = """
z[t] = sigmoid(W_z x[t] + U_z h[t-1])
r[t] = sigmoid(W_r x[t] + U_r h[t-1])
n[t] = tanh(W_n x[t] + r[t] * (U_n h[t-1]))
h[t] = z[t] * h[t-1] + (1 - z[t]) * n[t]
"""

# The original LSTM had no forget gate: c[t-1] passes unchanged.
LSTM_NO_FORGET = """
i[t] = sigmoid(W_i x[t] + U_i h[t-1])
o[t] = sigmoid(W_o x[t] + U_o h[t-1])
c[t] = c[t-1] + i[t] * tanh(W_c x[t] + U_c h[t-1])
h[t] = o[t] * tanh(c[t])
"""

# Coupled input and forget gates: the cell state is interpolated, then output-gated.
LSTM_COUPLED = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1])
o[t] = sigmoid(W_o x[t] + U_o h[t-1])
c[t] = f[t] * c[t-1] + (1 - f[t]) * tanh(W_c x[t] + U_c h[t-1])
h[t] = o[t] * tanh(c[t])
"""

# The GRU with 1 - z as its own variable, and in the "lerp" form h + z (n - h).
GRU_COMPLEMENT_VARIABLE = """
z[t] = sigmoid(W_z x[t] + U_z h[t-1])
r[t] = sigmoid(W_r x[t] + U_r h[t-1])
n[t] = tanh(W_n x[t] + U_n (r[t] * h[t-1]))
u[t] = 1 - z[t]
h[t] = u[t] * h[t-1] + z[t] * n[t]
"""
GRU_LERP = """
z[t] = sigmoid(W_z x[t] + U_z h[t-1])
r[t] = sigmoid(W_r x[t] + U_r h[t-1])
n[t] = tanh(W_n x[t] + U_n (r[t] * h[t-1]))
h[t] = h[t-1] + z[t] * (n[t] - h[t-1])
"""

CASES = [
    ("lstm_colah", LSTM_COLAH, {"f": "forget", "i": "input", "o": "output"}, "c"),
    ("lstm_g123_shuffled", LSTM_G123, {"g_1": "input", "g_2": "output", "g_3": "forget"}, "c"),
    ("lstm_peephole", LSTM_PEEPHOLE, {"f": "forget", "i": "input", "o": "output"}, "c"),
    ("lstm_wikipedia", LSTM_WIKIPEDIA, {"f": "forget", "i": "input", "o": "output"}, "c"),
    ("lstm_no_forget", LSTM_NO_FORGET, {"i": "input", "o": "output"}, "c"),
    ("lstm_coupled", LSTM_COUPLED, {"f": "update", "o": "output"}, "c"),
    ("gru_separate", GRU_SEPARATE, {"z": "update", "r": "reset"}, None),
    ("gru_d2l", GRU_D2L, {"R": "reset", "Z": "update"}, None),
    ("gru_reset_after", GRU_RESET_AFTER, {"z": "update", "r": "reset"}, None),
    ("gru_complement_variable", GRU_COMPLEMENT_VARIABLE, {"z": "update", "r": "reset"}, None),
    ("gru_lerp", GRU_LERP, {"z": "update", "r": "reset"}, None),
    ("gated_output_rnn", "o[t] = sigmoid(W_o x[t] + U_o h[t-1])\nh[t] = o[t] * tanh(W h[t-1] + U x[t])",
     {"o": "output"}, None),
    ("vanilla", "h[t] = tanh(W h[t-1] + U x[t] + b)\ny[t] = softmax(V h[t])", {}, None),
    ("sigmoid_rnn", "h[t] = sigmoid(W h[t-1] + U x[t])\ny[t] = V h[t]", {}, None),
]


@pytest.mark.parametrize("text, roles, cell", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_roles_of_written_forms(text, roles, cell):
    """Each form of LSTM, GRU and plain RNN gets the gate roles and cell state a course gives."""
    report = analyze(load_model(text))
    assert report.roles == roles
    assert report.cell_state == cell


@pytest.mark.parametrize("file, roles, cell", [
    ("lstm.rnn", {"f": "forget", "i": "input", "o": "output"}, "c"),
    ("lstm_goodfellow.rnn", {"f": "forget", "g": "input", "q": "output"}, "s"),
    ("gru.rnn", {"z": "update", "r": "reset"}, None),
    ("vanilla.rnn", {}, None),
    ("two_layer.rnn", {}, None),
    ("relu_1d.rnn", {}, None),
])
def test_roles_of_examples(file, roles, cell):
    """Every bundled example gets its gate roles; the sigmoid output o of Goodfellow's cell is no gate."""
    report = analyze(load(str(EXAMPLES / file)))
    assert report.roles == roles
    assert report.cell_state == cell


@pytest.mark.parametrize("number, roles, cell", [
    (4, {"f": "forget", "g": "input", "q": "output"}, "s"),
    (5, {"g_1": "output", "g_2": "forget", "g_3": "input"}, "c"),
    (6, {"z": "update", "r": "reset"}, None),
    (1, {}, None),
    (7, {}, None),
])
def test_roles_of_exercises(number, roles, cell):
    """The worked exercises get the roles of their solution sheets (exercise 5 is the exam question)."""
    report = analyze(load_model(exercise_block(number)))
    assert report.to_json() == {"gates": roles, "cell_state": cell}


def _renamed(model_text: str, names: list[str]) -> str:
    """Replace every whole-word symbol by a meaningless name (s0, s1, ...)."""
    out = model_text
    for i, name in enumerate(sorted(names, key=len, reverse=True)):
        out = re.sub(rf"(?<![\w\\~]){re.escape(name)}(?![\w~])", f"q{i}zz", out)
    return out


@pytest.mark.parametrize("text", [LSTM_COLAH, GRU_RESET_AFTER, LSTM_PEEPHOLE, LSTM_NO_FORGET],
                         ids=["lstm", "gru", "peephole", "no_forget"])
def test_renaming_every_symbol_keeps_roles(text):
    """Renaming every variable and parameter gives the same roles on the renamed gates."""
    model = load_model(text)
    plain = text.replace("c~", "ct")
    names = [n.replace("c_tilde", "ct") for n in model.symbols]
    renamed_text = _renamed(plain, names)
    renamed = load_model(renamed_text)
    assert not set(renamed.symbols) & set(model.symbols)
    original = analyze(model)
    again = analyze(renamed)
    assert sorted(original.roles.values()) == sorted(again.roles.values())
    assert len(again.roles) == len(original.roles)
    assert (again.cell_state is None) == (original.cell_state is None)
    # Position by position in equation order, the roles agree.
    assert list(again.roles.values()) == list(original.roles.values())


def test_reasons_name_what_the_gate_multiplies():
    """The explanation of each gate names the state or candidate it multiplies."""
    report = analyze(load_model(LSTM_COLAH))
    reasons = {g.name: g.reason for g in report.gates}
    assert "c[t-1]" in reasons["f"] and "c_tilde[t]" in reasons["i"] and "h[t]" in reasons["o"]
    assert "cell state: c" in report.describe()


def test_gate_roles_shortcut_matches_analyze():
    """gate_roles(model) is the roles of analyze(model)."""
    model = load_model(GRU_SEPARATE)
    assert gate_roles(model) == analyze(model).roles


@pytest.mark.parametrize("args, expect", [
    (["--json"], {"gates": {"g_1": "output", "g_2": "forget", "g_3": "input"}, "cell_state": "c"}),
])
def test_cli_json_answers_the_exam_question(tmp_path, capsys, args, expect):
    """`rnnviz gates FILE --json` prints the roles of exercise 5 with canonical names."""
    path = tmp_path / "exam.rnn"
    path.write_text(exercise_block(5), encoding="utf-8")
    assert main(["gates", str(path), *args]) == 0
    assert json.loads(capsys.readouterr().out) == expect


def test_cli_text_lists_each_gate(capsys):
    """`rnnviz gates FILE` prints one line per gate with its role, then the cell state."""
    assert main(["gates", str(EXAMPLES / "gru.rnn")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^z\s+update gate", out, re.M) and re.search(r"^r\s+reset gate", out, re.M)
    assert "cell state: none" in out


def test_cli_bad_file_reports_place(tmp_path, capsys):
    """A broken file gives file:line:col and exit code 1, no traceback."""
    path = tmp_path / "bad.rnn"
    path.write_text("h[t] = tahn(W h[t-1])\n", encoding="utf-8")
    assert main(["gates", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:" in err and "Traceback" not in err
