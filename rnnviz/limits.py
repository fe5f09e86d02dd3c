"""The limits rnnviz enforces, in one place, so that no input makes it work without bound.

Each limit is far beyond what a course uses; beyond it, a typo (``dim x = 100000000``,
``--unroll 100000``) or a hostile input (40,000 nested brackets, ``file=/dev/zero``) would
run for minutes or fill the memory. Hitting one is an ordinary rnnviz error that says which
limit was hit. ``docs/limits.md`` lists them with the message a user sees.

Example:
    >>> from rnnviz import limits
    >>> limits.MAX_NESTING, limits.MAX_DEPTH
    (64, 200)
"""

from __future__ import annotations

__all__ = ["MAX_INPUT_BYTES", "MAX_NESTING", "MAX_DEPTH", "MAX_ENTRIES", "MAX_HISTORY_ENTRIES",
           "MAX_FORMULA_CHARS", "MAX_COLUMNS", "GRAPHVIZ_TIMEOUT", "PDFLATEX_TIMEOUT"]

#: The largest input file (equations and values) rnnviz reads: 10 MB of text.
MAX_INPUT_BYTES = 10_000_000
#: Brackets open at once: ``tanh(`` nested more deeply than this is refused where it opens.
MAX_NESTING = 64
#: Operations in one chain of one expression (``a + b + ... ``, counted from the root).
MAX_DEPTH = 200
#: Entries of one parameter, input step or state (a 1000 x 1000 matrix).
MAX_ENTRIES = 1_000_000
#: Numbers a forward pass keeps over all steps (states, inputs): 1.2 GB of float64 (an LSTM
#: with hidden 256 and batch 32 over 2000 steps keeps 115 million).
MAX_HISTORY_ENTRIES = 150_000_000
#: Characters of a written-out formula (``rnnviz formula``): 1 MB.
MAX_FORMULA_CHARS = 1_000_000
#: Columns (steps) an unrolled diagram draws; the steps beyond collapse into an ellipsis column.
MAX_COLUMNS = 2000
#: Seconds one Graphviz run may take (the environment variable RNNVIZ_GRAPHVIZ_TIMEOUT changes it).
GRAPHVIZ_TIMEOUT = 60.0
#: Seconds one pdflatex run of an exercise sheet may take (``rnnviz exercise --format pdf``).
PDFLATEX_TIMEOUT = 120.0
