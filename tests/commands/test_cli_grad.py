"""The ``rnnviz grad`` and ``rnnviz formula`` commands: output, options and errors."""

from __future__ import annotations

import json

import pytest

from rnnviz.cli import main

RELU = "examples/relu_1d.rnn"
VANILLA = "examples/vanilla.rnn"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grad_text_lists_every_parameter_input_and_initial_state(capsys):
    """Without --wrt the text output lists parameters, inputs at each step and initial states."""
    code, out, _ = run(capsys, "grad", RELU, "--of", "h[3]")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("d h[3] / d") and "relu'(0) = 0" in lines[0]
    names = [line.split("=")[0].strip() for line in lines[1:]]
    assert names == ["V", "W", "x[1]", "x[2]", "x[3]", "h[0]"]


def test_grad_json_shapes_follow_the_parameters(capsys):
    """--json gives canonical names; arrays are nested lists in each parameter's shape."""
    code, out, _ = run(capsys, "grad", VANILLA, "--of", "y[2][1]", "--steps", "3", "--json",
                       "--wrt", "W_hh", "b_y", "x[1]", "h[0]")
    assert code == 0
    data = json.loads(out)
    assert data["of"] == "y[2][1]"
    assert list(data["grad"]) == ["W_hh", "b_y", "x[1]", "h[0]"]
    assert len(data["grad"]["W_hh"]) == 5 and len(data["grad"]["W_hh"][0]) == 5
    assert data["grad"]["b_y"] == [0.0, 1.0]


@pytest.mark.parametrize("setting, expected_dV", [([], 0.0), (["--set", "relu'(0)=1"], -18.0)])
def test_grad_relu_prime_at_zero_from_the_command_line(capsys, setting, expected_dV):
    """--set "relu'(0)=1" changes the derivative where the ReLU input is exactly 0 (x_2 = 6)."""
    code, out, _ = run(capsys, "grad", RELU, "--of", "h_3", "--wrt", "V", "--json",
                       "--set", "x_2=6", *setting)
    assert code == 0
    assert json.loads(out)["grad"]["V"] == expected_dV


def test_grad_values_file(capsys, tmp_path):
    """--values FILE supplies the weights, later values winning over the equation file."""
    values = tmp_path / "v.rnn"
    values.write_text("W = 2\n")
    code, out, _ = run(capsys, "grad", RELU, "--of", "h[1]", "--wrt", "W", "x[1]", "--json",
                       "--values", str(values))
    assert code == 0
    assert json.loads(out)["grad"] == {"W": 2.0, "x[1]": 2.0}


def test_grad_precision(capsys):
    """--precision rounds JSON numbers and sets the digits of the text output."""
    _, out, _ = run(capsys, "grad", VANILLA, "--of", "y[1][0]", "--wrt", "b_h", "--json", "--precision", "2")
    assert all(round(v, 2) == v for v in json.loads(out)["grad"]["b_h"])


@pytest.mark.parametrize("argv, code, words", [
    (["grad", RELU, "--of", "h[9]"], 1, "--of:1:1: 'h[9]' is beyond the last step"),
    (["grad", RELU, "--of", "q[1]"], 1, "'q' is not a variable"),
    (["grad", RELU, "--of", "h[3][1]"], 1, "has 1 entry"),
    (["grad", RELU, "--of", "V"], 1, "is a parameter"),
    (["grad", RELU, "--of", "h[3]", "--wrt", "Q"], 1, "not a parameter, input or initial state"),
    (["grad", RELU, "--of", "h[3]", "--wrt", "h[2]"], 1, "not an initial state"),
    (["grad", RELU], 2, "--of"),
    (["grad", "no-such-file.rnn", "--of", "h[1]"], 1, "no-such-file.rnn"),
    (["formula", RELU, "--of", "h[3]", "--grad", "x"], 1, "not a parameter"),
    (["formula", RELU, "--of", "h[3]", "--depth", "-1"], 2, "--depth"),
    (["formula", RELU, "--of", "sum(h)"], 1, "unroll one step"),
])
def test_errors_exit_with_a_message_and_no_traceback(capsys, argv, code, words):
    """Bad targets and names exit 1 (usage errors 2) with a clear message and no traceback."""
    got, out, err = run(capsys, *argv)
    assert got == code
    assert words in err
    assert "Traceback" not in err and out == ""


def test_formula_plain_and_latex(capsys):
    """formula prints the unrolled target; --latex typesets it."""
    code, out, _ = run(capsys, "formula", RELU, "--of", "h_3")
    assert code == 0
    assert out.strip() == "h_3 = relu(V relu(V relu(V h_0 + W x_1) + W x_2) + W x_3)"
    _, latex, _ = run(capsys, "formula", RELU, "--of", "h_3", "--latex")
    assert latex.startswith("h_{3} = \\mathrm{ReLU}\\left(V")


def test_formula_grad(capsys):
    """formula --grad prints the sum over time of products of Jacobians."""
    code, out, _ = run(capsys, "formula", RELU, "--of", "h[3]", "--grad", "V")
    assert code == 0
    assert out.startswith("dh_3/dV = sum_{k=1}^{3} (prod_{j=k+1}^{3} dh_j/dh_{j-1}) dh_k^+/dV")
    assert "dh_j/dh_{j-1} = diag(relu'(a_j)) V" in out


def test_formula_depth(capsys):
    """--depth 0 keeps the previous states of an LSTM as names."""
    code, out, _ = run(capsys, "formula", "examples/lstm.rnn", "--of", "h[3]", "--depth", "0")
    assert code == 0 and "c_2" in out and "h_2" in out and "c_1" not in out
