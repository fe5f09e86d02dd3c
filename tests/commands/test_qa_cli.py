"""Bad options and outputs found by trying every command as a new user: clean errors, never a traceback."""

from __future__ import annotations

import pytest

from rnnviz.cli import main

VANILLA = "h[t] = tanh(W_hh h[t-1] + W_xh x[t] + b_h)\ny[t] = W_hy h[t] + b_y\ndim x = 3, h = 5, y = 2\n"


@pytest.fixture
def model_file(tmp_path):
    p = tmp_path / "vanilla.rnn"
    p.write_text(VANILLA)
    return str(p)


@pytest.mark.parametrize("argv, option, words", [
    (["run", "--seed", "-5"], "--seed", "seed of 0 or more"),
    (["grad", "--of", "y[2]", "--seed", "-1"], "--seed", "seed of 0 or more"),
    (["plot", "--seed", "-1", "-o", "-"], "--seed", "seed of 0 or more"),
    (["grad", "--of", "y[2]", "--precision", "-1"], "--precision", "0 to 17 digits"),
    (["grad", "--of", "y[2]", "--steps", "0"], "--steps", "at least 1"),
    (["run", "--steps", "100000000"], "--steps", "at most"),
    (["grad", "--of", "y[2]", "--steps", "100000000"], "--steps", "at most"),
    (["plot", "--dpi", "0", "-o", "-"], "--dpi", "resolution"),
    (["plot", "--dpi", "-3", "-o", "-"], "--dpi", "resolution"),
    (["plot", "--dpi", "100000", "-o", "-"], "--dpi", "resolution"),
])
def test_bad_numbers_are_usage_errors(capsys, model_file, argv, option, words):
    """A negative seed, precision or dpi, or an absurd step count, is a usage error (exit 2) naming the option."""
    code = main([argv[0], model_file, *argv[1:]])
    out, err = capsys.readouterr()
    assert code == 2
    assert words in err and f"argument {option}:" in err
    assert "Traceback" not in err and out == ""


