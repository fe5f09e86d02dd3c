"""Spellings that copy and paste brings along: each gives the plain model, and what changes the reading says so.

Every row of each table is one spelling (LANGUAGE.md, "Pasted LaTeX", "Letters written
together", "Nothing silent"); the plain twin is the same model written the usual way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import rnnviz
from rnnviz.errors import RnnvizError
from rnnviz.language.paste import clean

LSTM_PLAIN = """\
i[t] = sigmoid(W_ii x[t] + W_hi h[t-1] + b_i)
f[t] = sigmoid(W_if x[t] + W_hf h[t-1] + b_f)
g[t] = tanh(W_ig x[t] + W_hg h[t-1] + b_g)
o[t] = sigmoid(W_io x[t] + W_ho h[t-1] + b_o)
c[t] = f[t] * c[t-1] + i[t] * g[t]
h[t] = o[t] * tanh(c[t])
"""


def _model(text: str):
    m = rnnviz.load_model(text)
    return [(e.target, e.expr) for e in m.equations], {n: s.role for n, s in m.symbols.items()}


SAME = {
    "array environment, stray \\\\ first and last": (r"""
\begin{array}{ll} \\
    i_t = \sigma(W_{ii} x_t + W_{hi} h_{t-1} + b_i) \\
    f_t = \sigma(W_{if} x_t + W_{hf} h_{t-1} + b_f) \\
    g_t = \tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g) \\
    o_t = \sigma(W_{io} x_t + W_{ho} h_{t-1} + b_o) \\
    c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
    h_t = o_t \odot \tanh(c_t) \\
\end{array}""", LSTM_PLAIN),
    "array {rlr} with & cells": (r"""\begin{array}{rlr}
