"""Neutral graph (+ annotations) -> DOT text, in the look of the textbook figures.

Pure and deterministic: the same graph gives byte-identical DOT. Running
Graphviz is :mod:`rnnviz.diagrams.render`'s job.

Layout conventions (``docs`` and the design notes): inputs at the bottom and
outputs at the top (``rankdir=BT``, one rank per level of
:func:`rnnviz.diagrams.graph.levels`); in the unrolled view time runs left to right, one
column per step, every column laid out alike (``group`` per column and
invisible chains that fix the order); in the folded view a delayed read goes
through a small black square, labelled with k when the delay k > 1.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.diagrams.graph import build
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    >>> text = to_dot(build(m, "folded"), displays={n: s.display for n, s in m.symbols.items()})
    >>> text.splitlines()[0]
    'digraph "rnnviz" {'
    >>> '"delay_1"' in text
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..language.syntax import Name
from . import style
from .graph import Graph, Node
from .labels import (
    GREEK_LETTERS,
    base_text,
    dot_attrs,
    dot_html,
    escape_dot,
    escape_html,
    graph_header,
    html_label,
    name_of,
)
from .layout import distance as _segment_distance
from .layout import ROUTED_MAX_NODES, ROW_GAP, SLOT_PAD, Router, fans, gated_rows, head_label_spots, levels, positions

__all__ = ["to_dot", "format_number", "format_value", "value_text", "value_extent", "node_id"]


def node_id(graph_id: str) -> str:
    """A DOT node id: quoted, never containing ``:`` (which DOT reads as a port)."""
    return escape_dot(graph_id.replace(":", "_"))


def format_number(x: float, precision: int = 3) -> str:
    """A number with ``precision`` significant digits, a true minus sign, no ``-0``.

    Example:
        >>> format_number(0.123456), format_number(-2.0), format_number(1e-7), format_number(-0.0)
        ('0.123', '−2', '1e−07', '0')
    """
    if x != x:
        return "nan"
    if x == 0:
        return "0"
    s = f"{x:.{precision}g}"
    return s.replace("-", "\u2212")


def _flat(value) -> list[float]:
    """A scalar, a nested list or an array-like (``tolist``) as a flat list of floats."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        out: list[float] = []
        for v in value:
            out.extend(_flat(v))
        return out
    return [float(value)]


def _norm(xs: list[float]) -> float:
    """The Euclidean norm, without the overflow of squaring (1e200 squared is inf)."""
    return math.hypot(*xs) if xs else 0.0


#: Vectors up to this many entries are shown in full; longer ones as a strip.
MAX_ENTRIES = 2
STRIP_CELLS = 12
#: Entries of a longer vector written under its strip.
FIRST_ENTRIES = 2
#: Width of a vector's colour strip, in points.
STRIP_WIDTH = 36


