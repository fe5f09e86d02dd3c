"""Options and helpers shared by the subcommands: FILE, --values, --set and number types.

Example:
    >>> import argparse
    >>> from rnnviz.commands._common import add_model_arguments, steps
    >>> parser = argparse.ArgumentParser()
    >>> add_model_arguments(parser)
    >>> _ = parser.add_argument("--steps", type=steps)
    >>> args = parser.parse_args(["-", "--set", "h_0=1", "--steps", "3"])
    >>> args.assignments, args.steps
    (['h_0=1'], 3)
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import UsageError, ValueSpecError

if TYPE_CHECKING:
    from ..language import Model

__all__ = ["add_model_arguments", "load_model_from_args", "add_strict_argument", "announce_drawn", "drawn_messages",
           "print_notes", "count", "seed", "digits", "steps", "dpi",
           "MAX_STEPS", "MAX_DPI"]

#: More steps than a course ever unrolls; beyond it a typo (--steps 100000000) would run for
#: minutes and fill the memory instead of failing at once.
MAX_STEPS = 100_000
#: 2400 dpi is beyond any printer; a larger value asks matplotlib for gigabytes.
MAX_DPI = 2400


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None


def count(text: str) -> int:
    """An argparse type: a whole number of at least 1 (--batch).

    Example:
        >>> count("3")
        3
    """
    n = _whole(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def steps(text: str) -> int:
    """An argparse type: a number of time steps, 1 to :data:`MAX_STEPS`.

    Example:
        >>> steps("20")
        20
    """
    n = count(text)
    if n > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_STEPS} steps, got {n}")
    return n


def seed(text: str) -> int:
    """An argparse type: a seed of the random generator, a whole number >= 0.

    Example:
        >>> seed("0")
        0
    """
    n = _whole(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a seed of 0 or more, got {n}")
    return n


def digits(text: str) -> int:
    """An argparse type: a number of digits, 0 to 17 (a double has about 17).

    Example:
        >>> digits("4")
        4
    """
    n = _whole(text)
    if not 0 <= n <= 17:
        raise argparse.ArgumentTypeError(f"expected 0 to 17 digits, got {n}")
    return n


def dpi(text: str) -> int:
    """An argparse type: a resolution in dots per inch, 1 to :data:`MAX_DPI`.

    Example:
        >>> dpi("300")
        300
    """
    n = _whole(text)
    if not 1 <= n <= MAX_DPI:
        raise argparse.ArgumentTypeError(f"expected a resolution from 1 to {MAX_DPI} dpi, got {n}")
    return n


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


def add_strict_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true",
                        help="refuse to draw at random a parameter or input that no value gives, when "
                             "the file gives other values")


def print_notes(notes) -> None:
    """Notes on how the input was read, on standard error: ``FILE:LINE:COL: note: ...``."""
    import re
    import sys

    for note in notes:
        print(re.sub(r"^(.*?:\d+:\d+: )", r"\1note: ", note) if re.match(r"^.*?:\d+:\d+: ", note)
              else f"note: {note}", file=sys.stderr)


def drawn_messages(model: Model, trace, seed: int) -> list[str]:
    """"W was not given; drawn at random (seed 0): give W = ... to fix it", when other values are given.

    A file with sizes only is a demo and draws everything; a file that gives some values
    but forgot one would otherwise answer silently with a random number.
    """
    if not trace.drawn or not any(v.kind == "value" for v in model.values):
        return []
    return [f"{name} was not given; drawn at random (seed {seed}): give {name} = ... to fix it"
            for name in trace.drawn]


def announce_drawn(model: Model, trace, args: argparse.Namespace) -> None:
    """Say on standard error what was drawn at random though other values were given; --strict refuses it."""
    import sys

    messages = drawn_messages(model, trace, getattr(args, "seed", 0))
    if not messages:
        return
    if getattr(args, "strict", False):
        first = trace.drawn[0]
        others = f" (nor {', '.join(trace.drawn[1:])})" if len(trace.drawn) > 1 else ""
        span = model.symbols[first].span if first in model.symbols else None
        raise model.error(ValueSpecError, f"no value gives {first}{others}; --strict draws nothing at random",
                          span, hint=f"give {first} = ... in the file, with --values or with --set '{first}=...'")
    for name, message in zip(trace.drawn, messages):
        span = model.symbols[name].span if name in model.symbols else None
        print(f"note: {span or model.file}: {message}", file=sys.stderr)


def load_model_from_args(args: argparse.Namespace) -> Model:
    """Parse FILE, then the ``--values`` files and the ``--set`` assignments, in that order.

    The notes on how the text was read go to standard error.
    """
    # The parser is loaded here, not when the command line is read: `--help` does not pay for it.
    from ..language import build_model, parse_assignment
    from ..language.parse import parse_file, parse_text, read_source

    model = build_model(parse_file(args.file))
    extra = []
    for path in getattr(args, "values_file", None) or []:
        file, text = read_source(path)
        extra.append(parse_text(text, file))
    for i, item in enumerate(getattr(args, "assignments", None) or []):
        if "=" not in item:
            raise UsageError(f"--set takes NAME=VALUE, got '{item}'")
        extra.append(parse_assignment(item, f"--set #{i + 1}"))
    model = model.with_values(*extra) if extra else model
    print_notes(model.notes)
    return model
