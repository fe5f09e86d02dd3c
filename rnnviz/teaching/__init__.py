"""The teaching stage: exercise sheets with worked solutions, and checking a solution sheet.

Builds on language/, numeric/, diagrams/ and formulas/: a model becomes an exercise
sheet and its solution sheet (Markdown, LaTeX, HTML, Moodle XML), and a solution
sheet's answer lines are checked against the model.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.teaching import check_text
    >>> report = check_text("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]\\nh_2 = 0\\n")
    >>> report.ok
    True
"""

from __future__ import annotations

from ..lazy import lazy_exports

_NAMES = {
    "ScalarPass": "scalar", "exact": "arith", "fmt": "arith", "parse_number": "arith",
    "build_sheet": "sheet", "Sheet": "sheet", "TASKS": "tasks",
    "check_text": "check", "check_file": "check", "CheckReport": "check",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
