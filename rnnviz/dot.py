"""Neutral graph (+ annotations) -> DOT text, in the look of the textbook figures.

Pure and deterministic: the same graph gives byte-identical DOT. Running
Graphviz is :mod:`rnnviz.render`'s job.

Layout conventions (``docs`` and the design notes): inputs at the bottom and
outputs at the top (``rankdir=BT``, one rank per level of
:func:`rnnviz.graph.levels`); in the unrolled view time runs left to right, one
column per step, every column laid out alike (``group`` per column and
invisible chains that fix the order); in the folded view a delayed read goes
through a small black square, labelled with k when the delay k > 1.

Example:
    >>> from rnnviz.model import load_model
    >>> from rnnviz.graph import build
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

from . import style
from .graph import Graph, Node
from .layout import ROUTED_MAX_NODES, Router, levels, positions
from .labels import HtmlLabel, dot_html, escape_dot, escape_html, html_label, name_of
from .syntax import Name

__all__ = ["to_dot", "format_number", "format_value", "node_id"]


def node_id(graph_id: str) -> str:
    """A DOT node id: quoted, never containing ``:`` (which DOT reads as a port)."""
    return escape_dot(graph_id.replace(":", "_"))


def _attrs(d: Mapping[str, str | None]) -> str:
    """``[k=v, ...]`` with every value quoted, except HTML-like labels (:class:`HtmlLabel`)."""
    parts = []
    for k, v in d.items():
        if v is None:
            continue
        parts.append(f"{k}={v}" if isinstance(v, HtmlLabel) else f"{k}={escape_dot(v)}")
    return "[" + ", ".join(parts) + "]"


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
    return math.sqrt(sum(x * x for x in xs))


#: Vectors up to this many entries are shown in full; longer ones as a strip.
MAX_ENTRIES = 4
STRIP_CELLS = 12


def _diverging(x: float, scale: float) -> str:
    """Blue (negative) - white - red (positive), readable in greyscale as lightness."""
    a = 0.0 if scale == 0 else max(-1.0, min(1.0, x / scale))
    end = (33, 102, 172) if a < 0 else (178, 24, 43)
    a = abs(a)
    rgb = [round(255 + (c - 255) * a) for c in end]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def format_value(value, precision: int = 3) -> str:
    """The inside of an HTML-like label showing a value under a node name.

    A scalar is one number; a short vector its entries; a long vector a strip
    of colored cells (blue negative, red positive) and its norm.

    Example:
        >>> format_value(0.5)
        '<FONT FACE="Helvetica" POINT-SIZE="10">0.5</FONT>'
        >>> format_value([1, -2])
        '<FONT FACE="Helvetica" POINT-SIZE="10">[1, −2]</FONT>'
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
    tds = "".join(f'<TD BGCOLOR="{_diverging(m, scale)}" WIDTH="5" HEIGHT="8"></TD>' for m in means)
    strip = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>{tds}</TR></TABLE>'
    norm = escape_html(format_number(_norm(xs), precision))
    return (f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD>{strip}</TD></TR>'
            f"<TR><TD>{font}‖·‖ = {norm}</FONT></TD></TR></TABLE>")


def _grad_scale(grads: Mapping[tuple[str, int], object]) -> tuple[dict[tuple[str, int], float], float]:
    norms = {k: _norm(_flat(v)) for k, v in grads.items()}
    top = max(norms.values(), default=0.0)
    return norms, top


def _grad_strength(g: float, top: float) -> float:
    """0..1 on a log scale over six decades below the largest gradient."""
    if g <= 0 or top <= 0:
        return 0.0
    return max(0.0, min(1.0, 1 + math.log10(g / top) / 6))


def _grad_color(a: float) -> str:
    lo, hi = (190, 190, 190), (178, 24, 43)
    return "#{:02x}{:02x}{:02x}".format(*(round(l + (h - l) * a) for l, h in zip(lo, hi)))


def _time_label(node: Node) -> str | None:
    return None if node.time is None else str(node.time)


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


def _param_label(param: str | None, displays: Mapping[str, Name]) -> str | None:
    if not param:
        return None
    parts = [html_label(displays[p]) if p in displays else html_label(name_of(p)) for p in param.split(" ")]
    # A pale box behind the name keeps it legible on a dark page (invisible on a white one).
    return dot_html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" STYLE="rounded" '
                    f'BGCOLOR="{style.LABEL_BG}"><TR><TD>{" ".join(parts)}</TD></TR></TABLE>')


