"""Per-step plots of a forward pass, and of gradient norms over time (matplotlib, no pyplot).

Each variable gets a panel with the step t on the x axis (integers). A scalar
is one line; a vector is one line per component, or a heat map (components
by steps) when it has many. Titles and legends are typeset with matplotlib's
mathtext (``h_1^{(t)}``), fonts are big enough for a slide.

Example:
    >>> from rnnviz import load_model
    >>> from rnnviz.numeric.forward_pass import forward
    >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    >>> data = figure_bytes(plot_steps(forward(m)), "svg")
    >>> data[:5] == b"<?xml"
    True
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from contextlib import contextmanager

from ..language.syntax import GREEK_LETTERS, Name

__all__ = ["mathtext", "target_mathtext", "plot_steps", "plot_phases", "plot_grad_norms", "plot_grad_norms_phased",
           "figure_bytes", "measured_once", "FORMATS", "MAX_LINES"]

#: Output formats matplotlib writes for us.
FORMATS = ("svg", "png", "pdf")

#: Vectors with more components than this are drawn as a heat map in ``auto`` style.
MAX_LINES = 8

#: Scalar panels with at most this many steps show each value next to its point.
MAX_LABELLED_STEPS = 10

_ACCENTS = {"tilde": r"\tilde", "hat": r"\hat", "bar": r"\bar", "dot": r"\dot", "vec": r"\vec",
            "check": r"\check", "breve": r"\breve",
            # A bidirectional RNN's two chains, as d2l.ai writes them: \overrightarrow{H}_t, \overleftarrow{H}_t.
            "fwd": r"\overrightarrow", "bwd": r"\overleftarrow"}

_STYLE = {
    "font.size": 14, "axes.titlesize": 17, "axes.labelsize": 15, "xtick.labelsize": 13,
    "ytick.labelsize": 13, "legend.fontsize": 15, "lines.linewidth": 2.2, "lines.markersize": 7,
    "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "path",
    "pdf.fonttype": 42,  # TrueType in PDF: selectable text that print shops accept (not Type 3)
    "mathtext.fontset": "cm",
}


def _mt_word(text: str) -> str:
    return "\\" + text if text in GREEK_LETTERS else text


def mathtext(display: Name, time: str | int | None = "t", component: int | None = None) -> str:
    """The symbol as matplotlib mathtext, with the time as a superscript ``(t)``.

    Example:
        >>> from rnnviz.diagrams.labels import name_of
        >>> mathtext(name_of("h_1")), mathtext(name_of("c_tilde"), 2), mathtext(name_of("W_hh"), None)
        ('$h_{1}^{(t)}$', '$\\\\tilde{c}^{(2)}$', '$W_{hh}$')
        >>> mathtext(name_of("h"), component=3)
        '$h_{3}^{(t)}$'
    """
    base = _mt_word(display.base)
    if display.accent:
        base = f"{_ACCENTS.get(display.accent, chr(92) + display.accent)}{{{base}}}"
    if display.bold:
        base = r"\mathbf{" + base + "}"
    subs = [_mt_word(s) for s in display.subs] + ([str(component)] if component is not None else [])
    sups = [_mt_word(s) for s in display.sups] + ([f"({time})"] if time is not None else [])
    out = base
    if subs:
        out += "_{" + ",".join(subs) + "}"
    if sups:
        out += "^{" + ",".join(sups) + "}"
    return f"${out}$"


def _display(trace, name: str) -> Name:
    sym = trace.model.symbols.get(name)
    return sym.display if sym is not None else Name(name)


def plot_steps(trace, names: Sequence[str] | None = None, *, style: str = "auto", batch_index: int = 0):
    """One panel per variable against the step t; returns a matplotlib Figure.

    Args:
        trace: a :class:`rnnviz.numeric.forward_pass.Trace`.
        names: which inputs and variables (canonical names); default all, inputs first.
        style: ``auto`` (lines up to MAX_LINES components, else a heat map), ``lines``
            or ``heatmap``.
        batch_index: which batch entry to draw when the trace has a batch.
    """
    import matplotlib
    from matplotlib.figure import Figure

    names = list(names) if names else trace.names
    with matplotlib.rc_context(_STYLE):
        ncols = 1 if len(names) <= 3 else 2
        nrows = math.ceil(len(names) / ncols)
        width = max(7.0, min(14.0, 4.5 + 0.35 * trace.steps)) * (0.75 if ncols == 2 else 1.0)
        fig = Figure(figsize=(width * ncols, 3.4 * nrows), layout="constrained")
        _panels(fig, trace, names, style, batch_index, ncols)
    return fig


def plot_phases(trace, names: Sequence[str] | None = None, *, style: str = "auto", batch_index: int = 0):
    """An encoder-decoder's run: the encoder's inputs and variables against its steps t = 1..T
    on the left, the decoder's against its own steps t = 1..T' on the right, each side titled.

    Args:
        trace: a :class:`rnnviz.numeric.forward_pass.PhasedTrace`.
        names: which inputs and variables (canonical names, of either phase); default all.
    """
    import matplotlib
    from matplotlib.figure import Figure

    ph = trace.model.phases
    sides = [("encoder", trace.encoder, [n for n in trace.encoder.names if n not in ph.encoder.once]),
             ("decoder", trace.decoder, [n for n in trace.decoder.names if n not in ph.contexts])]
    if names:
        sides = [(phase, sub, [n for n in mine if n in names]) for phase, sub, mine in sides]
    sides = [side for side in sides if side[2]]
    with matplotlib.rc_context(_STYLE):
        nrows = max(len(mine) for _, _, mine in sides)
        widths = [max(5.5, min(10.0, 4.0 + 0.35 * sub.steps)) for _, sub, _ in sides]
        fig = Figure(figsize=(sum(widths), 3.4 * nrows + 0.5), layout="constrained")
        subs = fig.subfigures(1, len(sides), width_ratios=widths, squeeze=False)[0]
        for sf, (phase, sub, mine) in zip(subs, sides):
            length = "T" if phase == "encoder" else "T'"
            sf.suptitle(f"{phase}: $t = 1, \\ldots, {length}$ ({length} = {sub.steps})", x=0.02, ha="left",
                        fontsize=15)
            _panels(sf, sub, mine, style, batch_index, 1, rows=nrows)
    return fig


def _panels(fig, trace, names: list[str], style: str, batch_index: int, ncols: int, rows: int | None = None) -> None:
    """One panel per variable of ``trace`` in ``fig`` (a figure or a subfigure)."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    nrows = rows or math.ceil(len(names) / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    # Every panel spans the same steps, so that one step lines up down the figure.
    values = trace.values
    first = min(min(t for t, v in enumerate(values[n]) if v is not None) for n in names)
    for ax, name in zip(axes.flat, names):
        steps = [t for t, v in enumerate(values[name]) if v is not None]
        data = np.array([np.asarray(values[name][t], dtype=float) for t in steps])
        if trace.batch is not None:
            data = data[:, batch_index]
        disp = _display(trace, name)
        ax.set_title(mathtext(disp), loc="left")
        n = 1 if data.ndim == 1 else data.shape[1]
        marker = "o" if len(steps) <= 40 else None  # dots on a long run are just noise
        heat = data.ndim == 2 and (style == "heatmap" or (style == "auto" and n > MAX_LINES))
        if heat:
            lim = float(np.abs(data).max()) or 1.0
            im = ax.imshow(data.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, origin="lower",
                           interpolation="nearest", extent=(steps[0] - 0.5, steps[-1] + 0.5, 0.5, n + 0.5))
            ax.set_ylabel("component")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            # An inset beside the panel: `ax=ax` would put the bar past the legends of the
            # line panels above, far from the map it reads.
            fig.colorbar(im, cax=ax.inset_axes((1.01, 0.0, 0.015, 1.0)))
        elif data.ndim == 1:
            ax.plot(steps, data, marker=marker, color="#1f4e9c")
            ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=0)
            if len(steps) <= MAX_LABELLED_STEPS:  # a sheet's answer: the numbers next to the points
                for t, v in zip(steps, data):
                    ax.annotate(f"{v:.3g}", (t, v), textcoords="offset points", xytext=(0, 9),
                                ha="center", fontsize=12, color="#333333")
                ax.margins(y=0.18)
        else:
            for j in range(n):
                ax.plot(steps, data[:, j], marker=marker, label=mathtext(disp, component=j + 1))
            ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=0)
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                      ncols=1 if n <= 8 else 2)
        ax.set_xlabel("$t$")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(first - 0.5, trace.steps + 0.5)
        if not heat:
            ax.grid(axis="y", alpha=0.3)


