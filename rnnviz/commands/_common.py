"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..model import Model, build_model, parse_assignment
from ..parse import parse_file, parse_text, read_source

__all__ = ["add_model_arguments", "load_model_from_args"]


def add_model_arguments(parser: argparse.ArgumentParser, *, values: bool = True) -> None:
    """``FILE`` plus, when ``values``, ``--values FILE`` and ``--set NAME=VALUE``."""
    parser.add_argument("file", metavar="FILE", help="equation file (plain or LaTeX); - reads standard input")
    if values:
        parser.add_argument("--values", dest="values_file", metavar="VALUES", action="append", default=[],
                            help="a second file of values (parameters, initial states, inputs, sizes); "
                                 "may be repeated, later wins")
        parser.add_argument("--set", dest="assignments", metavar="NAME=VALUE", action="append", default=[],
                            help="one value on the command line, e.g. --set 'W=[[1,0],[0,1]]' or "
                                 "--set \"relu'(0)=1\"; later wins")


def load_model_from_args(args: argparse.Namespace) -> Model:
    """Parse FILE, then the ``--values`` files and the ``--set`` assignments, in that order."""
    model = build_model(parse_file(args.file))
    extra = []
    for path in getattr(args, "values_file", None) or []:
        file, text = read_source(path)
        extra.append(parse_text(text, file))
    for i, item in enumerate(getattr(args, "assignments", None) or []):
        if "=" not in item:
            raise UsageError(f"--set takes NAME=VALUE, got '{item}'")
        extra.append(parse_assignment(item, f"--set #{i + 1}"))
    return model.with_values(*extra) if extra else model
