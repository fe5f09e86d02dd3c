"""``rnnviz draw FILE``: the folded and unrolled diagrams of the equations.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "rnn.rnn")
    >>> _ = open(p, "w").write("h[t] = tanh(W h[t-1] + U x[t])\\n")
    >>> main(["draw", p, "--format", "dot", "--view", "folded", "-o", "-"])  # doctest: +ELLIPSIS
    digraph "rnnviz" {
    ...
    0
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import UsageError
from ..limits import MAX_COLUMNS
from ._common import add_strict_argument, announce_drawn, count, dpi, seed, steps

HELP = "draw the folded and the unrolled network (SVG, PNG, PDF, DOT or JSON)"
DESCRIPTION = """\
Draw the network the equations describe, as in the textbook figures: the
folded network (one node per variable, a black square on every delayed
read) and the network unrolled over N steps (one column per step, step 0
holding the initial states). Edges carry the parameter that multiplies the
variable they read.

Without -o, writes STEM.folded.svg and STEM.unrolled.svg next to FILE
(FILE two_layer.rnn gives STEM two_layer; FILE - writes stdin.* in the
current folder) and prints the paths it wrote. Nothing is written when
anything fails.

  rnnviz draw two_layer.rnn
  rnnviz draw two_layer.rnn --view unrolled --unroll 5 -o slides/net.pdf
  rnnviz draw lstm.rnn -o figures/ --format png --dpi 300
  rnnviz draw relu_1d.rnn --values --view unrolled      # forward-pass values
  rnnviz draw vanilla.rnn --grad 'y[3]' --unroll 3      # gradient flow
  cat net.rnn | rnnviz draw - --format json -o -
  rnnviz draw relu_1d.rnn --frames --grad 'h[3]' -o slides/relu.pdf

With --frames, the unrolled view with its values is revealed one step at a
time: frame k shows steps 1..k with their values and the later steps faint
(their values ?); with --grad, further frames show the gradient flowing back
(frame k: it has reached step T-k). As PDF, one page per frame (beamer:
\\includegraphics[page=k]{relu.pdf}); as PNG, numbered files (relu-01.png,
...); as SVG, one picture whose nodes and edges carry data-step="k" and the
classes rnnviz-step rnnviz-step-k, for reveal.js fragments or a page script.
An encoder-decoder's frames reveal the encoder's steps, then the context (and
the decoder's start), then the decoder's steps; the gradient goes back the same
way. The default is STEM.frames.pdf next to FILE.
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]

