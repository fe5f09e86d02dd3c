"""Model -> neutral graph of the variable views: folded and unrolled.

The graph summarises the model's expression trees: one node per variable (per
step when unrolled) and one edge per variable read, labelled by the
parameter(s) that multiply the read in the tree (``U`` for ``U x[t]``, none
for ``f[t] * c[t-1]``). It knows nothing about Graphviz; :mod:`rnnviz.diagrams.dot`
draws it and :meth:`Graph.to_json` is the machine-readable contract described
in ``docs/json-graph.md``.

Example:
    >>> from rnnviz.language import load_model
    >>> g = build(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "folded")
    >>> [(e.source, e.target, e.param, e.delay) for e in g.edges]
    [('h', 'h', 'W', 1), ('x', 'h', 'U', 0)]
    >>> u = build(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "unrolled", steps=2)
    >>> [n.id for n in u.nodes]
    ['x@1', 'x@2', 'h@0', 'h@1', 'h@2']
"""

from __future__ import annotations

from .._dataclasses import dataclass, field, replace

from ..errors import ValueSpecError
from ..language import Model
from ..language import expr as E
from ..language.syntax import Name

__all__ = ["Node", "Edge", "Graph", "Read", "build", "folded", "unrolled", "phased_folded", "phased_unrolled",
           "reads_of", "levels", "carried_outputs",
           "DEFAULT_MAX_COLUMNS", "VIEWS"]

#: Beyond this many time steps the unrolled view collapses its middle steps.
DEFAULT_MAX_COLUMNS = 6
VIEWS = ("folded", "unrolled")

ELLIPSIS = "..."


@dataclass(frozen=True)
class Node:
    """One variable (folded) or one variable at one step (unrolled).

    ``time`` is ``None`` in the folded view and on ellipsis nodes (which stand
    for the collapsed middle steps of a row).
    """

    id: str
    name: str
    time: int | None
    role: str
    display: Name = field(compare=False, repr=False, default=Name("?"))
    ellipsis: bool = False
    #: A chain that runs backward in time (``g[t] = ... g[t+1] ...``): drawn above the forward row.
    backward: bool = False
    #: A target: an input read only by a loss (``y`` of ``L = (o - y)^2``), drawn beside that loss.
    target: bool = False
    #: An output that is the state its own step carries on (the LSTM's h): drawn as a state
    #: with the output's mark (see :func:`carried_outputs`).
    carried: bool = False
    #: An encoder-decoder's phase: ``encoder``, ``context`` or ``decoder`` (``time`` is the
    #: step within it); ``""`` for a model of one phase.
    phase: str = ""

    def to_json(self) -> dict:
        out = {"id": self.id, "name": self.name, "time": self.time, "role": self.role}
        if self.phase:
            out["phase"] = self.phase
        if self.ellipsis:
            out["ellipsis"] = True
        if self.backward:
            out["direction"] = "backward"
        if self.target:
            out["target"] = True
        return out


@dataclass(frozen=True)
class Edge:
    """A read of ``source`` by the equation of ``target``, ``delay`` steps back.

    ``param`` is the canonical name of the parameter that multiplies the read
    (several, outermost first, joined by a space: ``"V U"``), or ``None``.
    """

    source: str
    target: str
    param: str | None
    delay: int

    def to_json(self) -> dict:
        return {"source": self.source, "target": self.target, "param": self.param, "delay": self.delay}


