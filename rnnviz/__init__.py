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

from .errors import (
    ModelError,
    NumericError,
    ParseError,
    RenderError,
    RnnvizError,
    ShapeError,
    Span,
    ValueSpecError,
)
from .language import (
    Equation,
    Model,
    Symbol,
    Value,
    build_model,
    load_model,
    parse_file,
    parse_text,
)
from .lazy import lazy_exports

# Public name -> module that defines it (relative to this package); loaded on first use.
_LAZY = {
    "__version__": "version",  # read from the metadata (or pyproject.toml) when asked for
    "draw": "diagrams.diagram",
    "Diagram": "diagrams.diagram",
    "forward": "numeric.forward_pass",
    "Trace": "numeric.trace",
    "infer_shapes": "numeric.shapes",
    "parameter_shapes": "numeric.shapes",
    "parameter_count": "numeric.shapes",
    "gradients": "numeric.grad",
    "Gradients": "numeric.grad",
    "state_grad_norms": "numeric.grad",
    "recurrent_spectra": "numeric.grad",
    "unrolled_formula": "formulas.unrolled",
    "gradient_formula": "formulas.gradient",
    "analyze_gates": ("language.gates", "analyze"),
    "gate_roles": "language.gates",
    "plot_steps": "diagrams.plot",
}

__all__ = [
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
    "load_ipython_extension",
    *_LAZY,
]


def load_ipython_extension(ipython) -> None:
    """``%load_ext rnnviz`` in IPython or Jupyter: adds the ``%%rnnviz`` cell magic."""
    from .site.jupyter import load_ipython_extension as load_extension

    load_extension(ipython)


def _model_html(model: Model) -> str:
    from .site.jupyter import model_html

    return model_html(model)


# A Model in a notebook shows its equations and its folded diagram; the language stage
# only holds the slot, so that it never imports the diagrams.
Model.html_renderer = _model_html


def load(path: str) -> Model:
    """Read an equation file (``-`` for standard input) and build its model."""
    return build_model(parse_file(path))


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, eager=__all__)