def _diverging(x: float, scale: float) -> str:
    """Blue (negative) - white - red (positive), readable in greyscale as lightness."""
    a = 0.0 if scale == 0 else max(-1.0, min(1.0, x / scale))
    end = (33, 102, 172) if a < 0 else (178, 24, 43)
    a = abs(a)
    rgb = [round(255 + (c - 255) * a) for c in end]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def format_value(value, precision: int = 3) -> str:
    """The inside of an HTML-like label showing a value under a node name.

    A scalar is one number; a vector of two its entries; a longer vector a
    strip of coloured cells (blue negative, red positive), its first entries
    and its norm, narrow enough that the gates of an LSTM step sit side by
    side on a slide (the whole vector is in the node's tooltip).

    Example:
        >>> format_value(0.5)
        '<FONT FACE="Helvetica" POINT-SIZE="11">0.5</FONT>'
        >>> format_value([1, -2])
        '<FONT FACE="Helvetica" POINT-SIZE="11">[1, −2]</FONT>'
    """
    xs = _flat(value)
    font = f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}">'
    if len(xs) == 1:
        return f"{font}{escape_html(format_number(xs[0], precision))}</FONT>"
    if len(xs) <= MAX_ENTRIES:
        return f"{font}[{escape_html(', '.join(format_number(x, precision) for x in xs))}]</FONT>"
    # Average consecutive entries down to STRIP_CELLS cells so the strip keeps a fixed width.
    n = min(len(xs), STRIP_CELLS)
    cells = [xs[i * len(xs) // n:(i + 1) * len(xs) // n] for i in range(n)]
    means = [sum(c) / len(c) for c in cells]
    scale = max(abs(x) for x in xs)
    width = max(2, STRIP_WIDTH // n)
    tds = "".join(f'<TD BGCOLOR="{_diverging(m, scale)}" WIDTH="{width}" HEIGHT="7"></TD>' for m in means)
    strip = f'<TABLE BORDER="1" COLOR="#9a9a9a" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>{tds}</TR></TABLE>'
    first = "".join(f'<TR><TD ALIGN="RIGHT">{font}{escape_html(format_number(x, precision))}'
                    f'{"," if i < len(xs) - 1 else ""}</FONT></TD></TR>'
                    for i, x in enumerate(xs[:FIRST_ENTRIES]))
    norm = escape_html(format_number(_norm(xs), precision))
    return (f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD>{strip}</TD></TR>{first}'
            f'<TR><TD>{font}‖{norm}‖</FONT></TD></TR></TABLE>')


def value_text(value, precision: int = 3) -> str:
    """The whole value as plain text (for a tooltip): ``0.42`` or ``[0.1, −0.2, 0.3]``.

    Example:
        >>> value_text([0.5, -1.25, 2.0])
        '[0.5, −1.25, 2]'
    """
    xs = _flat(value)
    if len(xs) == 1:
        return format_number(xs[0], precision)
    return "[" + ", ".join(format_number(x, precision) for x in xs) + "]"


#: Rough width of a character of the value font, and the height of one line of it, in inches.
_CHAR_W = style.VALUE_FONT_SIZE * 0.58 / 72
_LINE_H = style.VALUE_FONT_SIZE * 1.25 / 72


def value_extent(value, precision: int = 3) -> tuple[float, float]:
    """Width and height, in inches, that :func:`format_value` takes (an estimate for the layout).

    Example:
        >>> w1, h1 = value_extent(0.5)
        >>> w4, h4 = value_extent([1.0, 2.0, 3.0, 4.0])
        >>> h4 > 3 * h1 and w4 < 2 * w1 + 0.3
        True
    """
    xs = _flat(value)
    texts = [format_number(x, precision) for x in xs]
    if len(xs) == 1:
        return len(texts[0]) * _CHAR_W, _LINE_H
    if len(xs) <= MAX_ENTRIES:
        return (len(", ".join(texts)) + 2) * _CHAR_W, _LINE_H
    norm = "‖" + format_number(_norm(xs), precision) + "‖"
    shown = [t + "," for t in texts[:FIRST_ENTRIES]] + [norm]
    lines = min(FIRST_ENTRIES, len(xs)) + 1
    return max(STRIP_WIDTH / 72, max(map(len, shown)) * _CHAR_W), lines * _LINE_H + 9 / 72


def _name_length(display: Name) -> int:
    """Length of a typeset name in letters, scripts counting double (they come with a gap)."""
    scripts = "".join(display.subs) + "".join(display.sups)
    return len(GREEK_LETTERS.get(display.base, display.base)) + 2 * len(scripts)


def _node_extent(node: Node, value, grad: float | None, precision: int, shape: str,
                 annotated: bool = True) -> tuple[float, float]:
    """Estimated width and height, in inches, of a node's outline."""
    if not annotated:
        # Graphviz sizes a circle to its name and superscript step: h(10) is larger than h(1).
        w = 0.71 + 0.1 * _name_length(node.display) + 0.12 * (len(str(node.time)) - 1)
        if shape in ("circle", "doublecircle"):
            w += 0.11 if shape == "doublecircle" else 0.0
            return w, w
        return max(0.75, w - 0.15), 0.5  # Graphviz's smallest box
    name_w = (_name_length(node.display) + len(str(node.time))) * style.FONT_SIZE * 0.5 / 72 + 0.1
    w, h = name_w, style.FONT_SIZE * 1.2 / 72
    if value is not None:
        vw, vh = value_extent(value, precision)
        w, h = max(w, vw), h + vh
    if grad is not None:
        w, h = max(w, (len(format_number(grad, precision)) + 2) * _CHAR_W), h + _LINE_H
    # Numbers go in rounded boxes (an ellipse round a column of numbers is 1.4 times as wide).
    return w + 0.14, h + 0.1


def _grad_scale(grads: Mapping[tuple[str, int], object]) -> tuple[dict[tuple[str, int], float], float]:
    norms = {k: _norm(_flat(v)) for k, v in grads.items()}
    top = max(norms.values(), default=0.0)
    return norms, top


def _grad_strength(g: float, top: float) -> float:
    """0..1 on a log scale over six decades below the largest gradient."""
    if not (g > 0 and top > 0):  # zero, or not a number
        return 0.0
    if math.isinf(g):
        return 1.0
    if math.isinf(top):
        return 0.0
    # the logarithms apart: g / top underflows to 0 when they are far apart
    return max(0.0, min(1.0, 1 + (math.log10(g) - math.log10(top)) / 6))


def _grad_color(a: float, lo: tuple[int, int, int] = (190, 190, 190)) -> str:
    hi = (178, 24, 43)
    return "#{:02x}{:02x}{:02x}".format(*(round(l + (h - l) * a) for l, h in zip(lo, hi)))


def _grad_text_color(a: float) -> str:
    """Like the edges, grey to red; but dark enough to read on a node even at zero,
    where "∇ 0" is the answer a student looks for."""
    return _grad_color(a, (80, 80, 80))


def _plain_name(display: Name) -> str:
    """A typeset name as plain text for a tooltip: ``h1``, ``c̃``, ``W_hh``."""
    subs = "".join(display.subs)
    return base_text(display) + (subs if len(subs) <= 1 or subs.isdigit() else "_" + subs)


def _tooltip(node: Node, value, grad, precision: int, step: int | None = None) -> str:
    """What a reader sees on hovering a node: "h1 at t = 2: 0.42", never an internal id."""
    time = node.time if node.time is not None else step
    text = _plain_name(node.display) + ("" if time is None else f" at t = {time}")
    if node.phase == "context" and time is not None:
        text = f"{_plain_name(node.display)}, computed once at the encoder's last step t = T = {time}"
    if value is not None:
        text += ": " + value_text(value, precision)
    if grad is not None:
        text += "; gradient " + value_text(grad, precision)
    return text


def _node_text(node: Node) -> str:
    if node.role == "junction":
        return f"the gates at t = {node.time}"
    if node.ellipsis:
        return f"{_plain_name(node.display)} at the steps left out"
    if node.phase == "context":  # one value, computed once at the encoder's last step
        return _plain_name(node.display)
    return _plain_name(node.display) + ("" if node.time is None else f" at t = {node.time}")


def _edge_tooltip(src: Node, dst: Node, param: str | None) -> str:
    """"h at t = 0 → f at t = 1 (U_f)": an edge as the reader says it."""
    via = f" ({param})" if param else ""
    return f"{_node_text(src)} → {_node_text(dst)}{via}"


def _time_label(node: Node) -> str | None:
    # An encoder-decoder's context is one value, named as the equations write it (C, not C^(2)).
    return None if node.time is None or node.phase == "context" else str(node.time)


def _node_label(node: Node, value_html: str | None, grad_html: str | None) -> str:
    name = html_label(node.display, _time_label(node))
    if value_html is None and grad_html is None:
        return dot_html(name)
    rows = [f"<TR><TD>{name}</TD></TR>"]
    if value_html is not None:
        rows.append(f"<TR><TD>{value_html}</TD></TR>")
    if grad_html is not None:
        rows.append(f"<TR><TD>{grad_html}</TD></TR>")
    return dot_html(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">{"".join(rows)}</TABLE>')


def _param_label(param: str | None, displays: Mapping[str, Name], halo: bool = True) -> str | None:
    """The parameters on an edge, typeset; ``halo``: on a pale box (the unrolled view, whose
    labels sit by arrowheads where other edges may pass), else bare (the folded view, whose
    labels sit beside their own edge: a box there would cut a notch in the edge)."""
    if not param:
        return None
    # "V U" is a product of parameters; "W_f, U_f" the parameters of reads joined at a
    # junction, one a line so that the labels of neighbouring gates keep apart.
    parts = [" ".join(html_label(displays[p]) if p in displays else html_label(name_of(p)) for p in group.split(" "))
             for group in param.split(", ")]
    # A pale box behind the name keeps it legible where an edge passes (invisible on a white page).
    bg = f' STYLE="rounded" BGCOLOR="{style.LABEL_BG}"' if halo else ""
    return dot_html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{bg}>'
                    f'<TR><TD>{"<BR/>".join(parts)}</TD></TR></TABLE>')


#: Gap between two nodes of a rank in the folded view, in inches (Graphviz doubles it when
#: edges carry labels): narrow enough that a delay square sits close beside its variable.
FOLDED_NODESEP = "0.35"
#: How far from the arrowhead a parameter sits in the unrolled view (in units of 10 points).
HEAD_LABEL_DISTANCE = 2.2
#: Room, in inches, between two columns of nodes of a diagram turned a quarter: a level edge and its
#: parameter's name (one or two letters, by the arrowhead), without the row height a picture
#: across the page leaves for the labels of its rising edges.
VERTICAL_ROW_GAP = 0.75
#: Turned a quarter, the least distance between two rows (now columns side by side), in inches:
#: a row's height is no width to keep; the nodes' own widths and the label room set it.
VERTICAL_ROW_MIN = 0.0


def _label_width(param: str) -> float:
    """Rough width in points of a parameter label (subscripts count a little less)."""
    return max(7.5 * len(p.replace(" ", "")) + 6 for p in param.split(", "))


def _label_lines(param: str, exact: bool = True) -> float:
    """Half the height of a parameter label, in the 9-point lines head_label_spots counts.

    Round circles of computed size (``exact``): as Graphviz draws the label, one line 17
    points tall, two 30 (13 a line, 4 of padding); a label counted taller than it is finds
    no clear spot right by a larger circle's arrowhead. Round boxes of numbers, whose sizes
    are estimates: 18 points a line, a little more than drawn, for slack.
    """
    lines = param.count(", ") + 1
    return (2 + 6.5 * lines) / 9 if exact else float(lines)


#: How much further out a double circle's outer ring is than its inner one, in points.
DOUBLE_RING = 8


def _row_circle_sizes(graph: Graph, rows: Mapping[str, float], look) -> dict[str, str]:
    """Node id -> width (= height, in inches, as the DOT writes it) of every circle of the
    unrolled view: the largest circle of its row (same row, same shape), so that a row's
    steps and gates read as one kind.

    Each circle's size is computed as Graphviz will draw it round its label
    (:mod:`rnnviz.diagrams.textsize`); Graphviz only ever grows a circle past its width,
    never shrinks it, so with the row's largest every circle of the row is that size and
    its label fits.
    """
    from . import textsize  # only the unrolled view's circles are measured

    keyed: dict[str, tuple[float, str]] = {}
    largest: dict[tuple[float, str], float] = {}
    for n in graph.nodes:
        if n.ellipsis:
            continue
        shape = look(n)["shape"]
        if shape not in ("circle", "doublecircle"):
            continue
        row = (rows[n.name], shape)
        keyed[n.id] = row
        d = textsize.circle_diameter(html_label(n.display, _time_label(n)), style.FONT_SIZE)
        if d > largest.get(row, 0.0):
            largest[row] = d
    # Rounded up, so that no circle of the row needs more than it is given.
    width = {row: f"{math.ceil(d / 72 * 1000 - 1e-9) / 1000:.3f}" for row, d in largest.items()}
    return {nid: width[row] for nid, row in keyed.items()}


class _NodesNear:
    """The node centres ``(id, (x, y), radius)`` that may lie within their radius of a segment.

    A grid of cells as wide as the largest radius: a segment is tested against the nodes
    of the cells round it only, not against every node (which made a long unrolled view
    quadratic in its steps). Every centre within its radius of the segment is among those
    given (with a margin for rounding), so a test over them is the test over all.
    """

    def __init__(self, centres: list[tuple[str, tuple[float, float], float]]) -> None:
        self.centres = centres
        self.reach = max((r for _, _, r in centres), default=0.0) + 1e-6
        self.cell = 2 * self.reach
        self.grid: dict[tuple[int, int], list] = {}
        for item in centres:
            (x, y) = item[1]
            self.grid.setdefault((math.floor(x / self.cell), math.floor(y / self.cell)), []).append(item)

    def __call__(self, p: tuple[float, float], q: tuple[float, float]) -> list:
        reach, cell = self.reach, self.cell
        x0, x1 = math.floor((min(p[0], q[0]) - reach) / cell), math.floor((max(p[0], q[0]) + reach) / cell)
        y0, y1 = math.floor((min(p[1], q[1]) - reach) / cell), math.floor((max(p[1], q[1]) + reach) / cell)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > len(self.grid):  # a long segment: every node
            return self.centres
        grid = self.grid
        return [item for gx in range(x0, x1 + 1) for gy in range(y0, y1 + 1) for item in grid.get((gx, gy), ())]


def to_dot(
    graph: Graph,
    *,
    displays: Mapping[str, Name] | None = None,
    values: Mapping[tuple[str, int], object] | None = None,
    grads: Mapping[tuple[str, int], object] | None = None,
    precision: int = 3,
    title: str | None = None,
    orient: str = "horizontal",
) -> str:
    """DOT text of a variable graph, optionally annotated with values and gradients.

    Args:
        graph: from :func:`rnnviz.diagrams.graph.build`.
        displays: canonical name -> :class:`Name` of every symbol (for
            typesetting parameters on edges); missing names are rebuilt from
            their canonical spelling.
        values: (name, step) -> number or array, shown under unrolled nodes.
        grads: (name, step) -> gradient of a scalar target w.r.t. that node;
            shown as the signed number for a scalar and as a norm for a vector;
            edge width/color follow its magnitude.
        precision: significant digits of the numbers shown.
        title: a caption above the diagram (escaped).
        orient: ``horizontal`` (time runs left to right) or ``vertical`` (time
            runs down, inputs on the left: for phones and narrow columns); the
            unrolled view only.
    """
    displays = dict(displays or {})
    values = values or {}
    grad_norms, grad_top = _grad_scale(grads or {})
    annotated = bool(values) or bool(grad_norms)
    routed = True
    lines = ['digraph "rnnviz" {']
    g = style.graph_attrs()
    if graph.view == "unrolled":
        # Pinned positions: every column is laid out alike and time runs left to right.
        # Every node has its position, so no layout engine runs: ``nop`` takes them as
        # they are (in points), where ``neato`` would still run its stress solver over
        # the pinned nodes, in quadratic time. Only the edges are left to draw.
        # Graphviz's obstacle-avoiding router costs far more than linear time, so all but
        # small grids get straight edges, bent by rnnviz round the nodes they would cross.
        # An encoder-decoder's context fans out over long edges, whose labels are only placed
        # clear of each other when the edges are the straight lines they are estimated as.
        routed = len(graph.nodes) <= ROUTED_MAX_NODES and not graph.decoder_steps
        g.update(layout="nop", splines="true" if routed else "line", outputorder="edgesfirst")
    else:
        # Edge labels double the gap Graphviz leaves between two nodes of a rank: a narrower
        # one keeps a delay square close to its variable, on a short loop.
        g.update(rankdir="BT", newrank="true", outputorder="edgesfirst", nodesep=FOLDED_NODESEP)
    if graph.view == "folded" and annotated and title is None:
        # Say which step the numbers are: a folded node stands for every step.
        known = {**values, **(grads or {})}
        phase = {n.name: n.phase for n in graph.nodes}
        if any(phase.values()):  # an encoder-decoder: each phase's last step
            last_of = {p: max((t for name, t in known if phase.get(name) == p), default=None)
                       for p in ("encoder", "decoder")}
            title = (f"values at the last steps: t = T = {last_of['encoder']} (encoder), "
                     f"t = T' = {last_of['decoder']} (decoder)")
        else:
            title = f"values at t = {max(t for _, t in known)}"
    lines.extend(graph_header(g, title))

    if graph.decoder_steps:  # an encoder-decoder: each phase's rows and columns (Fig. 10.12)
        from . import phased

        level = phased.levels(graph)
    else:
        level = levels(graph)
    row_order = {name: i for i, name in enumerate(dict.fromkeys(n.name for n in graph.nodes))}
    pinned: dict[str, tuple[float, float]] = {}

    def look(n: Node) -> dict[str, str]:  # an output that is its step's state (the LSTM's h) looks like one
        return style.node_attrs(n.role, carried=n.carried)

    extent: dict[str, tuple[float, float]] = {}  # node id -> estimated width, height (inches)
    if graph.decoder_steps:  # an encoder-decoder's rows are its phases' own; no junctions across them
        found = phased.fans(graph) if graph.view == "unrolled" else []
        rows, moved = {k: float(v) for k, v in level.items()}, set()
    else:
        found = fans(graph)
        rows, moved = gated_rows(graph, level, found)
    row_size: dict[float, tuple[float, float]] = {}  # row -> the largest node in it (inches)
    if graph.view == "unrolled":
        sizes: dict[str, tuple[float, float]] = {}
        for n in graph.nodes:
            if n.ellipsis:
                extent[n.id] = (0.3, 0.3)
                continue
            key = (n.name, n.time)
            w, h = _node_extent(n, values.get(key), grad_norms.get(key), precision,
                                look(n)["shape"], annotated)
            extent[n.id] = (w, h)
            old_w, old_h = sizes.get(n.name, (0.0, 0.0))
            sizes[n.name] = (max(w, old_w), max(h, old_h))
        if orient != "vertical" and not annotated:
            # A gate's slot leaves room for the parameters by its arrowhead: gates standing
            # closer than a label's width pile their labels onto the neighbours' branches.
            # (Nodes with numbers are wide boxes whose labels sit well below them.)
            by_id = {n.id: n for n in graph.nodes}
            for f in found:
                for t in f.targets:
                    params = {p for e in graph.edges if e.target == t and e.source in f.sources and e.param
                              for p in e.param.split(" ")}
                    if params:
                        name = by_id[t].name
                        w, h = sizes[name]
                        room = max(_label_width(p) for p in params) / 72 - SLOT_PAD / 2
                        sizes[name] = (max(w, extent[t][0] + room), h)
        # Turned a quarter, a slot along a row is as tall as its node, and rows as far apart as nodes are wide.
        laid = {k: (h, w) for k, (w, h) in sizes.items()} if orient == "vertical" else sizes
        if graph.decoder_steps:
            pinned = phased.positions(graph, level, annotated, laid, found)
        else:
            # Turned a quarter, two rows are side by side: the edge between them runs level and
            # its label needs room between the boxes, not squeezed against them.
            pinned = positions(graph, rows, row_order, annotated, laid, moved=moved, found=found,
                               row_gap=VERTICAL_ROW_GAP if orient == "vertical" else ROW_GAP,
                               row_min=VERTICAL_ROW_MIN if orient == "vertical" else None)
        if orient == "vertical":
            # Turned a quarter: each step is a row (time runs down), inputs on the left.
            pinned = {k: (y, round(-x, 2)) for k, (x, y) in pinned.items()}
        for name, (w, h) in sizes.items():
            old_w, old_h = row_size.get(rows[name], (0.0, 0.0))
            row_size[rows[name]] = (max(w, old_w), max(h, old_h))

    # Graphviz sizes each circle to its own label (i^(1) is narrower than o^(1)): every
    # circle of a row gets the size of the row's largest, computed as Graphviz draws it.
    circle_size = _row_circle_sizes(graph, rows, look) if graph.view == "unrolled" and not annotated else {}
    drawn = dict(extent)  # node id -> width, height (inches) as Graphviz will draw it, where known
    for n in graph.nodes:
        if n.id in circle_size:  # a double circle's outer ring is further out
            ring = DOUBLE_RING / 72 if look(n)["shape"] == "doublecircle" else 0.0
            drawn[n.id] = (float(circle_size[n.id]) + ring,) * 2

    # The folded view shows the numbers of the last step (its nodes have no time).
    last = {name: t for name, t in sorted({**values, **(grads or {})}, key=lambda k: k[1])} if graph.view == "folded" else {}
    for n in graph.nodes:
        key = (n.name, n.time) if n.time is not None else ((n.name, last[n.name]) if n.name in last else None)
        attrs = look(n)
        if n.ellipsis:
            attrs = style.node_attrs("ellipsis")
            attrs.update(style="solid", color="transparent", fontcolor=style.MUTED_COLOR,
                         label=dot_html(f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="22">⋯</FONT>'),
                         width="0.3", height="0.3", tooltip="steps left out")
        else:
            value_html = format_value(values[key], precision) if key in values else None
            grad_html = None
            if key in grad_norms:
                gn = grad_norms[key]
                # A scalar's gradient keeps its sign (dh_3/dh_2 = -3 on an exam); a vector's
                # is summarised by its norm.
                flat = _flat(grads[key])
                shown = flat[0] if len(flat) == 1 else gn
                grad_html = (f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}" '
                             f'COLOR="{_grad_text_color(_grad_strength(gn, grad_top))}">'
                             f"∇ {escape_html(format_number(shown, precision))}</FONT>")
                if gn == 0:
                    attrs.update(style=attrs["style"] + ",dashed", color=style.MUTED_COLOR)
            attrs["label"] = _node_label(n, value_html, grad_html)
            attrs["tooltip"] = _tooltip(n, values.get(key) if key else None,
                                        grads.get(key) if grads and key else None, precision,
                                        key[1] if key and n.time is None else None)
            if annotated:
                # Numbers would make circles balloon: a rounded box round them (a double
                # outline still marks an output), one size for a whole row, so the steps
                # of a row read as one chain.
                if attrs["shape"] in ("circle", "doublecircle"):
                    if attrs["shape"] == "doublecircle":
                        attrs["peripheries"] = "2"
                    attrs.update(shape="box", style=attrs["style"] + ",rounded")
                attrs["margin"] = "0.04,0.02"
                if rows[n.name] in row_size:
                    w, h = row_size[rows[n.name]]
                    attrs.update(width=f"{w:.2f}", height=f"{h:.2f}")
            elif n.id in circle_size:
                attrs.update(width=circle_size[n.id], height=circle_size[n.id])
        if graph.view == "unrolled":
            x, y = pinned[n.id]
            attrs["pos"] = _pos(x, y)
        else:
            attrs["group"] = "main"  # Graphviz keeps edges within a group straight: the main chain
        lines.append(f"  {node_id(n.id)} {dot_attrs(attrs)};")

    if graph.view == "unrolled" and graph.collapsed is not None:
        lines.append(_ellipsis_caption(graph, pinned, orient))

    if graph.view == "folded":
        # One rank per level; an invisible left-to-right chain fixes the order in each rank.
        by_level: dict[int, list[Node]] = {}
        for n in graph.nodes:
            by_level.setdefault(level[n.name], []).append(n)
        named = {n.id: n.name for n in graph.nodes}
        readers: dict[str, list[int]] = {}
        for e in graph.edges:
            if e.delay == 0:
                readers.setdefault(e.source, []).append(level[named[e.target]])

        def rises_past(n: Node) -> bool:
            """Whether every wire out of n rises past the rank above (o into h, over c)."""
            ups = readers.get(n.id, [])
            return bool(ups) and min(ups) > level[n.name] + 1

        # The delay squares sit right of their variables and their wires go down the right side:
        # a wire that rises past the rank above goes up the left side, clear of them. In equation
        # order the LSTM's o stood between i and c-tilde, its wire into h crossing c-tilde's into c.
        for rank in sorted(by_level):
            members = sorted(by_level[rank], key=lambda n: (not rises_past(n), row_order[n.name]))
            if len(members) > 1:
                lines.append("  { rank=same; " + " ".join(node_id(n.id) + ";" for n in members) + " }")
                chain = " -> ".join(node_id(n.id) for n in members)
                lines.append(f"  {chain} [style=invis, weight=\"5\"];")

    node_by_id = {n.id: n for n in graph.nodes}
    # h[t-1] and x[t] into the gates of step t: one wire each into a junction, one wire from
    # there into each gate (labelled with the parameters of both reads), as colah draws it.
    fan_of: dict[tuple[str, str], int] = {}
    for k, f in enumerate(found):
        for a in f.sources:
            for b in f.targets:
                fan_of[(a, b)] = k
    edges_drawn = [e for e in graph.edges if (e.source, e.target) not in fan_of]
    fan_params: dict[tuple[int, str], list[str]] = {}
    for e in graph.edges:
        k = fan_of.get((e.source, e.target))
        if k is not None and e.param:
            for p in e.param.split(" "):
                fan_params.setdefault((k, e.target), [])
                if p not in fan_params[(k, e.target)]:
                    fan_params[(k, e.target)].append(p)
    from .graph import Edge

    # W [r h, x]: the junction's branch already names W; a second W by the same head repeats it.
    for k, f in enumerate(found):
        for b in f.targets:
            said = set(fan_params.get((k, b), []))
            edges_drawn = [Edge(e.source, e.target, None, e.delay) if e.target == b and e.param
                           and set(e.param.split(" ")) <= said else e for e in edges_drawn]

    # Folded, the same: x and the delay square of h feed the gates through one junction
    # (one per layer of a stacked LSTM).
    folded_fans = _folded_fans(graph) if graph.view == "folded" else []
    fan_lines: list[str] = []
    delayed_fan: list[tuple[str, int]] = []
    for number, (sources, targets) in enumerate(folded_fans):
        jid = "junction" if number == 0 else f"junction_{number + 1}"
        joined = {(e.source, e.delay, e.target) for e in graph.edges
                  if (e.source, e.delay) in sources and e.target in targets}
        params: dict[str, list[str]] = {}
        for e in graph.edges:
            if (e.source, e.delay, e.target) in joined and e.param:
                for p in e.param.split(" "):
                    if p not in params.setdefault(e.target, []):
                        params[e.target].append(p)
        edges_drawn = [e for e in edges_drawn if (e.source, e.delay, e.target) not in joined]
        point = {"shape": "point", "width": "0.07", "height": "0.07", "color": style.EDGE_COLOR,
                 "fillcolor": style.EDGE_COLOR, "style": "filled", "tooltip": "inputs of the gates", "group": "main"}
        fan_lines.append(f"  {node_id(jid)} {dot_attrs(point)};")
        bottom: list[str] = []
        for src, delay in sorted(sources, key=lambda sd: (sd[1], sd[0])):
            n = node_by_id[src]
            if delay == 0:
                bottom.append(node_id(src))
                fan_lines.append(f"  {node_id(src)} -> {node_id(jid)} {dot_attrs({'arrowhead': 'none', 'weight': '8', 'tooltip': f'{_plain_name(n.display)} → the gates'})};")
                continue
            # The square sits right beside its variable, as every delay square does; the wire
            # of h(t-1) comes down from it to the junction.
            q = f"delay_fan_{len(delayed_fan)}"  # numbered after the loops' squares
            delayed_fan.append((src, delay))
            fan_lines.append(f"  {node_id(q)} {dot_attrs(_delay_attrs(delay))};")
            fan_lines.append(f"  {{ rank=same; {node_id(src)}; {node_id(q)}; }}")
            fan_lines.append(f"  {node_id(src)} -> {node_id(q)} "
                             f"{dot_attrs({'dir': 'none', 'arrowhead': 'none', 'weight': '8', 'tooltip': f'{_plain_name(n.display)}, read {delay} step later'})};")
            fan_lines.append(f"  {node_id(jid)} -> {node_id(q)} "
                             f"{dot_attrs({'dir': 'none', 'arrowhead': 'none', 'tooltip': f'{_plain_name(n.display)} → the gates'})};")
        if len(bottom) > 1:
            fan_lines.append("  { rank=same; " + " ".join(b + ";" for b in bottom) + " }")
            fan_lines.append(f"  {' -> '.join(bottom)} [style=invis];")
        for t in sorted(targets, key=[n.id for n in graph.nodes].index):
            label = _param_label(", ".join(params.get(t, [])) or None, displays, halo=False)
            fan_lines.append(f"  {node_id(jid)} -> {node_id(t)} "
                             f"{dot_attrs({'label': label, 'tooltip': f'the gate inputs → {_plain_name(node_by_id[t].display)}'})};")
    wires: list[tuple[Edge, bool]] = [(e, False) for e in edges_drawn]
    for k, f in enumerate(found):
        delay = {e.source: e.delay for e in graph.edges if fan_of.get((e.source, e.target)) == k}
        wires.extend((Edge(a, f.id, None, delay[a]), True) for a in f.sources)
        wires.extend((Edge(f.id, b, ", ".join(fan_params.get((k, b), [])) or None, 0), False) for b in f.targets)
    for f in found:
        x, y = pinned[f.id]
        point = {"shape": "point", "width": "0.07", "height": "0.07", "color": style.EDGE_COLOR,
                 "fillcolor": style.EDGE_COLOR, "style": "filled", "tooltip": f"inputs of the gates at t = {f.time}",
                 "pos": _pos(x, y)}
        lines.append(f"  {node_id(f.id)} {dot_attrs(point)};")
        node_by_id[f.id] = Node(f.id, f.id, f.time, "junction")
    router = Router(graph, pinned, annotated) if graph.view == "unrolled" and not routed else None
    # Detours of straight edges that would cross a node (large grids only), by edge index.
    bends_of: dict[int, list[tuple[float, float]]] = {}
    if router is not None:
        for i, (e, _) in enumerate(wires):
            bends_of[i] = router.waypoints(e.source, e.target)
    if graph.view == "unrolled" and graph.decoder_steps and orient == "horizontal":
        # An encoder-decoder's context reaches the decoder's chain along one bus, as a wire on a
        # circuit: down from the context to a line between the chain and the outputs, along
        # it, and into each step from its upper left (Fig. 10.12). Straight lines fanned out of
        # the context crossed the outputs of the earlier steps and were bent round them. (Reads
        # below the chain, a gated decoder's gates, keep their straight or detoured lines.)
        for i, (e, _) in enumerate(wires):
            src, dst = node_by_id[e.source], node_by_id[e.target]
            if (src.phase == "context" and dst.phase == "decoder" and dst.role == "state" and not dst.ellipsis
                    and (dst.time or 0) >= 1):
                (xc, yc), (xd, yd) = pinned[src.id], pinned[dst.id]
                bus = round(yd + 0.6 * (yc - yd), 2)
                bends_of[i] = [(xc, bus), (round(xd - 0.45, 2), bus)]

    if graph.view == "unrolled" and graph.decoder_steps:
        # A gated decoder reads the context in its gates, through each step's junction under
        # them: down the context's own column to the junctions' row and along it, one line
        # through every junction (a sheaf of long lines into every gate at first). Turned a
        # quarter, level from the context to the junctions' column and down it.
        for i, (e, _) in enumerate(wires):
            src, dst = node_by_id[e.source], node_by_id[e.target]
            if src.phase == "context" and dst.role == "junction":
                (xc, yc), (xj, yj) = pinned[src.id], pinned[dst.id]
                bends_of[i] = [(xc, yj) if orient == "horizontal" else (xj, yc)]
    spots: dict[int, tuple[int, float]] = {}
    if graph.view == "unrolled":
        # Each parameter by its arrowhead, in the first nearby spot clear of nodes and other
        # labels; a detour's label by the head of its last run.
        labelled = [i for i, (e, _) in enumerate(wires) if e.param
                    and not node_by_id[e.source].ellipsis and not node_by_id[e.target].ellipsis]
        # The labels by the arrowheads are placed round the nodes as they will be drawn.
        halves = {k: (w * 36, h * 36) for k, (w, h) in drawn.items()}
        # Every drawn edge as the polyline it runs along, the labelled ones first (in their
        # order), so that no label is put across another edge.
        is_labelled = set(labelled)
        others = [i for i in range(len(wires)) if i not in is_labelled]
        runs = [[pinned[wires[i][0].source], *bends_of.get(i, []), pinned[wires[i][0].target]]
                 for i in labelled + others
                 if wires[i][0].source in pinned and wires[i][0].target in pinned]
        # A straight run through a node is not where the edge goes (Graphviz bends it round):
        # such an edge is left out rather than guessed.
        centres = [(k, pinned[k], min(drawn[k]) / 2) for k in drawn if k in pinned]
        ends = [(wires[i][0].source, wires[i][0].target) for i in labelled + others
                if wires[i][0].source in pinned and wires[i][0].target in pinned]
        near = _NodesNear(centres)
        runs = [[] if any(_segment_distance(c, p, q) < r for p, q in zip(run, run[1:]) for k, c, r in near(p, q)
                          if k not in ends[j]) else run
                for j, run in enumerate(runs)]
        placed = head_label_spots([(bends_of[i][-1] if bends_of.get(i) else wires[i][0].source,
                                    wires[i][0].target, _label_width(wires[i][0].param or ""),
                                    _label_lines(wires[i][0].param or "", exact=bool(circle_size)))
                                   for i in labelled], pinned, halves,
                                  runs if len(runs) == len(wires) else ())
        spots = {labelled[j]: spot for j, spot in placed.items()}
    # One black square per delayed variable (and delay), as in the book's circuit diagram:
    # h(t-1) is one value that fans out to every equation reading it, not one square per read.
    squares: dict[tuple[str, int], str] = {}
    square_edges: dict[str, list[tuple[Node, dict]]] = {}
    for index, (e, into_junction) in enumerate(wires):
        src, dst = node_by_id[e.source], node_by_id[e.target]
        attrs = {"label": _param_label(e.param, displays, halo=graph.view != "folded"),
                 "tooltip": _edge_tooltip(src, dst, e.param)}
        if into_junction:
            attrs["arrowhead"] = "none"
        if src.ellipsis or dst.ellipsis:
            # The chain goes on through the omitted steps: dashed, but as dark as any edge,
            # so that it survives a projector and a low-resolution PNG.
            attrs.update(style="dashed", label=None)
            if dst.ellipsis:
                attrs["arrowhead"] = "none"  # one line h(3) - - ⋯ - -> h(9), not two arrows
        elif grads:
            _grad_edge(attrs, src, dst, grad_norms, grad_top)
        if graph.view == "folded" and e.delay != 0:
            d = squares.setdefault((src.id, e.delay), f"delay_{len(squares) + 1}")
            square_edges.setdefault(d, []).append((dst, attrs))
            continue
        if graph.view == "folded" and level[dst.name] - level[src.name] == 1:
            attrs["weight"] = "8"  # edges between adjacent levels pull hardest: the main chain stays straight
        if graph.view == "unrolled" and attrs.get("label") is not None:
            # By the arrowhead, not mid-edge: the long h(t-1) -> gate edges cross the state
            # row at one spot, and mid-edge labels piled up there. Near its head each label
            # is beside the node it feeds, so the reader pairs "W^f" with f at once.
            angle, distance = spots.get(index, (0, HEAD_LABEL_DISTANCE))
            attrs["headlabel"] = attrs.pop("label")
            attrs.update(labeldistance=f"{distance:g}", labelangle=str(angle))
        if router is not None:
            bends = bends_of.get(index)
            if bends:
                # A straight line would cross a node: go round it through invisible points.
                ids = []
                for x, y in bends:
                    ids.append(f"bend_{len(router.used)}")
                    router.used.append(ids[-1])
                    point = {"shape": "point", "style": "invis", "width": "0.01", "pos": _pos(x, y)}
                    lines.append(f"  {node_id(ids[-1])} {dot_attrs(point)};")
                head_only = ("headlabel", "labeldistance", "labelangle", "label")
                plain = {k: v for k, v in attrs.items() if k not in head_only}
                plain["arrowhead"] = "none"
                path = [src.id, *ids, dst.id]
                for i, (p, q) in enumerate(zip(path, path[1:])):
                    # The runs before the last have no arrowhead; the last one carries the
                    # arrow and, like every edge, the parameter by it.
                    seg = attrs if i == len(path) - 2 else plain
                    lines.append(f"  {node_id(p)} -> {node_id(q)} {dot_attrs(seg)};")
                continue
        lines.append(f"  {node_id(src.id)} -> {node_id(dst.id)} {dot_attrs(attrs)};")
    for (src_id, delay), d in squares.items():
        lines.extend(_delayed_edges(d, node_by_id[src_id], delay, square_edges[d], level))
    numbered = len(squares)
    for k, (src_id, delay) in enumerate(delayed_fan):
        q = node_id(f"delay_fan_{k}")
        if (src_id, delay) in squares:
            # The variable's loop has its square already (a GRU's h reads h[t-1]): one square,
            # on the loop and wired down to the junction, as the book draws one per variable.
            own = (f"  {q} [", f"  {{ rank=same; {node_id(src_id)}; {q}; }}", f"  {node_id(src_id)} -> {q} ")
            fan_lines = [line.replace(q, node_id(squares[(src_id, delay)])) for line in fan_lines
                         if not line.startswith(own)]
        else:
            numbered += 1
            fan_lines = [line.replace(q, node_id(f"delay_{numbered}")) for line in fan_lines]
    lines.extend(fan_lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _pos(x: float, y: float) -> str:
    """The ``pos`` attribute of a node pinned at (x, y) inches: ``nop`` reads points.

    Example:
        >>> _pos(3.57, 1.56)
        '257.04,112.32!'
    """
    return f'{x * 72:.2f},{y * 72:.2f}!'


def _folded_fans(graph: Graph) -> list[tuple[set[tuple[str, int]], set[str]]]:
    """Groups of (source, delay) pairs that feed the same two or more variables, one of them
    read now and one delayed (x and h[t-1] into the gates), each with those variables: one
    group per layer of a stacked LSTM (h1 and h2[t-1] into the second layer's gates)."""
    reads: dict[tuple[str, int], set[str]] = {}
    for e in graph.edges:
        reads.setdefault((e.source, e.delay), set()).add(e.target)
    order = [n.id for n in graph.nodes]
    cands = sorted((k for k, v in reads.items() if len(v) >= 2), key=lambda k: (-len(reads[k]), order.index(k[0]), k[1]))
    out: list[tuple[set[tuple[str, int]], set[str]]] = []
    taken: set[tuple[str, int]] = set()
    fed: set[str] = set()
    for seed in cands:
        if seed in taken:
            continue
        group, common = [seed], set(reads[seed]) - fed
        for k in cands:
            if k not in taken and k != seed and len(common & reads[k]) >= 2:
                group.append(k)
                common &= reads[k]
        if len(group) < 2 or not any(d == 0 for _, d in group) or not any(d > 0 for _, d in group):
            continue
        if any(d > 0 and reads[k] - common - {k[0]} for k, d in ((k, k[1]) for k in group)):
            continue  # a delayed value also read elsewhere keeps its one square
        # A delayed value read by its own variable as well (a GRU's h reads h[t-1]) goes
        # into the junction from the square of its loop (see to_dot).
        out.append((set(group), common))
        taken |= set(group)
        fed |= common
    return out


def _ellipsis_caption(graph: Graph, pinned: Mapping[str, tuple[float, float]], orient: str = "horizontal") -> str:
    """A note under the ellipsis column (left of the ellipsis row, when vertical) naming the steps left out."""
    assert graph.collapsed is not None
    first, last = graph.collapsed
    dots = [pinned[n.id] for n in graph.nodes if n.ellipsis]
    x = dots[0][0]
    y = min(p[1] for p in pinned.values()) - 0.55
    if orient == "vertical":
        x, y = min(p[0] for p in pinned.values()) - 0.8, dots[0][1]
    text = f"step {first}" if first == last else f"steps {first}–{last}"
    attrs = {"shape": "plaintext", "label": text, "fontname": style.FONT_TEXT, "fontsize": "11",
             "fontcolor": style.EDGE_COLOR, "width": "0.3", "height": "0.2", "margin": "0",
             "tooltip": f"steps {first} to {last} are left out", "pos": _pos(x, y)}
    return f"  {node_id('omitted_steps')} {dot_attrs(attrs)};"


def _delay_attrs(delay: int) -> dict[str, str]:
    """The black square of a delayed read; a delay k > 1 (or a read ahead) is written on it."""
    attrs = {
        "shape": "square", "style": "filled", "fillcolor": style.DELAY_COLOR, "color": style.EDGE_COLOR,
        "label": "", "width": "0.16", "height": "0.16", "fixedsize": "true",
        "tooltip": f"delay {delay}" if delay > 0 else f"read {-delay} step{'s' * (delay != -1)} ahead",
    }
    if delay != 1:
        text = str(delay) if delay > 0 else f"+{-delay}"
        attrs.update(label=text, width="0.26", height="0.26", fontname=style.FONT_TEXT, fontsize="10",
                     fontcolor=style.PALETTE["delay"].text)
    return attrs


def _delayed_edges(d: str, src: Node, delay: int, reads: list[tuple[Node, dict]],
                   level: Mapping[str, int]) -> list[str]:
    """The delayed reads of one variable through one black square, as in the book's circuit diagram.

    The square sits in the variable's own rank, right beside it, joined by a
    short wire; a variable that reads itself does so on a short loop through
    the square (Fig. 10.2-10.5): the wire and the read are two edges within
    the rank, drawn by Graphviz as a loop. Readers above the square are fed
    upwards; readers below it by edges declared forwards with ``dir=back``, so
    that they shape the layout instead of being reversed by Graphviz.

    Within a rank, edges are declared left to right and without ports (Graphviz
    2.43 mixes up the ends of a flat edge declared right to left, or given
    ports, and draws its arrowheads at the wrong end), and the loop's label is
    an ``xlabel``: a ``label`` on an edge within one rank opens a rank of its own.
    """
    out = [f"  {node_id(d)} {dot_attrs(_delay_attrs(delay))};"]
    s, q = node_id(src.id), node_id(d)
    out.append(f"  {{ rank=same; {s}; {q}; }}")
    into = {"dir": "none", "arrowhead": "none", "weight": "8",
            "tooltip": f"{_plain_name(src.display)}, read {delay} step{'s' if delay != 1 else ''} later"}
    out.append(f"  {s} -> {q} {dot_attrs(into)};")
    for dst, attrs in reads:
        if dst.id == src.id:
            back = {k: v for k, v in attrs.items() if k != "label"}
            back.update(dir="back", arrowhead="none", xlabel=attrs.get("label"))
            out.append(f"  {s} -> {q} {dot_attrs(back)};")
        elif level[dst.name] < level[src.name]:
            out.append(f"  {node_id(dst.id)} -> {q} {dot_attrs(dict(attrs, dir='back'))};")
        else:
            out.append(f"  {q} -> {node_id(dst.id)} {dot_attrs(attrs)};")
    return out


def _grad_edge(attrs: dict, src: Node, dst: Node, norms: Mapping[tuple[str, int], float], top: float) -> None:
    """Width and color of an edge by the gradient at its source (log scale); zero -> cut.

    An edge into a node whose gradient is exactly zero is cut too: nothing
    flows back along it, whatever reaches its source by other paths.
    """
    key = (src.name, src.time) if src.time is not None else None
    if key not in norms:
        return
    g = norms[key]
    if g == 0 or norms.get((dst.name, dst.time)) == 0:
        attrs.update(style="dashed", color=style.MUTED_COLOR)
        return
    a = _grad_strength(g, top)
    attrs.update(penwidth=f"{0.6 + 3.4 * a:.2f}", color=_grad_color(a))