def target_mathtext(target: str, trace=None) -> str:
    """A gradient target (``y[20]``, ``h[3][0]``, ``sum(h)``) as mathtext; as written if unknown.

    Example:
        >>> target_mathtext("y[20]"), target_mathtext("h[3][0]"), target_mathtext("sum(h)")
        ('$y^{(20)}$', '$h_{1}^{(3)}$', '$\\\\Sigma_t\\\\,h^{(t)}$')
    """
    import re

    m = re.fullmatch(r"\s*sum\(\s*([^()\[\]\s]+)\s*\)\s*", target)
    if m:
        return r"$\Sigma_t\," + mathtext(_display(trace, m.group(1)) if trace else Name(m.group(1)))[1:]
    m = re.fullmatch(r"\s*([^\[\]\s]+)\s*\[\s*(-?\d+)\s*\](?:\s*\[\s*(\d+)\s*\])?\s*", target)
    if m:
        disp = _display(trace, m.group(1)) if trace else Name(m.group(1))
        comp = int(m.group(3)) + 1 if m.group(3) is not None else None  # shown counted from 1
        return mathtext(disp, int(m.group(2)), comp)
    return target


def plot_grad_norms(norms: Mapping[str, Sequence[float]], target: str, trace=None,
                    spectra: Mapping[str, tuple[float, float]] | None = None):
    """The norm of d(target)/d(state at step t) against t, log y, one line per recurrent variable.

    Steps where the gradient is exactly zero (no path, or a ReLU cut it) cannot sit on a
    log axis; they are left out of the line and marked with an x on the bottom edge.
    """
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(9, 4.8), layout="constrained")
        ax = fig.subplots()
        _norm_lines(ax, norms, target, trace)
        ax.set_title(f"How much {target_mathtext(target, trace)} depends on the state at step $t$", loc="left")
        _spectra_box(ax, spectra, trace)
    return fig


