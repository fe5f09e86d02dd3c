"""Abstract transitions, h_t = f(x_t, h_{t-1}, w_h), as nearly every lecture opens: drawn, printed, no numbers."""

from __future__ import annotations

import pytest

import rnnviz
from rnnviz.cli import main
from rnnviz.diagrams.graph import folded
from rnnviz.errors import RnnvizError
from rnnviz.language import expr as E

D2L = r"$$\begin{aligned}h_t &= f(x_t, h_{t-1}, w_\textrm{h}),\\o_t &= g(h_t, w_\textrm{o}),\end{aligned}$$"
BOOK = r"h^{(t)} = f(h^{(t-1)}, x^{(t)}; \theta)"


def test_the_arguments_are_read():
    m = rnnviz.load_model(D2L)
    assert m.variables == ["h", "o"] and m.inputs == ["x"] and m.parameters == ["w_h", "w_o"]
    assert m.functions == ["f", "g"] and m.delays("h") == (1,)
    assert [E.to_text(e.expr) for e in m.equations] == ["f(x[t], h[t-1], w_h)", "g(h[t], w_o)"]


def test_what_follows_the_semicolon_is_kept_apart():
    m = rnnviz.load_model(BOOK)
    assert E.to_text(m.equation("h").expr) == "f(h[t-1], x[t]; theta)"
    assert m.parameters == ["theta"]


def test_an_edge_from_every_variable_argument_labelled_by_the_parameters():
    edges = {(e.source, e.target, e.delay): e.param for e in folded(rnnviz.load_model(D2L)).edges}
    assert edges == {("x", "h", 0): "w_h", ("h", "h", 1): "w_h", ("h", "o", 0): "w_o"}


def test_formula_writes_it_out(capsys, tmp_path):
    path = tmp_path / "abs.rnn"
    path.write_text(D2L)
    assert main(["formula", str(path), "--of", "o[2]"]) == 0
    assert capsys.readouterr().out.strip() == "o_2 = g(f(x_2, f(x_1, h_0, w_h), w_h), w_o)"


@pytest.mark.parametrize("command", [["run"], ["grad", "--of", "o[2]"]])
def test_run_and_grad_say_there_are_no_numbers_and_how_to_give_them(capsys, tmp_path, command):
    path = tmp_path / "abs.rnn"
    path.write_text(D2L)
    assert main([command[0], str(path), *command[1:]]) == 1
    err = capsys.readouterr().err
    assert "abs.rnn:1:25: 'f(x[t], h[t-1], w_h)' is an abstract transition: f of 3 arguments has no numeric " \
           "meaning" in err
    assert "write the transition out" in err


def test_the_same_with_one_argument_and_a_semicolon():
    m = rnnviz.load_model("h_t = f(h_{t-1}; W)\n")
    assert m.parameters == ["W"] and E.to_text(m.equation("h").expr) == "f(h[t-1]; W)"


REFUSED = {
    "max of two arguments": (r"h_t = \max(0, W h_{t-1} + x_t)", (1, 13), "relu(a)"),
    "tanh of two arguments": ("h_t = tanh(x_t, h_{t-1})", (1, 15), "takes one argument"),
    "a word that names no cell, as a function": (r"h_t = \text{score}(x_t, h_{t-1})", (1, 7),
                                                 "write the cell's equations"),
    "a computed variable with several arguments": ("h_t = g_t(x_t, h_{t-1})\ng_t = sigmoid(x_t)", (1, 7),
                                                   "symbol of the model"),
}


@pytest.mark.parametrize("text, where, words", REFUSED.values(), ids=list(REFUSED))
def test_what_is_not_an_abstract_transition_is_refused(text, where, words):
    with pytest.raises(RnnvizError) as info:
        rnnviz.load_model(text)
    assert (info.value.span.line, info.value.span.column) == where, info.value.format()
    assert words in info.value.format()


def test_parameters_are_counted_where_sizes_allow():
    """The transition's own weights count once a size is given; the output layer's as usual."""
    from rnnviz.numeric import parameter_count

    m = rnnviz.load_model("h_t = f(x_t, h_{t-1}; \\theta)\ny_t = V h_t + c\ndim x = 3, h = 4, y = 2, theta = 10\n")
    assert parameter_count(m) == 10 + 2 * 4 + 2


def test_every_view_draws_it(tmp_path):
    from rnnviz.diagrams.diagram import draw

    m = rnnviz.load_model(BOOK + "\ny^{(t)} = V h^{(t)}\ndim x = 3, h = 4, y = 2, theta = 5")
    for view in ("folded", "unrolled", "cell", "cell-unrolled"):
        assert "theta" in draw(m, view, 3).dot() or "θ" in draw(m, view, 3).dot()


def test_a_cell_called_as_a_function_is_an_abstract_transition():
    """CoVe (Lilian Weng's notes): h_t = [fwd; bwd], each an LSTM(x_t, h_{t-1}) of its own direction."""
    m = rnnviz.load_model(r"h_t = \text{LSTM}(x_t, h_{t-1})", "m.rnn")
    assert m.parameters == [] and m.inputs == ["x"] and m.recurrent == ["h"]
    assert any("'LSTM(...)' is read as an abstract transition, a whole LSTM cell" in n for n in m.notes)
    with pytest.raises(RnnvizError, match="no numeric meaning"):
        from rnnviz.numeric.forward_pass import forward
        forward(m)


def test_a_backward_arrow_reading_its_previous_step_runs_backward():
    text = (r"h_t = [\overrightarrow{h}_t; \overleftarrow{h}_t]" "\n"
            r"\overrightarrow{h}_t = \tanh(W x_t + U \overrightarrow{h}_{t-1})" "\n"
            r"\overleftarrow{h}_t = \tanh(W' x_t + U' \overleftarrow{h}_{t-1})")
    m = rnnviz.load_model(text, "m.rnn")
    ahead = rnnviz.load_model(text.replace(r"\overleftarrow{h}_{t-1}", r"\overleftarrow{h}_{t+1}"))
    assert m.equations == ahead.equations and m.backward == ["h_bwd"]
    assert any("m.rnn:3:41: 'h_bwd[t-1]' is the backward direction's previous step" in n for n in m.notes), m.notes


def test_a_line_that_lists_the_whole_sequence_is_not_read():
    m = rnnviz.load_model(r"h = [h_1, \dots, h_n] = \text{biLSTM}(x)" "\n" r"h_t = \tanh(W h_{t-1} + x_t)", "m.rnn")
    assert m.variables == ["h"] and any("lists the whole sequence of h" in n for n in m.notes)