i_t & = \sigma(W_{ii} x_t + W_{hi} h_{t-1} + b_i) & \\
f_t & = \sigma(W_{if} x_t + W_{hf} h_{t-1} + b_f) & \\
g_t & = \tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g) & \\
o_t & = \sigma(W_{io} x_t + W_{ho} h_{t-1} + b_o) & \\
c_t & = f_t \odot c_{t-1} + i_t \odot g_t & \\
h_t & = o_t \odot \tanh(c_t) &
\end{array}""", LSTM_PLAIN),
    "OCR-grouped cells with a caption cell": (
        r"""\begin{array}{lcl}
{i_{t}} & {=\sigma\left(W_{ii} x_{t}+W_{hi} h_{t-1}+b_{i}\right)} & {\text { (Input gate) }} \\
{f_{t}} & {=\sigma\left(W_{if} x_{t}+W_{hf} h_{t-1}+b_{f}\right)} & {\text { (Forget gate) }} \\
{g_{t}} & {=\tanh\left(W_{ig} x_{t}+W_{hg} h_{t-1}+b_{g}\right)} & {\text { (New memory) }} \\
{o_{t}} & {=\sigma\left(W_{io} x_{t}+W_{ho} h_{t-1}+b_{o}\right)} & {\text { (Output gate) }} \\
{c_{t}} & {=f_{t} \odot c_{t-1}+i_{t} \odot g_{t}} & {\text { (Cell) }} \\
{h_{t}} & {=o_{t} \odot \tanh \left(c_{t}\right)} & {\text { (Hidden) }}
\end{array}""", LSTM_PLAIN),
    "Markdown escapes \\_ and \\* and \\\\( \\\\)": (
        r"\\(h\_t = \tanh(W h\_{t-1} \* 2 + U x\_t)\\)", "h[t] = tanh((W h[t-1]) * 2 + U x[t])"),
    "Markdown display \\\\[ \\\\]": (r"\\[h_t = \tanh(W h_{t-1} + U x_t)\\]", "h[t] = tanh(W h[t-1] + U x[t])"),
    "escaped angle brackets a^{\\<t\\>}": (r"$a^{\<t\>} = g(W_{aa} a^{\<t-1\>} + W_{ax} x^{\<t\>} + b_a)$",
                                          "a[t] = g(W_aa a[t-1] + W_ax x[t] + b_a)"),
    "list markers - * 1.": ("- h_t = \\tanh(W h_{t-1} + U x_t)\n* y_t = V h_t\n",
                            "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]"),
    "numbered list": ("1. h_t = \\tanh(W h_{t-1} + U x_t)\n2) y_t = V h_t\n",
                      "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]"),
    "list markers before $...$": ("* $h_t = \\tanh(W h_{t-1} + U x_t)$\n* $y_t = V h_t$",
                                  "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]"),
    ":= and : =": ("h_t := tanh(W h_{t-1} + U x_t)\ny_t : = V h_t", "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]"),
    "doubled backslashes": (r"$$\\begin{align} h_t &= \\tanh(W h_{t-1} + U x_t) \\\\ y_t &= V h_t \\end{align}$$",
                            "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]"),
    "MediaWiki <math>": (":<math>\nh_t = \\tanh(W h_{t-1} + U x_t)\n</math>", "h[t] = tanh(W h[t-1] + U x[t])"),
    "reStructuredText :math:": (":math:`h_t = \\tanh(W h_{t-1} + U x_t)`", "h[t] = tanh(W h[t-1] + U x[t])"),
    "time in parentheses inside the subscript": (r"h_t = \tanh(W h_{(t-1)} + U x_{(t)})",
                                                 "h[t] = tanh(W h[t-1] + U x[t])"),
    "time in brackets inside the subscript": (r"h_{[t]} = \tanh(W h_{[t-1]} + U x_{[t]})",
                                              "h[t] = tanh(W h[t-1] + U x[t])"),
    "bare superscript time": (r"h^{t} = \tanh(W h^{t-1} + U x^t)", "h[t] = tanh(W h[t-1] + U x[t])"),
    "function-style time": (r"\mathbf{h}(t) = \tanh(W \mathbf{h}(t-1) + U \mathbf{x}(t))",
                            "h[t] = tanh(W h[t-1] + U x[t])"),
    "Deep Learning book macros": (r"\vh^{(t)} = \tanh(\mW \vh^{(t-1)} + \mU \vx^{(t)} + \vb)",
                                  "h[t] = tanh(W h[t-1] + U x[t] + b)"),
    "Deep Learning book macros, capital spelling": (r"\Vh^{(t)} = \tanh(\MW \Vh^{(t-1)} + \MU \Vx^{(t)})",
                                                    "h[t] = tanh(W h[t-1] + U x[t])"),
    "\\vtheta is a bold theta": (r"h_t = \tanh(\vtheta h_{t-1} + x_t)", "h[t] = tanh(theta h[t-1] + x[t])"),
    "letters written together": ("$h_t=tanh(W_hh_{t-1}+W_xx_t+b)$\n$y_t=W_yh_t$",
                                 "h[t] = tanh(W_h h[t-1] + W_x x[t] + b)\ny[t] = W_y h[t]"),
    "f_tc_{t-1}: a gate and a state written together": (
        "c_t = f_tc_{t-1} + i_t g_t\nf_t = sigmoid(W_f x_t)\ni_t = sigmoid(W_i x_t)\ng_t = tanh(W_g x_t)",
        "c[t] = f[t] c[t-1] + i[t] g[t]\nf[t] = sigmoid(W_f x[t])\ni[t] = sigmoid(W_i x[t])\ng[t] = tanh(W_g x[t])"),
    "a matrix written against its timed vector (a student's notes)": (
        "$ h_t = tanh(Ux_t + Wh_{t - 1} + b_h) $\n$ y_t = Vh_t + b_o $",
        "h[t] = tanh(U x[t] + W h[t-1] + b_h)\ny[t] = V h[t] + b_o"),
    "a matrix against a timed superscript, and against a capital input": (
        r"h^{(t)} = \tanh(Wh^{(t-1)} + UX^{(t)})", "h[t] = tanh(W h[t-1] + U X[t])"),
    "a head that is a parameter elsewhere": ("h_t = tanh(wh_{t-1} + ux_t + u)", "h[t] = tanh(w h[t-1] + u x[t] + u)"),
    "transposed vectors before matrices (the row form)": (
        r"h_t = \tanh(x_t^\top W_{xh} + h_{t-1}^\top W_{hh} + b_h)", "h[t] = tanh(x[t] W_xh + h[t-1] W_hh + b_h)"),
    "x_t^T W": (r"h_t = \tanh(x_t^T W + h_{t-1}^{T} U)", "h[t] = tanh(x[t] W + h[t-1] U)"),
    "bold letters written together": (r"\mathbf{h}_t = \tanh(\mathbf{Wh}_{t-1} + \mathbf{Ux}_t)",
                                      r"\mathbf{h}_t = \tanh(\mathbf{W} \mathbf{h}_{t-1} + \mathbf{U} \mathbf{x}_t)"),
    "a number before letters written together": (r"h_t = \tanh(2Wh_{t-1} + 0.5x_t)",
                                                 "h[t] = tanh(2 W h[t-1] + 0.5 x[t])"),
    "a gate superscript with an accent": (r"g_t = \tanh(W^{(\tilde{h})} x_t + U^{\tilde{h}} s_{t-1})",
                                          "g[t] = tanh(W^{htilde} x[t] + U^{htilde} s[t-1])"),
    "a time glued to the matrix after it (the row form)": (r"h_t = \tanh(x_tW + h_{t-1}U)",
                                                           "h[t] = tanh(x[t] W + h[t-1] U)"),
    "a stacked vector in a bmatrix": (r"h_t = \tanh(W \begin{bmatrix} h_{t-1} \\ x_t \end{bmatrix})",
                                      "h[t] = tanh(W [h[t-1]; x[t]])"),
    "a primed time, the only one": (r"\mathbf{s}_{t^\prime} = \tanh(W \mathbf{s}_{t^\prime-1} + U y_{t'-1})",
                                    "s[t] = tanh(W s[t-1] + U y[t-1])"),
    "a chain read by its last side": (r"y_t = \sigma(o_t) = \sigma(V h_t + c)" "\nh_t = \\tanh(W h_{t-1} + U x_t)",
                                      "y[t] = sigmoid(V h[t] + c)\nh[t] = tanh(W h[t-1] + U x[t])"),
    "tanh without parentheses": ("h_t = o_t * tanh c_t\nc_t = c_{t-1} + x_t\no_t = sigmoid(W x_t)",
                                 "h[t] = o[t] * tanh(c[t])\nc[t] = c[t-1] + x[t]\no[t] = sigmoid(W x[t])"),
    "prose around the math": ("The state is $$h_t = \\tanh(W h_{t-1} + U x_t)$$ where $W$ is square.",
                              "h[t] = tanh(W h[t-1] + U x[t])"),
}


@pytest.mark.parametrize("pasted, plain", SAME.values(), ids=list(SAME))
def test_pasted_spelling_is_the_plain_model(pasted, plain):
    assert _model(pasted) == _model(plain)


def test_bold_macros_are_shown_bold():
    m = rnnviz.load_model(r"\vh^{(t)} = \tanh(\mW \vh^{(t-1)} + \vx^{(t)})")
    assert m.symbols["W"].display.bold and m.symbols["h"].display.bold


def test_array_caption_is_kept():
    m = rnnviz.load_model(SAME["OCR-grouped cells with a caption cell"][0])
    assert m.equation("i").caption == "Input gate"


NOTED = {
    "letters written together": ("h_t = tanh(W_hh_{t-1} + U x_t)", "1:12", "is read as W_h h_{t-1}"),
    "a matrix glued to its input": ("h_t = tanh(Ux_t + W h_{t-1})", "1:12", "'Ux_t' is read as U x_t, a product of letters"),
    "a matrix glued to the state": ("h_t = tanh(U x_t + Wh_{t - 1})", "1:20", "write W h_{t - 1} to say so, or "
                                    "\\mathrm{Wh}_{t - 1} for one input"),
    "a long name that splits into no symbols": ("h_t = tanh(emb_t + W h_{t-1})", "1:12",
                                                "'emb_t' is read as one input named emb"),
    "a space with a size in words": ("h_t = tanh(W h_{t-1} + x_t)\nh_0 = 0 \\in \\mathbb{R}^{1*hidden-size}", "2:13",
                                     "the space it lies in, with a size rnnviz cannot read"),
    "a transposed vector": ("h_t = tanh(x_t^T W + h_{t-1})", "1:12", "'x_t^T' (a transposed vector) is read as x[t]"),
    "a primed time": ("s_{t'} = tanh(W s_{t'-1})", "1:1", "t' is the time of these equations"),
    "a chain": ("y_t = g(o_t) = g(V h_t)\nh_t = tanh(W h_{t-1} + x_t)", "1:1", "the last one defines it"),
    "tanh without parentheses": ("h_t = tanh h_{t-1} + x_t", "1:7", "without parentheses is read as tanh"),
    "a weight times a vector with *": ("h_t = tanh(w * h_{t-1} + x_t)", "1:12", "element-wise product"),
    "a computed variable before parentheses": ("c_t = c_{t-1} + x_t\nh_t = o_t f_t(c_t)\nf_t = sigmoid(x_t)\n"
                                               "o_t = sigmoid(x_t)", "2:11", "read as the product"),
    "doubled backslashes": (r"h_t = \\tanh(W h_{t-1})", "1:7", "backslash is doubled"),
    "prose": ("We write\n$$h_t = \\tanh(W h_{t-1} + x_t)$$", "1:1", "reads like prose"),
    "an unbraced subscript of two letters": ("h_t = \\tanh(W_hh h_{t-1} + U x_t)", "1:13",
                                             "'W_hh' is read as W_{hh}, one name; LaTeX typesets it W_h h"),
    "a context computed nowhere": ("s_t = g(y_{t-1}, c, s_{t-1})", "1:18", "c is read as a given parameter, "
                                   "one fixed value at every step: nothing in the text computes it; an "
                                   "encoder-decoder writes c = h_T"),
    "a context a matrix reads": ("s_t = \\tanh(W s_{t-1} + U y_{t-1} + C c)", "1:39",
                                 "c is read as a given parameter"),
    "an argument of f computed nowhere": ("h_t = f(x_t, h_{t-1}, q)", "1:23",
                                          "q is read as a given parameter, one fixed value at every step: nothing in "
                                          "the text computes it; write q_t for an input"),
}


def test_an_unbraced_subscript_keeps_its_reading():
    """`W_hh h_{t-1}` means W_{hh}: the note says how LaTeX would show it, the model is the braced one's."""
    unbraced = rnnviz.load_model("h_t = \\tanh(W_hh h_{t-1} + W_xh x_t)\ny_t = W_hh h_t")
    braced = rnnviz.load_model("h_t = \\tanh(W_{hh} h_{t-1} + W_{xh} x_t)\ny_t = W_{hh} h_t")
    assert unbraced.parameters == braced.parameters == ["W_hh", "W_xh"] and braced.notes == []
    assert [n.split(": ", 1)[0] for n in unbraced.notes] == ["<input>:1:13", "<input>:1:28"]  # once per spelling


