"""Measures of a rendered diagram that say whether a teacher can put it on a slide unchanged.

Two figures, read from the SVG Graphviz draws (so they hold whatever the DOT
looks like):

- :func:`smallest_text_on_slide`: the SVG fitted into a 1280x720 slide (scaled
  to fit, aspect kept), the height in pixels of its smallest text;
- :func:`crossings`: how many times one edge path crosses another away from
  their end nodes (a shared end, or a crossing inside an end node's box, does
  not count).

``python3 -m tests.diagrams.measures`` prints both for the default views of the
classic examples (the figures the tests keep as thresholds).

Example:
    >>> svg = ('<svg width="200pt" height="100pt" viewBox="0.00 0.00 200.00 100.00">'
    ...        '<text font-size="10.00">a</text></svg>')
    >>> round(smallest_text_on_slide(svg), 1)  # 200 x 100 fitted into 1280 x 720: scale 6.4
    64.0
    >>> _segments_cross(((0, 0), (2, 2)), ((0, 2), (2, 0)))
    (1.0, 1.0)
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass

from tests import svg_geometry as geo

SLIDE = (1280, 720)

_VIEWBOX = re.compile(r'<svg\b[^>]*viewBox="([-\d.]+)[ ,]+([-\d.]+)[ ,]+([-\d.]+)[ ,]+([-\d.]+)"')
_SCALE = re.compile(r'<g id="[^"]*graph[^"]*" class="graph" transform="scale\(([\d.]+)[ ,]*([\d.]*)\)')
_FONT = re.compile(r'<text\b[^>]*font-size="([\d.]+)"[^>]*>([^<]*)</text>')
_EDGE = re.compile(r'<g id="[^"]*" class="edge">\s*<title>(.*?)</title>(.*?)(?=<g id="[^"]*" class="(?:node|edge)">|</svg>)',
                   re.S)
_PATH = re.compile(r'<path fill="none"[^>]* d="([^"]*)"')


def view_box(svg: str) -> tuple[float, float]:
    """Width and height of the SVG's viewBox (Graphviz: points)."""
    m = _VIEWBOX.search(svg)
    assert m, "no viewBox"
    return float(m.group(3)), float(m.group(4))


def font_sizes(svg: str) -> list[float]:
    """The font size of every non-empty text, in viewBox units (the graph's own scale applied)."""
    m = _SCALE.search(svg)
    scale = float(m.group(1)) if m else 1.0
    return [float(size) * scale for size, text in _FONT.findall(svg) if html.unescape(text).strip()]


def smallest_text_on_slide(svg: str, slide: tuple[int, int] = SLIDE) -> float:
    """Font size in pixels of the smallest text when the whole SVG is fitted into ``slide``."""
    w, h = view_box(svg)
    fit = min(slide[0] / w, slide[1] / h)
    return min(font_sizes(svg)) * fit


def smallest_text_in_column(svg: str, column: float = 700.0) -> float:
    """Font size in pixels of the smallest text when the SVG is shown at most ``column`` px wide
    (never enlarged: a page shows a diagram at its natural size or smaller)."""
    w, _ = view_box(svg)
    px_per_pt = 96 / 72
    return min(font_sizes(svg)) * px_per_pt * min(1.0, column / (w * px_per_pt))


def _bezier(points: list[tuple[float, float]], samples: int = 16) -> list[tuple[float, float]]:
    """A polyline along a Graphviz path (a move, then cubic Bézier segments)."""
    out = [points[0]]
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i:i + 4]
        for k in range(1, samples + 1):
            t = k / samples
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
            out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def _segments_cross(s, r) -> tuple[float, float] | None:
    """The point where two segments cross properly (not at a shared end, not collinear), else None."""
    (x1, y1), (x2, y2) = s
    (x3, y3), (x4, y4) = r
    den = (x2 - x1) * (y4 - y3) - (y2 - y1) * (x4 - x3)
    if abs(den) < 1e-9:
        return None
    u = ((x3 - x1) * (y4 - y3) - (y3 - y1) * (x4 - x3)) / den
    v = ((x3 - x1) * (y2 - y1) - (y3 - y1) * (x2 - x1)) / den
    # Half-open on one end, so a crossing at a sample point between two pieces counts once.
    if 0 <= u < 1 and 0 <= v < 1:
        return (x1 + u * (x2 - x1), y1 + u * (y2 - y1))
    return None


@dataclass(frozen=True)
class Crossing:
    """Two edges (their titles ``a->b``) crossing at a point (SVG coordinates)."""

    first: str
    second: str
    at: tuple[float, float]


def _ends(title: str) -> tuple[str, str]:
    a, _, b = title.partition("->")
    return a.split(":")[0], b.split(":")[0]


