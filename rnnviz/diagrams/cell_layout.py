"""Where the nodes of a cell view go: rows, left-to-right order, relay points.

The rows are computed here rather than left to Graphviz, so that the picture
looks like the course figures whatever the equations: inputs on the bottom row,
each operation one row above what it reads (longest path), each additive path
(the cell state's "gradient highway") contracted to a single row, and within a
row a fixed order (forget/reset gates, update/input gates, candidates, the
additive path, the output gate). :mod:`rnnviz.diagrams.cell_dot` writes them as
``rank=same`` groups and invisible chains.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.diagrams.cell import cell_graph
    >>> g = cell_graph(load_model("h[t] = tanh(W h[t-1] + U x[t])"))
    >>> rows = levels(g)
    >>> rows["x"], rows["h.2"], rows["h.1"], rows["h.0"], rows["h"]
    (0, 1, 2, 3, 4)
"""

from __future__ import annotations

from .cell import CellGraph, CellNode

__all__ = ["levels", "order_keys", "relays", "step_of", "barycentre"]


def levels(g: CellGraph) -> dict[str, int] | None:
    """Row of every node of a *folded* cell graph (0 = bottom), or ``None`` if the
    additive paths cannot be made straight rows (then Graphviz ranks alone).

    Parameter boxes and constants take the row of the operation they feed; each
    highway (``lane``) is contracted to one row; reads of a highway's previous
    value do not push anything up, since that value enters from the left.
    """
    attached = {e.source: e.target for e in g.edges if e.attached}

    def group(n: CellNode) -> str:
        return f"lane {n.lane}" if n.lane else n.id

    preds: dict[str, set[str]] = {group(n): set() for n in g.nodes.values() if n.id not in attached}
    fed_from_side: set[str] = set()
    for e in g.edges:
        if e.attached:
            continue
        src, dst = g.nodes[e.source], g.nodes[e.target]
        if src.lane and src.time is not None and src.time < 0:
            fed_from_side.add(group(dst))  # c[t-1] enters from the left of its row: above the inputs
            continue
        a, b = group(src), group(dst)
        if a != b:
            preds[b].add(a)
    level: dict[str, int] = {}
    pending = dict(preds)
    while pending:
        ready = sorted(k for k, ps in pending.items() if all(p in level for p in ps))
        if not ready:
            return None  # a cycle through a highway: leave the ranks to Graphviz
        for k in ready:
            level[k] = max(1 + max((level[p] for p in pending[k]), default=-1), int(k in fed_from_side))
            del pending[k]
    _lift_earlier_states(g, preds, level, group)
    out = {n.id: level[group(n)] for n in g.nodes.values() if n.id not in attached}
    for src, dst in attached.items():
        out[src] = out[dst]
    return out


def _lift_earlier_states(g: CellGraph, preds: dict[str, set[str]], level: dict[str, int], group) -> None:
    """Raise what reads only earlier steps (h[t-1] and its products) to just under its readers.

    Longest-path rows put every h[t-1] on the bottom row; in a stack, layer 2's
    h_2[t-1] is read by gates that sit above layer 1's cell, so it goes up into
    layer 2's band beside h_1[t] instead of sending long wires up through layer
    1. A single cell is unchanged: its h[t-1] is read on the row above the inputs.
    """
    succ: dict[str, set[str]] = {k: set() for k in preds}
    for k, ps in preds.items():
        for p in ps:
            succ[p].add(k)
    first = {group(n) for n in g.nodes.values()
             if not n.lane and n.time is not None and n.time < 0 and group(n) in preds and not preds[group(n)]}
    past = set(first)
    for k in sorted(preds, key=level.__getitem__):  # in row order: every pred is decided before
        if preds[k] and preds[k] <= past:
            past.add(k)
    # A band ends at the row of the states it computes (h_1[t], read by the band above).
    state_rows = {level[group(n)] for n in g.nodes.values() if n.role in ("state", "output")
                  and not n.lane and n.time is not None and n.time >= 0 and group(n) in level}

    def band(row: int) -> int:
        return sum(r < row for r in state_rows)

    for k in sorted(past, key=level.__getitem__, reverse=True):
        if succ[k]:
            # Read in two layers' bands (h_2[t-1] by layer 1's and layer 2's sums): it enters
            # the upper band, as it does from the previous step, and drops into the lower one.
            top = max(band(level[s]) for s in succ[k])
            level[k] = max(level[k], min(level[s] for s in succ[k] if band(level[s]) == top) - 1)


def relays(g: CellGraph, edges: list, level: dict[str, int]) -> dict[tuple[str, int], str]:
    """(source, step) -> relay id, for values that go down into a cell (h[t-1] into the gates).

    One wire drops to the bottom of the cell and branches there, instead of one
    long wire per gate looping across the whole figure. A value read in two
    layers' bands (h_2[t-1] into layer 1's and layer 2's sums) gets no relay: a
    relay at the bottom would send its read in layer 2 down through layer 1
    and back up; each band's read comes straight down instead.
    """
    targets: dict[tuple[str, int], list[int]] = {}
    for e in edges:
        if level.get(e.source, 0) > level.get(e.target, 0):
            k = (e.source, step_of(g.nodes[e.target]))
            targets.setdefault(k, []).append(level.get(e.target, 0))
    # A band ends at the row of the states it computes (h_1[t], read by the band above).
    state_rows = sorted({level[n.id] for n in g.nodes.values() if n.id in level and n.role in ("state", "output")
                         and not n.lane and n.time is not None and n.time > 0})

    def band(row: int) -> int:
        return sum(r < row for r in state_rows)

    return {k: f"relay.{k[0]}.{k[1]}" for k, rows in targets.items()
            if len(rows) > 1 and len({band(r) for r in rows}) == 1}


