"""rnnviz: recurrence equations of RNNs to diagrams, forward passes and gradients.

The equations go in as a course writes them, plain or LaTeX; out come a model,
diagrams (folded, unrolled, cell), the forward pass, gradients by
backpropagation through time, unrolled formulas and gate roles.

Example:
    >>> import rnnviz
    >>> model = rnnviz.load_model("h[t] = relu(V h[t-1] + W x[t])  V = -3  W = 3  x = [2, 3, 1]")
    >>> model.variables, model.inputs, model.parameters
    (['h'], ['x'], ['V', 'W'])
    >>> trace = rnnviz.forward(model)
    >>> [float(trace.value("h", t)) for t in (1, 2, 3)]
    [6.0, 0.0, 3.0]
    >>> rnnviz.gradients(model, trace, "h[3]").params["W"].item()  # h_2 = 0 cuts the path: x_3
    1.0
    >>> rnnviz.draw(model, view="folded").dot().startswith("digraph")
    True

Numeric names (``forward``, ``gradients``, ...) are imported on first use, so
``import rnnviz`` and drawing stay free of numpy.
"""

from __future__ import annotations

import importlib

from .errors import ModelError, NumericError, ParseError, RenderError, RnnvizError, ShapeError, Span, ValueSpecError
from .model import Equation, Model, Symbol, Value, build_model, load_model
from .parse import parse_file, parse_text

__version__ = "0.1.0"

# Public name -> module that defines it; loaded on first access (PEP 562).
_LAZY = {
    "draw": "diagram",
    "Diagram": "diagram",
    "forward": "numeric",
    "Trace": "trace",
    "infer_shapes": "shapes",
    "parameter_shapes": "shapes",
    "parameter_count": "shapes",
    "gradients": "grad",
    "Gradients": "grad",
    "state_grad_norms": "grad",
    "recurrent_spectra": "grad",
    "unrolled_formula": "formula",
    "gradient_formula": "formula_grad",
    "analyze_gates": ("gates", "analyze"),
    "gate_roles": "gates",
    "plot_steps": "plot",
}

__all__ = [
    "__version__",
    "RnnvizError",
    "ParseError",
    "ModelError",
    "ShapeError",
    "ValueSpecError",
    "NumericError",
    "RenderError",
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
    *_LAZY,
]


def load(path: str) -> Model:
    """Read an equation file (``-`` for standard input) and build its model."""
    return build_model(parse_file(path))


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'rnnviz' has no attribute '{name}'")
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
