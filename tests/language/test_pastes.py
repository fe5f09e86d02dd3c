"""The corpus of pasted equation blocks: each is read as its source means, or refused with a position.

``tests/data/pastes/`` holds equation blocks copied verbatim from public course texts,
library docs and blog sources (``SOURCES.md`` says where each comes from);
``expected.json`` says what each source fixes: the computed variables, the inputs, the
parameters, the gate roles and the cell state where the source names them, and the
parameter total for stated sizes. Blocks that rnnviz cannot read yet are listed in
KNOWN_UNREAD with the reason; they must fail with a positioned rnnviz error, so that
the list is updated when one starts to parse.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnviz.errors import RnnvizError
from rnnviz.language import GATE_ROLES, analyze, load_model
from rnnviz.numeric import parameter_count

PASTES = Path(__file__).resolve().parent.parent / "data" / "pastes"
CASES = json.loads((PASTES / "expected.json").read_text(encoding="utf-8"))

# Blocks rnnviz does not read, why, and what the error names (item 9 of the issue: the
# construct, said not to be part of the language, with a hint that fits).
KNOWN_UNREAD = {
    "15-d2l-seq2seq-encoder.txt": ("a context q(h_1, ..., h_T) of every encoder state, with no choice of q in the "
                                   "block (the sentence after it chooses q = h_T: file 75)",
                                   "write the choice of q beside it, as d2l.ai does: q(h_1, \\ldots, h_T) = h_T"),
    "28-lilianweng-attention-birnn-concat.txt": ("an encoder's annotation h_i over positions i = 1..n (attention's "
                                                 "input), written as the transpose of a bracket of transposes",
                                                 "a transpose of a bracket (']^\\top') is not part of the"),
    "29-lilianweng-attention-decoder-state-and-context.txt": ("attention: a context c_t summed over every encoder "
                                                              "step i, with alignment weights",
                                                              "a sum over positions ('\\sum_{i=1}', as attention"),
    "31-lilianweng-cove-decoder.txt": ("an attentional decoder: H holds every encoder state (H^T alpha_t sums "
                                       "over them) and the output is a conditional p(y_t | H, y_1, ..., y_{t-1})",
                                       "a condition such as p(y | x) ('\\mid') is not part of the"),
    "32-lilianweng-elmo-bilm-loss.txt": ("a log-likelihood of conditionals p(x_i | x_1, ..., x_{i-1}) summed over "
                                         "positions", "a condition such as p(y | x) ('\\mid') is not part of the"),
    "38-karpathy-min-char-rnn-forward.txt": ("NumPy code (np.dot, division, a loss line), not equations",
                                             "NumPy code ('np.tanh') is not part of the"),
    "42-goodfellow-notes-loss-eq10-12.txt": ("the loss is a log-likelihood of a conditional, -sum_t log p_model(y^{(t)} "
                                             "| x^{(1)}, ..., x^{(t)}), of a model the block does not write (and "
                                             "'\\sum_t = L^{(t)}' is a stray '=')",
                                             "a condition such as p(y | x) ('|') is not part of the"),
    "52-cs230-cheatsheet-katex-rendered-copy.txt": ("the rendered text of a web page, the equations three times "
                                                    "over with flattened subscripts",
                                                    "the flattened text of a rendered page ('a<t>') is not part"),
    "53-zaremba-notes-deep-rnn.txt": ("a transition arrow h^{l-1}_t, h^l_{t-1} \\to h^l_t, and T_{n,n} is Zaremba's "
                                      "notation for an affine map of its own at each use (two different maps "
                                      "written alike): one shared matrix is not what it means",
                                      "an arrow between states ('\\to') is not part of the"),
    "58-student-notebook-rnn-structure.txt": ("the output is a conditional P(y_t | X_t, h_{t-1}) = softmax(O_t) "
                                              "(the rest reads: UX_t as U X_t, with a note)",
                                              "a condition 'p(y | x)' is not part of the"),
    "61-cs224n-blog-lm-output-conditional.txt": ("the second row is a conditional probability of an event, "
                                                 "p(x_{t+1} = v_j | x_t, ..., x_1) = yhat_{t,j}",
                                                 "a condition such as p(y | x) ('|') is not part of the"),
    "69-blog-gru-dot-product-function-time.txt": ("a '.' written for the product, W_r . [h(t-1), x_t]",
                                                  "a '.' between two factors is not a product"),
    "55-pytorch-lstm-multilayer-rst.txt": ("prose about a stacked LSTM with dropout; no equation",
                                           "the text reads like prose and holds no equation"),
}

# The source names the roles in its prose, but the block does not use the gates (gates only),
# or names a role by another word than its place in the equations.
ROLES_NOT_IN_THE_EQUATIONS = {
    "07-d2l-lstm-gates.txt": "a block of gates only: no equation uses them, so their roles are not in it",
    "10-d2l-gru-gates.txt": "a block of gates only: no equation uses them, so their roles are not in it",
    "44-goodfellow-summary-gru-unit-index.txt": "only the state update (eq. 10.45) is in the block: u and r are "
                                                "read, not computed, so they are inputs here",
    "72-chinese-blog-gru-without-interpolation.txt": "as written, z_t and r_t both scale the new state (the GRU's "
                                                     "interpolation is missing), so by their place both are output gates",
    "27-pytorch-old-gru.txt": "the early docstring calls the interpolating gate 'input gate'; by its place "
                              "in h_t = (1 - i_t) * n_t + i_t * h_{t-1} it is the update gate",
}


# Read otherwise than the source means, and said so: (why, what the note says).
READ_OTHERWISE_WITH_A_NOTE = {
    "25-pytorch-old-rnn.txt": ("the early docstring writes w_{ih} * x_t for a matrix product; in the language "
                               "* is element-wise", "is an element-wise product"),
    "16-d2l-seq2seq-decoder.txt": ("the decoder alone: its context c comes from the encoder (block 15), which the "
                                   "block does not hold, so c is one fixed vector here",
                                   "c is read as a given parameter, one fixed value at every step: nothing in the "
                                   "text computes it; an encoder-decoder writes c = h_T"),
}

# Read as the source means, where the page shows something else, and said so: (why, what the note says).
READ_AS_MEANT_WITH_A_NOTE = {
    "27-pytorch-old-gru.txt": ("the early docstring writes W_hi without braces, which LaTeX typesets W_h i",
                               "'W_hi' is read as W_{hi}, one name; LaTeX typesets it W_h i"),
}


# The corpus names the new step of PyTorch's cell form h' as h_prime; read as meant, h' is h at
# the new step (and h, the unprimed name, is h at the step before).
CELL_FORM = {"h_prime": "h", "c_prime": "c"}


def corpus_name(name: str) -> str:
    """rnnviz's canonical name in the corpus' convention: a transpose mark is not part of the name,
    a prime is written _prime."""
    name = name[:-2] if name.endswith("^T") else name
    return name.replace("^prime", "_prime")


def read(case) -> str:
    return (PASTES / case["file"]).read_text(encoding="utf-8")


def test_corpus_is_complete():
    """Every block has an entry, every entry a block, and the lists name only blocks of the corpus."""
    files = sorted(p.name for p in PASTES.glob("*.txt"))
    assert files == sorted(c["file"] for c in CASES)
    assert len(files) >= 40
    assert set(KNOWN_UNREAD) <= set(files)
    assert set(ROLES_NOT_IN_THE_EQUATIONS) <= set(files) - set(KNOWN_UNREAD)
    assert set(READ_OTHERWISE_WITH_A_NOTE) <= set(files) - set(KNOWN_UNREAD)
    assert set(READ_AS_MEANT_WITH_A_NOTE) <= set(files) - set(KNOWN_UNREAD)


@pytest.mark.parametrize("file", sorted(READ_OTHERWISE_WITH_A_NOTE), ids=lambda f: f[:2])
def test_read_otherwise_only_with_a_note(file):
    """Where the language reads a spelling otherwise than the source meant, a note says so."""
    model = load_model((PASTES / file).read_text(encoding="utf-8"), file)
    assert any(READ_OTHERWISE_WITH_A_NOTE[file][1] in note for note in model.notes), model.notes


@pytest.mark.parametrize("file", sorted(READ_AS_MEANT_WITH_A_NOTE), ids=lambda f: f[:2])
def test_read_as_meant_where_the_page_shows_otherwise_with_a_note(file):
    """Where the source's LaTeX typesets otherwise than its author means, the reading is the meaning, and a note
    says how the page would show it."""
    model = load_model((PASTES / file).read_text(encoding="utf-8"), file)
    assert any(READ_AS_MEANT_WITH_A_NOTE[file][1] in note for note in model.notes), model.notes


@pytest.mark.parametrize("case", [c for c in CASES if c["file"] in KNOWN_UNREAD], ids=lambda c: c["file"][:2])
def test_known_unread_fails_with_a_position(case):
    """A block rnnviz cannot read gives a positioned rnnviz error: never a traceback, never a model."""
    with pytest.raises(RnnvizError) as info:
        load_model(read(case), case["file"])
    err = info.value
    assert err.span is not None and err.span.file == case["file"], err.format()
    lines = read(case).splitlines()
    assert 1 <= err.span.line <= len(lines) and 1 <= err.span.column <= len(lines[err.span.line - 1]) + 1
    assert err.format().startswith(f"{case['file']}:{err.span.line}:{err.span.column}: ")
    assert KNOWN_UNREAD[case["file"]][1] in err.format(), err.format()


READ = [c for c in CASES if c["file"] not in KNOWN_UNREAD]


@pytest.mark.parametrize("case", READ, ids=lambda c: c["file"][:2])
def test_paste_reads_as_its_source_means(case):
    """Computed variables, inputs (with the recurrent states) and parameters are the source's."""
    model = load_model(read(case), case["file"])
    assert sorted(corpus_name(v) for v in model.variables) == sorted(CELL_FORM.get(n, n) for n in case["computed"])
    assert sorted(set(model.inputs) | set(model.recurrent) | set(model.backward)) == sorted(set(case["inputs"]))
    assert sorted(corpus_name(p) for p in model.parameters) == sorted(case["params"])


