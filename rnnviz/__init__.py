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
from .lazy import lazy_exports

# Public name -> module that defines it (relative to this package); loaded on first use.
_LAZY = {
    "__version__": "version",  # read from the metadata (or pyproject.toml) when asked for
    # The language too: importing it starts the parser (lark), which `rnnviz --help` need not pay for.
    "Model": "language.model",
    "Equation": "language.model",
    "Symbol": "language.model",
    "Value": "language.model",
    "build_model": "language.model_build",
    "load_model": "language.model_build",
    "parse_file": "language.parse",
    "parse_text": "language.parse",
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


def _show_models_in_notebooks() -> None:
    """A Model in a notebook shows its equations and its folded diagram.

    The language stage only holds the slot (it never imports the diagrams); it is filled
    here when the language is first reached through this package, which stays free of
    the parser until then (``rnnviz --help`` does not pay for it).
    """
    from .language.model import Model

    if Model.html_renderer is None:
        Model.html_renderer = _model_html


def load(path: str) -> Model:
    """Read an equation file (``-`` for standard input) and build its model."""
    from .language.model_build import build_model
    from .language.parse import parse_file

    _show_models_in_notebooks()
    return build_model(parse_file(path))


_lazy_getattr, __dir__ = lazy_exports(__name__, _LAZY, eager=__all__)


def __getattr__(name: str):
    value = _lazy_getattr(name)
    if getattr(value, "__module__", "").startswith("rnnviz.language"):
        _show_models_in_notebooks()
    return value