@pytest.mark.parametrize("text", [
    "h[t] = tanh(W_hh h[t-1] + W_xh x[t] + b_h)\ny[t] = W_hy h[t] + b_y",
    "h[t] = tanh(W_hh h[t-1] + W_xh x[t])  # W_hh is {h x h}, as in $W_{hh}$",
], ids=["plain", "plain with a comment"])
def test_an_underscore_name_of_the_plain_notation_has_no_note(text):
    """In the plain notation W_hh is an ordinary name: no LaTeX typesets it, so nothing is said."""
    assert rnnviz.load_model(text).notes == []


def test_a_line_of_a_display_is_latex_even_without_a_command():
    notes = rnnviz.load_model("$$\nh[t] = tanh(W_hh h[t-1] + U x[t])\n$$").notes
    assert len(notes) == 1 and notes[0].startswith("<input>:2:13: 'W_hh' is read as W_{hh}")


@pytest.mark.parametrize("text", [
    r"h_t = f(x_t, h_{t-1}, w_\textrm{h})",
    r"h^{(t)} = f(h^{(t-1)}, x^{(t)}; \theta)",
    r"h_t = f(x_t, h_{t-1}, W, b)",
    r"o^{(t)} = c + V h^{(t)}" "\n" r"h^{(t)} = \tanh(b + W h^{(t-1)} + U x^{(t)})",
], ids=["a weight", "after the semicolon", "a matrix and a bias", "an output bias named c"])
def test_weights_and_biases_are_given_parameters_without_a_note(text):
    assert not any("given parameter" in n for n in rnnviz.load_model(text).notes)


