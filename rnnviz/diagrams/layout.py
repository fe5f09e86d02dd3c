"""Geometry of the variable diagrams: levels (rows), columns, pinned grid, detours.

The unrolled view is laid out by rnnviz itself, not by Graphviz: one column per
step and one row per level, every column alike. This module computes those
positions, and for grids too large for Graphviz's edge router, the detours
that keep straight edges clear of the nodes.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.diagrams.graph import build
    >>> g = build(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "unrolled", steps=2)
    >>> levels(g)
    {'x': 0, 'h': 1}
    >>> pos = positions(g, levels(g), {"x": 0, "h": 1}, annotated=False)
    >>> pos["h@2"][0] - pos["h@1"][0] == pos["x@2"][0] - pos["x@1"][0]
    True
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from .._dataclasses import dataclass

from .graph import Graph, Node

__all__ = ["levels", "columns", "positions", "Router", "distance", "ROUTED_MAX_NODES",
           "SLOT_WIDTH", "COLUMN_GAP", "ROW_HEIGHT", "ELLIPSIS_WIDTH", "Fan", "fans", "gated_rows"]


def levels(graph: Graph) -> dict[str, int]:
    """Level of each variable from the graph itself: 0 for names nothing feeds at the same step."""
    same_step: dict[str, set[str]] = {}
    by_id = {n.id: n for n in graph.nodes}
    for e in graph.edges:
        if e.delay == 0:
            same_step.setdefault(by_id[e.target].name, set()).add(by_id[e.source].name)
    level: dict[str, int] = {}

    def of(name: str, seen: frozenset = frozenset()) -> int:
        if name not in level:
            below = [of(s, seen | {name}) for s in sorted(same_step.get(name, ())) if s not in seen and s != name]
            level[name] = max(below, default=-1) + 1
        return level[name]

    for n in graph.nodes:
        of(n.name)
    back = {n.name for n in graph.nodes if n.backward}
    if back:
        # A backward chain sits one row above the forward variables of its row (Fig. 10.11):
        # read as if it also fed on them at the same step, and everything above moves up.
        base = dict(level)
        for b in back:
            same_step.setdefault(b, set()).update(
                n for n, lv in base.items() if lv == base[b] and n not in back and lv > 0)
        level.clear()
        for n in graph.nodes:
            of(n.name)
    # A target (an input read only by a loss) sits beside that loss, as in Fig. 10.3.
    by_id = {n.id: n for n in graph.nodes}
    for x in {n.name for n in graph.nodes if n.target}:
        readers = [level[by_id[e.target].name] for e in graph.edges if by_id[e.source].name == x]
        if readers:
            level[x] = min(readers)
    return level


@dataclass(frozen=True)
class Fan:
    """Two or more values (h[t-1], x[t]) read by the same gates of one step, joined at one point.

    Drawn as one wire from each source to a junction and one wire from there
    to each gate, as in colah's and d2l's LSTM figures: the two fans of
    separate edges would cross each other once per pair of gates.
    """

    id: str
    time: int
    sources: tuple[str, ...]  # node ids, in the graph's node order
    targets: tuple[str, ...]  # node ids, in the graph's node order


def fans(graph: Graph) -> list[Fan]:
    """The junctions of an unrolled graph: per step, the sources sharing at least two targets.

    Example:
        >>> from rnnviz.language import load_model
        >>> from rnnviz.diagrams.graph import build
        >>> m = load_model("f[t] = sigmoid(W x[t] + U h[t-1])\\ng[t] = tanh(V x[t] + R h[t-1])\\n"
        ...                "h[t] = f[t] * g[t]")
        >>> [(f.sources, f.targets) for f in fans(build(m, "unrolled", steps=1))]
        [(('x@1', 'h@0'), ('f@1', 'g@1'))]
        >>> fans(build(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "unrolled", steps=2))
        []
    """
    if graph.view != "unrolled":
        return []
    by_id = {n.id: n for n in graph.nodes}
    index = {n.id: i for i, n in enumerate(graph.nodes)}
    reads: dict[int, dict[str, set[str]]] = {}
    for e in graph.edges:
        src, dst = by_id[e.source], by_id[e.target]
        if dst.ellipsis or dst.time is None:
            continue  # (an ellipsis source, h at the steps left out, joins like any h[t-1])
        reads.setdefault(dst.time, {}).setdefault(e.source, set()).add(e.target)
    out = []
    for t in sorted(reads):
        by_source = reads[t]
        order = sorted((s for s, ts in by_source.items() if len(ts) >= 2),
                       key=lambda s: (-len(by_source[s]), index[s]))
        # One junction per group of gates: each layer of a stacked LSTM joins its own
        # h_l[t-1] and h_{l-1}[t], as the single layer joins h[t-1] and x[t].
        taken: set[str] = set()
        fed: set[str] = set()
        for seed in order:
            if seed in taken:
                continue
            group, common = [seed], set(by_source[seed]) - fed
            for s in order:
                if s != seed and s not in taken and len(common & by_source[s]) >= 2:
                    group.append(s)
                    common &= by_source[s]
            if len(group) < 2 or len(common) < 2:
                continue
            k = sum(f.time == t for f in out)
            out.append(Fan(f"junction_{t}" if k == 0 else f"junction_{t}_{k + 1}", t,
                           tuple(sorted(group, key=index.__getitem__)), tuple(sorted(common, key=index.__getitem__))))
            taken |= set(group)
            fed |= common
    return out


def gated_rows(graph: Graph, level: Mapping[str, int], found: list[Fan]) -> tuple[dict[str, float], set[str]]:
    """Rows of a graph with junctions, and the variables that join the junctions' row.

    A state read through a junction that nothing reads at its own step (the
    LSTM's h, which is what the model outputs) moves down to the junction's
    row, half a level under the gates: its chain h[t] -> junction[t+1] then
    runs straight, under the cell-state line, and no fan of h[t-1] crosses the
    cell state going down. Other rows keep their level.
    """
    rows: dict[str, float] = {k: float(v) for k, v in level.items()}
    if not found:
        return rows, set()
    by_id = {n.id: n for n in graph.nodes}
    read_now = {by_id[e.source].name for e in graph.edges if e.delay == 0}
    reads_itself = {by_id[e.source].name for e in graph.edges
                    if e.delay and by_id[e.source].name == by_id[e.target].name}
    gate_row = min(level[by_id[t].name] for f in found for t in f.targets)
    moved = set()
    for f in found:
        for s in f.sources:
            n = by_id[s]
            if (n.time is not None and n.time < f.time and n.name not in read_now
                    and n.name not in reads_itself and level[n.name] > gate_row):
                moved.add(n.name)
    for name in moved:
        rows[name] = gate_row - 0.5
    return rows, moved


#: Unrolled layout, in inches: width of one variable's slot, gap between steps, row height.
SLOT_WIDTH = 1.05
COLUMN_GAP = 0.95
ROW_HEIGHT = 1.45
ELLIPSIS_WIDTH = 0.9
#: Room beside a node in its slot, and between two rows of nodes, in inches (for the edges).
SLOT_PAD = 0.3
ROW_GAP = 0.75


def positions(graph: Graph, level: Mapping[str, float], row_order: Mapping[str, int],
              annotated: bool, sizes: Mapping[str, tuple[float, float]] | None = None,
              *, moved: set[str] | frozenset[str] = frozenset(), found: list[Fan] | tuple = (),
              row_gap: float = ROW_GAP, row_min: float | None = None) -> dict[str, tuple[float, float]]:
    """Pinned (x, y) of each unrolled node (and junction): one column per step, one row per level.

    Variables of one level sit side by side in fixed slots, the same in every
    column, so that column t looks like column t+1. ``sizes`` (name -> the
    largest width and height, in inches, of that variable's nodes) widens a
    slot and heightens a row where numbers make nodes larger, so that no two
    nodes overlap however long the values shown. ``moved`` variables (see
    :func:`gated_rows`) sit right of the gates, each ``found`` junction left of
    them, so that the chain from one to the next runs straight between two
    columns. A column of initial states only is as narrow as what it holds. ``row_gap``
    is the room between two rows' nodes (for the edges and their labels); ``row_min`` the least
    step from one row to the next (by default a row's height: turned a quarter, rows stand
    side by side and need no more than their nodes' widths and ``row_gap``).
    """
    sizes = sizes or {}
    base_w = SLOT_WIDTH * (1.35 if annotated else 1.0)
    base_h = ROW_HEIGHT * (1.3 if annotated else 1.0) if row_min is None else row_min
    if found:
        # Gated cells: slots hug their nodes, so that the steps of an LSTM fit a slide.
        # Two-digit steps widen every name (q^(10)): their labels need the room beside them.
        digits = max((len(str(n.time)) for n in graph.nodes if n.time is not None), default=1)
        base_w = SLOT_WIDTH * (0.6 if annotated else 1.15) + (0 if annotated else 0.1 * (digits - 1))
    by_id = {n.id: n for n in graph.nodes}
    feeds_moved = {by_id[e.source].name for e in graph.edges if e.delay == 0 and by_id[e.target].name in moved}
    per_level: dict[float, list[str]] = {}
    # A gate read two rows up by a state that stays above its cell (o into h_l over c_l,
    # in a stack, where the layer above reads h_l at once) goes right of the others: its
    # wire then rises beside the cell, not across the other gates' wires into c.
    read_now = {by_id[e.source].name for e in graph.edges if e.delay == 0}
    gate_names = {by_id[t].name for f in found for t in f.targets}
    skips = {by_id[e.source].name for e in graph.edges
             if e.delay == 0 and by_id[e.source].name in gate_names and by_id[e.target].name in read_now
             and level[by_id[e.target].name] - level[by_id[e.source].name] > 1}
    for name in sorted(row_order, key=lambda n: (n in feeds_moved, n in skips, row_order[n])):
        if name not in moved:
            per_level.setdefault(level[name], []).append(name)
    pad = SLOT_PAD * (0.5 if found else 1.0)
    # Rounded to the 0.01 inch the DOT is written with, so every column step is the same number.
    # Nodes of one row are drawn one size (the largest), so their slots are one width too.
    row_w: dict[float, float] = {}
    for name in row_order:
        row_w[level[name]] = max(row_w.get(level[name], 0.0), sizes.get(name, (0.0, 0.0))[0])
    slot_w = {name: round(max(base_w, (row_w[level[name]] if annotated else sizes.get(name, (0.0, 0.0))[0]) + pad), 2)
              for name in row_order}
    offset: dict[str, float] = {}
    for names in per_level.values():
        total = sum(slot_w[n] for n in names)
        x = -total / 2
        for n in names:
            offset[n] = x + slot_w[n] / 2
            x += slot_w[n]
    gate_row = [n for n in offset if n in gate_names]
    if gate_row:
        right = max(offset[n] + slot_w[n] / 2 for n in gate_row)
        for n in sorted(moved, key=row_order.__getitem__):
            # Under the gap after the last gate: beside the output gate, half a slot out.
            offset[n] = right
            right += slot_w[n]
        # The cell state right above the h it feeds: c[t] -> h[t] drops straight down beside the
        # output gate instead of cutting across the gates' wires.
        feeders = {by_id[e.source].name: by_id[e.target].name for e in graph.edges
                   if e.delay == 0 and by_id[e.target].name in moved}
        for names in per_level.values():
            if len(names) == 1 and names[0] in feeders and level[names[0]] > min(level[g] for g in gate_row):
                offset[names[0]] = offset[feeders[names[0]]]
        # Under the middle of the gates when h[t-1] comes in level from the left: the branches
        # rise steeply and their labels keep apart. When h[t-1] comes down from the top row
        # (a GRU's state), left of the gates: it drops between two steps, crossing nothing.
        if moved:
            junction_x = sum(offset[n] for n in gate_row) / len(gate_row)
        else:
            junction_x = min(offset[n] for n in gate_row)
        # An input read only through the junction sits right under it: x[t] rises straight
        # into the junction, h[t-1] comes in level from the left, as in colah's figure.
        sources = {by_id[s].name for f in found for s in f.sources}
        for names in per_level.values():
            if len(names) == 1 and names[0] in sources and level[names[0]] < min(level[g] for g in gate_row):
                offset[names[0]] = junction_x
    else:
        junction_x = 0.0
    # Every row of a step shares one column; rows of moved variables join the others.
    rows = sorted({level[n] for n in row_order} | {min(level[by_id[t].name] for t in f.targets) - 0.5 for f in found})
    height = {lv: max((sizes.get(n, (0.0, 0.0))[1] for n in row_order if level[n] == lv), default=0.0)
              for lv in rows}
    y_of: dict[float, float] = {}
    y = 0.0
    for i, lv in enumerate(rows):
        if i:
            below = rows[i - 1]
            y += round(max(base_h, (height[below] + height[lv]) / 2 + row_gap), 2)
        y_of[lv] = y

    def extent(names) -> tuple[float, float]:
        return (min(offset[n] - slot_w[n] / 2 for n in names), max(offset[n] + slot_w[n] / 2 for n in names))

    full = extent(row_order)
    if gate_row:
        full = (min(full[0], junction_x), full[1])
    cols = columns(graph)
    members: dict[int, set[str]] = {}
    initial: dict[int, bool] = {}
    for n in graph.nodes:
        c = cols[n.id]
        members.setdefault(c, set()).add(n.name)
        initial[c] = initial.get(c, True) and not n.ellipsis and n.time is not None and n.time <= 0
    ellipsis_cols = {cols[n.id] for n in graph.nodes if n.ellipsis}
    gap = COLUMN_GAP * (0.4 if found else 1.0)
    # In whole hundredths of an inch (what the DOT shows): column t+1 is column t shifted by
    # exactly the same number, with no rounding jitter.
    x_of: dict[int, int] = {}
    centre: dict[int, int] = {}
    x = 0
    for col in range(max(cols.values()) + 1):
        lo, hi = extent(members[col]) if initial.get(col) and col not in ellipsis_cols else full
        w = round(100 * (ELLIPSIS_WIDTH if col in ellipsis_cols else hi - lo + gap))
        x_of[col] = x + w // 2
        centre[col] = round(100 * (lo + hi) / 2)
        x += w
    out = {n.id: ((x_of[cols[n.id]] + (0 if n.ellipsis else round(100 * offset[n.name]) - centre[cols[n.id]])) / 100,
                  round(100 * y_of[level[n.name]]) / 100)
           for n in graph.nodes}
    for f in found:
        col = cols[f.targets[0]]
        jy = y_of[min(level[by_id[t].name] for t in f.targets) - 0.5]
        out[f.id] = ((x_of[col] + round(100 * junction_x) - centre[col]) / 100, round(100 * jy) / 100)
    return out


#: Up to this many nodes Graphviz routes the unrolled edges itself (curved, round the nodes).
#: Its router's time grows much faster than the grid: about 20 ms at 15 nodes, 375 ms at
#: 43 (two_layer, 10 steps) against 18 ms with straight lines, and on the collapsed
#: LSTM and GRU grids (32-45 nodes) it gives up and draws straight lines anyway ("falling
#: back to straight line edges"). Above this size rnnviz bends the straight edges itself.
ROUTED_MAX_NODES = 30


class Router:
    """Bends for straight edges of a large pinned grid that would pass through a node."""

    def __init__(self, graph: Graph, positions: Mapping[str, tuple[float, float]], annotated: bool) -> None:
        self.pos = positions
        self.radius = 0.6 if annotated else 0.45
        self.used: list[str] = []
        self.by_x: dict[float, list[str]] = {}
        for n in graph.nodes:
            self.by_x.setdefault(round(positions[n.id][0], 2), []).append(n.id)
        self.xs = sorted(self.by_x)

    def _near(self, a: tuple[float, float], b: tuple[float, float], skip: tuple[str, str]) -> bool:
        """Whether the segment a-b passes within the node radius of a node other than its ends."""
        lo, hi = (a[0], b[0]) if a[0] <= b[0] else (b[0], a[0])
        i = bisect.bisect_left(self.xs, lo - 1.0)
        j = bisect.bisect_right(self.xs, hi + 1.0)
        # distance() written out, with the segment's part worked out once for all nodes.
        ax, ay = a
        dx, dy = b[0] - ax, b[1] - ay
        denom = dx * dx + dy * dy
        pos, radius, hypot = self.pos, self.radius, math.hypot
        for x in self.xs[i:j]:
            for nid in self.by_x[x]:
                if nid in skip:
                    continue
                px, py = pos[nid]
                u = 0.0 if denom == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / denom))
                if hypot(px - (ax + u * dx), py - (ay + u * dy)) < radius:
                    return True
        return False

    def waypoints(self, src: str, dst: str) -> list[tuple[float, float]]:
        """No point when the straight edge is clear, else two points of a trapezoid detour."""
        a, b = self.pos[src], self.pos[dst]
        ends = (src, dst)
        if not self._near(a, b, ends):
            return []
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy) or 1.0
        nx, ny = dy / length, -dx / length  # right of the direction of travel
        for offset in (0.55, -0.55, 0.9, -0.9, 1.4, -1.4):
            w1 = (a[0] + 0.3 * dx + nx * offset, a[1] + 0.3 * dy + ny * offset)
            w2 = (a[0] + 0.7 * dx + nx * offset, a[1] + 0.7 * dy + ny * offset)
            if not any(self._near(p, q, ends) for p, q in ((a, w1), (w1, w2), (w2, b))):
                return [w1, w2]
        return []


def distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from point p to the segment a-b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    denom = dx * dx + dy * dy
    u = 0.0 if denom == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / denom))
    return math.hypot(p[0] - (a[0] + u * dx), p[1] - (a[1] + u * dy))


def columns(graph: Graph) -> dict[str, int]:
    """Column index of each node, left to right (initial steps, kept steps, ellipsis)."""
    keys = sorted({_col_key(n, graph) for n in graph.nodes})
    index = {k: i for i, k in enumerate(keys)}
    return {n.id: index[_col_key(n, graph)] for n in graph.nodes}


def _col_key(n: Node, graph: Graph) -> float:
    if n.ellipsis and graph.collapsed is not None:
        return graph.collapsed[0] - 0.5
    return float(n.time or 0)


#: Where a parameter may sit by an arrowhead: (labelangle in degrees, labeldistance in
#: units of 10 points), tried in this order. The first is the usual spot on the edge line.
#: The last ones go further down the edge: where gates stand close, below their row, where
#: the branches of a junction have spread apart.
HEAD_LABEL_SPOTS = ((0, 2.2), (0, 1.5), (28, 2.0), (-28, 2.0), (0, 3.2), (40, 1.4), (-40, 1.4), (0, 1.0),
                    (60, 1.2), (-60, 1.2), (0, 4.4), (80, 1.0), (-80, 1.0), (0, 5.5), (0, 6.6), (0, 7.7))


def _rot(u: tuple[float, float], degrees: float) -> tuple[float, float]:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (u[0] * c - u[1] * s, u[0] * s + u[1] * c)


def _box_meets_ellipse(box: tuple[float, float, float, float], c: tuple[float, float],
                       half: tuple[float, float]) -> bool:
    x = min(max(c[0], box[0]), box[2])
    y = min(max(c[1], box[1]), box[3])
    return ((x - c[0]) / half[0]) ** 2 + ((y - c[1]) / half[1]) ** 2 < 1


def _box_meets_segment(box: tuple[float, float, float, float], p: tuple[float, float],
                       q: tuple[float, float]) -> bool:
    """Whether the segment p-q passes through the box (clipped against it, Liang-Barsky)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, v in ((dx, box[0], box[2], p[0]), (dy, box[1], box[3], p[1])):
        if abs(d) < 1e-12:
            if not lo < v < hi:
                return False
            continue
        a, b = (lo - v) / d, (hi - v) / d
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 >= t1:
            return False
    return True


def head_label_spots(edges: list[tuple],
                     positions: Mapping[str, tuple[float, float]],
                     halves: Mapping[str, tuple[float, float]],
                     paths: Sequence[Sequence[tuple[float, float]]] = ()) -> dict[int, tuple[int, float]]:
    """A spot by the arrowhead for each labelled edge where its label covers no node, no other
    label and none of the other ``paths`` (the drawn edges as polylines, in inches, edge i of
    ``edges`` being ``paths[i]`` when given, the rest unlabelled ones; an empty one is unknown).

    ``edges`` are (tail, head id, label width in points[, lines]), the tail a node id
    or the (x, y) the edge's last run starts from (a detour); ``halves`` the
    half width and height of each node in points. Positions are in inches.
    Edges are taken as straight (an estimate: Graphviz bends them a little),
    and the first of :data:`HEAD_LABEL_SPOTS` that is clear wins, else the
    one with the fewest clashes. Returns edge index -> (labelangle, labeldistance).

    Example:
        >>> pos = {"a": (0.0, 0.0), "b": (0.0, 2.0)}
        >>> head_label_spots([("a", "b", 12.0)], pos, {"a": (20, 20), "b": (20, 20)})
        {0: (0, 2.2)}
    """
    pts = {k: (x * 72, y * 72) for k, (x, y) in positions.items()}
    # Nodes sorted by x: a label is only checked against the nodes within reach (large grids).
    order = sorted(halves, key=lambda k: pts[k][0])
    xs = [pts[k][0] for k in order]
    # (x, y, half width, half height, id) of each, in that order: no look-ups in the loop below.
    boxes = [(*pts[k], *halves[k], k) for k in order]
    reach = 2 * max((h[0] for h in halves.values()), default=0.0) + 80
    # Placed labels in buckets of 100 points of x: a new one is checked against its neighbours only.
    placed: dict[int, list[tuple[float, float, float, float]]] = {}
    out: dict[int, tuple[int, float]] = {}
    # The other edges' runs, in points, by buckets of 100 points of x that they span.
    # Each with its bounding box: a run wholly on one side of a label cannot cross it, and
    # most runs of the buckets round a label are; the exact test is for the others.
    runs: dict[int, list[tuple]] = {}
    for k, line in enumerate(paths):
        for p, q in zip(line, line[1:]):
            p, q = (p[0] * 72, p[1] * 72), (q[0] * 72, q[1] * 72)
            x0, x1 = min(p[0], q[0]), max(p[0], q[0])
            y0, y1 = min(p[1], q[1]), max(p[1], q[1])
            for bucket in range(int(x0 // 100), int(x1 // 100) + 1):
                runs.setdefault(bucket, []).append((k, p, q, x0, y0, x1, y1))
    for i, (tail, head, width, *lines) in enumerate(edges):
        label_h = 9.0 * (lines[0] if lines else 1)  # half the height of a label of that many lines
        (hx, hy) = pts[head]
        tx, ty = pts[tail] if isinstance(tail, str) else (tail[0] * 72, tail[1] * 72)
        length = math.hypot(tx - hx, ty - hy) or 1.0
        u = ((tx - hx) / length, (ty - hy) / length)
        a, b = halves[head]
        r = 1 / math.sqrt((u[0] / a) ** 2 + (u[1] / b) ** 2)
        bx, by = hx + u[0] * r, hy + u[1] * r
        best = None
        for angle, dist in HEAD_LABEL_SPOTS:
            v = _rot(u, angle)
            cx, cy = bx + v[0] * dist * 10, by + v[1] * dist * 10
            box = (cx - width / 2, cy - label_h, cx + width / 2, cy + label_h)
            # A few points of slack: the estimate of sizes and of the edge's end is rough.
            loose = (box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2)
            # The head gets no slack: the label is meant to sit close to the node it feeds.
            # (_box_meets_ellipse written out: this loop runs for every label, spot and
            # node within reach, tens of thousands of times on a long unrolled view.)
            # A label on a node or on another label hides it: worse than one across a line.
            clashes = 0
            for px, py, ha, hb, n in boxes[bisect.bisect_left(xs, cx - reach):bisect.bisect_right(xs, cx + reach)]:
                x0, y0, x1, y1 = box if n == head else loose
                # The point of the box nearest the centre (min(max(px, x0), x1) written out).
                x = x0 if px < x0 else x1 if px > x1 else px
                y = y0 if py < y0 else y1 if py > y1 else py
                if ((x - px) / ha) ** 2 + ((y - py) / hb) ** 2 < 1:
                    clashes += 2
            bucket = int(cx // 100)
            for k in (bucket - 1, bucket, bucket + 1):
                for p in placed.get(k, ()):
                    if min(box[2], p[2]) > max(box[0], p[0]) and min(box[3], p[3]) > max(box[1], p[1]):
                        clashes += 3
            # Shrunk a little: a label may touch a line beside it, not lie across it.
            tight = (box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2)
            # An edge whose own line is unknown (empty) is placed as if there were no lines.
            if i >= len(paths) or paths[i]:
                # (The boxes' test holds for a box of positive size, which a label's always is
                # but for a label narrower than the slack: every run is tested exactly then.)
                left, bottom, right, top = tight if tight[0] < tight[2] and tight[1] < tight[3] else \
                    (-math.inf, -math.inf, math.inf, math.inf)
                clashes += len({k for b in (bucket - 1, bucket, bucket + 1)
                                for k, p, q, x0, y0, x1, y1 in runs.get(b, ())
                                if k != i and x1 > left and x0 < right and y1 > bottom and y0 < top
                                and _box_meets_segment(tight, p, q)})
            if best is None or clashes < best[0]:
                best = (clashes, angle, dist, box)
            if clashes == 0:
                break
        assert best is not None
        box = best[3]
        placed.setdefault(int((box[0] + box[2]) / 2 // 100), []).append(box)
        out[i] = (best[1], best[2])
    return out