def plot_grad_norms_phased(norms: Mapping[str, Mapping[str, Sequence[float]]], target: str, trace=None,
                           spectra: Mapping[str, tuple[float, float]] | None = None):
    """An encoder-decoder's gradient norms: the encoder's states against its steps t = 0..T on
    the left, the decoder's against its own t = 0..T' on the right, on one log scale.

    ``norms`` maps ``"encoder"`` and ``"decoder"`` to what :func:`plot_grad_norms` takes.
    """
    import matplotlib
    from matplotlib.figure import Figure

    sides = [(phase, norms[phase]) for phase in ("encoder", "decoder") if norms.get(phase)]
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(6.5 * len(sides), 4.8), layout="constrained")
        axes = fig.subplots(1, len(sides), sharey=True, squeeze=False)[0]
        for ax, (phase, mine) in zip(axes, sides):
            length = "T" if phase == "encoder" else "T'"
            _norm_lines(ax, mine, target, trace)
            ax.set_title(f"{phase}: $t = 0, \\ldots, {length}$", loc="left")
        fig.suptitle(f"How much {target_mathtext(target, trace)} depends on each phase's state at step $t$",
                     x=0.02, ha="left", fontsize=15)
        _spectra_box(axes[-1], spectra, trace)
    return fig


def _norm_lines(ax, norms: Mapping[str, Sequence[float]], target: str, trace) -> None:
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    any_positive = False
    for name, values in norms.items():
        v = np.asarray(values, dtype=float)
        t = np.arange(len(v))
        disp = _display(trace, name) if trace is not None else Name(name)
        label = (r"$\Vert\partial\,$" + target_mathtext(target, trace) + r"$\,/\,\partial\,$"
                 + mathtext(disp) + r"$\Vert$")
        known = ~np.isnan(v)  # a backward chain has no step 0
        positive = known & (v > 0)
        zero = known & ~positive
        any_positive |= bool(positive.any())
        (line,) = ax.plot(t[positive], v[positive], marker="o", label=label)
        if zero.any():
            ax.plot(t[zero], np.full(zero.sum(), 0.0), linestyle="none", marker="x",
                    color=line.get_color(), clip_on=False, transform=ax.get_xaxis_transform())
    if any_positive:
        ax.set_yscale("log")
    ax.set_xlabel("$t$")
    ax.set_ylabel("gradient norm")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="major")
    ax.legend(frameon=True, framealpha=0.9, edgecolor="#bbbbbb", loc="best")