def test_a_context_the_encoder_computes_has_no_note():
    m = rnnviz.load_model("h_t = \\tanh(W h_{t-1} + U x_t)\nc = h_T\ns_t = \\tanh(A s_{t-1} + B y_{t-1} + C c)\n"
                          "o_t = g(s_t, c)")
    assert sorted(m.parameters) == ["A", "B", "C", "U", "W"]
    assert not any("given parameter" in n for n in m.notes)


@pytest.mark.parametrize("text, where, words", NOTED.values(), ids=list(NOTED))
def test_a_changed_reading_comes_with_a_positioned_note(text, where, words):
    notes = rnnviz.load_model(text, "s.rnn").notes
    assert any(n.startswith(f"s.rnn:{where}: ") and words in n for n in notes), notes


def test_plain_text_has_no_notes():
    assert rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t])").notes == []


REFUSED = {
    "h_T where h is computed": ("h_t = tanh(W h_{t-1} + U x_t)\ny_t = V h_T", (2, 9), "last step T"),
    "h[T]": ("h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[T]", (2, 10), "last step T"),
    "h_{\\tau}": ("h_t = tanh(W h_{t-1} + U x_t)\nc_t = V h_{\\tau}", (2, 9), "last step T"),
    "h^{(\\tau)}": ("h^{(t)} = tanh(W h^{(t-1)} + U x^{(t)})\no^{(t)} = V h^{(\\tau)}", (2, 13), "last step T"),
    "h^{(T)}": ("h^{(t)} = tanh(W h^{(t-1)} + U x^{(t)})\no^{(t)} = V h^{(T)}", (2, 13), "last step T"),
    "x_T of an input": ("h_t = tanh(W h_{t-1} + U x_t + V x_T)", (1, 34), "last step T"),
    "letters that split two ways": ("h_t = tanh(W_xhh_{t-1})", (1, 13), "can be read as"),
    "two lowercase letters glued": ("h_t = tanh(ux_t + W h_{t-1})", (1, 12), "read as u x_t (a product), or as "
                                                                        "one input named ux"),
    "a glued tail that is the state after a head that is no symbol": ("h_t = tanh(Whh_{t-1} + U x_t)", (1, 12),
                                                                      "read as Wh h_{t-1}"),
    "a glued name that splits two ways into symbols": ("h_t = tanh(Uxh_{t} + x_t + U)\nxh_t = x_t", (1, 12),
                                                       "U xh_{t} or as Ux h_{t}"),
    "a matrix and its transpose": ("h_t = tanh(W h_{t-1} + W^T x_t)", (1, 24), "'W^T' is the transpose of W"),
    "tied output weights": ("h_t = \\tanh(W h_{t-1} + U x_t)\ny_t = W^\\top h_t", (2, 7), "no transpose of a matrix"),
    "an inner product of two vectors": ("s_t = h_{t-1}^T h_{t-1} + x_t", (1, 7), "transposes a vector"),
    "a layer index without parentheses": ("h_t^{l} = tanh(W h_t^{l-1} + U h_{t-1}^{l})", (1, 21),
                                          "a layer index is written in parentheses, as in h_t^{(l-1)}"),
    "a full stop for a product": ("h_t = tanh(W . [h_{t-1}, x_t])", (1, 14), "a '.' between two factors"),
    "a time glued to two letters": (r"h_t = \tanh(x_tWh + h_{t-1}U)", (1, 14), "…_t Wh or as …_t W h"),
    "two times t and t'": ("h_t = tanh(W h_{t-1} + x_t)\ns_{t'} = tanh(A s_{t'-1} + C h_T)", (2, 1),
                           "two times, t and t'"),
    "glued name on a left side": ("W_hh_{t} = tanh(x_t)", (1, 1), "letters written together"),
    "tanh with nothing after it": ("h_t = tanh + x_t", (1, 7), "write its argument in parentheses"),
    "a chain in a value line": ("h_t = tanh(W h_{t-1})\nW = 1 b = 2", (2, 11), "one '=' per value"),
}


