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
