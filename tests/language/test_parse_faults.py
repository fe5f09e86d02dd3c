"""Hostile or broken text: bounded parse time, positioned errors, parsing from several threads."""

from __future__ import annotations

import threading
import time

import pytest

from rnnviz.errors import ParseError, RnnvizError
from rnnviz.language import load_model
from rnnviz.language.parse import parse_text
from rnnviz.limits import MAX_DEPTH, MAX_NESTING

RNN = "h[t] = tanh(W h[t-1] + U x[t])\n"


def _seconds(fn) -> float:
    """The CPU time of this process running fn, the least of three runs: a growth-rate check,
    not a timing, so other processes on a loaded machine must not move it."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


# -- item 3: blank lines are read in linear time ---------------------------------------------------

@pytest.mark.parametrize("blank", ["\n", "  \n", "&\n"])
def test_many_blank_lines_parse_in_linear_time(blank):
    """Four times the blank lines take about four times as long, not sixteen (was 29 s for 40,000)."""
    parse_text(RNN)  # the parser is built on first use; not part of the timing
    small = _seconds(lambda: parse_text(RNN + blank * 5_000 + "y[t] = V h[t]\n"))
    large = _seconds(lambda: parse_text(RNN + blank * 20_000 + "y[t] = V h[t]\n"))
    assert large < 8 * small + 0.5, (small, large)


def test_a_continuation_after_blank_lines_still_joins():
    prog = parse_text("y[t] = V h[t]\n\n\n   + c\n")
    assert len(prog.statements) == 1


# -- item 5: nesting too deep is a positioned error, not lark's VisitError or a RecursionError --------

def test_brackets_nested_too_deeply():
    text = "h[t] = " + "tanh(" * 488 + "x[t]" + ")" * 488 + "\n"
    with pytest.raises(ParseError) as info:
        load_model(text, "deep.rnn")
    assert f"more than {MAX_NESTING} deep" in info.value.message
    assert info.value.span.line == 1 and info.value.span.column > 7


def test_nesting_at_the_limit_still_works():
    load_model("h[t] = " + "tanh(" * (MAX_NESTING - 1) + "x[t]" + ")" * (MAX_NESTING - 1) + "\n")


@pytest.mark.parametrize("terms", [MAX_DEPTH + 50, 1_000, 10_000])
def test_a_chain_too_long(terms):
    text = "h[t] = " + " + ".join(["x[t]"] * terms) + "\n"
    with pytest.raises(ParseError) as info:
        load_model(text, "chain.rnn")
    assert f"more than {MAX_DEPTH} operations deep" in info.value.message
    assert info.value.span is not None and info.value.span.line == 1


# -- item 8: parsing from several threads ------------------------------------------------------------

TEXTS = [
    RNN + "y[t] = V h[t]\n",
    "h_t = \\tanh(W_{hh} h_{t-1}\n      + W_{xh} x_t + b)\n",
    "z[t] = sigmoid(Wz x[t] + Uz h[t-1])\nh[t] = (1 - z[t]) * h[t-1] + z[t] * tanh(W x[t])\n",
    "$$\\begin{aligned}h^{(t)} &= \\tanh(U x^{(t)} + W h^{(t-1)}) \\\\\no^{(t)} &= V h^{(t)}\\end{aligned}$$",
]


def test_parsing_from_eight_threads():
    """1200 parses of valid input on 8 threads: none fails (the parser's state was shared)."""
    expected = [parse_text(t, "a.rnn").statements for t in TEXTS]
    failures: list[BaseException] = []
    wrong: list[int] = []

    def work(k: int) -> None:
        for i in range(150):
            j = (k + i) % len(TEXTS)
            try:
                if parse_text(TEXTS[j], "a.rnn").statements != expected[j]:
                    wrong.append(j)
            except BaseException as err:  # collected, reported below
                failures.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"{len(failures)} of 1200 parses failed: {failures[0]!r}"
    assert not wrong


def test_errors_from_several_threads_keep_their_own_position():
    """A bad input parsed beside good ones still reports its own line and column."""
    results: list[tuple[int, int]] = []

    def bad() -> None:
        for _ in range(100):
            try:
                parse_text("h[t] = tanh(W h[t-1]\n\ny[t] = V h[t]\n", "bad.rnn")
            except RnnvizError as err:
                results.append((err.span.line, err.span.column))

    def good() -> None:
        for _ in range(100):
            parse_text(TEXTS[1], "good.rnn")

    threads = [threading.Thread(target=f) for f in (bad, good, bad, good)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and len(set(results)) == 1


# -- item 3: the queries of a model are linear in its equations -------------------------------------

def _chain(n: int):
    lines = ["h0[t] = tanh(W0 h0[t-1] + U x[t])"] + [
        f"h{k}[t] = tanh(W{k} h{k}[t-1] + h{k - 1}[t])" for k in range(1, n)]
    return load_model("\n".join(lines) + "\n")


def test_delays_of_every_variable_take_linear_time():
    """max_delay and equation of each of n variables scanned all n equations each time."""
    def queries(model):
        return lambda: [(model.max_delay(v), model.equation(v)) for v in model.variables]

    small, large = _chain(300), _chain(1200)
    assert [small.max_delay(v) for v in small.variables] == [1] * 300
    t_small = _seconds(queries(small))
    t_large = _seconds(queries(large))
    assert t_large < 8 * t_small + 0.2, (t_small, t_large)


def test_the_tables_follow_new_equations():
    """Model is a mutable dataclass: a new tuple of equations gets new tables."""
    model = _chain(3)
    assert model.delays("h_2") == (1,)
    other = load_model("h2[t] = tanh(W h2[t-3] + x[t])\n")
    model.equations = other.equations
    assert model.delays("h_2") == (3,) and model.variables == ["h_2"]
