"""Random text and random mutations of the examples never crash the parser or the model.

Whatever comes in, the only exception that comes out is an rnnviz error that
knows its line and column.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.errors import RnnvizError
from rnnviz.language import load_model
from tests.conftest import EXAMPLES as EXAMPLES_DIR

EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES_DIR.glob("*.rnn"))]
# Equation blocks as course texts paste them (tests/data/pastes): Markdown, arrays, unit indices.
PASTES_DIR = Path(__file__).parent.parent / "data" / "pastes"
PASTES = [p.read_text(encoding="utf-8") for p in sorted(PASTES_DIR.glob("*.txt"))]

# Characters that matter to the language, plus some that do not belong to it.
ALPHABET = list("htxWUVbczyfgq0123456789[](){}_^=+-*.,;'~ \n\t\\$&#%") + [
    "\\tanh", "\\sigma", "\\cdot", "\\odot", "\\tilde", "\\text{", "\\frac", "\\mathbf", "\\left(", "\\right)",
    "\\\\", "^{(t-1)}", "_{t-1}", "[t-1]", "dim ", " in R^3", "relu'(0)", "and", "·", "∘", "σ", "ℝ", "\\begin{aligned}",
    # What pasted text brings: Markdown escapes and list markers, arrays, unit indices, macros, chains.
    "\\_", "\\*", "\\<", "\\>", "\\\\(", "* ", "- ", "1. ", "\\begin{array}{ll}", "\\sum_j", "U_{i,j}", "_i", "_j",
    "]_j", "\\vx", "\\mW", "f(", ";", ":=", "_{(t-1)}", "h_T", "W_hh_{t-1}", "^{\\prime(t)}", "<math>",
]

settings.register_profile("rnnviz", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("rnnviz")


def check(text: str) -> None:
    try:
        load_model(text, "fuzz.rnn")
    except RnnvizError as err:
        assert err.span is not None, f"no position for: {err.message}"
        assert err.span.line >= 1 and err.span.column >= 1
        assert err.format().startswith("fuzz.rnn:")


@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_random_text(text):
    """Random strings of the language's pieces give a model or a positioned error."""
    check(text)


@given(st.text(max_size=60))
def test_random_unicode(text):
    """Arbitrary Unicode gives a model or a positioned error."""
    check(text)


@st.composite
def mutated_example(draw, texts=EXAMPLES):
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "swap"]))
        piece = draw(st.sampled_from(ALPHABET))
        if kind == "delete":
            j = draw(st.integers(i, min(len(text), i + 5)))
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + piece + text[i:]
        elif kind == "replace":
            text = text[:i] + piece + text[i + 1:]
        else:
            j = draw(st.integers(0, len(text) - 1))
            a, b = sorted((i, j))
            text = text[:a] + text[b:b + 1] + text[a + 1:b] + text[a:a + 1] + text[b + 1:]
    return text


@given(mutated_example())
def test_mutated_examples(text):
    """Mutations of the bundled examples give a model or a positioned error."""
    check(text)


@given(mutated_example(PASTES))
def test_mutated_pastes(text):
    """Mutations of the pasted corpus give a model or a positioned error, never a traceback."""
    check(text)


# -- values, sizes and command-line options, through rnnviz.cli.main --------------------------------

import contextlib
import io
import os
import re
import tempfile

import pytest

from rnnviz.cli import main

NUMBERS = ["0", "1", "-1", "0.5", "-3", "1e60", "-1e300", "1e308", "1e400", "nan", "inf", "-0", "\\frac{1}{2}", "2^3"]
SIZES = ["0", "1", "2", "3", "5", "1.5", "-2", "1000", "1e6", "100000000", "1e308", "5 x 3", "3 \\times 0"]
NAMES = ["x", "h", "y", "W", "U", "V", "b", "c", "h_0", "x_1", "x_3", "h[0]", "W_hh", "z", "f", "nan"]
STEPS = ["1", "2", "3", "7", "0", "-1", "100000", "100001", "x"]
TARGETS = ["h[3]", "y[2]", "h[0]", "h[1][0]", "sum(h)", "h[500]", "W", "q[1]", "h[t]", "h[", "c[2]", "h_T"]


def _names_of(text: str) -> list[str]:
    """The symbols of ``text`` when it is a model (values then name what it uses), and a few more."""
    try:
        model = load_model(text, "fuzz.rnn")
    except RnnvizError:
        return NAMES
    names = list(model.symbols) + [f"{v}_0" for v in model.recurrent] + [f"{x}_2" for x in model.inputs]
    return names + NAMES[:4]