@pytest.mark.parametrize("text, where, words", REFUSED.values(), ids=list(REFUSED))
def test_unclear_readings_are_positioned_errors(text, where, words):
    with pytest.raises(RnnvizError) as info:
        rnnviz.load_model(text, "s.rnn")
    assert (info.value.span.line, info.value.span.column) == where, info.value.format()
    assert words in info.value.format()


@pytest.mark.parametrize("spelling", [r"\mathrm{Ux}_t", r"\text{Ux}_t", r"\operatorname{Ux}_t", "Ux[t]",
                                      r"\mathrm{Ux}^{(t)}"])
def test_a_multi_letter_input_stays_writable(spelling):
    """Upright letters, or a time in brackets, index the whole name: one input, read without a note."""
    m = rnnviz.load_model(f"h_t = \\tanh({spelling} + W h_{{t-1}})")
    assert m.inputs == ["Ux"] and m.parameters == ["W"] and m.notes == []


def test_a_value_with_its_space_gives_the_size():
    """`h_0 = 0 \\in \\mathbb{R}^5` is the initial value and the size of h, as `dim h = 5` with `h_0 = 0`."""
    from rnnviz.numeric import parameter_count

    eq = "h_t = \\tanh(W h_{t-1} + U x_t) \\in \\mathbb{R}^5\ndim x = 3\n"
    spaced = rnnviz.load_model(eq + "h_0 = 0 \\in \\mathbb{R}^{5}")
    assert parameter_count(spaced) == parameter_count(rnnviz.load_model(eq + "dim h = 5\nh_0 = 0")) == 25 + 15
    assert spaced.notes == []


