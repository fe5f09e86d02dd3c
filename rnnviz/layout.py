"""Geometry of the variable diagrams: levels (rows), columns, pinned grid, detours.

The unrolled view is laid out by rnnviz itself, not by Graphviz: one column per
step and one row per level, every column alike. This module computes those
positions, and for grids too large for Graphviz's edge router, the detours
that keep straight edges clear of the nodes.

Example:
    >>> from rnnviz.model import load_model
    >>> from rnnviz.graph import build
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
    return level


#: Unrolled layout, in inches: width of one variable's slot, gap between steps, row height.
SLOT_WIDTH = 1.05
COLUMN_GAP = 0.95
ROW_HEIGHT = 1.45
ELLIPSIS_WIDTH = 0.9


def positions(graph: Graph, level: Mapping[str, int], row_order: Mapping[str, int],
               annotated: bool) -> dict[str, tuple[float, float]]:
    """Pinned (x, y) of each unrolled node: one column per step, one row per level.

    Variables of one level sit side by side in fixed slots, the same in every
    column, so that column t looks like column t+1.
    """
    slot_w = SLOT_WIDTH * (1.35 if annotated else 1.0)
    row_h = ROW_HEIGHT * (1.3 if annotated else 1.0)
    per_level: dict[int, list[str]] = {}
    for name in sorted(row_order, key=row_order.__getitem__):
        per_level.setdefault(level[name], []).append(name)
    width = max(len(v) for v in per_level.values())
    slot = {name: i - (len(names) - 1) / 2 for names in per_level.values() for i, name in enumerate(names)}
    cols = columns(graph)
    ellipsis_cols = {cols[n.id] for n in graph.nodes if n.ellipsis}
    x_of: dict[int, float] = {}
    x = 0.0
    for col in range(max(cols.values()) + 1):
        w = ELLIPSIS_WIDTH if col in ellipsis_cols else width * slot_w + COLUMN_GAP
        x_of[col] = x + w / 2
        x += w
    return {n.id: (x_of[cols[n.id]] + (0 if n.ellipsis else slot[n.name] * slot_w), level[n.name] * row_h)
            for n in graph.nodes}


#: Up to this many nodes Graphviz routes the unrolled edges itself (curved, round the nodes).
ROUTED_MAX_NODES = 60


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