def _spectra_box(ax, spectra, trace) -> None:
    if spectra:
        lines = [f"{mathtext(_display(trace, n) if trace else Name(n), None)}:  "
                 f"$\\rho$ = {r:.3g},  $\\sigma_{{\\max}}$ = {sv:.3g}" for n, (r, sv) in spectra.items()]
        ax.text(0.99, 0.03, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom",
                fontsize=13, bbox=dict(boxstyle="round", facecolor="white", edgecolor="#bbbbbb"))


@contextmanager
def measured_once():
    """While a figure is saved, each text is measured, and each mathtext string parsed, once.

    Saving a figure with constrained layout draws it twice, once to lay it out and once to
    write it, each time with a renderer of its own; matplotlib caches the size of a text
    per renderer and parses mathtext again for each (a third of the time a site spends on
    its plots). What a text measures depends only on the kind of renderer, the text, its
    font and the dpi, so inside this block the renderers share one cache and one mathtext
    parser: the file is the same, byte for byte. Everything is put back on leaving, and a
    matplotlib without these internals simply measures as it always does.

    Example:
        >>> import contextlib, matplotlib
        >>> from matplotlib.figure import Figure
        >>> def svg(shared):
        ...     fig = Figure(layout="constrained")
        ...     fig.subplots().set_title("$h^{(t)}$")
        ...     buf = io.StringIO()
        ...     with matplotlib.rc_context({"svg.hashsalt": "x"}), (measured_once() if shared
        ...                                                         else contextlib.nullcontext()):
        ...         fig.savefig(buf, format="svg", metadata={"Date": None})
        ...     return buf.getvalue()
        >>> svg(True) == svg(False)
        True
    """
    import matplotlib.text as mtext

    metrics = getattr(mtext, "_get_text_metrics_function", None)
    to_path = getattr(mtext, "TextToPath", None)
    if metrics is None or to_path is None:
        yield
        return
    shared_path = to_path()
    sizes: dict = {}

    def shared_metrics(renderer):
        def measure(text, fontprop, ismath, dpi):
            key = (type(renderer), text, fontprop, ismath, dpi)  # fontprop: the caller's copy
            if key not in sizes:
                sizes[key] = renderer.get_text_width_height_descent(text, fontprop, ismath)
            return sizes[key]
        return measure

    mtext._get_text_metrics_function = shared_metrics
    mtext.TextToPath = lambda: shared_path  # what each new renderer measures and draws text with
    try:
        yield
    finally:
        mtext._get_text_metrics_function = metrics
        mtext.TextToPath = to_path


def figure_bytes(fig, fmt: str, *, dpi: int = 150) -> bytes:
    """Render a figure to SVG, PNG (Agg) or PDF bytes, so that a file is written in one go.

    The figures are plain ``matplotlib.figure.Figure`` objects, never registered with
    pyplot: no global state, no GUI backend, nothing to close.
    """
    import matplotlib

    buf = io.BytesIO()
    meta = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
    # Embedding TrueType fonts in a PDF runs fontTools, which warns on stderr about the
    # fonts' own timestamps; that says nothing to the user, so it is kept quiet here.
    quiet = logging.getLogger("fontTools")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with matplotlib.rc_context(_STYLE), measured_once():
            fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    finally:
        quiet.setLevel(level)
    return buf.getvalue()
