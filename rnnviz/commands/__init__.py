"""The command line: the subcommands of ``rnnviz``, one module each.

Each module defines ``HELP`` (one line), ``DESCRIPTION``, ``add_arguments(parser)``
and ``run(args) -> int``. Modules import heavy libraries (numpy, matplotlib)
inside ``run`` only, so that ``rnnviz draw`` starts fast.
"""

__all__ = ["COMMANDS"]

#: Subcommand name -> module name, in the order ``rnnviz --help`` lists them.
COMMANDS = {
    "draw": "draw",
    "run": "run",
    "params": "params",
    "plot": "plot",
    "grad": "grad",
    "formula": "formula",
    "gates": "gates",
    "exercise": "exercise",
    "check": "check",
}
