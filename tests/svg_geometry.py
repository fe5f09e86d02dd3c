"""Boxes of nodes and edge labels in an SVG rendered by Graphviz, for layout tests.

The tests state what a reader sees (no two labels on top of each other, no
node on another, rows level) in the coordinates of the rendered picture, so
they hold whatever the DOT looks like.

Example:
    >>> overlap((0, 0, 2, 2), (1, 1, 3, 3)), overlap((0, 0, 1, 1), (2, 2, 3, 3))
    (True, False)
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in SVG points

# A group runs to the next node or edge group: with a tooltip, Graphviz nests the drawing
# (and the label, in a group of its own) in links inside it.
_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)">\s*<title>(.*?)</title>(.*?)(?=<g id="[^"]*" class="(?:node|edge)">|</svg>)',
                    re.S)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass
class Picture:
    """The nodes (title -> box) and edge labels ((edge title, box) list) of one SVG."""

    nodes: dict[str, Box]
    labels: list[tuple[str, Box]]
    edge_paths: dict[str, list[list[tuple[float, float]]]]
    ellipses: dict[str, tuple[float, float, float, float]]  # title -> cx, cy, rx, ry (outermost)


def render_svg(dot_text: str) -> str:
    """SVG text of a DOT text (the layout engine named in the DOT, through ``dot``)."""
    return subprocess.run(["dot", "-Tsvg"], input=dot_text.encode(), capture_output=True, check=True).stdout.decode()


def _points(text: str) -> list[tuple[float, float]]:
    xs = [float(v) for v in _NUMBER.findall(text)]
    return list(zip(xs[0::2], xs[1::2]))


def _box(points: list[tuple[float, float]]) -> Box:
    return (min(p[0] for p in points), min(p[1] for p in points),
            max(p[0] for p in points), max(p[1] for p in points))


def parse(svg: str) -> Picture:
    """Node boxes (outline of the shape), label boxes (their pale background) and edge paths."""
    nodes: dict[str, Box] = {}
    labels: list[tuple[str, Box]] = []
    paths: dict[str, list[list[tuple[float, float]]]] = {}
    ellipses: dict[str, tuple[float, float, float, float]] = {}
    for kind, title, body in _GROUP.findall(svg):
        title = html.unescape(title)
        if kind == "node":
            pts: list[tuple[float, float]] = []
            for cx, cy, rx, ry in re.findall(r'<ellipse[^>]*cx="([-\d.]+)" cy="([-\d.]+)" rx="([-\d.]+)" ry="([-\d.]+)"', body):
                cx, cy, rx, ry = map(float, (cx, cy, rx, ry))
                pts += [(cx - rx, cy - ry), (cx + rx, cy + ry)]
                if title not in ellipses or rx > ellipses[title][2]:
                    ellipses[title] = (cx, cy, rx, ry)
            # The node's own shape is drawn first: a polygon, or a path when it is rounded
            # (the cells of an HTML label come after it).
            first = re.search(r'<polygon[^>]*points="([^"]*)"|<path fill="(?!none)[^"]*"[^>]* d="([^"]*)"', body)
            if first and not pts:
                pts += _points(first.group(1) or first.group(2))
            elif first and first.group(1):
                pts += _points(first.group(1))
            if pts:
                nodes[title] = _box(pts)
        else:
            for d in re.findall(r'<path fill="#ffffff" stroke="transparent" d="([^"]*)"', body):
                labels.append((title, _box(_points(d))))
            paths[title] = [_points(d) for d in re.findall(r'<path fill="none"[^>]* d="([^"]*)"', body)]
    return Picture(nodes, labels, paths, ellipses)


def overlap(a: Box, b: Box, margin: float = 0.0) -> bool:
    """Whether two boxes share more than ``margin`` points in both directions."""
    return min(a[2], b[2]) - max(a[0], b[0]) > margin and min(a[3], b[3]) - max(a[1], b[1]) > margin


def label_clashes(pic: Picture, margin: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of edge labels whose boxes overlap."""
    out = []
    for i, (ta, a) in enumerate(pic.labels):
        for tb, b in pic.labels[i + 1:]:
            if overlap(a, b, margin):
                out.append((ta, tb))
    return out


