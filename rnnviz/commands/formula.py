"""``rnnviz formula FILE --of TARGET``: the target written out, or its derivative expanded.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "rnn.rnn")
    >>> _ = open(p, "w").write("h[t] = tanh(W h[t-1] + U x[t])\\n")
    >>> main(["formula", p, "--of", "h[2]"])
    h_2 = tanh(W tanh(W h_0 + U x_1) + U x_2)
    0
"""

from __future__ import annotations

import argparse

from ._common import add_model_arguments, load_model_from_args, steps

HELP = "write h[3] out in the inputs, initial state and parameters, or expand dh_3/dW over time"
DESCRIPTION = """\
Substitute the equations into a target step by step, intermediate variables
of a cell included, until only inputs, initial states and parameters remain:

  rnnviz formula rnn.rnn --of 'h[3]'
      h_3 = tanh(W tanh(W tanh(W h_0 + U x_1) + U x_2) + U x_3)
  rnnviz formula rnn.rnn --of 'h[3]' --latex

With --grad PARAM, print the textbook expansion of the derivative as a sum
over time of products of Jacobians, with each Jacobian spelled out from the
equations (through the gates of a gated cell):

  rnnviz formula rnn.rnn --of 'h[3]' --grad W
  rnnviz formula rnn.rnn --of 'h[3]' --grad 'h[0]'   # the product that vanishes

Gated cells grow fast when unrolled; --depth 0 substitutes only within the
last step and keeps the previous states (h_2, c_2) as names.
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --of, --latex, --grad, --depth."""
    add_model_arguments(parser, values=False)
    parser.add_argument("--of", required=True, metavar="TARGET",
                        help="a computed variable at a step: h[3], h_3, y^{(2)}")
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    parser.add_argument("--grad", metavar="WRT", default=None,
                        help="expand the derivative of the target over time with respect to a parameter (W), "
                             "the initial state (h[0]) or an input at a step (x[2])")
    parser.add_argument("--depth", type=int, default=None, metavar="K",
                        help="substitute only the last K+1 steps; earlier states stay as names")
    parser.add_argument("--steps", type=steps, default=None, metavar="T",
                        help="T, for a model with a backward chain (it starts at T+1), a value computed "
                             "once at T, or an encoder-decoder's encoder (its steps); by default the "
                             "length of the input sequence given in the file")


def run(args: argparse.Namespace) -> int:
    """Print the unrolled formula or the expanded derivative."""
    from ..errors import UsageError
    from ..formulas.gradient import gradient_formula
    from ..formulas.unrolled import FormulaTooLarge, unrolled_formula

    model = load_model_from_args(args)
    if args.depth is not None and args.depth < 0:
        raise UsageError(f"--depth takes a number of steps >= 0, not {args.depth}")
    if args.grad is not None:
        if args.depth is not None:
            raise UsageError("--depth applies to the unrolled formula, not to --grad")
        print(gradient_formula(model, args.of, args.grad, latex=args.latex, steps=args.steps))
    else:
        try:
            text = unrolled_formula(model, args.of, latex=args.latex, depth=args.depth,
                                    steps=_steps(model, args.steps))
        except FormulaTooLarge as err:  # --of asks for too much without --depth: a usage error
            raise UsageError(f"--of {args.of}: {err.message}",
                             hint="--depth K substitutes only the last K+1 steps and keeps earlier states "
                                  "as names") from None
        print(text)
        if len(text) > 2000 and args.depth is None:
            import sys

            print(f"({len(text)} characters; --depth 0 keeps the previous states as names)", file=sys.stderr)
    return 0


def _steps(model, given: int | None) -> int | None:
    """T for a model with a backward chain: --steps, else what the file's input sequences say."""
    from ..errors import UsageError
    from ..formulas.unrolled import _steps_given

    if given is not None or not (model.backward or model.once):
        return given
    found = _steps_given(model)
    if found is None and not model.backward:
        return None  # unrolled_formula says what is missing
    if found is None:
        raise UsageError(f"{', '.join(model.backward)} runs backward from step T+1, so the formula needs T",
                         hint="give the input sequence in the file (x = [...]) or --steps T")
    return found
