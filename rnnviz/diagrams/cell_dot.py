"""Cell graph -> DOT text, laid out like the cell figures of courses.

The layout follows colah's and d2l.ai's LSTM/GRU figures: inputs enter from
below, the operations rise in rows (matrix products, sums, then the gate
activations side by side in one row), the cell state's additive path is one
straight heavy line through the cell (the "gradient highway"), entering from
the left at ``c[t-1]`` and leaving to the right at ``c[t]``, and the hidden
state leaves at the top. The rows and their order come from
:mod:`rnnviz.diagrams.cell_layout` and are written as ``rank=same`` groups with
invisible chains, so the picture does not depend on Graphviz's guesses.
Parameters are drawn inside their product (``W_f ·``), biases inside their sum.

Pure and deterministic: the same graph gives byte-identical DOT.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.diagrams.cell import cell_graph
    >>> text = to_dot(cell_graph(load_model("h[t] = tanh(W h[t-1] + U x[t])")))
    >>> "rank=same" in text and ":" not in text.split("{", 1)[0]
    True
    >>> dot_text, data = build(load_model("h[t] = tanh(W h[t-1] + U x[t])"), unrolled=False, steps=1)
    >>> dot_text.startswith('digraph "rnnviz_cell"')
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..language import Model
from ..language.gates import GATE_ROLES
from ..language.syntax import Name
from . import style
from .cell import DEFAULT_MAX_CELLS, CellEdge, CellGraph, CellNode, cell_graph
from .cell_layout import barycentre, levels, order_keys, step_of
from .graph import carried_outputs
from .cell_layout import relays as find_relays
from .labels import (
    dot_attrs,
    dot_html,
    escape_dot,
    escape_html,
    graph_header,
    html_label,
    name_of,
    plain_label,
)

__all__ = ["to_dot", "build", "joins_reads", "Numbers"]

#: Symbols drawn in the round operation nodes.
_OP_SYMBOL = {"mul": "⊙", "add": "+", "sub": "−", "neg": "−", "one_minus": "1−",
              "matmul": "·", "scale": "·", "concat": "[ , ]"}
#: Text in the boxes of functions.
_FUNC_TEXT = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "softmax": "softmax", "exp": "exp",
              "log": "log", "identity": "id", "square": "(·)²", "sumsq": "‖·‖²", "sum": "Σ", "logsoftmax": "log softmax",
              "onehot": "one-hot"}
_HIGHWAY_COLOR = style.PALETTE["state"].stroke


def _q(node_id: str) -> str:
    return escape_dot(node_id.replace(":", "_"))


# -- labels -----------------------------------------------------------------


def _display(g: CellGraph, name: str) -> Name:
    sym = g.model.symbols.get(name)
    return sym.display if sym is not None else name_of(name)


def _time_text(n: CellNode, folded: bool) -> str | int | None:
    if n.time is None:
        return None
    if folded:
        return "t" if n.time == 0 else f"t{n.time:+d}"
    return n.time


#: What an operation is called in a tooltip.
_OP_WORDS = {"mul": "element-wise product", "add": "sum", "sub": "difference", "neg": "negation",
             "one_minus": "1 minus", "matmul": "product", "scale": "product", "concat": "concatenation",
             "function": "function"}


def _when(n: CellNode, folded: bool) -> str:
    t = _time_text(n, folded)
    return "" if t is None else f" at {t}" if folded else f" at t = {t}"


def _reader_text(g: CellGraph, n: CellNode, folded: bool) -> str:
    """A node as a reader says it: "f at t = 2", "sum in the equation of c at t = 2", never an id."""
    if n.role == "junction":
        return n.name  # already in words: "x at t = 2 and h at t = 1"
    if n.ellipsis:
        return f"{plain_label(_display(g, n.name))} at the steps left out"
    if n.op == "concat" and n.name != "concat":
        return n.name + _when(n, folded)  # one joined for several equations (see _merged_concats)
    if n.role == "op":
        what = _OP_WORDS.get(n.op or "") or _FUNC_TEXT.get(n.op or "") or (n.op or "operation")
        where = f" in the equation of {plain_label(_display(g, n.eq))}" if n.eq else ""
        step = "" if n.time is None or n.eq is None else _when(n, folded)
        return what + where + step
    if n.role in ("parameter", "constant"):
        return plain_label(_display(g, n.name)) if n.role == "parameter" else f"{n.number:g}"
    return plain_label(_display(g, n.name)) + _when(n, folded)


def _small(text: str, color: str = "#4a4a4a") -> str:
    return (f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}" COLOR="{color}">'
            f"{escape_html(text)}</FONT>")


def _box_cell(g: CellGraph, n: CellNode) -> str:
    """A table cell for a parameter (or constant) drawn inside its operation's node."""
    if n.role == "parameter":
        text, fill = html_label(_display(g, n.name)), style.PALETTE["parameter"].fill
    else:
        text, fill = escape_html(f"{n.number:g}".replace("-", "−")), "#ffffff"
    return (f'<TD BGCOLOR="{fill}" COLOR="{style.PALETTE["parameter"].stroke}" '
            f'CELLPADDING="3"><FONT POINT-SIZE="14">{text}</FONT></TD>')


