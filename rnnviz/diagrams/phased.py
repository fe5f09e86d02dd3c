"""The layout of the encoder-decoder's unrolled view, as Goodfellow et al.'s Fig. 10.12.

:func:`rnnviz.diagrams.graph.build` builds an encoder-decoder's graph (``phased_folded``,
``phased_unrolled``); this module gives it rows and pinned positions.

Unrolled, the encoder's columns (steps 0..T), then one column with the context (computed
once, at the encoder's step T), then the decoder's columns (its own steps 0..T'), on one
baseline: each phase's rows are its own, the chains on one row. The context's edges fan
into every decoder step that reads it (a gated decoder's through the junction of each step's
gates, along one bus: :func:`fans`), and into the decoder's start (``s_0 = \\tanh(D c)``
is drawn as the edge ``c -> s^{(0)}`` labelled D). Folded, the start is a node of its own
whose value enters the chain one step later (through a delay square), as ``s_0`` enters
``s`` at step 1.

The graph's nodes carry their ``phase`` (``encoder``, ``context``, ``decoder``) and
``time`` is the step within the phase; :func:`positions` places them.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_0 = tanh(D c)\\n"
    ...                "s_t = tanh(A s_{t-1} + C c)")
    >>> from rnnviz.diagrams.graph import phased_unrolled
    >>> g = phased_unrolled(m, 2, 2)
    >>> [(n.id, n.phase) for n in g.nodes if n.name in ("c", "s")]
    [('c@2', 'context'), ('s@0', 'decoder'), ('s@1', 'decoder'), ('s@2', 'decoder')]
    >>> [(e.source, e.target, e.param) for e in g.edges if e.source == "c@2"]
    [('c@2', 's@0', 'D'), ('c@2', 's@1', 'C'), ('c@2', 's@2', 'C')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from . import layout
from .graph import Graph, Node

__all__ = ["levels", "positions", "fans", "PHASES"]

PHASES = ("encoder", "context", "decoder")


def _sub(graph: Graph, phases: tuple[str, ...]) -> Graph:
    ids = {n.id for n in graph.nodes if n.phase in phases}
    return Graph(graph.view, graph.steps, tuple(n for n in graph.nodes if n.id in ids),
                 tuple(e for e in graph.edges if e.source in ids and e.target in ids), graph.collapsed)


def levels(graph: Graph) -> dict[str, int]:
    """Rows: each phase's own (inputs at the bottom), the chains of both on one row, and the
    context on the row of what it reads."""
    out: dict[str, int] = {}
    for phase in ("encoder", "decoder"):
        sub = _sub(graph, (phase,))
        lv = layout.levels(sub)
        inputs = {n.name for n in sub.nodes if n.role == "input"}
        if any(lv[n] == 0 for n in lv if n not in inputs):
            # A chain that reads its inputs one step back (y_{t-1}) rests on no same-step read:
            # one row up, so that the inputs stay at the bottom, as in the encoder.
            lv = {n: v if n in inputs else v + 1 for n, v in lv.items()}
        out.update(lv)
    by_id = {n.id: n for n in graph.nodes}
    for n in graph.nodes:
        if n.phase == "context" and n.name not in out:
            below = [out.get(by_id[e.source].name, 0) for e in graph.edges
                     if e.target == n.id and by_id[e.source].name in out]
            out[n.name] = max(below, default=1)
    return out


def fans(graph: Graph) -> list[layout.Fan]:
    """The junctions of each phase's gates (:func:`rnnviz.diagrams.layout.fans`), none across
    the phases: the encoder's join x[t] and h[t-1]; the decoder's its input, the context and
    s[t-1] (a GRU decoder reads ``[y_{t-1}; c]`` and s[t-1] in every gate), named apart
    (``junction_d1``), since both phases count their steps from 1.
    """
    out = list(layout.fans(_sub(graph, ("encoder",))))
    for f in layout.fans(_sub(graph, ("context", "decoder"))):
        out.append(replace(f, id=f.id.replace("junction_", "junction_d", 1)))
    return out


def _column_key(n: Node, graph: Graph) -> float:
    if n.phase == "context":
        return graph.steps + 0.5
    if n.phase == "decoder":
        first = min((m.time for m in graph.nodes if m.phase == "decoder" and m.time is not None), default=0)
        if n.ellipsis and graph.decoder_collapsed is not None:
            t = graph.decoder_collapsed[0] - 0.5
        else:
            t = n.time if n.time is not None else 0
        return graph.steps + 2 + t - first
    if n.ellipsis and graph.collapsed is not None:
        return graph.collapsed[0] - 0.5
    return float(n.time or 0)


def positions(graph: Graph, level: Mapping[str, int], annotated: bool,
              sizes: Mapping[str, tuple[float, float]] | None = None,
              found: list[layout.Fan] | tuple = ()) -> dict[str, tuple[float, float]]:
    """Pinned (x, y) of each node (and ``found`` junction), in inches: the columns of each phase
    alike, as :func:`rnnviz.diagrams.layout.positions` lays out a model of one phase. A junction
    sits half a row under the middle of its gates (the state that feeds it drops in from the
    step before, as a GRU's does), and an input read only through it, at its own step, right
    under it."""
    sizes = sizes or {}
    base_w = layout.SLOT_WIDTH * (1.35 if annotated else 1.0)
    base_h = layout.ROW_HEIGHT * (1.3 if annotated else 1.0)
    names = list(dict.fromkeys(n.name for n in graph.nodes))
    phase_of = {n.name: n.phase for n in graph.nodes}
    # With junctions the gates' slots already hold their labels' room (as in one phase's
    # layout): slots hug their nodes and steps stand a little closer, so the two phases fit a
    # slide (closer still, the state dropping into the next step crosses z's wire into h).
    pad, gap = (layout.SLOT_PAD * 0.5, layout.COLUMN_GAP * 0.8) if found and not annotated else (layout.SLOT_PAD, layout.COLUMN_GAP)
    slot_w = {name: round(max(base_w, sizes.get(name, (0.0, 0.0))[0] + pad), 2) for name in names}
    offset: dict[str, float] = {}
    width: dict[str, float] = {}
    for phase in PHASES:
        per_level: dict[int, list[str]] = {}
        for name in names:
            if phase_of[name] == phase:
                per_level.setdefault(level[name], []).append(name)
        for row in per_level.values():
            x = -sum(slot_w[n] for n in row) / 2
            for n in row:
                offset[n] = x + slot_w[n] / 2
                x += slot_w[n]
        width[phase] = max((sum(slot_w[n] for n in row) for row in per_level.values()), default=base_w)
    by_id = {n.id: n for n in graph.nodes}
    junction_x: dict[str, float] = {}
    junction_row: dict[str, float] = {}
    for phase in ("encoder", "decoder"):
        mine = [f for f in found if by_id[f.targets[0]].phase == phase]
        if not mine:
            continue
        gates = {by_id[t].name for f in mine for t in f.targets}
        junction_row[phase] = min(level[g] for g in gates) - 0.5
        junction_x[phase] = sum(offset[g] for g in gates) / len(gates)
        # (Not one read a step later, y_{t-1}: it stays in its own column, as without gates.)
        sources = {by_id[s_].name for f in mine for s_ in f.sources
                   if by_id[s_].phase == phase and by_id[s_].time == f.time}
        for name in sources:
            if level[name] < junction_row[phase] and sum(level[m] == level[name] for m in names
                                                          if phase_of[m] == phase) == 1:
                offset[name] = junction_x[phase]
    rows = sorted({level[n] for n in names} | set(junction_row.values()))
    height = {lv: max((sizes.get(n, (0.0, 0.0))[1] for n in names if level[n] == lv), default=0.0) for lv in rows}
    y_of: dict[int, float] = {}
    y = 0.0
    for i, lv in enumerate(rows):
        if i:
            y += round(max(base_h, (height[rows[i - 1]] + height[lv]) / 2 + layout.ROW_GAP), 2)
        y_of[lv] = y
    keys = sorted({_column_key(n, graph) for n in graph.nodes})
    col_phase = {_column_key(n, graph): n.phase for n in graph.nodes}
    ellipsis = {_column_key(n, graph) for n in graph.nodes if n.ellipsis}
    x_of: dict[float, int] = {}
    x = 0
    for k in keys:  # in whole hundredths of an inch, as the one-phase layout
        w = round(100 * (layout.ELLIPSIS_WIDTH if k in ellipsis else width[col_phase[k]] + gap))
        x_of[k] = x + w // 2
        x += w
    # The context sits most of a row above the chains it joins, so that its edges fan out down
    # into the decoder's steps instead of running along the chains' row.
    lift = {n.id: round(0.8 * base_h, 2) if n.phase == "context" else 0.0 for n in graph.nodes}
    out = {n.id: ((x_of[_column_key(n, graph)] + (0 if n.ellipsis else round(100 * offset[n.name]))) / 100,
                  round(100 * (y_of[level[n.name]] + lift[n.id])) / 100)
           for n in graph.nodes}
    for f in found:
        first = by_id[f.targets[0]]
        out[f.id] = ((x_of[_column_key(first, graph)] + round(100 * junction_x[first.phase])) / 100,
                     round(100 * y_of[junction_row[first.phase]]) / 100)
    return out
