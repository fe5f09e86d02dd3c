"""``rnnviz params FILE``: every parameter's shape and count, and the total.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "rnn.rnn")
    >>> _ = open(p, "w").write("h_t = tanh(V h_{t-1} + W x_t + b)\\nx_t in R^3, h_t in R^5\\n")
    >>> main(["params", p])
    name   shape  count
    V      5x5       25
    W      5x3       15
    b      5          5
    total            45
    0
    >>> main(["params", p, "--json"])
    {"total": 45, "parameters": {"V": [5, 5], "W": [5, 3], "b": [5]}}
    0
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from ._common import add_model_arguments, load_model_from_args

HELP = "the number of parameters: each one's shape and count, and the total"
DESCRIPTION = """\
List every parameter (weight matrix, bias, scalar) with its shape, inferred
from the sizes (dim x = 3, h = 5, or x_t in R^3) and the values given, and
the total number of trainable numbers.

  rnnviz params vanilla.rnn
  rnnviz params rnn.rnn --set 'dim h = 64' --json

JSON: {"total": N, "parameters": {NAME: SHAPE}} with canonical names; a
scalar has the shape [].
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run", "params_table"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --json, --values, --set."""
    add_model_arguments(parser)
    parser.add_argument("--json", action="store_true",
                        help='print {"total": N, "parameters": {NAME: SHAPE}} (a scalar has shape [])')


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def params_table(shapes: dict[str, tuple[int, ...]]) -> str:
    """Aligned columns: name, shape, count; then the total."""
    rows = [(n, _shape_text(s), str(math.prod(s))) for n, s in shapes.items()]
    total = str(sum(math.prod(s) for s in shapes.values()))
    w0 = max([len("total"), len("name")] + [len(r[0]) for r in rows])
    w1 = max([len("shape")] + [len(r[1]) for r in rows])
    w2 = max([len("count"), len(total)] + [len(r[2]) for r in rows])
    lines = [f"{'name':<{w0}}  {'shape':<{w1}}  {'count':>{w2}}"]
    lines += [f"{n:<{w0}}  {s:<{w1}}  {c:>{w2}}" for n, s, c in rows]
    lines.append(f"{'total':<{w0}}  {'':<{w1}}  {total:>{w2}}")
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    """Print the parameter table, or JSON."""
    from ..numeric.shapes import has_sizes, parameter_shapes

    model = load_model_from_args(args)
    shapes = parameter_shapes(model)
    if not has_sizes(model):
        print("note: no sizes given, so every symbol counts as a scalar; add sizes such as "
              "'dim x = 3, h = 5' for vectors", file=sys.stderr)
    if args.json:
        total = sum(math.prod(s) for s in shapes.values())
        print(json.dumps({"total": total, "parameters": {n: list(s) for n, s in shapes.items()}}))
    else:
        print(params_table(shapes))
    return 0
