"""The cell views of an encoder-decoder: the encoder's cell, the context, the decoder's cell.

An encoder-decoder (:mod:`rnnviz.language.phases`) has two cells over two sequences. Its
``cell`` view draws the encoder's cell (one step t of the input sequence), the context
computed once from its last state (``c = h_T``; the operations of ``C = \\tanh(V h_T)``), and
the decoder's cell (one step of the output sequence), into which the context enters from
below beside the decoder's input. ``cell-unrolled`` draws the encoder's cells over its T
steps, the context, then the decoder's cells over its own T' steps, as Goodfellow et al.'s
Fig. 10.12 lays the two chains out: each phase's cells side by side in a band, on one
baseline, the context between them feeding every decoder step along the bottom. A decoder
that starts from the context (``s_0 = c``, ``s_0 = \\tanh(D c)``) gets its start's
operations between the context and its step 0.

Each band is laid out as the cell view of one phase (:mod:`rnnviz.diagrams.cell_dot`); the
context is named as the equations write it, without a step (it is one value, computed once
at step T). The JSON graph has the nodes of both bands with their ``phase``
(``encoder``, ``context``, ``decoder``); the decoder's reads of the context are ``role``
``"context"`` points with an edge from the context node.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("z_t = sigmoid(W_z x_t + U_z h_{t-1})\\nh_t = z_t * h_{t-1} + (1 - z_t) * tanh(W x_t)\\n"
    ...                "c = h_T\\ns_t = tanh(A s_{t-1} + B y_{t-1} + C c)")
    >>> dot_text, data = build(m, unrolled=True, steps=2, decoder_steps=2)
    >>> sorted({n["phase"] for n in data["nodes"]})
    ['context', 'decoder', 'encoder']
    >>> [(e["source"], e["target"]) for e in data["edges"] if "c@2" in (e["source"], e["target"])]
    [('h@2', 'c@2'), ('c@2', 'c.in@1'), ('c@2', 'c.in@2')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..language import Model
from . import style
from .cell import DEFAULT_MAX_CELLS, CellEdge, CellGraph, CellNode, _Builder, cell_graph
from .cell_layout import step_of
from .cell_dot import Numbers, _display, _merged_attrs, _node_attrs, _q, _reader_text, _with_numbers, to_dot
from .labels import dot_attrs, dot_html, escape_html, graph_header, html_label, plain_label

__all__ = ["build", "CONTEXT_ENTRY"]

#: The id of the point where a context enters a decoder cell: ``c.in@2`` (``c.in`` folded).
CONTEXT_ENTRY = "{name}.in"


def _without_once(model: Model) -> Model:
    """The encoder's per-step equations: its cell (the once-computed context is drawn apart)."""
    return Model(tuple(eq for eq in model.equations if not eq.once), model.symbols, model.values, model.file,
                 model.source, model.sources, [], model.sweep_list, model.totals, model.means)


def _once_only(model: Model) -> Model:
    return Model(tuple(eq for eq in model.equations if eq.once), model.symbols, model.values, model.file,
                 model.source, model.sources, [], (), (), ())


def _entries(g: CellGraph, contexts: tuple[str, ...]) -> CellGraph:
    """The decoder's graph with each read of a context turned into an entry point (``c.in@t``)."""
    rename = {}
    for nid, n in g.nodes.items():
        if n.name in contexts:
            base, _, step = nid.partition("@")
            rename[nid] = CONTEXT_ENTRY.format(name=base) + (f"@{step}" if step else "")
    nodes = {rename.get(nid, nid): (replace(n, id=rename[nid], role="context") if nid in rename else n)
             for nid, n in g.nodes.items()}
    edges = [replace(e, source=rename.get(e.source, e.source), target=rename.get(e.target, e.target))
             for e in g.edges]
    return replace(g, nodes=nodes, edges=edges)


def _body(dot_text: str) -> list[str]:
    """The node, edge and rank lines of a cell view's DOT (its header and braces left out)."""
    lines = dot_text.rstrip("\n").split("\n")[1:-1]
    return [ln for ln in lines if not ln.startswith(("  graph [", "  node [", "  edge ["))]


def _small_italic(text: str) -> str:
    """An edge's note (``t = T``) in the small type of the cell views' gate roles."""
    return (f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}" '
            f'COLOR="{style.EDGE_COLOR}"><I>{escape_html(text)}</I></FONT>')


