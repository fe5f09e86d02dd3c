"""``rnnviz check SHEET``: check a solution sheet's answers against its own equations and values.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> here = os.getcwd(); os.chdir(tempfile.mkdtemp())
    >>> _ = open("sheet.txt", "w").write("h_t = ReLU(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]\\n"
    ...                        "h_1 = 6\\nh_2 = 0\\nh_3 = 3\\nparameters = 2\\n")
    >>> main(["check", "sheet.txt"])
    sheet.txt:3: ok      h_1 = 6
    sheet.txt:4: ok      h_2 = 0
    sheet.txt:5: ok      h_3 = 3
    sheet.txt:6: ok      parameters = 2
    4 of 4 answers right
    0
    >>> os.chdir(here)
"""

from __future__ import annotations

import argparse
import json

HELP = "check a solution sheet: each answer right or wrong, and where a wrong chain went astray"
DESCRIPTION = """\
Read a solution sheet: the equations, the given values and answer lines
such as

  h_2 = 3/2                  a variable at a step (h[2], h^{(2)};
                             [1, 2] for a vector)
  dh_3/dV = 2/3              a derivative (also \\frac{\\partial h_3}{\\partial V})
  g_1 = output gate          a gate's role (forget, input/update, output, reset)
  cell state = c
  parameters = 45
  c = h_2 = -0.550573        an encoder-decoder's context (and s_0, its start)

and check every answer against the model the sheet's own equations and values
make. A wrong answer is given with the right value, and a wrong chain with the
first step where it went astray and the answers built on it:

  h_2 should be 3/2; dh_3/dV = 2/3 builds on it

Where every variable is a number, a wrong answer that a known slip explains
is named: a derivative over time as its last step's term alone, a Jacobian's
direct path alone (dc_t/dc_{t-1} = f_t), the other ReLU'(0), an activation's
derivative left out, a weight's gradient one step off, one parameter for
another (right with b_hh in place of b_xh). Where they are vectors, the first
wrong vector is followed the same way, and a weight used transposed
(W^T h_{t-1} for W h_{t-1}) or a gradient in the other orientation (dL/dW
transposed) is named.

A decimal passes when it is the right value rounded to the places written
(0.667 for 2/3). Exit status 1 when any answer is wrong, so that a course
repository can check its sheets in CI; the answer keys rnnviz exercise writes
pass.

  rnnviz check exam-solutions.txt
  rnnviz check sheet.key.txt --json
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """SHEET and --json."""
    parser.add_argument("file", metavar="SHEET", help="the solution sheet (equations, values, answer lines); "
                                                      "- reads standard input")
    parser.add_argument("--json", action="store_true",
                        help='print {"ok": bool, "answers": [{"line", "answer", "right", "expected", "note"}], '
                             '"astray": ..., "builds_on_it": [...]}')


def run(args: argparse.Namespace) -> int:
    """Print the verdicts; 1 when any answer is wrong."""
    from ..teaching.check import check_file

    report = check_file(args.file)
    if args.json:
        print(json.dumps({
            "ok": report.ok,
            "answers": [{"line": v.answer.line, "answer": v.answer.text.strip(), "right": v.right,
                         "expected": report.expected_text(v), "note": v.note} for v in report.verdicts],
            "astray": None if report.astray is None else report.summary(),
            "builds_on_it": [v.answer.text.strip() for v in report.carried],
        }))
    else:
        print(report.describe())
    return 0 if report.ok else 1
