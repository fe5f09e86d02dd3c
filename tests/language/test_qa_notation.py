r"""Equations as other courses and books write them parse to the same model as the plain spelling."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.errors import RnnvizError
from rnnviz.errors import ParseError

# (book spelling, plain spelling of the same model)
SAME = {
    "d2l.ai LSTM, \\textrm subscripts without braces": (
        r"""$$\begin{aligned}
\mathbf{I}_t &= \sigma(\mathbf{X}_t \mathbf{W}_{\textrm{xi}} + \mathbf{H}_{t-1} \mathbf{W}_{\textrm{hi}} + \mathbf{b}_\textrm{i}),\\
\mathbf{F}_t &= \sigma(\mathbf{X}_t \mathbf{W}_{\textrm{xf}} + \mathbf{H}_{t-1} \mathbf{W}_{\textrm{hf}} + \mathbf{b}_\textrm{f}),
\end{aligned}$$
$$\mathbf{C}_t = \mathbf{F}_t \odot \mathbf{C}_{t-1} + \mathbf{I}_t \odot \tanh(\mathbf{X}_t \mathbf{W}_{\textrm{xc}}).$$""",
        """I[t] = sigmoid(X[t] W_xi + H[t-1] W_hi + b_i)
F[t] = sigmoid(X[t] W_xf + H[t-1] W_hf + b_f)
C[t] = F[t] * C[t-1] + I[t] * tanh(X[t] W_xc)"""),
    "superscript in \\text without braces": (
        r"h_t = \tanh(W^\text{hh} h_{t-1} + W^\mathrm{xh} x_t)",
        "h[t] = tanh(W^{hh} h[t-1] + W^{xh} x[t])"),
    "note after a trailing comma": (
        r"h_t = \tanh(W [h_{t-1}; x_t] + b),\quad \text{(the cell)}",
        "h[t] = tanh(W [h[t-1], x[t]] + b)"),
    "note after a trailing period and a thin space": (
        r"h_t = \tanh(W h_{t-1} + U x_t). \, \text{the cell}",
        "h[t] = tanh(W h[t-1] + U x[t])"),
    "Andrew Ng's angle brackets and generic g": (
        r"""a^{<t>} = g_1(W_{aa} a^{<t-1>} + W_{ax} x^{<t>} + b_a)
\hat{y}^{<t>} = g_2(W_{ya} a^{<t>} + b_y)""",
        """a[t] = g_1(W_aa a[t-1] + W_ax x[t] + b_a)
\\hat{y}[t] = g_2(W_ya a[t] + b_y)"""),
    "\\left, \\big, \\!, := and \\frac": (
        r"\mathbf{h}^{(t)} := \sigma\!\left(\mathbf{W}^{(hh)} \mathbf{h}^{(t-1)}\right) + \frac{1}{2} \big(\mathbf{x}^{(t)}\big)",
        "h[t] = sigmoid(W^{hh} h[t-1]) + 0.5 (x[t])"),
    "split after a trailing operator": (
        "y_t = V h_t +\n      c\nh_t = tanh(W h_{t-1} + x_t)",
        "y[t] = V h[t] + c\nh[t] = tanh(W h[t-1] + x[t])"),
    "split before a leading operator": (
        "h_t = tanh(W h_{t-1})\n    - U x_t\ny_t = h_t\n  \\odot h_t",
        "h[t] = tanh(W h[t-1]) - U x[t]\ny[t] = h[t] * h[t]"),
    "aligned, broken inside the parentheses with \\\\": (
        r"""\begin{aligned}
h_t &= \tanh(W x_t \\
    &\qquad + U h_{t-1} + b) \\
y_t &= V h_t \\
    &\quad + c
\end{aligned}""",
        "h[t] = tanh(W x[t] + U h[t-1] + b)\ny[t] = V h[t] + c"),
    "a line after the equation that starts with a keyword": (
        "y[t]  = softmax(P x[t] + d)\n\ndim x = 3, y = 3",
        "y[t] = softmax(P x[t] + d)\ndim x = 3, y = 3"),
}


def _model(text: str):
    m = rnnviz.load_model(text)
    return [(e.target, e.expr) for e in m.equations], {n: s.role for n, s in m.symbols.items()}


@pytest.mark.parametrize("book, plain", SAME.values(), ids=list(SAME))
def test_book_notation_is_the_plain_model(book, plain):
    """The book's spelling gives the same equations and roles as the plain one."""
    assert _model(book) == _model(plain)


def test_caption_survives_a_trailing_comma():
    """A note after `,\\quad` is kept as the equation's caption."""
    m = rnnviz.load_model(r"z_t = \sigma(W_z x_t + U_z h_{t-1}),\quad \text{(update gate)}" "\n"
                          r"h_t = z_t \odot h_{t-1}")
    assert m.equations[0].caption == "update gate"


@pytest.mark.parametrize("text, column, words", [
    ("p[t] = exp(y[t]) / sum(exp(y[t]))\ny[t] = W x[t]", 18, "softmax(y)"),
    ("h[t] = tanh(W h[t-1] + x[t] ÷ 2)", 29, "division"),
    (r"L_t = -\sum_i y_{t,i} p_{t,i}", 8, "softmax"),
])
def test_division_and_sums_say_what_to_write(text, column, words):
    """Division and \\sum over components are refused with a hint at softmax, at their column."""
    with pytest.raises(ParseError) as info:
        rnnviz.load_model(text)
    assert info.value.span.column == column
    assert words in info.value.format()


