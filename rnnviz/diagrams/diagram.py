"""The Python API of the diagrams: ``draw(model, view) -> Diagram``.

A :class:`Diagram` holds the DOT text and the JSON graph of one view and
renders them on demand: ``.svg()`` (inline-ready, shown by Jupyter through
``_repr_svg_``), ``.save(path)`` (SVG, PNG, PDF, DOT or JSON, written
atomically), ``.to_json()``.

Example:
    >>> from rnnviz.language import load_model
    >>> d = draw(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "unrolled", steps=2)
    >>> d.graph["nodes"][0]
    {'id': 'x@1', 'name': 'x', 'time': 1, 'role': 'input'}
    >>> d.dot().startswith('digraph "rnnviz"')
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import ValueSpecError
from ..io import write_atomic
from ..limits import MAX_COLUMNS
from ..language import Model, load_model
from . import dot as dotmod
from . import graph as graphmod

__all__ = ["Diagram", "draw", "VIEWS", "FORMATS", "format_of"]

#: Every view ``draw`` knows; the cell views come from :mod:`rnnviz.diagrams.cell`.
VIEWS = ("folded", "unrolled", "cell", "cell-unrolled")
#: Every output format, by file extension.
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".json": "json"}

Key = tuple[str, int]


class Diagram:
    """One rendered-on-demand view of a model.

    Attributes:
        view: ``folded``, ``unrolled``, ``cell`` or ``cell-unrolled``.
        graph: the JSON graph (plain dicts and lists; ``docs/json-graph.md``).
        title: the caption (also the SVG ``<title>``), or None.
    """

    def __init__(self, view: str, dot_text: str, graph: dict, *, title: str | None = None,
                 alt: str | None = None) -> None:
        self.view = view
        self.graph = graph
        self.title = title
        self._dot = dot_text
        self._alt = alt or title or f"{view} diagram"
        self._svg: str | None = None

    def dot(self) -> str:
        """The DOT text (deterministic: same model and options, same bytes)."""
        return self._dot

    @property
    def alt(self) -> str:
        """The text of the SVG's ``<title>`` (the caption, or what the diagram shows)."""
        return self._alt

    def svg(self, memo: dict | None = None, *, started=None) -> str:
        """The SVG, ready to inline in HTML (no prolog, unique ids, a ``<title>``).

        Args:
            memo: a dict that several diagrams share (a site build): a diagram whose DOT text
                and title are already in it takes its SVG from there instead of running
                Graphviz again, and one that is not puts its SVG there.
            started: a ``dot -Tsvg`` already running (:class:`rnnviz.diagrams.render.StartedDot`)
                to draw it with, if Graphviz has to run; ended unused otherwise.

        Raises:
            RenderError: Graphviz is missing or fails.
        """
        if self._svg is None:
            key = (self._dot, self.alt)
            if memo is not None and key in memo:
                self._svg = memo[key]
            else:
                from .render import render_svg

                self._svg = render_svg(self._dot, title=self._alt, started=started)
                if memo is not None:
                    memo[key] = self._svg
        if started is not None:
            started.close()  # not needed: the SVG was known
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg()

    def to_json(self) -> str:
        """The JSON graph as text (indented, keys in contract order)."""
        import json  # only JSON output needs it

        return json.dumps(self.graph, indent=2, ensure_ascii=False) + "\n"

    def render(self, format: str = "svg", *, dpi: int = 150, started=None) -> bytes:
        """The diagram in ``format`` (svg, png, pdf, dot, json) as the bytes of a file.

        SVG here is a stand-alone file (XML declaration, namespaces); :meth:`svg`
        is the prolog-free text to inline in HTML. ``started``: a ``dot`` of that
        format and resolution already running (:class:`rnnviz.diagrams.render.StartedDot`)
        to draw it with; it is used up either way.
        """
        if started is not None and format not in ("svg", "png", "pdf"):
            started.close()
            started = None
        if format == "svg":
            from .render import standalone_svg

            return standalone_svg(self.svg(started=started)).encode("utf-8")
        if format == "dot":
            return self._dot.encode("utf-8")
        if format == "json":
            return self.to_json().encode("utf-8")
        from .render import render

        svg = self._svg if format == "png" else None  # its page size: an opaque PNG at once
        if started is not None:
            return started.render(self._dot, svg=svg)
        return render(self._dot, format, dpi=dpi, svg=svg)

    def save(self, path: str | os.PathLike, format: str | None = None, dpi: int = 150) -> Path:
        """Write the diagram to ``path`` atomically; the format comes from the extension by default.

        Raises:
            ValueSpecError: an extension (or format) rnnviz does not write.
            RenderError: Graphviz is missing or fails (nothing is written then).
        """
        path = Path(path)
        fmt = format or format_of(str(path))
        write_atomic(path, self.render(fmt, dpi=dpi))
        return path

    def __repr__(self) -> str:
        return f"<Diagram {self.view}: {len(self.graph.get('nodes', []))} nodes>"