@dataclass(frozen=True)
class Graph:
    """A neutral graph: ``view`` is ``folded`` or ``unrolled``; ``steps`` is N (0 when folded).

    ``collapsed`` is the (first, last) hidden step when middle steps were
    collapsed into an ellipsis column, else ``None``.
    """

    view: str
    steps: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    collapsed: tuple[int, int] | None = None
    #: An encoder-decoder's decoder steps (``steps`` are the encoder's), and its collapsed ones.
    decoder_steps: int = 0
    decoder_collapsed: tuple[int, int] | None = None

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def to_json(self) -> dict:
        """The JSON contract (``docs/json-graph.md``): plain dicts, lists, str, int, None."""
        out = {
            "view": self.view,
            "steps": self.steps,
            "nodes": [n.to_json() for n in self.nodes],
            "edges": [e.to_json() for e in self.edges],
        }
        if self.collapsed is not None:
            out["collapsed"] = list(self.collapsed)
        if self.decoder_steps:
            out["decoder_steps"] = self.decoder_steps
            if self.decoder_collapsed is not None:
                out["decoder_collapsed"] = list(self.decoder_collapsed)
        return out


@dataclass(frozen=True)
class Read:
    """A variable read inside an equation, with the parameters acting on it."""

    name: str
    delay: int
    params: tuple[str, ...]


def reads_of(expr: E.Expr) -> list[Read]:
    """The variable reads of an expression tree, each (name, delay, params) once, in tree order.

    A parameter acts on every variable in the other operand of a product
    (``W [h[t-1], x[t]]`` labels both reads ``W``); parameters of nested
    products accumulate, outermost first.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("c[t] = f[t] * c[t-1] + V tanh(U x[t])\\nf[t] = x[t]")
        >>> reads_of(m.equation("c").expr)
        [Read(name='f', delay=0, params=()), Read(name='c', delay=1, params=()), Read(name='x', delay=0, params=('V', 'U'))]
    """
    out: list[Read] = []

    def visit(e: E.Expr, params: tuple[str, ...]) -> None:
        if isinstance(e, E.Var):
            r = Read(e.name, e.delay, params)
            if r not in out:
                out.append(r)
            return
        if isinstance(e, (E.Prod, E.EMul)):
            lp = _param_names(e.left)
            rp = _param_names(e.right)
            # `W x` or `x W` (`h_t * V`): the parameter side acts on the other side.
            visit(e.left, params + rp if rp is not None else params)
            visit(e.right, params + lp if lp is not None else params)
            return
        if isinstance(e, E.Call) and e.abstract:
            # `f(x_t, h_{t-1}; w_h)`: the parameters among the arguments label every variable one.
            labels = tuple(a.name for a in e.arguments if isinstance(a, E.Param))
            for a in e.arguments:
                if not isinstance(a, E.Param):
                    visit(a, params + labels)
            return
        for child in E.children(e):
            visit(child, params)

    visit(expr, ())
    return out


def _param_names(e: E.Expr) -> tuple[str, ...] | None:
    """The parameter names of a side made only of parameters (``W``, ``W_1 W_2``), else None."""
    if isinstance(e, E.Param):
        return (e.name,)
    if isinstance(e, E.Prod):
        left, right = _param_names(e.left), _param_names(e.right)
        if left is not None and right is not None:
            return left + right
    return None


def levels(model: Model) -> dict[str, int]:
    """Row of each input and variable: inputs 0, a variable one above what it reads at t.

    The rows put inputs at the bottom and outputs at the top, in both views.

    Example:
        >>> from rnnviz.language import load_model
        >>> levels(load_model("h[t] = tanh(W h[t-1] + U x[t])\\ny[t] = V h[t]"))
        {'x': 0, 'h': 1, 'y': 2}
    """
    return _levels(model, set(model.backward))


def _levels(model: Model, backward: set[str], base: dict[str, int] | None = None) -> dict[str, int]:
    level = {name: 0 for name in model.inputs}
    for eq in model.equations:  # evaluation order: same-step reads come first
        below = [level.get(r.name, 0) for r in reads_of(eq.expr) if r.delay == 0 and r.name in level]
        if base is not None and eq.target in backward:
            # A backward chain sits one row above the forward variables of its row (Fig. 10.11).
            below += [level[n] for n, lv in base.items() if lv == base[eq.target] and n not in backward
                      and n in level and lv > 0]
        level[eq.target] = max(below, default=0) + 1
    if base is None and backward:
        return _levels(model, backward, level)
    for x in targets_of(model):  # a target sits beside the loss it feeds (Fig. 10.3)
        readers = [level[eq.target] for eq in model.equations if any(r.name == x for r in reads_of(eq.expr))]
        level[x] = min(readers)
    return level


