"""The encoder-decoder as courses write it: which equations are the encoder, the context, the decoder.

And the misuses, each refused at its position: a context the encoder reads, a read across
the phases at a step, an input of both phases, a decoder length that is not a step count.
"""

from __future__ import annotations

import pytest

from rnnviz import load_model
from tests.conftest import assert_error_at

ENCODER = "h_t = \\tanh(W h_{t-1} + U x_t)\n"


@pytest.mark.parametrize("context", ["c = h_T", "c = h[T]", "c = h^{(\\tau)}", "c = h^{(T)}"])
def test_the_context_is_the_encoders_last_step_as_courses_write_it(context):
    m = load_model(ENCODER + context + "\ns_t = \\tanh(A s_{t-1} + B y_{t-1} + C c)\n")
    ph = m.phases
    assert ph.contexts == ("c",)
    assert ph.encoder.variables == ["h", "c"] and ph.encoder.once == ["c"]
    assert ph.decoder.variables == ["s"] and ph.decoder.inputs == ["y", "c"]
    assert [s.phase for s in m.sweeps] == ["", "", "decoder"]


def test_a_computed_context_and_a_start_from_it():
    """Goodfellow et al.'s C = tanh(V h_T) and a decoder that starts from it, s_0 = tanh(D C)."""
    m = load_model(ENCODER + "C = \\tanh(V h_T)\ns_0 = \\tanh(D C)\n"
                   "s_t = \\tanh(A s_{t-1} + B y_{t-1} + R C)\no_t = E s_t\n")
    assert m.phases.contexts == ("C",) and m.phases.starts == (("s", "s_0"),)
    assert m.phases.encoder.once == ["C", "s_0"]
    assert m.phases.decoder.variables == ["s", "o"]
    assert m.role("V") == m.role("D") == m.role("R") == "parameter"


@pytest.mark.parametrize("start", ["s_0 = c", "s[0] = c", "s^{(0)} = c"])
def test_a_decoder_that_only_starts_from_the_context(start):
    m = load_model(ENCODER + "c = h_T\n" + start + "\ns_t = \\tanh(A s_{t-1} + B o_{t-1})\no_t = E s_t\n")
    assert m.phases.contexts == () and m.phases.starts == (("s", "s_0"),)
    assert m.phases.decoder.recurrent == ["s", "o"]


def test_one_phase_models_are_left_alone():
    """A single output at the end (Fig. 10.5) reads the last step but has no decoder."""
    m = load_model(ENCODER + "o = V h_T + b\np = W o\n")
    assert m.phases is None and m.once == ["o", "p"]


def test_the_decoders_length_on_a_line_of_its_own():
    m = load_model(ENCODER + "c = h_T\ns_t = \\tanh(A s_{t-1} + B o_{t-1} + C c)\no_t = E s_t\nT' = 4\n")
    assert m.phases.length == 4
    assert load_model(ENCODER + "c = h_T\ns_t = \\tanh(A s_{t-1} + C c)\nn_y = 2\n").phases.length == 2


def test_an_encoder_that_reads_its_own_context():
    assert_error_at(ENCODER.replace("U x_t)", "U x_t + c)") + "c = h_T\ns_t = \\tanh(A s_{t-1} + C c)\n",
                    1, 33, "'c' is computed once, at the last step, so an equation at every step cannot read it: c needs h (c reads h_T)")


def test_an_encoder_that_reads_the_decoder():
    err = assert_error_at("h_t = \\tanh(W h_{t-1} + U x_t + G s_{t-1})\nc = h_T\ns_t = \\tanh(A s_{t-1} + C c)\n",
                          3, 27, "c needs s (c reads h_T, h reads s[t-1]), and s would need c before it")
    assert "^" in err.format()


def test_a_decoder_that_reads_an_encoder_variable_at_a_step():
    assert_error_at(ENCODER + "c = h_T\ns_t = \\tanh(A s_{t-1} + C c + F h_t)\n", 3, 33,
                    "the decoder reads 'h' at a step (h[t]), but h belongs to the encoder")


def test_an_input_read_by_both_phases():
    assert_error_at(ENCODER + "c = h_T\ns_t = \\tanh(A s_{t-1} + C c + x_{t-1})\n", 3, 31,
                    "'x' is read by both the encoder and the decoder")


@pytest.mark.parametrize("value", ["0", "2.5", "-1"])
def test_a_decoder_length_that_is_no_count_of_steps(value):
    assert_error_at(ENCODER + f"c = h_T\ns_t = \\tanh(A s_{{t-1}} + C c)\nT' = {value}\n", 4, 6,
                    "T' is the decoder's length")


def test_a_context_read_at_a_step():
    err = assert_error_at(ENCODER + "c = h_T\ns_t = \\tanh(A s_{t-1} + C c_t)\n", 3, 27,
                          "'c' is computed once, at the last step")
    assert "write c, as in" in err.format()


@pytest.mark.parametrize("line", ["T' = 3", "n_y = 3"])
def test_a_decoder_length_without_a_decoder(line):
    assert_error_at(ENCODER + line + "\n", 2, 1, "length of an encoder-decoder's output sequence, but these "
                                               "equations have no decoder")