def format_of(path: str) -> str:
    """The output format a file name asks for.

    Example:
        >>> format_of("net.unrolled.PNG"), format_of("x.gv")
        ('png', 'dot')
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise ValueSpecError(f"cannot tell the format of '{path}' from its extension; use one of {known} "
                             "or give the format explicitly")
    return FORMATS[ext]


def _as_model(model: Model | str) -> Model:
    return load_model(model) if isinstance(model, str) else model


def _values_mapping(values, model: Model, steps: int) -> dict[Key, object]:
    """(name, step) -> value from a mapping, a forward trace, or True (run the forward pass)."""
    if values is True:
        from ..numeric.forward_pass import forward

        values = forward(model, steps=steps)
    if hasattr(values, "value") and hasattr(values, "has"):
        trace = values
        out: dict[Key, object] = {}
        last = max(steps, getattr(trace, "decoder_steps", 0))  # an encoder-decoder: its longer phase
        for name in list(model.inputs) + list(model.variables):
            for t in range(-max(model.max_delay(name), 1), last + 2):
                if trace.has(name, t):
                    out[(name, t)] = trace.value(name, t)
        return out
    if isinstance(values, Mapping):
        return dict(values)
    raise ValueSpecError("values must map (name, step) to numbers or arrays, or be a forward trace")


def _decoder_steps(model: Model, trace) -> int:
    """An encoder-decoder's T' to unroll: the run's, the file's (T' = 3, or its decoder inputs), else 3."""
    if model.phases is None:
        return 0
    if trace is not None and getattr(trace, "decoder_steps", None):
        return trace.decoder_steps
    if model.phases.length is not None:
        return model.phases.length
    from ..errors import RnnvizError
    from ..numeric.forward_pass import decoder_length

    try:
        return decoder_length(model, model.phases.bind(model)[1], {})
    except RnnvizError:  # nothing says T': a drawing without numbers shows three steps
        return 3


def _grads_mapping(grads) -> dict[Key, object]:
    if hasattr(grads, "nodes") and isinstance(grads.nodes, Mapping):
        return dict(grads.nodes)
    if isinstance(grads, Mapping):
        return dict(grads)
    raise ValueSpecError("grads must map (name, step) to arrays, or be a gradients object")


def draw(
    model: Model | str,
    view: str = "folded",
    steps: int = 3,
    *,
    max_columns: int | None = None,
    values: Mapping[Key, object] | object | None = None,
    grads: Mapping[Key, object] | object | None = None,
    grad_target: str | None = None,
    precision: int = 3,
    title: str | None = None,
    seed: int = 0,
    orient: str = "horizontal",
) -> Diagram:
    """Draw one view of a model.

    Args:
        model: a :class:`~rnnviz.language.model.Model`, or equation text.
        view: ``folded``, ``unrolled``, ``cell`` or ``cell-unrolled``.
        steps: N, the steps of the unrolled views.
        max_columns: beyond this many steps the middle ones collapse into an
            ellipsis column (unrolled views); None: the view's own default
            (up to 6 columns unrolled, fewer, down to 4, when the drawing would
            not fit a 1280x720 slide with 10 px text; 4 cells cell-unrolled).
        values: (name, step) -> number or array (step 0 = initial values), a
            forward trace (:func:`rnnviz.numeric.forward_pass.forward`), or ``True`` to run
            the forward pass; drawn under the names in the unrolled view (the
            last step's in the folded view and the ``cell`` view, under the variables of the
            ``cell-unrolled`` view).
        grads: (name, step) -> gradient array of a scalar target, or the object
            :func:`rnnviz.numeric.grad.gradients` returns; drawn as norms, with edge
            width and color by magnitude (log scale) in the unrolled view.
        grad_target: instead of ``grads``, a target such as ``"h[3]"`` or
            ``"sum(y)"``: runs the forward pass and backprop.
        precision: significant digits of the numbers shown.
        title: a caption above the diagram (also the SVG title).
        seed: seeds the parameters and inputs no value gives (forward pass).
        orient: ``horizontal`` (time runs left to right) or ``vertical`` (time
            runs down, for narrow pages) in the unrolled view; the folded view
            stands upright either way; the cell views refuse ``vertical``.

    Raises:
        ValueSpecError: an unknown view, bad steps, values of the wrong kind.
        RnnvizError: from the forward pass or backprop when they run.
    """
    model = _as_model(model)
    if view not in VIEWS:
        raise ValueSpecError(f"unknown view '{view}'; the views are {', '.join(VIEWS)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueSpecError(f"the number of steps to unroll must be a whole number of at least 1, got {steps}")
    if max_columns is not None and max_columns > MAX_COLUMNS:
        raise ValueSpecError(f"at most {MAX_COLUMNS} columns can be drawn (--max-columns, max_columns=), "
                             f"got {max_columns}",
                             hint="a limit of rnnviz; Graphviz would run for minutes, and steps beyond the "
                                  "columns collapse into an ellipsis column")
    if not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueSpecError(f"precision is a number of significant digits from 1 to 17, got {precision}")
    names = ", ".join(model.variables)
    alt = title or f"{view} diagram of {names}"
    if orient not in ("horizontal", "vertical"):
        raise ValueSpecError(f"orient is horizontal or vertical, got '{orient}'")
    if orient == "vertical" and view in ("cell", "cell-unrolled"):
        raise ValueSpecError(f"only the unrolled view turns vertical (the folded view stands upright "
                             f"either way), not the '{view}' view")
    value_map: dict[Key, object] = {}
    grad_map: dict[Key, object] = {}
    trace = values if hasattr(values, "has") else None
    # Every view shows the numbers asked for (a folded one the last step's).

    def run():
        nonlocal trace
        if trace is None:
            from ..numeric.forward_pass import (
                forward,  # numpy only when numbers are asked for
            )

            trace = forward(model, steps=steps, seed=seed)
        return trace

    if values is True:
        value_map = _values_mapping(run(), model, steps)
    elif values is not None and values is not False:
        value_map = _values_mapping(values, model, steps)
    if grads is None and grad_target:
        from ..numeric.grad import gradients

        grads = gradients(model, run(), grad_target)
    if grads is not None:
        grad_map = _grads_mapping(grads)
    if view in ("cell", "cell-unrolled"):
        try:
            from . import cell_dot
        except ImportError:
            raise ValueSpecError(f"the '{view}' view is not available in this version of rnnviz") from None
        columns = {} if max_columns is None else {"max_columns": max_columns}
        last = getattr(trace, "steps", None) or steps
        if view == "cell" and (value_map or grad_map) and title is None:
            # Say which step the numbers are: the folded cell stands for every step.
            title = (f"values at the last steps: t = T = {last} (encoder), t = T' = "
                     f"{_decoder_steps(model, trace)} (decoder)" if model.phases is not None
                     else f"values at t = {last}")
        if model.phases is not None:  # the encoder's cells, the context, the decoder's cells
            from . import cell_phased

            dot_text, graph = cell_phased.build(model, unrolled=view == "cell-unrolled", steps=last,
                                                decoder_steps=_decoder_steps(model, trace), title=title,
                                                values=value_map, grads=grad_map, precision=precision, **columns)
        else:
            numbers = cell_dot.Numbers(value_map, grad_map, precision, last=last)
            dot_text, graph = cell_dot.build(model, unrolled=view == "cell-unrolled", steps=steps, title=title,
                                             numbers=numbers, **columns)
        return Diagram(view, dot_text, graph, title=title, alt=alt)
    columns = graphmod.DEFAULT_MAX_COLUMNS if max_columns is None else max_columns
    g = graphmod.build(model, view, steps=steps, max_columns=columns, decoder_steps=_decoder_steps(model, trace))
    displays = {n: s.display for n, s in model.symbols.items()}
    text = dotmod.to_dot(g, displays=displays, values=value_map, grads=grad_map, precision=precision, title=title,
                         orient=orient)
    if view == "unrolled" and max_columns is None and orient == "horizontal":
        # No column count asked for: as many as keep the text readable on a slide (at least
        # the first two steps, the ellipsis and the last), so that an LSTM with its values
        # is never a wall of tiny numbers.
        columns = graphmod.DEFAULT_MAX_COLUMNS
        while columns > 4 and steps > 3 and not fits_slide(text):
            columns -= 1
            g = graphmod.build(model, view, steps=steps, max_columns=columns,
                               decoder_steps=_decoder_steps(model, trace))
            text = dotmod.to_dot(g, displays=displays, values=value_map, grads=grad_map, precision=precision,
                                 title=title, orient=orient)
    return Diagram(view, text, g.to_json(), title=title, alt=alt)


#: A 16:9 slide in pixels, and the smallest text it should show.
SLIDE = (1280, 720)
SLIDE_TEXT_PX = 10


def fits_slide(dot_text: str) -> bool:
    """Whether a pinned (unrolled) DOT drawing, fitted into a 1280x720 slide, shows its
    smallest text (11 pt scripts and values) at 10 px or more: an estimate from the
    node positions and sizes written in the DOT.

    Example:
        >>> fits_slide('"a" [pos="0,0!"]; "b" [pos="720,0!"];'), fits_slide('"a" [pos="0,0!"]; "b" [pos="2160,0!"];')
        (True, False)
    """
    import re

    xs, ys = [], []
    for attrs in re.findall(r"\[([^\]]*pos=\"[-\d.]+,[-\d.]+!\"[^\]]*)\]", dot_text):
        # Pinned positions are in points (what the ``nop`` layout reads), sizes in inches.
        x, y = (float(v) / 72 for v in re.search(r'pos="([-\d.]+),([-\d.]+)!"', attrs).groups())
        w = re.search(r'\bwidth="([\d.]+)"', attrs)
        h = re.search(r'\bheight="([\d.]+)"', attrs)
        half_w, half_h = (float(w.group(1)) if w else 0.8) / 2, (float(h.group(1)) if h else 0.6) / 2
        xs += [x - half_w, x + half_w]
        ys += [y - half_h, y + half_h]
    if not xs:
        return True
    from .style import SCRIPT_SIZE, VALUE_FONT_SIZE

    width, height = (max(xs) - min(xs)) * 72 + 22, (max(ys) - min(ys)) * 72 + 22  # the page's pad
    smallest = min(SCRIPT_SIZE, VALUE_FONT_SIZE)
    return smallest * min(SLIDE[0] / width, SLIDE[1] / height) >= SLIDE_TEXT_PX