def to_dot(
    graph: Graph,
    *,
    displays: Mapping[str, Name] | None = None,
    values: Mapping[tuple[str, int], object] | None = None,
    grads: Mapping[tuple[str, int], object] | None = None,
    precision: int = 3,
    title: str | None = None,
) -> str:
    """DOT text of a variable graph, optionally annotated with values and gradients.

    Args:
        graph: from :func:`rnnviz.graph.build`.
        displays: canonical name -> :class:`Name` of every symbol (for
            typesetting parameters on edges); missing names are rebuilt from
            their canonical spelling.
        values: (name, step) -> number or array, shown under unrolled nodes.
        grads: (name, step) -> gradient of a scalar target w.r.t. that node;
            shown as a norm, and edge width/color follow its magnitude.
        precision: significant digits of the numbers shown.
        title: a caption above the diagram (escaped).
    """
    displays = dict(displays or {})
    values = values or {}
    grad_norms, grad_top = _grad_scale(grads or {})
    annotated = bool(values) or bool(grad_norms)
    routed = True
    lines = ['digraph "rnnviz" {']
    g = style.graph_attrs()
    if graph.view == "unrolled":
        # Pinned positions: every column is laid out alike and time runs left to right;
        # edges are then routed around the nodes.
        # Graphviz's obstacle-avoiding router costs far more than linear time, so large
        # grids get straight edges, bent by rnnviz round the nodes they would cross.
        routed = len(graph.nodes) <= ROUTED_MAX_NODES
        g.update(layout="neato", splines="true" if routed else "line", outputorder="edgesfirst")
    else:
        g.update(rankdir="BT", newrank="true", outputorder="edgesfirst")
    if title:
        # A pale box behind the caption: legible on white and on dark pages.
        g.update(label=dot_html(f'<TABLE BORDER="0" CELLPADDING="3" STYLE="rounded" BGCOLOR="{style.LABEL_BG}">'
                                f'<TR><TD><FONT FACE="{style.FONT_TEXT}" POINT-SIZE="15">{escape_html(title)}'
                                "</FONT></TD></TR></TABLE>"),
                 labelloc="t", labeljust="c")
    lines.append(f"  graph {_attrs(g)};")
    lines.append(f"  node {_attrs({'fontname': style.FONT, 'fontsize': str(style.FONT_SIZE)})};")
    lines.append(f"  edge {_attrs(style.edge_attrs())};")

    level = levels(graph)
    row_order = {name: i for i, name in enumerate(dict.fromkeys(n.name for n in graph.nodes))}
    pinned = positions(graph, level, row_order, annotated) if graph.view == "unrolled" else {}

    for n in graph.nodes:
        key = (n.name, n.time) if n.time is not None else None
        attrs = style.node_attrs(n.role)
        if n.ellipsis:
            attrs = style.node_attrs("ellipsis")
            attrs.update(style="solid", color="transparent", fontcolor=style.MUTED_COLOR,
                         label=dot_html(f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="20">⋯</FONT>'),
                         width="0.3", height="0.3", tooltip="steps left out")
        else:
            value_html = format_value(values[key], precision) if key in values else None
            grad_html = None
            if key in grad_norms:
                gn = grad_norms[key]
                grad_html = (f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}" '
                             f'COLOR="{_grad_color(_grad_strength(gn, grad_top))}">'
                             f"∇ {escape_html(format_number(gn, precision))}</FONT>")
                if gn == 0:
                    attrs.update(style=attrs["style"] + ",dashed", color=style.MUTED_COLOR)
            attrs["label"] = _node_label(n, value_html, grad_html)
            attrs["tooltip"] = n.id
            if value_html is not None or grad_html is not None:
                # Numbers make circles balloon; ellipses of one minimal width keep the grid even.
                if attrs["shape"] in ("circle", "doublecircle"):
                    if attrs["shape"] == "doublecircle":
                        attrs["peripheries"] = "2"
                    attrs.update(shape="ellipse", width="1.0", height="0.75")
                attrs["margin"] = "0.04,0.02"
        if graph.view == "unrolled":
            x, y = pinned[n.id]
            attrs["pos"] = f"{x:.2f},{y:.2f}!"
        else:
            attrs["group"] = "main"  # Graphviz keeps edges within a group straight: the main chain
        lines.append(f"  {node_id(n.id)} {_attrs(attrs)};")

    if graph.view == "folded":
        # One rank per level; an invisible left-to-right chain fixes the order in each rank.
        by_level: dict[int, list[Node]] = {}
        for n in graph.nodes:
            by_level.setdefault(level[n.name], []).append(n)
        for rank in sorted(by_level):
            members = sorted(by_level[rank], key=lambda n: row_order[n.name])
            if len(members) > 1:
                lines.append("  { rank=same; " + " ".join(node_id(n.id) + ";" for n in members) + " }")
                chain = " -> ".join(node_id(n.id) for n in members)
                lines.append(f"  {chain} [style=invis, weight=\"5\"];")

    node_by_id = {n.id: n for n in graph.nodes}
    delay_count = 0
    router = Router(graph, pinned, annotated) if graph.view == "unrolled" and not routed else None
    for e in graph.edges:
        src, dst = node_by_id[e.source], node_by_id[e.target]
        attrs = {"label": _param_label(e.param, displays)}
        if src.ellipsis or dst.ellipsis:
            attrs.update(style="dashed", color=style.MUTED_COLOR, label=None)
        elif grads:
            _grad_edge(attrs, src, grad_norms, grad_top)
        if graph.view == "folded" and e.delay != 0:
            delay_count += 1
            lines.extend(_delayed_edge(f"delay_{delay_count}", src, dst, e.delay, attrs, level))
            continue
        if graph.view == "folded" and level[dst.name] - level[src.name] == 1:
            attrs["weight"] = "8"  # edges between adjacent levels pull hardest: the main chain stays straight
        if router is not None:
            bends = router.waypoints(src.id, dst.id)
            if bends:
                # A straight line would cross a node: go round it through invisible points.
                ids = []
                for x, y in bends:
                    ids.append(f"bend_{len(router.used)}")
                    router.used.append(ids[-1])
                    point = {"shape": "point", "style": "invis", "width": "0.01", "pos": f"{x:.2f},{y:.2f}!"}
                    lines.append(f"  {node_id(ids[-1])} {_attrs(point)};")
                plain = {k: v for k, v in attrs.items() if k != "label"}
                plain["arrowhead"] = "none"
                path = [src.id, *ids, dst.id]
                for i, (p, q) in enumerate(zip(path, path[1:])):
                    seg = attrs if i == len(path) - 2 else plain
                    if i == 1 and "label" in attrs:  # the label sits on the detour's middle run
                        seg = {k: v for k, v in plain.items()}
                        seg["label"] = attrs["label"]
                    elif i == len(path) - 2:
                        seg = {k: v for k, v in attrs.items() if k != "label"}
                    lines.append(f"  {node_id(p)} -> {node_id(q)} {_attrs(seg)};")
                continue
        lines.append(f"  {node_id(src.id)} -> {node_id(dst.id)} {_attrs(attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _delay_attrs(delay: int) -> dict[str, str]:
    """The black square of a delayed read; a delay k > 1 (or a read ahead) is written on it."""
    attrs = {
        "shape": "square", "style": "filled", "fillcolor": style.DELAY_COLOR, "color": style.EDGE_COLOR,
        "label": "", "width": "0.16", "height": "0.16", "fixedsize": "true",
        "tooltip": f"delay {delay}",
    }
    if delay != 1:
        text = str(delay) if delay > 0 else f"+{-delay}"
        attrs.update(label=text, width="0.26", height="0.26", fontname=style.FONT_TEXT, fontsize="10",
                     fontcolor=style.PALETTE["delay"].text)
    return attrs


def _delayed_edge(d: str, src: Node, dst: Node, delay: int, attrs: dict, level: Mapping[str, int]) -> list[str]:
    """A delayed read through a black square, as in the book's circuit diagram.

    The square gets its own rank between the two ends (above the node for a
    self-loop), so the loop goes up to the square and comes back, and a read
    from a higher level comes down the side through the square. Edges that
    run against the rank direction are declared forwards with ``dir=back``,
    so that they shape the layout instead of being reversed by Graphviz.
    """
    out = [f"  {node_id(d)} {_attrs(_delay_attrs(delay))};"]
    s, t, q = node_id(src.id), node_id(dst.id), node_id(d)
    if level[src.name] < level[dst.name]:
        out.append(f"  {s} -> {q} {_attrs({'dir': 'none'})};")
        out.append(f"  {q} -> {t} {_attrs(attrs)};")
        return out
    back = dict(attrs, dir="back")
    if src.id == dst.id:
        out.append(f"  {t} -> {q} {_attrs(back)};")
        out.append(f"  {s} -> {q} {_attrs({'dir': 'none'})};")
    else:
        out.append(f"  {t} -> {q} {_attrs(back)};")
        out.append(f"  {q} -> {s} {_attrs({'dir': 'none'})};")
    return out


def _grad_edge(attrs: dict, src: Node, norms: Mapping[tuple[str, int], float], top: float) -> None:
    """Width and color of an edge by the gradient at its source (log scale); zero -> cut."""
    key = (src.name, src.time) if src.time is not None else None
    if key not in norms:
        return
    g = norms[key]
    if g == 0:
        attrs.update(style="dashed", color=style.MUTED_COLOR)
        return
    a = _grad_strength(g, top)
    attrs.update(penwidth=f"{0.6 + 3.4 * a:.2f}", color=_grad_color(a))
