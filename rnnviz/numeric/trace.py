"""The Trace: every value a forward pass computed, addressable by name, node and step.

:func:`rnnviz.numeric.forward_pass.forward` builds it; backprop (:mod:`rnnviz.numeric.grad`), the
annotated diagrams and the plots read it. See :class:`Trace` for the API.

Example:
    >>> from rnnviz import load_model
    >>> from rnnviz.numeric.forward_pass import forward
    >>> tr = forward(load_model("h[t] = 2 h[t-1] + x[t]\\nh_0 = 1, x = [1, 1]"))
    >>> [float(v) for v in tr.values["h"]], tr.values["x"][0] is None
    ([1.0, 3.0, 7.0], True)
    >>> tr.plan["h"][1].op.name, float(tr.node("h", 1, 2))  # node 1 is 2 h[t-1], at step 2
    ('mul', 6.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..language import Model
from ..language import expr as E
from .ops import Op
from .shapes import Shapes

__all__ = ["Trace", "PlanNode"]

_ZERO = np.float64(0.0)


@dataclass(frozen=True)
class PlanNode:
    """One node of a compiled equation: its tree node, op (None for a leaf), ctx and children."""

    index: int
    expr: E.Expr
    op: Op | None
    ctx: dict
    children: tuple[int, ...]
    batched: bool  # whether its value has the batch axis (it depends on a variable or an input)


class Trace:
    """Everything the forward pass computed, addressable by name and step.

    Attributes:
        model: the model that ran.
        shapes: the :class:`rnnviz.numeric.shapes.Shapes` it ran with.
        steps: T, the number of steps run (t = 1..T).
        batch: the batch size, or None.
        params: parameter name -> array (given or drawn).
        plan: equation target -> list of :class:`PlanNode`, in ``rnnviz.language.expr.walk``
            pre-order (index 0 is the root).
        functions: generic activation name -> canonical function it was bound to.
        drawn: the parameters and inputs that no value gave, drawn from the seeded generator.

    Reading values:
        ``value(name, t)`` is a variable or input at step t (t may be 0 or
        negative for initial states); ``values[name]`` is the list
        ``[v0, v1, ..., vT]`` with None at index 0 when there is no initial
        value. ``node(target, index, t)`` is node ``index`` of ``target``'s
        tree at step t, exactly as computed (with a batch, a per-step scalar is
        ``(B, 1)``; ``value`` returns it as ``(B,)``). ``initial[name]`` and
        ``inputs[name]`` map steps to the arrays used. ``values``, ``initial`` and
        ``inputs`` are built once on first use; treat them as read-only.

    Walking backwards (what backprop does):
        for a node ``p = plan[target][i]`` with ``p.op`` not None, its inputs at
        step t are ``[node(target, k, t) for k in p.children]`` and its output is
        ``node(target, i, t)``; ``p.op.backward(inputs, out, grad_out, p.ctx)``
        returns one gradient per input, each in that input's shape. A leaf is a
        ``Var`` (read at ``t - delay``), a ``Param`` (the array in ``params``,
        shared by every step) or a ``Num``. ``p.batched`` says whether the node's
        value carries the batch axis (it depends on a variable or an input).
    """

    def __init__(self, model: Model, shapes: Shapes, steps: int, batch: int | None, params: dict,
                 history: dict[str, tuple[int, list]], nodes: dict[str, list[list]] | None,
                 plan: dict[str, list[PlanNode]], functions: dict[str, str], *, refill=None) -> None:
        self.model = model
        self.drawn: tuple[str, ...] = ()
        self.shapes = shapes
        self.steps = steps
        self.batch = batch
        self.params = params
        self.plan = plan
        self.functions = functions
        self._history = history
        self._nodes = nodes
        # Works out again the nodes the forward pass let go (keep_nodes="backward"), or None.
        self._refill = refill

    def _unbatch(self, name: str, arr):
        if arr is None:  # a variable computed once has no value before the last step
            return None
        if self.batch is not None and self.shapes.of(name) == ():
            return arr.reshape(arr.shape[:-1])
        return arr

    def has(self, name: str, t: int) -> bool:
        """Whether ``name`` has a value at step ``t``."""
        if name not in self._history:
            return False
        lo, hist = self._history[name]
        return 0 <= t - lo < len(hist)

    def value(self, name: str, t: int) -> np.ndarray:
        """The value of variable or input ``name`` at step ``t``."""
        if not self.has(name, t):
            raise KeyError(f"{name}[{t}]")
        lo, hist = self._history[name]
        return self._unbatch(name, hist[t - lo])

    @property
    def names(self) -> list[str]:
        """Inputs and computed variables, inputs first, then in evaluation order."""
        return [n for n in self.model.inputs] + self.model.variables

    @cached_property
    def values(self) -> dict[str, list]:
        """name -> [v0, v1, ..., vT]; index 0 holds the initial value or None.

        Step 0 exists for what is read one step back: a recurrent variable's
        initial state, and an input read as x[t-1] (zero unless x_0 is given).
        """
        return {n: [self.value(n, t) if self.has(n, t) else None for t in range(self.steps + 1)]
                for n in self.names}

    @cached_property
    def initial(self) -> dict[str, dict[int, np.ndarray]]:
        """Recurrent variable -> {step -> starting value}: steps <= 0 forward, T+1.. backward."""
        out = {}
        for name in dict.fromkeys(self.model.recurrent + self.model.backward):
            lo, hist = self._history[name]
            out[name] = {lo + i: self._unbatch(name, a) for i, a in enumerate(hist)
                         if not 1 <= lo + i <= self.steps}
        return out

    @cached_property
    def inputs(self) -> dict[str, dict[int, np.ndarray]]:
        """Input -> {step -> value}, every step the equations read."""
        out = {}
        for name in self.model.inputs:
            lo, hist = self._history[name]
            out[name] = {lo + i: self._unbatch(name, a) for i, a in enumerate(hist)}
        return out

    def node(self, target: str, index: int, t: int) -> np.ndarray:
        """Node ``index`` (walk pre-order) of ``target``'s equation at step ``t`` (1..T)."""
        return self.nodes(target, t)[index]

    def nodes(self, target: str, t: int) -> list:
        """Every node of ``target``'s equation at step ``t``, in walk pre-order."""
        if self._nodes is None:
            raise ValueError("this trace was run with keep_nodes=False")
        if not 1 <= t <= self.steps:
            raise KeyError(f"{target}[{t}]")
        vals = self._nodes[target][t - 1]
        return vals if self._refill is None else self._refill.refill(target, t, vals)

    def backward_nodes(self, target: str, t: int) -> list:
        """The nodes of ``target`` at step ``t`` as backprop reads them.

        A node whose value no backward formula reads (see ``Op.needs``) and that the
        forward pass let go is an array of its shape that holds no memory (its value
        is not meaningful); every other node is as in :meth:`nodes`.
        """
        if self._nodes is None:
            raise ValueError("this trace was run with keep_nodes=False")
        vals = self._nodes[target][t - 1]
        if self._refill is None:
            return vals
        shapes = self._refill.blank_shapes[target]
        if not shapes:
            return vals
        vals = list(vals)
        for i, shape in shapes.items():
            vals[i] = np.broadcast_to(_ZERO, shape)
        return vals
