"""d2l.ai's seq2seq notation: the encoder over t, the decoder over t', and the context c = q(h_1, ..., h_T)
read by the choice of q the text writes. Every misplaced time or missing choice is a positioned error."""

from __future__ import annotations

import pytest

from rnnviz.errors import RnnvizError
from rnnviz.language import load_model

ENCODER = "h_t = \\tanh(W h_{t-1} + U x_t)\n"
DECODER = "s_{t'} = \\tanh(A s_{t'-1} + B y_{t'-1} + C c)\no_{t'} = E s_{t'}\n"


def error(text: str) -> RnnvizError:
    with pytest.raises(RnnvizError) as info:
        load_model(text, "m.rnn")
    return info.value


def test_encoder_at_t_and_decoder_at_t_prime():
    model = load_model(ENCODER + "c = h_T\n" + DECODER, "m.rnn")
    assert model.phases.encoder.variables == ["h", "c"] and model.phases.decoder.variables == ["s", "o"]
    assert any(n.startswith("m.rnn:3:1: t is the encoder's time") for n in model.notes), model.notes


def test_same_numbers_as_the_decoder_written_at_t():
    from rnnviz.numeric.forward_pass import forward

    values = "W = 0.5, U = 1, x = [1, -1]\nA = 0.5, B = 1, C = 1, E = 2\ny_0 = 0, y_1 = 1, y_2 = 0\n"
    primed = forward(load_model(ENCODER + "c = h_T\n" + DECODER + values))
    plain = forward(load_model(ENCODER + "c = h_T\n" + DECODER.replace("t'", "t") + values))
    assert primed.decoder_steps == plain.decoder_steps == 3
    assert [float(primed.value("o", t)) for t in (1, 2, 3)] == [float(plain.value("o", t)) for t in (1, 2, 3)]


def test_a_t_in_the_decoder_is_refused_at_its_place():
    err = error(ENCODER + "c = h_T\ns_{t'} = \\tanh(A s_{t'-1} + B y_{t-1} + C c)\n")
    assert (err.span.line, err.span.column) == (3, 31)
    assert "'s' is a decoder equation" in err.format() and "written at t, the encoder's time" in err.format()


def test_a_t_prime_in_the_encoder_is_refused_at_its_place():
    err = error("h_t = \\tanh(W h_{t-1} + U x_{t'})\nc = h_T\n" + DECODER)
    assert (err.span.line, err.span.column) == (1, 27)
    assert "'h' is an encoder equation" in err.format()


def test_two_times_without_a_context():
    err = error("h_t = \\tanh(W h_{t-1} + x_t)\ns_{t'} = \\tanh(A s_{t'-1} + h_{t'})\n")
    assert (err.span.line, err.span.column) == (2, 1)
    assert "two times, t and t'" in err.format() and "no context ties" in err.format()


def test_the_context_of_every_state_by_the_choice_of_q():
    text = ENCODER + "c = q(h_1, \\ldots, h_T)\nq(h_1, \\ldots, h_T) = \\tanh(V h_T)\n" + DECODER
    model = load_model(text, "m.rnn")
    assert model.phases.contexts == ("c",)
    assert any("by the text's choice of q (line 3): c = \\tanh(V h_T)" in n for n in model.notes), model.notes
    assert "V" in model.parameters


def test_the_context_of_every_state_without_a_choice():
    err = error(ENCODER + "c = q(h^{(1)}, \\dots, h^{(\\tau)})\n" + DECODER)
    assert (err.span.line, err.span.column) == (2, 5)
    assert "function q that the text does not choose" in err.format()
    assert "q(h_1, \\ldots, h_T) = h_T" in err.format()


def test_a_choice_of_a_step_in_between_is_refused():
    err = error(ENCODER + "c = q(h_1, \\ldots, h_T)\nq(h_1, \\ldots, h_T) = h_1\n" + DECODER)
    assert err.span.line == 3 and "a step other than the last" in err.format()
