"""The language stage: equation text -> syntax tree -> :class:`Model` (grammar, parser, model, value lines, gates).

It imports nothing of rnnviz but :mod:`rnnviz.errors` and :mod:`rnnviz.io`.

Example:
    >>> from rnnviz.language import load_model
    >>> load_model("h[t] = tanh(W h[t-1] + U x[t])").variables
    ['h']
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__ = [
    "Model", "Equation", "Symbol", "Value",
    "parse_text", "parse_file", "read_source", "build_model", "load_model", "parse_assignment",
    "analyze", "gate_roles", "GateReport", "GATE_ROLES",
]

# Every name loads its module on first use: the parser (lark) only when something is read.
__getattr__, __dir__ = lazy_exports(__name__, {
    "Model": "model", "Equation": "model", "Symbol": "model", "Value": "model",
    "parse_text": "parse", "parse_file": "parse", "read_source": "parse",
    "build_model": "model_build", "load_model": "model_build", "parse_assignment": "value_lines",
    "analyze": "gates", "gate_roles": "gates", "GateReport": "gates", "GATE_ROLES": "gates",
})