@pytest.mark.parametrize("text, parameters, inputs", [
    # W^T alone is a matrix of its own (its shape is the transpose's): the model is the same, renamed.
    ("h_t = \\tanh(W^\\top h_{t-1} + U x_t)", ["U", "W^T"], ["x"]),
    # A subscript t is a time: W_t is an input that changes with t, as X_t is in d2l.ai.
    ("h_t = \\tanh(W_t h_{t-1} + U x_t)", ["U"], ["W", "x"]),
    # \cdot between two vectors of one size is their element-wise product, as books write f_t s_{t-1}.
    ("c_t = f_t \\cdot c_{t-1} + x_t\nf_t = \\sigma(W_f x_t)", ["W_f"], ["x"]),
])
def test_adversarial_spellings_read_as_the_language_says(text, parameters, inputs):
    model = rnnviz.load_model(text)
    assert sorted(model.parameters) == parameters and model.inputs == inputs


def test_a_bmatrix_is_a_stacked_vector_or_a_matrix_value():
    """`\\begin{bmatrix} h_{t-1} \\\\ x_t \\end{bmatrix}` stacks (it was once layout, so the rows became a
    product h_{t-1} x_t); rows of several entries are a matrix."""
    m = rnnviz.load_model("h_t = \\tanh(W \\begin{pmatrix} h_{t-1} \\\\ x_t \\end{pmatrix})\n"
                          "W = \\begin{bmatrix} 1 & 2 & 0 \\\\ 3 & 4 & 1 \\end{bmatrix}\n"
                          "h_0 = \\begin{bmatrix} 0.5 \\\\ -1 \\end{bmatrix}")
    assert [(v.name, v.value) for v in m.values] == [("W", [[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]]), ("h", [0.5, -1.0])]
    assert rnnviz.load_model("h[t] = tanh(W [h[t-1]; x[t]])").equations[0].expr == m.equations[0].expr


def test_a_subscript_T_of_a_parameter_stays_a_name():
    """W_T is a parameter's name when nothing called W is computed or read at a time."""
    assert "W_T" in rnnviz.load_model("h_t = tanh(W_T h_{t-1} + x_t)").parameters


@pytest.mark.parametrize("pasted", [
    "* $a^{\\<t\\>} = g(W_{aa} a^{\\<t-1\\>} + W_{ax} x^{\\<t\\>} + b_a) + tahn(x)$",
    "- h\\_t = tanh(W h\\_{t-1}) + tahn(x)",
    "$$\\\\begin{align} h_t &= \\\\tanh(W h_{t-1}) + tahn(x) \\\\end{align}$$",
    "\\begin{array}{ll} h_t = \\tanh(W h_{(t-1)}) + tahn(x) \\end{array}",
])
def test_errors_point_at_the_pasted_column(pasted):
    """After clean-up the caret still points at the column of the text as pasted."""
    with pytest.raises(RnnvizError) as info:
        rnnviz.load_model(pasted)
    span = info.value.span
    assert pasted[span.column - 1:span.end_column - 1] == "tahn"


