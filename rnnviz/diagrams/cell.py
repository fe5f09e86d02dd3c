"""The cell views: one node per operation, drawn from the expression trees.

Every operation of ``Model.equations`` is a node (a matrix product with its
parameter as a small box beside it, a sum, sigma, tanh, ReLU, softmax, an
element-wise product, ``1 - z``, a concatenation); variables are labelled
points where a value leaves an operation. Gates get their role from
:mod:`rnnviz.language.gates`, and the cell state's additive path (the "gradient
highway") is marked so that :mod:`rnnviz.diagrams.cell_dot` draws it as one straight,
heavy line.

``cell`` (folded) shows one cell: the recurrent inputs ``h[t-1]``, ``c[t-1]``
enter from the left, the state leaves to the right. ``cell-unrolled`` puts
the cells of steps 1..N side by side; step 0 holds the initial states.

The JSON graph is the one of the variable views, with operation nodes
(``role`` ``"op"`` and an ``op`` field) and parameter nodes. In the folded
view ``time`` is relative (``0`` for t, ``-1`` for t-1); unrolled, it is the
step. Parameters have ``time`` null. Gate variables carry ``"gate": role``;
nodes and edges of the additive path carry ``"highway": true``.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    >>> g = graph(m)
    >>> [(n["id"], n.get("op") or n["role"]) for n in g["nodes"]][:4]
    [('h.0', 'tanh'), ('h.1', 'add'), ('h.2', 'matmul'), ('p.W.h.3', 'parameter')]
    >>> [(e["source"], e["target"], e["param"], e["delay"]) for e in g["edges"]][:2]
    [('p.W.h.3', 'h.2', None, 0), ('h@t-1', 'h.2', 'W', 1)]

:func:`rnnviz.diagrams.cell_dot.build` writes the graph as DOT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import ValueSpecError
from ..language import Model
from ..language import expr as E
from ..language.gates import GateReport, analyze, factors, is_elementwise

__all__ = ["CellNode", "CellEdge", "CellGraph", "build", "graph", "cell_graph", "OPS", "DEFAULT_MAX_CELLS"]

#: Operation kinds of the cell views, in the JSON ``op`` field.
OPS = ("matmul", "scale", "mul", "add", "sub", "neg", "one_minus", "concat",
       "sigmoid", "tanh", "relu", "softmax", "exp", "log", "identity", "square", "sumsq", "sum", "logsoftmax",
       "onehot", "function")


@dataclass
class CellNode:
    """A node of a cell view; ``base`` is the id of its counterpart in the folded cell."""

    id: str
    name: str
    time: int | None
    role: str
    op: str | None = None
    gate: str | None = None
    highway: bool = False
    base: str = ""
    number: float | None = None  # constants
    lane: str | None = None  # the highway variable whose additive path this node is on
    eq: str | None = None  # the equation this node belongs to (None: inputs, earlier states)
    seq: int = 0  # pre-order position inside its equation
    ellipsis: bool = False  # stands for the value at the collapsed middle steps
    column: float | None = None  # where an ellipsis sits among the steps

    def to_json(self) -> dict:
        out: dict = {"id": self.id, "name": self.name, "time": self.time, "role": self.role}
        if self.op is not None:
            out["op"] = self.op
        if self.gate is not None:
            out["gate"] = self.gate
        if self.highway:
            out["highway"] = True
        if self.ellipsis:
            out["ellipsis"] = True
        return out


@dataclass
class CellEdge:
    """A value flowing into an operation; ``param`` is the matrix that acts on it there."""

    source: str
    target: str
    param: str | None = None
    delay: int = 0
    highway: bool = False
    attached: bool = False  # a parameter box or constant beside its operation

    def to_json(self) -> dict:
        out: dict = {"source": self.source, "target": self.target, "param": self.param, "delay": self.delay}
        if self.highway:
            out["highway"] = True
        return out


@dataclass
class CellGraph:
    """Nodes and edges of a cell view, plus what the drawing needs to lay it out."""

    view: str
    steps: int
    model: Model
    report: GateReport
    nodes: dict[str, CellNode] = field(default_factory=dict)
    edges: list[CellEdge] = field(default_factory=list)
    #: (first, last) collapsed middle step of a long unroll, else None.
    collapsed: tuple[int, int] | None = None

    def to_json(self) -> dict:
        out = {"view": self.view, "steps": self.steps,
               "nodes": [n.to_json() for n in self.nodes.values()],
               "edges": [e.to_json() for e in self.edges]}
        if self.collapsed is not None:
            out["collapsed"] = list(self.collapsed)
        return out


def _safe(name: str) -> str:
    """A canonical name as a piece of an id: no ``:``, ``.``, ``@`` or quotes."""
    return re.sub(r"[^A-Za-z0-9_^~]", "_", name)


class _Builder:
    def __init__(self, model: Model, unrolled: bool, steps: int, max_columns: int) -> None:
        self.model = model
        self.report = analyze(model)
        self.unrolled = unrolled
        self.g = CellGraph("cell-unrolled" if unrolled else "cell", steps if unrolled else 0,
                           model, self.report)
        # A long unroll keeps its first and last cells; the middle ones become one ellipsis.
        self.hidden: set[int] = set()
        if unrolled and steps > max_columns:
            keep = max_columns - 1
            head = (keep + 1) // 2
            self.hidden = set(range(head + 1, steps - (keep - head) + 1))
            self.g.collapsed = (head + 1, steps - (keep - head))
        self.roles = self.report.roles
        self.highways = set(self.report.highways)
        self.gate_eqs = set(self.roles)

    # -- ids ----------------------------------------------------------------
    def _at(self, base: str, t: int | None) -> str:
        return base if t is None else f"{base}@{t}"

    def var(self, name: str, t: int | None, delay: int) -> str:
        """The node of variable ``name`` read ``delay`` steps before ``t`` (created if new)."""
        sym = self.model.symbols[name]
        safe = _safe(name)
        if t is None:  # folded: relative times
            base = safe if delay == 0 else f"{safe}@t-{delay}"
            nid, time = base, -delay
        elif t - delay in self.hidden:
            return self.ellipsis(name, delay)
        else:
            step = t - delay
            computed_here = sym.kind == "variable" and step >= 1
            base = safe if (computed_here or (sym.kind == "input" and delay == 0)) else (
                safe if sym.kind == "input" and step >= 1 else f"{safe}@t-{delay}")
            nid, time = f"{safe}@{step}", step
        if nid not in self.g.nodes:
            role = sym.role
            if sym.kind == "variable" and role == "output" and time < (1 if t is not None else 0):
                role = "state"  # an output fed back (y[t-1]) enters like a state
            hw = name in self.highways
            own = time == (0 if t is None else t) and sym.kind == "variable"
            self.g.nodes[nid] = CellNode(nid, name, time, role, gate=self.roles.get(name), highway=hw,
                                         base=base, lane=name if hw else None,
                                         eq=name if sym.kind == "variable" else None, seq=10**6 if own else -1)
        return nid

    def ellipsis(self, name: str, delay: int) -> str:
        """The node standing for ``name`` at the collapsed steps; the last cell before
        the gap feeds it, so a state's path runs on through the ellipsis."""
        sym = self.model.symbols[name]
        safe = _safe(name)
        nid = f"{safe}@..."
        if nid not in self.g.nodes:
            first, _ = self.g.collapsed  # type: ignore[misc]
            hw = name in self.highways
            role = "state" if sym.kind == "variable" else sym.role
            self.g.nodes[nid] = CellNode(nid, name, None, role, highway=hw, base=f"{safe}@t-{delay}",
                                         lane=name if hw else None, eq=None, seq=-1, ellipsis=True,
                                         column=first - 0.5)
            if sym.kind == "variable":
                self.edge(self.var(name, first - 1, 0), nid, delay=1, highway=hw)
        return nid

    def node(self, base: str, t: int | None, **kw) -> str:
        nid = self._at(base, t)
        self.g.nodes[nid] = CellNode(nid, base=base, time=kw.pop("time", 0 if t is None else t),
                                     eq=self.eq, seq=self.counter - 1, **kw)
        return nid

    def edge(self, src: str, dst: str, **kw) -> None:
        self.g.edges.append(CellEdge(src, dst, **kw))

    # -- expressions --------------------------------------------------------
    def build(self) -> CellGraph:
        steps = [t for t in range(1, self.g.steps + 1) if t not in self.hidden] if self.unrolled else [None]
        for t in steps:
            for eq in self.model.equations:
                if eq.once and t is not None and t != self.g.steps:
                    continue  # computed once, at the last step
                self.counter = 0
                self.eq = eq.target
                self.path = _highway_path(eq.expr, eq.target) if eq.target in self.highways else set()
                out, delay = self.expr(eq.expr, eq.target, t)
                target = self.var(eq.target, t, 0)
                hw = eq.target in self.highways
                self.edge(out, target, delay=delay, highway=hw)
        return self.g

    def expr(self, e: E.Expr, v: str, t: int | None) -> tuple[str, int]:
        """Add the nodes of ``e``; return the node giving its value and the delay of that value."""
        if isinstance(e, E.Var):
            return self.var(e.name, t, e.delay), e.delay
        k = self.counter
        self.counter += 1
        base = f"{_safe(v)}.{k}"
        on_path = id(e) in self.path

        def op(kind: str, name: str | None = None, **kw) -> str:
            gate = self.roles.get(v) if e is self.model.equation(v).expr else None
            return self.node(base, t, name=name or kind, role="op", op=kind, gate=gate, highway=on_path,
                             lane=v if on_path else None, **kw)

        def into(child: E.Expr, dst: str, **kw) -> None:
            src, delay = self.expr(child, v, t)
            if isinstance(child, (E.Param, E.Num)):  # a parameter or number sits beside its operation
                self.edge(src, dst, attached=True)
                return
            self.edge(src, dst, delay=delay, highway=on_path and id(child) in self.path, **kw)

        if isinstance(e, E.Param):
            return self.node(f"p.{_safe(e.name)}.{base}", t, name=e.name, role="parameter", time=None), 0
        if isinstance(e, E.Num):
            return self.node(f"n.{base}", t, name="constant", role="constant", number=e.value, time=None), 0
        if isinstance(e, E.Prod) and not is_elementwise(e):
            # The matrix (or scalar) side is a small box beside the product.
            side, other = (e.left, e.right) if isinstance(e.left, (E.Param, E.Num)) else (e.right, e.left)
            kind = "matmul" if isinstance(side, E.Param) else "scale"
            name = side.name if isinstance(side, E.Param) else "scale"
            nid = op(kind, name)
            into(side, nid)
            into(other, nid, param=name if kind == "matmul" else None)
            return nid, 0
        if is_elementwise(e):
            nid = op("mul")
            for f in factors(e):
                into(f, nid)
            return nid, 0
        if isinstance(e, E.Add):
            nid = op("add")
            for term in _sum_terms(e):
                into(term, nid)
            return nid, 0
        if isinstance(e, E.Sub):
            if isinstance(e.left, E.Num) and e.left.value == 1.0:
                nid = op("one_minus", "1-")
                into(e.right, nid)
                return nid, 0
            nid = op("sub")
            into(e.left, nid)
            into(e.right, nid)
            return nid, 0
        if isinstance(e, E.Neg):
            nid = op("neg")
            into(e.operand, nid)
            return nid, 0
        if isinstance(e, E.Concat):
            nid = op("concat")
            for item in e.items:
                into(item, nid)
            return nid, 0
        if isinstance(e, E.Call):
            kind = e.func if not e.generic else "function"
            nid = op(kind, e.func)
            into(e.arg, nid)
            return nid, 0
        raise AssertionError(e)  # pragma: no cover