def _bottom_row(body: list[str]) -> list[str]:
    """The quoted ids of a band's bottom row (its first ``rank=same`` group)."""
    for line in body:
        if line.startswith("  { rank=same;"):
            return [part.strip() for part in line.strip()[len("{ rank=same;"):-1].split(";") if part.strip()]
    return []


def build(model: Model, *, unrolled: bool, steps: int, decoder_steps: int,
          max_columns: int = DEFAULT_MAX_CELLS, title: str | None = None, values: Mapping | None = None,
          grads: Mapping | None = None, precision: int = 3) -> tuple[str, dict]:
    """DOT text and JSON graph of an encoder-decoder's ``cell`` or ``cell-unrolled`` view.

    ``steps`` is T (the encoder's cells), ``decoder_steps`` T' (the decoder's); a long unroll
    of either collapses its middle cells into an ellipsis, as in one phase's view. ``values``
    and ``grads`` map (name, step) to arrays, each phase's variables at its own steps (the
    context at T); the folded view shows the encoder's step T and the decoder's T'.
    """
    phases = model.phases
    assert phases is not None
    encoder, decoder = phases.bind(model)
    folded = not unrolled
    enc = cell_graph(_without_once(encoder), unrolled=unrolled, steps=steps, max_columns=max_columns)
    dec = _entries(cell_graph(decoder, unrolled=unrolled, steps=decoder_steps, max_columns=max_columns),
                   phases.contexts)
    # The context (and the decoder's start), computed once at the encoder's last step.
    once = _Builder(_once_only(encoder), unrolled, steps, 10**6).build()
    view = "cell-unrolled" if unrolled else "cell"
    start_of = phases.start_of

    lines = [f'digraph "rnnviz_cell" {{']
    ga = style.graph_attrs()
    ga.update(rankdir="BT", newrank="true", outputorder="edgesfirst", ranksep="0.32",
              nodesep="0.22" if folded else "0.14")
    lines.extend(graph_header(ga, title))
    enc_numbers = Numbers(values, grads, precision, last=steps)
    dec_numbers = Numbers(values, grads, precision, last=decoder_steps)
    enc_lines = _body(to_dot(enc, anchor="enc_anchor", numbers=enc_numbers))
    dec_lines = _body(to_dot(dec, anchor="dec_anchor", numbers=dec_numbers))
    lines.extend(enc_lines)
    lines.extend(dec_lines)

    # The once-computed nodes: operations with their parameters inside, the context named
    # without a step. A start (s_0 = tanh(D c)) ends in the decoder's own step 0 (folded: its
    # s[t-1], at t = 1), so that its operations rise from the context to the decoder's chain.
    shown = once.nodes
    first_of = {start: (f"{chain}@0" if unrolled else f"{chain}@t-1") for chain, start in start_of.items()}
    alias = {nid: first_of[n.name] for nid, n in shown.items()
             if n.name in first_of and n.role != "op" and first_of[n.name] in dec.nodes}
    attached_to: dict[str, list[CellNode]] = {}
    for e in once.edges:
        if e.attached:
            attached_to.setdefault(e.target, []).append(shown[e.source])
    attached = {e.source for e in once.edges if e.attached}
    ctx_ids: dict[str, str] = {}
    own: list[CellNode] = []
    for nid, n in shown.items():
        if nid in attached or nid in enc.nodes or nid in alias:
            continue  # a parameter box inside its product; a node drawn in its band
        own.append(n)
        if n.role == "op":
            attrs = (_merged_attrs(once, n, attached_to[nid]) if nid in attached_to
                     else _node_attrs(once, n, folded))
        else:
            ctx_ids[n.name] = nid
            attrs = style.node_attrs("state" if n.name in first_of else "hidden")
            attrs.update(label=dot_html(html_label(_display(once, n.name))), margin="0.03", width="0.5",
                         height="0.5", tooltip=f"{_reader_text(once, replace(n, time=None), folded)}, computed "
                                               "once at the encoder's last step")
            at_t = replace(n, time=steps, ellipsis=False)  # its numbers are step T's
            rows = enc_numbers.rows(at_t, False)
            if rows:
                _with_numbers(attrs, html_label(_display(once, n.name)), rows)
                attrs["tooltip"] += enc_numbers.tooltip(at_t, False)
        lines.append(f"  {_q(nid)} {dot_attrs(attrs)};")
    json_edges = [e.to_json() for e in once.edges if e.attached]
    for e in once.edges:
        if e.attached:
            continue
        src, dst = e.source, alias.get(e.target, e.target)
        attrs = {"tooltip": f"{_reader_text(once, shown[src], folded)} → {_reader_text(once, shown[e.target], folded)}"}
        if src in enc.nodes:
            # From the top of the encoder's last cell down between the two bands: written
            # bottom-up (dir=back) so that it is laid out like the cell's own edges.
            attrs.update(dir="back", weight="0")
            if folded:  # computed once, from the encoder's last step
                attrs.update(label=dot_html(_small_italic("t = T")))
            lines.append(f"  {_q(dst)} -> {_q(src)} {dot_attrs(attrs)};")
            json_edges.append(replace(e, target=dst).to_json())
            continue
        if dst in dec.nodes:
            attrs.update(weight="0")
            if folded:  # the start is s[t-1] at t = 1 only
                attrs.update(style="dashed", label=dot_html(_small_italic("t = 1")), tooltip=f"{attrs['tooltip']}: the value of "
                             f"{plain_label(_display(dec, dec.nodes[dst].name))} at step 0")
        lines.append(f"  {_q(src)} -> {_q(dst)} {dot_attrs(attrs)};")
        json_edges.append(replace(e, target=dst).to_json())
    # The context enters every decoder cell from below, along one bus: into the first cell's
    # point, from there on along the bottom row to the next cell's (each wire of its own
    # from the context node crossed the others on the way).
    last_point: dict[str, str] = {}
    for nid, n in sorted(dec.nodes.items(), key=lambda item: step_of(item[1])):
        if n.role == "context":
            src = ctx_ids[n.name]
            lines.append(f"  {_q(last_point.get(n.name, src))} -> {_q(nid)} "
                         f"{dot_attrs({'arrowhead': 'none', 'weight': '0', 'tooltip': f'the context {n.name} into the decoder'})};")
            last_point[n.name] = nid
            json_edges.append(CellEdge(src, nid).to_json())
    # The encoder's band left of the decoder's, on one baseline; the contexts under the gap.
    enc_row, dec_row = _bottom_row(enc_lines), _bottom_row(dec_lines)
    # The steps of each band left to right: its bottom row chained (the cell view's own chain
    # does not pull across steps, and beside the other band a band could come out mirrored).
    for row in (enc_row, dec_row):
        lines.extend(f"  {a} -> {b} [style=invis];" for a, b in zip(row, row[1:]))
    if enc_row and dec_row:
        lines.append(f"  {{ rank=same; {enc_row[-1]}; {dec_row[0]}; }}")
        lines.append(f"  {enc_row[-1]} -> {dec_row[0]} [style=invis];")
        # The contexts in a row of their own under the gap, between two invisible points that
        # sit under the encoder's last bottom node and the decoder's first.
        row = [_q(ctx_ids[name]) for name in phases.contexts if name in ctx_ids]
        if row:
            invisible = {"style": "invis", "shape": "point", "width": "0.01", "height": "0.01"}
            ends = [_q("context_left"), _q("context_right")]
            for end in ends:
                lines.append(f"  {end} {dot_attrs(invisible)};")
            chain = [ends[0], *row, ends[1]]
            lines.append(f"  {{ rank=same; {'; '.join(chain)}; }}")
            lines.extend(f"  {a} -> {b} [style=invis];" for a, b in zip(chain, chain[1:]))
            lines.append(f"  {ends[0]} -> {enc_row[-1]} [style=invis, weight=\"4\"];")
            lines.append(f"  {ends[1]} -> {dec_row[0]} [style=invis, weight=\"4\"];")
    lines.append("}")

    def phased(g: CellGraph, phase: str, skip: set[str] = frozenset()) -> list[dict]:
        return [{**n.to_json(), "phase": phase} for nid, n in g.nodes.items() if nid not in skip]

    data = {"view": view, "steps": steps if unrolled else 0, "decoder_steps": decoder_steps if unrolled else 0,
            "nodes": phased(enc, "encoder")
                     + [{**replace(n, time=None).to_json(), "phase": "context"} for n in own]
                     + [{**shown[a].to_json(), "phase": "context"} for a in sorted(attached)]
                     + phased(dec, "decoder"),
            "edges": [e.to_json() for e in enc.edges] + json_edges + [e.to_json() for e in dec.edges]}
    for g in (enc, dec):
        if g.collapsed is not None:
            data.setdefault("collapsed", {})["encoder" if g is enc else "decoder"] = list(g.collapsed)
    return "\n".join(lines) + "\n", data
