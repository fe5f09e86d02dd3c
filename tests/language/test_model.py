"""The model: roles, delays, evaluation order, values and every check of LANGUAGE.md."""

from __future__ import annotations

import pytest

import rnnviz
from rnnviz.errors import ModelError, RnnvizError, ValueSpecError
from rnnviz.language import expr as E
from rnnviz.language import load_model

EX1_PLAIN = """
h1[t] = tanh(U x[t] + V h1[t-1] + W h2[t-1] + b)
h2[t] = tanh(R h1[t] + S h2[t-1] + T y[t-1] + c)
y[t]  = softmax(P x[t] + Q h2[t] + d)
"""
EX1_LATEX = r"""$$\begin{aligned}h_1^{(t)} &= \tanh(U x^{(t)} + V h_1^{(t-1)} + W h_2^{(t-1)} + b) \\h_2^{(t)} &= \tanh(R h_1^{(t)} + S h_2^{(t-1)} + T y^{(t-1)} + c) \\y^{(t)} &= \text{softmax}(P x^{(t)} + Q h_2^{(t)} + d).\end{aligned}$$"""

# Plain spellings of the LaTeX examples and exercises: each pair must give the same model.
EQUIVALENT = {
    "relu_1d": ("h[t] = relu(V h[t-1] + W x[t])", r"h_t = \text{ReLU}(V \cdot h_{t-1} + W \cdot x_t)"),
    "lstm_goodfellow": (
        """f[t] = sigmoid(b^f + U^f x[t] + W^f h[t-1])
g[t] = sigmoid(b^g + U^g x[t] + W^g h[t-1])
q[t] = sigmoid(b^q + U^q x[t] + W^q h[t-1])
s[t] = f[t] s[t-1] + g[t] sigmoid(b + U x[t] + W h[t-1])
h[t] = relu(s[t]) * q[t]
o[t] = sigmoid(h[t] * V + c)""",
        r"""f_t = \sigma(b^f + U^f x_t + W^f h_{t-1})
g_t = \sigma(b^g + U^g x_t + W^g h_{t-1})
q_t = \sigma(b^q + U^q x_t + W^q h_{t-1})
s_t = f_t s_{t-1} + g_t \sigma(b + U x_t + W h_{t-1})
h_t = \text{ReLU}(s_t) * q_t
o_t = \sigma(h_t * V + c)""",
    ),
    "exercise5": (
        """g1[t] = sigmoid(W1 x[t] + U1 h[t-1])
g2[t] = sigmoid(W2 x[t] + U2 h[t-1])
g3[t] = sigmoid(W3 x[t] + U3 h[t-1])
c~[t] = tanh(W_c x[t] + U_c h[t-1])
c[t] = g2[t] * c[t-1] + g3[t] * c~[t]
h[t] = g1[t] * c[t]""",
        r"""g_1 = \sigma(W_1 \cdot x_t + U_1 \cdot h_{t-1}),
g_2 = \sigma(W_2 \cdot x_t + U_2 \cdot h_{t-1}),
g_3 = \sigma(W_3 \cdot x_t + U_3 \cdot h_{t-1}),
\tilde{c}_t = \tanh(W_c \cdot x_t + U_c \cdot h_{t-1}),
c_t = g_2 \circ c_{t-1} + g_3 \circ \tilde{c}_t,
h_t = g_1 \circ c_t,""",
    ),
    "gru": (
        """z[t] = sigmoid(W_z [h[t-1], x[t]])
r[t] = sigmoid(W_r [h[t-1], x[t]])
h~[t] = tanh(W [r[t] * h[t-1], x[t]])
h[t] = (1 - z[t]) * h[t-1] + z[t] * h~[t]""",
        r"""z_t = \sigma(W_z \cdot [h_{t-1}, x_t])
r_t = \sigma(W_r \cdot [h_{t-1}, x_t])
\tilde{h}_t = \tanh(W \cdot [r_t * h_{t-1}, x_t])
h_t = (1 - z_t) * h_{t-1} + z_t * \tilde{h}_t""",
    ),
    "exercise7": (
        "h[t] = tanh(W_hx x[t] + W_hh h[t-1] + b_h)\np[t] = W_ph h[t] + b_p",
        r"""h^{(t)} = \tanh(W_{hx} x^{(t)} + W_{hh} h^{(t-1)} + b_h)
p^{(t)} = W_{ph} h^{(t)} + b_p""",
    ),
    "two_layer": (EX1_PLAIN, EX1_LATEX),
    "fractions": ("h[t] = 1.5 x[t] - 0.3", r"h_t = \frac{3}{2} x_t - 0.3"),
}


def signature(model):
    """Everything that makes a model what it is, without source positions."""
    return (model.equations, {n: (s.kind, s.role) for n, s in model.symbols.items()})


