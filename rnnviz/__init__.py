"""rnnviz: recurrence equations of RNNs to diagrams, forward passes and gradients.

Example:
    >>> import rnnviz
    >>> model = rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t])")
    >>> model.variables, model.inputs, model.parameters
    (['h'], ['x'], ['W', 'U'])
"""

from __future__ import annotations

from .errors import ModelError, ParseError, RnnvizError, ShapeError, Span, ValueSpecError
from .model import Equation, Model, Symbol, Value, build_model, load_model
from .parse import parse_file, parse_text

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "RnnvizError",
    "ParseError",
    "ModelError",
    "ShapeError",
    "ValueSpecError",
    "Span",
    "Model",
    "Equation",
    "Symbol",
    "Value",
    "parse_text",
    "parse_file",
    "build_model",
    "load_model",
    "load",
]


def load(path: str) -> Model:
    """Read an equation file (``-`` for standard input) and build its model."""
    return build_model(parse_file(path))
