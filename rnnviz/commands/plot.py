"""``rnnviz plot FILE``: each variable against the time step, or gradient norms over time.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "relu.rnn")
    >>> _ = open(p, "w").write("h_t = ReLU(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]\\n")
    >>> main(["plot", p, "-o", os.path.join(d, "steps.png")])  # doctest: +ELLIPSIS
    wrote .../steps.png
    0
"""

from __future__ import annotations

import argparse
import os

from ..errors import RenderError, UsageError
from ._common import dpi
from .run import add_forward_arguments, trace_from_args

HELP = "plot every variable against the time step (SVG, PNG, PDF), or gradient norms over time"
DESCRIPTION = """\
Run the forward pass and draw each input and variable against the step t:
a scalar as one line, a vector as one line per component (or, with more than
8 components, a heat map). This answers "plot your results for each step".

  rnnviz plot lstm_goodfellow.rnn                  # lstm_goodfellow.steps.svg
  rnnviz plot vanilla.rnn -o steps.png --vars h y --steps 20
  rnnviz plot vanilla.rnn --grad-norms --of 'y[20]' --steps 20 -o flow.pdf

With --grad-norms --of TARGET, draw instead the norm of d TARGET / d (state at
step t) against t on a log scale, one line per recurrent variable, and print
the spectral radius and the largest singular value of each recurrent weight
matrix: a vanishing or exploding gradient shows as a straight falling or
rising line.

An encoder-decoder is drawn as its two phases side by side, each over its own
steps: the encoder's t = 1..T on the left, the decoder's t = 1..T' on the
right (with --grad-norms, each phase's states over t = 0..T and t = 0..T').

The format follows the extension of -o (svg, png, pdf) unless --format says
otherwise. Without -o the plot is written next to FILE as STEM.steps.svg
(STEM.grad-norms.svg with --grad-norms); -o - writes to standard output.
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, -o, --format, --vars, --style, --dpi, --grad-norms, --of and the forward-pass options."""
    add_forward_arguments(parser, batch=False)
    parser.add_argument("-o", "--output", metavar="OUT", default=None,
                        help="output file (.svg, .png, .pdf) or - for standard output "
                             "(default: STEM.steps.svg next to FILE)")
    parser.add_argument("--format", choices=("svg", "png", "pdf"), default=None,
                        help="output format (default: from the extension of -o, else svg)")
    parser.add_argument("--vars", nargs="+", metavar="NAME", default=None,
                        help="which inputs and variables to plot, by name (default: all)")
    parser.add_argument("--style", choices=("auto", "lines", "heatmap"), default="auto",
                        help="vectors as one line per component or as a heat map "
                             "(default auto: a heat map above 8 components)")
    parser.add_argument("--dpi", type=dpi, default=150, help="resolution of PNG output (default 150)")
    parser.add_argument("--grad-norms", action="store_true",
                        help="plot |d TARGET / d state at step t| against t (log scale) instead; needs --of")
    parser.add_argument("--of", metavar="TARGET", default=None,
                        help="the target of --grad-norms: y[5], h[3][0] or sum(h)")


def _output(args: argparse.Namespace) -> tuple[str, str]:
    """The output path and format the options ask for."""
    suffix = "grad-norms" if args.grad_norms else "steps"
    out = args.output
    if out is None:
        stem = "stdin" if args.file == "-" else os.path.splitext(args.file)[0]
        out = f"{stem}.{suffix}.{args.format or 'svg'}"
    fmt = args.format
    ext = os.path.splitext(out)[1].lower().lstrip(".")
    if fmt is not None and ext in ("svg", "png", "pdf") and ext != fmt:  # -o x.png --format svg
        raise UsageError(f"-o {out} asks for {ext.upper()} by its ending, but --format asks for {fmt.upper()}",
                         hint=f"write -o {os.path.splitext(out)[0]}.{fmt}, or drop --format")
    if fmt is None:
        ext = os.path.splitext(out)[1].lower().lstrip(".")
        if out == "-" or not ext:
            fmt = "svg"
        elif ext in ("svg", "png", "pdf"):
            fmt = ext
        else:
            raise UsageError(f"cannot tell the format of '{out}': use .svg, .png or .pdf, or --format")
    return out, fmt