def node_clashes(pic: Picture, margin: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of nodes whose shapes' boxes overlap."""
    items = sorted(pic.nodes.items())
    return [(ta, tb) for i, (ta, a) in enumerate(items) for tb, b in items[i + 1:] if overlap(a, b, margin)]


def _box_meets_ellipse(box: Box, ellipse: tuple[float, float, float, float], margin: float) -> bool:
    cx, cy, rx, ry = ellipse
    # The point of the (shrunk) box nearest the centre, measured in the ellipse's own units.
    x = min(max(cx, box[0] + margin), box[2] - margin)
    y = min(max(cy, box[1] + margin), box[3] - margin)
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1


def labels_on_nodes(pic: Picture, margin: float = 1.0) -> list[tuple[str, str]]:
    """(edge, node) pairs whose label box covers part of a node's shape."""
    out = []
    for t, box in pic.labels:
        for n, nb in pic.nodes.items():
            if not overlap(box, nb, margin):
                continue
            if n in pic.ellipses and not _box_meets_ellipse(box, pic.ellipses[n], margin):
                continue
            out.append((t, n))
    return out


_TEXT = re.compile(r'<text\b([^>]*)>([^<]*)</text>')


def _attr(attrs: str, name: str, default: str = "") -> str:
    m = re.search(rf'\b{name}="([^"]*)"', attrs)
    return m.group(1) if m else default


def text_boxes(body: str) -> list[Box]:
    """Estimated boxes of the texts in a piece of SVG: the advance of a serif letter is about
    half its font size (a little less for a subscript's smaller letters), cap height 0.75."""
    out = []
    for attrs, text in _TEXT.findall(body):
        text = html.unescape(text)
        if not text.strip():
            continue
        x, y, size = float(_attr(attrs, "x")), float(_attr(attrs, "y")), float(_attr(attrs, "font-size", "14"))
        shift = _attr(attrs, "baseline-shift")
        y += 0.3 * size if shift == "sub" else -0.4 * size if shift == "super" else 0.0
        w = 0.5 * size * len(text)
        anchor = _attr(attrs, "text-anchor", "start")
        x0 = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
        out.append((x0, y - 0.72 * size, x0 + w, y + 0.2 * size))
    return out


@dataclass
class Edge:
    """One drawn edge: its title (``a->b``; two edges between the same nodes share it), its
    paths (Bézier control points) and the box round the texts of its label, if it has one."""

    title: str
    paths: list[list[tuple[float, float]]]
    label: Box | None
    tooltip: str = ""


def edges(svg: str) -> list[Edge]:
    """Every edge of the SVG in drawing order, with its label's box (label, xlabel or head
    label), whether or not the label has a background of its own."""
    out = []
    for kind, title, body in _GROUP.findall(svg):
        if kind != "edge":
            continue
        boxes = text_boxes(body)
        label = _box([p for b in boxes for p in ((b[0], b[1]), (b[2], b[3]))]) if boxes else None
        paths = [_points(d) for d in re.findall(r'<path fill="none"[^>]* d="([^"]*)"', body)]
        tip = re.search(r'<a xlink:title="([^"]*)"', body)
        out.append(Edge(html.unescape(title), paths, label, html.unescape(tip.group(1)) if tip else ""))
    return out


def _sampled(points: list[tuple[float, float]], samples: int = 16) -> list[tuple[float, float]]:
    """Points along a Graphviz path (a move, then cubic Bézier segments)."""
    out = points[:1]
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i:i + 4]
        for k in range(1, samples + 1):
            t = k / samples
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
            out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def labels_on_paths(pic: Picture, margin: float = 1.0) -> list[tuple[str, str]]:
    """(labelled edge, other edge) pairs where the other edge's path runs through the label's box."""
    out = []
    for t, b in pic.labels:
        for e, runs in pic.edge_paths.items():
            if e != t and any(b[0] + margin < x < b[2] - margin and b[1] + margin < y < b[3] - margin
                              for run in runs for x, y in _sampled(run)):
                out.append((t, e))
    return out