#: Subtracted from the position in its equation of an operation that goes first in its row.
_FIRST = 10_000

_ROLE_RANK = {"forget": 0, "reset": 1, "update": 2, "input": 3, "gate": 4}


def order_keys(g: CellGraph) -> dict[str, tuple]:
    """Left-to-right sort key of every node inside its row."""
    report = g.report
    unrolled = g.view != "cell"
    used_by_lane = {g.nodes[e.source].name for e in g.edges
                    if g.nodes[e.target].eq in report.highways and g.nodes[e.source].role == "hidden"}

    def eq_rank(eq: str | None, node: CellNode | None = None) -> tuple[int, int]:
        if eq is None:
            # Inputs left of the earlier states that enter from below: x fans into the W
            # products, h[t-1] into the U products right of each, and the two fans cross
            # least that way round (6 times for four gates, against 10).
            return (-1, 0)
        pos = g.model.variables.index(eq)
        role = report.roles.get(eq)
        if role == "update" and unrolled:
            # Unrolled, a GRU's update gate goes right of the candidate, under the mix
            # z * h[t-1] + (1 - z) * h~ it feeds: its two wires up then pass beside the
            # candidate's chain instead of across it (the seq2seq GRU: 47 crossings, 43).
            return (9, pos)
        if role in _ROLE_RANK:
            return (_ROLE_RANK[role], pos)
        if eq in used_by_lane:
            return (5, pos)
        if eq in report.highways:
            return (6, pos)
        if role == "output":
            return (7, pos)
        return (8, pos)

    consumer = {e.source: g.nodes[e.target] for e in g.edges if e.attached}
    keys: dict[str, tuple] = {}
    for n in g.nodes.values():
        owner, sub = (consumer[n.id], 0) if n.id in consumer else (n, 1)
        step = step_of(owner)
        seq = -owner.seq if owner.lane and owner.role == "op" else owner.seq
        keys[n.id] = (step, eq_rank(owner.eq, owner), seq, sub, n.id)
    if g.view != "cell":
        # Unrolled, the previous step's states come in from the left of a cell: the products
        # that read one (V h_1[t-1], W h_2[t-1]) go first among their equation's operations,
        # their parameter boxes with them, instead of right of the inputs' products with their
        # wires across them (the two-layer net: 15 crossings over 3 steps, against 9).
        past = {e.target for e in g.edges if not e.attached and g.nodes[e.target].role == "op"
                and not g.nodes[e.target].lane and g.nodes[e.source].role in ("state", "hidden", "output")
                and g.nodes[e.source].time is not None and g.nodes[e.target].time is not None
                and g.nodes[e.source].time < g.nodes[e.target].time}
        for nid in past:
            k = keys[nid]
            keys[nid] = (k[0], k[1], k[2] - _FIRST, *k[3:])
        for nid, owner in consumer.items():
            if owner.id in past:
                k = keys[nid]
                keys[nid] = (k[0], k[1], k[2] - _FIRST, *k[3:])
    # The values that enter a cell from below (x[t], h[t-1]) go in the order of what they
    # feed (the barycentre of their readers): their fans then cross as little as they can.
    index = {nid: i for i, nid in enumerate(sorted(keys, key=keys.__getitem__))}
    out_edges: dict[str, list] = {}
    for e in g.edges:
        if not e.attached:
            out_edges.setdefault(e.source, []).append(e)
    entering: dict[str, list] = {}
    for n in g.nodes.values():
        if (n.seq == -1 and n.role not in ("op", "parameter", "constant") and n.id not in consumer
                and not n.lane and not n.ellipsis and out_edges.get(n.id)):
            first = min(step_of(g.nodes[e.target]) for e in out_edges[n.id])  # the cell it enters
            entering[n.id] = [e for e in out_edges[n.id] if step_of(g.nodes[e.target]) == first]
    for nid, fed in entering.items():
        if fed:
            others = {e.target for m, es in entering.items() if m != nid for e in es}
            # In the row of the cell it enters from below (h[t-1] and x[t] side by side).
            step = step_of(g.nodes[fed[0].target])
            keys[nid] = (step, (-1, 0), barycentre(g, keys, fed, index, others), 1, nid)
    return keys


def barycentre(g: CellGraph, keys: dict[str, tuple], fed: list, index: dict[str, int] | None = None,
               others: set[str] | frozenset[str] = frozenset()) -> float:
    """Mean position of the readers of ``fed`` (edges) in the left-to-right order of ``keys``.

    Two values read by one operation ([h, x]) keep the order of its operands.
    """
    if index is None:
        index = {nid: i for i, nid in enumerate(sorted(keys, key=keys.__getitem__))}
    operand: dict[int, float] = {}
    seen: dict[str, int] = {}
    for k, e in enumerate(g.edges):
        if not e.attached:
            seen[e.target] = seen.get(e.target, 0) + 1
            operand[id(e)] = seen[e.target] / 100
    # Readers shared with another value entering the same operation come first: their
    # operand order ([h, x]) decides, rather than where the other readers happen to be.
    shared = [e for e in fed if e.target in others and e.target in index]
    pos = [index[e.target] + operand.get(id(e), 0.0) for e in (shared or fed) if e.target in index]
    return sum(pos) / len(pos) if pos else 0.0


def step_of(n: CellNode) -> float:
    """The step of a node of the unrolled graph (parameters carry it in their id)."""
    if n.column is not None:
        return n.column  # type: ignore[return-value]
    if n.time is not None:
        return n.time
    return int(n.id.rsplit("@", 1)[1]) if "@" in n.id else 0