def _make_folder(out: str) -> None:
    """Create the folder of ``out`` if it is missing, as ``rnnviz draw -o`` does."""
    folder = os.path.dirname(out)
    if folder and not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            raise RenderError(f"cannot create the folder '{folder}' for '{out}': {err.strerror or err}") from None


def _check_vars(model, names: list[str]) -> list[str]:
    """The canonical names of the --vars words: ``h1`` and ``h_1`` are both ``h_1``."""
    from ..language.parse import parse_text, suggest

    known = list(model.inputs) + model.variables
    out = []
    for name in names:
        if name not in known:
            try:  # the file's own spelling (h1, W_{hh}, \hat{y}) names the same symbol
                canonical = parse_text(f"{name} = 0", "--vars").statements[0].lhs.canonical
            except Exception:
                canonical = name
            if canonical in known:
                out.append(canonical)
                continue
            close = suggest(name, known)
            raise UsageError(f"--vars: '{name}' is not an input or a variable of the equations",
                             hint=f"did you mean {close}?" if close else "they are " + ", ".join(known))
        out.append(name)
    return out


def run(args: argparse.Namespace) -> int:
    """Draw the plot, then write it in one go."""
    from ..diagrams.plot import plot_grad_norms, plot_steps

    if args.grad_norms and not args.of:
        raise UsageError("--grad-norms needs --of TARGET, e.g. --of 'h[5]'")
    if args.of and not args.grad_norms:
        raise UsageError("--of is the target of --grad-norms; add --grad-norms")
    out, fmt = _output(args)
    from ..io import refuse_input_as_output

    refuse_input_as_output(out, [args.file, *(getattr(args, "values_file", None) or [])])
    trace = trace_from_args(args)
    if getattr(trace, "decoder", None) is not None:  # an encoder-decoder: its two phases side by side
        from ..diagrams.plot import plot_grad_norms_phased, plot_phases
        from ..numeric.grad import phased_state_grad_norms, recurrent_spectra

        if args.grad_norms:
            spectra = recurrent_spectra(trace.model, trace)
            fig = plot_grad_norms_phased(phased_state_grad_norms(trace.model, trace, args.of), args.of, trace,
                                         spectra)
        else:
            fig = plot_phases(trace, _check_vars(trace.model, args.vars) if args.vars else None, style=args.style)
            spectra = None
        return _write(fig, out, fmt, args, spectra)
    if args.grad_norms:
        from ..numeric.grad import recurrent_spectra, state_grad_norms

        norms = state_grad_norms(trace.model, trace, args.of)
        spectra = recurrent_spectra(trace.model, trace)
        fig = plot_grad_norms(norms, args.of, trace, spectra)
    else:
        names = _check_vars(trace.model, args.vars) if args.vars else None
        fig = plot_steps(trace, names, style=args.style)
        spectra = None
    return _write(fig, out, fmt, args, spectra)


def _write(fig, out: str, fmt: str, args: argparse.Namespace, spectra) -> int:
    """Write the figure in one go; print the spectra of --grad-norms and where it went."""
    from ..diagrams.plot import figure_bytes
    from ..io import write_output

    data = figure_bytes(fig, fmt, dpi=args.dpi)
    if out != "-":
        _make_folder(out)
    try:
        write_output(out, data)
    except OSError as err:  # a read-only folder, a full disk: the old file stays as it was
        raise RenderError(f"cannot write '{out}': {err.strerror or err}") from None
    if spectra is not None:
        stream = __import__("sys").stderr if out == "-" else None
        for name, (radius, sigma) in spectra.items():
            print(f"{name}: spectral radius {radius:.4g}, largest singular value {sigma:.4g}", file=stream)
    if out != "-":
        print(f"wrote {out}")
    return 0