@pytest.mark.parametrize("case", [c for c in READ if c["gates"] or c["cell_state"]], ids=lambda c: c["file"][:2])
def test_gate_roles_and_cell_state(case):
    """The gates the source names have those roles, and its cell state is the one found."""
    report = analyze(load_model(read(case), case["file"]))
    if case["cell_state"]:
        assert case["cell_state"] in report.highways
    if case["gates"] and case["file"] not in ROLES_NOT_IN_THE_EQUATIONS:
        expected = {name: role for role, name in case["gates"].items() if role in GATE_ROLES}
        assert expected, case["gates"]
        assert {n: r for n, r in report.roles.items() if n in expected} == expected


@pytest.mark.parametrize("case", [c for c in READ if c["params_total"] and c["file"] not in READ_OTHERWISE_WITH_A_NOTE],
                         ids=lambda c: c["file"][:2])
def test_parameter_total_for_stated_sizes(case):
    """With the sizes the source states, the parameters count what the source's layer holds."""
    total = case["params_total"]
    model = load_model(read(case) + "\n" + total["dims"] + "\n", case["file"])
    assert parameter_count(model) == total["total"]


@pytest.mark.parametrize("file", ["75-d2l-seq2seq-encoder-with-the-choice-of-q.txt",
                                  "76-d2l-seq2seq-encoder-and-decoder.txt"], ids=lambda f: f[:2])
def test_d2l_context_is_read_by_the_choice_the_text_names(file):
    """d2l.ai's c = q(h_1, ..., h_T), with the sentence choosing q(h_1, ..., h_T) = h_T: the context is h_T,
    computed once at the encoder's end; with the decoder block too, t is the encoder's time and t' the
    decoder's, and c is no longer a given parameter."""
    model = load_model((PASTES / file).read_text(encoding="utf-8"), file)
    assert any("by the text's choice of q (line 5): c = h_T" in n for n in model.notes), model.notes
    if file.startswith("76"):
        ph = model.phases
        assert ph is not None and ph.contexts == ("c",)
        assert ph.encoder.variables == ["h", "c"] and ph.decoder.variables == ["s"]
        assert any("t' the decoder's" in n for n in model.notes), model.notes
        assert not any("given parameter" in n for n in model.notes), model.notes