def _sum_terms(e: E.Expr) -> list[E.Expr]:
    """Terms of a chain of ``+`` (one sum node for ``a + b + c``)."""
    if isinstance(e, E.Add):
        return _sum_terms(e.left) + _sum_terms(e.right)
    return [e]


def _highway_path(root: E.Expr, v: str) -> set[int]:
    """ids of the tree nodes from ``root`` down to the read ``v[t-1]`` (the additive path).

    Only sums, differences and element-wise products lie on it: the path
    never goes through a matrix product or an activation.
    """
    def search(e: E.Expr) -> list[E.Expr] | None:
        if isinstance(e, E.Var):
            return [e] if e.name == v and e.delay >= 1 else None
        if isinstance(e, (E.Add, E.Sub)) or is_elementwise(e):
            for child in E.children(e):
                found = search(child)
                if found:
                    return [e] + found
        return None

    return {id(n) for n in (search(root) or [])}


#: Cells shown side by side at most (the ellipsis counts as one); a cell is wide.
DEFAULT_MAX_CELLS = 4


def cell_graph(model: Model, *, unrolled: bool = False, steps: int = 3,
               max_columns: int = DEFAULT_MAX_CELLS) -> CellGraph:
    """The operation graph of ``model``: folded (one cell) or unrolled over ``steps``.

    Beyond ``max_columns`` cells the middle steps collapse into one ellipsis
    (``collapsed`` in the JSON), as in the variable views.

    Raises:
        ValueSpecError: ``steps`` below 1 in the unrolled view, ``max_columns`` below 3; an
            encoder-decoder, whose two cells are drawn by :mod:`rnnviz.diagrams.cell_phased`.
    """
    if model.phases is not None:
        raise ValueSpecError("an encoder-decoder has two cells over two sequences: its cell views are drawn by "
                             "rnnviz.diagrams.cell_phased.build (the encoder's cells, the context, the decoder's)")
    if unrolled and steps < 1:
        raise ValueSpecError(f"the unrolled cell view needs at least 1 step, got {steps}")
    if max_columns < 3:
        raise ValueSpecError(f"max_columns must be at least 3 (first cell, ellipsis, last cell), got {max_columns}")
    return _Builder(model, unrolled, steps, max_columns).build()


def graph(model: Model, *, unrolled: bool = False, steps: int = 3, max_columns: int = DEFAULT_MAX_CELLS) -> dict:
    """The JSON graph of a cell view (see the module docstring; an encoder-decoder's is
    :func:`rnnviz.diagrams.cell_phased.build`'s)."""
    return cell_graph(model, unrolled=unrolled, steps=steps, max_columns=max_columns).to_json()