def test_plot_into_a_missing_folder_creates_it(capsys, model_file, tmp_path):
    """plot -o into a folder that does not exist yet makes the folder, as draw -o does."""
    out = tmp_path / "figures" / "sub" / "steps.svg"
    assert main(["plot", model_file, "--steps", "2", "-o", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml")
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_plot_into_an_unwritable_place_is_one_line(capsys, model_file, tmp_path):
    """A folder that cannot be made (a file is in the way) gives a one-line error, exit 1."""
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    code = main(["plot", model_file, "--steps", "2", "-o", str(blocker / "steps.svg")])
    _, err = capsys.readouterr()
    assert code == 1
    assert "cannot create the folder" in err and "Traceback" not in err
    assert blocker.read_text() == "not a folder"


def test_formula_too_deep_points_to_depth(capsys, model_file):
    """Unrolling hundreds of steps in full is refused with a hint at --depth, not a RecursionError."""
    code = main(["formula", model_file, "--of", "y[400]"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "--depth" in err and "Traceback" not in err


def test_formula_grad_errors_name_the_grad_option(capsys, model_file):
    """A bad --grad argument is reported against --grad, not against --of."""
    code = main(["formula", model_file, "--of", "y[2]", "--grad", "Q"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("--grad:1:1:") and "W_hh" in err


def test_a_file_with_a_byte_order_mark_parses(capsys, tmp_path):
    """A file saved with a UTF-8 byte order mark and CRLF line ends (Windows Notepad) runs."""
    p = tmp_path / "notepad.rnn"
    p.write_bytes("h[t] = tanh(W h[t-1] + U x[t])\r\nW = 0.5, U = 1\r\nx = [1, 2]\r\n".encode("utf-8-sig"))
    assert main(["run", str(p), "--json"]) == 0
    out, _ = capsys.readouterr()
    assert '"steps": 2' in out


@pytest.mark.parametrize("data, words", [
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\xd0\xa1\xff\xfe", "not UTF-8 text"),
    ("\ufeffh[t] = tanh(W h[t-1] + U x[t])\nW = 1, U = 1, x = [1]\n".encode("utf-8"), None),
])
def test_standard_input_is_decoded_like_a_file(data, words):
    """Binary bytes on standard input are one clear error; a byte order mark there is skipped."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "rnnviz", "run", "-"], input=data, capture_output=True,
                          timeout=60)
    err = proc.stderr.decode()
    assert "Traceback" not in err
    if words:
        assert proc.returncode == 1 and err.startswith("<stdin>: ") and words in err
    else:
        assert proc.returncode == 0, err


RELU = "h_t = \\text{ReLU}(V \\cdot h_{t-1} + W \\cdot x_t)\nV = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1\n"


def test_grad_json_has_no_negative_zero(capsys, tmp_path):
    """A gradient cut by relu'(0) = 0 is written 0.0 in JSON, not -0.0."""
    p = tmp_path / "relu.rnn"
    p.write_text(RELU)
    assert main(["grad", str(p), "--of", "sum(h)", "--json"]) == 0
    out, _ = capsys.readouterr()
    assert "-0.0" not in out and '"x[2]": 0.0' in out


def test_grad_text_rounds_tiny_negatives_to_zero(capsys, tmp_path):
    """An array entry that rounds to zero at --precision prints as 0., never -0."""
    p = tmp_path / "tiny.rnn"
    p.write_text("h[t] = tanh(B x[t])\nB = [[-0.001, 0], [0, 1]]\nx = [[0, 0.5]]\n")
    assert main(["grad", str(p), "--of", "h[1]", "--wrt", "x[1]", "--precision", "2"]) == 0
    out, _ = capsys.readouterr()
    assert "x[1] = [0.  , 0.79]" in out and "-0." not in out


TWO_LAYER = """h1[t] = tanh(U x[t] + V h1[t-1] + W h2[t-1] + b)
h2[t] = tanh(R h1[t] + S h2[t-1] + T y[t-1] + c)
y[t]  = softmax(P x[t] + Q h2[t] + d)
dim x = 3, h1 = 4, h2 = 4, y = 3
"""


@pytest.mark.parametrize("words", [["h1"], ["h_1", "h2"], ["h_{1}"]])
def test_plot_vars_take_the_file_spelling(capsys, tmp_path, words):
    """plot --vars h1 finds the variable the file writes h1 (canonical h_1)."""
    p = tmp_path / "two.rnn"
    p.write_text(TWO_LAYER)
    out = tmp_path / "p.svg"
    assert main(["plot", str(p), "--steps", "2", "--vars", *words, "-o", str(out)]) == 0
    assert out.exists()


@pytest.mark.parametrize("target, noted", [("y[2]", True), ("sum(y)", True), ("y[2][0]", False), ("h2[2]", False)])
def test_grad_of_a_summed_softmax_says_why_it_is_zero(capsys, tmp_path, target, noted):
    """The sum of a softmax is 1: grad says so, and suggests one entry, instead of printing bare zeros."""
    p = tmp_path / "two.rnn"
    p.write_text(TWO_LAYER)
    assert main(["grad", str(p), "--of", target, "--wrt", "U", "--steps", "2"]) == 0
    _, err = capsys.readouterr()
    assert ("sum to 1" in err) == noted


def test_too_short_a_sequence_names_both_step_options(capsys, tmp_path):
    """The hint for a sequence shorter than the run names --steps and draw's --unroll."""
    p = tmp_path / "relu.rnn"
    p.write_text(RELU)
    assert main(["run", str(p), "--steps", "5"]) == 1
    _, err = capsys.readouterr()
    assert "--steps 3" in err and "--unroll 3" in err


@pytest.mark.parametrize("argv, prog, close", [
    (["run", "FILE", "--seeds", "3"], "rnnviz run", "--seed"),
    (["run", "FILE", "--of", "h[1]"], "rnnviz run", None),
    (["grad", "FILE", "--of", "h[1]", "more.rnn"], "rnnviz grad", None),
    (["plot", "FILE", "--dpii", "100"], "rnnviz plot", "--dpi"),
])
def test_unknown_arguments_name_the_subcommand(capsys, model_file, argv, prog, close):
    """An unknown option is reported by the subcommand it was given to, with its --help and the closest option."""
    argv = [model_file if a == "FILE" else a for a in argv]
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"error: {prog}: unrecognized arguments") and f"see '{prog} --help'" in err
    assert (f"did you mean {close}?" in err) if close else ("did you mean" not in err)


@pytest.mark.parametrize("exc, words", [
    (ValueError("boom"), "internal error (ValueError: boom)"),
    (MemoryError(), "out of memory"),
    (RecursionError(), "nests too deeply"),
    (PermissionError(13, "Permission denied", "out/x.svg"), "cannot write 'out/x.svg': Permission denied"),
])
def test_unexpected_failures_are_one_line(capsys, monkeypatch, model_file, exc, words):
    """A failure no check foresaw is still one line on stderr and exit 1, never a traceback."""
    import rnnviz.commands.params as params

    def boom(args):
        raise exc

    monkeypatch.delenv("RNNVIZ_DEBUG", raising=False)
    monkeypatch.setattr(params, "run", boom)
    assert main(["params", model_file]) == 1
    _, err = capsys.readouterr()
    assert words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("target", ["q[2]", "y[9]", "y[2][7]", "W_hh"])
def test_target_errors_point_into_the_option_given(target):
    """gradients(..., option='--grad') reports a bad target against --grad (as draw --grad gives it)."""
    import rnnviz
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients
    from rnnviz.numeric.target import TargetError

    model = rnnviz.load_model(VANILLA)
    trace = forward(model)
    with pytest.raises(TargetError) as info:
        gradients(model, trace, target, option="--grad")
    assert info.value.format().startswith("--grad:1:1: ")
    with pytest.raises(TargetError) as info:
        gradients(model, trace, target)
    assert info.value.format().startswith("--of:1:1: ")


@pytest.mark.parametrize("argv", [["--help"], ["draw", "--help"], ["run", "--help"], ["grad", "--help"]])
def test_help_does_not_start_the_parser_or_numpy(argv):
    """--help only prints: it imports neither lark (the parser) nor numpy."""
    import subprocess
    import sys

    code = ("import sys, runpy\nsys.argv = ['rnnviz'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('rnnviz', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('lark', 'numpy', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", ["", "draw", "run", "grad", "params", "formula", "gates", "plot",
                                     "exercise", "check"])
def test_help_fits_80_columns_even_on_a_wide_terminal(command, capsys, monkeypatch):
    """--help wraps at 80 columns or fewer, so it fits a doc page's code block and a narrow terminal."""
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main([command, "--help"] if command else ["--help"])
    lines = capsys.readouterr().out.splitlines()
    assert lines and max(map(len, lines)) <= 80, max(lines, key=len)
