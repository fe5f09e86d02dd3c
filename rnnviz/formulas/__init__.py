"""The formula stage: :class:`~rnnviz.language.Model` -> unrolled formulas and BPTT gradient formulas, plain and LaTeX.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.formulas import unrolled_formula
    >>> print(unrolled_formula(load_model("h[t] = relu(V h[t-1] + W x[t])"), "h[2]"))
    h_2 = relu(V relu(V h_0 + W x_1) + W x_2)
"""

from __future__ import annotations

from ..lazy import lazy_exports

_NAMES = {
    "unrolled_formula": "unrolled", "unroll": "unrolled",
    "gradient_formula": "gradient", "jacobian_blocks": "gradient",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
