"""Step-by-step frames of an unrolled diagram, for slides: the forward pass revealed, the gradient flowing back.

Built on the DOT text of :func:`rnnviz.diagrams.diagram.draw` (nodes ``"h@2"``, edges
``"h@1" -> "h@2"``), without touching how it is laid out: every frame keeps the
pinned positions, so the pictures stand still while the steps appear.

- forward frame k (k = 1..T): steps 0..k with their values; later steps faint, their
  values ``?``; an encoder-decoder's frames reveal the encoder's steps, then the context
  (with the decoder's start), then the decoder's steps;
- gradient frame k (k = 0..T, with a gradient): the gradient has reached steps
  T-k..T; the edges and nodes before it are faint, their gradients ``∇ ?``.

:func:`frame_dots` gives the DOT of each frame, :func:`frames_pdf` one PDF with a page per
frame (for beamer's ``\\includegraphics[page=k]``), and :func:`stepped_svg` one SVG whose
nodes and edges carry ``data-step`` and the classes ``rnnviz-step rnnviz-step-K``, so
that reveal.js fragments or a page script can reveal them.

Example:
    >>> from rnnviz import load_model
    >>> from rnnviz.diagrams.diagram import draw
    >>> m = load_model("h[t] = relu(V h[t-1] + W x[t])  V = -3  W = 3  h_0 = 0  x = [2, 3, 1]")
    >>> dots = frame_dots(draw(m, "unrolled", 3, values=True))
    >>> len(dots), '"h@3"' in dots[0] and ">?<" in dots[0], ">?<" in dots[2]
    (3, True, False)
"""

from __future__ import annotations

import io
import re

from ..errors import RenderError
from . import style

__all__ = ["frame_dots", "frames_pdf", "stepped_svg", "FAINT"]

#: How a step not yet reached is drawn: pale fill and outline, grey text.
FAINT = {"fillcolor": "#f4f4f4", "color": "#cfcfcf", "fontcolor": "#b4b4b4"}

_NODE = re.compile(r'^(\s*)"([^"@]+)@(-?\d+)" \[(.*)\];$')
_EDGE = re.compile(r'^(\s*)"([^"@]+)@(-?\d+)" -> "([^"@]+)@(-?\d+)" \[(.*)\];$')
_ANY_EDGE = re.compile(r'^(\s*)"([^"]+)" -> "([^"]+)" \[(.*)\];$')
# The value and gradient texts as rnnviz.diagrams.dot writes them (font and size from the style).
_VALUE = re.compile(rf'(<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}">)([^<]*)(</FONT>)')
_GRAD = re.compile(rf'(<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}" COLOR="[^"]*">)∇[^<]*(</FONT>)')


def _faint(attrs: str, *, edge: bool = False) -> str:
    extra = {"color": FAINT["color"], "fontcolor": FAINT["fontcolor"]} if edge else FAINT
    attrs = re.sub(r'penwidth="[^"]*"', 'penwidth="1.0"', attrs) if edge else attrs
    return attrs + "".join(f', {k}="{v}"' for k, v in extra.items())


def _order(graph: dict | None):
    """(name, step) -> the frame it appears in. One sequence: its step. An encoder-decoder: the
    encoder's steps 0..T, then the context and the decoder's start at T + 1, then the decoder's
    step t at T + 1 + t."""
    nodes = (graph or {}).get("nodes", [])
    phase = {n["name"]: n.get("phase") for n in nodes}
    if not any(phase.values()):
        return lambda name, step: step
    T = int(graph["steps"])  # type: ignore[index]

    def order(name: str, step: int) -> int:
        p = phase.get(name)
        return T + 1 if p == "context" else T + 1 + step if p == "decoder" else step

    return order


def _steps(dot: str, order=lambda name, step: step) -> list[int]:
    return sorted({order(m.group(2), int(m.group(3))) for line in dot.splitlines() if (m := _NODE.match(line))})


def _detours(dot: str) -> tuple[dict[str, str], dict[str, str]]:
    """An edge routed round a node runs through invisible points (``"h@1" -> "bend_0" -> "s@2"``):
    each point's first tail and last head, so that every run of it fades with the edge."""
    nxt, prev = {}, {}
    for line in dot.splitlines():
        m = _ANY_EDGE.match(line)
        if m:
            a, b = m.group(2), m.group(3)
            if b.startswith("bend_"):
                prev[b] = a
            if a.startswith("bend_"):
                nxt[a] = b

    def end(point: str, step: dict[str, str]) -> str:
        while point in step:
            point = step[point]
        return point

    return ({p: end(p, prev) for p in set(prev) | set(nxt)}, {p: end(p, nxt) for p in set(prev) | set(nxt)})


