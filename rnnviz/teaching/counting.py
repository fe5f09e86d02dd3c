"""Counting parameters as a solution sheet does: per equation (a layer, a gate), then the total.

A parameter belongs to the first equation that uses it (in the order written), so a
weight shared by two equations is counted once. The groups of a deep RNN written by
layer index (``H_1, H_2, H_3`` from ``H_t^{(l)}``) are its layers; each group's count
is its sum of ``fan-in×fan-out`` terms, as ``5·8 + 8·8 + 8 = 112``.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("u[t] = tanh(A x[t] + B u[t-1] + b)\\nv[t] = tanh(C u[t] + D v[t-1])\\n"
    ...                "y[t] = E v[t]\\ndim x = 3, u = 4, v = 2, y = 1")
    >>> [(g.name, g.sum_text, g.count) for g in parameter_groups(m)]
    [('u', '3×4 + 4×4 + 4', 32), ('v', '4×2 + 2×2', 12), ('y', '2×1', 2)]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..language import Model
from ..language import expr as E

__all__ = ["ParamGroup", "parameter_groups", "layer_stack", "group_named", "loss_weights"]


@dataclass(frozen=True)
class ParamGroup:
    """The parameters an equation brings in: ``name`` is its target; ``terms`` (parameter, text, count)."""

    name: str
    terms: tuple
    #: The layer number of a stack written by layer index (1, 2, ...), else None.
    layer: int | None = None

    @property
    def count(self) -> int:
        return sum(c for _, _, c in self.terms)

    @property
    def sum_text(self) -> str:
        """``5×8 + 8×8 + 8``."""
        return " + ".join(t for _, t, _ in self.terms)


def layer_stack(model: Model) -> dict[str, int]:
    """Variable -> layer for a stack ``base_1, ..., base_L`` (L >= 2) of recurrent variables, else {}.

    Example:
        >>> from rnnviz.language import load_model
        >>> layer_stack(load_model("H_1[t] = tanh(X[t] A + H_1[t-1] B)  H_2[t] = tanh(H_1[t] C + H_2[t-1] D)"))
        {'H_1': 1, 'H_2': 2}
    """
    by_base: dict[str, dict[int, str]] = {}
    for n in model.recurrent:
        m = re.fullmatch(r"(.+?)_?(\d+)", n)
        if m:
            by_base.setdefault(m.group(1), {})[int(m.group(2))] = n
    for base, layers in by_base.items():
        if len(layers) >= 2 and sorted(layers) == list(range(1, len(layers) + 1)):
            return {n: k for k, n in layers.items()}
    return {}


def _terms(model: Model, shapes) -> dict[str, tuple[str, int, int]]:
    """Parameter -> (``fan-in×fan-out`` text, count, rank): input weights, then the others, then biases."""
    inputs = set(model.inputs)
    rank: dict[str, int] = {}
    orient: dict[str, bool] = {}  # True: the parameter stands left of what it multiplies (W x)
    for eq in model.equations:
        for n in E.walk(eq.expr):
            if isinstance(n, E.Prod):
                for p, other, left in ((n.left, n.right, True), (n.right, n.left, False)):
                    if isinstance(p, E.Param) and p.name not in orient:
                        orient[p.name] = left
                        reads_input = any(isinstance(v, E.Var) and v.name in inputs for v in E.walk(other))
                        rank[p.name] = 0 if reads_input else 1
    out = {}
    for pname in model.parameters:
        shape = shapes.of(pname)
        count = math.prod(shape)
        if len(shape) == 2:
            r, c = shape
            out[pname] = (f"{c}×{r}" if orient.get(pname, True) else f"{r}×{c}", count, rank.get(pname, 1))
        else:
            out[pname] = (str(count), count, 2)
    return out


def parameter_groups(model: Model, shapes=None) -> list[ParamGroup]:
    """One group per equation that brings in parameters, in the order the equations are written."""
    if shapes is None:
        from ..numeric.shapes import infer_shapes

        shapes = infer_shapes(model)
    terms = _terms(model, shapes)
    layers = layer_stack(model)
    seen: set[str] = set()
    out = []
    for eq in model.equations:
        names = [n.name for n in E.walk(eq.expr) if isinstance(n, E.Param) and n.name not in seen]
        names = list(dict.fromkeys(names))
        seen.update(names)
        if names:
            ordered = sorted(names, key=lambda p: terms[p][2])
            out.append(ParamGroup(eq.target, tuple((p, terms[p][0], terms[p][1]) for p in ordered),
                                  layers.get(eq.target)))
    return out


def group_named(groups: list[ParamGroup], text: str, model: Model) -> ParamGroup | None:
    """The group an answer line names: a variable (``H_1``, ``O``) or ``layer 2``."""
    m = re.fullmatch(r"\s*layer\s*(\d+)\s*", text, re.IGNORECASE)
    if m:
        return next((g for g in groups if g.layer == int(m.group(1))), None)
    if re.fullmatch(r"\s*(the\s+)?output(\s+layer)?\s*", text, re.IGNORECASE):
        outputs = [g for g in groups if model.role(g.name) == "output"]
        return outputs[-1] if outputs else None
    key = re.sub(r"[\s{}]", "", text)
    key = re.sub(r"\^\((\d+)\)$", r"_\1", key)  # H^{(1)} as H_1
    return next((g for g in groups if g.name == key or g.name.replace("_", "") == key.replace("_", "")), None)


def loss_weights(model: Model) -> list[str]:
    """The parameters a loss task differentiates by: those that multiply something (weights), else all."""
    weights = []
    for eq in model.equations:
        for n in E.walk(eq.expr):
            if isinstance(n, (E.Prod, E.EMul)):
                for side in (n.left, n.right):
                    if isinstance(side, E.Param) and side.name not in weights:
                        weights.append(side.name)
    return [p for p in model.parameters if p in weights] or list(model.parameters)
