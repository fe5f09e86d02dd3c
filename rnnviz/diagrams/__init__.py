"""The diagram stage: :class:`~rnnviz.language.Model` (+ trace) -> neutral graph -> DOT -> SVG/PNG/PDF/JSON, cell views, plots.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.diagrams import draw
    >>> draw(load_model("h[t] = tanh(W h[t-1] + U x[t])"), view="folded").dot().startswith("digraph")
    True
"""

from __future__ import annotations

from ..lazy import lazy_exports

_NAMES = {
    "draw": "diagram", "Diagram": "diagram", "VIEWS": "diagram", "FORMATS": "diagram",
    "Graph": "graph", "cell_graph": "cell", "CellGraph": "cell",
    "render_svg": "render", "find_dot": "render",
    "inline_svg": "svginline", "standalone_svg": "svginline",
    "plot_steps": "plot", "plot_grad_norms": "plot",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