def targets_of(model: Model) -> set[str]:
    """The inputs read only by losses (``y`` in ``L^{(t)} = (o^{(t)} - y^{(t)})^2``): the targets of Fig. 10.3."""
    losses = set(model.losses) | {n for n in model.variables if n in ("L", "ell", "loss")}
    readers: dict[str, set[str]] = {}
    for eq in model.equations:
        for r in reads_of(eq.expr):
            readers.setdefault(r.name, set()).add(eq.target)
    return {x for x in model.inputs if readers.get(x) and readers[x] <= losses}


def carried_outputs(model: Model) -> frozenset[str]:
    """The outputs that are also the state of their recurrence: the LSTM's, GRU's and 1-D ReLU RNN's h.

    An output ``v`` is carried when its own value at t-1 comes back into ``v[t]``
    through no other state: directly (``h[t] = relu(W h[t-1] + ...)``) or through
    gates and other intermediate variables (the LSTM's ``o[t]`` reads
    ``h[t-1]``). An output fed back into a hidden layer that has a state of its
    own (Goodfellow's ``y[t-1]`` into ``h2[t]``) stays an output.

    Example:
        >>> from rnnviz.language import load_model
        >>> sorted(carried_outputs(load_model("h[t] = relu(W h[t-1] + U x[t])")))
        ['h']
        >>> sorted(carried_outputs(load_model("h[t] = tanh(W h[t-1] + T y[t-1] + U x[t])\\ny[t] = V h[t]")))
        []
    """
    return model.memo("diagrams.carried_outputs", lambda: frozenset(_carried(model)))


def _carried(model: Model) -> set[str]:
    same_step: dict[str, set[str]] = {}  # name -> the names its equation reads at the same step
    delayed: dict[str, set[str]] = {}  # name -> the equations that read it at an earlier step
    for eq in model.equations:
        for r in reads_of(eq.expr):
            (same_step.setdefault(eq.target, set()) if r.delay == 0 else delayed.setdefault(r.name, set())).add(
                r.name if r.delay == 0 else eq.target)
    out = set()
    for v in model.variables:
        if model.role(v) != "output" or v not in delayed:
            continue
        # Walk down from v[t] through same-step reads that are not states; v[t-1] read on the way?
        seen, todo = set(), [v]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in delayed[v]:
                out.add(v)
                break
            todo.extend(m for m in same_step.get(n, ()) if model.role(m) != "state")
    return out


def _nodes_order(model: Model) -> list[str]:
    lv = levels(model)
    names = list(model.inputs) + list(model.variables)
    return sorted(names, key=lambda n: (lv[n], names.index(n)))


def folded(model: Model) -> Graph:
    """The folded graph: one node per input and computed variable, one edge per read."""
    syms = model.symbols
    back = set(model.backward)
    aims = targets_of(model)
    kept = carried_outputs(model)
    nodes = tuple(Node(n, n, None, syms[n].role, syms[n].display, backward=n in back, target=n in aims,
                       carried=n in kept)
                  for n in _nodes_order(model))
    edges: list[Edge] = []
    for eq in model.equations:
        for r in reads_of(eq.expr):
            e = Edge(r.name, eq.target, " ".join(r.params) or None, r.delay)
            if e not in edges:
                edges.append(e)
    return Graph("folded", 0, nodes, tuple(edges))


def _id(name: str, time: int | str) -> str:
    return f"{name}@{time}"