def test_clean_keeps_every_column():
    text = "* $a^{\\<t\\>} = g(W_{aa} a^{\\<t-1\\>})$"
    c = clean(text)
    for i, ch in enumerate(c.text):
        if ch.strip() and ch not in "$":
            line, col = c.position(i)
            assert text[col - 1] == ch


@pytest.mark.parametrize("juxtaposed", [r"h_t = o_t \tanh(c_t)", r"h_t = \tanh(c_t) o_t"])
def test_juxtaposed_element_wise_products_carry_sizes(juxtaposed):
    """`o_t \\tanh(c_t)` is element-wise like `\\odot`, so the size of h reaches o and c (4 (dh + h^2 + h))."""
    from rnnviz.numeric import parameter_count

    text = (r"f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)" "\n" r"i_t = \sigma(W_i x_t + U_i h_{t-1} + b_i)" "\n"
            r"o_t = \sigma(W_o x_t + U_o h_{t-1} + b_o)" "\n"
            r"c_t = f_t c_{t-1} + i_t \tanh(W_c x_t + U_c h_{t-1} + b_c)" "\n" + juxtaposed + "\ndim x = 10, h = 20")
    assert parameter_count(rnnviz.load_model(text)) == 4 * (20 * 10 + 20 * 20 + 20)


GRU_USUAL = r"""z_t = \sigma(W_z x_t + b_z)
r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)
h_t = \tanh(U_h (r_t \odot h_{t-1}) + W_h x_t) \odot z_t + h_{t-1} \odot (1 - z_t)"""

AHEAD = {
    "untimed gates, h_{t+1} from x_t": (r"""z = \sigma(W_z x_t + b_z)
r = \sigma(W_r x_t + U_r h_t + b_r)
h_{t+1} = \tanh(U_h (r \odot h_t) + W_h x_t) \odot z + h_t \odot (1 - z)""", GRU_USUAL),
    "function-style h(t+1)": (r"\mathbf{h}(t+1) = \tanh(W \mathbf{h}(t) + U \mathbf{x}(t))",
                              "h[t] = tanh(W h[t-1] + U x[t])"),
    "timed gates at t+1": ("z[t+1] = sigmoid(W_z x[t])\nh[t+1] = z[t+1] * h[t] + (1 - z[t+1]) * tanh(U x[t])",
                           "z[t] = sigmoid(W_z x[t])\nh[t] = z[t] * h[t-1] + (1 - z[t]) * tanh(U x[t])"),
}


@pytest.mark.parametrize("ahead, usual", AHEAD.values(), ids=list(AHEAD))
def test_equations_one_step_ahead_are_the_usual_model(ahead, usual):
    """No false algebraic loop, the gates found, the same trees as the usual form, and a note."""
    model = rnnviz.load_model(ahead)
    assert _model(ahead) == _model(usual)
    assert any("one step ahead" in n for n in model.notes)


def test_gates_written_ahead_keep_their_roles():
    from rnnviz.language import analyze

    report = analyze(rnnviz.load_model(AHEAD["untimed gates, h_{t+1} from x_t"][0]))
    assert report.roles == {"z": "update", "r": "reset"}


def test_input_read_at_t_plus_1_keeps_the_plain_shift():
    """`h[t+1] = f(h[t], x[t+1])` is only t renamed: no note, x read at the step."""
    model = rnnviz.load_model("h[t+1] = tanh(W h[t] + U x[t+1])")
    assert model.notes == [] and _model("h[t+1] = tanh(W h[t] + U x[t+1])") == _model("h[t] = tanh(W h[t-1] + U x[t])")


def test_a_prime_before_the_time_is_part_of_the_name():
    """`\\boldsymbol{y}^{\\prime(t)}` (kramdown notes) is y' at time t."""
    m = rnnviz.load_model(r"\boldsymbol{y}^{\prime(t)} = softmax(\boldsymbol{o}^{(t)})" "\n"
                          r"o^{(t)} = V h^{(t)}" "\n" r"h^{(t)} = \tanh(W h^{(t-1)} + U x^{(t)})")
    assert m.variables == ["h", "o", "y^prime"]