def _merged_concats(g: CellGraph, edges: list, attached_to: Mapping[str, list]) -> dict[str, str]:
    """concatenation id -> the first one in its step that joins the same values in the same order.

    ``V_z [y, c] + V_sz s + d_z``, ``V_r [y, c] + V_sr s + d_r``, ``V_s [y, c] + ...``: one
    operand, written out once per gate. Drawn once per gate, each [ , ] pulls its own wires
    from y and c, and those fans cross each other's and the fan of the state's products.
    Joined once, as the value it is, it reads y and c once, and the gates' sums read it and s
    as the encoder's read x and h (see :func:`_affine_sums`). Only a concatenation that is one
    product among others in a sum is joined: ``W_z · [h, x]`` alone under its gate stays one
    node (see :func:`_absorbed_concats`).
    """
    ins: dict[str, list[str]] = {}
    outs: dict[str, list[str]] = {}
    for e in edges:
        ins.setdefault(e.target, []).append(e.source)
        outs.setdefault(e.source, []).append(e.target)

    def a_term(nid: str) -> bool:
        (product,) = outs[nid]
        if g.nodes[product].op not in ("matmul", "scale") or product not in attached_to:
            return False
        users = outs.get(product, [])
        if len(users) != 1 or g.nodes[users[0]].op != "add":
            return False
        return any(t != product and g.nodes[t].op in ("matmul", "scale") for t in ins.get(users[0], []))

    first: dict[tuple, str] = {}
    out: dict[str, str] = {}
    for n in g.nodes.values():
        if (n.op != "concat" or n.highway or n.ellipsis or len(ins.get(n.id, [])) < 2
                or len(outs.get(n.id, [])) != 1 or not a_term(n.id)):
            continue
        key = (step_of(n), n.column, tuple(ins[n.id]))
        if key in first:
            out[n.id] = first[key]
        else:
            first[key] = n.id
    return out


def _joined(g: CellGraph, nid: str) -> str:
    """What the concatenation ``nid`` joins, in its order: "[y, c]"."""
    return "[" + ", ".join(plain_label(_display(g, g.nodes[e.source].name))
                           for e in g.edges if e.target == nid and not e.attached) + "]"


def _absorbed_concats(g: CellGraph, edges: list, attached_to: Mapping[str, list]) -> dict[str, str]:
    """concatenation id -> the product that alone reads it (drawn inside that product's node)."""
    out_edges: dict[str, list] = {}
    for e in edges:
        out_edges.setdefault(e.source, []).append(e)
    out: dict[str, str] = {}
    for n in g.nodes.values():
        if n.op != "concat" or n.highway or len(out_edges.get(n.id, [])) != 1:
            continue
        user = g.nodes[out_edges[n.id][0].target]
        if user.op in ("matmul", "scale") and user.id in attached_to:
            out[n.id] = user.id
    return out


