"""The slips of real solution sheets (tests/teaching/real_errors/, sources in its SOURCES.md): check finds each
answer that is wrong, gives the right value, the first step where the chain went astray, and names the slip."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnviz.cli import main
from rnnviz.teaching.check import check_file

HERE = Path(__file__).parent / "real_errors"

#: file -> (the answers that are wrong, the summary check gives)
EXPECTED = {
    "bias_mixed_up.txt": (["a_1", "h_1", "a_2", "h_2"],
                          "a_1 should be 0.4 (right with b_hh in place of b_xh); h_1 = 0.099668 builds on it"),
    "last_term_only.txt": (["dh_3/dW_hh", "do_3/dW_hh"],
                           "dh_3/dW_hh should be 3 (the last step's term alone (d+h_3/dW_hh): the paths through "
                           "the earlier steps are missing)"),
    "lstm_direct_path_only.txt": (["dc_2/dc_1"],
                                  "dc_2/dc_1 should be 0.675854 (the direct path alone (d+c_2/dc_1, the other "
                                  "values of step 2 held): the paths through them are missing)"),
    "activation_derivative_left_out.txt": (["dL/dU"],
                                           "dL/dU should be 0.339866 (right with tanh' left out of the chain "
                                           "(taken as 1))"),
    "relu_prime_at_zero.txt": (["dh_3/dV"],
                               "dh_3/dV should be 0 (right for ReLU'(0) = 1; the sheet states ReLU'(0) = 0)"),
    "weight_gradient_one_step_off.txt": (["dL/dW_h"],
                                         "dL/dW_h should be -0.361483 (right if the derivative by W_h read each "
                                         "state at its own step (h_t where h_(t-1) belongs: one step off))"),
}


def test_every_sheet_has_its_source_and_expectation():
    files = sorted(p.name for p in HERE.glob("*.txt"))
    assert files == sorted(EXPECTED)
    sources = (HERE / "SOURCES.md").read_text()
    for name in files:
        row = next(line for line in sources.splitlines() if line.startswith(f"| `{name}`"))
        assert "https://" in row, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_catches_the_slip_and_where_it_went_astray(name, capsys):
    wrong, summary = EXPECTED[name]
    report = check_file(str(HERE / name))
    assert [v.answer.lhs for v in report.verdicts if not v.right] == wrong
    assert report.summary() == summary
    assert main(["check", str(HERE / name)]) == 1
    assert summary in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_sheet_with_the_slip_mended_passes(name, tmp_path):
    """With each wrong answer replaced by the right value, check passes: the slip is the only error."""
    report = check_file(str(HERE / name))
    text = (HERE / name).read_text()
    lines = text.splitlines()
    for v in report.verdicts:
        if not v.right:
            lines[v.answer.line - 1] = f"{v.answer.lhs} = {report.expected_text(v)}"
    mended = tmp_path / name
    mended.write_text("\n".join(lines) + "\n")
    assert check_file(str(mended)).ok


def test_a_right_answer_is_never_given_a_slip():
    """The notes explain wrong answers only: a right answer that a slip would also give stays ok."""
    report = check_file(str(HERE / "lstm_direct_path_only.txt"))
    assert report.verdicts[0].right and not report.verdicts[0].note