_VIEWS = ("folded", "unrolled", "both", "cell", "cell-unrolled")
_FORMATS = ("svg", "png", "pdf", "dot", "json")
_EXT = {"svg": "svg", "png": "png", "pdf": "pdf", "dot": "dot", "json": "json"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, output, view and annotation options."""
    # FILE is required; it is optional to argparse so that `draw --values model.rnn` (where --values
    # took the file) can be read as `draw model.rnn --values`.
    parser.add_argument("file", metavar="FILE", nargs="?", default=None,
                        help="equation file (plain or LaTeX), required; - reads standard input")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="where to write: a file (one view; the extension gives the format), a folder "
                             "(ends with / or exists: writes STEM.VIEW.EXT into it), or - for standard "
                             "output (one view); default: next to FILE")
    parser.add_argument("--view", choices=_VIEWS, default=None,
                        help="which diagram: folded, unrolled, both, or the operation views cell and "
                             "cell-unrolled. Default: both; with -o FILE or -o - (one view only), unrolled "
                             "when --values or --grad is given, else folded")
    parser.add_argument("--unroll", metavar="N", type=steps, default=None,
                        help="number of time steps of the unrolled views (default 3, or the length of the "
                             "input sequence when --values or --grad runs the forward pass)")
    parser.add_argument("--format", choices=_FORMATS, default=None,
                        help="output format (default: from the -o extension, else svg); json is the graph "
                             "as data (nodes, edges, roles, delays)")
    parser.add_argument("--dpi", metavar="N", type=dpi, default=150, help="resolution of PNG output (default 150)")
    parser.add_argument("--max-columns", metavar="N", type=count, default=None,
                        help="unrolled views: beyond N steps the middle steps collapse into an ellipsis "
                             "column (default: up to 6 columns, fewer (not below 4) when they would not "
                             "fit a 1280x720 slide at 10 px text; 4 cells in cell-unrolled; at least 3)")
    parser.add_argument("--values", dest="values_opt", metavar="VALUES_FILE", nargs="?", action="append",
                        const="", default=[],
                        help="write forward-pass values under the nodes of the unrolled view (the last "
                             "step's in the folded and the cell view; under the variables of cell-unrolled); with a file, "
                             "also read values (parameters, initial states, inputs, sizes) from it. "
                             "Parameters and inputs no value gives are drawn from --seed. Put FILE first "
                             "or write --values=VALUES_FILE")
    parser.add_argument("--set", dest="assignments", metavar="NAME=VALUE", action="append", default=[],
                        help="one value on the command line, e.g. --set 'W=[[1,0],[0,1]]'; later wins "
                             "(used by the forward pass of --values and --grad)")
    parser.add_argument("--precision", metavar="N", type=count, default=3,
                        help="significant digits of the numbers shown (default 3)")
    parser.add_argument("--grad", metavar="TARGET", default=None,
                        help="show the gradient of TARGET (e.g. 'y[3]', 'h[2][0]', 'sum(y)') at every node of "
                             "the unrolled view (the last step's in the folded view; its norm under the variables of the cell "
                             "views); edge width and color follow its size, so vanishing "
                             "gradients show; a zero gradient is drawn as a dashed, grey cut path")
    parser.add_argument("--seed", metavar="N", type=seed, default=0,
                        help="seed of the parameters and inputs no value gives (default 0)")
    parser.add_argument("--title", metavar="TEXT", default=None, help="a caption above the diagram")
    parser.add_argument("--frames", action="store_true",
                        help="the unrolled view step by step for slides: a multi-page PDF (a page per frame), "
                             "numbered PNGs, or one SVG with data-step attributes; with --grad, the gradient "
                             "flowing back too")
    add_strict_argument(parser)
    parser.add_argument("--orient", choices=("horizontal", "vertical"), default="horizontal",
                        help="unrolled view: time runs left to right (horizontal, the default) or down "
                             "(vertical, inputs on the left: for phones and narrow columns); the "
                             "folded view stands upright either way; not for the cell views")


def _is_dir_target(out: str) -> bool:
    return out.endswith(("/", os.sep)) or os.path.isdir(out)


def _stem(file: str) -> tuple[Path, str]:
    """Folder and stem of the default outputs: next to FILE, or ./stdin for standard input."""
    if file == "-":
        return Path("."), "stdin"
    p = Path(file)
    return p.parent, p.name.split(".")[0] if not p.name.startswith(".") else p.stem


def _render_all(make: list, fmt: str, dpi: int, started: list) -> list[bytes]:
    """Build each diagram (``make[i]()``) and render it in its own thread as soon as it is built.

    Graphviz runs as a separate process, so the first view's ``dot`` runs while Python
    builds the next view, and the ``dot`` runs of the views overlap each other.
    ``started[i]``: the ``dot`` already running for view i, or None.
    """
    import threading

    results: list[bytes | BaseException | None] = [None] * len(make)

    def work(i: int, diagram) -> None:
        try:
            results[i] = diagram.render(fmt, dpi=dpi, started=started[i])
        except BaseException as err:  # re-raised below, in view order
            results[i] = err

    threads: list[threading.Thread] = []
    try:
        for i, build in enumerate(make):
            diagram = build()  # errors of building surface here, before anything is written
            if i == len(make) - 1:
                work(i, diagram)
            else:
                threads.append(threading.Thread(target=work, args=(i, diagram)))
                threads[-1].start()
    finally:
        for t in threads:
            t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def _check_format_matches(output: str, fmt: str | None) -> None:
    """``-o x.png --format svg`` would write SVG into a file called x.png: refuse it."""
    from ..diagrams.diagram import FORMATS

    ext = os.path.splitext(output)[1].lower()
    if fmt is not None and ext in FORMATS and FORMATS[ext] != fmt:
        raise UsageError(f"-o {output} asks for {FORMATS[ext].upper()} by its ending, but --format asks for "
                         f"{fmt.upper()}", hint=f"write -o {os.path.splitext(output)[0]}.{fmt}, or drop --format")


def _file_taken_by_values(args: argparse.Namespace) -> None:
    """``draw --values model.rnn``: --values took the only file; it is FILE, and --values shows values."""
    if args.file is None:
        taken = [v for v in args.values_opt if v]
        if len(taken) != 1 or args.values_opt[-1] != taken[0]:
            raise UsageError("rnnviz draw: the following arguments are required: FILE",
                             hint="see 'rnnviz draw --help'")
        args.file = taken[0]
        args.values_opt[-1] = ""


def run(args: argparse.Namespace) -> int:
    """Render every requested view first, then write them (atomically); print the paths written."""
    import gc

    # Drawing makes few reference cycles (the unrolled view of 1000 steps peaks within 2% of the
    # same with the collector on), but the collector would scan the objects of every module
    # it imports while it imports them: ~3 ms of a command that takes ~60 ms of Python.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if collecting:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    _file_taken_by_values(args)
    if args.frames:
        return _run_frames(args)
    started = _start_graphviz(args)
    try:
        return _draw(args, started)
    finally:  # on any error (or a drawing that did not need them): killed, waited for, pipes closed
        for s in started:
            s.close()


def _target(args: argparse.Namespace) -> tuple[bool, bool, str]:
    """(numbers asked for, one output file or stream, the view or "both") as the options give them."""
    annotate = bool(args.values_opt) or args.grad is not None
    single = args.output is not None and not _is_dir_target(args.output)
    return annotate, single, args.view or ("both" if not single else ("unrolled" if annotate else "folded"))


def _start_graphviz(args: argparse.Namespace) -> list:
    """One ``dot`` per view to draw, started before the equations are read (see ``StartedDot``).

    Empty when the output is DOT or JSON, or when the options will be refused anyway.
    """
    _, single, view = _target(args)
    if single and view == "both":
        return []
    fmt = args.format
    if fmt is None:
        fmt = "svg" if not single or args.output == "-" else os.path.splitext(args.output)[1].lower()[1:]
    if fmt not in ("svg", "png", "pdf"):
        return []
    from ..diagrams.render import StartedDot

    started: list = []
    try:
        for _ in range(2 if view == "both" else 1):
            started.append(StartedDot(fmt, dpi=args.dpi))
    except BaseException:  # an interrupt between the two: the first one must not be left behind
        for s in started:
            s.close()
        raise
    return started


def _draw(args: argparse.Namespace, started: list) -> int:
    from ..diagrams.diagram import draw, format_of
    from ._common import load_model_from_args

    annotate, single, view = _target(args)
    if single and view == "both":
        raise UsageError("-o FILE (or -o -) takes one view; choose --view folded or --view unrolled, "
                         "or give a folder (-o DIR/)")
    views = ["folded", "unrolled"] if view == "both" else [view]
    if args.orient == "vertical" and view in ("cell", "cell-unrolled"):
        raise UsageError(f"--orient vertical turns the unrolled view, not --view {view}")

    if args.output is not None and single and args.output != "-":
        fmt = args.format or format_of(args.output)
        _check_format_matches(args.output, args.format)
    else:
        fmt = args.format or "svg"

    args.values_file = [v for v in args.values_opt if v]
    if single and args.output != "-":  # before any work: the numbers may fail for another reason
        from ..io import refuse_input_as_output

        refuse_input_as_output(Path(args.output), [args.file, *args.values_file])
    model = load_model_from_args(args)
    max_columns = args.max_columns if args.max_columns is not None else None
    if max_columns is not None and max_columns < 3:
        raise UsageError("--max-columns must be at least 3 (first step, ellipsis, last step)")
    if max_columns is not None and max_columns > MAX_COLUMNS:
        raise UsageError(f"at most {MAX_COLUMNS} columns can be drawn (--max-columns), got {max_columns}",
                         hint="a limit of rnnviz; steps beyond the columns collapse into an ellipsis column")

    trace = grads = None
    steps = args.unroll or 3
    if annotate:
        from ..numeric.forward_pass import (
            forward,  # numpy only when numbers are asked for
        )

        trace = forward(model, steps=args.unroll, seed=args.seed)
        announce_drawn(model, trace, args)
        steps = trace.steps
        if args.grad is not None:
            from ..numeric.grad import gradients

            grads = gradients(model, trace, args.grad, option="--grad")

    kwargs = {"max_columns": max_columns} if max_columns is not None else {}
    make = [lambda v=v: draw(model, v, steps, values=trace if args.values_opt else None, grads=grads,
                             precision=args.precision, title=args.title, seed=args.seed, orient=args.orient,
                             **kwargs) for v in views]
    if len(started) != len(views) or any(s.format != fmt for s in started):
        for s in started:
            s.close()
        started = [None] * len(views)
    rendered = list(zip(views, _render_all(make, fmt, args.dpi, started)))

    if args.output == "-":
        from ..io import write_output

        write_output("-", rendered[0][1] if fmt in ("png", "pdf") else rendered[0][1].decode("utf-8"))
        return 0
    if single:
        targets = [Path(args.output)]
    else:
        folder, stem = (Path(args.output), _stem(args.file)[1]) if args.output else _stem(args.file)
        targets = [folder / f"{stem}.{v}.{_EXT[fmt]}" for v, _ in rendered]
    from ..io import refuse_input_as_output, write_all_atomic

    for path in targets:
        refuse_input_as_output(path, [args.file, *args.values_file])
    for path in targets:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
    write_all_atomic((path, data) for path, (_, data) in zip(targets, rendered))  # all or nothing
    for path in targets:
        print(path)
    sys.stdout.flush()
    return 0


def _run_frames(args: argparse.Namespace) -> int:
    """``--frames``: render every frame, then write them (PDF pages, numbered PNGs or one stepped SVG)."""
    from ..diagrams.diagram import draw, format_of
    from ..diagrams.frames import frame_dots, frames_pdf, stepped_svg
    from ..diagrams.render import render
    from ..io import write_atomic, write_output
    from ..numeric.forward_pass import forward
    from ._common import load_model_from_args

    if args.view not in (None, "unrolled"):
        raise UsageError("--frames reveals the unrolled view step by step; leave out --view (or --view unrolled)")
    out = args.output
    single = out is not None and out != "-" and not _is_dir_target(out)
    fmt = args.format or (format_of(out) if single else "pdf")
    if fmt not in ("pdf", "png", "svg"):
        raise UsageError(f"--frames writes pdf, png or svg, not {fmt}")
    if out == "-" and fmt == "png":
        raise UsageError("--frames as PNG writes one file per frame; give -o FILE.png or -o DIR/")
    args.values_file = [v for v in args.values_opt if v]
    model = load_model_from_args(args)
    trace = forward(model, steps=args.unroll, seed=args.seed)
    kwargs = {"max_columns": args.max_columns} if args.max_columns is not None else {}
    common = dict(precision=args.precision, title=args.title, seed=args.seed, orient=args.orient, **kwargs)
    base = draw(model, "unrolled", trace.steps, values=trace, **common)
    grads = None
    if args.grad is not None:
        from ..numeric.grad import gradients

        grads = draw(model, "unrolled", trace.steps, values=trace,
                     grads=gradients(model, trace, args.grad, option="--grad"), **common)
    folder, stem = (Path(out), _stem(args.file)[1]) if out and not single and out != "-" else _stem(args.file)
    if fmt == "svg":
        data = stepped_svg((grads or base).render("svg").decode("utf-8"), base.graph)
        if out == "-":
            write_output("-", data)
            return 0
        files = [(Path(out) if single else folder / f"{stem}.frames.svg", data)]
    else:
        dots = frame_dots(base, grads)
        if fmt == "pdf":
            data = frames_pdf(dots)
            if out == "-":
                write_output("-", data)
                return 0
            files = [(Path(out) if single else folder / f"{stem}.frames.pdf", data)]
        else:
            pngs = [render(d, "png", dpi=args.dpi) for d in dots]
            target = Path(out) if single else folder / f"{stem}.frame.png"
            files = [(target.with_name(f"{target.stem}-{i:02d}.png"), d) for i, d in enumerate(pngs, start=1)]
    for path, data in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        print(path)
    return 0
