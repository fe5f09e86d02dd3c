"""rnnviz run and rnnviz params on the command line: formats, options, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import run_cli as run

RELU = "h_t = \\text{ReLU}(V \\cdot h_{t-1} + W \\cdot x_t)\nV = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1\n"
VANILLA = "h[t] = tanh(W_hh h[t-1] + W_xh x[t] + b_h)\ny[t] = W_hy h[t] + b_y\ndim x = 3, h = 5, y = 2\n"


def test_table_has_a_row_per_step(capsys, write):
    """The table shows t = 0..T with the initial state at step 0."""
    code, out, _ = run(capsys, "run", write(RELU))
    assert code == 0
    rows = [line.split() for line in out.strip().splitlines()]
    assert rows[0] == ["t", "x", "h"]
    assert rows[1:] == [["0", "0"], ["1", "2", "6"], ["2", "3", "0"], ["3", "1", "3"]]


def test_json_lists_every_variable_by_step(capsys, write):
    """--json gives steps and every input and variable, index 0 the initial value or null."""
    code, out, _ = run(capsys, "run", write(RELU), "--json")
    assert code == 0
    assert json.loads(out) == {"steps": 3, "values": {"x": [None, 2.0, 3.0, 1.0], "h": [0.0, 6.0, 0.0, 3.0]},
                               "drawn": []}


def test_json_vectors_are_lists(capsys, write):
    """Vectors are lists of their size; canonical names; steps as asked."""
    code, out, _ = run(capsys, "run", write(VANILLA), "--json", "--steps", "4", "--seed", "2")
    doc = json.loads(out)
    assert doc["steps"] == 4 and set(doc["values"]) == {"x", "h", "y"}
    assert doc["values"]["h"][0] == [0.0] * 5 and doc["values"]["y"][0] is None
    assert all(len(v) == 2 for v in doc["values"]["y"][1:])


def test_json_with_batch_adds_a_level(capsys, write):
    """--batch adds the batch axis inside each step."""
    code, out, _ = run(capsys, "run", write(VANILLA), "--json", "--steps", "2", "--batch", "3")
    doc = json.loads(out)
    assert doc["batch"] == 3
    assert [len(v) for v in doc["values"]["h"][1]] == [5, 5, 5]


def test_csv_has_a_column_per_component(capsys, write):
    """--csv names vector components h.1..h.5 and leaves missing initial values empty."""
    code, out, _ = run(capsys, "run", write(VANILLA), "--csv", "--steps", "3")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["t", "x.1", "x.2", "x.3"] + [f"h.{i}" for i in range(1, 6)] + ["y.1", "y.2"]
    assert len(rows) == 1 + 4
    assert rows[1][1] == "" and rows[1][4] == "0.0"


@pytest.mark.parametrize("precision,expected", [("1", "0.6"), ("3", "0.574")])
def test_precision(capsys, write, precision, expected):
    """--precision sets the digits after the point."""
    code, out, _ = run(capsys, "run", write("h[t] = sigmoid(x[t])\nx = [0.3]"), "--precision", precision)
    assert out.strip().splitlines()[-1].split()[-1] == expected


def test_set_and_values_file_win_in_order(capsys, write):
    """--values then --set override the file, later wins."""
    vals = write("V = 1\n", "vals.rnn")
    code, out, _ = run(capsys, "run", write(RELU), "--values", vals, "--set", "W=1", "--json")
    assert json.loads(out)["values"]["h"] == [0.0, 2.0, 5.0, 6.0]


def test_seed_changes_drawn_values(capsys, write):
    """Another --seed draws other weights and inputs."""
    path = write(VANILLA)
    outs = [run(capsys, "run", path, "--json", "--seed", s)[1] for s in ("0", "0", "1")]
    assert outs[0] == outs[1] != outs[2]


@pytest.mark.parametrize("text,argv,needle,line", [
    ("h[t] = tanh(W h[t-1] + U x[t])\nW = [[1, 2], [3]]\n", [], "different lengths", 2),
    ("h[t] = tanh(W h[t-1] + U x[t])\ndim h = 2\nx = [1, 2]\n", ["--steps", "3"], "has 2 steps", 3),
    ("h[t] = tanh(U x[t] + V h[t-1])\ndim x = 3, h = 5\nU = [[1, 2, 3, 4]]\n", [],
     "U x[t]: U is 1x4 but x has 3 entries", 1),
    ("h[t] = tanh(U x[t] + V h[t-1])\ndim x = 3\n", [], "the size of 'h' is not known", 1),
    ("h[t] = f(W h[t-1] + x[t])\nW = 1\nx = [1]\n", [], "'f' has no meaning", 1),
    ("h[t] = exp(W h[t-1] + x[t])\nW = 10, h_0 = 1\nx = [1, 2, 3]\n", [], "h[2]", 1),
])
def test_bad_input_points_at_the_line(capsys, write, text, argv, needle, line):
    """Bad input exits 1 with file:line:col, the message, the line and a caret; no traceback."""
    path = write(text)
    code, out, err = run(capsys, "run", path, *argv)
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:{line}:") and needle in first
    assert "^" in err and "Traceback" not in err


def test_value_that_is_not_a_number(capsys, write):
    """--set W=abc is refused with a message, exit 1."""
    code, _, err = run(capsys, "run", write(RELU), "--set", "W=[1, abc]")
    assert code == 1 and "Traceback" not in err and err


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--batch", "0"], ["--precision", "x"], ["--csv", "--json"]])
def test_bad_options_are_usage_errors(capsys, write, argv):
    """Impossible option values exit 2."""
    code, _, err = run(capsys, "run", write(RELU), *argv)
    assert code == 2 and "error" in err


def test_params_table_and_total(capsys, write):
    """rnnviz params lists name, shape, count and the total."""
    code, out, _ = run(capsys, "params", write(VANILLA))
    lines = out.strip().splitlines()
    assert lines[0].split() == ["name", "shape", "count"]
    assert lines[1].split() == ["W_hh", "5x5", "25"]
    assert lines[-1].split() == ["total", str(25 + 15 + 5 + 10 + 2)]


def test_params_json_scalars_have_empty_shape(capsys, write):
    """A scalar parameter has shape [] in JSON."""
    code, out, _ = run(capsys, "params", write(RELU), "--json")
    assert json.loads(out) == {"total": 2, "parameters": {"V": [], "W": []}}


def test_params_with_set_size(capsys, write):
    """Sizes given with --set change the count."""
    code, out, _ = run(capsys, "params", write("h[t] = tanh(W h[t-1] + U x[t] + b)\n"), "--json",
                       "--set", "dim x = 2", "--set", "dim h = 64")
    assert json.loads(out)["total"] == 64 * 64 + 64 * 2 + 64


def test_params_missing_size_exits_1(capsys, write):
    """A parameter count with some sizes but not enough says which symbol needs dim."""
    code, _, err = run(capsys, "params", write("h[t] = tanh(W h[t-1] + U x[t])\ndim x = 3\n"))
    assert code == 1 and "'h'" in err and "dim h" in err


def test_params_without_any_size_counts_scalars_and_says_so(capsys, write):
    """With no size at all every symbol is a scalar, and a note on stderr says so."""
    code, out, err = run(capsys, "params", write("h[t] = tanh(W h[t-1] + U x[t])\n"), "--json")
    assert code == 0 and json.loads(out)["total"] == 2
    assert "no sizes given" in err


def test_long_vectors_are_shortened_in_the_table_only(capsys, write):
    """The table shortens a 20-entry vector; JSON keeps every entry."""
    path = write("h[t] = tanh(W h[t-1] + U x[t])\ndim x = 2, h = 20\n")
    _, out, _ = run(capsys, "run", path, "--steps", "1")
    assert "(20 entries)" in out
    _, out, _ = run(capsys, "run", path, "--steps", "1", "--json")
    assert len(json.loads(out)["values"]["h"][1]) == 20
