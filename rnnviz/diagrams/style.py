"""The look of every rnnviz diagram: fonts, the palette per role, node shapes.

One place for it so that the variable views (:mod:`rnnviz.diagrams.dot`) and the
operation views (the cell diagrams) look like one family of figures.

The palette is chosen to read in three settings at once:

- on a white page: pale fills, dark strokes and dark text;
- on a dark page: nodes keep their pale fill (text stays dark inside them) and
  strokes/edges are mid-tone, never pure black, so they stay visible;
- in greyscale print: the fills differ in lightness, and every role also has
  its own shape, so the roles stay apart without color.

Example:
    >>> PALETTE["state"].fill
    '#cfe0f3'
    >>> node_attrs("input")["shape"]
    'box'
    >>> sorted(ROLES) == sorted(PALETTE)
    True
"""

from __future__ import annotations

from .._dataclasses import dataclass

__all__ = [
    "Colors",
    "PALETTE",
    "ROLES",
    "FONT",
    "FONT_TEXT",
    "FONT_SIZE",
    "SCRIPT_SIZE",
    "EDGE_FONT_SIZE",
    "VALUE_FONT_SIZE",
    "EDGE_COLOR",
    "DELAY_COLOR",
    "MUTED_COLOR",
    "LABEL_BG",
    "SHAPES",
    "node_attrs",
    "graph_attrs",
    "edge_attrs",
]

#: Font of symbols (math is set in a Times-like serif, as in the books). A
#: PostScript name: Graphviz writes ``font-family="Times,serif"`` in SVG and
#: fontconfig finds a metric-compatible face (Liberation Serif) for PNG/PDF.
FONT = "Times-Roman"
#: Font of plain text (titles, values, numbers on gradients).
FONT_TEXT = "Helvetica"
#: Point size of symbol labels; scripts (sub/superscripts) are smaller.
FONT_SIZE = 16
SCRIPT_SIZE = 11
EDGE_FONT_SIZE = 14
VALUE_FONT_SIZE = 11


@dataclass(frozen=True)
class Colors:
    """Fill, stroke and text color of one role (hex ``#rrggbb``)."""

    fill: str
    stroke: str
    text: str = "#1a1a1a"


#: Role -> colors. Fills get darker in this order (greyscale tells them apart):
#: input, hidden, parameter, state, output, then the operation-view roles.
PALETTE: dict[str, Colors] = {
    "input": Colors("#fff4d6", "#a86b00"),
    "hidden": Colors("#e2f1dc", "#3b7d32"),
    "parameter": Colors("#dedede", "#6b6b6b"),
    "state": Colors("#cfe0f3", "#2f64a8"),
    "output": Colors("#f5cfcf", "#b03a3a"),
    # Operation views (cell diagrams): gates, elementwise operations, functions.
    "gate": Colors("#f9dcb8", "#b5651d"),
    "operation": Colors("#ffffff", "#4a4a4a"),
    "function": Colors("#e6dcf2", "#6a4a9c"),
    "delay": Colors("#1a1a1a", "#1a1a1a", "#ffffff"),
    "ellipsis": Colors("#ffffff", "#9a9a9a", "#6b6b6b"),
}

#: Every role with a look: the variable roles of :mod:`rnnviz.language.model` (input, state,
#: hidden, output, parameter) and those of the operation views and decorations.
ROLES = tuple(PALETTE)

#: Role -> Graphviz node shape. Shape differs per role so that print in grey
#: (or a color-blind reader) still tells inputs, states and outputs apart.
SHAPES: dict[str, str] = {
    "input": "box",
    "hidden": "circle",
    "parameter": "box",
    "state": "circle",
    "output": "doublecircle",
    "gate": "box",
    "operation": "circle",
    "function": "box",
    "delay": "square",
    "ellipsis": "plaintext",
}

#: Mid-tone grey: visible on white and on a dark page alike.
EDGE_COLOR = "#6e7a86"
#: The delay square is black, as in the book's circuit diagram (with an EDGE_COLOR rim for dark pages).
DELAY_COLOR = "#1a1a1a"
#: Cut paths (a gradient that is exactly zero), ellipsis edges.
MUTED_COLOR = "#a0a0a0"
#: Background of edge labels, so they stay legible on a dark page.
LABEL_BG = "#ffffff"


def node_attrs(role: str, *, carried: bool = False) -> dict[str, str]:
    """Graphviz attributes of a node of ``role`` (shape, colors, pen, font).

    Unknown roles get the neutral ``operation`` look rather than an error,
    so that a new role never breaks a diagram. ``carried``: an output that is
    also read at an earlier step (the LSTM's and GRU's h) is a state, drawn
    like the Elman h (state colors, heavy ring) with the output's double ring.

    Example:
        >>> node_attrs("output")["fillcolor"]
        '#f5cfcf'
        >>> carried = node_attrs("output", carried=True)
        >>> carried["fillcolor"] == PALETTE["state"].fill, carried["shape"]
        (True, 'doublecircle')
    """
    if role == "output" and carried:
        attrs = node_attrs("state")
        attrs["shape"] = SHAPES["output"]
        return attrs
    colors = PALETTE.get(role, PALETTE["operation"])
    attrs = {
        "shape": SHAPES.get(role, "circle"),
        "style": "filled",
        "fillcolor": colors.fill,
        "color": colors.stroke,
        "fontcolor": colors.text,
        "fontname": FONT,
        "fontsize": str(FONT_SIZE),
        "penwidth": "1.4",
    }
    if role in ("input", "parameter", "gate", "function"):
        attrs["style"] = "filled,rounded" if role != "parameter" else "filled"
    if role == "state":
        attrs["penwidth"] = "2.0"  # states carry the recurrence: a heavier ring
    return attrs


def graph_attrs() -> dict[str, str]:
    """Attributes every diagram shares (transparent page, fonts, spacing)."""
    return {
        "bgcolor": "transparent",
        "fontname": FONT_TEXT,
        "fontsize": "14",
        "nodesep": "0.45",
        "ranksep": "0.55",
        "pad": "0.15",
    }


def edge_attrs() -> dict[str, str]:
    """Attributes every edge shares."""
    return {
        "color": EDGE_COLOR,
        "fontcolor": "#1a1a1a",
        "fontname": FONT,
        "fontsize": str(EDGE_FONT_SIZE),
        "arrowsize": "0.7",
        "penwidth": "1.3",
    }
