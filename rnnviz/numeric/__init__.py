"""The numeric stage: :class:`~rnnviz.language.Model` + values -> forward trace, gradients by BPTT, shapes, counts.

numpy is imported only when one of these names is first used.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.numeric import forward, parameter_count
    >>> m = load_model("h[t] = relu(V h[t-1] + W x[t])  V = -3  W = 3  x = [2, 3, 1]")
    >>> [float(forward(m).value("h", t)) for t in (1, 2, 3)], parameter_count(m)
    ([6.0, 0.0, 3.0], 2)
"""

from __future__ import annotations

from ..lazy import lazy_exports

_NAMES = {
    "forward": "forward_pass", "Trace": "trace", "PlanNode": "trace", "DEFAULT_STEPS": "forward_pass",
    "gradients": "grad", "Gradients": "grad", "backprop": "grad",
    "state_grad_norms": "grad", "recurrent_spectra": "grad",
    "infer_shapes": "shapes", "parameter_shapes": "shapes", "parameter_count": "shapes",
    "Shape": "shapes", "Shapes": "shapes", "has_sizes": "shapes",
    "Target": "target", "parse_target": "target", "TargetError": "target",
    "given_values": "values", "to_array": "values",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
