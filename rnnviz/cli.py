"""The ``rnnviz`` command line.

Example:
    >>> from rnnviz.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    rnnviz ...
    0
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .commands import COMMANDS
from .errors import RnnvizError, UsageError
from .version import version

__all__ = ["get_parser", "main", "run"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` decides the exit code."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}", hint=f"see '{self.prog} --help'")


#: Help is wrapped at most this wide, whatever the terminal: it also goes into the docs.
HELP_WIDTH = 80


def _width() -> int:
    import shutil

    return min(HELP_WIDTH, shutil.get_terminal_size((HELP_WIDTH, 24)).columns) - 2


class _Help(argparse.RawDescriptionHelpFormatter):
    """A command's own layout of its description; options wrapped to fit 80 columns."""

    def __init__(self, prog: str, **kwargs) -> None:
        super().__init__(prog, **{**kwargs, "width": _width()})


class _WrappedHelp(argparse.HelpFormatter):
    """Everything wrapped to fit 80 columns (the overview of ``rnnviz --help``)."""

    def __init__(self, prog: str, **kwargs) -> None:
        super().__init__(prog, **{**kwargs, "width": _width()})


def _module(name: str):
    return importlib.import_module(f".commands.{COMMANDS[name]}", __package__)


def get_parser(only: str | None = None, *, options: bool = True) -> argparse.ArgumentParser:
    """The argument parser of ``rnnviz`` with all its subcommands.

    With ``only`` (a command's name), only that subcommand is added: running one command
    imports no other command's module. With ``options=False``, the subcommands are listed
    without their options, which is all ``rnnviz --help``, ``--version`` and a mistyped
    command need (the options of ``exercise`` import the teaching modules).
    """
    parser = _Parser(
        prog="rnnviz", formatter_class=_WrappedHelp,
        description="Turn the recurrence equations of recurrent neural networks into folded and "
                    "unrolled diagrams, forward passes, gradients and plots.",
        epilog="Run 'rnnviz COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else [only]:
        try:
            mod = _module(name)
        except ModuleNotFoundError:
            continue  # a command still being written
        p = sub.add_parser(name, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=_Help)
        if options:
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def _unrecognized(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> UsageError:
    """Name the subcommand whose options were meant, and the closest option, if any."""
    import difflib

    command = getattr(args, "command", None)
    prog = f"rnnviz {command}" if command else "rnnviz"
    options: list[str] = []
    if command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        options = [o for a in sub.choices[command]._actions for o in a.option_strings]
    words = [w.split("=")[0] for w in extra if w.startswith("-")]
    close = [c[0] for c in (difflib.get_close_matches(w, options, n=1, cutoff=0.7) for w in words) if c]
    hint = (f"did you mean {close[0]}? " if close else "") + f"see '{prog} --help'"
    return UsageError(f"{prog}: unrecognized arguments: {' '.join(extra)}", hint=hint)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 bad input, 2 bad usage)."""
    words = sys.argv[1:] if argv is None else argv
    parser = get_parser(words[0]) if words and words[0] in COMMANDS else get_parser(options=False)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise _unrecognized(parser, args, extra)
        if args.version:
            print(f"rnnviz {version()}")
            return 0
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        return int(args._run(args) or 0)
    except UsageError as err:
        print(f"error: {err.format()}" if not err.span else err.format(), file=sys.stderr)
        return 2
    except RnnvizError as err:
        print(err.format(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except MemoryError:
        print("error: out of memory; try fewer steps, smaller sizes or a lower --dpi", file=sys.stderr)
        return 1
    except RecursionError:
        print("error: the expression nests too deeply to evaluate; try fewer steps", file=sys.stderr)
        return 1
    except OSError as err:  # an output that cannot be written: a full disk, a read-only folder
        where = f" '{err.filename}'" if err.filename else ""
        print(f"error: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        return 1
    except Exception as err:  # a bug: one line the user can report, not a traceback
        if os.environ.get("RNNVIZ_DEBUG"):
            raise
        print(f"error: internal error ({type(err).__name__}: {err}); please report it with the input "
              "file and the command (RNNVIZ_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def run() -> None:
    """The ``rnnviz`` program (its console script and ``python -m rnnviz``): :func:`main`, then exit.

    When ``main`` returns, every output is written and closed (outputs are written whole, then
    renamed into place). What is left of a normal exit is the interpreter's teardown, which frees
    every object one by one: the parse tables, the syntax tree, the modules. After a draw that is
    about a tenth of the process's instructions (44 M of 430 M for ``rnnviz draw two_layer.rnn``),
    ~10 ms a user waits for and nothing needs. So the program runs the exit handlers
    (:mod:`atexit`: temporary folders, coverage), flushes its standard streams and leaves with
    :func:`os._exit`. When other threads are still running, it exits the normal way, which waits
    for them.
    """
    import threading

    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (rnnviz ... | head): nothing more to say
        code = code or 1
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