@pytest.mark.parametrize("case", sorted(EQUIVALENT))
def test_plain_and_latex_give_the_same_model(case):
    """Plain text and pasted LaTeX of the same equations give identical models."""
    plain, latex = EQUIVALENT[case]
    assert signature(load_model(plain)) == signature(load_model(latex))


def test_bundled_latex_example_equals_plain_example(examples_dir):
    """examples/two_layer_latex.rnn is the same model as examples/two_layer.rnn."""
    a = rnnviz.load(str(examples_dir / "two_layer.rnn"))
    b = rnnviz.load(str(examples_dir / "two_layer_latex.rnn"))
    assert signature(a) == signature(b)
    assert [(v.name, v.value) for v in a.values] == [(v.name, v.value) for v in b.values]


def test_every_example_builds(example_path):
    """Every bundled example parses and builds."""
    model = rnnviz.load(str(example_path))
    assert model.equations and model.inputs


def test_exercise1_roles_and_delays():
    """Exercise 1: T is a matrix, h1 and h2 are states, y an output fed back with a delay."""
    m = load_model(EX1_PLAIN)
    assert m.variables == ["h_1", "h_2", "y"]
    assert m.inputs == ["x"]
    assert set(m.parameters) == set("UVWbRSTcPQd")
    assert {n: m.role(n) for n in m.variables} == {"h_1": "state", "h_2": "state", "y": "output"}
    assert m.delays("h_1") == (1,) and m.delays("y") == (1,) and m.delays("x") == ()
    reads = {(v.name, v.delay) for v in m.reads(m.equation("h_2"))}
    assert reads == {("h_1", 0), ("h_2", 1), ("y", 1)}


def test_roles_of_an_lstm():
    """Gates are hidden, the cell state and the fed-back hidden state are states, o an output."""
    m = load_model(EQUIVALENT["lstm_goodfellow"][1])
    roles = {n: m.role(n) for n in m.variables}
    assert roles == {"f": "hidden", "g": "hidden", "q": "hidden", "s": "state", "h": "state", "o": "output"}


def test_evaluation_order_follows_same_step_reads():
    """Equations are ordered so that what is read at time t is computed first."""
    m = load_model("y[t] = W h[t]\nh[t] = tanh(U x[t] + V h[t-1])")
    assert m.variables == ["h", "y"]


def test_time_shift_of_the_left_side():
    """`h[t+1] = f(h[t])` is the same model as `h[t] = f(h[t-1])`."""
    a = load_model("h[t+1] = tanh(W h[t] + U x[t+1])")
    b = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    assert a.equations == b.equations


def test_delay_of_two():
    """A read at t-2 is a delay of 2."""
    m = load_model("h[t] = W h[t-2] + x[t]")
    assert m.delays("h") == (2,) and m.max_delay("h") == 2


def test_future_input_is_allowed():
    """An input may be read ahead (x[t+1])."""
    m = load_model("h[t] = W h[t-1] + U x[t+1]")
    assert E.Var("x", -1) in list(E.walk(m.equations[0].expr))


def test_gate_without_time_index_is_at_t():
    """Exercise 5 writes `g_1 = \\sigma(...)` without a time index: it is computed at t."""
    m = load_model(EQUIVALENT["exercise5"][1])
    assert m.variables[:3] == ["g_1", "g_2", "g_3"] and m.role("g_1") == "hidden"


def test_name_before_parenthesis_is_a_product_when_it_is_a_parameter():
    """`U_h (r_t \\odot h_{t-1})` multiplies; `tanh(...)` calls."""
    m = load_model(r"h_t = \tanh(U_h (r_t \odot h_{t-1}))" + "\nr[t] = sigmoid(x[t])")
    e = m.equation("h").expr
    assert isinstance(e, E.Call) and e.func == "tanh"
    assert isinstance(e.arg, E.Prod) and e.arg.left == E.Param("U_h")


@pytest.mark.parametrize("spelling", ["f", r"\phi", "g", "φ", r"\sigma_h"])
def test_generic_activation(spelling):
    """A Greek or one-letter lowercase name before a parenthesis is a generic activation."""
    m = load_model(f"h[t] = {spelling}(W h[t-1] + U x[t])")
    call = m.equations[0].expr
    assert isinstance(call, E.Call) and call.generic
    assert m.symbols[call.func].kind == "function"


def test_generic_activation_takes_a_meaning_from_a_value():
    """`\\phi = relu` binds the generic activation."""
    m = load_model("h[t] = \\phi(W h[t-1])\n\\phi = relu")
    assert m.function_binding("phi") == "relu"


