"""``rnnviz grad FILE --of TARGET``: derivatives by backpropagation through time.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "relu.rnn")
    >>> _ = open(p, "w").write("h_t = ReLU(V h_{t-1} + W x_t)\\n"
    ...                        "V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1\\n")
    >>> main(["grad", p, "--of", "h[3]", "--wrt", "V", "W", "--json"])
    {"of": "h[3]", "grad": {"V": 0.0, "W": 1.0}}
    0
"""

from __future__ import annotations

import argparse

from ._common import (
    add_model_arguments,
    add_strict_argument,
    announce_drawn,
    digits,
    load_model_from_args,
    seed,
    steps,
)

HELP = "derivatives of h[3], y[2][0] or sum(h) by backpropagation through time"
DESCRIPTION = """\
Run the forward pass, then backpropagate through time from a scalar target
to every parameter, every input at every step and every initial state.

A target is a computed variable at a step: h[3] (also h_3, h^{(3)}), one
component h[3][0] (counted from 0), or sum(h) over every step. A vector
target without a component is summed over its entries.

  rnnviz grad loss.rnn                # the total loss, L = \\sum_t L^{(t)}
  rnnviz grad relu.rnn --of 'h[3]'
  rnnviz grad relu.rnn --of 'h[3]' --wrt V W --set "relu'(0)=1"
  rnnviz grad vanilla.rnn --of 'sum(y)' --wrt W_hh 'x[1]' --json

An encoder-decoder's target is at a step of its phase (o[3]: step 3 of the
decoder); backpropagation runs through the decoder, the context and the encoder.

The derivative of ReLU at exactly 0 is 0 (as in PyTorch) unless the file
says relu'(0) = 1 (or --set "relu'(0)=1").
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --of, --wrt, --json, --steps, --seed, --precision, --values, --set."""
    add_model_arguments(parser)
    parser.add_argument("--of", default=None, metavar="TARGET",
                        help="what to differentiate: h[3], h_3, h[3][0] (one component) or sum(h); "
                             "by default the total loss when the equations have one (L = \\sum_t L^{(t)})")
    parser.add_argument("--wrt", nargs="+", metavar="NAME", default=None,
                        help="parameters (W), inputs at a step (x[1]; x alone for every step) and initial "
                             "states (h[0]); default: all of them")
    parser.add_argument("--json", action="store_true",
                        help='print {"of": TARGET, "grad": {NAME: value}}: canonical names, scalars as '
                             "numbers, arrays as nested lists in the shape of what they differentiate")
    parser.add_argument("--steps", type=steps, default=None, metavar="T",
                        help="number of steps (default: the length of the input sequence, else 5)")
    parser.add_argument("--seed", type=seed, default=0, help="seed for values not given (default 0)")
    add_strict_argument(parser)
    parser.add_argument("--precision", type=digits, default=None, metavar="N",
                        help="digits after the point (default: 6 in text, all in JSON)")


def _format(value, precision: int) -> str:
    import numpy as np

    a = np.asarray(value, dtype=float) + 0.0  # no -0
    if a.ndim == 0:
        return f"{float(a):.{precision}g}" if precision > 0 else str(float(a))
    if precision > 0:  # rounded first, so a tiny negative prints as 0, not -0.
        a = np.round(a, precision) + 0.0
    return np.array2string(a, precision=precision, suppress_small=True, separator=", ",
                           floatmode="maxprec", max_line_width=100)


def _warn_softmax_sum(model, trace, tgt) -> None:
    """A summed softmax is 1 whatever the weights: say why every derivative is 0."""
    import sys

    from ..language import expr as E

    expr = model.equation(tgt.name).expr
    shape = trace.shapes.of(tgt.name)
    if tgt.component is None and isinstance(expr, E.Call) and expr.func == "softmax" and shape and shape[0] > 1:
        print(f"note: {tgt.name} is a softmax, whose entries sum to 1, so the derivatives of their sum are 0; "
              f"pick one entry, as in {tgt.name}[{tgt.step or 1}][0]", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Print the gradients as an aligned list, or JSON."""
    from ..numeric.forward_pass import forward
    from ..numeric.grad import gradients, select
    from ..numeric.target import parse_target

    model = load_model_from_args(args)
    if args.of is None:
        if not model.totals:
            from ..errors import UsageError

            raise UsageError("grad needs --of TARGET, such as --of 'h[3]' (without it, the total loss "
                             "L = \\sum_t L^{(t)} of equations that have one)")
        args.of = model.totals[0][0]
    tgt = parse_target(args.of, model)  # a bad target fails before anything is computed
    trace = forward(model, steps=args.steps, seed=args.seed)
    announce_drawn(model, trace, args)
    _warn_softmax_sum(model, trace, tgt)
    grads = gradients(model, trace, args.of)
    names = select(model, grads, args.wrt) if args.wrt else list(grads.named())
    if args.json:
        print(grads.to_json(names, precision=args.precision))
        return 0
    named = grads.named()
    precision = 6 if args.precision is None else args.precision
    width = max(len(n) for n in names) if names else 0
    r0 = model.relu_prime0
    uses_relu = any(p.op is not None and p.op.name == "relu" for plan in trace.plan.values() for p in plan)
    note = f"; relu'(0) = {r0:g}" if uses_relu else ""
    if grads.decoder_steps:  # an encoder-decoder
        n = grads.decoder_steps
        print(f"d {grads.target} / d ...  (T = {trace.steps} encoder step{'s' if trace.steps != 1 else ''}, "
              f"T' = {n} decoder step{'s' if n != 1 else ''}{note})")
    else:
        print(f"d {grads.target} / d ...  ({trace.steps} step{'s' if trace.steps != 1 else ''}{note})")
    for n in names:
        text = _format(named[n], precision).replace("\n", "\n" + " " * (width + 5))
        print(f"  {n.ljust(width)} = {text}")
    return 0