UNSUPPORTED = {
    "an unknown command lists the nearest": (r"h_t = \tahn(W h_{t-1})", 7, "the nearest known: \\tanh"),
    "a misspelt font": (r"h_t = \boldsymbl{W} h_{t-1}", 7, "the nearest known: \\boldsymbol"),
    "an elided list": (r"h_t = f(x_1, \dots, x_t)", 14, "an elided list"),
    "a prime beside a time index": (r"h_t = \tanh(W h_{t-1})'", 23, "a prime"),
    "a conditional probability": (r"p_t = p(y_t | x_t)", 13, "a condition"),
    "a sum over time of what nothing computes": (r"L = \sum_t L_t", 1, "no equations found"),
    "division": ("h[t] = tanh(W h[t-1] / 2)", 22, "division"),
    # Named where they are, though the parser stops elsewhere on the line.
    "NumPy code": ("hs[t] = np.tanh(np.dot(Wxh, xs[t]) + bh)", 9, "NumPy code ('np.tanh') is not part of"),
    "a transition arrow": (r"h^{l-1}_t, h^l_{t-1} \to h^l_t", 22, "an arrow between states ('\\to')"),
    "a condition among grouped arguments": (r"L = -\log p(y_t | {x_1, \dots x_t})", 17, "a condition"),
    "a transpose of a bracket": (r"h_i = [a_i^\top; b_i^\top]^\top, i=1,\dots,n", 26, "a transpose of a bracket"),
    "attention's sum over positions": (r"c_t = \sum_{i=1}^n \alpha_{t,i} h_i & \text{; context}", 7,
                                       "a sum over positions"),
    "a rendered page's text": ("a<t>=g1(Waaa<t-1>+ba)", 1, "the flattened text of a rendered page"),
    "prose and no equation": ("In a multilayer LSTM, the input :math:`x^{(l)}_t` of the layer", 1,
                              "the text reads like prose and holds no equation"),
}


@pytest.mark.parametrize("text, column, words", UNSUPPORTED.values(), ids=list(UNSUPPORTED))
def test_unsupported_constructs_are_named(text, column, words):
    with pytest.raises(RnnvizError) as info:
        rnnviz.load_model(text)
    assert info.value.span.column == column, info.value.format()
    assert words in info.value.format()


def test_value_lines_outside_the_math_are_kept():
    """Beside `$$...$$`, a line with `=` is a value, even one called theta: it is never dropped as prose."""
    m = rnnviz.load_model("The state is $$h_t = \\tanh(theta h_{t-1} + x_t)$$\ntheta = 0.5\nx = [1, 2]\n")
    assert [(v.name, v.value) for v in m.values] == [("theta", 0.5), ("x", [1.0, 2.0])]
    with pytest.raises(RnnvizError):
        rnnviz.load_model("$$h_t = \\tanh(theta h_{t-1} + x_t)$$\nWe also take x = [1, 2].")


CELL_FORM = {
    "PyTorch's RNNCell": (r"h' = \tanh(W_{ih} x + b_{ih}  +  W_{hh} h + b_{hh})",
                          "h[t] = tanh(W_ih x[t] + b_ih + W_hh h[t-1] + b_hh)"),
    "PyTorch's LSTMCell is PyTorch's LSTM": (
        (Path(__file__).parent.parent / "data" / "pastes" / "23-pytorch-lstmcell.txt").read_text(encoding="utf-8"),
        (Path(__file__).parent.parent / "data" / "pastes" / "19-pytorch-lstm.txt").read_text(encoding="utf-8")),
}


@pytest.mark.parametrize("cell, timed", CELL_FORM.values(), ids=list(CELL_FORM))
def test_cell_form_is_the_timed_model(cell, timed):
    """h' is the new step, h the previous one, x the input; a note says so."""
    assert _model(cell) == _model(timed)
    assert any("cell form" in n for n in rnnviz.load_model(cell).notes)


def test_a_prime_beside_time_indices_is_a_name():
    """With time indices written, h' is a name of its own (a variable h^prime), not cell form."""
    m = rnnviz.load_model("h'_t = tanh(W h'_{t-1} + x_t)")
    assert m.variables == ["h^prime"] and not any("cell form" in n for n in m.notes)