def unrolled(model: Model, steps: int = 3, *, max_columns: int = DEFAULT_MAX_COLUMNS) -> Graph:
    """The unrolled graph over ``steps`` steps; middle steps collapse beyond ``max_columns``.

    Step 0 (and -1... for longer delays) holds the initial states of recurrent
    variables and the inputs read at a delay. An edge from step t-k to step t
    keeps delay k.

    Raises:
        ValueSpecError: ``steps`` < 1 or ``max_columns`` < 3.
    """
    if steps < 1:
        raise ValueSpecError(f"the number of steps to unroll must be at least 1, got {steps}")
    if max_columns < 3:
        raise ValueSpecError(f"max_columns must be at least 3 (first step, ellipsis, last step), got {max_columns}")
    syms = model.symbols
    order = _nodes_order(model)
    computed = set(model.variables)
    back = set(model.backward)
    aims = targets_of(model)
    kept = carried_outputs(model)
    hidden: set[int] = set()
    collapsed = None
    if steps > max_columns:
        keep = max_columns - 1
        head = (keep + 1) // 2
        tail = keep - head
        hidden = set(range(head + 1, steps - tail + 1))
        collapsed = (head + 1, steps - tail)

    # Which (name, step) exist: every variable and input at 1..N, plus whatever is read outside.
    once = set(model.once)  # o = V h_T + c: one node, at the last step (Fig. 10.5)
    present: set[tuple[str, int]] = {(n, t) for n in order for t in range(1, steps + 1)
                                     if n not in once or t == steps}
    raw_edges: list[tuple[str, int, str, int, str | None, int]] = []
    reads = [(eq, reads_of(eq.expr)) for eq in model.equations]
    for t in range(1, steps + 1):
        for eq, eq_reads in reads:
            if eq.once and t != steps:
                continue
            for r in eq_reads:
                s = t - r.delay
                if r.name in computed and s > steps and r.name not in back:
                    continue  # never: only a backward chain is read ahead (from its start at T+1)
                present.add((r.name, s))
                raw_edges.append((r.name, s, eq.target, t, " ".join(r.params) or None, r.delay))

    def shown(t: int) -> bool:
        return t not in hidden

    nodes: list[Node] = []
    times = sorted({t for _, t in present})
    for name in order:
        row_hidden = False
        for t in times:
            if (name, t) not in present:
                continue
            if not shown(t):
                if not row_hidden:
                    row_hidden = True
                    nodes.append(Node(_id(name, ELLIPSIS), name, None, syms[name].role, syms[name].display, True,
                                      name in back, name in aims, name in kept))
                continue
            nodes.append(Node(_id(name, t), name, t, syms[name].role, syms[name].display, backward=name in back,
                              target=name in aims, carried=name in kept))
    # Ellipsis nodes come right after the last shown step before the gap in each row.
    rank = {name: i for i, name in enumerate(order)}
    nodes.sort(key=lambda n: (rank[n.name], _column_key(n, collapsed)))

    edges: dict[Edge, None] = {}  # an ordered set: edges into the ellipsis repeat
    for src, s, dst, t, param, delay in raw_edges:
        if not shown(s) and not shown(t):
            continue
        a = _id(src, s) if shown(s) else _id(src, ELLIPSIS)
        b = _id(dst, t) if shown(t) else _id(dst, ELLIPSIS)
        edges[Edge(a, b, param, delay)] = None
    return Graph("unrolled", steps, tuple(nodes), tuple(edges), collapsed)


def _column_key(node: Node, collapsed: tuple[int, int] | None) -> float:
    """Sort key of a node's column; the ellipsis sits between the kept steps."""
    if node.ellipsis and collapsed is not None:
        return collapsed[0] - 0.5
    return float(node.time if node.time is not None else 0)