def _frame(dot: str, *, shown: int | None = None, reached: int | None = None, order=lambda name, step: step) -> str:
    """One frame: steps after ``shown`` hidden (faint, values ``?``); gradients before ``reached`` not yet there."""
    out = []
    first, last = _detours(dot)
    for line in dot.splitlines():
        m = _ANY_EDGE.match(line)
        if m and (m.group(2) in first or m.group(3) in last):
            indent, a, b, attrs = m.groups()
            ends = [first.get(a, a), last.get(b, b)]
            if all("@" in e for e in ends):  # a run of a detour: the steps of the edge it belongs to
                (na, sa), (nb, sb) = (e.rsplit("@", 1) for e in ends)
                if sa.lstrip("-").isdigit() and sb.lstrip("-").isdigit():
                    head, tail = order(nb, int(sb)), order(na, int(sa))
                    if (shown is not None and head > shown) or (reached is not None and tail < reached):
                        line = f'{indent}"{a}" -> "{b}" [{_faint(attrs, edge=True)}];'
            out.append(line)
            continue
        m = _EDGE.match(line)
        if m:
            indent, a, sa, b, sb, attrs = m.groups()
            head, tail = order(b, int(sb)), order(a, int(sa))
            if (shown is not None and head > shown) or (reached is not None and tail < reached):
                line = f'{indent}"{a}@{sa}" -> "{b}@{sb}" [{_faint(attrs, edge=True)}];'
            out.append(line)
            continue
        m = _NODE.match(line)
        if m:
            indent, name, step, attrs = m.groups()
            s = order(name, int(step))
            if shown is not None and s > shown:
                attrs = _faint(_VALUE.sub(r"\1?\3", attrs))
            elif reached is not None and s < reached:
                attrs = _GRAD.sub(r"\1∇ ?\2", attrs)
            line = f'{indent}"{name}@{step}" [{attrs}];'
        out.append(line)
    return "\n".join(out) + "\n"


def frame_dots(values_diagram, grad_diagram=None) -> list[str]:
    """The DOT of every frame: the forward pass step by step, then (with a gradient) the gradient back."""
    dot = values_diagram.dot()
    order = _order(values_diagram.graph)
    steps = [s for s in _steps(dot, order) if s >= 1]
    if not steps:
        raise RenderError("the unrolled diagram has no steps to reveal")
    frames = [_frame(dot, shown=k, order=order) for k in steps]
    if grad_diagram is not None:
        gdot = grad_diagram.dot()
        last = max(steps)
        frames += [_frame(gdot, reached=last - k, order=order) for k in range(0, last + 1)]
    return frames


def frames_pdf(dots: list[str]) -> bytes:
    """One PDF, a page per frame (Graphviz renders each; pypdf joins them)."""
    from .render import render

    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError:  # pragma: no cover - a dependency of rnnviz
        raise RenderError("joining the frames into one PDF needs pypdf", hint="pip install pypdf") from None
    writer = PdfWriter()
    for dot in dots:
        for page in PdfReader(io.BytesIO(render(dot, "pdf"))).pages:
            writer.add_page(page)
    writer.add_metadata({"/Producer": "rnnviz"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


_G = re.compile(r'<g id="([^"]*)" class="(node|edge)">\s*<title>([^<]*)</title>')


def stepped_svg(svg: str, graph: dict | None = None) -> str:
    """The SVG with each node and edge marked by its step: ``data-step="2" class="node rnnviz-step rnnviz-step-2"``.

    An edge belongs to the step of its head (the value it feeds). Steps 0 and below
    (initial states) are marked too, so a script can show them from the start. With the
    diagram's ``graph``, an encoder-decoder's decoder steps count on after the encoder's
    and the context (see :func:`frame_dots`). A node after the last step that any edge feeds
    is the initial value of a chain running backward (a bidirectional RNN's ``h_bwd[T+1]``):
    it is marked 0, given from the start, so the steps counted are the diagram's.
    """
    order = _order(graph)

    def step_of(m: re.Match) -> int | None:
        title_text = m.group(3).replace("&#45;", "-").replace("&gt;", ">")
        head = title_text.split("->")[-1]
        step = re.search(r"([^\s@]+)@(-?\d+)\s*$", head.strip())
        return None if step is None else order(step.group(1), int(step.group(2)))

    last = max((k for m in _G.finditer(svg) if m.group(2) == "edge" and (k := step_of(m)) is not None),
               default=None)

    def mark(m: re.Match) -> str:
        gid, kind, title = m.groups()
        k = step_of(m)
        if k is None:
            return m.group(0)
        if kind == "node" and last is not None and k > last:
            k = 0
        return (f'<g id="{gid}" class="{kind} rnnviz-step rnnviz-step-{k}" data-step="{k}">\n'
                f"<title>{title}</title>")

    return _G.sub(mark, svg)