@pytest.mark.parametrize("text, column", [("h[T] = tanh(x[T])", 1), ("h[T+1] = tanh(x[t])", 1)])
def test_capital_time_index_says_lowercase(text, column):
    """`h[T]` (the last step) on the left says an equation is written for a lowercase t."""
    with pytest.raises(RnnvizError) as info:
        rnnviz.load_model(text)
    assert "lowercase t" in info.value.format() and info.value.span.column == column


PASTED = {
    "Unicode subscripts from a web page": ("hₜ = tanh(W·hₜ₋₁ + U·xₜ)", "h[t] = tanh(W h[t-1] + U x[t])"),
    "time in parentheses, Elman's h(t)": ("h(t) = tanh(W h(t-1) + U x(t))\nh(0) = 1",
                                          "h[t] = tanh(W h[t-1] + U x[t])\nh[0] = 1"),
    "an equation number at the end of the line": ("h_t = tanh(W h_{t-1} + U x_t + b)   (1)",
                                                  "h[t] = tanh(W h[t-1] + U x[t] + b)"),
    "a transpose written \\top": (r"h_t = \tanh(W^\top h_{t-1} + U x_t)", "h[t] = tanh(W^T h[t-1] + U x[t])"),
    "a factor (1) inside the equation stays a product": ("h_t = tanh(W (1) h_{t-1})",
                                                         "h[t] = tanh((W 1) h[t-1])"),
}


@pytest.mark.parametrize("book, plain", PASTED.values(), ids=list(PASTED))
def test_pasted_notation_is_the_plain_model(book, plain):
    """Text pasted from web pages and older books gives the same model, values included."""
    a, b = rnnviz.load_model(book), rnnviz.load_model(plain)
    assert _model(book) == _model(plain)
    assert [(v.name, v.time, v.value) for v in a.values] == [(v.name, v.time, v.value) for v in b.values]


def test_max_of_two_arguments_points_to_relu():
    """`\\max(0, a)` is refused at the comma with a hint at relu."""
    with pytest.raises(ParseError) as info:
        rnnviz.load_model(r"h_t = \max(0, W h_{t-1} + x_t)")
    assert info.value.span.column == 13 and "relu(a)" in info.value.format()


def test_a_variable_reading_itself_hints_at_t_minus_1():
    """h[T-1] (a step counted from the last) inside an equation gives a hint at h[t-1]."""
    from rnnviz.errors import ModelError

    with pytest.raises(ModelError) as info:
        rnnviz.load_model("h[t] = tanh(W h[T-1] + x[t])")
    text = info.value.format()
    assert "last step" in text and "h[t-1]" in text and "lowercase t" in text


@pytest.mark.parametrize("suffix", [
    r", \quad t = 1, \dots, T", r" \quad \text{for } t = 1, \ldots, T", r", \qquad \forall t",
    r" \quad \text{for all } t", " for t = 1..T", r", t \in \{1, \dots, T\}",
])
def test_range_of_t_after_an_equation_is_ignored(suffix):
    """'for t = 1, ..., T' and its spellings after an equation are layout, like a trailing comma."""
    plain = "h[t] = tanh(W h[t-1] + U x[t])\nforget[t] = sigmoid(F h[t-1])"
    book = r"h_t = \tanh(W h_{t-1} + U x_t)" + suffix + "\nforget_t = \\sigma(F h_{t-1})" + suffix
    assert _model(book) == _model(plain)


@pytest.mark.parametrize("line", [
    r"with $x_t \in \mathbb{R}^3$ and $h_t \in \mathbb{R}^5$",
    r"where x_t \in \mathbb{R}^3, h_t \in \mathbb{R}^5",
    r"\text{where } x_t \in \mathbb{R}^3, h_t \in \mathbb{R}^5",
    "let x_t in R^3 and h_t in R^5",
])
def test_a_prose_word_before_sizes_is_ignored(line):
    """Exercise 3 as a sheet phrases it ('with x_t in R^3 and h_t in R^5') counts 45 parameters."""
    from rnnviz.numeric.shapes import infer_shapes
    from rnnviz.numeric.values import given_values

    model = rnnviz.load_model("h_t = \\tanh(V \\cdot h_{t-1} + W \\cdot x_t + b)\n" + line)
    shapes = infer_shapes(model, given_values(model))
    assert sum(int(np.prod(shapes.of(p))) for p in model.parameters) == 45


@pytest.mark.parametrize("text, prose", [
    ("The hidden state is\nh_t = \\tanh(W h_{t-1} + U x_t)", True),
    ("h_t = \\tanh(W h_{t-1} + U x_t)\nh_t in R^3 x", False),
])
def test_a_line_of_prose_gets_a_comment_hint(text, prose):
    """A sentence pasted with the equations is pointed out as prose, with % or # to keep it."""
    with pytest.raises(ParseError) as info:
        rnnviz.load_model(text)
    assert ("reads like prose" in info.value.format()) == prose


def test_prose_around_dollar_math_is_ignored_with_a_note():
    """In Markdown the math is between dollars: the sentence around it is ignored, and a note says so."""
    model = rnnviz.load_model("The hidden state is\n$$h_t = \\tanh(W h_{t-1} + U x_t)$$ where $W$ is a matrix.")
    assert model.variables == ["h"] and sorted(model.parameters) == ["U", "W"]
    assert any("reads like prose and is ignored" in n for n in model.notes)