def build(model: Model, view: str = "folded", *, steps: int = 3, max_columns: int = DEFAULT_MAX_COLUMNS,
          decoder_steps: int = 3) -> Graph:
    """The graph of one variable view: ``folded`` or ``unrolled``.

    An encoder-decoder unrolls its encoder over ``steps`` and its decoder over ``decoder_steps``
    (:func:`phased_unrolled`); its folded graph is :func:`phased_folded`'s.

    Raises:
        ValueSpecError: an unknown view, or bad ``steps``/``max_columns``.
    """
    if model.phases is not None and view in VIEWS:  # an encoder-decoder (Fig. 10.12)
        if view == "folded":
            return phased_folded(model)
        if decoder_steps < 1:
            raise ValueSpecError(f"the number of decoder steps to unroll must be at least 1, got {decoder_steps}")
        return phased_unrolled(model, steps, decoder_steps, max_columns=max_columns)
    if view == "folded":
        return folded(model)
    if view == "unrolled":
        return unrolled(model, steps, max_columns=max_columns)
    raise ValueSpecError(f"unknown view '{view}'; the variable views are folded and unrolled")


# -- an encoder-decoder (Goodfellow et al., Fig. 10.12) --------------------------------------
#
# Unrolled: the encoder's columns (steps 0..T), one column with the context (computed once, at
# the encoder's step T), then the decoder's columns (its own steps 0..T'). The context's edges
# fan into every decoder step that reads it and into the decoder's start (s_0 = tanh(D c) is
# the edge c -> s^{(0)} labelled D). Folded, the start is a node of its own whose value enters
# its chain one step later, through a delay square. Nodes carry their phase; ``time`` is the
# step within it. rnnviz.diagrams.phased lays the unrolled graph out.

def phased_folded(model: Model) -> Graph:
    """The folded graph, with each decoder start entering its chain one step later."""
    g = folded(model)
    ph = model.phases
    starts = dict(ph.starts)
    phase = {n: "context" for n in ph.encoder.once}
    phase.update({n: "decoder" for n in ph.decoder.symbols if n not in phase and n in model.symbols
                  and model.symbols[n].kind != "parameter"})
    nodes = tuple(replace(n, phase=phase.get(n.name, "encoder"),
                          role="state" if n.name in starts.values() else n.role) for n in g.nodes)
    edges = g.edges + tuple(Edge(start, chain, None, 1) for chain, start in ph.starts)
    return Graph("folded", 0, nodes, edges)


def phased_unrolled(model: Model, steps: int = 3, decoder_steps: int = 3, *,
                    max_columns: int = DEFAULT_MAX_COLUMNS) -> Graph:
    """The unrolled graph: the encoder over ``steps`` steps, the context, the decoder over ``decoder_steps``."""
    ph = model.phases
    starts = dict(ph.starts)
    start_names = set(starts.values())
    contexts = set(ph.encoder.once)
    enc = unrolled(ph.encoder, steps, max_columns=max_columns)
    dec = unrolled(ph.decoder, decoder_steps, max_columns=max_columns)
    syms = model.symbols
    nodes: list[Node] = []
    for n in enc.nodes:
        if n.name in start_names:
            continue
        nodes.append(replace(n, phase="context" if n.name in contexts else "encoder",
                             role=syms[n.name].role, display=syms[n.name].display))
    read = {e.source for e in dec.edges}
    for n in dec.nodes:
        if n.name in ph.contexts:
            continue  # the context is read from its one node
        if n.role == "input" and n.id not in read and not n.ellipsis:
            continue  # y at T' when the decoder reads y_{t-1}: nothing reads it
        nodes.append(replace(n, phase="decoder"))
    edges: dict[Edge, None] = {}
    for e in enc.edges:
        if e.target.split("@")[0] not in start_names:
            edges[e] = None
    last = f"@{steps}"
    for chain, start in ph.starts:  # s_0 = tanh(D c): edges from what it reads into s at step 0
        for r in reads_of(ph.encoder.equation(start).expr):
            edges[Edge(r.name + last, f"{chain}@0", " ".join(r.params) or None, 0)] = None
    for e in dec.edges:
        name, _, _ = e.source.partition("@")
        if name in ph.contexts:
            edges[Edge(name + last, e.target, e.param, 0)] = None
        else:
            edges[e] = None
    return Graph("unrolled", steps, tuple(nodes), tuple(edges), enc.collapsed,
                 decoder_steps=decoder_steps, decoder_collapsed=dec.collapsed)