@st.composite
def value_line(draw, names=tuple(NAMES)):
    kind = draw(st.sampled_from(["number", "list", "matrix", "size", "in", "relu", "function", "junk"]))
    name = draw(st.sampled_from(list(names)))
    number = st.sampled_from(NUMBERS)
    if kind == "number":
        return f"{name} = {draw(number)}"
    if kind == "list":
        return f"{name} = [{', '.join(draw(st.lists(number, max_size=6)))}]"
    if kind == "matrix":
        rows = draw(st.lists(st.lists(number, min_size=1, max_size=3), min_size=1, max_size=3))
        return f"{name} = [" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"
    if kind == "size":
        return f"dim {name} = {draw(st.sampled_from(SIZES))}"
    if kind == "in":
        return f"{name}[t] in {draw(st.sampled_from(['R', 'R^0', 'R^3', 'R^{2 x 2}', 'ℝ³', 'R^{1e9}', 'R^']))}"
    if kind == "relu":
        return f"relu'(0) = {draw(number)}"
    if kind == "function":
        return f"{name} = {draw(st.sampled_from(['tanh', 'relu', 'sigmoid', 'tahn', '3']))}"
    return draw(st.lists(st.sampled_from(ALPHABET), max_size=12).map("".join))


@st.composite
def command_line(draw):
    """A command, a model with value lines, and options, some of them wrong."""
    text = draw(st.one_of(st.sampled_from(EXAMPLES), mutated_example()))
    names = _names_of(text)
    text += "\n" + "\n".join(draw(st.lists(value_line(names), max_size=4))) + "\n"
    command = draw(st.sampled_from(["run", "grad", "formula", "params", "gates", "draw", "plot"]))
    args: list[str] = []
    target = st.sampled_from(TARGETS)
    if command == "run":
        args += draw(st.sampled_from([[], ["--steps", draw(st.sampled_from(STEPS))], ["--batch", "2"],
                                      ["--json"], ["--steps", "3", "--json"]]))
    elif command == "grad":
        args += ["--of", draw(target)]
    elif command == "formula":
        args += ["--of", draw(target)]
        args += draw(st.sampled_from([[], ["--latex"], ["--depth", draw(st.sampled_from(["0", "1", "-1", "50"]))],
                                      ["--grad", draw(st.sampled_from(["W", "h[0]", "x[2]", "U", "q"]))]]))
    elif command == "draw":
        args += ["--format", draw(st.sampled_from(["dot", "json"]))]
        args += ["--view", draw(st.sampled_from(["folded", "unrolled", "cell", "cell-unrolled"]))]
        args += draw(st.sampled_from([[], ["--values"], ["--grad", draw(target)]]))
        args += draw(st.sampled_from([[], ["--unroll", draw(st.sampled_from(STEPS))],
                                      ["--max-columns", draw(st.sampled_from(["2", "3", "600", "x"]))],
                                      ["--title", draw(st.sampled_from(["A\\GB", "<b>&", "\"q\"", "\n"]))]]))
    elif command == "plot":
        args += draw(st.sampled_from([[], ["--grad-norms", "--of", draw(target)], ["--vars", "h,zz"]]))
        args += ["--format", "svg"]
    if command in ("run", "grad", "draw", "plot") and draw(st.booleans()):
        args += ["--set", draw(value_line(names))]
    if draw(st.integers(0, 19)) == 13:  # now and then a wrong option (0 would come too often)
        args += [draw(st.sampled_from(["--nope", "--seed", "--seed=-1", "--steps", "-o"]))]
    return text, command, args


_POSITION = re.compile(r"^\S.*?:\d+:\d+: ")
#: First lines of errors that rightly point at no place in the input.
_UNPLACED = ("error: ", "Graphviz", "the Graphviz program", "rnnviz: ", "<stdin>: ")


def run_cli(text: str, command: str, args: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzz.rnn")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        out = os.path.join(folder, "out", "")
        argv = [command, path, *args]
        if command in ("draw", "plot"):
            argv += ["-o", out if command == "draw" else os.path.join(folder, "out.svg")]
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            rc = main(argv)
        err = stderr.getvalue()
        assert rc in (0, 1, 2), (rc, argv, err)
        assert "internal error" not in err and "Traceback" not in err, (argv, text, err)
        if rc == 1:
            first = err.splitlines()[0] if err else ""
            assert _POSITION.match(first) or first.startswith(_UNPLACED), (argv, text, err)
        leftovers = [n for n in os.listdir(folder) if n.endswith(".tmp") or n.endswith(".old")]
        assert not leftovers, leftovers


@given(command_line())
@settings(max_examples=50)
def test_command_lines(case):
    """Mutated models, value lines, sizes and options through the command line: a result, or an
    rnnviz error (with a position when it is about the input), never an internal error."""
    run_cli(*case)


@pytest.mark.slow
@given(command_line())
@settings(max_examples=int(os.environ.get("RNNVIZ_FUZZ_EXAMPLES", "400")))
def test_command_lines_long(case):
    """The long run of the above (CI runs it; RNNVIZ_FUZZ_EXAMPLES sets how many)."""
    run_cli(*case)
