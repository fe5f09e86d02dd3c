"""``rnnviz gates FILE``: name the gates of a cell and its cell state.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "gru.rnn")
    >>> _ = open(p, "w").write("z[t] = sigmoid(W x[t] + U h[t-1])\\n"
    ...                        "h[t] = (1 - z[t]) * h[t-1] + z[t] * tanh(V x[t])\\n")
    >>> main(["gates", p, "--json"])
    {"gates": {"z": "update"}, "cell_state": null}
    0
"""

from __future__ import annotations

import argparse
import json

from ._common import add_model_arguments, load_model_from_args

HELP = "name the gates (forget, input, output, update, reset) and the cell state"
DESCRIPTION = """\
Find the gates of an LSTM, GRU or any gated cell from the structure of its
equations, whatever the gates are called: a sigmoid variable that multiplies
element-wise is a gate; what it multiplies gives its role. Answers questions
such as "assign g1, g2, g3 to the forget, input and output gates".

  rnnviz gates lstm.rnn
  rnnviz gates exam.rnn --json
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE and ``--json``."""
    add_model_arguments(parser, values=False)
    parser.add_argument("--json", action="store_true",
                        help='print {"gates": {name: role}, "cell_state": name or null} (canonical names)')


def run(args: argparse.Namespace) -> int:
    """Print the gate roles, as text (with the reason for each) or JSON."""
    from ..language.gates import analyze

    report = analyze(load_model_from_args(args))
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(report.describe())
    return 0
