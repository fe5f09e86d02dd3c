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
from collections.abc import Mapping

from .graph import Graph, Node

__all__ = ["levels", "columns", "positions", "Router", "distance", "ROUTED_MAX_NODES",
           "SLOT_WIDTH", "COLUMN_GAP", "ROW_HEIGHT", "ELLIPSIS_WIDTH"]


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


#: Unrolled layout, in inches: width of one variable's slot, gap between steps, row height.
SLOT_WIDTH = 1.05
COLUMN_GAP = 0.95
ROW_HEIGHT = 1.45
ELLIPSIS_WIDTH = 0.9
#: Room beside a node in its slot, and between two rows of nodes, in inches (for the edges).
SLOT_PAD = 0.3
ROW_GAP = 0.75


def positions(graph: Graph, level: Mapping[str, int], row_order: Mapping[str, int],
              annotated: bool, sizes: Mapping[str, tuple[float, float]] | None = None,
              ) -> dict[str, tuple[float, float]]:
    """Pinned (x, y) of each unrolled node: one column per step, one row per level.

    Variables of one level sit side by side in fixed slots, the same in every
    column, so that column t looks like column t+1. ``sizes`` (name -> the
    largest width and height, in inches, of that variable's nodes) widens a
    slot and heightens a row where numbers make nodes larger, so that no two
    nodes overlap however long the values shown.
    """
    sizes = sizes or {}
    base_w = SLOT_WIDTH * (1.35 if annotated else 1.0)
    base_h = ROW_HEIGHT * (1.3 if annotated else 1.0)
    per_level: dict[int, list[str]] = {}
    for name in sorted(row_order, key=row_order.__getitem__):
        per_level.setdefault(level[name], []).append(name)
    # Rounded to the 0.01 inch the DOT is written with, so every column step is the same number.
    slot_w = {name: round(max(base_w, sizes.get(name, (0.0, 0.0))[0] + SLOT_PAD), 2) for name in row_order}
    offset: dict[str, float] = {}
    for names in per_level.values():
        total = sum(slot_w[n] for n in names)
        x = -total / 2
        for n in names:
            offset[n] = x + slot_w[n] / 2
            x += slot_w[n]
    width = max(sum(slot_w[n] for n in names) for names in per_level.values())
    height = {lv: max((sizes.get(n, (0.0, 0.0))[1] for n in names), default=0.0) for lv, names in per_level.items()}
    y_of: dict[int, float] = {}
    y = 0.0
    for i, lv in enumerate(sorted(per_level)):
        if i:
            below = sorted(per_level)[i - 1]
            y += round(max(base_h, (height[below] + height[lv]) / 2 + ROW_GAP), 2)
        y_of[lv] = y
    cols = columns(graph)
    ellipsis_cols = {cols[n.id] for n in graph.nodes if n.ellipsis}
    # In whole hundredths of an inch (what the DOT shows): column t+1 is column t shifted by
    # exactly the same number, with no rounding jitter.
    x_of: dict[int, int] = {}
    x = 0
    for col in range(max(cols.values()) + 1):
        w = round(100 * (ELLIPSIS_WIDTH if col in ellipsis_cols else width + COLUMN_GAP))
        x_of[col] = x + w // 2
        x += w
    return {n.id: ((x_of[cols[n.id]] + (0 if n.ellipsis else round(100 * offset[n.name]))) / 100,
                   round(100 * y_of[level[n.name]]) / 100)
            for n in graph.nodes}


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
        lo, hi = sorted((a[0], b[0]))
        i = bisect.bisect_left(self.xs, lo - 1.0)
        j = bisect.bisect_right(self.xs, hi + 1.0)
        for x in self.xs[i:j]:
            for nid in self.by_x[x]:
                if nid not in skip and distance(self.pos[nid], a, b) < self.radius:
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
HEAD_LABEL_SPOTS = ((0, 2.2), (0, 1.5), (28, 2.0), (-28, 2.0), (0, 3.2), (40, 1.4), (-40, 1.4), (0, 1.0),
                    (60, 1.2), (-60, 1.2), (0, 4.4), (80, 1.0), (-80, 1.0))


def _rot(u: tuple[float, float], degrees: float) -> tuple[float, float]:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (u[0] * c - u[1] * s, u[0] * s + u[1] * c)


def _box_meets_ellipse(box: tuple[float, float, float, float], c: tuple[float, float],
                       half: tuple[float, float]) -> bool:
    x = min(max(c[0], box[0]), box[2])
    y = min(max(c[1], box[1]), box[3])
    return ((x - c[0]) / half[0]) ** 2 + ((y - c[1]) / half[1]) ** 2 < 1


def head_label_spots(edges: list[tuple[str | tuple[float, float], str, float]],
                     positions: Mapping[str, tuple[float, float]],
                     halves: Mapping[str, tuple[float, float]]) -> dict[int, tuple[int, float]]:
    """A spot by the arrowhead for each labelled edge where its label covers no node and no other label.

    ``edges`` are (tail, head id, label width in points), the tail a node id
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
    reach = 2 * max((h[0] for h in halves.values()), default=0.0) + 80
    # Placed labels in buckets of 100 points of x: a new one is checked against its neighbours only.
    placed: dict[int, list[tuple[float, float, float, float]]] = {}
    out: dict[int, tuple[int, float]] = {}
    label_h = 9.0
    for i, (tail, head, width) in enumerate(edges):
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
            near = order[bisect.bisect_left(xs, cx - reach):bisect.bisect_right(xs, cx + reach)]
            clashes = sum(_box_meets_ellipse(box if n == head else loose, pts[n], halves[n]) for n in near)
            bucket = int(cx // 100)
            clashes += sum(min(box[2], p[2]) > max(box[0], p[0]) and min(box[3], p[3]) > max(box[1], p[1])
                           for k in (bucket - 1, bucket, bucket + 1) for p in placed.get(k, ()))
            if best is None or clashes < best[0]:
                best = (clashes, angle, dist, box)
            if clashes == 0:
                break
        assert best is not None
        box = best[3]
        placed.setdefault(int((box[0] + box[2]) / 2 // 100), []).append(box)
        out[i] = (best[1], best[2])
    return out
