"""The language stage: equation text -> syntax tree -> :class:`Model` (grammar, parser, model, value lines, gates).

It imports nothing of rnnviz but :mod:`rnnviz.errors` and :mod:`rnnviz.io`.

Example:
    >>> from rnnviz.language import load_model
    >>> load_model("h[t] = tanh(W h[t-1] + U x[t])").variables
    ['h']
"""

from __future__ import annotations

from ..lazy import lazy_exports
from .model import Equation, Model, Symbol, Value
from .model_build import build_model, load_model
from .parse import parse_file, parse_text, read_source
from .value_lines import parse_assignment

__all__ = [
    "Model", "Equation", "Symbol", "Value",
    "parse_text", "parse_file", "read_source", "build_model", "load_model", "parse_assignment",
    "analyze", "gate_roles", "GateReport", "GATE_ROLES",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "analyze": "gates", "gate_roles": "gates", "GateReport": "gates", "GATE_ROLES": "gates",
}, eager=__all__)