def _merged_attrs(g: CellGraph, n: CellNode, boxes: list[CellNode], concat: bool = False) -> dict[str, str]:
    """A product or sum with its parameter boxes: one node, the boxes left of the symbol.

    With ``concat``, the concatenation it multiplies is a last cell (port ``in``).
    """
    stroke = _HIGHWAY_COLOR if n.highway else style.PALETTE["operation"].stroke
    symbol = (f'<TD BGCOLOR="#ffffff" COLOR="{stroke}" CELLPADDING="3">'
              f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="14">{escape_html(_OP_SYMBOL.get(n.op or "") or _FUNC_TEXT.get(n.op or "") or n.name)}'
              "</FONT></TD>")
    cells = "".join(_box_cell(g, b) for b in boxes)
    if concat:
        symbol += (f'<TD PORT="in" BGCOLOR="#ffffff" COLOR="{stroke}" CELLPADDING="3">'
                   f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="12">{escape_html(_OP_SYMBOL["concat"])}</FONT></TD>')
    table = (f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" STYLE="ROUNDED">'
             f"<TR>{cells}{symbol}</TR></TABLE>")
    params = ", ".join(plain_label(_display(g, b.name)) for b in boxes if b.role == "parameter")
    return {"shape": "plain", "label": dot_html(table), "fontname": style.FONT,
            "tooltip": _reader_text(g, n, g.view == "cell") + (f" ({params})" if params else "")}


def _affine_sums(g: CellGraph, edges: list, attached_to: Mapping[str, list],
                 values: frozenset[str] | set[str] = frozenset()) -> list[tuple[list[str], list[str]]]:
    """Groups of gate sums that read the same values through their own matrices.

    ``W_f x + U_f h + b_f``, ``W_i x + U_i h + b_i``, ... each read x[t] and
    h[t-1] through one product per term. Drawn as products, the fan of x[t] and
    the fan of h[t-1] cross once for every pair of gates (6 times for four). As
    colah's and d2l's figures draw it, each sum becomes one node with its
    matrices inside ("W_f · U_f · b_f +"), and the values it reads join at one
    point below the gates and fan out from there: no crossing at all.

    Returns (sum ids, the values they read) per group of at least two sums in
    one step that read the same two or more values, every term a product of a
    parameter with a value (or a bias), each product read by its sum alone. The operations in
    ``values`` (concatenations joined once for several gates) count as values.
    """
    ins: dict[str, list] = {}
    outs: dict[str, list] = {}
    for e in edges:
        ins.setdefault(e.target, []).append(e)
        outs.setdefault(e.source, []).append(e)
    groups: dict[tuple, list[str]] = {}
    for n in g.nodes.values():
        if n.op != "add" or n.highway or n.ellipsis:
            continue
        sources = []
        for e in ins.get(n.id, []):
            m = g.nodes[e.source]
            read = ins.get(m.id, [])
            if (m.op not in ("matmul", "scale") or m.id not in attached_to or len(read) != 1
                    or len(outs.get(m.id, [])) != 1
                    or g.nodes[read[0].source].role == "op" and read[0].source not in values):
                break
            sources.append(read[0].source)
        else:
            if len(set(sources)) == len(sources) >= 2:
                groups.setdefault((step_of(n), frozenset(sources)), []).append(n.id)
    out = []
    for (_, sources), sums in groups.items():
        if len(sums) >= 2:
            first = [ins[e.source][0].source for e in ins[sums[0]]]
            out.append((sums, [s for s in first if s in sources]))
    return out


def _shared_concats(g: CellGraph, edges: list, concat_products: set[str]) -> list[tuple[list[str], list[str]]]:
    """Groups of products with a [ , ] cell (``W_r · [h, x]``) that join the same values, one
    step each, as (product ids, the values in the order of the first); see :func:`_affine_sums`."""
    ins: dict[str, list[str]] = {}
    for e in edges:
        ins.setdefault(e.target, []).append(e.source)
    groups: dict[tuple, list[str]] = {}
    for pid in sorted(concat_products, key=list(g.nodes).index):
        sources = ins.get(pid, [])
        if len(set(sources)) == len(sources) >= 2 and all(g.nodes[s].role != "op" for s in sources):
            groups.setdefault((step_of(g.nodes[pid]), frozenset(sources)), []).append(pid)
    return [(prods, ins[prods[0]]) for prods in groups.values() if len(prods) >= 2]


def joins_reads(g: CellGraph) -> bool:
    """Whether the cell view of ``g`` joins values read by several gates at one point."""
    attached_to: dict[str, list] = {}
    for e in g.edges:
        if e.attached:
            attached_to.setdefault(e.target, []).append(g.nodes[e.source])
    edges = [e for e in g.edges if not e.attached]
    merged = _merged_concats(g, edges, attached_to)
    edges = [replace(e, source=merged.get(e.source, e.source)) for e in edges if e.target not in merged]
    absorbed = _absorbed_concats(g, edges, attached_to)
    into_products = [replace(e, target=absorbed[e.target]) if e.target in absorbed else e
                     for e in edges if e.source not in absorbed]
    return bool(_affine_sums(g, edges, attached_to, set(merged.values()))
                or _shared_concats(g, into_products, set(absorbed.values())))


def _affine_attrs(g: CellGraph, n: CellNode, products: list[CellNode], bias: list[CellNode],
                  reads: Mapping[str, CellNode], attached_to: Mapping[str, list]) -> dict[str, str]:
    """A gate's sum with its products inside: "W_f · U_f · b_f +" (see :func:`_affine_sums`)."""
    stroke = style.PALETTE["operation"].stroke

    def symbol(text: str, span: int = 1) -> str:
        return (f'<TD COLSPAN="{span}" BGCOLOR="#ffffff" COLOR="{stroke}" CELLPADDING="3">'
                f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="14">{escape_html(text)}</FONT></TD>')

    # Two rows, as narrow as the products were side by side: the products below,
    # the sum (with its bias) above them.
    below = "".join("".join(_box_cell(g, b) for b in attached_to[m.id]) + symbol(_OP_SYMBOL[m.op or "matmul"])
                    for m in products)
    width = sum(len(attached_to[m.id]) + 1 for m in products)
    above = "".join(_box_cell(g, b).replace("<TD ", f'<TD COLSPAN="{width - 1}" ', 1) if i == 0 and len(bias) == 1
                    else _box_cell(g, b) for i, b in enumerate(bias))
    above += symbol(_OP_SYMBOL["add"], 1 if len(bias) == 1 else max(1, width - len(bias)))
    table = (f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" STYLE="ROUNDED">'
             f"<TR>{above}</TR><TR>{below}</TR></TABLE>")
    def operand(v: CellNode) -> str:
        return _joined(g, v.id) if v.op == "concat" else plain_label(_display(g, v.name))

    terms = [f"{plain_label(_display(g, attached_to[m.id][0].name))} · {operand(reads[m.id])}"
             for m in products] + [plain_label(_display(g, b.name)) for b in bias if b.role == "parameter"]
    return {"shape": "plain", "label": dot_html(table), "fontname": style.FONT,
            "tooltip": f"{_reader_text(g, n, g.view == 'cell')} ({' + '.join(terms)})"}


def _name_html(g: CellGraph, n: CellNode, folded: bool) -> str:
    """A variable's name as its node shows it (with its gate role under a gate)."""
    label = html_label(_display(g, n.name), _time_text(n, folded))
    if n.role == "hidden" and n.gate:
        label += "<BR/>" + _small(GATE_ROLES[n.gate], style.PALETTE["gate"].stroke)
    return label


def _node_attrs(g: CellGraph, n: CellNode, folded: bool) -> dict[str, str]:
    if n.ellipsis:
        attrs = style.node_attrs("ellipsis")
        attrs.update(label=dot_html(f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="20">⋯</FONT>'),
                     width="0.3", height="0.3", tooltip=f"{n.name} at the steps left out")
        return attrs
    if n.role == "context":
        # Where an encoder-decoder's context enters a decoder cell (the context node feeds it).
        return {**_RELAY, "color": style.PALETTE["hidden"].stroke, "fillcolor": style.PALETTE["hidden"].stroke,
                "tooltip": f"the context {plain_label(_display(g, n.name))}, read" + _when(n, folded)}
    if n.role == "parameter":
        attrs = style.node_attrs("parameter")
        attrs.update(label=dot_html(html_label(_display(g, n.name))), fontsize="13", margin="0.04,0.02",
                     width="0.3", height="0.26", penwidth="1.0")
    elif n.role == "constant":
        text = f"{n.number:g}".replace("-", "−")
        attrs = {"shape": "plaintext", "label": text, "fontname": style.FONT, "fontsize": "13",
                 "width": "0.2", "height": "0.2", "margin": "0.02"}
    elif n.role == "op" and n.op in _FUNC_TEXT or n.op == "function":
        role = "gate" if n.gate else "function"
        attrs = style.node_attrs(role)
        text = (html_label(_display(g, n.name)) if n.op == "function"
                else escape_html(_FUNC_TEXT[n.op]))
        attrs.update(label=dot_html(text), width="0.45", height="0.34", margin="0.06,0.03")
    elif n.role == "op":
        attrs = style.node_attrs("operation")
        attrs.update(label=_OP_SYMBOL.get(n.op or "", "?"), fontname=style.FONT_TEXT, fontsize="15",
                     width="0.34", height="0.34", fixedsize="true", margin="0")
        if n.op == "concat":
            attrs.update(shape="box", style="filled,rounded", fontsize="11", width="0.5", height="0.26")
        elif n.op in ("matmul", "scale"):
            attrs.update(width="0.26", height="0.26", fontsize="14")
        elif n.op == "one_minus":
            attrs.update(fontsize="12")
        if n.highway:
            attrs.update(color=_HIGHWAY_COLOR, penwidth="2.2")
    elif n.role == "hidden":
        # An intermediate variable: a labelled point on the wire, with its gate role.
        label = html_label(_display(g, n.name), _time_text(n, folded))
        if n.gate:
            label += "<BR/>" + _small(GATE_ROLES[n.gate], style.PALETTE["gate"].stroke)
        # A pale pill rather than bare text, so the label stays legible on a dark page.
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": style.LABEL_BG,
                 "color": style.LABEL_BG, "penwidth": "0", "label": dot_html(label), "fontname": style.FONT,
                 "fontsize": "15", "margin": "0.04,0.01", "width": "0.2", "height": "0.2"}
    else:
        # An output that is its step's state (the LSTM's and GRU's h) looks like one.
        attrs = style.node_attrs(n.role, carried=n.name in carried_outputs(g.model))
        label = html_label(_display(g, n.name), _time_text(n, folded))
        if n.highway and n.name in g.report.cell_states and n.time == (0 if folded else 1):
            # Beside c(t) (the first c of the chain), not inside it: every c of the row keeps one size.
            attrs["xlabel"] = dot_html(_small("cell state", _HIGHWAY_COLOR))
        attrs.update(label=dot_html(label), margin="0.03", width="0.5", height="0.5")
        if folded and attrs.get("shape") in ("circle", "doublecircle"):
            # As wide as c(t−1) needs: c(t) and c(t−1), h(t) and h(t−1) are drawn alike.
            attrs.update(width="0.69", height="0.69")
        if n.highway:
            attrs.update(color=_HIGHWAY_COLOR, penwidth="2.6")
    attrs["tooltip"] = _reader_text(g, n, folded)
    return attrs


# -- DOT --------------------------------------------------------------------


class Numbers:
    """The forward pass's values and the gradient norms drawn under the variables of a cell view.

    ``values`` and ``grads`` map (name, step) to arrays; ``last`` is the step the folded cell
    shows (its t; t-1 is the step before).
    """

    def __init__(self, values: Mapping | None = None, grads: Mapping | None = None, precision: int = 3,
                 last: int = 0) -> None:
        from .dot import _grad_scale

        self.values, self.grads = dict(values or {}), dict(grads or {})
        self.norms, self.top = _grad_scale(self.grads)
        self.precision, self.last = precision, last

    def __bool__(self) -> bool:
        return bool(self.values or self.grads)

    def key(self, n: CellNode, folded: bool) -> tuple[str, int] | None:
        if n.time is None or n.ellipsis:
            return None
        return (n.name, self.last + n.time) if folded else (n.name, n.time)

    def rows(self, n: CellNode, folded: bool) -> list[str]:
        """The HTML rows under the node's name: its value, then ∇ and its gradient's norm."""
        from .dot import _flat, _grad_strength, _grad_text_color, format_number, format_value

        key = self.key(n, folded)
        out = []
        if key in self.values:
            out.append(format_value(self.values[key], self.precision))
        if key in self.norms:
            flat = _flat(self.grads[key])
            shown = flat[0] if len(flat) == 1 else self.norms[key]  # a scalar keeps its sign
            out.append(f'<FONT FACE="{style.FONT_TEXT}" POINT-SIZE="{style.VALUE_FONT_SIZE}" '
                       f'COLOR="{_grad_text_color(_grad_strength(self.norms[key], self.top))}">'
                       f"∇ {escape_html(format_number(shown, self.precision))}</FONT>")
        return out

    def tooltip(self, n: CellNode, folded: bool) -> str:
        from .dot import value_text

        key = self.key(n, folded)
        text = ""
        if key in self.values:
            text += ": " + value_text(self.values[key], self.precision)
        if key in self.grads:
            text += "; gradient " + value_text(self.grads[key], self.precision)
        if text and folded:
            text = f" (t = {key[1]})" + text  # type: ignore[index]
        return text


def _with_numbers(attrs: dict[str, str], name_html: str, rows: list[str]) -> None:
    """A node's label with its numbers under the name; a circle becomes a rounded box round them."""
    body = "".join(f"<TR><TD>{r}</TD></TR>" for r in [name_html, *rows])
    attrs["label"] = dot_html(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">{body}</TABLE>')
    if attrs.get("shape") in ("circle", "doublecircle"):
        if attrs["shape"] == "doublecircle":
            attrs["peripheries"] = "2"
        attrs.update(shape="box", style=attrs.get("style", "filled") + ",rounded", margin="0.05,0.03")
        attrs.pop("width", None)
        attrs.pop("height", None)


def to_dot(g: CellGraph, *, title: str | None = None, anchor: str = "anchor", numbers: Numbers | None = None) -> str:
    """DOT text of a cell graph (folded or unrolled); ``anchor`` names its invisible anchors
    (two cell graphs in one picture, an encoder-decoder's, name theirs apart); ``numbers``: the
    values and gradients to write under the variables."""
    folded = g.view == "cell"
    template = g if folded else cell_graph(g.model, unrolled=False)
    rows = levels(template)
    level = None if rows is None else {n.id: rows[n.base] for n in g.nodes.values()
                                       if n.base in rows}
    lines = ['digraph "rnnviz_cell" {']
    ga = style.graph_attrs()
    # Side by side, cells sit closer: three LSTM cells then fit a slide at a readable size.
    ga.update(rankdir="BT", newrank="true", outputorder="edgesfirst", ranksep="0.32",
              nodesep="0.22" if folded else "0.14")
    lines.extend(graph_header(ga, title))

    # Parameter boxes and constants are drawn inside the node of their operation.
    attached = {e.source for e in g.edges if e.attached}
    attached_to: dict[str, list[CellNode]] = {}
    for e in g.edges:
        if e.attached:
            attached_to.setdefault(e.target, []).append(g.nodes[e.source])
    edges = [e for e in g.edges if not e.attached]
    merged = _merged_concats(g, edges, attached_to)
    if merged:
        nodes = {k: v for k, v in g.nodes.items() if k not in merged}
        for kept in set(merged.values()):
            eqs = list(dict.fromkeys(g.nodes[i].eq for i in g.nodes if i == kept or merged.get(i) == kept))
            names = [plain_label(_display(g, e)) for e in eqs if e]
            nodes[kept] = replace(nodes[kept], name=f"concatenation {_joined(g, kept)} in the equations of "
                                                    f"{', '.join(names[:-1])} and {names[-1]}")
        g = replace(g, nodes=nodes,
                    edges=[replace(e, source=merged.get(e.source, e.source)) for e in g.edges
                           if e.target not in merged])
        edges = [e for e in g.edges if not e.attached]
        if level is not None:
            level = {k: v for k, v in level.items() if k not in merged}
    shared = set(merged.values())
    absorbed = _absorbed_concats(g, edges, attached_to)
    if absorbed:
        # "W · [h, x]" as one node: the concatenation is the last cell of its product,
        # and what it joins flows into that cell. One row less per gate layer.
        edges = [replace(e, target=absorbed[e.target]) if e.target in absorbed else e
                 for e in edges if e.source not in absorbed]
        if level is not None:
            level = {k: v for k, v in level.items() if k not in absorbed}
    into_concat = {(e.source, e.target) for e in g.edges if e.target in absorbed}
    concat_of = {v: k for k, v in absorbed.items()}
    # Gate sums that read the same values through their own matrices: one node each,
    # fed from one junction (see _affine_sums). A copy of the graph gets the junctions.
    g = replace(g, nodes=dict(g.nodes))
    affine: dict[str, tuple[list[CellNode], dict[str, CellNode]]] = {}
    for k, (sums, sources) in enumerate(_affine_sums(g, edges, attached_to, shared)):
        products = {e.source for e in edges if e.target in sums}
        reads = {e.target: g.nodes[e.source] for e in edges if e.target in products}
        for s in sums:
            affine[s] = ([g.nodes[e.source] for e in edges if e.target == s], reads)
        step = step_of(g.nodes[sums[0]])
        words = " and ".join(_reader_text(g, g.nodes[s], folded) for s in sources)
        jid = f"join.{k}.{sums[0]}"
        g.nodes[jid] = CellNode(jid, words, g.nodes[sums[0]].time, "junction", base=jid,
                                column=step if g.nodes[sums[0]].column is None else g.nodes[sums[0]].column)
        edges = ([e for e in edges if e.source not in products and e.target not in products]
                 + [CellEdge(s, jid) for s in sources] + [CellEdge(jid, s) for s in sums])
        if level is not None:
            level = {i: v for i, v in level.items() if i not in products}
            level[jid] = level[sums[0]] - 1
        attached |= products
    # Products "W_r · [h, x]", "W_z · [h, x]" reading the same values into their [ , ]
    # cells: those values join once too, then fan into each [ , ] cell.
    ported = {(src, absorbed[dst]) for src, dst in into_concat}
    for k, (prods, sources) in enumerate(_shared_concats(g, edges, set(concat_of))):
        jid = f"join.c{k}.{prods[0]}"
        first = g.nodes[prods[0]]
        words = " and ".join(_reader_text(g, g.nodes[s], folded) for s in sources)
        g.nodes[jid] = CellNode(jid, words, first.time, "junction", base=jid,
                                column=step_of(first) if first.column is None else first.column)
        edges = ([e for e in edges if not (e.target in prods and e.source in sources)]
                 + [CellEdge(s, jid) for s in sources] + [CellEdge(jid, p) for p in prods])
        ported = {pair for pair in ported if not (pair[1] in prods and pair[0] in sources)}
        ported |= {(jid, p) for p in prods}
        if level is not None:
            level[jid] = level[prods[0]] - 1
    for n in g.nodes.values():
        if n.id in attached or n.id in absorbed:
            continue
        if n.id in affine:
            products, reads = affine[n.id]
            attrs = _affine_attrs(g, n, products, attached_to.get(n.id, []), reads, attached_to)
        elif n.role == "junction":
            attrs = {**_RELAY, "tooltip": n.name}
        elif n.id in attached_to:
            attrs = _merged_attrs(g, n, attached_to[n.id], concat=n.id in concat_of)
        else:
            attrs = _node_attrs(g, n, folded)
            if numbers and n.role in ("input", "state", "hidden", "output") and numbers.rows(n, folded):
                _with_numbers(attrs, _name_html(g, n, folded), numbers.rows(n, folded))
                attrs["tooltip"] += numbers.tooltip(n, folded)
        lines.append(f"  {_q(n.id)} {dot_attrs(attrs)};")
    relays = find_relays(g, edges, level) if level is not None else {}
    bands = {level[n.id] for n in g.nodes.values() if n.role == "junction"} if level is not None else set()
    if len(bands) > 1:
        # In a stack, a state going down into a junction drops beside the inputs of its band
        # first, as into a relay: each band's row of inputs then spans its cells, and the
        # cell-state lines (pinned to the ends of the bottom row) stay straight.
        for e in edges:
            if g.nodes[e.target].role == "junction" and level.get(e.source, 0) > level.get(e.target, 0):
                k = (e.source, step_of(g.nodes[e.target]))
                relays.setdefault(k, f"relay.{k[0]}.{k[1]}")
    for (src, _step), rid in relays.items():
        lines.append(f"  {_q(rid)} {dot_attrs({**_RELAY, 'tooltip': _reader_text(g, g.nodes[src], folded)})};")
    if level is not None:
        lines.extend(_rows(g, level, attached, relays, folded, edges, anchor, stacked=len(bands) > 1))
    lines.extend(_edges(g, edges, level, relays, folded,
                        ported=ported))
    lines.append("}")
    return "\n".join(lines) + "\n"


#: A branching point at the bottom of a cell where a state from above enters it
#: (see :func:`rnnviz.diagrams.cell_layout.relays`).
_RELAY = {"shape": "point", "width": "0.07", "height": "0.07", "color": style.EDGE_COLOR,
          "fillcolor": style.EDGE_COLOR, "style": "filled"}


def _rows(g: CellGraph, level: dict[str, int], attached: set[str], relays: dict, folded: bool,
          edges: list, anchor: str = "anchor", stacked: bool = False) -> list[str]:
    """``rank=same`` groups, one per row, each in a fixed left-to-right order (``stacked``: the
    cells have one band per layer)."""
    lines = []
    key = order_keys(g)
    by_row: dict[int, list[str]] = {}
    for nid, lv in level.items():
        if nid not in attached:
            by_row.setdefault(lv, []).append(nid)
    for (src, step), rid in relays.items():
        # Among the inputs, in the order of the gates it feeds (see order_keys).
        fed = [e for e in g.edges if e.source == src and not e.attached
               and step_of(g.nodes[e.target]) == step and e.target in key]
        # On the row under the gates it feeds: the bottom row for layer 1, the row where
        # h_1[t] enters for layer 2 of a stack (each layer keeps its own band).
        below = [level[e.target] for e in edges if e.source == src and e.target in level
                 and step_of(g.nodes[e.target]) == step and level[e.target] < level.get(src, 0)]
        row = max(0, min(below, default=1) - 1)
        beside = {nid for nid in by_row.get(row, ()) if nid != src and nid in g.nodes and g.nodes[nid].role != "op"
                  and step_of(g.nodes[nid]) == step} if row else set()
        others = {e.target for e in g.edges if not e.attached and step_of(g.nodes[e.target]) == step
                  and (e.source in beside if row else g.nodes[e.source].role == "input")}
        # Unrolled, the state comes in from the previous step on the left: its relay goes
        # first in its cell's bottom row, so its wire drops down the cell's left edge instead
        # of across the inputs (a stack keeps the gates' order: each band's h stands straight).
        first = (-2, 0) if not folded and not stacked else (-1, 0)
        key[rid] = (step, first, barycentre(g, key, fed, others=others), 1, rid)
        by_row.setdefault(row, []).append(rid)
    key_of = key
    real = {(e.source, e.target) for e in g.edges}
    for lv in sorted(by_row):
        row = sorted(by_row[lv], key=key.__getitem__)
        by_row[lv] = row
        lines.append("  { rank=same; " + " ".join(_q(i) + ";" for i in row) + " }")
        # Invisible chains fix the order: step by step; in a step, the forget/reset
        # gates, update/input gates, candidates, the additive path, the output gate.
        for a, b in zip(row, row[1:]):
            if (a, b) not in real:
                # Between two steps the link fixes the order without pulling: with weight it
                # drew the outputs of all steps together, off their columns.
                extra = ', weight="0"' if key[a][0] != key[b][0] else ""
                lines.append(f"  {_q(a)} -> {_q(b)} [style=invis{extra}];")
    if folded:
        lines.extend(_stacked_bands(g, by_row))
    # Graphviz may put a flat edge's tail right of its head; pinning the ends of each
    # additive path above two invisible anchors at the ends of the bottom row keeps
    # c[t-1] on the left and c[t] on the right.
    if g.report.highways and 0 in by_row:
        bottom = by_row[0]
        invisible = {"style": "invis", "shape": "point", "width": "0.01", "height": "0.01"}
        lines.append(f"  {_q(f'{anchor}_left')} {dot_attrs(invisible)};")
        lines.append(f"  {_q(f'{anchor}_right')} {dot_attrs(invisible)};")
        lines.append(f"  {{ rank=same; {_q(f'{anchor}_left')}; {_q(f'{anchor}_right')}; }}")
        lines.append(f"  {_q(f'{anchor}_left')} -> {_q(bottom[0])} [style=invis];")
        lines.append(f"  {_q(bottom[-1])} -> {_q(f'{anchor}_right')} [style=invis];")
        for lane in g.report.highways:
            ends = sorted((n for n in g.nodes.values() if n.lane == lane and n.role != "op"), key=step_of)
            if len(ends) < 2:
                continue
            lines.append(f"  {_q(f'{anchor}_left')} -> {_q(ends[0].id)} [style=invis];")
            for n in ends[1:]:
                # Each later value of the path sits above the start of the next step.
                after = [b for b in bottom if key_of[b][0] > step_of(n)]
                pin = after[0] if after and not folded else f"{anchor}_right"
                lines.append(f"  {_q(pin)} -> {_q(n.id)} [style=invis];")
    return lines


def _stacked_bands(g: CellGraph, by_row: dict[int, list[str]]) -> list[str]:
    """Heavy invisible links that put the bands of a stack one above the other.

    Each layer's band starts on a row where its inputs enter: x[t] and h_1[t-1]
    at the bottom, h_1[t] and h_2[t-1] for layer 2 (see
    :func:`rnnviz.diagrams.cell_layout.levels`). Linking what enters each band
    from below (x[t], h_1[t], ...) and each band's earlier state (h_1[t-1],
    h_2[t-1], ...) keeps the bands in one column instead of a staircase. A
    single cell has one such row and gets no link.
    """
    def earlier(nid: str) -> bool:
        n = g.nodes.get(nid)
        return n is not None and not n.lane and n.time is not None and n.time < 0 and n.role != "op"

    entry_rows = [lv for lv in sorted(by_row) if any(earlier(nid) for nid in by_row[lv])]
    lines = []
    for low, high in zip(entry_rows, entry_rows[1:]):
        for pick in (earlier, lambda nid: nid in g.nodes and not earlier(nid) and g.nodes[nid].role != "op"):
            a = next((nid for nid in by_row[low] if pick(nid)), None)
            b = next((nid for nid in by_row[high] if pick(nid)), None)
            if a and b:
                lines.append(f"  {_q(a)} -> {_q(b)} [style=invis, weight=\"20\"];")
    return lines


def _highway_weight(g: CellGraph, e: CellEdge, folded: bool) -> str:
    """How hard an edge of an additive path pulls its ends together (Graphviz ``weight``).

    Heavy, so the path is one short straight line, except for an unrolled cell state
    (the LSTM's c): its row holds three small nodes a step, under which a step's four
    gates sit side by side. Pulled tight, the row was narrower than the gates, and
    each step's c, tanh, product and h drifted left of the gates they read, further
    step by step (434 points by the third step of a stack), with the h of a stacked
    layer far from the column of the layer it feeds. Lightly weighted, each step's
    part of the line lies over its own gates and h rises straight above it.
    """
    if not folded:
        return "3"
    return "60"


def _edges(g: CellGraph, edges: list, level: dict[str, int] | None, relays: dict, folded: bool,
           ported: set[tuple[str, str]] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The edges; a value going *down* (a state into the next cell) is written bottom-up
    with ``dir=back``, so that it takes part in the layout like any other edge instead
    of being routed around the figure."""
    lines = []
    dropped: set[str] = set()
    for e in edges:
        attrs: dict[str, str | None] = {
            "tooltip": f"{_reader_text(g, g.nodes[e.source], folded)} → {_reader_text(g, g.nodes[e.target], folded)}"}
        if (e.source, e.target) in ported:
            attrs["headport"] = "in:s"  # into the [ , ] cell of "W · [ , ]", from below
        src = e.source
        into_junction = g.nodes[e.target].role == "junction"
        if into_junction:
            attrs["arrowhead"] = "none"  # the wires join there, as in colah's figures
        if e.highway:
            attrs.update(color=_HIGHWAY_COLOR, penwidth="3.6", weight=_highway_weight(g, e, folded), arrowsize="0.8")
        down = level is not None and level.get(e.source, 0) > level.get(e.target, 0)
        if down:
            relay = relays.get((e.source, step_of(g.nodes[e.target])))
            if relay is not None:
                if relay not in dropped:  # one wire down to the relay, drawn once
                    dropped.add(relay)
                    # Weight 0: the long wire down into the next cell must not pull the state
                    # (and the outputs above it) away from its own step's column.
                    lines.append(f"  {_q(relay)} -> {_q(e.source)} "
                                 f"{dot_attrs({'dir': 'none', 'weight': '0', 'tooltip': _reader_text(g, g.nodes[e.source], folded)})};")
                src = relay
            else:
                attrs["dir"] = "none" if into_junction else "back"
                attrs.pop("arrowhead", None)
                if into_junction:
                    attrs["weight"] = "0"  # as into a relay: the state stays over its own step
                lines.append(f"  {_q(e.target)} -> {_q(src)} {dot_attrs(attrs)};")
                continue
        elif level is not None and level.get(e.target, 0) - level.get(e.source, 0) > 1:
            attrs["weight"] = attrs.get("weight") or "2"
        if not folded and not e.highway and g.nodes[e.target].lane in g.report.cell_states:
            # A gate into the cell-state line (f into f ⊙ c): straight up, with the line lightly
            # weighted (see _highway_weight), rather than pulled aside by c(t-1).
            attrs["weight"] = "4"
        lines.append(f"  {_q(src)} -> {_q(e.target)} {dot_attrs(attrs)};")
    return lines


def build(model: Model, *, unrolled: bool, steps: int, max_columns: int = DEFAULT_MAX_CELLS,
          title: str | None = None, numbers: Numbers | None = None) -> tuple[str, dict]:
    """DOT text and JSON graph of the ``cell`` (folded) or ``cell-unrolled`` view (``title``: its caption;
    ``numbers``: values and gradients under the variables, the folded cell showing step ``numbers.last``).

    An encoder-decoder's are :func:`rnnviz.diagrams.cell_phased.build`'s.
    This is what ``rnnviz.diagrams.diagram.draw(model, view="cell" | "cell-unrolled")`` calls.
    """
    g = cell_graph(model, unrolled=unrolled, steps=steps, max_columns=max_columns)
    return to_dot(g, title=title, numbers=numbers), g.to_json()