def crossing_list(svg: str, margin: float = 3.0) -> list[Crossing]:
    """Every crossing of two edge paths away from the end nodes of either edge.

    An edge broken into runs through invisible bend points counts as one
    line: crossings at those points are where its runs meet, not crossings.
    """
    pic = geo.parse(svg)
    boxes = pic.nodes
    edges: list[tuple[str, tuple[str, str], list[tuple[tuple[float, float], tuple[float, float]]],
                      tuple[float, float, float, float]]] = []
    for title, body in _EDGE.findall(svg):
        title = html.unescape(title)
        for d in _PATH.findall(body):
            pts = _bezier(geo._points(d))
            if len(pts) < 2:
                continue
            segs = list(zip(pts, pts[1:]))
            box = (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))
            edges.append((title, _ends(title), segs, box))

    def near_end(point, ends) -> bool:
        for n in ends:
            b = boxes.get(n)
            if b is None:  # an invisible point (a bend or relay): its position is the path's end
                continue
            if b[0] - margin <= point[0] <= b[2] + margin and b[1] - margin <= point[1] <= b[3] + margin:
                return True
        return False

    out: list[Crossing] = []
    for i, (ta, ea, sa, ba) in enumerate(edges):
        for tb, eb, sb, bb in edges[i + 1:]:
            if not geo.overlap(ba, bb, -1.0):
                continue
            if set(ea) & set(eb) & {n for n in ea if n not in boxes or boxes[n][2] - boxes[n][0] < 2}:
                continue  # two runs meeting at the bend or relay point they share
            for s in sa:
                for r in sb:
                    p = _segments_cross(s, r)
                    if p is not None and not near_end(p, ea + eb):
                        out.append(Crossing(ta, tb, p))
    return out


def crossings(svg: str) -> int:
    """How many times edge paths cross away from their end nodes."""
    return len(crossing_list(svg))


# -- the classic examples' default views ---------------------------------------------------

CLASSIC = ("vanilla", "two_layer", "lstm", "lstm_goodfellow", "gru", "relu_1d")
#: Every default view, and the unrolled view with forward-pass values.
VIEWS = ("folded", "unrolled", "cell", "cell-unrolled", "unrolled+values")


def classic_diagram(name: str, view: str):
    """The diagram a new user gets from ``rnnviz draw examples/NAME.rnn --view VIEW -o x.svg``.

    That is 3 steps, and with ``--values`` as many steps as the seeded input
    sequence has (5 for most examples).
    """
    from rnnviz.diagrams.diagram import draw
    from rnnviz.language import load_model
    from rnnviz.numeric.forward_pass import forward
    from tests.conftest import EXAMPLES

    path = EXAMPLES / f"{name}.rnn"
    model = load_model(path.read_text(encoding="utf-8"), path.name)
    if view == "unrolled+values":
        trace = forward(model, steps=None, seed=0)
        return draw(model, "unrolled", trace.steps, values=trace)
    return draw(model, view, 3)


def table() -> dict[tuple[str, str], tuple[float, int]]:
    """(example, view) -> (smallest text on a slide in px, crossings) of the 30 classic diagrams."""
    out = {}
    for name in CLASSIC:
        for view in VIEWS:
            svg = classic_diagram(name, view).svg()
            out[(name, view)] = (smallest_text_on_slide(svg), crossings(svg))
    return out


def page_diagrams(docs=None):
    """(page, line, options, svg) of every diagram the site's pages draw with an rnnviz fence."""
    from rnnviz.site import fence
    from tests.conftest import ROOT

    docs = docs or ROOT / "docs"
    fence.CONTEXT.base_dir = ROOT  # file= paths are relative to mkdocs.yml
    head = re.compile(r"^```rnnviz\s*\{([^}]*)\}\s*$")
    for page in sorted(docs.rglob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = head.match(line)
            if not m:
                continue
            raw = dict((kv.split("=", 1) + [None])[:2] for kv in m.group(1).split())
            opts = fence.parse_options(raw)
            if opts.get("show", "diagram") != "diagram":  # downloads are links, not inline pictures
                continue
            body = []
            for nxt in lines[i + 1:]:
                if nxt.startswith("```"):
                    break
                body.append(nxt)
            name, text = fence._source_of("\n".join(body), opts)
            model = fence._load(name, text)
            yield page.relative_to(docs).as_posix(), i + 1, opts, fence._diagram(model, opts).svg()


def main() -> int:
    if sys.argv[1:] == ["site"]:
        for page, line, _, svg in page_diagrams():
            print(f"{page}:{line}: {smallest_text_in_column(svg):.1f} px in a 700 px column")
        return 0
    rows = table()
    for (name, view), (px, n) in rows.items():
        print(f"{name:16} {view:16} {px:6.1f} px {n:4d} crossings")
    worst = min(rows.items(), key=lambda kv: kv[1][0])
    print(f"smallest text {worst[1][0]:.1f} px ({' '.join(worst[0])}); "
          f"crossings {sum(n for _, n in rows.values())} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