@pytest.mark.parametrize(
    "text,expected",
    [("V = -3, W = 3, h_0 = 0, x_1 = 2", [("V", None, -3.0), ("W", None, 3.0), ("h", 0, 0.0), ("x", 1, 2.0)]),
     ("h[0] = 1\nh^{(0)} = 2\nx_3 = 4", [("h", 0, 1.0), ("h", 0, 2.0), ("x", 3, 4.0)]),
     ("x = [0.7, 0.5, 0.7]", [("x", None, [0.7, 0.5, 0.7])]),
     ("V = [[0.1, 0.2], [0.3, 0.4]]", [("V", None, [[0.1, 0.2], [0.3, 0.4]])]),
     ("W = \\frac{3}{2}", [("W", None, 1.5)])],
)
def test_values(text, expected):
    """Value lines name a parameter, an initial state or an input step."""
    m = load_model("h[t] = relu(V h[t-1] + W x[t])\n" + text)
    assert [(v.name, v.time, v.value) for v in m.values if v.kind == "value"] == expected


def test_sizes_and_relu_derivative():
    """`dim`, `in R^n` and `relu'(0)` lines are values of their own kinds."""
    m = load_model("h[t] = relu(V h[t-1] + W x[t])\ndim x = 3, h = 5\nV \\in \\mathbb{R}^{5 \\times 5}\nrelu'(0) = 1")
    sizes = {v.name: v.value for v in m.values if v.kind == "size"}
    assert sizes == {"x": (3,), "h": (5,), "V": (5, 5)}
    assert m.relu_prime0 == 1.0
    assert load_model("h[t] = relu(x[t])").relu_prime0 == 0.0


def test_values_from_a_second_source_come_later():
    """Values from a second file or --set are appended, so they win."""
    from rnnviz.language import parse_assignment

    m = load_model("h[t] = relu(V h[t-1] + W x[t])\nV = 1").with_values(parse_assignment("V=2"))
    assert [v.value for v in m.values if v.name == "V"] == [1.0, 2.0]


@pytest.mark.parametrize(
    "text,line,column,words",
    [("h[t] = tahn(W h[t-1])", 1, 8, "did you mean tanh"),
     ("h[t] = softplus(x[t])", 1, 8, "unknown function 'softplus'"),
     ("y = W x", 1, 1, "no time index on its left side"),
     ("h[t] = W x[t]\ny = W q", 2, 1, "no time index on its left side"),
     ("h[t] = tanh(W h[t-1])\nh[t] = W x[t]", 2, 1, "computed twice"),
     ("a[t] = b[t] + x[t]\nb[t] = a[t]", 1, 1, "algebraic loop: a[t] needs b[t] needs a[t]"),
     ("h[t] = W h[t-1] + g[t+1]\ng[t] = tanh(h[t-1] + x[t])", 1, 19, "no order in time computes h -> g -> h"),
     ("y[t] = V h[t+1]\nh[t] = tanh(W h[t-1])", 1, 10, "h is not a backward chain"),
     ("g[t] = tanh(W g[t+1])\ny[t] = V g[t-1]", 2, 10, "'g' runs backward"),
     ("g[t] = tanh(W g[t+1] + x[t])\ng[0] = 1", 2, 1, "only its value after the last step"),
     ("h[t] = W h[3]", 1, 10, "fixed step"),
     ("h[t] = W h[t-1] + x[t] + x", 1, 26, "without one"),
     ("h[t] = W h[t-1]\nq = 3", 2, 1, "never use"),
     ("h[t] = W h[t-1]\nh = 3", 2, 1, "initial value"),
     ("h[t] = W h[t-1]\nW[1] = 3", 2, 1, "parameter"),
     ("h[t] = t h[t-1]", 1, 8, "time step"),
     ("h[t] = f(x[t])\nf = 3", 2, 5, "give it a function"),
     ("h[t] = W h[t-1]\nh[2] = W", 2, 8, "fixed step"),
     ("x = [1, 2]", 1, 1, "no equations"),
     ("h[t] = tanh(W h[t-1])\nrelu'(0) = 1", 2, 1, "no equation applies relu"),
     ("h[t] = relu(W h[t-1])\nrelu'(0) = [1]", 2, 12, "one number"),
     ("h[t] = tanh(Wx[t] + Uh[t-1])", 1, 21, "did you mean U h"),
     ],
)
def test_model_errors(text, line, column, words):
    """Each check of LANGUAGE.md reports file, line, column and plain words."""
    with pytest.raises(RnnvizError) as info:
        load_model(text, "m.rnn")
    err = info.value
    assert isinstance(err, (ModelError, ValueSpecError))
    assert (err.span.line, err.span.column) == (line, column), err.format()
    assert words in err.message
    assert err.format().startswith(f"m.rnn:{line}:{column}:")
    assert "^" in err.format()


def test_error_in_second_values_source_points_there():
    """An error in a --set value names that source, not the equation file."""
    from rnnviz.language import parse_assignment

    m = load_model("h[t] = W h[t-1]")
    with pytest.raises(ValueSpecError) as info:
        m.with_values(parse_assignment("Q=1", "--set #1"))
    assert info.value.span.file == "--set #1"
    assert "Q = 1" in info.value.format()
